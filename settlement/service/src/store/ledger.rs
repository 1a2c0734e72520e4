//! The case ledger: every stored version of every settlement list, as received and as valued.
//!
//! Money is BIGINT fen, points BIGINT scaled by 10^4, dates `yyyymmdd` integers. Exactly one
//! version of a case is current (`is_current`); runs and queries read current versions only, and
//! a correction flips the flag in the same transaction that inserts the new version, so no reader
//! ever sees a case twice or not at all.

use crate::store::Database;
use crate::store::case_clearing;
use crate::store::uploads::{self, ChunkMark};
use crate::store::warnings::{self, KeptWarnings};
use kernel::{FundType, Money, Points, RegionCode};
use platform::db::{fund_from_db, fund_to_db, region_from_db, region_to_db};
use sea_orm::entity::prelude::*;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, FromQueryResult, QueryOrder, QueryResult,
    QuerySelect, Statement,
};
use settlement_domain::ledger::{LedgerStatus, RecordKind, UnknownWord};
use settlement_domain::list_head::ListHead;

mod lookup;
mod pages;
#[cfg(test)]
mod plans;

pub use pages::ListedCase;

pub mod settlement_case {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settlement_case")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub hospital_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub list_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i32,
        pub region_code: i32,
        pub is_current: bool,
        pub record_kind: String,
        pub fund_type: i32,
        /// `yyyymmdd`.
        pub discharge_date: i32,
        pub payment_mode: String,
        pub group_code: String,
        pub points_scaled: i64,
        pub total_fen: i64,
        pub individual_burden_fen: i64,
        pub fund_fen: i64,
        /// What a money mode pays (per diem, day surgery, fixed rate, fee-for-service, paid at
        /// cost); NULL for a case paid in points or not valued.
        pub amount_fen: Option<i64>,
        /// 医保编号 of an inpatient case (empty for ambulatory records).
        pub person_id: String,
        /// `yyyymmdd` of an inpatient case's admission (0 for ambulatory records).
        pub admission_date: i32,
        pub planned_readmission: bool,
        /// Per-diem programme of a valued stay (empty for none).
        pub episode_programme: String,
        /// Prior episode days the stay was valued with.
        pub prior_episode_days: i32,
        pub status: String,
        pub valuation_error: String,
        pub scheme_version: String,
        pub table_version: String,
        pub valuation_json: String,
        pub content_hash: String,
        pub case_json: String,
        pub request_id: String,
        pub stored_at: i64,
        /// The inpatient list without its fee lines (m0024); NULL for ambulatory records and
        /// for lists stored before.
        pub list_head_json: Option<String>,
        /// What the list's fee lines add up to per charge category, beside its head.
        pub line_totals_json: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The stored words of the statuses a case goes through
/// ([`settlement_domain::ledger::LedgerStatus`]), for queries.
pub mod status {
    use settlement_domain::ledger::LedgerStatus;

    pub const VALUED: &str = LedgerStatus::Valued.as_str();
    pub const UNVALUED: &str = LedgerStatus::Unvalued.as_str();
    pub const CLEARED: &str = LedgerStatus::Cleared.as_str();
    pub const RECORDED: &str = LedgerStatus::Recorded.as_str();
}

/// A stored case version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerCase {
    pub region: RegionCode,
    pub hospital_code: String,
    pub list_id: String,
    pub version: i32,
    pub record_kind: RecordKind,
    pub fund: FundType,
    /// `yyyymmdd` (settlement date for ambulatory records).
    pub discharge_date: i32,
    /// `drg`, `dip`, `per_diem`, `day_surgery`, `basic_level_disease`, `fee_for_service`, or
    /// empty when unvalued or ambulatory.
    pub payment_mode: String,
    pub group_code: String,
    pub points: Points,
    pub total_cost: Money,
    /// Personal account + personal cash.
    pub individual_burden: Money,
    /// Σ fund payments as claimed fee-for-service.
    pub fund_amount: Money,
    /// What the valuation's mode pays in money; `None` for a case paid in points.
    pub amount: Option<Money>,
    /// The stay facts the rules across stays read (empty / 0 / false for ambulatory records).
    pub person_id: String,
    /// `yyyymmdd`.
    pub admission_date: i32,
    pub planned_readmission: bool,
    /// The per-diem programme the valuation named (`psychiatric`, `rehabilitation`, `hospice`;
    /// empty for none or not valued) and the prior episode days it was valued with.
    pub episode_programme: String,
    pub prior_episode_days: u32,
    pub status: LedgerStatus,
    pub valuation_error: String,
    /// Grouping scheme `id@version`.
    pub scheme_version: String,
    /// Points table `id@version`.
    pub table_version: String,
    pub valuation_json: String,
    pub content_hash: String,
    pub case_json: String,
    pub request_id: String,
    pub stored_at: i64,
    /// The inpatient list's head, stored beside it; `None` for ambulatory records and for lists
    /// stored before heads were.
    pub head: Option<StoredHead>,
}

