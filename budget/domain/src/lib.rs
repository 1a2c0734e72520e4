//! The budget context's domain (总额预算): annual budgets per pooling region, year and fund, their
//! blocks and adjustment reserve, allocation to hospitals and medical alliances in cap mode,
//! monthly quotas, the quality deposit, and year-end surplus retention and overspend sharing,
//! including per-capita budgets. Rules: DOMAIN.md §4 and §3 "Per-capita".
//!
//! This crate is pure: no I/O, no async, no storage or wire types. Every money result is rounded
//! once, half away from zero, through `kernel`; every split of an amount into parts goes through
//! [`apportion`], so parts add up to the whole to the fen.

mod allocation;
mod apportion;
mod budget;
mod deposit;
mod error;
mod per_capita;
mod quota;
mod sharing;
mod tiers;

pub use allocation::{
    AllianceMember, Allocation, AllocationLine, AllocationPolicy, AllocationUnit, UnitKind,
    allocate, allocate_block,
};
pub use apportion::apportion;
pub use budget::{
    AnnualBudget, Block, BlockAmount, BlockKind, BlockShare, BlockSplit, BudgetBasis,
    BudgetDocument, BudgetHistory, BudgetMode, BudgetPolicy,
};
pub use deposit::{DepositPolicy, DepositReturn, ReturnRule, ReturnTier, deposit_return};
pub use error::BudgetError;
pub use per_capita::{PerCapitaBudget, PerCapitaOutcome, per_capita_sharing};
pub use quota::{
    MonthClaim, MonthSettlement, QuotaLedger, QuotaPolicy, QuotaProfile, UnusedQuotaRule,
    monthly_quotas, settle_months,
};
pub use sharing::{
    HospitalSharing, HospitalYear, ReserveShortfall, SharingOutcome, compute_sharing,
};
pub use tiers::{
    AppliedTier, OverspendBand, ReserveShortfallRule, SharingPolicy, SurplusRule, TierOutcome,
    apply_tiers,
};
