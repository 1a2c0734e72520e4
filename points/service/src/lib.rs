//! The points context's service: valuation-table storage and migrations, and the
//! `medpay.points.v1` gRPC server. Valuation rules live in `points-domain`.

pub mod grpc;
pub mod migration;
pub mod status;
pub mod store;

pub use grpc::PointsApi;
pub use migration::Migrator;