/// An inpatient list's head as the ledger keeps it
/// ([`settlement_domain::list_head::ListHead`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredHead {
    /// The list's canonical JSON without its fee lines.
    pub json: String,
    /// The line totals per charge category, as [`ListHead::totals_json`] writes them.
    pub line_totals_json: String,
}

impl From<&ListHead> for StoredHead {
    fn from(head: &ListHead) -> Self {
        Self {
            json: head.json.clone(),
            line_totals_json: head.totals_json(),
        }
    }
}

/// Where a case sits in the order of listings and exports: its stored region code, hospital and
/// list id. Unique among current versions (one current version per hospital and list id), so a
/// listing resumed after a key neither repeats nor skips a case, whatever was stored between its
/// pages; only a correction that moves a case to another pooling region moves its key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct CaseKey(pub i32, pub String, pub String);

impl CaseKey {
    /// The key of a stored case.
    pub fn of(case: &LedgerCase) -> Self {
        CaseKey(
            region_to_db(case.region),
            case.hospital_code.clone(),
            case.list_id.clone(),
        )
    }
}

/// Filters of a case query.
#[derive(Clone, Debug, Default)]
pub struct CaseFilter {
    pub hospital_code: Option<String>,
    /// Inclusive `yyyymmdd` range of the discharge date.
    pub discharge_between: Option<(i32, i32)>,
    pub group_code: Option<String>,
    pub status: Option<String>,
    pub fund: Option<FundType>,
    /// The record kinds asked for; every kind when empty. Compared on the listing index (m0023),
    /// so a read of a month's ambulatory care does not fetch its inpatient lists.
    pub record_kinds: Vec<RecordKind>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error(transparent)]
    Corrupt(#[from] platform::db::CorruptRow),
    #[error("amount does not fit storage: {0}")]
    Amount(#[from] kernel::AmountError),
    /// A version of a case was stored by another writer meanwhile.
    #[error("a case version was stored concurrently")]
    VersionTaken,
}

/// The stored codes of `region` and every region inside it, as an inclusive range.
pub fn region_span(region: RegionCode) -> (i32, i32) {
    let code = region_to_db(region);
    match region.level() {
        kernel::RegionLevel::Province => (code, code + 9_999),
        kernel::RegionLevel::Prefecture => (code, code + 99),
        kernel::RegionLevel::County => (code, code),
    }
}

fn episode_days_to_db(days: u32) -> Result<i32, StoreError> {
    i32::try_from(days).map_err(|_| {
        StoreError::Corrupt(platform::db::CorruptRow {
            column: "prior_episode_days",
            value: days.to_string(),
            reason: "does not fit storage".to_owned(),
        })
    })
}

/// Rows of one multi-row INSERT: 31 values each stays under SQLite's 32,766 bound parameters.
const ROWS_PER_INSERT: usize = 1_000;

/// The multi-row INSERTs of `cases` as current versions, [`ROWS_PER_INSERT`] rows each; none
/// when there are no cases.
///
/// Written out here rather than built from active models: a chunk's statement carries a thousand
/// stored lists, and the models and the query builder each copied every one of them once more.
/// The values go in [`COPY_COLUMNS`] order, as PostgreSQL's COPY rows do ([`copy_row`]).
fn current_versions_insert<'c>(
    backend: DbBackend,
    cases: impl IntoIterator<Item = &'c LedgerCase>,
) -> Result<Vec<Statement>, StoreError> {
    let cases: Vec<&LedgerCase> = cases.into_iter().collect();
    cases
        .chunks(ROWS_PER_INSERT)
        .map(|rows| {
            let mut values = Vec::with_capacity(rows.len() * COPY_COLUMNS.split(',').count());
            for case in rows {
                push_row_values(&mut values, case)?;
            }
            Ok(Statement::from_sql_and_values(
                backend,
                insert_sql(backend, rows.len()),
                values,
            ))
        })
        .collect()
}

