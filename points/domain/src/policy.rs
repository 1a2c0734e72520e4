//! The valuation policy of one pooling region, year and fund type: every threshold, multiple,
//! ratio, tier, window and list of DOMAIN.md §3, each a field with the DOMAIN.md default.
//!
//! A policy is a serde value (JSON or TOML) so it can be stored and versioned; omitted fields take
//! their default. [`ValuationPolicy::validate`] rejects a policy that cannot be applied and names
//! every field at fault.

use kernel::{Decimal, FundType, RegionCode};
use serde::{Deserialize, Serialize};

use crate::error::{Checker, PolicyError, PolicyErrors};
use crate::level::HospitalLevel;
pub use crate::vocabulary::CostBasis;
use crate::vocabulary::{DISCHARGE_TYPES, ModeRule, SchemeKind};

/// The valuation policy of a pooling region, year and fund type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValuationPolicy {
    /// Pooling region (统筹区) the policy governs.
    pub region: RegionCode,
    /// Settlement year.
    pub year: i32,
    /// Fund the policy applies to (分账核算).
    pub fund_type: FundType,
    /// Version of this policy value, increased on every change.
    #[serde(default = "one")]
    pub version: u32,
    /// The region's main method for cases no earlier rule takes (Hainan: DIP).
    #[serde(default = "default_main_method")]
    pub main_method: SchemeKind,
    /// Cost compared with group means.
    #[serde(default)]
    pub cost_basis: CostBasis,
    /// Payment-mode selection (DOMAIN.md §3 payment-mode selection).
    #[serde(default)]
    pub modes: PaymentModeRules,
    /// DRG point rules.
    #[serde(default)]
    pub drg: DrgRules,
    /// DIP score rules.
    #[serde(default)]
    pub dip: DipRules,
    /// Per-diem rules.
    #[serde(default)]
    pub per_diem: PerDiemRules,
    /// 15-day readmission halving: spans a person's stays, so settlement applies it with its own
    /// policy's `readmission` section (settlement_domain::readmission). Kept here so that
    /// documents written with it still load; its bounds are still checked.
    #[serde(default)]
    pub readmission: ReadmissionRules,
    /// Point-value publication.
    #[serde(default)]
    pub point_value: PointValueRules,
    /// Special-case (特例单议) quotas.
    #[serde(default)]
    pub special_cases: SpecialCaseRules,
    /// Outpatient APG valuation.
    #[serde(default)]
    pub apg: ApgRules,
}

fn one() -> u32 {
    1
}

fn default_main_method() -> SchemeKind {
    SchemeKind::Dip
}

/// Payment-mode rules, evaluated in `order`, first match wins.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaymentModeRules {
    /// Evaluation order. Default: the Hainan order (special case FFS, psychiatric,
    /// rehabilitation/hospice, day surgery, fixed-rate disease, basic-level, excluded stays);
    /// the main method follows them all.
    pub order: Vec<ModeRule>,
    /// Psychiatric stays.
    pub psychiatric: PsychiatricRule,
    /// Rehabilitation and hospice stays.
    pub rehabilitation_hospice: RehabilitationHospiceRule,
    /// Day surgery.
    pub day_surgery: DaySurgeryRule,
    /// Fixed rate by disease.
    pub fixed_rate: FixedRateRule,
    /// Basic-level diseases.
    pub basic_level: BasicLevelRule,
    /// Excluded stays.
    pub excluded_stays: ExcludedStayRule,
}

impl Default for PaymentModeRules {
    fn default() -> Self {
        Self {
            order: ModeRule::HAINAN_ORDER.to_vec(),
            psychiatric: PsychiatricRule::default(),
            rehabilitation_hospice: RehabilitationHospiceRule::default(),
            day_surgery: DaySurgeryRule::default(),
            fixed_rate: FixedRateRule::default(),
            basic_level: BasicLevelRule::default(),
            excluded_stays: ExcludedStayRule::default(),
        }
    }
}

