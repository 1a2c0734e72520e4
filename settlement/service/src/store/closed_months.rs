//! Closed months. A month is closed per pooling region and fund; closing a prefecture's month
//! closes it for every county inside it, so intake asks with the case's own region.

use kernel::{FundType, RegionCode, YearMonth};
use platform::db::{fund_to_db, region_to_db};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, Set};

use crate::store::ledger::StoreError;

pub mod closed_month {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settlement_closed_month")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub region_code: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub fund_type: i32,
        /// `yyyymm`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub year_month: i32,
        pub run_id: String,
        pub closed_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The regions whose closing covers `region`: itself, its prefecture and its province.
fn covering_regions(region: RegionCode) -> Vec<i32> {
    region.self_and_ancestors().map(region_to_db).collect()
}

/// Whether the month of `region` (or of a region containing it) is closed for `fund`.
pub async fn is_closed<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    fund: FundType,
    month: YearMonth,
) -> Result<bool, StoreError> {
    let found = closed_month::Entity::find()
        .filter(closed_month::Column::RegionCode.is_in(covering_regions(region)))
        .filter(closed_month::Column::FundType.eq(fund_to_db(fund)))
        .filter(closed_month::Column::YearMonth.eq(month.as_int()))
        .count(conn)
        .await?;
    Ok(found > 0)
}

/// Closes the month; closing a closed month again changes nothing and returns `false`.
pub async fn close<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    fund: FundType,
    month: YearMonth,
    run_id: &str,
    closed_at: i64,
) -> Result<bool, StoreError> {
    let existing =
        closed_month::Entity::find_by_id((region_to_db(region), fund_to_db(fund), month.as_int()))
            .one(conn)
            .await?;
    if existing.is_some() {
        return Ok(false);
    }
    closed_month::ActiveModel {
        region_code: Set(region_to_db(region)),
        fund_type: Set(fund_to_db(fund)),
        year_month: Set(month.as_int()),
        run_id: Set(run_id.to_owned()),
        closed_at: Set(closed_at),
    }
    .insert(conn)
    .await?;
    Ok(true)
}
