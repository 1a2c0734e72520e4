//! The typed settlement policy (`medpay.settlement.v1.SettlementPolicy`) read into the one
//! [`SettlementPolicy`] the JSON document is read into, and written back from it.
//!
//! Reading starts from the defaults of the document's scheme, as
//! [`SettlementPolicy::from_document`] does, and writes every field the message sets over them, so
//! an unset field means what a missing JSON key means. Writing sets every field, so a policy read
//! back and put again is the same policy.

use kernel::Decimal;
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::v1 as pb;
use platform::document_fields::{self, word_of};
use platform::wire::{self, Violation};
use serde::de::DeserializeOwned;
use settlement_domain::policy::{PolicyScheme, SettlementPolicy};
use settlement_domain::validation::{AgeRule, CategoryRange, SexRule};

use super::{Violations, optional_decimal};

/// Reads a typed policy, a policy naming no scheme taking `default`'s defaults (the scheme of the
/// region's main inpatient method), as [`SettlementPolicy::from_document_or`] reads the JSON;
/// every violation is named under `prefix` (`policy`).
pub fn policy_from_wire_or(
    prefix: &str,
    given: &pb::SettlementPolicy,
    default: PolicyScheme,
) -> Result<SettlementPolicy, Vec<Violation>> {
    let mut v = Violations::default();
    let at = |field: &str| format!("{prefix}.{field}");
    let scheme = if given.scheme.is_empty() {
        Some(default)
    } else {
        v.check(word(&at("scheme"), &given.scheme))
    };
    let mut policy = SettlementPolicy::for_scheme(scheme.unwrap_or_default());
    let mut reader = Reader { v: &mut v, at: &at };
    if let Some(section) = &given.validation {
        let target = &mut policy.validation;
        reader.codes(
            "validation.discharge_types",
            section.discharge_types.as_ref(),
            &mut target.discharge_types,
        );
        reader.codes(
            "validation.transfer_discharge_types",
            section.transfer_discharge_types.as_ref(),
            &mut target.transfer_discharge_types,
        );
        reader.codes(
            "validation.admission_conditions",
            section.admission_conditions.as_ref(),
            &mut target.admission_conditions,
        );
        if let Some(code) = section.absent_admission_condition
            && let Some(code) = reader.code("validation.absent_admission_condition", code)
        {
            target.absent_admission_condition = code;
        }
        if let Some(range) = &section.symptom_range {
            target.symptom_range = category_range(range);
        }
        if let Some(list) = &section.sex_rules {
            let mut rules = Vec::new();
            for (index, rule) in list.rules.iter().enumerate() {
                let field = format!("validation.sex_rules.rules[{index}]");
                let range = reader.range(&format!("{field}.range"), rule.range.as_ref());
                let sex = reader.word(&format!("{field}.sex"), &rule.sex);
                if let (Some(range), Some(sex)) = (range, sex) {
                    rules.push(SexRule { range, sex });
                }
            }
            target.sex_rules = rules;
        }
        if let Some(list) = &section.age_rules {
            let mut rules = Vec::new();
            for (index, rule) in list.rules.iter().enumerate() {
                let field = format!("validation.age_rules.rules[{index}].range");
                if let Some(range) = reader.range(&field, rule.range.as_ref()) {
                    rules.push(AgeRule {
                        range,
                        min_age_years: rule.min_age_years,
                        max_age_years: rule.max_age_years,
                        max_age_days: rule.max_age_days,
                    });
                }
            }
            target.age_rules = rules;
        }
        if let Some(flag) = section.charges_must_sum_to_total {
            target.charges_must_sum_to_total = flag;
        }
    }
    if let Some(section) = &given.prepayment {
        let target = &mut policy.prepayment;
        reader.decimal(
            "prepayment.prepayment_ratio",
            section.prepayment_ratio.as_ref(),
            &mut target.prepayment_ratio,
        );
        reader.decimal(
            "prepayment.quality_deposit_rate",
            section.quality_deposit_rate.as_ref(),
            &mut target.quality_deposit_rate,
        );
        reader.word_into(
            "prepayment.budget_mode",
            &section.budget_mode,
            &mut target.budget_mode,
        );
    }
    if let Some(section) = &given.clearing {
        let target = &mut policy.clearing;
        reader.word_into(
            "clearing.point_value_basis",
            &section.point_value_basis,
            &mut target.point_value_basis,
        );
        if let Some(places) = section.point_value_places {
            target.point_value_places = places;
        }
        reader.word_into("clearing.sharing", &section.sharing, &mut target.sharing);
        if let Some(tiers) = &section.deposit_return {
            let deposit = &mut target.deposit_return;
            reader.decimal(
                "clearing.deposit_return.full_from",
                tiers.full_from.as_ref(),
                &mut deposit.full_from,
            );
            reader.decimal(
                "clearing.deposit_return.none_below",
                tiers.none_below.as_ref(),
                &mut deposit.none_below,
            );
        }
        reader.word_into(
            "clearing.alliance_distribution",
            &section.alliance_distribution,
            &mut target.alliance_distribution,
        );
    }
    if let Some(section) = &given.special_case {
        let target = &mut policy.special_case;
        reader.decimal(
            "special_case.drg_quota_ratio",
            section.drg_quota_ratio.as_ref(),
            &mut target.drg_quota_ratio,
        );
        reader.decimal(
            "special_case.dip_quota_ratio",
            section.dip_quota_ratio.as_ref(),
            &mut target.dip_quota_ratio,
        );
        if let Some(reviewers) = section.reviewers_per_review {
            target.reviewers_per_review = usize::try_from(reviewers).unwrap_or(usize::MAX);
        }
    }
    if let Some(section) = &given.readmission {
        let target = &mut policy.readmission;
        if let Some(days) = section.window_days {
            target.window_days = days;
        }
        if let Some(list) = &section.exempt_adrgs {
            target.exempt_adrgs = list.codes.clone();
        }
        reader.decimal(
            "readmission.kept_share",
            section.kept_share.as_ref(),
            &mut target.kept_share,
        );
    }
    if let Some(section) = &given.per_diem_episode {
        let target = &mut policy.per_diem_episode;
        if let Some(days) = section.window_days {
            target.window_days = days;
        }
        if let Some(days) = section.minimum_billable_days {
            target.minimum_billable_days = days;
        }
    }
    if let Some(list) = given
        .budget_point_value
        .as_ref()
        .and_then(|s| s.history_weights.as_ref())
    {
        let mut weights = Vec::new();
        for (index, weight) in list.weights.iter().enumerate() {
            let field = format!("budget_point_value.history_weights.weights[{index}]");
            let mut value = Decimal::ZERO;
            if reader.required_decimal(&field, Some(weight), &mut value) {
                weights.push(value);
            }
        }
        policy.budget_point_value.history_weights = weights;
    }
    if v.is_empty() {
        Ok(policy)
    } else {
        Err(v.into_violations())
    }
}

