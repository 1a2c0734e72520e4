//! Budget storage: versions of a budget per region, year and fund. Money is stored as BIGINT fen.

use kernel::{FundType, Money, RegionCode};
use platform::journal::{AuditEntry, Call, Journal, Once, RequestIdReused};
use sea_orm::entity::prelude::*;
use sea_orm::{Condition, IntoActiveModel, QueryOrder, Set};

/// The budget context's journal of idempotent writes and its audit log.
pub(crate) const JOURNAL: Journal = Journal::new("budget");

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

pub mod budget_sharing_policy {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "budget_sharing_policy")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub region_code: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub year: i32,
        pub policy_json: String,
        pub updated_by: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod budget_allocation {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "budget_allocation")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub region_code: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub year: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub fund_type: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub block: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub unit_code: String,
        pub budget_version: i32,
        pub members_json: String,
        pub amount_fen: i64,
        pub quota_profile_json: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The allocated cap of one hospital or medical alliance in one block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAllocation {
    pub unit_code: String,
    pub block: String,
    pub budget_version: i32,
    /// Member hospital codes of an alliance as a JSON list; `[]` for a hospital.
    pub members_json: String,
    pub amount: Money,
    /// The domain's `QuotaProfile` as JSON: how the cap is spread over the months.
    pub quota_profile_json: String,
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
    #[error(transparent)]
    Reused(#[from] RequestIdReused),
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

    /// The stored response of `call` when the same request was already carried out; refused when
    /// its request id was used with another body or for another method.
    pub async fn replay(&self, call: &Call) -> Result<Option<Vec<u8>>, StoreError> {
        JOURNAL.replay(&self.db, call).await
    }

    /// Writes a version, its audit entry and the encoded response in one transaction, so a retry
    /// of the request replays the first answer and never writes a second version.
    pub async fn insert_idempotent(
        &self,
        budget: &StoredBudget,
        call: &Call,
        detail: String,
        response: Vec<u8>,
    ) -> Result<Once, StoreError> {
        let row = version_row(budget)?;
        JOURNAL
            .insert_once(&self.db, call, response, detail, row)
            .await
    }

    /// Every audit entry, oldest first.
    pub async fn audit_entries(&self) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(JOURNAL.all_audit_entries(&self.db).await?)
    }

    /// The connection the store and its journal use.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The latest version of each budget of a region (every year when `year` is `None`), ordered
    /// by year, then fund: the first `limit` after the (year, stored fund type) `after`.
    pub async fn list_latest(
        &self,
        region: RegionCode,
        year: Option<i32>,
        after: Option<(i32, i32)>,
        limit: u64,
    ) -> Result<Vec<StoredBudget>, StoreError> {
        let mut query = budget_version::Entity::find()
            .filter(budget_version::Column::RegionCode.eq(platform::db::region_to_db(region)));
        if let Some(year) = year {
            query = query.filter(budget_version::Column::Year.eq(year));
        }
        let rows = query
            .order_by_asc(budget_version::Column::Year)
            .order_by_asc(budget_version::Column::FundType)
            .order_by_desc(budget_version::Column::Version)
            .all(&self.db)
            .await?;
        let mut latest: Vec<budget_version::Model> = Vec::new();
        for row in rows {
            let same_budget = latest
                .last()
                .is_some_and(|last| last.year == row.year && last.fund_type == row.fund_type);
            if !same_budget {
                latest.push(row);
            }
        }
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        latest
            .into_iter()
            .filter(|row| after.is_none_or(|after| (row.year, row.fund_type) > after))
            .take(limit)
            .map(from_row)
            .collect()
    }

    /// Stores (or replaces) the sharing policy of a region and year, with its audit entry and the
    /// encoded response, in one transaction; a retry of the request replays.
    #[allow(clippy::too_many_arguments)]
    pub async fn put_sharing_policy(
        &self,
        region: RegionCode,
        year: i32,
        policy_json: &str,
        updated_by: &str,
        call: &Call,
        detail: String,
        response: Vec<u8>,
    ) -> Result<Once, StoreError> {
        let region_code = platform::db::region_to_db(region);
        let row = budget_sharing_policy::ActiveModel {
            region_code: Set(region_code),
            year: Set(year),
            policy_json: Set(policy_json.to_owned()),
            updated_by: Set(updated_by.to_owned()),
        };
        let old = Condition::all()
            .add(budget_sharing_policy::Column::RegionCode.eq(region_code))
            .add(budget_sharing_policy::Column::Year.eq(year));
        self.replace_rows(old, vec![row], call, detail, response)
            .await
    }

    /// The sharing policy JSON of a region and year, if one was stored.
    pub async fn sharing_policy(
        &self,
        region: RegionCode,
        year: i32,
    ) -> Result<Option<String>, StoreError> {
        Ok(
            budget_sharing_policy::Entity::find_by_id((platform::db::region_to_db(region), year))
                .one(&self.db)
                .await?
                .map(|row| row.policy_json),
        )
    }

    /// Replaces the allocation of one block of a budget by `lines`, with its audit entry and the
    /// encoded response, in one transaction; a retry of the request replays.
    #[allow(clippy::too_many_arguments)]
    pub async fn replace_allocation(
        &self,
        region: RegionCode,
        year: i32,
        fund: FundType,
        block: &str,
        lines: &[StoredAllocation],
        call: &Call,
        detail: String,
        response: Vec<u8>,
    ) -> Result<Once, StoreError> {
        let region_code = platform::db::region_to_db(region);
        let fund_type = platform::db::fund_to_db(fund);
        let mut rows = Vec::with_capacity(lines.len());
        for line in lines {
            rows.push(budget_allocation::ActiveModel {
                region_code: Set(region_code),
                year: Set(year),
                fund_type: Set(fund_type),
                block: Set(block.to_owned()),
                unit_code: Set(line.unit_code.clone()),
                budget_version: Set(line.budget_version),
                members_json: Set(line.members_json.clone()),
                amount_fen: Set(line.amount.to_fen()?),
                quota_profile_json: Set(line.quota_profile_json.clone()),
            });
        }
        let old = Condition::all()
            .add(budget_allocation::Column::RegionCode.eq(region_code))
            .add(budget_allocation::Column::Year.eq(year))
            .add(budget_allocation::Column::FundType.eq(fund_type))
            .add(budget_allocation::Column::Block.eq(block));
        self.replace_rows(old, rows, call, detail, response).await
    }

    /// Replaces the rows `old` selects by `rows` under `call`, with its audit entry and the
    /// encoded response, in one transaction; a retry of the request replays.
    async fn replace_rows<A>(
        &self,
        old: Condition,
        rows: Vec<A>,
        call: &Call,
        detail: String,
        response: Vec<u8>,
    ) -> Result<Once, StoreError>
    where
        A: ActiveModelTrait + ActiveModelBehavior + Send + 'static,
        <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
    {
        JOURNAL
            .write_once(&self.db, call, response, detail, move |txn| {
                Box::pin(async move {
                    A::Entity::delete_many().filter(old).exec(txn).await?;
                    for row in rows {
                        row.insert(txn).await?;
                    }
                    Ok(())
                })
            })
            .await
    }

    /// Every allocation of a region, year and fund, by unit then block.
    pub async fn allocations_in(
        &self,
        region: RegionCode,
        year: i32,
        fund: FundType,
    ) -> Result<Vec<StoredAllocation>, StoreError> {
        self.allocations(region, year, fund, None).await
    }

    /// The allocations of one hospital or alliance code in every block of a budget.
    pub async fn allocations_of(
        &self,
        region: RegionCode,
        year: i32,
        fund: FundType,
        unit_code: &str,
    ) -> Result<Vec<StoredAllocation>, StoreError> {
        self.allocations(region, year, fund, Some(unit_code)).await
    }

    /// The allocations of a budget, of one unit when `unit_code` names one, by unit then block.
    async fn allocations(
        &self,
        region: RegionCode,
        year: i32,
        fund: FundType,
        unit_code: Option<&str>,
    ) -> Result<Vec<StoredAllocation>, StoreError> {
        let mut query = budget_allocation::Entity::find()
            .filter(budget_allocation::Column::RegionCode.eq(platform::db::region_to_db(region)))
            .filter(budget_allocation::Column::Year.eq(year))
            .filter(budget_allocation::Column::FundType.eq(platform::db::fund_to_db(fund)));
        if let Some(unit_code) = unit_code {
            query = query.filter(budget_allocation::Column::UnitCode.eq(unit_code));
        }
        Ok(query
            .order_by_asc(budget_allocation::Column::UnitCode)
            .order_by_asc(budget_allocation::Column::Block)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| StoredAllocation {
                unit_code: row.unit_code,
                block: row.block,
                budget_version: row.budget_version,
                members_json: row.members_json,
                amount: Money::from_fen(row.amount_fen),
                quota_profile_json: row.quota_profile_json,
            })
            .collect())
    }

    /// Stores a version exactly as given; the primary key refuses a duplicate version.
    pub async fn insert(&self, budget: &StoredBudget) -> Result<(), StoreError> {
        version_row(budget)?.insert(&self.db).await?;
        Ok(())
    }
}

fn version_row(budget: &StoredBudget) -> Result<budget_version::ActiveModel, StoreError> {
    Ok(budget_version::ActiveModel {
        region_code: Set(platform::db::region_to_db(budget.region)),
        year: Set(budget.year),
        fund_type: Set(platform::db::fund_to_db(budget.fund)),
        version: Set(budget.version),
        mode: Set(budget.mode.clone()),
        total_fen: Set(budget.total.to_fen()?),
        document_json: Set(budget.document_json.clone()),
        reason: Set(budget.reason.clone()),
        created_by: Set(budget.created_by.clone()),
    })
}