/// Psychiatric stays: acute phase by disease group, stable phase per diem.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PsychiatricRule {
    /// Principal-diagnosis prefixes (default `F2`, `F3`: F20–F39).
    pub diagnosis_prefixes: Vec<String>,
    /// Last day of the acute phase (default 56); a longer stay is paid per diem.
    pub acute_limit_days: u32,
}

impl Default for PsychiatricRule {
    fn default() -> Self {
        Self {
            diagnosis_prefixes: vec!["F2".into(), "F3".into()],
            acute_limit_days: 56,
        }
    }
}

/// Rehabilitation and hospice stays, paid per diem, recognised by department or diagnosis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RehabilitationHospiceRule {
    /// Discharge departments of rehabilitation (default `A21`, 康复医学科).
    pub rehabilitation_departments: Vec<String>,
    /// Principal-diagnosis prefixes of rehabilitation (default `Z50`).
    pub rehabilitation_diagnosis_prefixes: Vec<String>,
    /// Discharge departments of hospice care (default `A24`, 临终关怀科).
    pub hospice_departments: Vec<String>,
    /// Principal-diagnosis prefixes of hospice care (default `Z51.5`, palliative care).
    pub hospice_diagnosis_prefixes: Vec<String>,
}

impl Default for RehabilitationHospiceRule {
    fn default() -> Self {
        Self {
            rehabilitation_departments: vec!["A21".into()],
            rehabilitation_diagnosis_prefixes: vec!["Z50".into()],
            hospice_departments: vec!["A24".into()],
            hospice_diagnosis_prefixes: vec!["Z51.5".into()],
        }
    }
}

/// Day surgery (日间手术) from the day-surgery list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DaySurgeryRule {
    /// Principal-procedure code prefixes on the day-surgery list (priced in the tables).
    pub procedure_codes: Vec<String>,
    /// Longest stay in hours (default 48).
    pub max_stay_hours: u32,
}

impl Default for DaySurgeryRule {
    fn default() -> Self {
        Self {
            procedure_codes: Vec::new(),
            max_stay_hours: 48,
        }
    }
}

/// Fixed rate by disease (单病种 按病种定额): principal-diagnosis prefixes priced in the tables.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct FixedRateRule {
    /// Principal-diagnosis prefixes on the fixed-rate list (empty: rule never matches).
    pub diagnosis_prefixes: Vec<String>,
}

/// Basic-level diseases (基层病种): one price at every level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BasicLevelRule {
    /// Group codes (DIP groups or DRGs of the main method) on the basic-level list.
    pub group_codes: Vec<String>,
    /// The level whose coefficient in the valuation table every basic-level case takes, without
    /// hospital add-ons (Hainan: 二甲, 2A): one number, the table's, at every level.
    pub coefficient_level: HospitalLevel,
    /// Not a second number: a policy stored when the coefficient was the policy's carries it;
    /// valuation refuses a value other than the table's coefficient of `coefficient_level`
    /// (BASIC_LEVEL_COEFFICIENT_DIFFERS) instead of letting the two drift apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coefficient: Option<Decimal>,
}

impl Default for BasicLevelRule {
    fn default() -> Self {
        Self {
            group_codes: Vec::new(),
            coefficient_level: HospitalLevel::Secondary2A,
            coefficient: None,
        }
    }
}

/// Stays excluded from packaging and paid fee-for-service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExcludedStayRule {
    /// Exclude long stays (default on).
    pub long_stay_enabled: bool,
    /// A stay of at least this many days is long (default 60).
    pub long_stay_min_days: u32,
    /// Exclude short stays (default off).
    pub short_stay_enabled: bool,
    /// A stay of at most this many days is short (default 2).
    pub short_stay_max_days: u32,
}

impl Default for ExcludedStayRule {
    fn default() -> Self {
        Self {
            long_stay_enabled: true,
            long_stay_min_days: 60,
            short_stay_enabled: false,
            short_stay_max_days: 2,
        }
    }
}

/// One tier of the high-cost multiple: groups whose base points are at most `base_points_up_to`
/// (or any, when open-ended) use `multiple`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HighCostTier {
    /// Upper bound of base points (inclusive); `None` for the last, open-ended tier.
    pub base_points_up_to: Option<Decimal>,
    /// m_high for groups in this tier.
    pub multiple: Decimal,
}

