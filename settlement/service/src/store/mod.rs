//! The settlement context's storage: the case ledger, the institution registry, closed months,
//! upload fingerprints and the journal of idempotent writes. Runs and special cases keep their
//! own stores beside their handlers (`runs::store`, `special_cases::store`).

pub mod closed_months;
pub mod institutions;
pub mod journal;
pub mod ledger;
pub mod uploads;
