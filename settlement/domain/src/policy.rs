//! The settlement policy of a region, year and fund: every parameter DOMAIN.md names for
//! validation, prepayment, clearing and special-case review, with its default, as one serde
//! value so it can be stored and versioned.

use serde::{Deserialize, Serialize};

use crate::clearing::ClearingPolicy;
use crate::prepayment::PrepaymentPolicy;
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
        let json = serde_json::to_string(&SettlementPolicy::default()).expect("json");
        assert_eq!(
            serde_json::from_str::<SettlementPolicy>(&json).expect("back"),
            SettlementPolicy::default()
        );
    }
}
