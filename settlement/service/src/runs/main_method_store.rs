//! Storage of a region's main inpatient method per year: a version per (region, year), never
//! edited.

use kernel::RegionCode;
use platform::db::region_to_db;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};

use crate::store::ledger::StoreError;

pub mod settlement_main_method {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settlement_main_method")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub region_code: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub year: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i32,
        /// The domain's `MainInpatientMethod` as stored (`dip`, `drg`).
        pub method: String,
        pub reason: String,
        pub created_by: String,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub use settlement_main_method::Model as MainMethodRow;

/// The latest record of exactly `region` for `year`.
pub async fn latest<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    year: i32,
) -> Result<Option<MainMethodRow>, StoreError> {
    use settlement_main_method::Column;
    Ok(settlement_main_method::Entity::find()
        .filter(Column::RegionCode.eq(region_to_db(region)))
        .filter(Column::Year.eq(year))
        .order_by_desc(Column::Version)
        .one(conn)
        .await?)
}

/// Stores `method` as the next version of (region, year); returns the version.
pub async fn put<C: ConnectionTrait>(
    conn: &C,
    (region, year): (RegionCode, i32),
    method: &str,
    reason: &str,
    (created_by, created_at): (&str, i64),
) -> Result<i32, StoreError> {
    let version = latest(conn, region, year)
        .await?
        .map_or(1, |row| row.version + 1);
    settlement_main_method::ActiveModel {
        region_code: Set(region_to_db(region)),
        year: Set(year),
        version: Set(version),
        method: Set(method.to_owned()),
        reason: Set(reason.to_owned()),
        created_by: Set(created_by.to_owned()),
        created_at: Set(created_at),
    }
    .insert(conn)
    .await?;
    Ok(version)
}
