//! The case ledger: settlement lists as submitted and as valued, one row per version.
//! Money is BIGINT fen, points BIGINT scaled by 10^4.

use kernel::{FundType, Money, Points, RegionCode};
use platform::db::{fund_from_db, fund_to_db, region_from_db, region_to_db};
use platform::wire::Page;
use sea_orm::entity::prelude::*;
use sea_orm::{QueryOrder, QuerySelect, Set};

pub mod settlement_case {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settlement_case")]
    pub struct Model {
        pub region_code: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub hospital_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub list_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i32,
        pub fund_type: i32,
        /// `yyyymmdd`.
        pub discharge_date: i32,
        pub group_code: String,
        pub points_scaled: i64,
        pub total_fen: i64,
        pub status: String,
        pub content_hash: String,
        pub case_json: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A stored case version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCase {
    pub region: RegionCode,
    pub hospital_code: String,
    pub list_id: String,
    pub version: i32,
    pub fund: FundType,
    /// `yyyymmdd`.
    pub discharge_date: i32,
    pub group_code: String,
    pub points: Points,
    pub total_cost: Money,
    pub status: String,
    pub content_hash: String,
    pub case_json: String,
}

/// Filters of a case query.
#[derive(Clone, Debug, Default)]
pub struct CaseFilter {
    pub hospital_code: Option<String>,
    /// Inclusive `yyyymmdd` range of the discharge date.
    pub discharge_between: Option<(i32, i32)>,
    pub group_code: Option<String>,
    pub status: Option<String>,
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

/// The case ledger on a sea-orm connection.
#[derive(Clone)]
pub struct CaseStore {
    db: DatabaseConnection,
}

impl CaseStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Cases of a region, filtered, ordered by hospital, list id and version.
    pub async fn list(
        &self,
        region: RegionCode,
        filter: &CaseFilter,
        page: Page,
    ) -> Result<Vec<StoredCase>, StoreError> {
        let mut query = settlement_case::Entity::find()
            .filter(settlement_case::Column::RegionCode.eq(region_to_db(region)));
        if let Some(hospital) = &filter.hospital_code {
            query = query.filter(settlement_case::Column::HospitalCode.eq(hospital.clone()));
        }
        if let Some((from, to)) = filter.discharge_between {
            query = query.filter(settlement_case::Column::DischargeDate.between(from, to));
        }
        if let Some(group) = &filter.group_code {
            query = query.filter(settlement_case::Column::GroupCode.eq(group.clone()));
        }
        if let Some(status) = &filter.status {
            query = query.filter(settlement_case::Column::Status.eq(status.clone()));
        }
        query
            .order_by_asc(settlement_case::Column::HospitalCode)
            .order_by_asc(settlement_case::Column::ListId)
            .order_by_asc(settlement_case::Column::Version)
            .offset(page.offset)
            .limit(page.size)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| {
                Ok(StoredCase {
                    region: region_from_db(row.region_code)?,
                    hospital_code: row.hospital_code,
                    list_id: row.list_id,
                    version: row.version,
                    fund: fund_from_db(row.fund_type)?,
                    discharge_date: row.discharge_date,
                    group_code: row.group_code,
                    points: Points::from_scaled(row.points_scaled),
                    total_cost: Money::from_fen(row.total_fen),
                    status: row.status,
                    content_hash: row.content_hash,
                    case_json: row.case_json,
                })
            })
            .collect()
    }

    pub async fn insert(&self, case: &StoredCase) -> Result<(), StoreError> {
        settlement_case::ActiveModel {
            region_code: Set(region_to_db(case.region)),
            hospital_code: Set(case.hospital_code.clone()),
            list_id: Set(case.list_id.clone()),
            version: Set(case.version),
            fund_type: Set(fund_to_db(case.fund)),
            discharge_date: Set(case.discharge_date),
            group_code: Set(case.group_code.clone()),
            points_scaled: Set(case.points.to_scaled()?),
            total_fen: Set(case.total_cost.to_fen()?),
            status: Set(case.status.clone()),
            content_hash: Set(case.content_hash.clone()),
            case_json: Set(case.case_json.clone()),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }
}
