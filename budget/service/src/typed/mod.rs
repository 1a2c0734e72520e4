//! The typed budget documents (`budget_document.proto`) read into the same domain types the JSON
//! documents are read into, and written back from them.
//!
//! Reading starts from the defaults the JSON reader gives a missing key and writes each field the
//! message sets over them; a field the JSON requires is required here too. What is read then goes
//! through the same checks as a JSON document ([`crate::convert`] and the domain). Writing sets
//! every field, so a document read back and given again stores the same JSON.
//!
//! The domain names a bad field by its path in the JSON document; [`document_field`] and
//! [`policy_field`] give the path of the same field in the form the caller used.

mod allocation;
mod document;
mod outcome;
mod sharing;

pub use allocation::{allocation_to_wire, inputs_from_wire};
pub use document::{computed_to_wire, document_from_wire};
pub use outcome::{hospitals_from_wire, outcome_to_wire};
pub use sharing::{policy_from_wire, policy_to_wire};

use kernel::{Decimal, Money};
use medpay_proto::common::v1 as common;
use platform::document_fields::{FieldReader as Reader, word_of};
use platform::wire;

fn decimal_to_wire(value: Decimal) -> Option<common::Decimal> {
    Some(wire::decimal_to_wire(value))
}

/// Money at the fen (2 places) however it was made, so a zero the domain makes (a block's
/// reserve) reads `"0.00"` like any amount given.
fn money_to_wire(value: Money) -> Option<common::Money> {
    Some(wire::money_to_wire(Money::round(value.value())))
}

/// The path of a budget document's field the domain names (`growth_cap`, `basis.risk_reserve`,
/// `split.shares[1].share`, `inpatient.split.amounts`), in the typed document when `typed`, in the
/// JSON document otherwise.
pub fn document_field(inner: &str, typed: bool) -> String {
    const PLANNED: [&str; 4] = [
        "planned_pooled_income",
        "risk_reserve",
        "earmarked",
        "carried_balance",
    ];
    if inner == "fund" && typed {
        return "fund_type".to_owned();
    }
    if inner == "adjustment_reserve_rate" {
        return "policy.adjustment_reserve_rate".to_owned();
    }
    if let Some(index) = inner.strip_prefix("split.shares") {
        return if typed {
            format!("split.shares.shares{index}")
        } else {
            inner.to_owned()
        };
    }
    if inner.ends_with(".split.amounts") {
        return if typed {
            "split.amounts.amounts"
        } else {
            "split.amounts"
        }
        .to_owned();
    }
    let basis_field = inner.strip_prefix("basis.").unwrap_or(inner);
    let kind = match basis_field {
        "growth_cap" | "last_year_spending" => Some("last_year_growth"),
        field if PLANNED.contains(&field) => Some("planned_income"),
        _ => None,
    };
    match kind {
        Some(kind) if typed => format!("basis.{kind}.{basis_field}"),
        Some(_) => format!("basis.{basis_field}"),
        None => inner.to_owned(),
    }
}

/// The path of a sharing policy's field the domain names (`overspend_bands[1].upper_ratio`) in the
/// typed policy, where the bands are `overspend_bands.bands`.
pub fn policy_field(inner: &str) -> String {
    match inner.strip_prefix("overspend_bands") {
        Some(rest) => format!("overspend_bands.bands{rest}"),
        None => inner.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_paths_become_the_paths_of_the_form_given() {
        let cases = [
            (
                "growth_cap",
                "basis.growth_cap",
                "basis.last_year_growth.growth_cap",
            ),
            (
                "basis.risk_reserve",
                "basis.risk_reserve",
                "basis.planned_income.risk_reserve",
            ),
            (
                "split.shares[2].share",
                "split.shares[2].share",
                "split.shares.shares[2].share",
            ),
            (
                "inpatient.split.amounts",
                "split.amounts",
                "split.amounts.amounts",
            ),
            (
                "adjustment_reserve_rate",
                "policy.adjustment_reserve_rate",
                "policy.adjustment_reserve_rate",
            ),
            ("split", "split", "split"),
            ("basis", "basis", "basis"),
            ("fund", "fund", "fund_type"),
        ];
        for (inner, json, typed) in cases {
            assert_eq!(document_field(inner, false), json, "{inner} as JSON");
            assert_eq!(document_field(inner, true), typed, "{inner} typed");
        }
        assert_eq!(
            policy_field("overspend_bands[1].upper_ratio"),
            "overspend_bands.bands[1].upper_ratio"
        );
        assert_eq!(policy_field("surplus.retained_cap"), "surplus.retained_cap");
    }
}
