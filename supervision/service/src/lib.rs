//! The supervision context's service: screening rules and findings storage, migrations, and the
//! `medpay.supervision.v1` gRPC server. Screening logic lives in `supervision-domain`.

pub mod grpc;
pub mod migration;
pub mod store;

pub use grpc::SupervisionApi;
pub use migration::Migrator;
