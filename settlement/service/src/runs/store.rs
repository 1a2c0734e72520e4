//! Storage of runs: versioned settlement policies and hospital year inputs, runs with their
//! totals, identity check, inputs and digest, and one statement row per hospital carrying its
//! dispute. Runs are never edited after they are stored, except for the `is_final` flag a month
//! close sets and the dispute columns of a statement.

use kernel::{FundType, RegionCode};
use platform::db::{fund_to_db, region_to_db};
use sea_orm::entity::prelude::*;
use sea_orm::{Condition, ConnectionTrait, FromQueryResult, QueryOrder, QuerySelect, Set};

use crate::store::case_clearing;
use crate::store::ledger::{StoreError, region_span, settlement_case, status};

pub mod settlement_policy {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settlement_policy")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub region_code: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub year: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub fund_type: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i32,
        pub policy_json: String,
        pub reason: String,
        pub created_by: String,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod settlement_year_inputs {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settlement_year_inputs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub region_code: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub year: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub fund_type: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i32,
        pub inputs_json: String,
        pub created_by: String,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod settlement_run {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settlement_run")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub run_id: String,
        pub kind: String,
        pub region_code: i32,
        pub fund_type: i32,
        /// `yyyymm` for prepayment, `yyyy00` for clearing.
        pub period: i32,
        pub version: i32,
        pub is_final: bool,
        pub reason: String,
        pub totals_json: String,
        pub identity_json: String,
        pub statements_digest: String,
        pub inputs_json: String,
        /// The domain's whole statement, for the record.
        pub result_json: String,
        pub created_by: String,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod settlement_statement {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settlement_statement")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub run_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub hospital_code: String,
        pub statement_json: String,
        pub balance_fen: i64,
        pub dispute_state: String,
        /// The domain's `StatementDispute`; empty while the statement is only issued.
        pub dispute_json: String,
        /// Its run's region, which a distributed deployment shards the statements by.
        pub region_code: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub use settlement_run::Model as RunRow;
pub use settlement_statement::Model as StatementRow;

/// Run kinds.
pub mod kind {
    pub const PREPAYMENT: &str = "prepayment";
    pub const CLEARING: &str = "clearing";
    pub const OUTPATIENT: &str = "outpatient";
    pub const OUTPATIENT_PREPAYMENT: &str = "outpatient_prepayment";
}

/// The latest version of a document kept in versions per (region, year, fund), a policy or a
/// year's hospital inputs: `E` is its table, `columns` its (region, year, fund, version) columns.
async fn latest_version<E: EntityTrait, C: ConnectionTrait>(
    conn: &C,
    (region, year, fund): (RegionCode, i32, FundType),
    [region_code, year_column, fund_type, version]: [E::Column; 4],
) -> Result<Option<E::Model>, StoreError> {
    Ok(E::find()
        .filter(region_code.eq(region_to_db(region)))
        .filter(year_column.eq(year))
        .filter(fund_type.eq(fund_to_db(fund)))
        .order_by_desc(version)
        .one(conn)
        .await?)
}

/// The latest stored policy version and its JSON.
pub async fn latest_policy<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    year: i32,
    fund: FundType,
) -> Result<Option<(i32, String)>, StoreError> {
    use settlement_policy::Column;
    let columns = [
        Column::RegionCode,
        Column::Year,
        Column::FundType,
        Column::Version,
    ];
    Ok(
        latest_version::<settlement_policy::Entity, _>(conn, (region, year, fund), columns)
            .await?
            .map(|row| (row.version, row.policy_json)),
    )
}

/// The version after the latest stored one (1 when none is).
fn next_version(latest: Option<(i32, String)>) -> i32 {
    latest.map_or(1, |(version, _)| version + 1)
}

/// Stores the next policy version; returns it.
pub async fn put_policy<C: ConnectionTrait>(
    conn: &C,
    (region, year, fund): (RegionCode, i32, FundType),
    policy_json: &str,
    reason: &str,
    created_by: &str,
    created_at: i64,
) -> Result<i32, StoreError> {
    let version = next_version(latest_policy(conn, region, year, fund).await?);
    settlement_policy::ActiveModel {
        region_code: Set(region_to_db(region)),
        year: Set(year),
        fund_type: Set(fund_to_db(fund)),
        version: Set(version),
        policy_json: Set(policy_json.to_owned()),
        reason: Set(reason.to_owned()),
        created_by: Set(created_by.to_owned()),
        created_at: Set(created_at),
    }
    .insert(conn)
    .await?;
    Ok(version)
}

/// The latest stored hospital year inputs version and its JSON.
pub async fn latest_year_inputs<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    year: i32,
    fund: FundType,
) -> Result<Option<(i32, String)>, StoreError> {
    use settlement_year_inputs::Column;
    let columns = [
        Column::RegionCode,
        Column::Year,
        Column::FundType,
        Column::Version,
    ];
    Ok(
        latest_version::<settlement_year_inputs::Entity, _>(conn, (region, year, fund), columns)
            .await?
            .map(|row| (row.version, row.inputs_json)),
    )
}

/// Stores the next year inputs version; returns it.
pub async fn put_year_inputs<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    year: i32,
    fund: FundType,
    inputs_json: &str,
    created_by: &str,
    created_at: i64,
) -> Result<i32, StoreError> {
    let version = next_version(latest_year_inputs(conn, region, year, fund).await?);
    settlement_year_inputs::ActiveModel {
        region_code: Set(region_to_db(region)),
        year: Set(year),
        fund_type: Set(fund_to_db(fund)),
        version: Set(version),
        inputs_json: Set(inputs_json.to_owned()),
        created_by: Set(created_by.to_owned()),
        created_at: Set(created_at),
    }
    .insert(conn)
    .await?;
    Ok(version)
}

/// The latest run of a kind, region, fund and period.
pub async fn latest_run<C: ConnectionTrait>(
    conn: &C,
    run_kind: &str,
    region: RegionCode,
    fund: FundType,
    period: i32,
) -> Result<Option<RunRow>, StoreError> {
    Ok(settlement_run::Entity::find()
        .filter(settlement_run::Column::Kind.eq(run_kind))
        .filter(settlement_run::Column::RegionCode.eq(region_to_db(region)))
        .filter(settlement_run::Column::FundType.eq(fund_to_db(fund)))
        .filter(settlement_run::Column::Period.eq(period))
        .order_by_desc(settlement_run::Column::Version)
        .one(conn)
        .await?)
}

/// Stores a run and its statements (pass a transaction: both or neither).
pub async fn insert_run<C: ConnectionTrait>(
    conn: &C,
    run: RunRow,
    statements: Vec<StatementRow>,
) -> Result<(), StoreError> {
    settlement_run::ActiveModel::from(run).insert(conn).await?;
    let mut rows = statements.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<settlement_statement::ActiveModel> =
            rows.by_ref().take(500).map(Into::into).collect();
        settlement_statement::Entity::insert_many(chunk)
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// One run, if stored.
pub async fn get_run<C: ConnectionTrait>(
    conn: &C,
    run_id: &str,
) -> Result<Option<RunRow>, StoreError> {
    Ok(settlement_run::Entity::find_by_id(run_id.to_owned())
        .one(conn)
        .await?)
}

/// Where a run sits in the order of [`list_runs`]: (created at, period, version, run id).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunKey(pub i64, pub i32, pub i32, pub String);

impl RunKey {
    pub fn of(run: &RunRow) -> Self {
        RunKey(run.created_at, run.period, run.version, run.run_id.clone())
    }
}

/// Runs of `region` and the regions inside it, newest first (then by period and version, latest
/// first, then by run id): the first `limit` after `after`.
pub async fn list_runs<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    run_kind: Option<&str>,
    after: Option<&RunKey>,
    limit: u64,
) -> Result<Vec<RunRow>, StoreError> {
    use settlement_run::Column;
    let (from, to) = region_span(region);
    let mut query = settlement_run::Entity::find().filter(Column::RegionCode.between(from, to));
    if let Some(run_kind) = run_kind {
        query = query.filter(Column::Kind.eq(run_kind));
    }
    if let Some(RunKey(created_at, period, version, run_id)) = after {
        // The order mixes directions, which one row comparison cannot say: spelled out.
        query = query.filter(
            Condition::any().add(Column::CreatedAt.lt(*created_at)).add(
                Condition::all().add(Column::CreatedAt.eq(*created_at)).add(
                    Condition::any().add(Column::Period.lt(*period)).add(
                        Condition::all().add(Column::Period.eq(*period)).add(
                            Condition::any().add(Column::Version.lt(*version)).add(
                                Condition::all()
                                    .add(Column::Version.eq(*version))
                                    .add(Column::RunId.gt(run_id.clone())),
                            ),
                        ),
                    ),
                ),
            ),
        );
    }
    Ok(query
        .order_by_desc(Column::CreatedAt)
        .order_by_desc(Column::Period)
        .order_by_desc(Column::Version)
        .order_by_asc(Column::RunId)
        .limit(limit)
        .all(conn)
        .await?)
}

/// Marks a run final (its month closed).
pub async fn mark_final<C: ConnectionTrait>(conn: &C, run_id: &str) -> Result<(), StoreError> {
    settlement_run::Entity::update_many()
        .col_expr(settlement_run::Column::IsFinal, Expr::value(true))
        .filter(settlement_run::Column::RunId.eq(run_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// The final prepayment runs of `region` (exactly) for the months of `year`.
pub async fn final_prepayments<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    fund: FundType,
    year: i32,
) -> Result<Vec<RunRow>, StoreError> {
    Ok(settlement_run::Entity::find()
        .filter(settlement_run::Column::Kind.eq(kind::PREPAYMENT))
        .filter(settlement_run::Column::RegionCode.eq(region_to_db(region)))
        .filter(settlement_run::Column::FundType.eq(fund_to_db(fund)))
        .filter(settlement_run::Column::Period.between(year * 100 + 1, year * 100 + 12))
        .filter(settlement_run::Column::IsFinal.eq(true))
        .order_by_asc(settlement_run::Column::Period)
        .all(conn)
        .await?)
}

/// Statements of a run, by hospital code, optionally one hospital's; with `page` (after which
/// hospital code, how many) one page of them.
pub async fn list_statements<C: ConnectionTrait>(
    conn: &C,
    run_id: &str,
    hospital_code: Option<&str>,
    page: Option<(Option<&str>, u64)>,
) -> Result<Vec<StatementRow>, StoreError> {
    let mut query =
        settlement_statement::Entity::find().filter(settlement_statement::Column::RunId.eq(run_id));
    if let Some(hospital_code) = hospital_code {
        query = query.filter(settlement_statement::Column::HospitalCode.eq(hospital_code));
    }
    query = query.order_by_asc(settlement_statement::Column::HospitalCode);
    if let Some((after, limit)) = page {
        if let Some(after) = after {
            query = query.filter(settlement_statement::Column::HospitalCode.gt(after));
        }
        query = query.limit(limit);
    }
    Ok(query.all(conn).await?)
}

/// Stores a statement's dispute after a step.
pub async fn update_dispute<C: ConnectionTrait>(
    conn: &C,
    run_id: &str,
    hospital_code: &str,
    state: &str,
    dispute_json: &str,
) -> Result<(), StoreError> {
    settlement_statement::Entity::update_many()
        .col_expr(
            settlement_statement::Column::DisputeState,
            Expr::value(state),
        )
        .col_expr(
            settlement_statement::Column::DisputeJson,
            Expr::value(dispute_json),
        )
        .filter(settlement_statement::Column::RunId.eq(run_id))
        .filter(settlement_statement::Column::HospitalCode.eq(hospital_code))
        .exec(conn)
        .await?;
    Ok(())
}

/// What a run reads of a case: the valuation columns, never the list itself.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct RunCase {
    pub hospital_code: String,
    pub list_id: String,
    pub payment_mode: String,
    pub group_code: String,
    pub points_scaled: i64,
    pub total_fen: i64,
    pub individual_burden_fen: i64,
    pub fund_fen: i64,
    pub amount_fen: Option<i64>,
    pub scheme_version: String,
    pub table_version: String,
    pub person_id: String,
    /// `yyyymmdd`.
    pub admission_date: i32,
    /// `yyyymmdd`.
    pub discharge_date: i32,
    pub planned_readmission: bool,
    /// The per-diem programme of the stay (empty for none) and the prior episode days it was
    /// valued with.
    pub episode_programme: String,
    pub prior_episode_days: i32,
    /// `valued`; `cleared` for a case a clearing took before clearings were recorded apart
    /// (`case_clearing` records the others).
    pub status: String,
}

/// Current valued (or already cleared) inpatient cases of `region` and the regions inside it for
/// `fund`, discharged in the inclusive `yyyymmdd` range, in (hospital, list id) order.
pub async fn run_cases<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    fund: FundType,
    discharge_from: i32,
    discharge_to: i32,
) -> Result<Vec<RunCase>, StoreError> {
    let period = discharged_between(discharge_from, discharge_to);
    valued_cases_of(conn, region, fund, period).await
}

/// The narrowing of [`run_cases`]: discharged in the inclusive `yyyymmdd` range.
fn discharged_between(discharge_from: i32, discharge_to: i32) -> Condition {
    Condition::all()
        .add(settlement_case::Column::DischargeDate.between(discharge_from, discharge_to))
}

/// The current valued (or cleared) cases of `region` and the regions inside it for `fund` that
/// `narrow` keeps, as a run reads them, in (hospital, list id) order.
async fn valued_cases_of<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    fund: FundType,
    narrow: Condition,
) -> Result<Vec<RunCase>, StoreError> {
    Ok(valued_cases_query(region, fund, narrow)
        .into_model::<RunCase>()
        .all(conn)
        .await?)
}

