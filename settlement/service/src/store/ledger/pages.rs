//! The ledger's keyset pages: [`CaseStore::list`] for readers of whole versions (StreamCases,
//! runs' checks) and [`CaseStore::list_summaries`] for ListCases and ExportCases, which read only
//! the columns a case summary shows and whether a clearing took each version, in the page's own
//! statement.
//!
//! On PostgreSQL a page is sent as an unnamed statement: the server plans it with its own values
//! every time, as it must (after five runs of a named one it may keep a generic plan, which for a
//! month's filter sorts the rest of the region on every page: 1 s a page at 1,000,000 cases),
//! in two round trips instead of a transaction's four for `SET LOCAL plan_cache_mode`.

use kernel::{FundType, Money, Points, RegionCode};
use platform::db::{fund_from_db, fund_to_db, region_from_db};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    DbBackend, FromQueryResult, Iterable, QueryOrder, QuerySelect, QueryTrait, Statement,
};
use settlement_domain::ledger::LedgerStatus;

use super::{
    CaseFilter, CaseKey, CaseStore, LedgerCase, StoreError, TakenRow, region_span, settlement_case,
    stored_word,
};
use crate::store::case_clearing;

/// A stored case version as a listing answers it: what a case summary shows, with the status a
/// clearing gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedCase {
    pub region: RegionCode,
    pub hospital_code: String,
    pub list_id: String,
    pub version: i32,
    pub fund: FundType,
    /// `yyyymmdd`.
    pub discharge_date: i32,
    pub payment_mode: String,
    pub group_code: String,
    pub points: Points,
    pub total_cost: Money,
    pub individual_burden: Money,
    pub fund_amount: Money,
    pub status: LedgerStatus,
    pub valuation_error: String,
    pub scheme_version: String,
    pub table_version: String,
    pub content_hash: String,
}

impl From<LedgerCase> for ListedCase {
    fn from(case: LedgerCase) -> Self {
        ListedCase {
            region: case.region,
            hospital_code: case.hospital_code,
            list_id: case.list_id,
            version: case.version,
            fund: case.fund,
            discharge_date: case.discharge_date,
            payment_mode: case.payment_mode,
            group_code: case.group_code,
            points: case.points,
            total_cost: case.total_cost,
            individual_burden: case.individual_burden,
            fund_amount: case.fund_amount,
            status: case.status,
            valuation_error: case.valuation_error,
            scheme_version: case.scheme_version,
            table_version: case.table_version,
            content_hash: case.content_hash,
        }
    }
}

impl ListedCase {
    /// Where the case sits in the order of listings.
    pub fn key(&self) -> CaseKey {
        CaseKey(
            platform::db::region_to_db(self.region),
            self.hospital_code.clone(),
            self.list_id.clone(),
        )
    }
}

/// The row of [`CaseStore::list_summaries`]; `taken` is whether a clearing took a valued version.
#[derive(FromQueryResult)]
struct SummaryRow {
    hospital_code: String,
    list_id: String,
    version: i32,
    region_code: i32,
    fund_type: i32,
    discharge_date: i32,
    payment_mode: String,
    group_code: String,
    points_scaled: i64,
    total_fen: i64,
    individual_burden_fen: i64,
    fund_fen: i64,
    status: String,
    valuation_error: String,
    scheme_version: String,
    table_version: String,
    content_hash: String,
    taken: bool,
}

impl SummaryRow {
    fn into_listed(self) -> Result<ListedCase, StoreError> {
        let stored: LedgerStatus = stored_word("status", &self.status)?;
        // As `case_clearing::mark_read` answers a version read whole.
        let status = if self.taken {
            LedgerStatus::Cleared
        } else {
            stored
        };
        Ok(ListedCase {
            region: region_from_db(self.region_code)?,
            hospital_code: self.hospital_code,
            list_id: self.list_id,
            version: self.version,
            fund: fund_from_db(self.fund_type)?,
            discharge_date: self.discharge_date,
            payment_mode: self.payment_mode,
            group_code: self.group_code,
            points: Points::from_scaled(self.points_scaled),
            total_cost: Money::from_fen(self.total_fen),
            individual_burden: Money::from_fen(self.individual_burden_fen),
            fund_amount: Money::from_fen(self.fund_fen),
            status,
            valuation_error: self.valuation_error,
            scheme_version: self.scheme_version,
            table_version: self.table_version,
            content_hash: self.content_hash,
        })
    }
}

