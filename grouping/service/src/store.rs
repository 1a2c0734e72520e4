//! Scheme activations per pooling region. An activation applies to cases discharged on or after
//! its effective date until the next activation of the region.

use kernel::{Date, RegionCode, RegionalTimeline};
use platform::db::{CorruptRow, region_from_db, region_to_db};
use platform::journal::{AuditEntry, Call, Journal, Once, RequestIdReused};
use sea_orm::entity::prelude::*;
use sea_orm::{QueryOrder, QuerySelect, Set};

pub mod grouping_activation {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "grouping_activation")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub region_code: i32,
        /// `yyyymmdd`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub effective_from: i32,
        pub scheme_id: String,
        pub version: String,
        pub activated_by: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A stored activation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredActivation {
    pub region: RegionCode,
    pub effective_from: Date,
    pub scheme_id: String,
    pub version: String,
    pub activated_by: String,
}

/// The activations of a region and the regions above it, nearest region first, each list by
/// effective date.
pub type ActivationTimeline = RegionalTimeline<StoredActivation>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error(transparent)]
    Corrupt(#[from] platform::db::CorruptRow),
    #[error(transparent)]
    Reused(#[from] RequestIdReused),
}

/// The grouping context's journal of idempotent writes and its audit log.
pub(crate) const JOURNAL: Journal = Journal::new("grouping");

/// A stored `yyyymmdd` date read back.
fn date_from_db(value: i32) -> Result<Date, CorruptRow> {
    Date::from_yyyymmdd(value).map_err(|error| CorruptRow {
        column: "effective_from",
        value: value.to_string(),
        reason: error.to_string(),
    })
}

fn activation_row(activation: &StoredActivation) -> grouping_activation::ActiveModel {
    grouping_activation::ActiveModel {
        region_code: Set(region_to_db(activation.region)),
        effective_from: Set(activation.effective_from.to_yyyymmdd()),
        scheme_id: Set(activation.scheme_id.clone()),
        version: Set(activation.version.clone()),
        activated_by: Set(activation.activated_by.clone()),
    }
}

fn from_row(row: grouping_activation::Model) -> Result<StoredActivation, StoreError> {
    Ok(StoredActivation {
        region: region_from_db(row.region_code)?,
        effective_from: date_from_db(row.effective_from)?,
        scheme_id: row.scheme_id,
        version: row.version,
        activated_by: row.activated_by,
    })
}

/// The scheme registry on a sea-orm connection.
#[derive(Clone)]
pub struct RegistryStore {
    db: DatabaseConnection,
}

impl RegistryStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Activations of a region, newest first: the first `limit` that take effect before the
    /// `yyyymmdd` date `before` (the primary key makes the date unique within a region).
    pub async fn activations(
        &self,
        region: RegionCode,
        before: Option<i32>,
        limit: u64,
    ) -> Result<Vec<StoredActivation>, StoreError> {
        let mut query = grouping_activation::Entity::find()
            .filter(grouping_activation::Column::RegionCode.eq(region_to_db(region)));
        if let Some(before) = before {
            query = query.filter(grouping_activation::Column::EffectiveFrom.lt(before));
        }
        query
            .order_by_desc(grouping_activation::Column::EffectiveFrom)
            .limit(limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(from_row)
            .collect()
    }

    /// The activation of `region` itself in force on `date`.
    pub async fn active_on(
        &self,
        region: RegionCode,
        date: Date,
    ) -> Result<Option<StoredActivation>, StoreError> {
        grouping_activation::Entity::find()
            .filter(grouping_activation::Column::RegionCode.eq(region_to_db(region)))
            .filter(grouping_activation::Column::EffectiveFrom.lte(date.to_yyyymmdd()))
            .order_by_desc(grouping_activation::Column::EffectiveFrom)
            .one(&self.db)
            .await?
            .map(from_row)
            .transpose()
    }

    pub async fn insert(&self, activation: &StoredActivation) -> Result<(), StoreError> {
        activation_row(activation).insert(&self.db).await?;
        Ok(())
    }
}

pub mod grouping_scheme {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "grouping_scheme")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub scheme_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: String,
        pub kind: String,
        pub name: String,
        /// A server path, or `upload` when the files are stored in `files_json`.
        pub source: String,
        /// Uploaded files: a JSON object of file name to UTF-8 text.
        pub files_json: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A scheme remembered by the registry, reloaded at start-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredScheme {
    pub scheme_id: String,
    pub version: String,
    pub kind: String,
    pub name: String,
    pub source: String,
    pub files_json: Option<String>,
}

impl RegistryStore {
    /// Remembers a loaded scheme (replacing an earlier load of the same id and version).
    pub async fn save_scheme(&self, scheme: &StoredScheme) -> Result<(), StoreError> {
        use sea_orm::sea_query::OnConflict;
        let model = grouping_scheme::ActiveModel {
            scheme_id: Set(scheme.scheme_id.clone()),
            version: Set(scheme.version.clone()),
            kind: Set(scheme.kind.clone()),
            name: Set(scheme.name.clone()),
            source: Set(scheme.source.clone()),
            files_json: Set(scheme.files_json.clone()),
        };
        grouping_scheme::Entity::insert(model)
            .on_conflict(
                OnConflict::columns([
                    grouping_scheme::Column::SchemeId,
                    grouping_scheme::Column::Version,
                ])
                .update_columns([
                    grouping_scheme::Column::Kind,
                    grouping_scheme::Column::Name,
                    grouping_scheme::Column::Source,
                    grouping_scheme::Column::FilesJson,
                ])
                .to_owned(),
            )
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Every remembered scheme.
    pub async fn schemes(&self) -> Result<Vec<StoredScheme>, StoreError> {
        Ok(grouping_scheme::Entity::find()
            .order_by_asc(grouping_scheme::Column::SchemeId)
            .order_by_asc(grouping_scheme::Column::Version)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| StoredScheme {
                scheme_id: row.scheme_id,
                version: row.version,
                kind: row.kind,
                name: row.name,
                source: row.source,
                files_json: row.files_json,
            })
            .collect())
    }

    /// The activation in force for `region` on `date`, looking from the region up to its
    /// prefecture and province (a province that pools at province level activates once for all).
    pub async fn active_for(
        &self,
        region: RegionCode,
        date: Date,
    ) -> Result<Option<StoredActivation>, StoreError> {
        Ok(self.timeline(region).await?.in_force(date).cloned())
    }

    /// Every activation of `region`, its prefecture and its province, read in one query: what
    /// [`RegistryStore::active_for`] decides from, for a batch of many dates.
    pub async fn timeline(&self, region: RegionCode) -> Result<ActivationTimeline, StoreError> {
        let mut timeline = ActivationTimeline::new(region);
        let rows = grouping_activation::Entity::find()
            .filter(
                grouping_activation::Column::RegionCode
                    .is_in(timeline.regions().iter().map(|c| region_to_db(*c))),
            )
            .order_by_asc(grouping_activation::Column::EffectiveFrom)
            .all(&self.db)
            .await?;
        for row in rows {
            let activation = from_row(row)?;
            // The query reads only the timeline's regions, so none is refused.
            let _ = timeline.insert(activation.region, activation.effective_from, activation);
        }
        Ok(timeline)
    }

    /// The stored response of `call` when the same request was already carried out; refused when
    /// its request id was used with another body or for another method.
    pub async fn replay(&self, call: &Call) -> Result<Option<Vec<u8>>, StoreError> {
        JOURNAL.replay(&self.db, call).await
    }

    /// Activates a scheme: the activation, its audit entry and the response of the request are
    /// written in one transaction, so a retry of the request replays the first answer and never
    /// activates twice.
    pub async fn activate(
        &self,
        activation: &StoredActivation,
        call: &Call,
        detail: String,
        response: Vec<u8>,
    ) -> Result<Once, StoreError> {
        JOURNAL
            .insert_once(&self.db, call, response, detail, activation_row(activation))
            .await
    }

    /// Remembers a loaded scheme once per request: the scheme, its audit entry and the response
    /// of the request are written in one transaction, so a retry of the request replays the first
    /// answer and never loads twice.
    pub async fn save_scheme_once(
        &self,
        scheme: &StoredScheme,
        call: &Call,
        detail: String,
        response: Vec<u8>,
    ) -> Result<Once, StoreError> {
        let row = grouping_scheme::ActiveModel {
            scheme_id: Set(scheme.scheme_id.clone()),
            version: Set(scheme.version.clone()),
            kind: Set(scheme.kind.clone()),
            name: Set(scheme.name.clone()),
            source: Set(scheme.source.clone()),
            files_json: Set(scheme.files_json.clone()),
        };
        JOURNAL
            .insert_once(&self.db, call, response, detail, row)
            .await
    }

    /// Whether a scheme version is remembered.
    pub async fn has_scheme(&self, scheme_id: &str, version: &str) -> Result<bool, StoreError> {
        Ok(
            grouping_scheme::Entity::find_by_id((scheme_id.to_owned(), version.to_owned()))
                .one(&self.db)
                .await?
                .is_some(),
        )
    }

    /// The audit log, oldest first.
    pub async fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(JOURNAL.all_audit_entries(&self.db).await?)
    }

    /// The connection the store and its journal use.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The latest effective date activated for `region`, if any.
    pub async fn latest_activation_date(
        &self,
        region: RegionCode,
    ) -> Result<Option<Date>, StoreError> {
        grouping_activation::Entity::find()
            .filter(grouping_activation::Column::RegionCode.eq(region_to_db(region)))
            .order_by_desc(grouping_activation::Column::EffectiveFrom)
            .one(&self.db)
            .await?
            .map(|row| Ok(date_from_db(row.effective_from)?))
            .transpose()
    }
}