/// DRG point rules (DOMAIN.md §3 DRG points).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DrgRules {
    /// m_high by base points: 3 if ≤ 100, 2 if ≤ 300, 1.5 above.
    pub high_cost_tiers: Vec<HighCostTier>,
    /// Whether cost exactly at mean × m_high is high-cost (default true: ≥).
    pub high_cost_inclusive: bool,
    /// m_low (default 0.4).
    pub low_cost_multiple: Decimal,
    /// Whether cost exactly at mean × m_low is low-cost (default true: ≤).
    pub low_cost_inclusive: bool,
    /// Discharge types of an incomplete stay (default 2 transfer, 4 against advice, 5 death).
    pub incomplete_discharge_types: Vec<u8>,
    /// Factor for ungroupable cases (default 0.9).
    pub ungroupable_factor: Decimal,
    /// Scale of base points (default 100: base = group mean / all-DRG mean × 100).
    pub base_points_scale: Decimal,
    /// Difference coefficient of a group or hospital without one (default 1.0).
    pub default_coefficient: Decimal,
    /// Unstable-group rule used by calibration.
    pub unstable: UnstableRule,
}

impl Default for DrgRules {
    fn default() -> Self {
        Self {
            high_cost_tiers: vec![
                HighCostTier {
                    base_points_up_to: Some(Decimal::from(100)),
                    multiple: Decimal::from(3),
                },
                HighCostTier {
                    base_points_up_to: Some(Decimal::from(300)),
                    multiple: Decimal::from(2),
                },
                HighCostTier {
                    base_points_up_to: None,
                    multiple: Decimal::new(15, 1),
                },
            ],
            high_cost_inclusive: true,
            low_cost_multiple: Decimal::new(4, 1),
            low_cost_inclusive: true,
            incomplete_discharge_types: vec![2, 4, 5],
            ungroupable_factor: Decimal::new(9, 1),
            base_points_scale: Decimal::from(100),
            default_coefficient: Decimal::ONE,
            unstable: UnstableRule::default(),
        }
    }
}

impl DrgRules {
    /// m_high for a group with these base points.
    pub fn high_cost_multiple(&self, base_points: Decimal) -> Decimal {
        self.high_cost_tiers
            .iter()
            .find(|tier| {
                tier.base_points_up_to
                    .is_none_or(|bound| base_points <= bound)
            })
            .or(self.high_cost_tiers.last())
            .map_or(Decimal::ZERO, |tier| tier.multiple)
    }
}

/// Unstable group (非稳定病组): fewer than `min_cases` cases or CV above `max_cv` (strict).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UnstableRule {
    /// Fewest cases of a stable group (default 5).
    pub min_cases: u64,
    /// Largest CV of a stable group (default 1; CV > 1 is unstable; population σ).
    pub max_cv: Decimal,
}

impl Default for UnstableRule {
    fn default() -> Self {
        Self {
            min_cases: 5,
            max_cv: Decimal::ONE,
        }
    }
}

/// DIP score rules (DOMAIN.md §3 DIP scores).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DipRules {
    /// Low band as a multiple of the reference cost (default 0.5).
    pub low_band: Decimal,
    /// Whether the low band is strict (default true: cost < 0.5 × ref).
    pub low_strict: bool,
    /// High band (default 2).
    pub high_band: Decimal,
    /// Whether the high band is strict (default true: cost > 2 × ref).
    pub high_strict: bool,
    /// Extreme band sent to expert review (default 5).
    pub extreme_band: Decimal,
    /// Whether the extreme band is strict (default true: cost > 5 × ref).
    pub extreme_strict: bool,
    /// Score scale (default 1000: score = group mean / all-case mean × 1000).
    pub score_scale: Decimal,
}

impl Default for DipRules {
    fn default() -> Self {
        Self {
            low_band: Decimal::new(5, 1),
            low_strict: true,
            high_band: Decimal::from(2),
            high_strict: true,
            extreme_band: Decimal::from(5),
            extreme_strict: true,
            score_scale: Decimal::from(1000),
        }
    }
}

