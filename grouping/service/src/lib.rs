//! The grouping context's service: the scheme registry (which scheme is active for which pooling
//! region from which date), its migrations, the `medpay.grouping.v1` gRPC server and the
//! `medpay.grouping.internal.v1` server other contexts call. The grouping engines live in
//! `grouping-domain` (DRG) and `grouping-dip` (DIP).

pub mod catalog;
pub mod error;
pub mod grpc;
pub mod internal;
pub mod migration;
pub mod store;

pub use error::Error;
pub use grpc::{GroupingApi, StartError};
pub use internal::GroupingInternalApi;
pub use migration::Migrator;
