//! The DIP budget point value (预算点值): computed from the ledger of its history years by the
//! domain's [`budget_point_value`], stored as the next version of its region, year and fund, and
//! read back for a prepayment that prices with it.

use kernel::{Decimal, FundType, Money, Points, RegionCode};
use medpay_proto::settlement::v1 as pb;
use platform::db::{fund_to_db, region_to_db};
use platform::wire;
use settlement_domain::SettlementError;
use settlement_domain::budget_point_value::{
    BudgetPointValue, HistoryCase, HistoryWeight, PublishedPointValue, budget_point_value,
    check_history,
};
use settlement_domain::payment_mode::PaymentMode;

use super::point_value_store::{self, HistoryRow, PointValueRow};
use super::{RunError, internal, policy_in_force};
use crate::store::Storage;
use crate::store::ledger::StoreError;

/// The region, year and fund a budget point value is published for.
pub type ValueKey = (RegionCode, i32, FundType);

/// A budget point value to publish.
#[derive(Clone, Debug)]
pub struct PublishOrder {
    pub key: ValueKey,
    /// The history years and weights; `None` takes the settlement policy's.
    pub history: Option<Vec<HistoryWeight>>,
    pub caller: String,
    pub at: i64,
}

/// A stored version and what it was computed from.
#[derive(Clone, Debug)]
pub struct StoredPointValue {
    pub row: PointValueRow,
    pub value: BudgetPointValue,
}

/// Reads a stored history case; a DIP-paid case without the score or coefficient it was valued
/// with is named.
fn history_case(row: &HistoryRow) -> Result<HistoryCase, SettlementError> {
    let record = format!("{}/{}", row.hospital_code, row.list_id);
    let mode = PaymentMode::from_stored(&row.payment_mode).unwrap_or(PaymentMode::Dip);
    let document: serde_json::Value =
        serde_json::from_str(&row.valuation_json).unwrap_or(serde_json::Value::Null);
    let figure = |field: &'static str| {
        document[field]
            .as_str()
            .and_then(|text| text.parse::<Decimal>().ok())
            .ok_or_else(|| SettlementError::MissingCaseScore {
                record: record.clone(),
                mode: mode.as_str(),
                field,
            })
    };
    Ok(HistoryCase {
        record: record.clone(),
        year: row.discharge_date / 10_000,
        mode,
        total_cost: Money::from_fen(row.total_fen),
        group_score: figure("base")?,
        coefficient: figure("coefficient")?,
    })
}

/// Computes the value over the stored ledger and stores it as the next version. Refused while a
/// history year holds cases stored unvalued.
pub async fn publish<C: Storage>(
    conn: &C,
    order: &PublishOrder,
) -> Result<StoredPointValue, RunError> {
    let (region, year, fund) = order.key;
    let history = match &order.history {
        Some(history) => history.clone(),
        None => policy_in_force(conn, region, year, fund)
            .await?
            .1
            .budget_point_value
            .history(year),
    };
    check_history(year, &history).map_err(RunError::Domain)?;
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    for entry in &history {
        let discharges = (entry.year * 10_000 + 101, entry.year * 10_000 + 1231);
        super::refuse_unvalued(conn, (region, fund), discharges, false).await?;
        for row in point_value_store::dip_paid_cases(conn, region, fund, discharges).await? {
            match history_case(&row) {
                Ok(case) => cases.push(case),
                Err(error) => errors.push(error),
            }
        }
    }
    if !errors.is_empty() {
        return Err(RunError::Domain(errors));
    }
    let value = budget_point_value(order.key, &history, &cases).map_err(RunError::Domain)?;
    let mut row = PointValueRow {
        region_code: region_to_db(region),
        year,
        fund_type: fund_to_db(fund),
        version: 0,
        point_value_scaled: Points::round(value.point_value)
            .to_scaled()
            .map_err(StoreError::from)?,
        inputs_json: serde_json::to_string(&value).map_err(internal)?,
        created_by: order.caller.clone(),
        created_at: order.at,
    };
    row.version = point_value_store::put_point_value(conn, row.clone(), order.key).await?;
    Ok(StoredPointValue { row, value })
}

/// The version `version` (the latest when `None`) of a published value, if any.
pub async fn published<C: Storage>(
    conn: &C,
    key: ValueKey,
    version: Option<i32>,
) -> Result<Option<StoredPointValue>, RunError> {
    let Some(row) = point_value_store::point_value(conn, key, version).await? else {
        return Ok(None);
    };
    let value: BudgetPointValue = serde_json::from_str(&row.inputs_json).map_err(|e| {
        internal(format!(
            "stored budget point value v{} is unreadable: {e}",
            row.version
        ))
    })?;
    Ok(Some(StoredPointValue { row, value }))
}

/// The latest value published for a prepayment of `key`, or FAILED_PRECONDITION naming the key.
pub async fn for_prepayment<C: Storage>(
    conn: &C,
    key: ValueKey,
) -> Result<PublishedPointValue, RunError> {
    let (region, year, fund) = key;
    let stored = published(conn, key, None)
        .await?
        .ok_or_else(|| RunError::Precondition {
            reason: "NO_BUDGET_POINT_VALUE",
            message: format!(
                "no DIP budget point value is published for region {region}, year {year}, fund {}: \
                 publish one (PublishDipBudgetPointValue) or give the point value",
                fund.code()
            ),
        })?;
    Ok(PublishedPointValue {
        region,
        year,
        fund,
        version: stored.row.version,
        value: Points::from_scaled(stored.row.point_value_scaled).value(),
    })
}

/// A stored version as the wire carries it.
pub fn to_wire(
    stored: &StoredPointValue,
    region: RegionCode,
    fund: FundType,
) -> pb::DipBudgetPointValue {
    let value = &stored.value;
    pb::DipBudgetPointValue {
        region_code: region.to_string(),
        year: stored.row.year,
        fund_type: wire::fund_type_to_wire(fund),
        version: stored.row.version,
        point_value: Some(wire::decimal_to_wire(
            Points::from_scaled(stored.row.point_value_scaled).value(),
        )),
        history: value
            .history
            .iter()
            .map(|year| pb::HistoryYearTotals {
                year: year.year,
                weight: Some(wire::decimal_to_wire(year.weight.normalize())),
                cases: year.cases,
                total_cost: Some(wire::money_to_wire(year.total_cost)),
                case_scores: Some(wire::decimal_to_wire(year.case_scores.normalize())),
                weighted_total_cost: Some(wire::decimal_to_wire(
                    year.weighted_total_cost.normalize(),
                )),
                weighted_case_scores: Some(wire::decimal_to_wire(
                    year.weighted_case_scores.normalize(),
                )),
            })
            .collect(),
        weighted_total_cost: Some(wire::decimal_to_wire(value.weighted_total_cost.normalize())),
        weighted_case_scores: Some(wire::decimal_to_wire(
            value.weighted_case_scores.normalize(),
        )),
        published_by: stored.row.created_by.clone(),
        published_at_unix: stored.row.created_at,
    }
}