/// What a per-diem stay costing less than its standard is paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BelowStandard {
    /// Pay the standard (default).
    #[default]
    PayStandard,
    /// Pay the actual cost.
    PayActualCost,
}

/// Per-diem rules (DOMAIN.md §3 per-diem).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PerDiemRules {
    /// Fewest billable days (default 1: billable days = max(LOS, 1)).
    pub minimum_billable_days: u32,
    /// Cost below the standard.
    pub below_standard: BelowStandard,
    /// Not read: the readmission window of per-diem episodes is settlement's
    /// (`per_diem_episode.window_days` of the settlement policy), which holds a person's stays
    /// and sends each stay's prior episode days. Kept so that stored policies stay readable.
    pub accumulation_window_days: u32,
}

impl Default for PerDiemRules {
    fn default() -> Self {
        Self {
            minimum_billable_days: 1,
            below_standard: BelowStandard::PayStandard,
            accumulation_window_days: 15,
        }
    }
}

/// 15-day readmission halving (DOMAIN.md §3, precise defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReadmissionRules {
    /// Largest gap, later admission − earlier discharge, in days (default 15).
    pub window_days: u32,
    /// ADRGs of planned cycles (chemotherapy, radiotherapy and similar) never halved.
    pub exempt_adrgs: Vec<String>,
    /// Share of the earlier stay's points kept (default 0.5).
    pub kept_share: Decimal,
}

impl Default for ReadmissionRules {
    fn default() -> Self {
        Self {
            window_days: 15,
            exempt_adrgs: ["RB1", "RB2", "RC1", "RE1", "RG1", "RV1"]
                .map(String::from)
                .to_vec(),
            kept_share: Decimal::new(5, 1),
        }
    }
}

/// Basis of the DRG point value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PointValueBasis {
    /// (fund budget + individual burden) / total points (default).
    #[default]
    TotalCost,
    /// fund budget / total points.
    Fund,
}

/// Point-value publication.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PointValueRules {
    /// Decimal places of a published point value (default 4).
    pub published_decimal_places: u32,
    /// Basis of the DRG point value.
    pub basis: PointValueBasis,
}

impl Default for PointValueRules {
    fn default() -> Self {
        Self {
            published_decimal_places: 4,
            basis: PointValueBasis::TotalCost,
        }
    }
}

/// Special-case (特例单议) quotas as shares of discharges.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpecialCaseRules {
    /// DRG quota (default 0.05 = 5 %).
    pub drg_quota: Decimal,
    /// DIP quota (default 0.005 = 5 ‰).
    pub dip_quota: Decimal,
}

impl Default for SpecialCaseRules {
    fn default() -> Self {
        Self {
            drg_quota: Decimal::new(5, 2),
            dip_quota: Decimal::new(5, 3),
        }
    }
}

impl SpecialCaseRules {
    /// Most special cases a region may approve among `discharges` cases (rounded down).
    pub fn quota(&self, scheme: SchemeKind, discharges: u64) -> u64 {
        let share = match scheme {
            SchemeKind::Drg => self.drg_quota,
            SchemeKind::Dip => self.dip_quota,
        };
        let allowed = (Decimal::from(discharges) * share).floor();
        u64::try_from(allowed).unwrap_or(0)
    }
}

/// Outpatient APG valuation (DOMAIN.md §3 per-capita and APG).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApgRules {
    /// Share of the highest-valued significant procedure (default 1).
    pub first_procedure_share: Decimal,
    /// Share of every further significant procedure (default 0.5).
    pub other_procedure_share: Decimal,
    /// Whether the visit's medical group is added (default true).
    pub include_medical_group: bool,
}

impl Default for ApgRules {
    fn default() -> Self {
        Self {
            first_procedure_share: Decimal::ONE,
            other_procedure_share: Decimal::new(5, 1),
            include_medical_group: true,
        }
    }
}