/// The typed form of a policy, every field set.
pub fn policy_to_wire(policy: &SettlementPolicy) -> pb::SettlementPolicy {
    let validation = &policy.validation;
    let codes = |codes: &[u8]| {
        Some(pb::PolicyCodeList {
            codes: codes.iter().map(|&c| u32::from(c)).collect(),
        })
    };
    let range = |range: &CategoryRange| pb::PolicyCategoryRange {
        first: range.from.clone(),
        last: range.to.clone(),
    };
    let decimal = |value: Decimal| Some(wire::decimal_to_wire(value));
    pb::SettlementPolicy {
        scheme: word_of(&policy.scheme),
        validation: Some(pb::PolicyValidation {
            discharge_types: codes(&validation.discharge_types),
            transfer_discharge_types: codes(&validation.transfer_discharge_types),
            admission_conditions: codes(&validation.admission_conditions),
            absent_admission_condition: Some(u32::from(validation.absent_admission_condition)),
            symptom_range: Some(range(&validation.symptom_range)),
            sex_rules: Some(pb::PolicySexRuleList {
                rules: validation
                    .sex_rules
                    .iter()
                    .map(|rule| pb::PolicySexRule {
                        range: Some(range(&rule.range)),
                        sex: word_of(&rule.sex),
                    })
                    .collect(),
            }),
            age_rules: Some(pb::PolicyAgeRuleList {
                rules: validation
                    .age_rules
                    .iter()
                    .map(|rule| pb::PolicyAgeRule {
                        range: Some(range(&rule.range)),
                        min_age_years: rule.min_age_years,
                        max_age_years: rule.max_age_years,
                        max_age_days: rule.max_age_days,
                    })
                    .collect(),
            }),
            charges_must_sum_to_total: Some(validation.charges_must_sum_to_total),
        }),
        prepayment: Some(pb::PolicyPrepayment {
            prepayment_ratio: decimal(policy.prepayment.prepayment_ratio),
            quality_deposit_rate: decimal(policy.prepayment.quality_deposit_rate),
            budget_mode: word_of(&policy.prepayment.budget_mode),
        }),
        clearing: Some(pb::PolicyClearing {
            point_value_basis: word_of(&policy.clearing.point_value_basis),
            point_value_places: Some(policy.clearing.point_value_places),
            sharing: word_of(&policy.clearing.sharing),
            deposit_return: Some(pb::PolicyDepositReturn {
                full_from: decimal(policy.clearing.deposit_return.full_from),
                none_below: decimal(policy.clearing.deposit_return.none_below),
            }),
            alliance_distribution: word_of(&policy.clearing.alliance_distribution),
        }),
        special_case: Some(pb::PolicySpecialCase {
            drg_quota_ratio: decimal(policy.special_case.drg_quota_ratio),
            dip_quota_ratio: decimal(policy.special_case.dip_quota_ratio),
            reviewers_per_review: Some(
                u32::try_from(policy.special_case.reviewers_per_review).unwrap_or(u32::MAX),
            ),
        }),
        readmission: Some(pb::PolicyReadmission {
            window_days: Some(policy.readmission.window_days),
            exempt_adrgs: Some(pb::PolicyAdrgList {
                codes: policy.readmission.exempt_adrgs.clone(),
            }),
            kept_share: decimal(policy.readmission.kept_share),
        }),
        per_diem_episode: Some(pb::PolicyPerDiemEpisode {
            window_days: Some(policy.per_diem_episode.window_days),
            minimum_billable_days: Some(policy.per_diem_episode.minimum_billable_days),
        }),
        budget_point_value: Some(pb::PolicyBudgetPointValue {
            history_weights: Some(pb::PolicyWeightList {
                weights: policy
                    .budget_point_value
                    .history_weights
                    .iter()
                    .map(|&w| wire::decimal_to_wire(w))
                    .collect(),
            }),
        }),
    }
}

