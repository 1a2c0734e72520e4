//! The settlement policy of a region, year and fund: every parameter DOMAIN.md names for
//! validation, prepayment, clearing and special-case review, with its default, as one serde
//! value so it can be stored and versioned.

use serde::{Deserialize, Serialize};

use crate::budget_point_value::BudgetPointValuePolicy;
use crate::clearing::ClearingPolicy;
use crate::episode::EpisodePolicy;
use crate::prepayment::PrepaymentPolicy;
use crate::readmission::ReadmissionPolicy;
use crate::special_case::SpecialCasePolicy;
use crate::validation::ValidationPolicy;

/// All settlement parameters; missing sections take DOMAIN.md's defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SettlementPolicy {
    pub validation: ValidationPolicy,
    pub prepayment: PrepaymentPolicy,
    pub clearing: ClearingPolicy,
    pub special_case: SpecialCasePolicy,
    /// 15-day readmission halving of DRG stays, applied at every prepayment and clearing.
    pub readmission: ReadmissionPolicy,
    /// Per-diem days accumulated across a readmission: applied when a stay is valued, checked at
    /// every prepayment and clearing.
    pub per_diem_episode: EpisodePolicy,
    /// The history years and weights of the DIP budget point value when a request names none.
    pub budget_point_value: BudgetPointValuePolicy,
}

impl SettlementPolicy {
    /// Reads a policy document: missing keys take defaults, an unknown key (at any depth) is
    /// refused by its path. The error says what is wrong with the document.
    pub fn from_document(json: &str) -> Result<Self, String> {
        let given: serde_json::Value =
            serde_json::from_str(json).map_err(|e| format!("is not JSON: {e}"))?;
        let policy: SettlementPolicy = serde_json::from_value(given.clone())
            .map_err(|e| format!("is not a settlement policy: {e}"))?;
        let known = serde_json::to_value(&policy)
            .map_err(|e| format!("is not a settlement policy: {e}"))?;
        if let Some(path) = unknown_key(&given, &known, "") {
            return Err(format!("has unknown key {path}"));
        }
        Ok(policy)
    }
}

/// The first key of `given` that `known` (the parsed document with every key) does not have.
fn unknown_key(given: &serde_json::Value, known: &serde_json::Value, path: &str) -> Option<String> {
    let (serde_json::Value::Object(given), serde_json::Value::Object(known)) = (given, known)
    else {
        return None;
    };
    given.iter().find_map(|(key, value)| {
        let here = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match known.get(key) {
            None => Some(here),
            Some(known_value) => unknown_key(value, known_value, &here),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn defaults_and_partial_documents() {
        let policy: SettlementPolicy =
            serde_json::from_str(r#"{"prepayment":{"prepayment_ratio":"0.85"},"special_case":{"dip_quota_ratio":"0.004"}}"#)
                .expect("json");
        assert_eq!(policy.prepayment.prepayment_ratio, dec!(0.85));
        assert_eq!(policy.prepayment.quality_deposit_rate, dec!(0.05));
        assert_eq!(policy.special_case.drg_quota_ratio, dec!(0.05));
        assert_eq!(policy.special_case.dip_quota_ratio, dec!(0.004));
        assert_eq!(policy.clearing.point_value_places, 4);
        assert_eq!(policy.validation.discharge_types, vec![1, 2, 3, 4, 5, 9]);
        assert!(serde_json::from_str::<SettlementPolicy>(r#"{"unknown":1}"#).is_err());
        assert_eq!(
            SettlementPolicy::from_document(r#"{"clearing":{"sharing":"budget","extra":1}}"#),
            Err("has unknown key clearing.extra".to_owned())
        );
        let json = serde_json::to_string(&SettlementPolicy::default()).expect("json");
        assert_eq!(
            serde_json::from_str::<SettlementPolicy>(&json).expect("back"),
            SettlementPolicy::default()
        );
    }
}
