//! The settlement context's service: the case ledger and runs storage, migrations, and the
//! `medpay.settlement.v1` gRPC server. Settlement rules live in `settlement-domain`.

pub mod grpc;
pub mod migration;
pub mod store;

pub use grpc::SettlementApi;
pub use migration::Migrator;
