//! Shadow settlement over the ledger's current valued cases.

use kernel::{Decimal, FundType, RegionCode};
use settlement_domain::shadow::{ShadowReport, shadow_reports};

use super::{RunError, store};
use crate::store::Storage;

/// A shadow settlement over the current valued cases discharged in the inclusive `yyyymmdd`
/// range: per hospital (with per-group lines) and per group across hospitals.
pub async fn shadow<C: Storage>(
    conn: &C,
    region: RegionCode,
    fund: FundType,
    from: i32,
    to: i32,
    point_value: Decimal,
) -> Result<(ShadowReport, ShadowReport), RunError> {
    let cases = super::valued_cases(store::run_cases(conn, region, fund, from, to).await?);
    Ok(shadow_reports(&cases, point_value))
}
