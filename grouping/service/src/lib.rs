//! The grouping context's service: the scheme registry (which scheme is active for which pooling
//! region from which date), its migrations, and the `medpay.grouping.v1` gRPC server. The grouping
//! engines live in `grouping-domain` (DRG) and `grouping-dip` (DIP).

pub mod calendar;
pub mod catalog;
pub mod grpc;
pub mod migration;
pub mod store;

pub use grpc::GroupingApi;
pub use migration::Migrator;