/// The statement of [`valued_cases_of`]. Its filters are all columns of
/// `settlement_case_run_scan` (m0025), compared on the index entry before a row is fetched.
fn valued_cases_query(
    region: RegionCode,
    fund: FundType,
    narrow: Condition,
) -> sea_orm::Select<settlement_case::Entity> {
    use settlement_case::Column;
    let (from, to) = region_span(region);
    settlement_case::Entity::find()
        .select_only()
        .columns([
            Column::HospitalCode,
            Column::ListId,
            Column::PaymentMode,
            Column::GroupCode,
            Column::PointsScaled,
            Column::TotalFen,
            Column::IndividualBurdenFen,
            Column::FundFen,
            Column::AmountFen,
            Column::SchemeVersion,
            Column::TableVersion,
            Column::PersonId,
            Column::AdmissionDate,
            Column::DischargeDate,
            Column::PlannedReadmission,
            Column::EpisodeProgramme,
            Column::PriorEpisodeDays,
            Column::Status,
        ])
        .filter(Column::RegionCode.between(from, to))
        .filter(Column::FundType.eq(fund_to_db(fund)))
        .filter(narrow)
        .filter(Column::IsCurrent.eq(true))
        .filter(Column::Status.is_in([status::VALUED, status::CLEARED]))
        .order_by_asc(Column::HospitalCode)
        .order_by_asc(Column::ListId)
}

