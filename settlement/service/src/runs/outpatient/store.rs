//! Storage of the outpatient enrolment (a version per region, year and fund), the ledger read
//! the outpatient year end counts (the current ordinary and chronic ambulatory settlements) and
//! the year's stored monthly outpatient prepayments it deducts.

use kernel::{FundType, RegionCode};
use platform::db::{fund_to_db, region_to_db};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, FromQueryResult, QueryOrder, QuerySelect, Set};
use settlement_domain::ledger::RecordKind;

use crate::runs::store::{RunRow, StatementRow, kind, list_statements, settlement_run};
use crate::store::ledger::{StoreError, region_span, settlement_case};

pub mod settlement_outpatient_enrolment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settlement_outpatient_enrolment")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub region_code: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub year: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub fund_type: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i32,
        /// The domain's `OutpatientEnrolment`.
        pub enrolment_json: String,
        pub created_by: String,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub use settlement_outpatient_enrolment::Model as EnrolmentRow;

/// The latest enrolment of (region, year, fund), if any.
pub async fn latest_enrolment<C: ConnectionTrait>(
    conn: &C,
    (region, year, fund): (RegionCode, i32, FundType),
) -> Result<Option<EnrolmentRow>, StoreError> {
    use settlement_outpatient_enrolment::Column;
    Ok(settlement_outpatient_enrolment::Entity::find()
        .filter(Column::RegionCode.eq(region_to_db(region)))
        .filter(Column::Year.eq(year))
        .filter(Column::FundType.eq(fund_to_db(fund)))
        .order_by_desc(Column::Version)
        .one(conn)
        .await?)
}

/// Stores `enrolment_json` as the next version of (region, year, fund); returns the version.
pub async fn put_enrolment<C: ConnectionTrait>(
    conn: &C,
    key: (RegionCode, i32, FundType),
    enrolment_json: String,
    (created_by, created_at): (&str, i64),
) -> Result<i32, StoreError> {
    let version = latest_enrolment(conn, key)
        .await?
        .map_or(1, |latest| latest.version + 1);
    let (region, year, fund) = key;
    settlement_outpatient_enrolment::ActiveModel {
        region_code: Set(region_to_db(region)),
        year: Set(year),
        fund_type: Set(fund_to_db(fund)),
        version: Set(version),
        enrolment_json: Set(enrolment_json),
        created_by: Set(created_by.to_owned()),
        created_at: Set(created_at),
    }
    .insert(conn)
    .await?;
    Ok(version)
}

/// A current ambulatory settlement as the outpatient year end reads it.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct AmbulatoryRow {
    pub hospital_code: String,
    pub list_id: String,
    pub record_kind: String,
    /// `yyyymmdd` of the settlement.
    pub discharge_date: i32,
    pub fund_fen: i64,
    pub case_json: String,
}

/// The current ordinary, chronic outpatient and pharmacy settlements of `region` and the regions inside it
/// for `fund`, settled in the inclusive `yyyymmdd` range, in (hospital, list id) order.
pub async fn ambulatory_settlements<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    fund: FundType,
    (from_date, to_date): (i32, i32),
) -> Result<Vec<AmbulatoryRow>, StoreError> {
    use settlement_case::Column;
    let (from, to) = region_span(region);
    Ok(settlement_case::Entity::find()
        .select_only()
        .columns([
            Column::HospitalCode,
            Column::ListId,
            Column::RecordKind,
            Column::DischargeDate,
            Column::FundFen,
            Column::CaseJson,
        ])
        .filter(Column::RegionCode.between(from, to))
        .filter(Column::FundType.eq(fund_to_db(fund)))
        .filter(Column::DischargeDate.between(from_date, to_date))
        .filter(Column::IsCurrent.eq(true))
        .filter(Column::RecordKind.is_in([
            RecordKind::Outpatient.as_str(),
            RecordKind::ChronicOutpatient.as_str(),
            RecordKind::Pharmacy.as_str(),
        ]))
        .order_by_asc(Column::HospitalCode)
        .order_by_asc(Column::ListId)
        .into_model::<AmbulatoryRow>()
        .all(conn)
        .await?)
}

/// The monthly outpatient prepayment runs of exactly `region` for `fund` and the months of
/// `year`, in month order (a month is prepaid once), each with its statements in code order.
pub async fn prepayments_of_year<C: ConnectionTrait>(
    conn: &C,
    (region, year, fund): (RegionCode, i32, FundType),
) -> Result<Vec<(RunRow, Vec<StatementRow>)>, StoreError> {
    use settlement_run::Column;
    let runs = settlement_run::Entity::find()
        .filter(Column::Kind.eq(kind::OUTPATIENT_PREPAYMENT))
        .filter(Column::RegionCode.eq(region_to_db(region)))
        .filter(Column::FundType.eq(fund_to_db(fund)))
        .filter(Column::Period.between(year * 100 + 1, year * 100 + 12))
        .order_by_asc(Column::Period)
        .order_by_asc(Column::Version)
        .all(conn)
        .await?;
    let mut with_statements = Vec::with_capacity(runs.len());
    for run in runs {
        let statements = list_statements(conn, &run.run_id, None, None).await?;
        with_statements.push((run, statements));
    }
    Ok(with_statements)
}
