//! The grouping-dip tests, one module per subject, in one test binary (one link instead of one
//! per subject).

mod batch;
mod build;
mod build_auxiliary;
mod common;
mod damaged_directory;
mod demo;
mod directory;
mod grouping;
use kernel::mutation;