/// `INSERT INTO settlement_case` of `rows` rows of [`COPY_COLUMNS`], with the backend's
/// placeholders.
fn insert_sql(backend: DbBackend, rows: usize) -> String {
    use std::fmt::Write as _;
    let columns = COPY_COLUMNS.split(',').count();
    let mut sql = format!("INSERT INTO settlement_case ({COPY_COLUMNS}) VALUES ");
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            match backend {
                // Writing into a String cannot fail.
                DbBackend::Postgres => {
                    let _ = write!(sql, "${}", row * columns + column + 1);
                }
                _ => sql.push('?'),
            }
        }
        sql.push(')');
    }
    sql
}

/// The values of `case`'s row as the current version, in [`COPY_COLUMNS`] order.
fn push_row_values(values: &mut Vec<sea_orm::Value>, case: &LedgerCase) -> Result<(), StoreError> {
    use sea_orm::Value;
    let text = |text: &str| Value::String(Some(text.to_owned()));
    values.extend([
        text(&case.hospital_code),
        text(&case.list_id),
        Value::Int(Some(case.version)),
        Value::Int(Some(region_to_db(case.region))),
        Value::Bool(Some(true)),
        text(case.record_kind.as_str()),
        Value::Int(Some(fund_to_db(case.fund))),
        Value::Int(Some(case.discharge_date)),
        text(&case.payment_mode),
        text(&case.group_code),
        Value::BigInt(Some(case.points.to_scaled()?)),
        Value::BigInt(Some(case.total_cost.to_fen()?)),
        Value::BigInt(Some(case.individual_burden.to_fen()?)),
        Value::BigInt(Some(case.fund_amount.to_fen()?)),
        Value::BigInt(case.amount.map(Money::to_fen).transpose()?),
        text(&case.person_id),
        Value::Int(Some(case.admission_date)),
        Value::Bool(Some(case.planned_readmission)),
        text(&case.episode_programme),
        Value::Int(Some(episode_days_to_db(case.prior_episode_days)?)),
        text(case.status.as_str()),
        text(&case.valuation_error),
        text(&case.scheme_version),
        text(&case.table_version),
        text(&case.valuation_json),
        text(&case.content_hash),
        text(&case.case_json),
        text(&case.request_id),
        Value::BigInt(Some(case.stored_at)),
        Value::String(case.head.as_ref().map(|head| head.json.clone())),
        Value::String(case.head.as_ref().map(|head| head.line_totals_json.clone())),
    ]);
    Ok(())
}

/// The ledger's columns in COPY order.
const COPY_COLUMNS: &str = "hospital_code, list_id, version, region_code, is_current, record_kind, \
     fund_type, discharge_date, payment_mode, group_code, points_scaled, total_fen, \
     individual_burden_fen, fund_fen, amount_fen, person_id, admission_date, planned_readmission, \
     episode_programme, prior_episode_days, status, valuation_error, scheme_version, table_version, \
     valuation_json, content_hash, case_json, request_id, stored_at, list_head_json, \
     line_totals_json";

fn sqlx_failure(error: sea_orm::sqlx::Error) -> StoreError {
    match &error {
        sea_orm::sqlx::Error::Database(database) if database.is_unique_violation() => {
            StoreError::VersionTaken
        }
        _ => StoreError::Database(DbErr::Custom(format!("postgres: {error}"))),
    }
}

fn taken_or_database(error: DbErr) -> StoreError {
    let unique = matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    ) || {
        let text = error.to_string().to_ascii_lowercase();
        text.contains("unique") || text.contains("duplicate key")
    };
    if unique {
        StoreError::VersionTaken
    } else {
        StoreError::Database(error)
    }
}

