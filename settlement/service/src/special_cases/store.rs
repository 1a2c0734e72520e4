//! Storage of the expert registry and of special-case applications.
//!
//! An application is stored whole as JSON (the domain's `SpecialCaseApplication`, history
//! included) beside the columns queries filter on; every step rewrites the row inside the
//! journal's transaction, so the row and the audit entry never disagree.

use kernel::RegionCode;
use platform::db::{region_from_db, region_to_db};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, QuerySelect, Set};
use settlement_domain::special_case::{
    Expert, ReviewDecision, ReviewState, SpecialCaseApplication,
};

use crate::store::ledger::{StoreError, region_span};

pub mod settlement_expert {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settlement_expert")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub region_code: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub expert_id: String,
        pub name: String,
        pub specialty: String,
        pub institutions_json: String,
        pub active: bool,
        pub updated_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod settlement_special_case {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settlement_special_case")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub application_id: String,
        pub region_code: i32,
        pub hospital_code: String,
        pub list_id: String,
        pub year: i32,
        pub payment_mode: String,
        pub state: String,
        pub decision_json: String,
        pub application_json: String,
        pub updated_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// An expert of a region's registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpertRecord {
    pub region: RegionCode,
    pub expert_id: String,
    pub name: String,
    pub specialty: String,
    /// Institutions the expert works at; never drawn for their applications.
    pub institution_codes: Vec<String>,
    pub active: bool,
}

/// A stored application with the columns beside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredApplication {
    /// The region of the applying hospital's case.
    pub region: RegionCode,
    /// Clearing year: the year of the case's discharge.
    pub year: i32,
    /// `drg` or `dip`: which quota the application counted against.
    pub payment_mode: String,
    pub application: SpecialCaseApplication,
}

/// A decision bound into settlement, as year-end clearing applies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundDecision {
    pub hospital_code: String,
    pub list_id: String,
    pub decision: ReviewDecision,
}

fn corrupt(table: &'static str, key: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Database(DbErr::Custom(format!(
        "{table} row {key} is unreadable: {error}"
    )))
}

fn expert_from_model(row: settlement_expert::Model) -> Result<ExpertRecord, StoreError> {
    let institution_codes: Vec<String> = serde_json::from_str(&row.institutions_json)
        .map_err(|e| corrupt("settlement_expert", &row.expert_id, e))?;
    Ok(ExpertRecord {
        region: region_from_db(row.region_code)?,
        expert_id: row.expert_id,
        name: row.name,
        specialty: row.specialty,
        institution_codes,
        active: row.active,
    })
}

fn application_from_model(
    row: settlement_special_case::Model,
) -> Result<StoredApplication, StoreError> {
    let application: SpecialCaseApplication = serde_json::from_str(&row.application_json)
        .map_err(|e| corrupt("settlement_special_case", &row.application_id, e))?;
    Ok(StoredApplication {
        region: region_from_db(row.region_code)?,
        year: row.year,
        payment_mode: row.payment_mode,
        application,
    })
}

fn application_to_model(
    stored: &StoredApplication,
    updated_at: i64,
) -> Result<settlement_special_case::ActiveModel, StoreError> {
    let app = &stored.application;
    let application_json = serde_json::to_string(app)
        .map_err(|e| corrupt("settlement_special_case", &app.application_id, e))?;
    let decision_json = match app.decision() {
        None => String::new(),
        Some(decision) => serde_json::to_string(decision)
            .map_err(|e| corrupt("settlement_special_case", &app.application_id, e))?,
    };
    Ok(settlement_special_case::ActiveModel {
        application_id: Set(app.application_id.clone()),
        region_code: Set(region_to_db(stored.region)),
        hospital_code: Set(app.case.hospital_code.clone()),
        list_id: Set(app.case.list_id.clone()),
        year: Set(stored.year),
        payment_mode: Set(stored.payment_mode.clone()),
        state: Set(ReviewState::as_str(app.state()).to_owned()),
        decision_json: Set(decision_json),
        application_json: Set(application_json),
        updated_at: Set(updated_at),
    })
}

