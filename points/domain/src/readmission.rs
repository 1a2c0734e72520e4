//! 15-day readmission halving (DOMAIN.md §3 DRG points, precise defaults): when a patient is
//! readmitted to the same hospital into the same group within the window without a planned
//! reason, the earlier stay's points are halved.

use kernel::Points;
use serde::{Deserialize, Serialize};

use crate::case::CaseForValuation;
use crate::policy::ValuationPolicy;
use crate::valuation::Valuation;
use kernel::Date;

/// The earlier stay, as valued.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValuedStay {
    /// Hospital of the earlier stay.
    pub hospital_code: String,
    /// List id of the earlier stay.
    pub list_id: String,
    /// Group of the earlier stay.
    pub group_code: String,
    /// ADRG of the earlier stay (checked against the exempt list).
    pub adrg: String,
    /// Admission date of the earlier stay.
    pub admission_date: Date,
    /// Discharge date of the earlier stay.
    pub discharge_date: Date,
    /// 31-day planned readmission flag of the earlier stay.
    pub planned_readmission: bool,
    /// The stay's rounded points.
    pub points: Points,
}

impl ValuedStay {
    /// The stay of `case` valued as `valuation`.
    pub fn from_valuation(case: &CaseForValuation, valuation: &Valuation) -> Self {
        Self {
            hospital_code: case.hospital_code.clone(),
            list_id: case.list_id.clone(),
            group_code: case.grouping.group_code.clone(),
            adrg: case.grouping.adrg.clone(),
            admission_date: case.admission_date,
            discharge_date: case.discharge_date,
            planned_readmission: case.planned_readmission,
            points: valuation.points,
        }
    }
}

/// The later stay, as far as the rule needs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StayKey {
    /// Hospital of the later stay.
    pub hospital_code: String,
    /// List id of the later stay.
    pub list_id: String,
    /// Group of the later stay.
    pub group_code: String,
    /// Admission date of the later stay.
    pub admission_date: Date,
}

impl StayKey {
    /// The key of `case`.
    pub fn of(case: &CaseForValuation) -> Self {
        Self {
            hospital_code: case.hospital_code.clone(),
            list_id: case.list_id.clone(),
            group_code: case.grouping.group_code.clone(),
            admission_date: case.admission_date,
        }
    }
}

/// The earlier stay's points after halving.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Halving {
    /// Whole days from the earlier discharge to the later admission.
    pub gap_days: i64,
    /// The earlier stay's points before halving.
    pub points_before: Points,
    /// The earlier stay's points after halving, rounded to 0.0001.
    pub points_after: Points,
}

/// Halves the earlier stay when the later stay is a readmission under the policy: same hospital,
/// same group, later admission − earlier discharge within the window (0 ..= 15 days by default),
/// the earlier stay not flagged as planned and its ADRG not exempt. The earlier stay's rounded
/// points are multiplied by the kept share (½) and rounded again to 0.0001.
pub fn apply_readmission(
    policy: &ValuationPolicy,
    earlier: &ValuedStay,
    later: &StayKey,
) -> Option<Halving> {
    let rules = &policy.readmission;
    let gap_days = i64::from(later.admission_date.days_since(earlier.discharge_date));
    let same_stay =
        earlier.hospital_code == later.hospital_code && earlier.list_id == later.list_id;
    let applies = !same_stay
        && earlier.hospital_code == later.hospital_code
        && earlier.group_code == later.group_code
        && (0..=i64::from(rules.window_days)).contains(&gap_days)
        && !earlier.planned_readmission
        && !rules.exempt_adrgs.contains(&earlier.adrg);
    applies.then(|| Halving {
        gap_days,
        points_before: earlier.points,
        points_after: earlier.points.mul_round(rules.kept_share),
    })
}
