//! The checks, one module per rule family. Each takes the run's [`Context`] and returns its
//! findings in any order; [`crate::screening::screen`] sorts them.
//!
//! [`Context`]: crate::screening::Context

pub mod ambulatory;
pub mod charges;
pub mod coding;
pub mod frequency;
pub mod hospital;
pub mod pairs;
pub mod stay;
