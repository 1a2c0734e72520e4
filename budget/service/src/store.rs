//! Budget storage: versions of a budget per region, year and fund. Money is stored as BIGINT fen.

use kernel::{FundType, Money, RegionCode};
use sea_orm::entity::prelude::*;
use sea_orm::{QueryOrder, Set, TransactionTrait};

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

pub mod budget_request {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "budget_request")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub caller_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub request_id: String,
        pub method: String,
        pub response: Vec<u8>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod budget_audit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "budget_audit")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub at_unix_seconds: i64,
        pub caller_id: String,
        pub action: String,
        pub detail: String,
        pub request_id: String,
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

/// One audited write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub at_unix_seconds: i64,
    pub caller_id: String,
    pub action: String,
    pub detail: String,
    pub request_id: String,
}

/// The outcome of an idempotent write: done now, or the response stored by the first attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Idempotent {
    Written,
    Replayed(Vec<u8>),
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

    /// The response stored for a caller's request id, if that request was already carried out.
    pub async fn stored_response(
        &self,
        caller_id: &str,
        request_id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(
            budget_request::Entity::find_by_id((caller_id.to_owned(), request_id.to_owned()))
                .one(&self.db)
                .await?
                .map(|row| row.response),
        )
    }

    /// Writes a version, its audit entry and the encoded response in one transaction, so a retry
    /// with the same request id replays the first answer and never writes a second version.
    pub async fn insert_idempotent(
        &self,
        budget: &StoredBudget,
        audit: &AuditEntry,
        response: &[u8],
    ) -> Result<Idempotent, StoreError> {
        if let Some(stored) = self
            .stored_response(&audit.caller_id, &audit.request_id)
            .await?
        {
            return Ok(Idempotent::Replayed(stored));
        }
        let total_fen = budget.total.to_fen()?;
        let written: Result<(), DbErr> = async {
            let txn = self.db.begin().await?;
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
            .insert(&txn)
            .await?;
            budget_audit::ActiveModel {
                at_unix_seconds: Set(audit.at_unix_seconds),
                caller_id: Set(audit.caller_id.clone()),
                action: Set(audit.action.clone()),
                detail: Set(audit.detail.clone()),
                request_id: Set(audit.request_id.clone()),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            budget_request::ActiveModel {
                caller_id: Set(audit.caller_id.clone()),
                request_id: Set(audit.request_id.clone()),
                method: Set(audit.action.clone()),
                response: Set(response.to_vec()),
            }
            .insert(&txn)
            .await?;
            txn.commit().await
        }
        .await;
        self.settle(written, audit).await
    }

    /// The outcome of an idempotent write's transaction. When it failed because a concurrent
    /// attempt with the same request id committed first, that attempt's response is replayed.
    async fn settle(
        &self,
        written: Result<(), DbErr>,
        audit: &AuditEntry,
    ) -> Result<Idempotent, StoreError> {
        match written {
            Ok(()) => Ok(Idempotent::Written),
            Err(err) => match self
                .stored_response(&audit.caller_id, &audit.request_id)
                .await?
            {
                Some(stored) => Ok(Idempotent::Replayed(stored)),
                None => Err(err.into()),
            },
        }
    }

    /// Every audit entry, oldest first.
    pub async fn audit_entries(&self) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(budget_audit::Entity::find()
            .order_by_asc(budget_audit::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| AuditEntry {
                at_unix_seconds: row.at_unix_seconds,
                caller_id: row.caller_id,
                action: row.action,
                detail: row.detail,
                request_id: row.request_id,
            })
            .collect())
    }

    /// The latest version of each budget of a region (every year when `year` is `None`), ordered
    /// by year, then fund, one page at a time.
    pub async fn list_latest(
        &self,
        region: RegionCode,
        year: Option<i32>,
        offset: u64,
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
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        latest
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(from_row)
            .collect()
    }

    /// Stores (or replaces) the sharing policy of a region and year.
    pub async fn put_sharing_policy(
        &self,
        region: RegionCode,
        year: i32,
        policy_json: &str,
        updated_by: &str,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let region_code = platform::db::region_to_db(region);
        let txn = self.db.begin().await?;
        budget_sharing_policy::Entity::delete_many()
            .filter(budget_sharing_policy::Column::RegionCode.eq(region_code))
            .filter(budget_sharing_policy::Column::Year.eq(year))
            .exec(&txn)
            .await?;
        budget_sharing_policy::ActiveModel {
            region_code: Set(region_code),
            year: Set(year),
            policy_json: Set(policy_json.to_owned()),
            updated_by: Set(updated_by.to_owned()),
        }
        .insert(&txn)
        .await?;
        budget_audit::ActiveModel {
            at_unix_seconds: Set(audit.at_unix_seconds),
            caller_id: Set(audit.caller_id.clone()),
            action: Set(audit.action.clone()),
            detail: Set(audit.detail.clone()),
            request_id: Set(audit.request_id.clone()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(())
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
    /// encoded response, in one transaction; a retry with the same request id replays.
    #[allow(clippy::too_many_arguments)]
    pub async fn replace_allocation(
        &self,
        region: RegionCode,
        year: i32,
        fund: FundType,
        block: &str,
        lines: &[StoredAllocation],
        audit: &AuditEntry,
        response: &[u8],
    ) -> Result<Idempotent, StoreError> {
        if let Some(stored) = self
            .stored_response(&audit.caller_id, &audit.request_id)
            .await?
        {
            return Ok(Idempotent::Replayed(stored));
        }
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
        let written: Result<(), DbErr> = async {
            let txn = self.db.begin().await?;
            budget_allocation::Entity::delete_many()
                .filter(budget_allocation::Column::RegionCode.eq(region_code))
                .filter(budget_allocation::Column::Year.eq(year))
                .filter(budget_allocation::Column::FundType.eq(fund_type))
                .filter(budget_allocation::Column::Block.eq(block))
                .exec(&txn)
                .await?;
            for row in rows {
                row.insert(&txn).await?;
            }
            budget_audit::ActiveModel {
                at_unix_seconds: Set(audit.at_unix_seconds),
                caller_id: Set(audit.caller_id.clone()),
                action: Set(audit.action.clone()),
                detail: Set(audit.detail.clone()),
                request_id: Set(audit.request_id.clone()),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            budget_request::ActiveModel {
                caller_id: Set(audit.caller_id.clone()),
                request_id: Set(audit.request_id.clone()),
                method: Set(audit.action.clone()),
                response: Set(response.to_vec()),
            }
            .insert(&txn)
            .await?;
            txn.commit().await
        }
        .await;
        self.settle(written, audit).await
    }

    /// Every allocation of a region, year and fund, by unit then block.
    pub async fn allocations_in(
        &self,
        region: RegionCode,
        year: i32,
        fund: FundType,
    ) -> Result<Vec<StoredAllocation>, StoreError> {
        Ok(budget_allocation::Entity::find()
            .filter(budget_allocation::Column::RegionCode.eq(platform::db::region_to_db(region)))
            .filter(budget_allocation::Column::Year.eq(year))
            .filter(budget_allocation::Column::FundType.eq(platform::db::fund_to_db(fund)))
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

    /// The allocations of one hospital or alliance code in every block of a budget.
    pub async fn allocations_of(
        &self,
        region: RegionCode,
        year: i32,
        fund: FundType,
        unit_code: &str,
    ) -> Result<Vec<StoredAllocation>, StoreError> {
        Ok(budget_allocation::Entity::find()
            .filter(budget_allocation::Column::RegionCode.eq(platform::db::region_to_db(region)))
            .filter(budget_allocation::Column::Year.eq(year))
            .filter(budget_allocation::Column::FundType.eq(platform::db::fund_to_db(fund)))
            .filter(budget_allocation::Column::UnitCode.eq(unit_code))
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
