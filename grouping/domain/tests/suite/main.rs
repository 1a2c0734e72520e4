//! The grouping-domain tests, one module per subject, in one test binary (one link instead of
//! one per subject).

mod batch;
mod common;
mod conditions;
mod damaged_scheme;
mod demo_scheme;
use kernel::mutation;
mod regional_conditions;
mod robustness;
mod shared_schemes;
mod validation;
