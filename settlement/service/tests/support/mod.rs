//! Test and bench support shared through `#[path]`: each user takes what it needs.
#![allow(dead_code, unused_imports)]

pub mod fake_valuer;
pub mod samples;

pub use fake_valuer::FakeValuer;
pub use samples::{sample_list_json, sample_outpatient_json};