/// Adds or replaces an expert of `record.region`; returns the region's active experts after.
pub async fn put_expert<C: ConnectionTrait>(
    conn: &C,
    record: &ExpertRecord,
    updated_at: i64,
) -> Result<u32, StoreError> {
    let institutions_json = serde_json::to_string(&record.institution_codes)
        .map_err(|e| corrupt("settlement_expert", &record.expert_id, e))?;
    let region_code = region_to_db(record.region);
    let model = settlement_expert::ActiveModel {
        region_code: Set(region_code),
        expert_id: Set(record.expert_id.clone()),
        name: Set(record.name.clone()),
        specialty: Set(record.specialty.clone()),
        institutions_json: Set(institutions_json),
        active: Set(record.active),
        updated_at: Set(updated_at),
    };
    let existing = settlement_expert::Entity::find_by_id((region_code, record.expert_id.clone()))
        .one(conn)
        .await?;
    if existing.is_some() {
        model.update(conn).await?;
    } else {
        model.insert(conn).await?;
    }
    let active = settlement_expert::Entity::find()
        .filter(settlement_expert::Column::RegionCode.eq(region_code))
        .filter(settlement_expert::Column::Active.eq(true))
        .count(conn)
        .await?;
    Ok(u32::try_from(active).unwrap_or(u32::MAX))
}

/// The active experts registered for `region` itself, by id.
pub async fn list_experts<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
) -> Result<Vec<ExpertRecord>, StoreError> {
    settlement_expert::Entity::find()
        .filter(settlement_expert::Column::RegionCode.eq(region_to_db(region)))
        .filter(settlement_expert::Column::Active.eq(true))
        .order_by_asc(settlement_expert::Column::ExpertId)
        .all(conn)
        .await?
        .into_iter()
        .map(expert_from_model)
        .collect()
}

/// The pool reviewers of a case in `region` are drawn from: the active experts of the region and
/// of the prefecture and province containing it, one entry per (expert, institution).
pub async fn reviewer_pool<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
) -> Result<Vec<Expert>, StoreError> {
    let code = region_to_db(region);
    let mut levels = vec![code, code - code % 100, code - code % 10_000];
    levels.dedup();
    let rows = settlement_expert::Entity::find()
        .filter(settlement_expert::Column::RegionCode.is_in(levels))
        .filter(settlement_expert::Column::Active.eq(true))
        .order_by_asc(settlement_expert::Column::ExpertId)
        .all(conn)
        .await?;
    let mut pool = Vec::new();
    for row in rows {
        let record = expert_from_model(row)?;
        if record.institution_codes.is_empty() {
            pool.push(Expert {
                expert_id: record.expert_id.clone(),
                institution_code: String::new(),
            });
        }
        for institution in &record.institution_codes {
            pool.push(Expert {
                expert_id: record.expert_id.clone(),
                institution_code: institution.clone(),
            });
        }
    }
    Ok(pool)
}

/// Stores a new application; fails when the case already has one (unique per case).
pub async fn insert_application<C: ConnectionTrait>(
    conn: &C,
    stored: &StoredApplication,
    updated_at: i64,
) -> Result<(), StoreError> {
    application_to_model(stored, updated_at)?
        .insert(conn)
        .await?;
    Ok(())
}

/// Rewrites an application after a step.
pub async fn update_application<C: ConnectionTrait>(
    conn: &C,
    stored: &StoredApplication,
    updated_at: i64,
) -> Result<(), StoreError> {
    application_to_model(stored, updated_at)?
        .update(conn)
        .await?;
    Ok(())
}

