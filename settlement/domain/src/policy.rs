//! The settlement policy of a region, year and fund: every parameter DOMAIN.md names for
//! validation, prepayment, clearing and special-case review, with its default, as one serde
//! value so it can be stored and versioned.
//!
//! A document names its scheme (`scheme`); a key it leaves out takes that scheme's default. The
//! generic defaults are DOMAIN.md §4–§5's (quality deposit 5 %, total-cost point value, each
//! hospital paid its Std); Hainan's DIP scheme (`hainan_dip`, DOMAIN.md §5 "Hainan clearing with
//! every mode") withholds no quality deposit, values points with the reimbursement-ratio
//! settlement point value and shares through the budget context's tiers.

use serde::{Deserialize, Serialize};

use crate::budget_point_value::BudgetPointValuePolicy;
use crate::clearing::{ClearingPolicy, PointValueBasis, SharingSource};
use crate::episode::EpisodePolicy;
use crate::prepayment::PrepaymentPolicy;
use crate::readmission::ReadmissionPolicy;
use crate::special_case::SpecialCasePolicy;
use crate::validation::ValidationPolicy;

/// The payment scheme whose defaults a policy document's missing keys take.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyScheme {
    /// DOMAIN.md §4–§5's generic defaults.
    #[default]
    Generic,
    /// Hainan with DIP as the main method (DOMAIN.md §5 Hainan precise defaults).
    HainanDip,
}

/// A region's main inpatient payment method for a year (DOMAIN.md §3 payment-mode selection,
/// rule 7): the scheme whose defaults its settlement policy takes where the policy names none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MainInpatientMethod {
    Drg,
    Dip,
}

impl MainInpatientMethod {
    /// DOMAIN.md §5 "Hainan clearing: precise defaults": where DIP is the main method, no quality
    /// deposit, the reimbursement-ratio point value and the budget's sharing; DRG keeps §4–§5's
    /// generic defaults.
    pub fn default_scheme(self) -> PolicyScheme {
        match self {
            MainInpatientMethod::Drg => PolicyScheme::Generic,
            MainInpatientMethod::Dip => PolicyScheme::HainanDip,
        }
    }

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MainInpatientMethod::Drg => "drg",
            MainInpatientMethod::Dip => "dip",
        }
    }

    /// The method a stored spelling names.
    pub fn from_stored(word: &str) -> Option<Self> {
        match word {
            "drg" => Some(MainInpatientMethod::Drg),
            "dip" => Some(MainInpatientMethod::Dip),
            _ => None,
        }
    }
}

/// All settlement parameters; missing sections take DOMAIN.md's defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SettlementPolicy {
    /// The scheme whose defaults the document's missing keys took.
    pub scheme: PolicyScheme,
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
    /// The defaults of `scheme`, every parameter present.
    pub fn for_scheme(scheme: PolicyScheme) -> Self {
        let mut policy = SettlementPolicy {
            scheme,
            ..SettlementPolicy::default()
        };
        if scheme == PolicyScheme::HainanDip {
            // DOMAIN.md §5 Hainan: "no quality deposit is withheld in this scheme".
            policy.prepayment.quality_deposit_rate = kernel::Decimal::ZERO;
            policy.clearing.point_value_basis = PointValueBasis::ReimbursementRatio;
            policy.clearing.sharing = SharingSource::Budget;
        }
        policy
    }

    /// Reads a policy document: missing keys take the defaults of the document's `scheme`
    /// (generic when absent), an unknown key (at any depth) is refused by its path. The error
    /// says what is wrong with the document.
    pub fn from_document(json: &str) -> Result<Self, String> {
        Self::from_document_or(json, PolicyScheme::Generic)
    }

    /// [`Self::from_document`], a document without `scheme` taking `default`'s defaults (the
    /// scheme of the region's main inpatient method); a `scheme` the document states wins.
    pub fn from_document_or(json: &str, default: PolicyScheme) -> Result<Self, String> {
        kernel::check_decimal_strings_in_json(json).map_err(|e| e.to_string())?;
        let given: serde_json::Value =
            serde_json::from_str(json).map_err(|e| format!("is not JSON: {e}"))?;
        let scheme: PolicyScheme = match given.get("scheme") {
            None => default,
            Some(scheme) => serde_json::from_value(scheme.clone())
                .map_err(|e| format!("is not a settlement policy: scheme: {e}"))?,
        };
        let mut document = serde_json::to_value(SettlementPolicy::for_scheme(scheme))
            .map_err(|e| format!("is not a settlement policy: {e}"))?;
        overlay(&mut document, &given);
        let policy: SettlementPolicy = serde_json::from_value(document)
            .map_err(|e| format!("is not a settlement policy: {e}"))?;
        let known = serde_json::to_value(&policy)
            .map_err(|e| format!("is not a settlement policy: {e}"))?;
        if let Some(path) = unknown_key(&given, &known, "") {
            return Err(format!("has unknown key {path}"));
        }
        Ok(policy)
    }
}