impl ValuationPolicy {
    /// A policy with every DOMAIN.md default.
    pub fn new(region: RegionCode, year: i32, fund_type: FundType) -> Self {
        Self {
            region,
            year,
            fund_type,
            version: 1,
            main_method: default_main_method(),
            cost_basis: CostBasis::TotalCost,
            modes: PaymentModeRules::default(),
            drg: DrgRules::default(),
            dip: DipRules::default(),
            per_diem: PerDiemRules::default(),
            readmission: ReadmissionRules::default(),
            point_value: PointValueRules::default(),
            special_cases: SpecialCaseRules::default(),
            apg: ApgRules::default(),
        }
    }

    /// Checks every field; returns every defect, each naming its field.
    pub fn validate(&self) -> Result<(), PolicyErrors> {
        let mut check = Checker::default();
        if !(1900..=2200).contains(&self.year) {
            check.errors.push(PolicyError::OutOfRange {
                field: "year".into(),
                value: Decimal::from(self.year),
                range: "1900..=2200",
            });
        }

        let modes = &self.modes;
        check.non_empty("modes.order", &modes.order);
        check.no_duplicates("modes.order", &modes.order);
        check.non_empty(
            "modes.psychiatric.diagnosis_prefixes",
            &modes.psychiatric.diagnosis_prefixes,
        );
        check.no_duplicates(
            "modes.psychiatric.diagnosis_prefixes",
            &modes.psychiatric.diagnosis_prefixes,
        );
        if modes.psychiatric.acute_limit_days == 0 {
            check.errors.push(PolicyError::NotPositive {
                field: "modes.psychiatric.acute_limit_days".into(),
                value: Decimal::ZERO,
            });
        }
        let rehab = &modes.rehabilitation_hospice;
        for (field, list) in [
            (
                "modes.rehabilitation_hospice.rehabilitation_departments",
                &rehab.rehabilitation_departments,
            ),
            (
                "modes.rehabilitation_hospice.rehabilitation_diagnosis_prefixes",
                &rehab.rehabilitation_diagnosis_prefixes,
            ),
            (
                "modes.rehabilitation_hospice.hospice_departments",
                &rehab.hospice_departments,
            ),
            (
                "modes.rehabilitation_hospice.hospice_diagnosis_prefixes",
                &rehab.hospice_diagnosis_prefixes,
            ),
            (
                "modes.day_surgery.procedure_codes",
                &modes.day_surgery.procedure_codes,
            ),
            (
                "modes.fixed_rate.diagnosis_prefixes",
                &modes.fixed_rate.diagnosis_prefixes,
            ),
            (
                "modes.basic_level.group_codes",
                &modes.basic_level.group_codes,
            ),
            ("readmission.exempt_adrgs", &self.readmission.exempt_adrgs),
        ] {
            check.no_duplicates(field, list);
            if list.iter().any(String::is_empty) {
                check.errors.push(PolicyError::Unknown {
                    field: field.into(),
                    value: String::new(),
                });
            }
        }
        if modes.day_surgery.max_stay_hours == 0 {
            check.errors.push(PolicyError::NotPositive {
                field: "modes.day_surgery.max_stay_hours".into(),
                value: Decimal::ZERO,
            });
        }
        if let Some(coefficient) = modes.basic_level.coefficient {
            check.positive("modes.basic_level.coefficient", coefficient);
        }
        let excluded = &modes.excluded_stays;
        if excluded.long_stay_enabled
            && excluded.short_stay_enabled
            && excluded.short_stay_max_days >= excluded.long_stay_min_days
        {
            check.errors.push(PolicyError::LowNotBelowHigh {
                low_field: "modes.excluded_stays.short_stay_max_days".into(),
                low: Decimal::from(excluded.short_stay_max_days),
                high_field: "modes.excluded_stays.long_stay_min_days".into(),
                high: Decimal::from(excluded.long_stay_min_days),
            });
        }

        self.validate_drg(&mut check);
        self.validate_dip(&mut check);

        if self.per_diem.minimum_billable_days == 0 {
            check.errors.push(PolicyError::NotPositive {
                field: "per_diem.minimum_billable_days".into(),
                value: Decimal::ZERO,
            });
        }
        let kept = self.readmission.kept_share;
        if kept < Decimal::ZERO || kept > Decimal::ONE {
            check.errors.push(PolicyError::OutOfRange {
                field: "readmission.kept_share".into(),
                value: kept,
                range: "0..=1",
            });
        }
        if self.point_value.published_decimal_places > 10 {
            check.errors.push(PolicyError::OutOfRange {
                field: "point_value.published_decimal_places".into(),
                value: Decimal::from(self.point_value.published_decimal_places),
                range: "0..=10",
            });
        }
        for (field, quota) in [
            ("special_cases.drg_quota", self.special_cases.drg_quota),
            ("special_cases.dip_quota", self.special_cases.dip_quota),
        ] {
            if quota < Decimal::ZERO || quota > Decimal::ONE {
                check.errors.push(PolicyError::OutOfRange {
                    field: field.into(),
                    value: quota,
                    range: "0..=1",
                });
            }
        }
        check.non_negative("apg.first_procedure_share", self.apg.first_procedure_share);
        check.non_negative("apg.other_procedure_share", self.apg.other_procedure_share);
        check.finish()
    }

