//! The points context's service: valuation-table storage and migrations, the `medpay.points.v1`
//! gRPC server, and the `medpay.points.internal.v1` server other contexts value cases through.
//! Valuation rules live in `points-domain`.

pub mod breakdown;
pub mod convert;
pub mod error;
pub mod grpc;
pub mod internal;
pub mod migration;
pub mod outpatient;
pub mod store;
pub mod table_choice;
pub mod typed_document;
pub mod value_stream;

pub use error::Error;
pub use grpc::PointsApi;
pub use migration::Migrator;
