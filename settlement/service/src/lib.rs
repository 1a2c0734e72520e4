//! The settlement context's service: the case ledger, intake, the institution registry, runs and
//! statements, special-case review, their storage and migrations, and the `medpay.settlement.v1`
//! gRPC servers. Settlement rules live in `settlement-domain`.

pub mod budget_peer;
pub mod case_reads;
pub mod convert;
pub mod grpc;
pub mod ids;
pub mod intake;
pub mod internal;
pub mod migration;
pub mod outpatient_valuer;
pub mod runs;
pub mod special_cases;
pub mod status;
pub mod store;
pub mod supervision_peer;
mod timing;
pub mod valuation;

pub use grpc::SettlementApi;
pub use internal::SettlementInternalApi;
pub use migration::Migrator;
pub use runs::SettlementRunApi;
/// Settlement lists from flat CSV exports (read by the `medpay import` command).
pub use settlement_domain::csv_import as import;
