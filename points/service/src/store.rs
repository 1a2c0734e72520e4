//! Valuation-table versions per region, year and fund.

use kernel::{FundType, RegionCode};
use platform::db::{fund_from_db, fund_to_db, region_from_db, region_to_db};
use sea_orm::entity::prelude::*;
use sea_orm::{QueryOrder, Set};

pub mod points_table_version {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "points_table_version")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub region_code: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub year: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub fund_type: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i32,
        pub status: String,
        pub document_json: String,
        /// `yyyymmdd` of the first day an active version applies.
        pub effective_from: Option<i32>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The state of a table version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableStatus {
    Draft,
    Active,
    Superseded,
}

impl TableStatus {
    fn as_db(self) -> &'static str {
        match self {
            TableStatus::Draft => "draft",
            TableStatus::Active => "active",
            TableStatus::Superseded => "superseded",
        }
    }

    fn from_db(value: &str) -> Result<Self, platform::db::CorruptRow> {
        match value {
            "draft" => Ok(TableStatus::Draft),
            "active" => Ok(TableStatus::Active),
            "superseded" => Ok(TableStatus::Superseded),
            other => Err(platform::db::CorruptRow {
                column: "status",
                value: other.to_owned(),
                reason: "unknown table status".into(),
            }),
        }
    }
}

/// A stored valuation-table version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredTable {
    pub region: RegionCode,
    pub year: i32,
    pub fund: FundType,
    pub version: i32,
    pub status: TableStatus,
    pub document_json: String,
    pub effective_from: Option<i32>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error(transparent)]
    Corrupt(#[from] platform::db::CorruptRow),
}

/// Valuation tables on a sea-orm connection.
#[derive(Clone)]
pub struct TableStore {
    db: DatabaseConnection,
}

impl TableStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// The active version, or a named one.
    pub async fn get(
        &self,
        region: RegionCode,
        year: i32,
        fund: FundType,
        version: Option<i32>,
    ) -> Result<Option<StoredTable>, StoreError> {
        let mut query = points_table_version::Entity::find()
            .filter(points_table_version::Column::RegionCode.eq(region_to_db(region)))
            .filter(points_table_version::Column::Year.eq(year))
            .filter(points_table_version::Column::FundType.eq(fund_to_db(fund)));
        query = match version {
            Some(version) => query.filter(points_table_version::Column::Version.eq(version)),
            None => {
                query.filter(points_table_version::Column::Status.eq(TableStatus::Active.as_db()))
            }
        };
        let row = query
            .order_by_desc(points_table_version::Column::Version)
            .one(&self.db)
            .await?;
        row.map(|row| {
            Ok(StoredTable {
                region: region_from_db(row.region_code)?,
                year: row.year,
                fund: fund_from_db(row.fund_type)?,
                version: row.version,
                status: TableStatus::from_db(&row.status)?,
                document_json: row.document_json,
                effective_from: row.effective_from,
            })
        })
        .transpose()
    }

    /// Stores a version as given.
    pub async fn insert(&self, table: &StoredTable) -> Result<(), StoreError> {
        points_table_version::ActiveModel {
            region_code: Set(region_to_db(table.region)),
            year: Set(table.year),
            fund_type: Set(fund_to_db(table.fund)),
            version: Set(table.version),
            status: Set(table.status.as_db().to_owned()),
            document_json: Set(table.document_json.clone()),
            effective_from: Set(table.effective_from),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }
}
