//! Which case versions a clearing took (`settlement_case_clearing`, m0022): one narrow row per
//! version with the run that took it, written in the clearing's transaction by one statement.
//!
//! The ledger row keeps the status it was valued with, so a clearing writes a few columns per case
//! instead of rewriting every wide row and its index entries. A version is cleared when a row here
//! names it or, for rows cleared before this table, when its own status says so; readers of the
//! ledger answer either as cleared ([`mark_read`], [`status_is`], [`not_taken`]). A later version
//! of a case is not named here, so it reads as what it was valued.

use std::collections::HashSet;

use kernel::{FundType, RegionCode};
use platform::db::{fund_to_db, region_to_db};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{ExprTrait, Query, SelectStatement};
use sea_orm::{Condition, ConnectionTrait, DbBackend, Statement};
use settlement_domain::ledger::LedgerStatus;

use super::ledger::{LedgerCase, StoreError, region_span, settlement_case, status};

pub mod settlement_case_clearing {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settlement_case_clearing")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub hospital_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub list_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i32,
        /// The version's region, which a distributed deployment shards the ledger by.
        #[sea_orm(primary_key, auto_increment = false)]
        pub region_code: i32,
        /// The clearing run that took the version first.
        pub run_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A version's identity: (hospital, list id, version).
pub type VersionKey = (String, String, i32);

/// Records that run `run_id` took the current valued versions of `region` (and the regions
/// inside it) for `fund` discharged in the inclusive `yyyymmdd` range: one INSERT … SELECT on the
/// database, on `conn` (the clearing's unit of work). A version already
/// taken keeps the run that took it first, so a re-run records nothing twice. Returns how many
/// versions were newly recorded.
///
/// The SELECT leaves out the versions already taken rather than the INSERT skipping them with
/// `ON CONFLICT DO NOTHING`: on PostgreSQL that makes every row a speculative insertion, and
/// marking a year of 1,000,000 cases took 5.2 s against 3.0–3.5 s (the clearing bench). A
/// version that a concurrent clearing records between the two is a unique violation, and this
/// clearing fails instead of sharing it.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    run_id: &str,
    region: RegionCode,
    fund: FundType,
    (discharge_from, discharge_to): (i32, i32),
) -> Result<u64, StoreError> {
    use settlement_case::Column as Case;
    use settlement_case_clearing::Column as Taken;
    let (from, to) = region_span(region);
    let taken = Query::select()
        .columns([
            Case::HospitalCode,
            Case::ListId,
            Case::Version,
            Case::RegionCode,
        ])
        .expr(Expr::val(run_id))
        .from(settlement_case::Entity)
        .and_where(Expr::col(Case::RegionCode).between(from, to))
        .and_where(Expr::col(Case::FundType).eq(fund_to_db(fund)))
        .and_where(Expr::col(Case::DischargeDate).between(discharge_from, discharge_to))
        .and_where(Expr::col(Case::IsCurrent).eq(true))
        .and_where(Expr::col(Case::Status).eq(status::VALUED))
        .and_where(not_taken())
        .to_owned();
    let key = [
        Taken::HospitalCode,
        Taken::ListId,
        Taken::Version,
        Taken::RegionCode,
    ];
    let insert = Query::insert()
        .into_table(settlement_case_clearing::Entity)
        .columns(key.into_iter().chain([Taken::RunId]))
        .select_from(taken)
        .map_err(|e| StoreError::Database(DbErr::Custom(e.to_string())))?
        .to_owned();
    Ok(conn.execute(&insert).await?.rows_affected())
}

/// The clearing rows of the `settlement_case` row a query is on, as a subquery.
fn taking_of_row() -> SelectStatement {
    use settlement_case::Column as Case;
    use settlement_case_clearing::Column as Taken;
    let same = |taken: Taken, case: Case| {
        Expr::col((settlement_case_clearing::Entity, taken)).equals((settlement_case::Entity, case))
    };
    Query::select()
        .expr(Expr::val(1))
        .from(settlement_case_clearing::Entity)
        .and_where(same(Taken::HospitalCode, Case::HospitalCode))
        .and_where(same(Taken::ListId, Case::ListId))
        .and_where(same(Taken::Version, Case::Version))
        .and_where(same(Taken::RegionCode, Case::RegionCode))
        .to_owned()
}

/// Whether a clearing took a valued `settlement_case` row, as a column of the query that reads
/// the row: what [`mark_read`] answers with a query of its own. A scalar subquery, one probe of
/// the primary key per row read: PostgreSQL may run an EXISTS as a hash of the whole clearing
/// table, built for every page (6 ms a page with 5,000 cleared cases at 200,000).
pub fn taken_valued() -> Expr {
    use sea_orm::sea_query::SubQueryStatement;
    let one = taking_of_row().limit(1).to_owned();
    Expr::col((settlement_case::Entity, settlement_case::Column::Status))
        .eq(status::VALUED)
        .and(Expr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(one))).is_not_null())
}

/// A `settlement_case` row no clearing recorded here took (a query that wants it uncleared also
/// asks for a status other than `cleared`).
pub fn not_taken() -> Expr {
    Expr::not_exists(taking_of_row())
}

