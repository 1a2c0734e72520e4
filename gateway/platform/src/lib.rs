//! Service plumbing shared by every medpay context.
//!
//! What lives here is the same for every context and must behave the same everywhere: how the
//! verified principal travels in request metadata and how a request's region is checked against
//! it, how bad input becomes a `google.rpc.BadRequest`, how a database is opened, the journal of idempotent writes and the audit log every context
//! keeps, and the storage
//! test harness that runs a store's tests on SQLite and PostgreSQL. Business rules never live
//! here.

pub mod access;
pub mod db;
pub mod distribution;
pub mod document_fields;
pub mod journal;
pub mod paging;
pub mod peer;
pub mod principal;
pub mod status;
#[cfg(feature = "testing")]
pub mod testing;
pub mod trace;
pub mod wire;

pub use principal::{authorize_region, principal_of, set_principal};
