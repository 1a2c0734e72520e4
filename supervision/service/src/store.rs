//! Screening rules per region.

use kernel::RegionCode;
use platform::db::{region_from_db, region_to_db};
use platform::wire::Page;
use sea_orm::entity::prelude::*;
use sea_orm::{QueryOrder, QuerySelect, Set};

pub mod supervision_rule {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "supervision_rule")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub region_code: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub rule_id: String,
        pub name: String,
        pub level: String,
        pub parameters_json: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A stored screening rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRule {
    pub region: RegionCode,
    pub rule_id: String,
    pub name: String,
    /// `weak`, `general` or `strong`.
    pub level: String,
    pub parameters_json: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error(transparent)]
    Corrupt(#[from] platform::db::CorruptRow),
}

/// Screening rules on a sea-orm connection.
#[derive(Clone)]
pub struct RuleStore {
    db: DatabaseConnection,
}

impl RuleStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Rules of a region, ordered by rule id.
    pub async fn list(
        &self,
        region: RegionCode,
        page: Page,
    ) -> Result<Vec<StoredRule>, StoreError> {
        supervision_rule::Entity::find()
            .filter(supervision_rule::Column::RegionCode.eq(region_to_db(region)))
            .order_by_asc(supervision_rule::Column::RuleId)
            .offset(page.offset)
            .limit(page.size)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| {
                Ok(StoredRule {
                    region: region_from_db(row.region_code)?,
                    rule_id: row.rule_id,
                    name: row.name,
                    level: row.level,
                    parameters_json: row.parameters_json,
                })
            })
            .collect()
    }

    pub async fn insert(&self, rule: &StoredRule) -> Result<(), StoreError> {
        supervision_rule::ActiveModel {
            region_code: Set(region_to_db(rule.region)),
            rule_id: Set(rule.rule_id.clone()),
            name: Set(rule.name.clone()),
            level: Set(rule.level.clone()),
            parameters_json: Set(rule.parameters_json.clone()),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }
}
