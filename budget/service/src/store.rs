//! Budget storage: versions of a budget per region, year and fund. Money is stored as BIGINT fen.

use kernel::{FundType, Money, RegionCode};
use sea_orm::entity::prelude::*;
use sea_orm::{QueryOrder, Set};

pub mod budget_version {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "budget_version")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub region_code: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub year: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub fund_type: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i32,
        pub mode: String,
        pub total_fen: i64,
        pub document_json: String,
        pub reason: String,
        pub created_by: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A stored budget version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBudget {
    pub region: RegionCode,
    pub year: i32,
    pub fund: FundType,
    pub version: i32,
    pub mode: String,
    pub total: Money,
    pub document_json: String,
    pub reason: String,
    pub created_by: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error(transparent)]
    Corrupt(#[from] platform::db::CorruptRow),
    #[error("amount does not fit storage: {0}")]
    Amount(#[from] kernel::AmountError),
}

fn from_row(row: budget_version::Model) -> Result<StoredBudget, StoreError> {
    let region = platform::db::region_from_db(row.region_code)?;
    let fund = platform::db::fund_from_db(row.fund_type)?;
    Ok(StoredBudget {
        region,
        year: row.year,
        fund,
        version: row.version,
        mode: row.mode,
        total: Money::from_fen(row.total_fen),
        document_json: row.document_json,
        reason: row.reason,
        created_by: row.created_by,
    })
}

/// Budget versions on a sea-orm connection.
#[derive(Clone)]
pub struct BudgetStore {
    db: DatabaseConnection,
}

impl BudgetStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// The latest version, or a named one.
    pub async fn get(
        &self,
        region: RegionCode,
        year: i32,
        fund: FundType,
        version: Option<i32>,
    ) -> Result<Option<StoredBudget>, StoreError> {
        let mut query = budget_version::Entity::find()
            .filter(budget_version::Column::RegionCode.eq(platform::db::region_to_db(region)))
            .filter(budget_version::Column::Year.eq(year))
            .filter(budget_version::Column::FundType.eq(platform::db::fund_to_db(fund)));
        if let Some(version) = version {
            query = query.filter(budget_version::Column::Version.eq(version));
        }
        let row = query
            .order_by_desc(budget_version::Column::Version)
            .one(&self.db)
            .await?;
        row.map(from_row).transpose()
    }

    /// Stores a version exactly as given; the primary key refuses a duplicate version.
    pub async fn insert(&self, budget: &StoredBudget) -> Result<(), StoreError> {
        let total_fen = budget.total.to_fen()?;
        budget_version::ActiveModel {
            region_code: Set(platform::db::region_to_db(budget.region)),
            year: Set(budget.year),
            fund_type: Set(platform::db::fund_to_db(budget.fund)),
            version: Set(budget.version),
            mode: Set(budget.mode.clone()),
            total_fen: Set(total_fen),
            document_json: Set(budget.document_json.clone()),
            reason: Set(budget.reason.clone()),
            created_by: Set(budget.created_by.clone()),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }
}
