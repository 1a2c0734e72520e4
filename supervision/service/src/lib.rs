//! The supervision context's service: the rule library as a region's policy runs it, screening
//! runs over the cases the settlement context streams (`cases`), their findings and reviews
//! (`store`, written through the journal), migrations, the `medpay.supervision.v1` gRPC
//! server, the internal server settlement reads violation deductions from (`internal`), and the
//! monitoring indicators and reports of `medpay.supervision.v1.SupervisionReportsService`
//! (`reports`). Regions change their rules' levels and parameters and hospitals answer findings
//! through `changes` (stored by `changes_store`); deductions are computed once (`deductions`).
//! Hospital assessments, credit grades and leads are served by `assessment`
//! (`SupervisionAssessmentService`) and stored by `assessment_store`, the credit thresholds of
//! each region-year by `credit_policy_store`; the internal server also
//! answers each hospital's latest assessment score for the quality deposit at clearing.
//! Screening logic lives in `supervision-domain`.

pub mod assessment;
pub mod assessment_store;
pub mod cases;
mod changes;
pub mod changes_store;
pub mod convert;
pub mod credit_policy_store;
pub mod deductions;
pub mod error;
mod finding_rows_store;
pub mod grpc;
pub mod internal;
pub mod migration;
pub mod reports;
pub mod store;

pub use assessment::SupervisionAssessmentApi;
pub use cases::{CaseSource, GrpcCases};
pub use grpc::SupervisionApi;
pub use internal::SupervisionInternalApi;
pub use migration::Migrator;
pub use reports::SupervisionReportsApi;
/// The screening tables and parameter sets a server is composed with.
pub use supervision_domain::{ParameterBook, Tables};
