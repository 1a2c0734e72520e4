//! Storage of published DIP budget point values (a version per region, year and fund, with the
//! inputs it was computed from) and the ledger read they are computed over.

use kernel::{FundType, RegionCode};
use platform::db::{fund_to_db, region_to_db};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, FromQueryResult, QueryOrder, QuerySelect, Set};
use settlement_domain::payment_mode::PaymentMode;

use crate::store::ledger::{StoreError, region_span, settlement_case, status};

pub mod settlement_budget_point_value {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settlement_budget_point_value")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub region_code: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub year: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub fund_type: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i32,
        /// The value × 10⁴.
        pub point_value_scaled: i64,
        /// The domain's `BudgetPointValue`: the history years with their sums.
        pub inputs_json: String,
        pub created_by: String,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub use settlement_budget_point_value::Model as PointValueRow;

/// The version `version` of the value of (region, year, fund), or its latest when `None`.
pub async fn point_value<C: ConnectionTrait>(
    conn: &C,
    (region, year, fund): (RegionCode, i32, FundType),
    version: Option<i32>,
) -> Result<Option<PointValueRow>, StoreError> {
    use settlement_budget_point_value::Column;
    let mut query = settlement_budget_point_value::Entity::find()
        .filter(Column::RegionCode.eq(region_to_db(region)))
        .filter(Column::Year.eq(year))
        .filter(Column::FundType.eq(fund_to_db(fund)));
    if let Some(version) = version {
        query = query.filter(Column::Version.eq(version));
    }
    Ok(query.order_by_desc(Column::Version).one(conn).await?)
}

/// Stores `row` as the next version of its (region, year, fund); returns the version.
pub async fn put_point_value<C: ConnectionTrait>(
    conn: &C,
    mut row: PointValueRow,
    key: (RegionCode, i32, FundType),
) -> Result<i32, StoreError> {
    row.version = point_value(conn, key, None)
        .await?
        .map_or(1, |latest| latest.version + 1);
    let version = row.version;
    settlement_budget_point_value::ActiveModel {
        region_code: Set(row.region_code),
        year: Set(row.year),
        fund_type: Set(row.fund_type),
        version: Set(row.version),
        point_value_scaled: Set(row.point_value_scaled),
        inputs_json: Set(row.inputs_json),
        created_by: Set(row.created_by),
        created_at: Set(row.created_at),
    }
    .insert(conn)
    .await?;
    Ok(version)
}

/// A history case as the budget point value reads it: its cost and the valuation document that
/// holds the group score and coefficient it was valued with.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct HistoryRow {
    pub hospital_code: String,
    pub list_id: String,
    pub payment_mode: String,
    /// `yyyymmdd`.
    pub discharge_date: i32,
    pub total_fen: i64,
    pub valuation_json: String,
}

/// The current valued (or cleared) cases of `region` and the regions inside it for `fund` paid
/// DIP or basic-level, discharged in the inclusive `yyyymmdd` range, in (hospital, list id)
/// order.
pub async fn dip_paid_cases<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    fund: FundType,
    (discharge_from, discharge_to): (i32, i32),
) -> Result<Vec<HistoryRow>, StoreError> {
    use settlement_case::Column;
    let (from, to) = region_span(region);
    Ok(settlement_case::Entity::find()
        .select_only()
        .columns([
            Column::HospitalCode,
            Column::ListId,
            Column::PaymentMode,
            Column::DischargeDate,
            Column::TotalFen,
            Column::ValuationJson,
        ])
        .filter(Column::RegionCode.between(from, to))
        .filter(Column::FundType.eq(fund_to_db(fund)))
        .filter(Column::DischargeDate.between(discharge_from, discharge_to))
        .filter(Column::IsCurrent.eq(true))
        .filter(Column::Status.is_in([status::VALUED, status::CLEARED]))
        .filter(Column::PaymentMode.is_in([
            PaymentMode::Dip.as_str(),
            PaymentMode::BasicLevelDisease.as_str(),
        ]))
        .order_by_asc(Column::HospitalCode)
        .order_by_asc(Column::ListId)
        .into_model::<HistoryRow>()
        .all(conn)
        .await?)
}
