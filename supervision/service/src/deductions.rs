//! The violation deductions of a region, year and fund as both servers answer them: the internal
//! `GetDeductions` settlement clears with and the public `ListDeductions` read the same stored
//! findings through the same domain computation.

use kernel::{FundType, RegionCode};
use supervision_domain::overlap::RunRef;
use supervision_domain::{DeductionScope, HospitalDeduction, ReviewedFinding, deductions};

use crate::error::Error;
use crate::store::{StoredFinding, SupervisionStore};

fn reviewed(finding: StoredFinding) -> ReviewedFinding {
    ReviewedFinding {
        finding_id: finding.finding_id,
        region: finding.case_region,
        year: finding.period.year(),
        fund: finding.fund,
        run: RunRef {
            region: finding.region,
            period: finding.period,
            version: finding.run_version,
        },
        rule: finding.rule,
        hospital_code: finding.hospital_code,
        list_id: finding.list_id,
        arm: finding.arm,
        item_code: finding.item_code,
        date: finding.date,
        other_hospital_code: finding.other_hospital_code,
        other_list_id: finding.other_list_id,
        fee_lines: finding.fee_lines,
        amount: finding.amount,
        status: finding.status,
    }
}

/// Each hospital's deduction (of `hospital` only when given) with the findings behind it.
pub async fn hospital_deductions(
    store: &SupervisionStore,
    (region, year, fund): (RegionCode, i32, FundType),
    hospital: Option<&str>,
) -> Result<Vec<HospitalDeduction>, Error> {
    let stored = store
        .confirmed_findings((region, year, fund), hospital)
        .await?;
    let scope = DeductionScope { region, year, fund };
    Ok(deductions(scope, stored.into_iter().map(reviewed)))
}
