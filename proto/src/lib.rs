//! medpay's published contracts, compiled.
//!
//! The `.proto` files under `medpay/` are the source of truth: `medpay.<context>.v1` is what
//! county agencies and vendors call through the gateway, `medpay.<context>.internal.v1` is between
//! services only. This crate holds generated code and nothing else; conversions to domain types
//! live in each context's service crate.
#![allow(clippy::all, clippy::pedantic, missing_docs)]

/// The encoded `FileDescriptorSet` of every contract, public and internal.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/medpay_descriptor.bin"));

/// The encoded `FileDescriptorSet` of the public contracts only, for reflection at the edge.
pub const PUBLIC_FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/medpay_public_descriptor.bin"));

pub mod common {
    pub mod v1 {
        tonic::include_proto!("medpay.common.v1");
    }
}

/// Administration of API keys (`medpay.admin.v1`), served by the gateway on every server.
pub mod admin {
    pub mod v1 {
        tonic::include_proto!("medpay.admin.v1");
    }
}

macro_rules! context {
    ($ctx:ident, $public:literal, $internal:literal) => {
        pub mod $ctx {
            pub mod v1 {
                tonic::include_proto!($public);
            }
            pub mod internal {
                pub mod v1 {
                    tonic::include_proto!($internal);
                }
            }
        }
    };
}

context!(
    grouping,
    "medpay.grouping.v1",
    "medpay.grouping.internal.v1"
);
context!(points, "medpay.points.v1", "medpay.points.internal.v1");
context!(budget, "medpay.budget.v1", "medpay.budget.internal.v1");
context!(
    settlement,
    "medpay.settlement.v1",
    "medpay.settlement.internal.v1"
);
context!(
    supervision,
    "medpay.supervision.v1",
    "medpay.supervision.internal.v1"
);

/// Names of the public services, as reflection lists them.
pub const PUBLIC_SERVICES: [&str; 10] = [
    "medpay.grouping.v1.GroupingService",
    "medpay.points.v1.PointsService",
    "medpay.budget.v1.BudgetService",
    "medpay.settlement.v1.SettlementService",
    "medpay.settlement.v1.SettlementRunService",
    "medpay.settlement.v1.SpecialCaseService",
    "medpay.supervision.v1.SupervisionService",
    "medpay.supervision.v1.SupervisionReportsService",
    "medpay.supervision.v1.SupervisionAssessmentService",
    "medpay.admin.v1.AdminService",
];