/// The number of current inpatient cases of `region` and the regions inside it for `fund`,
/// discharged in the inclusive `yyyymmdd` range, that are stored unvalued, and the first `listed`
/// of them (hospital, list id, why) in (hospital, list id) order.
pub async fn unvalued_cases<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    fund: FundType,
    (discharge_from, discharge_to): (i32, i32),
    listed: u64,
) -> Result<(u64, Vec<(String, String, String)>), StoreError> {
    use settlement_case::Column;
    let (from, to) = region_span(region);
    let query = settlement_case::Entity::find()
        .filter(Column::RegionCode.between(from, to))
        .filter(Column::FundType.eq(fund_to_db(fund)))
        .filter(Column::DischargeDate.between(discharge_from, discharge_to))
        .filter(Column::IsCurrent.eq(true))
        .filter(Column::Status.eq(status::UNVALUED));
    let count = query.clone().count(conn).await?;
    if count == 0 {
        return Ok((0, Vec::new()));
    }
    let first = query
        .select_only()
        .columns([Column::HospitalCode, Column::ListId, Column::ValuationError])
        .order_by_asc(Column::HospitalCode)
        .order_by_asc(Column::ListId)
        .limit(listed)
        .into_tuple::<(String, String, String)>()
        .all(conn)
        .await?;
    Ok((count, first))
}

