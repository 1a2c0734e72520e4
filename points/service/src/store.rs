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
    pub fn as_db(self) -> &'static str {
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
    #[error("version {version} does not exist")]
    NoSuchVersion { version: i32 },
    #[error("version {version} is {status}, only a draft can be activated")]
    NotDraft { version: i32, status: &'static str },
    #[error(
        "a version is already activated from {}; a new activation must start later, so that no \
         case valued before is decided again",
        date_text(*latest)
    )]
    NotAfterLatest { latest: i32 },
}

/// `yyyymmdd` as `YYYY-MM-DD`.
pub fn date_text(yyyymmdd: i32) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        yyyymmdd / 10_000,
        yyyymmdd / 100 % 100,
        yyyymmdd % 100
    )
}

fn from_row(row: points_table_version::Model) -> Result<StoredTable, StoreError> {
    Ok(StoredTable {
        region: region_from_db(row.region_code)?,
        year: row.year,
        fund: fund_from_db(row.fund_type)?,
        version: row.version,
        status: TableStatus::from_db(&row.status)?,
        document_json: row.document_json,
        effective_from: row.effective_from,
    })
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
        row.map(from_row).transpose()
    }

    /// Every version ever activated for `year` and `fund` in `regions`, each in force from its
    /// effective date until the next activation of its region; oldest effective date first.
    pub async fn activations(
        &self,
        regions: &[RegionCode],
        year: i32,
        fund: FundType,
    ) -> Result<Vec<Activation>, StoreError> {
        use sea_orm::QuerySelect;
        let rows: Vec<(i32, i32, Option<i32>)> = points_table_version::Entity::find()
            .select_only()
            .columns([
                points_table_version::Column::RegionCode,
                points_table_version::Column::Version,
                points_table_version::Column::EffectiveFrom,
            ])
            .filter(
                points_table_version::Column::RegionCode
                    .is_in(regions.iter().map(|region| region_to_db(*region))),
            )
            .filter(points_table_version::Column::Year.eq(year))
            .filter(points_table_version::Column::FundType.eq(fund_to_db(fund)))
            .filter(
                points_table_version::Column::Status
                    .is_in([TableStatus::Active.as_db(), TableStatus::Superseded.as_db()]),
            )
            .filter(points_table_version::Column::EffectiveFrom.is_not_null())
            .order_by_asc(points_table_version::Column::EffectiveFrom)
            .order_by_asc(points_table_version::Column::Version)
            .into_tuple()
            .all(&self.db)
            .await?;
        rows.into_iter()
            .filter_map(|(region, version, from)| from.map(|from| (region, version, from)))
            .map(|(region, version, effective_from)| {
                Ok(Activation {
                    region: region_from_db(region)?,
                    version,
                    effective_from,
                })
            })
            .collect()
    }

    /// Stores a version as given.
    pub async fn insert(&self, table: &StoredTable) -> Result<(), StoreError> {
        insert_row(&self.db, table).await?;
        Ok(())
    }
}

pub mod points_audit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "points_audit")]
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

pub mod points_request {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "points_request")]
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

/// A version that was activated: it values cases of its region discharged from `effective_from`
/// (`yyyymmdd`) until the next activation of the same region, year and fund.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Activation {
    pub region: RegionCode,
    pub version: i32,
    pub effective_from: i32,
}

/// The (region, year, fund) a table version belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TableKey {
    pub region: RegionCode,
    pub year: i32,
    pub fund: FundType,
}

/// One audited change, also the identity of an idempotent request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub at_unix_seconds: i64,
    pub caller_id: String,
    pub action: String,
    pub detail: String,
    pub request_id: String,
}

/// The outcome of an idempotent write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Idempotent<T> {
    /// The write was applied now.
    Applied(T),
    /// The same caller sent the same request id before; its stored response is returned unchanged.
    Replayed(Vec<u8>),
}

impl TableStore {
    /// The response stored for a request id of a caller, if any.
    pub async fn stored_response(
        &self,
        caller_id: &str,
        request_id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(
            points_request::Entity::find_by_id((caller_id.to_owned(), request_id.to_owned()))
                .one(&self.db)
                .await?
                .map(|row| row.response),
        )
    }

    /// Stores a new draft version numbered after the highest existing one. The version, its
    /// audit entry and the encoded response are written in one transaction, so a retry with the
    /// same request id replays the first answer and never stores a second draft.
    pub async fn put_draft(
        &self,
        key: TableKey,
        document_json: &str,
        audit: &AuditEntry,
        encode: &Encoder<'_>,
    ) -> Result<Idempotent<StoredTable>, StoreError> {
        self.idempotent(key, Effect::Put { document_json }, audit, encode)
            .await
    }

    /// Activates a draft from `effective_from` (`yyyymmdd`), which must be later than every
    /// earlier activation of the key; the version active before is superseded, and keeps valuing
    /// cases discharged before `effective_from`. Written with its audit entry and response in one
    /// transaction.
    pub async fn activate(
        &self,
        key: TableKey,
        version: i32,
        effective_from: i32,
        audit: &AuditEntry,
        encode: &Encoder<'_>,
    ) -> Result<Idempotent<StoredTable>, StoreError> {
        self.idempotent(
            key,
            Effect::Activate {
                version,
                effective_from,
            },
            audit,
            encode,
        )
        .await
    }