/// Writes every key `given` states over `base`, object by object.
fn overlay(base: &mut serde_json::Value, given: &serde_json::Value) {
    match (base, given) {
        (serde_json::Value::Object(base), serde_json::Value::Object(given)) => {
            for (key, value) in given {
                match base.get_mut(key) {
                    Some(slot) => overlay(slot, value),
                    None => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (base, given) => *base = given.clone(),
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
        // Hainan's DIP scheme: no deposit, the ratio point value and the budget's tiers,
        // unless the document says otherwise; a key it states wins.
        let hainan = SettlementPolicy::from_document(r#"{"scheme":"hainan_dip"}"#).expect("policy");
        assert_eq!(hainan.prepayment.quality_deposit_rate, dec!(0));
        assert_eq!(hainan.prepayment.prepayment_ratio, dec!(0.90));
        assert_eq!(
            hainan.clearing.point_value_basis,
            crate::clearing::PointValueBasis::ReimbursementRatio
        );
        assert_eq!(
            hainan.clearing.sharing,
            crate::clearing::SharingSource::Budget
        );
        let stated = SettlementPolicy::from_document(
            r#"{"scheme":"hainan_dip","prepayment":{"quality_deposit_rate":"0.05"}}"#,
        )
        .expect("policy");
        assert_eq!(stated.prepayment.quality_deposit_rate, dec!(0.05));
        assert_eq!(
            stated.clearing.sharing,
            crate::clearing::SharingSource::Budget
        );
        assert_eq!(
            SettlementPolicy::from_document(r#"{}"#)
                .expect("policy")
                .prepayment
                .quality_deposit_rate,
            dec!(0.05)
        );
        assert!(
            SettlementPolicy::from_document(r#"{"scheme":"zhejiang"}"#)
                .expect_err("unknown scheme")
                .contains("scheme")
        );
        // A DIP region's document without a scheme takes Hainan's defaults; one that states
        // the generic scheme, or a key, keeps what it states.
        let dip = MainInpatientMethod::Dip.default_scheme();
        let unnamed = SettlementPolicy::from_document_or(
            r#"{"prepayment":{"prepayment_ratio":"0.85"}}"#,
            dip,
        )
        .expect("policy");
        assert_eq!(unnamed.scheme, PolicyScheme::HainanDip);
        assert_eq!(unnamed.prepayment.quality_deposit_rate, dec!(0));
        assert_eq!(unnamed.prepayment.prepayment_ratio, dec!(0.85));
        let generic =
            SettlementPolicy::from_document_or(r#"{"scheme":"generic"}"#, dip).expect("policy");
        assert_eq!(generic.prepayment.quality_deposit_rate, dec!(0.05));
        assert_eq!(
            MainInpatientMethod::Drg.default_scheme(),
            PolicyScheme::Generic
        );
        let json = serde_json::to_string(&SettlementPolicy::default()).expect("json");
        assert_eq!(
            serde_json::from_str::<SettlementPolicy>(&json).expect("back"),
            SettlementPolicy::default()
        );
    }
}