/// One application, if stored.
pub async fn get_application<C: ConnectionTrait>(
    conn: &C,
    application_id: &str,
) -> Result<Option<StoredApplication>, StoreError> {
    settlement_special_case::Entity::find_by_id(application_id.to_owned())
        .one(conn)
        .await?
        .map(application_from_model)
        .transpose()
}

/// The application of a case, if one was made.
pub async fn application_of_case<C: ConnectionTrait>(
    conn: &C,
    hospital_code: &str,
    list_id: &str,
) -> Result<Option<StoredApplication>, StoreError> {
    settlement_special_case::Entity::find()
        .filter(settlement_special_case::Column::HospitalCode.eq(hospital_code))
        .filter(settlement_special_case::Column::ListId.eq(list_id))
        .one(conn)
        .await?
        .map(application_from_model)
        .transpose()
}

/// How many applications `hospital_code` made for cases of `year`.
pub async fn count_applications<C: ConnectionTrait>(
    conn: &C,
    hospital_code: &str,
    year: i32,
) -> Result<u64, StoreError> {
    Ok(settlement_special_case::Entity::find()
        .filter(settlement_special_case::Column::HospitalCode.eq(hospital_code))
        .filter(settlement_special_case::Column::Year.eq(year))
        .count(conn)
        .await?)
}

/// Discharges of `hospital_code` in `year`: its current inpatient cases in the ledger, the base
/// of its special-case quota.
pub async fn count_discharges<C: ConnectionTrait>(
    conn: &C,
    hospital_code: &str,
    year: i32,
) -> Result<u64, StoreError> {
    use crate::store::ledger::settlement_case;
    Ok(settlement_case::Entity::find()
        .filter(settlement_case::Column::HospitalCode.eq(hospital_code))
        .filter(settlement_case::Column::IsCurrent.eq(true))
        .filter(settlement_case::Column::RecordKind.eq("inpatient"))
        .filter(
            settlement_case::Column::DischargeDate.between(year * 10_000, year * 10_000 + 9_999),
        )
        .count(conn)
        .await?)
}

/// Applications of `region` (and the regions inside it), optionally of one hospital and in one
/// state, ordered by application id: the first `limit` after the id `after`.
pub async fn list_applications<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    (hospital_code, state): (Option<&str>, Option<&str>),
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<StoredApplication>, StoreError> {
    let (from, to) = region_span(region);
    let mut query = settlement_special_case::Entity::find()
        .filter(settlement_special_case::Column::RegionCode.between(from, to));
    if let Some(hospital) = hospital_code {
        query = query.filter(settlement_special_case::Column::HospitalCode.eq(hospital));
    }
    if let Some(state) = state {
        query = query.filter(settlement_special_case::Column::State.eq(state));
    }
    if let Some(after) = after {
        query = query.filter(settlement_special_case::Column::ApplicationId.gt(after));
    }
    query
        .order_by_asc(settlement_special_case::Column::ApplicationId)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(application_from_model)
        .collect()
}

/// The decisions bound into settlement for cases of `year` (discharge year) in `region` and the
/// regions inside it, ordered by (hospital, list id): what year-end clearing applies.
pub async fn bound_decisions<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    year: i32,
) -> Result<Vec<BoundDecision>, StoreError> {
    let (from, to) = region_span(region);
    let rows = settlement_special_case::Entity::find()
        .filter(settlement_special_case::Column::RegionCode.between(from, to))
        .filter(settlement_special_case::Column::Year.eq(year))
        .filter(settlement_special_case::Column::State.eq(ReviewState::Bound.as_str()))
        .order_by_asc(settlement_special_case::Column::HospitalCode)
        .order_by_asc(settlement_special_case::Column::ListId)
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|row| {
            let decision: ReviewDecision = serde_json::from_str(&row.decision_json)
                .map_err(|e| corrupt("settlement_special_case", &row.application_id, e))?;
            Ok(BoundDecision {
                hospital_code: row.hospital_code,
                list_id: row.list_id,
                decision,
            })
        })
        .collect()
}