/// The page of [`CaseStore::list`]: one range scan of `settlement_case_listing` from `after`.
pub(super) fn listing(
    region: RegionCode,
    filter: &CaseFilter,
    after: Option<&CaseKey>,
    limit: u64,
) -> sea_orm::Select<settlement_case::Entity> {
    use settlement_case::Column;
    let (from, to) = region_span(region);
    let mut query = settlement_case::Entity::find().filter(Column::IsCurrent.eq(true));
    query = match after {
        // The key's own region is the lower bound: SQLite seeks the index by the row
        // comparison only when no other lower bound on region_code competes with it.
        Some(CaseKey(region_code, hospital_code, list_id)) if *region_code >= from => {
            let key = |column: Column| Expr::col(column);
            query.filter(Column::RegionCode.lte(to)).filter(
                Expr::tuple([
                    key(Column::RegionCode),
                    key(Column::HospitalCode),
                    key(Column::ListId),
                ])
                .gt(Expr::tuple([
                    Expr::val(*region_code),
                    Expr::val(hospital_code.clone()),
                    Expr::val(list_id.clone()),
                ])),
            )
        }
        _ => query.filter(Column::RegionCode.between(from, to)),
    };
    if let Some(hospital) = &filter.hospital_code {
        query = query.filter(Column::HospitalCode.eq(hospital.clone()));
    }
    if let Some((from, to)) = filter.discharge_between {
        query = query.filter(Column::DischargeDate.between(from, to));
    }
    if let Some(group) = &filter.group_code {
        query = query.filter(Column::GroupCode.eq(group.clone()));
    }
    if let Some(status) = &filter.status {
        query = query.filter(case_clearing::status_is(status));
    }
    if let Some(fund) = filter.fund {
        query = query.filter(Column::FundType.eq(fund_to_db(fund)));
    }
    if !filter.record_kinds.is_empty() {
        query = query
            .filter(Column::RecordKind.is_in(filter.record_kinds.iter().map(|kind| kind.as_str())));
    }
    query
        .order_by_asc(Column::RegionCode)
        .order_by_asc(Column::HospitalCode)
        .order_by_asc(Column::ListId)
        .limit(limit)
}

/// [`listing`] reading the columns of a [`SummaryRow`].
pub(super) fn summary_listing(
    region: RegionCode,
    filter: &CaseFilter,
    after: Option<&CaseKey>,
    limit: u64,
) -> sea_orm::Select<settlement_case::Entity> {
    use settlement_case::Column;
    listing(region, filter, after, limit)
        .select_only()
        .columns([
            Column::HospitalCode,
            Column::ListId,
            Column::Version,
            Column::RegionCode,
            Column::FundType,
            Column::DischargeDate,
            Column::PaymentMode,
            Column::GroupCode,
            Column::PointsScaled,
            Column::TotalFen,
            Column::IndividualBurdenFen,
            Column::FundFen,
            Column::Status,
            Column::ValuationError,
            Column::SchemeVersion,
            Column::TableVersion,
            Column::ContentHash,
        ])
        .expr_as(case_clearing::taken_valued(), "taken")
}

/// Binds `statement`'s values to a query of the pool's own driver.
fn unnamed(
    statement: &Statement,
) -> Result<
    sea_orm::sqlx::query::Query<'_, sea_orm::sqlx::Postgres, sea_orm::sqlx::postgres::PgArguments>,
    StoreError,
> {
    use sea_orm::sea_query::Value;
    let mut query = sea_orm::sqlx::query(sea_orm::sqlx::AssertSqlSafe(statement.sql.as_str()))
        .persistent(false);
    for value in statement.values.iter().flat_map(|values| values.0.iter()) {
        query = match value {
            Value::Bool(v) => query.bind(*v),
            Value::Int(v) => query.bind(*v),
            Value::BigInt(v) => query.bind(*v),
            Value::String(v) => query.bind(v.clone()),
            // LIMIT's value.
            Value::BigUnsigned(v) => query.bind(
                v.map(i64::try_from)
                    .transpose()
                    .map_err(|e| StoreError::Database(DbErr::Custom(e.to_string())))?,
            ),
            other => {
                return Err(StoreError::Database(DbErr::Custom(format!(
                    "a page cannot bind {other:?}"
                ))));
            }
        };
    }
    Ok(query)
}

