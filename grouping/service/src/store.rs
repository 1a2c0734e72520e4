//! Scheme activations per pooling region. An activation applies to cases discharged on or after
//! its effective date until the next activation of the region.

use kernel::RegionCode;
use platform::db::{region_from_db, region_to_db};
use platform::wire::Page;
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
    /// `yyyymmdd`.
    pub effective_from: i32,
    pub scheme_id: String,
    pub version: String,
    pub activated_by: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error(transparent)]
    Corrupt(#[from] platform::db::CorruptRow),
}

fn from_row(row: grouping_activation::Model) -> Result<StoredActivation, StoreError> {
    Ok(StoredActivation {
        region: region_from_db(row.region_code)?,
        effective_from: row.effective_from,
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

    /// Activations of a region, newest first.
    pub async fn activations(
        &self,
        region: RegionCode,
        page: Page,
    ) -> Result<Vec<StoredActivation>, StoreError> {
        grouping_activation::Entity::find()
            .filter(grouping_activation::Column::RegionCode.eq(region_to_db(region)))
            .order_by_desc(grouping_activation::Column::EffectiveFrom)
            .offset(page.offset)
            .limit(page.size)
            .all(&self.db)
            .await?
            .into_iter()
            .map(from_row)
            .collect()
    }

    /// The activation in force for `region` on `date` (`yyyymmdd`).
    pub async fn active_on(
        &self,
        region: RegionCode,
        date: i32,
    ) -> Result<Option<StoredActivation>, StoreError> {
        grouping_activation::Entity::find()
            .filter(grouping_activation::Column::RegionCode.eq(region_to_db(region)))
            .filter(grouping_activation::Column::EffectiveFrom.lte(date))
            .order_by_desc(grouping_activation::Column::EffectiveFrom)
            .one(&self.db)
            .await?
            .map(from_row)
            .transpose()
    }

    pub async fn insert(&self, activation: &StoredActivation) -> Result<(), StoreError> {
        grouping_activation::ActiveModel {
            region_code: Set(region_to_db(activation.region)),
            effective_from: Set(activation.effective_from),
            scheme_id: Set(activation.scheme_id.clone()),
            version: Set(activation.version.clone()),
            activated_by: Set(activation.activated_by.clone()),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }
}