    fn validate_drg(&self, check: &mut Checker) {
        let drg = &self.drg;
        check.non_empty("drg.high_cost_tiers", &drg.high_cost_tiers);
        let mut previous: Option<Decimal> = None;
        let mut increasing = true;
        for (index, tier) in drg.high_cost_tiers.iter().enumerate() {
            let is_last = index + 1 == drg.high_cost_tiers.len();
            check.positive(
                &format!("drg.high_cost_tiers[{index}].multiple"),
                tier.multiple,
            );
            check.below(
                "drg.low_cost_multiple",
                drg.low_cost_multiple,
                &format!("drg.high_cost_tiers[{index}].multiple"),
                tier.multiple,
            );
            match tier.base_points_up_to {
                Some(bound) => {
                    check.non_negative(
                        &format!("drg.high_cost_tiers[{index}].base_points_up_to"),
                        bound,
                    );
                    if previous.is_some_and(|p| bound <= p) {
                        increasing = false;
                    }
                    previous = Some(bound);
                }
                None if !is_last => increasing = false,
                None => {}
            }
            if is_last && tier.base_points_up_to.is_some() {
                increasing = false;
            }
        }
        if !increasing {
            check.errors.push(PolicyError::NotIncreasing {
                field: "drg.high_cost_tiers".into(),
            });
        }
        check.non_negative("drg.low_cost_multiple", drg.low_cost_multiple);
        check.non_empty(
            "drg.incomplete_discharge_types",
            &drg.incomplete_discharge_types,
        );
        check.no_duplicates(
            "drg.incomplete_discharge_types",
            &drg.incomplete_discharge_types,
        );
        for code in &drg.incomplete_discharge_types {
            if !DISCHARGE_TYPES.contains(code) {
                check.errors.push(PolicyError::Unknown {
                    field: "drg.incomplete_discharge_types".into(),
                    value: code.to_string(),
                });
            }
        }
        if drg.ungroupable_factor < Decimal::ZERO || drg.ungroupable_factor > Decimal::ONE {
            check.errors.push(PolicyError::OutOfRange {
                field: "drg.ungroupable_factor".into(),
                value: drg.ungroupable_factor,
                range: "0..=1",
            });
        }
        check.positive("drg.base_points_scale", drg.base_points_scale);
        check.positive("drg.default_coefficient", drg.default_coefficient);
        check.non_negative("drg.unstable.max_cv", drg.unstable.max_cv);
    }

    fn validate_dip(&self, check: &mut Checker) {
        let dip = &self.dip;
        check.positive("dip.low_band", dip.low_band);
        check.below("dip.low_band", dip.low_band, "dip.high_band", dip.high_band);
        check.below(
            "dip.high_band",
            dip.high_band,
            "dip.extreme_band",
            dip.extreme_band,
        );
        // The high-cost factor (ratio − high band + 1) must stay above the normal factor 1.
        check.positive("dip.score_scale", dip.score_scale);
    }
}
