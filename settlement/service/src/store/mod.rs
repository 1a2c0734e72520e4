//! The settlement context's storage: the case ledger and which of its versions a clearing took
//! ([`case_clearing`]), the institution registry, closed months, upload fingerprints, the
//! data-quality warnings kept with each record ([`warnings`]) and those a revaluation found
//! ([`rechecked_warnings`]), the journal of idempotent writes, and the database as the steps hold
//! it with the unit of work each write runs in ([`unit_of_work`]). Runs and special cases keep
//! their own stores beside their handlers (`runs::store`, `special_cases::store`).

pub mod case_clearing;
pub mod closed_months;
pub mod episodes;
pub mod institutions;
pub mod journal;
pub mod ledger;
#[cfg(test)]
pub(crate) mod query_plan;
pub mod rechecked_warnings;
pub mod unit_of_work;
pub mod uploads;
pub mod warnings;

pub use unit_of_work::{Database, Storage, UnitOfWork};
