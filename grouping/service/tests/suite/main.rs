//! The grouping-service tests, one module per subject, in one test binary (one link instead of
//! one per subject).

mod grpc;
mod shared_schemes;
mod store;
