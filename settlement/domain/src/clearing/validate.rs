//! The checks a clearing input passes before anything is computed: every bad record reported.

use std::collections::BTreeMap;

use kernel::Decimal;

use crate::error::SettlementError;

use super::{ClearingInput, ClearingPolicy};

pub(super) fn validate(input: &ClearingInput, policy: &ClearingPolicy) -> Vec<SettlementError> {
    let mut errors = Vec::new();
    if policy.point_value_places > 10 {
        errors.push(SettlementError::ParameterOutOfRange {
            record: "policy".into(),
            field: "point_value_places",
            value: policy.point_value_places.to_string(),
            allowed: "0..=10",
        });
    }
    if input.distributable_budget.is_negative() {
        errors.push(SettlementError::NegativeAmount {
            record: "budget".into(),
            field: "distributable_budget",
            value: input.distributable_budget,
        });
    }
    let mut known = BTreeMap::new();
    for h in &input.hospitals {
        if known.insert(h.hospital_code.as_str(), ()).is_some() {
            errors.push(SettlementError::DuplicateHospital {
                hospital_code: h.hospital_code.clone(),
            });
        }
        if h.assessment_coefficient.is_sign_negative() {
            errors.push(SettlementError::ParameterOutOfRange {
                record: h.hospital_code.clone(),
                field: "assessment_coefficient",
                value: h.assessment_coefficient.to_string(),
                allowed: "[0, ∞)",
            });
        }
        for (field, value) in [
            ("violation_deductions", h.violation_deductions),
            ("deposit_withheld", h.deposit_withheld),
            ("deposit_returned", h.deposit_returned),
            ("prepaid", h.prepaid),
        ] {
            if value.is_negative() {
                errors.push(SettlementError::NegativeAmount {
                    record: h.hospital_code.clone(),
                    field,
                    value,
                });
            }
        }
        if let Some(score) = h.assessment_score {
            if score.is_sign_negative() || score > Decimal::ONE_HUNDRED {
                errors.push(SettlementError::ParameterOutOfRange {
                    record: h.hospital_code.clone(),
                    field: "assessment_score",
                    value: score.to_string(),
                    allowed: "[0, 100]",
                });
            }
            if !h.deposit_returned.value().is_zero() {
                errors.push(SettlementError::ParameterOutOfRange {
                    record: h.hospital_code.clone(),
                    field: "deposit_returned",
                    value: h.deposit_returned.to_string(),
                    allowed: "0 when an assessment score returns the deposit",
                });
            }
        }
        if h.deposit_returned > h.deposit_withheld {
            errors.push(SettlementError::ParameterOutOfRange {
                record: h.hospital_code.clone(),
                field: "deposit_returned",
                value: h.deposit_returned.to_string(),
                allowed: "[0, deposit_withheld]",
            });
        }
    }
    for case in &input.cases {
        let record = format!("{}/{}", case.hospital_code, case.list_id);
        if !known.contains_key(case.hospital_code.as_str()) {
            errors.push(SettlementError::UnknownHospital {
                hospital_code: case.hospital_code.clone(),
                list_id: case.list_id.clone(),
            });
        }
        if case.points.is_negative() {
            errors.push(SettlementError::NegativePoints {
                record: record.clone(),
                field: "points",
                value: case.points,
            });
        }
        for (field, value) in [
            ("individual_burden", case.individual_burden),
            ("fund_amount_ffs", case.fund_amount_ffs),
            ("total_cost", case.total_cost),
            (
                "standard_amount",
                match case.payment {
                    super::CasePayment::Standard(standard) => standard,
                    _ => kernel::Money::ZERO,
                },
            ),
        ] {
            if value.is_negative() {
                errors.push(SettlementError::NegativeAmount {
                    record: record.clone(),
                    field,
                    value,
                });
            }
        }
    }
    if policy.alliance_distribution == super::AllianceDistribution::StandardShare {
        errors.extend(super::alliance::check_codes(
            input
                .hospitals
                .iter()
                .map(|h| (h.hospital_code.clone(), h.alliance.clone())),
        ));
    }
    errors
}