/// Appends `text` as a field of COPY's text format: backslash, newline, carriage return and tab
/// escaped, everything else as is.
fn copy_field(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (at, byte) in bytes.iter().enumerate() {
        let escaped: &[u8] = match byte {
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..at]);
        out.extend_from_slice(escaped);
        start = at + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// One row of COPY's text format.
fn copy_row(out: &mut Vec<u8>, case: &LedgerCase) -> Result<(), StoreError> {
    use std::io::Write as _;
    let field = |out: &mut Vec<u8>, text: &str| {
        copy_field(out, text);
        out.push(b'\t');
    };
    field(out, &case.hospital_code);
    field(out, &case.list_id);
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{}\t{}\tt\t", case.version, region_to_db(case.region));
    field(out, case.record_kind.as_str());
    let _ = write!(out, "{}\t{}\t", fund_to_db(case.fund), case.discharge_date);
    field(out, &case.payment_mode);
    field(out, &case.group_code);
    let _ = write!(
        out,
        "{}\t{}\t{}\t{}\t",
        case.points.to_scaled()?,
        case.total_cost.to_fen()?,
        case.individual_burden.to_fen()?,
        case.fund_amount.to_fen()?
    );
    match case.amount {
        // COPY's text format spells NULL `\N`.
        None => out.extend_from_slice(b"\\N\t"),
        Some(amount) => {
            let _ = write!(out, "{}\t", amount.to_fen()?);
        }
    }
    field(out, &case.person_id);
    let _ = write!(
        out,
        "{}\t{}\t",
        case.admission_date,
        if case.planned_readmission { "t" } else { "f" }
    );
    field(out, &case.episode_programme);
    let _ = write!(out, "{}\t", case.prior_episode_days);
    field(out, case.status.as_str());
    field(out, &case.valuation_error);
    field(out, &case.scheme_version);
    field(out, &case.table_version);
    field(out, &case.valuation_json);
    field(out, &case.content_hash);
    field(out, &case.case_json);
    field(out, &case.request_id);
    let _ = write!(out, "{}\t", case.stored_at);
    match &case.head {
        None => out.extend_from_slice(b"\\N\t\\N"),
        Some(head) => {
            field(out, &head.json);
            // The last column: `field` would end it with a tab.
            copy_field(out, &head.line_totals_json);
        }
    }
    out.push(b'\n');
    Ok(())
}

/// PostgreSQL's [`CaseStore::store_versions`]: COPY every version in, then retire the earlier
/// versions of the corrected cases, in one transaction on the pool's connection.
async fn copy_versions(
    pool: &sea_orm::sqlx::PgPool,
    cases: &[LedgerCase],
    kept: &[KeptWarnings],
    mark: Option<&ChunkMark>,
) -> Result<(), StoreError> {
    let mut rows = Vec::with_capacity(cases.len() * 2_560);
    for case in cases {
        copy_row(&mut rows, case)?;
    }
    let corrected: Vec<(&str, &str, i32)> = cases
        .iter()
        .filter(|case| case.version > 1)
        .map(|case| {
            (
                case.hospital_code.as_str(),
                case.list_id.as_str(),
                case.version,
            )
        })
        .collect();
    let mut txn = pool.begin().await.map_err(sqlx_failure)?;
    let mut copy = txn
        .copy_in_raw(&format!(
            "COPY settlement_case ({COPY_COLUMNS}) FROM STDIN WITH (FORMAT text)"
        ))
        .await
        .map_err(sqlx_failure)?;
    copy.send(rows).await.map_err(sqlx_failure)?;
    copy.finish().await.map_err(sqlx_failure)?;
    if !corrected.is_empty() {
        let json = serde_json::to_string(&corrected)
            .map_err(|e| StoreError::Database(DbErr::Custom(e.to_string())))?;
        sea_orm::sqlx::query(
            "UPDATE settlement_case c SET is_current = false \
             FROM json_array_elements($1::json) AS k(v) \
             WHERE c.hospital_code = k.v->>0 AND c.list_id = k.v->>1 \
               AND c.version < (k.v->>2)::int AND c.is_current",
        )
        .bind(json)
        .execute(&mut *txn)
        .await
        .map_err(sqlx_failure)?;
    }
    warnings::insert_postgres(&mut txn, kept)
        .await
        .map_err(sqlx_failure)?;
    if let Some(mark) = mark {
        sea_orm::sqlx::query(
            "INSERT INTO settlement_upload_chunk \
             (caller_id, request_id, chunk_index, records, fingerprint) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&mark.caller_id)
        .bind(&mark.request_id)
        .bind(mark.chunk_index)
        .bind(mark.records)
        .bind(&mark.fingerprint)
        .execute(&mut *txn)
        .await
        .map_err(sqlx_failure)?;
    }
    txn.commit().await.map_err(sqlx_failure)
}

/// A stored ledger word read back as its type.
fn stored_word<T: std::str::FromStr<Err = UnknownWord>>(
    column: &'static str,
    word: &str,
) -> Result<T, StoreError> {
    word.parse().map_err(|e: UnknownWord| {
        StoreError::from(platform::db::CorruptRow {
            column,
            value: word.to_owned(),
            reason: e.to_string(),
        })
    })
}

fn from_model(row: settlement_case::Model) -> Result<LedgerCase, StoreError> {
    Ok(LedgerCase {
        region: region_from_db(row.region_code)?,
        hospital_code: row.hospital_code,
        list_id: row.list_id,
        version: row.version,
        record_kind: stored_word("record_kind", &row.record_kind)?,
        fund: fund_from_db(row.fund_type)?,
        discharge_date: row.discharge_date,
        payment_mode: row.payment_mode,
        group_code: row.group_code,
        points: Points::from_scaled(row.points_scaled),
        total_cost: Money::from_fen(row.total_fen),
        individual_burden: Money::from_fen(row.individual_burden_fen),
        fund_amount: Money::from_fen(row.fund_fen),
        amount: row.amount_fen.map(Money::from_fen),
        person_id: row.person_id,
        admission_date: row.admission_date,
        planned_readmission: row.planned_readmission,
        episode_programme: row.episode_programme,
        prior_episode_days: u32::try_from(row.prior_episode_days).map_err(|_| {
            platform::db::CorruptRow {
                column: "prior_episode_days",
                value: row.prior_episode_days.to_string(),
                reason: "is negative".to_owned(),
            }
        })?,
        status: stored_word("status", &row.status)?,
        valuation_error: row.valuation_error,
        scheme_version: row.scheme_version,
        table_version: row.table_version,
        valuation_json: row.valuation_json,
        content_hash: row.content_hash,
        case_json: row.case_json,
        request_id: row.request_id,
        stored_at: row.stored_at,
        head: match (row.list_head_json, row.line_totals_json) {
            (Some(json), Some(line_totals_json)) => Some(StoredHead {
                json,
                line_totals_json,
            }),
            _ => None,
        },
    })
}

/// A whole stored row and whether a clearing took it ([`case_clearing::taken_valued`], read in the
/// row's own statement).
struct TakenRow(settlement_case::Model, bool);

impl FromQueryResult for TakenRow {
    fn from_query_result(row: &QueryResult, prefix: &str) -> Result<Self, DbErr> {
        Ok(TakenRow(
            settlement_case::Model::from_query_result(row, prefix)?,
            row.try_get(prefix, "taken")?,
        ))
    }
}

impl TakenRow {
    /// The version as the ledger answers it: cleared when a clearing took it.
    fn into_case(self) -> Result<LedgerCase, StoreError> {
        let TakenRow(row, taken) = self;
        let mut case = from_model(row)?;
        if taken {
            case.status = LedgerStatus::Cleared;
        }
        Ok(case)
    }
}

/// `query`'s rows with whether a clearing took each, in one statement.
fn with_taken(
    query: sea_orm::Select<settlement_case::Entity>,
) -> sea_orm::Selector<sea_orm::SelectModel<TakenRow>> {
    query
        .expr_as(case_clearing::taken_valued(), "taken")
        .into_model::<TakenRow>()
}

/// Stored rows as the ledger answers them: each version a clearing took reads as cleared.
async fn read_back<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<settlement_case::Model>,
) -> Result<Vec<LedgerCase>, StoreError> {
    let mut cases = rows
        .into_iter()
        .map(from_model)
        .collect::<Result<Vec<_>, _>>()?;
    case_clearing::mark_read(conn, &mut cases).await?;
    Ok(cases)
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

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Every version of one case, oldest first.
    pub async fn versions(
        &self,
        hospital_code: &str,
        list_id: &str,
    ) -> Result<Vec<LedgerCase>, StoreError> {
        let query = settlement_case::Entity::find()
            .filter(settlement_case::Column::HospitalCode.eq(hospital_code))
            .filter(settlement_case::Column::ListId.eq(list_id))
            .order_by_asc(settlement_case::Column::Version);
        with_taken(query)
            .all(&self.db)
            .await?
            .into_iter()
            .map(TakenRow::into_case)
            .collect()
    }

    /// The current version of one case, if stored.
    pub async fn current<C: ConnectionTrait>(
        conn: &C,
        hospital_code: &str,
        list_id: &str,
    ) -> Result<Option<LedgerCase>, StoreError> {
        let query = settlement_case::Entity::find()
            .filter(settlement_case::Column::HospitalCode.eq(hospital_code))
            .filter(settlement_case::Column::ListId.eq(list_id))
            .filter(settlement_case::Column::IsCurrent.eq(true));
        with_taken(query)
            .one(conn)
            .await?
            .map(TakenRow::into_case)
            .transpose()
    }

    /// Stores `case` as the current version, retiring the previous current version, on `conn`
    /// (pass a transaction so both happen or neither). The primary key makes a second writer of
    /// the same version fail instead of storing it twice.
    pub async fn insert_current<C: ConnectionTrait>(
        conn: &C,
        case: &LedgerCase,
    ) -> Result<(), StoreError> {
        // Insert first: a duplicate version fails on the primary key before anything changes.
        for insert in current_versions_insert(conn.get_database_backend(), [case])? {
            conn.execute_raw(insert).await?;
        }
        if case.version > 1 {
            settlement_case::Entity::update_many()
                .col_expr(settlement_case::Column::IsCurrent, Expr::value(false))
                .filter(settlement_case::Column::HospitalCode.eq(case.hospital_code.clone()))
                .filter(settlement_case::Column::ListId.eq(case.list_id.clone()))
                .filter(settlement_case::Column::Version.lt(case.version))
                .exec(conn)
                .await?;
        }
        Ok(())
    }

    /// Stores a chunk of intake's versions in one transaction, each as its case's current version:
    /// first versions, and corrections whose earlier versions are retired in the same
    /// transaction. Nothing is stored when any version is already taken
    /// ([`StoreError::VersionTaken`]: a concurrent writer got there first).
    ///
    /// On PostgreSQL the rows go in by COPY and the retirements in one statement; the multi-row
    /// INSERT that SQLite gets would make the database spend most of intake's time parsing.
    pub async fn store_versions(
        db: &DatabaseConnection,
        cases: &[LedgerCase],
    ) -> Result<(), StoreError> {
        Self::store_chunk(db, cases, &[], None).await
    }

    /// [`CaseStore::store_versions`], recording `mark` (the upload chunk these versions come
    /// from) in the same transaction; a mark already recorded is [`StoreError::VersionTaken`]
    /// too (a concurrent upload under the same request id stored the chunk first).
    /// The versions' kept warnings go in with them.
    pub async fn store_marked_versions(
        db: &Database,
        cases: &[LedgerCase],
        kept: &[KeptWarnings],
        mark: Option<&ChunkMark>,
    ) -> Result<(), StoreError> {
        Self::store_chunk(db.connection(), cases, kept, mark).await
    }

    async fn store_chunk(
        db: &DatabaseConnection,
        cases: &[LedgerCase],
        kept: &[KeptWarnings],
        mark: Option<&ChunkMark>,
    ) -> Result<(), StoreError> {
        if cases.is_empty() {
            if let Some(mark) = mark {
                uploads::insert_chunk(db, mark)
                    .await
                    .map_err(taken_or_database)?;
            }
            return Ok(());
        }
        if db.get_database_backend() == DbBackend::Postgres {
            return copy_versions(db.get_postgres_connection_pool(), cases, kept, mark).await;
        }
        // Split by reference: each case carries its whole document.
        let (fresh, corrections): (Vec<&LedgerCase>, Vec<&LedgerCase>) =
            cases.iter().partition(|case| case.version == 1);
        // The first versions' statement is built before the write turn: binding a chunk's
        // thousand rows of some thirty columns is work the single writer need not wait for.
        let insert_fresh = current_versions_insert(DbBackend::Sqlite, fresh)?;
        let txn = platform::db::begin_write(db).await?;
        let written: Result<(), StoreError> = async {
            for insert in insert_fresh {
                txn.execute_raw(insert).await?;
            }
            for case in corrections {
                Self::insert_current(&*txn, case).await?;
            }
            warnings::insert(&*txn, kept).await?;
            if let Some(mark) = mark {
                uploads::insert_chunk(&*txn, mark).await?;
            }
            Ok(())
        }
        .await;
        match written {
            Ok(()) => txn.commit().await.map_err(taken_or_database),
            Err(error) => {
                txn.rollback().await?;
                Err(match error {
                    StoreError::Database(error) => taken_or_database(error),
                    other => other,
                })
            }
        }
    }

    /// Stores many new current versions at once (first versions only: no case may already exist),
    /// in one statement, on `conn` (a test's connection; [`CaseStore::store_versions`] builds the
    /// same statement before its transaction).
    pub async fn insert_new_many<'c, C: ConnectionTrait>(
        conn: &C,
        cases: impl IntoIterator<Item = &'c LedgerCase>,
    ) -> Result<(), StoreError> {
        for insert in current_versions_insert(conn.get_database_backend(), cases)? {
            conn.execute_raw(insert).await?;
        }
        Ok(())
    }

    /// Current inpatient cases of `region` (and the regions inside it) for `fund`, discharged in
    /// the inclusive `yyyymmdd` range and not yet cleared, in (hospital, list id) order: the
    /// unvalued ones, or the valued ones too when `include_valued`.
    pub async fn revaluable(
        db: &Database,
        region: RegionCode,
        fund: FundType,
        (discharge_from, discharge_to): (i32, i32),
        include_valued: bool,
    ) -> Result<Vec<LedgerCase>, StoreError> {
        let (from, to) = region_span(region);
        let statuses: &[&str] = if include_valued {
            &[status::UNVALUED, status::VALUED]
        } else {
            &[status::UNVALUED]
        };
        settlement_case::Entity::find()
            .filter(settlement_case::Column::RegionCode.between(from, to))
            .filter(settlement_case::Column::FundType.eq(fund_to_db(fund)))
            .filter(settlement_case::Column::DischargeDate.between(discharge_from, discharge_to))
            .filter(settlement_case::Column::IsCurrent.eq(true))
            .filter(settlement_case::Column::RecordKind.eq(RecordKind::Inpatient.as_str()))
            .filter(settlement_case::Column::Status.is_in(statuses.iter().copied()))
            .filter(case_clearing::not_taken())
            .order_by_asc(settlement_case::Column::HospitalCode)
            .order_by_asc(settlement_case::Column::ListId)
            .all(db.connection())
            .await?
            .into_iter()
            .map(from_model)
            .collect()
    }

    /// Current versions of the cases of `region` (and the regions inside it) for `fund`,
    /// discharged in the inclusive `yyyymmdd` range, in (hospital, list id) order: what a run
    /// reads.
    pub async fn current_cases(
        &self,
        region: RegionCode,
        fund: FundType,
        discharge_from: i32,
        discharge_to: i32,
    ) -> Result<Vec<LedgerCase>, StoreError> {
        let (from, to) = region_span(region);
        let rows = settlement_case::Entity::find()
            .filter(settlement_case::Column::RegionCode.between(from, to))
            .filter(settlement_case::Column::FundType.eq(fund_to_db(fund)))
            .filter(settlement_case::Column::DischargeDate.between(discharge_from, discharge_to))
            .filter(settlement_case::Column::IsCurrent.eq(true))
            .order_by_asc(settlement_case::Column::HospitalCode)
            .order_by_asc(settlement_case::Column::ListId)
            .all(&self.db)
            .await?;
        read_back(&self.db, rows).await
    }
}