/// Reads fields of one typed policy, keeping each violation under the policy's prefix.
struct Reader<'a, F: Fn(&str) -> String> {
    v: &'a mut Violations,
    at: &'a F,
}

impl<F: Fn(&str) -> String> Reader<'_, F> {
    fn keep<T>(&mut self, read: Result<T, Violation>) -> Option<T> {
        self.v.check(read)
    }

    /// A decimal field: unset keeps `target` (the scheme's default).
    fn decimal(&mut self, field: &str, given: Option<&common::Decimal>, target: &mut Decimal) {
        if given.is_some() {
            self.required_decimal(field, given, target);
        }
    }

    /// A decimal that must be there; whether it was read.
    fn required_decimal(
        &mut self,
        field: &str,
        given: Option<&common::Decimal>,
        target: &mut Decimal,
    ) -> bool {
        let field = (self.at)(field);
        match optional_decimal(&field, given) {
            Ok(Some(value)) => {
                *target = value;
                true
            }
            Ok(None) => {
                self.v.push(field, "is required: a decimal string");
                false
            }
            Err(violation) => {
                self.v.push(violation.0, violation.1);
                false
            }
        }
    }

    fn code(&mut self, field: &str, code: u32) -> Option<u8> {
        let field = (self.at)(field);
        self.keep(u8::try_from(code).map_err(|_| (field, format!("{code} is not a code 0 to 255"))))
    }

    fn codes(&mut self, field: &str, given: Option<&pb::PolicyCodeList>, target: &mut Vec<u8>) {
        let Some(list) = given else { return };
        let mut codes = Vec::new();
        for (index, &code) in list.codes.iter().enumerate() {
            if let Some(code) = self.code(&format!("{field}.codes[{index}]"), code) {
                codes.push(code);
            }
        }
        *target = codes;
    }

    fn range(
        &mut self,
        field: &str,
        given: Option<&pb::PolicyCategoryRange>,
    ) -> Option<CategoryRange> {
        let range = given.map(category_range);
        if range.is_none() {
            self.v.push((self.at)(field), "is required");
        }
        range
    }

    fn word<T: DeserializeOwned>(&mut self, field: &str, text: &str) -> Option<T> {
        let field = (self.at)(field);
        self.keep(word(&field, text))
    }

    /// A word field: empty keeps `target` (the scheme's default).
    fn word_into<T: DeserializeOwned>(&mut self, field: &str, text: &str, target: &mut T) {
        if !text.is_empty()
            && let Some(value) = self.word(field, text)
        {
            *target = value;
        }
    }
}

fn category_range(range: &pb::PolicyCategoryRange) -> CategoryRange {
    CategoryRange::new(&range.first, &range.last)
}

/// A word of the JSON document read as the domain reads it there, so both forms share one
/// vocabulary.
fn word<T: DeserializeOwned>(field: &str, text: &str) -> Result<T, Violation> {
    document_fields::word(text).map_err(|description| (field.to_owned(), description))
}