/// The rows of `query`, planned with its values on PostgreSQL.
async fn rows_of<M: FromQueryResult>(
    store: &CaseStore,
    query: sea_orm::Select<settlement_case::Entity>,
) -> Result<Vec<M>, StoreError> {
    let backend = store.db.get_database_backend();
    let statement = query.build(backend);
    if backend != DbBackend::Postgres {
        return Ok(M::find_by_statement(statement).all(&store.db).await?);
    }
    let rows = unnamed(&statement)?
        .fetch_all(store.db.get_postgres_connection_pool())
        .await
        .map_err(|e| StoreError::Database(DbErr::Custom(format!("postgres: {e}"))))?;
    rows.into_iter()
        .map(|row| M::from_query_result(&sea_orm::QueryResult::from(row), "").map_err(Into::into))
        .collect()
}

/// [`listing`] with each column read as `read_as` answers for it, or as stored where it answers
/// `None`: what a stream leaves out is never copied out of the database.
fn listing_read_as(
    region: RegionCode,
    filter: &CaseFilter,
    after: Option<&CaseKey>,
    limit: u64,
    read_as: impl Fn(&settlement_case::Column) -> Option<Expr>,
) -> sea_orm::Select<settlement_case::Entity> {
    let mut query = listing(region, filter, after, limit).select_only();
    for column in settlement_case::Column::iter() {
        query = match read_as(&column) {
            Some(expression) => query.expr_as(expression, column.as_str()),
            None => query.column(column),
        };
    }
    query
}

impl CaseStore {
    /// Current versions of the cases of `region` (and the regions inside it), filtered, in
    /// [`CaseKey`] order, the first `limit` after `after`. One index range scan per call
    /// (`settlement_case_listing`), however deep into the ledger `after` is, with one
    /// primary-key probe per valued case of the page for whether a clearing took it.
    pub async fn list(
        &self,
        region: RegionCode,
        filter: &CaseFilter,
        after: Option<&CaseKey>,
        limit: u64,
    ) -> Result<Vec<LedgerCase>, StoreError> {
        self.whole_rows(listing(region, filter, after, limit)).await
    }

    /// The rows `query` selects, each with whether a clearing took it, as stored versions.
    async fn whole_rows(
        &self,
        query: sea_orm::Select<settlement_case::Entity>,
    ) -> Result<Vec<LedgerCase>, StoreError> {
        let query = query.expr_as(case_clearing::taken_valued(), "taken");
        let rows: Vec<TakenRow> = rows_of(self, query).await?;
        rows.into_iter().map(TakenRow::into_case).collect()
    }

    /// [`CaseStore::list`] for a stream of whole documents: the same cases in the same order,
    /// read without the heads and line totals stored beside the lists (`head` is `None`),
    /// which such a stream does not send.
    pub async fn list_documents(
        &self,
        region: RegionCode,
        filter: &CaseFilter,
        after: Option<&CaseKey>,
        limit: u64,
    ) -> Result<Vec<LedgerCase>, StoreError> {
        use settlement_case::Column;
        let query = listing_read_as(region, filter, after, limit, |column| {
            matches!(column, Column::ListHeadJson | Column::LineTotalsJson)
                .then(|| Expr::value(Option::<String>::None))
        });
        self.whole_rows(query).await
    }

    /// [`CaseStore::list`] for a stream of list heads (StreamCases `without_fee_lines`): the
    /// same cases in the same order, but an inpatient list stored with its head is read without
    /// its document (`case_json` empty), which is most of its row; a record without a head (an
    /// ambulatory settlement, a list stored before heads) is read whole.
    pub async fn list_heads(
        &self,
        region: RegionCode,
        filter: &CaseFilter,
        after: Option<&CaseKey>,
        limit: u64,
    ) -> Result<Vec<LedgerCase>, StoreError> {
        use settlement_case::Column;
        let query = listing_read_as(region, filter, after, limit, |column| {
            matches!(column, Column::CaseJson).then(|| {
                Expr::case(
                    Expr::col(Column::ListHeadJson).is_null(),
                    Expr::col(Column::CaseJson),
                )
                .finally("")
                .into()
            })
        });
        self.whole_rows(query).await
    }

    /// [`CaseStore::list`] as case summaries: the same cases in the same order, each read
    /// without its documents and answered cleared when a clearing took it, in one statement.
    pub async fn list_summaries(
        &self,
        region: RegionCode,
        filter: &CaseFilter,
        after: Option<&CaseKey>,
        limit: u64,
    ) -> Result<Vec<ListedCase>, StoreError> {
        let rows: Vec<SummaryRow> =
            rows_of(self, summary_listing(region, filter, after, limit)).await?;
        rows.into_iter().map(SummaryRow::into_listed).collect()
    }
}
