//! Requests of the intake, registry, run and special-case services read into what the service acts on: every
//! violation of a request is collected and answered at once (`INVALID_ARGUMENT` with field
//! violations), before anything is read or written.

pub mod intake;
pub mod lists;
pub mod outpatient;
pub mod policy;
pub mod runs;
pub mod special_cases;
pub mod valuation;

use kernel::{Decimal, Money};
use medpay_proto::common::v1 as common;
use platform::status::bad_request;
use platform::wire::{self, Violation};
use tonic::Status;

/// A request's violations, gathered field by field.
#[derive(Debug, Default)]
pub struct Violations(Vec<Violation>);

impl Violations {
    /// The value of a field read on its own, or `None` with its violation kept.
    pub fn check<T>(&mut self, read: Result<T, Violation>) -> Option<T> {
        read.map_err(|violation| self.0.push(violation)).ok()
    }

    pub fn push(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push((field.into(), description.into()));
    }

    /// Requires `text` to be non-blank.
    pub fn require(&mut self, field: &str, text: &str) {
        if text.trim().is_empty() {
            self.push(field, "is required");
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_violations(self) -> Vec<Violation> {
        self.0
    }

    /// `value` when nothing was violated, else every violation.
    pub fn finish<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T, Status> {
        if !self.0.is_empty() {
            return Err(bad_request(self.0));
        }
        value().ok_or_else(|| Status::internal("a request was read without its fields"))
    }
}

/// An optional decimal: absent or blank is `None`.
pub fn optional_decimal(
    field: &str,
    value: Option<&common::Decimal>,
) -> Result<Option<Decimal>, Violation> {
    match value.map(|d| d.value.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => {
            kernel::check_decimal_text(text)
                .map_err(|too_long| (field.to_owned(), too_long.to_string()))?;
            text.parse::<Decimal>()
                .map(Some)
                .map_err(|e| (field.to_owned(), format!("is not a decimal: {e}")))
        }
    }
}

/// An optional money amount: absent or blank is `None`.
pub fn optional_money(
    field: &str,
    value: Option<&common::Money>,
) -> Result<Option<Money>, Violation> {
    match value.filter(|m| !m.yuan.trim().is_empty()) {
        None => Ok(None),
        Some(money) => wire::money(field, Some(money)).map(Some),
    }
}
