//! A grouped case as the points context receives it: plain data, no dependency on the grouping
//! crate. Keyed by (hospital, list id): list ids are unique only within a hospital.

use kernel::{Decimal, FundType, Money, Points};
use serde::{Deserialize, Serialize};

use kernel::Date;

use crate::error::ValuationError;
use crate::level::HospitalLevel;
use crate::vocabulary::CostBasis;
pub use crate::vocabulary::{DISCHARGE_TYPES, SchemeKind};

/// Outcome of grouping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupStatus {
    /// Grouped into a group.
    Grouped,
    /// 歧义组: valued like a grouped case when its code is in the table, else as unstable.
    Ambiguous,
    /// 无法入组 (`0000`).
    Ungroupable,
}

/// What grouping said about the case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupedCase {
    /// Scheme of the grouping.
    pub scheme: SchemeKind,
    /// DRG code or DIP group code.
    pub group_code: String,
    /// ADRG (DRG only; empty otherwise).
    #[serde(default)]
    pub adrg: String,
    /// MDC (DRG only; empty otherwise).
    #[serde(default)]
    pub mdc: String,
    /// Grouping outcome.
    pub status: GroupStatus,
    /// DIP score from the directory, used when the points table has no row for the group.
    #[serde(default)]
    pub dip_score: Option<Points>,
    /// DIP auxiliary-directory coefficient (default 1).
    #[serde(default)]
    pub dip_aux_coefficient: Option<Decimal>,
}

/// A special-case decision (特例单议) bound to the case.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecialCaseDecision {
    /// Approved for fee-for-service.
    FeeForService,
    /// Extra points decided by the expert review, added to the case's points.
    ExtraPoints(Points),
}

/// One inpatient case, grouped, as valuation needs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseForValuation {
    /// 定点医疗机构代码.
    pub hospital_code: String,
    /// 清单流水号 (unique within the hospital).
    pub list_id: String,
    /// Hospital's settlement level.
    pub hospital_level: HospitalLevel,
    /// Fund of the insured person.
    pub fund_type: FundType,
    /// Grouping outcome.
    pub grouping: GroupedCase,
    /// Principal diagnosis code (ICD-10 医保版 2.0).
    pub principal_diagnosis: String,
    /// Principal procedure code (ICD-9-CM-3 医保版 2.0), if any.
    #[serde(default)]
    pub principal_procedure: Option<String>,
    /// Discharge department code.
    #[serde(default)]
    pub department: String,
    /// Admission date.
    pub admission_date: Date,
    /// Discharge date.
    pub discharge_date: Date,
    /// Hours between admission and discharge, a started hour counted whole (the caller rounds
    /// up, so `≤ max_stay_hours` compares the exact time), when known (day surgery); else LOS × 24.
    #[serde(default)]
    pub stay_hours: Option<u32>,
    /// 离院方式: 1, 2, 3, 4, 5 or 9.
    pub discharge_type: u8,
    /// 医疗总费用.
    pub total_cost: Money,
    /// 政策范围内费用, when the policy compares on it.
    #[serde(default)]
    pub in_policy_cost: Option<Money>,
    /// The insured person's own burden (起付线 + 自付 + 自费).
    #[serde(default)]
    pub individual_burden: Money,
    /// 31-day planned readmission flag.
    #[serde(default)]
    pub planned_readmission: bool,
    /// Per-diem days already used in the same episode (readmission within the accumulation
    /// window): phases continue from there.
    #[serde(default)]
    pub prior_episode_days: u32,
    /// Special-case decision, if any.
    #[serde(default)]
    pub special_case: Option<SpecialCaseDecision>,
}

impl CaseForValuation {
    /// Length of stay: discharge date − admission date (DOMAIN.md conventions).
    pub fn length_of_stay(&self) -> i64 {
        i64::from(self.discharge_date.days_since(self.admission_date))
    }

    /// Hours of the stay (given, or LOS × 24).
    pub fn hours(&self) -> i64 {
        self.stay_hours
            .map_or_else(|| self.length_of_stay() * 24, i64::from)
    }

    /// The cost compared with group means under `basis`.
    pub fn valuation_cost(&self, basis: CostBasis) -> Result<Money, ValuationError> {
        match basis {
            CostBasis::TotalCost => Ok(self.total_cost),
            CostBasis::InPolicyCost => self
                .in_policy_cost
                .ok_or(ValuationError::MissingInPolicyCost),
        }
    }

    /// Checks what valuation relies on: amounts, dates, discharge type.
    pub fn check(&self) -> Result<(), ValuationError> {
        for (field, amount) in [
            ("total_cost", Some(self.total_cost)),
            ("in_policy_cost", self.in_policy_cost),
            ("individual_burden", Some(self.individual_burden)),
        ] {
            if let Some(amount) = amount.filter(|a| a.is_negative()) {
                return Err(ValuationError::NegativeAmount {
                    field,
                    value: amount.value(),
                });
            }
        }
        if self.discharge_date < self.admission_date {
            return Err(self.discharge_before_admission());
        }
        if !DISCHARGE_TYPES.contains(&self.discharge_type) {
            return Err(ValuationError::UnknownDischargeType {
                code: self.discharge_type,
            });
        }
        if let Some(aux) = self.grouping.dip_aux_coefficient
            && aux <= Decimal::ZERO
        {
            return Err(ValuationError::InvalidAuxCoefficient { value: aux });
        }
        Ok(())
    }

    // Out of line so that formatting the dates of this rare refusal does not enlarge `check`,
    // which every valuation runs.
    #[cold]
    #[inline(never)]
    fn discharge_before_admission(&self) -> ValuationError {
        ValuationError::DischargeBeforeAdmission {
            admission: self.admission_date.to_string(),
            discharge: self.discharge_date.to_string(),
        }
    }
}