    async fn idempotent(
        &self,
        key: TableKey,
        effect: Effect<'_>,
        audit: &AuditEntry,
        encode: &Encoder<'_>,
    ) -> Result<Idempotent<StoredTable>, StoreError> {
        use sea_orm::TransactionTrait;
        if let Some(stored) = self
            .stored_response(&audit.caller_id, &audit.request_id)
            .await?
        {
            return Ok(Idempotent::Replayed(stored));
        }
        let txn = self.db.begin().await?;
        let written: Result<StoredTable, StoreError> = async {
            let table = apply(&txn, key, effect).await?;
            points_audit::ActiveModel {
                at_unix_seconds: Set(audit.at_unix_seconds),
                caller_id: Set(audit.caller_id.clone()),
                action: Set(audit.action.clone()),
                detail: Set(format!("{} version {}", audit.detail, table.version)),
                request_id: Set(audit.request_id.clone()),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            points_request::ActiveModel {
                caller_id: Set(audit.caller_id.clone()),
                request_id: Set(audit.request_id.clone()),
                method: Set(audit.action.clone()),
                response: Set(encode(&table)),
            }
            .insert(&txn)
            .await?;
            Ok(table)
        }
        .await;
        match written {
            Ok(table) => {
                txn.commit().await?;
                Ok(Idempotent::Applied(table))
            }
            Err(error) => {
                txn.rollback().await?;
                // A concurrent retry of the same request may have committed first; then its
                // answer is the answer.
                match self
                    .stored_response(&audit.caller_id, &audit.request_id)
                    .await?
                {
                    Some(stored) => Ok(Idempotent::Replayed(stored)),
                    None => Err(error),
                }
            }
        }
    }

    /// The audit log, oldest first.
    pub async fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(points_audit::Entity::find()
            .order_by_asc(points_audit::Column::Id)
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
}

async fn insert_row<C: ConnectionTrait>(db: &C, table: &StoredTable) -> Result<(), DbErr> {
    points_table_version::ActiveModel {
        region_code: Set(region_to_db(table.region)),
        year: Set(table.year),
        fund_type: Set(fund_to_db(table.fund)),
        version: Set(table.version),
        status: Set(table.status.as_db().to_owned()),
        document_json: Set(table.document_json.clone()),
        effective_from: Set(table.effective_from),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Encodes the response of an idempotent request from the table it wrote.
pub type Encoder<'a> = dyn Fn(&StoredTable) -> Vec<u8> + Send + Sync + 'a;

enum Effect<'a> {
    Put { document_json: &'a str },
    Activate { version: i32, effective_from: i32 },
}

fn same_key(key: TableKey) -> Select<points_table_version::Entity> {
    points_table_version::Entity::find()
        .filter(points_table_version::Column::RegionCode.eq(region_to_db(key.region)))
        .filter(points_table_version::Column::Year.eq(key.year))
        .filter(points_table_version::Column::FundType.eq(fund_to_db(key.fund)))
}

async fn apply(
    txn: &sea_orm::DatabaseTransaction,
    key: TableKey,
    effect: Effect<'_>,
) -> Result<StoredTable, StoreError> {
    match effect {
        Effect::Put { document_json } => {
            let latest = same_key(key)
                .order_by_desc(points_table_version::Column::Version)
                .one(txn)
                .await?
                .map_or(0, |row| row.version);
            let table = StoredTable {
                region: key.region,
                year: key.year,
                fund: key.fund,
                version: latest + 1,
                status: TableStatus::Draft,
                document_json: document_json.to_owned(),
                effective_from: None,
            };
            insert_row(txn, &table).await?;
            Ok(table)
        }
        Effect::Activate {
            version,
            effective_from,
        } => {
            let row = same_key(key)
                .filter(points_table_version::Column::Version.eq(version))
                .one(txn)
                .await?
                .ok_or(StoreError::NoSuchVersion { version })?;
            let status = TableStatus::from_db(&row.status)?;
            if status != TableStatus::Draft {
                return Err(StoreError::NotDraft {
                    version,
                    status: status.as_db(),
                });
            }
            // Cases keep the version they were valued with: an activation only looks forward.
            if let Some(latest) = same_key(key)
                .filter(points_table_version::Column::EffectiveFrom.is_not_null())
                .order_by_desc(points_table_version::Column::EffectiveFrom)
                .one(txn)
                .await?
                .and_then(|row| row.effective_from)
                && effective_from <= latest
            {
                return Err(StoreError::NotAfterLatest { latest });
            }
            for active in same_key(key)
                .filter(points_table_version::Column::Status.eq(TableStatus::Active.as_db()))
                .all(txn)
                .await?
            {
                let mut model: points_table_version::ActiveModel = active.into();
                model.status = Set(TableStatus::Superseded.as_db().to_owned());
                model.update(txn).await?;
            }
            let mut model: points_table_version::ActiveModel = row.into();
            model.status = Set(TableStatus::Active.as_db().to_owned());
            model.effective_from = Set(Some(effective_from));
            from_row(model.update(txn).await?)
        }
    }
}
