//! The budget context's service: budget storage and migrations, and the `medpay.budget.v1` gRPC
//! server. Calculations live in `budget-domain`; this crate only stores, converts and serves.

pub mod api;
pub mod convert;
pub mod error;
pub mod grpc;
pub mod internal;
pub mod migration;
pub mod queries;
pub mod store;
pub mod typed;

pub use api::BudgetApi;
pub use error::Error;
pub use migration::Migrator;