/// Current valued (or cleared) inpatient cases discharged after `discharged_after` and admitted
/// on or before `admitted_until` (`yyyymmdd`): the stays after a run's period that may readmit
/// one of its cases (DOMAIN.md §5 rules across stays).
pub async fn later_stays<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    fund: FundType,
    discharged_after: i32,
    admitted_until: i32,
) -> Result<Vec<RunCase>, StoreError> {
    valued_cases_of(
        conn,
        region,
        fund,
        later_than(discharged_after, admitted_until),
    )
    .await
}

/// The narrowing of [`later_stays`]: discharged after `discharged_after`, admitted by
/// `admitted_until`.
fn later_than(discharged_after: i32, admitted_until: i32) -> Condition {
    use settlement_case::Column;
    Condition::all()
        .add(Column::DischargeDate.gt(discharged_after))
        .add(Column::AdmissionDate.between(1, admitted_until))
}

/// Records run `run_id` as clearing the current valued cases it read: one narrow row per case
/// version ([`case_clearing`]), the ledger rows left as they are. A re-run records only the
/// versions no clearing took before. Returns how many it recorded.
pub async fn mark_cleared<C: ConnectionTrait>(
    conn: &C,
    run_id: &str,
    region: RegionCode,
    fund: FundType,
    discharges: (i32, i32),
) -> Result<u64, StoreError> {
    case_clearing::record(conn, run_id, region, fund, discharges).await
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbBackend, QueryTrait};

    use super::*;
    use crate::store::query_plan::{index_columns, migrated_sqlite, plan};

    /// A prepayment's later stays and a run's period compare every filter on the run scan
    /// index's entry: the index carries the admission date and the status after the current
    /// flag (m0025), so a row is fetched only when the run keeps it.
    #[tokio::test]
    async fn a_runs_scans_filter_on_the_run_scan_index() {
        let db = migrated_sqlite().await;
        let columns = index_columns(&db, "settlement_case_run_scan").await;
        assert_eq!(
            columns,
            [
                "region_code",
                "fund_type",
                "discharge_date",
                "is_current",
                "admission_date",
                "status"
            ]
        );
        let province: RegionCode = "460000".parse().expect("region");
        let later =
            valued_cases_query(province, FundType::Resident, later_than(20250131, 20250215));
        let period = valued_cases_query(
            province,
            FundType::Resident,
            discharged_between(20250101, 20250131),
        );
        for query in [later, period] {
            let steps = plan(&db, query.build(DbBackend::Sqlite)).await;
            assert!(
                steps.starts_with(
                    "SEARCH settlement_case USING INDEX settlement_case_run_scan \
                     (region_code>? AND region_code<?)"
                ),
                "{steps}"
            );
        }
    }
}
