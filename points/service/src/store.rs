//! Valuation-table versions per region, year and fund.

use kernel::{FundType, RegionCode};
use platform::db::{fund_from_db, fund_to_db, region_from_db, region_to_db};
use platform::journal::{
    AuditEntry, Call, Effect as JournalEffect, Journal, Once, RequestIdReused,
};
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
        kernel::Date::from_yyyymmdd(*latest)
            .map_or_else(|_| latest.to_string(), |date| date.to_string())
    )]
    NotAfterLatest { latest: i32 },
    #[error(transparent)]
    Reused(#[from] RequestIdReused),
}

/// The points context's journal of idempotent writes and its audit log.
pub(crate) const JOURNAL: Journal = Journal::new("points");

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

impl TableStore {
    /// Stores a new draft version numbered after the highest existing one. The version, its
    /// audit entry and the encoded response are written in one transaction, so a retry of the
    /// request replays the first answer and never stores a second draft.
    pub async fn put_draft<G>(
        &self,
        key: TableKey,
        document_json: &str,
        call: &Call,
        encode: G,
    ) -> Result<Once, StoreError>
    where
        G: FnOnce(&StoredTable) -> Vec<u8> + Send + 'static,
    {
        let effect = Effect::Put {
            document_json: document_json.to_owned(),
        };
        self.idempotent(key, effect, call, encode).await
    }

    /// Activates a draft from `effective_from` (`yyyymmdd`), which must be later than every
    /// earlier activation of the key; the version active before is superseded, and keeps valuing
    /// cases discharged before `effective_from`. Written with its audit entry and response in one
    /// transaction.
    pub async fn activate<G>(
        &self,
        key: TableKey,
        version: i32,
        effective_from: i32,
        call: &Call,
        encode: G,
    ) -> Result<Once, StoreError>
    where
        G: FnOnce(&StoredTable) -> Vec<u8> + Send + 'static,
    {
        let effect = Effect::Activate {
            version,
            effective_from,
        };
        self.idempotent(key, effect, call, encode).await
    }

    async fn idempotent<G>(
        &self,
        key: TableKey,
        effect: Effect,
        call: &Call,
        encode: G,
    ) -> Result<Once, StoreError>
    where
        G: FnOnce(&StoredTable) -> Vec<u8> + Send + 'static,
    {
        JOURNAL
            .run_once(
                &self.db,
                call,
                move |txn| -> JournalEffect<'_, StoreError> {
                    Box::pin(async move {
                        let table = apply(txn, key, effect).await?;
                        let detail = format!(
                            "region {} year {} fund {} version {}",
                            key.region, key.year, key.fund, table.version
                        );
                        Ok((encode(&table), detail))
                    })
                },
            )
            .await
    }

    /// The stored response of `call` when the same request was already carried out; refused when
    /// its request id was used with another body or for another method.
    pub async fn replay(&self, call: &Call) -> Result<Option<Vec<u8>>, StoreError> {
        JOURNAL.replay(&self.db, call).await
    }

    /// The audit log, oldest first.
    pub async fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(JOURNAL.all_audit_entries(&self.db).await?)
    }

    /// The connection the store and its journal use.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
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

enum Effect {
    Put { document_json: String },
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
    effect: Effect,
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
                document_json,
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
