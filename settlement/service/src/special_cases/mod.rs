//! Special-case review (特例单议): the expert registry, applications within the quota, reviewer
//! draws, decisions, appeals and binding into year-end clearing.

pub mod grpc;
pub mod store;

pub use grpc::SpecialCaseApi;
pub use store::{BoundDecision, bound_decisions};