/// A `settlement_case` row whose status as answered is `word`: cleared when a clearing took it,
/// valued when valued and not taken, any other word as stored.
pub fn status_is(word: &str) -> Condition {
    let stored = settlement_case::Column::Status;
    if word == status::CLEARED {
        Condition::any()
            .add(stored.eq(status::CLEARED))
            .add(Expr::exists(taking_of_row()))
    } else if word == status::VALUED {
        Condition::all()
            .add(stored.eq(status::VALUED))
            .add(Expr::not_exists(taking_of_row()))
    } else {
        Condition::all().add(stored.eq(word))
    }
}

/// One probe of the primary key per (hospital, list id, version, region) of the JSON parameter.
const TAKEN_POSTGRES: &str = "SELECT c.hospital_code, c.list_id, c.version \
     FROM json_array_elements($1::json) AS k(v) \
     JOIN settlement_case_clearing c ON c.hospital_code = k.v->>0 AND c.list_id = k.v->>1 \
       AND c.version = (k.v->>2)::int AND c.region_code = (k.v->>3)::int";

/// The same on SQLite; CROSS JOIN keeps the keys the outer loop.
const TAKEN_SQLITE: &str = "SELECT c.hospital_code, c.list_id, c.version \
     FROM json_each(?) AS k CROSS JOIN settlement_case_clearing c \
     WHERE c.hospital_code = k.value ->> 0 AND c.list_id = k.value ->> 1 \
       AND c.version = k.value ->> 2 AND c.region_code = k.value ->> 3";

/// Those of `keys` (hospital, list id, version, stored region) a clearing took, in one query.
pub async fn taken_among<C: ConnectionTrait>(
    conn: &C,
    keys: &[(&str, &str, i32, i32)],
) -> Result<HashSet<VersionKey>, StoreError> {
    if keys.is_empty() {
        return Ok(HashSet::new());
    }
    let json = serde_json::to_string(keys)
        .map_err(|e| StoreError::Database(DbErr::Custom(e.to_string())))?;
    let backend = conn.get_database_backend();
    let sql = if backend == DbBackend::Postgres {
        TAKEN_POSTGRES
    } else {
        TAKEN_SQLITE
    };
    conn.query_all_raw(Statement::from_sql_and_values(backend, sql, [json.into()]))
        .await?
        .iter()
        .map(|row| {
            Ok((
                row.try_get_by_index(0)?,
                row.try_get_by_index(1)?,
                row.try_get_by_index(2)?,
            ))
        })
        .collect::<Result<_, DbErr>>()
        .map_err(StoreError::Database)
}

/// The current version of each (hospital, list id) of the JSON parameter that a clearing took.
const CURRENT_TAKEN_POSTGRES: &str = "SELECT c.hospital_code, c.list_id \
     FROM json_array_elements($1::json) AS k(v) \
     JOIN settlement_case c ON c.hospital_code = k.v->>0 AND c.list_id = k.v->>1 AND c.is_current \
     JOIN settlement_case_clearing t ON t.hospital_code = c.hospital_code \
       AND t.list_id = c.list_id AND t.version = c.version AND t.region_code = c.region_code";

/// The same on SQLite, the keys leading as in [`TAKEN_SQLITE`].
const CURRENT_TAKEN_SQLITE: &str = "SELECT c.hospital_code, c.list_id \
     FROM json_each(?) AS k CROSS JOIN settlement_case c CROSS JOIN settlement_case_clearing t \
     WHERE c.hospital_code = k.value ->> 0 AND c.list_id = k.value ->> 1 AND c.is_current \
       AND t.hospital_code = c.hospital_code AND t.list_id = c.list_id \
       AND t.version = c.version AND t.region_code = c.region_code";

/// Those of `cases` (hospital, list id) whose current version a clearing took, in one query.
pub async fn current_taken<C: ConnectionTrait>(
    conn: &C,
    cases: &[(&str, &str)],
) -> Result<HashSet<(String, String)>, StoreError> {
    if cases.is_empty() {
        return Ok(HashSet::new());
    }
    let json = serde_json::to_string(cases)
        .map_err(|e| StoreError::Database(DbErr::Custom(e.to_string())))?;
    let backend = conn.get_database_backend();
    let sql = if backend == DbBackend::Postgres {
        CURRENT_TAKEN_POSTGRES
    } else {
        CURRENT_TAKEN_SQLITE
    };
    conn.query_all_raw(Statement::from_sql_and_values(backend, sql, [json.into()]))
        .await?
        .iter()
        .map(|row| Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?)))
        .collect::<Result<_, DbErr>>()
        .map_err(StoreError::Database)
}

/// Answers as cleared those of `cases` (versions read from the ledger) a clearing took: one query
/// for the valued ones, none when there are none.
pub async fn mark_read<C: ConnectionTrait>(
    conn: &C,
    cases: &mut [LedgerCase],
) -> Result<(), StoreError> {
    let keys: Vec<(&str, &str, i32, i32)> = cases
        .iter()
        .filter(|case| case.status == LedgerStatus::Valued)
        .map(|case| {
            (
                case.hospital_code.as_str(),
                case.list_id.as_str(),
                case.version,
                region_to_db(case.region),
            )
        })
        .collect();
    let taken = taken_among(conn, &keys).await?;
    if taken.is_empty() {
        return Ok(());
    }
    for case in cases {
        let key = (
            case.hospital_code.clone(),
            case.list_id.clone(),
            case.version,
        );
        if case.status == LedgerStatus::Valued && taken.contains(&key) {
            case.status = LedgerStatus::Cleared;
        }
    }
    Ok(())
}
