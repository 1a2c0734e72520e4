//! Supervision's tables: screening rules per region, screening runs (one version per run of a
//! region and month) and their findings with their reviews, written through the journal.

use kernel::{Date, FundType, Money, RegionCode, YearMonth};
use platform::db::{CorruptRow, fund_from_db, fund_to_db, region_from_db, region_to_db};
use platform::journal::{Call, Effect, Journal, Once, RequestIdReused};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, QuerySelect, Set};
use supervision_domain::{AlreadyDecided, Decision, FindingStatus, RuleId, RuleLevel};

use crate::finding_rows_store;
use crate::migration::REVIEWED;

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
    #[error("amount does not fit storage: {0}")]
    Amount(#[from] kernel::AmountError),
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

    /// Rules of a region, ordered by rule id: the first `limit` after the id `after`.
    pub async fn list(
        &self,
        region: RegionCode,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<StoredRule>, StoreError> {
        let mut query = supervision_rule::Entity::find()
            .filter(supervision_rule::Column::RegionCode.eq(region_to_db(region)));
        if let Some(after) = after {
            query = query.filter(supervision_rule::Column::RuleId.gt(after));
        }
        query
            .order_by_asc(supervision_rule::Column::RuleId)
            .limit(limit)
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

pub(crate) const JOURNAL: Journal = Journal::new("supervision");

pub mod supervision_run {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "supervision_run")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub region_code: i32,
        /// `yyyymm`
        #[sea_orm(primary_key, auto_increment = false)]
        pub period: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i32,
        pub request_id: String,
        pub caller_id: String,
        pub cases: i32,
        pub findings: i32,
        pub policy_json: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod supervision_finding {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "supervision_finding")]
    pub struct Model {
        /// Spells the key ([`super::StoredFinding::id_of`]).
        pub finding_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub region_code: i32,
        /// `yyyymm`
        #[sea_orm(primary_key, auto_increment = false)]
        pub period: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub run_version: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub seq: i32,
        pub rule_number: i32,
        pub rule_id: String,
        pub level: String,
        pub hospital_code: String,
        pub list_id: String,
        pub arm: String,
        pub item_code: String,
        /// `yyyymmdd`, 0 when the finding names no day.
        pub date: i32,
        pub other_hospital_code: String,
        pub other_list_id: String,
        /// Positions joined by `;`.
        pub fee_lines: String,
        pub evidence_json: String,
        pub amount_fen: i64,
        pub status: String,
        pub reviewer: String,
        pub review_reason: String,
        /// National fund code of the case; 0 for a finding on a hospital as a whole.
        pub fund_type: i32,
        /// Region of the case (the run's region for a finding on a hospital as a whole).
        pub case_region_code: i32,
        pub response: String,
        pub responder: String,
        pub responded_before_review: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A screening run of a region and month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRun {
    pub region: RegionCode,
    pub period: YearMonth,
    pub version: i32,
    pub request_id: String,
    pub caller_id: String,
    pub cases: u32,
    pub findings: u32,
    /// The policy the run applied, as the record of what it screened with.
    pub policy_json: String,
}

/// A stored finding of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFinding {
    pub finding_id: String,
    pub region: RegionCode,
    pub period: YearMonth,
    pub run_version: i32,
    /// Position in the run's deterministic order, from 1.
    pub seq: i32,
    pub rule: RuleId,
    pub level: RuleLevel,
    pub hospital_code: String,
    /// Empty for a finding on a hospital as a whole.
    pub list_id: String,
    pub arm: String,
    pub item_code: String,
    pub date: Option<Date>,
    pub other_hospital_code: String,
    pub other_list_id: String,
    pub fee_lines: Vec<u32>,
    pub evidence: Vec<String>,
    pub amount: Money,
    pub status: FindingStatus,
    pub reviewer: String,
    pub review_reason: String,
    /// The fund of the case; `None` for a finding on a hospital as a whole.
    pub fund: Option<FundType>,
    /// The region of the case (the run's region for a finding on a hospital as a whole).
    pub case_region: RegionCode,
    /// The hospital's response, empty until it responds.
    pub response: String,
    pub responder: String,
    /// Whether the hospital had responded when the reviewer decided.
    pub responded_before_review: bool,
}

impl StoredFinding {
    /// The id of the `seq`-th finding of a run: stable, readable, unique per run version.
    pub fn id_of(region: RegionCode, period: YearMonth, version: i32, seq: i32) -> String {
        format!("{region}-{}-{version}-{seq}", period.as_int())
    }

    /// The key (region, period, version, position) `id` spells, when it is an id [`Self::id_of`]
    /// writes: the table is keyed by these, not by the text.
    pub fn key_of(id: &str) -> Option<(RegionCode, YearMonth, i32, i32)> {
        let mut parts = id.split('-');
        let region = RegionCode::from_u32(parts.next()?.parse().ok()?).ok()?;
        let period = YearMonth::from_int(parts.next()?.parse().ok()?).ok()?;
        let version = parts.next()?.parse().ok()?;
        let seq = parts.next()?.parse().ok()?;
        (parts.next().is_none() && Self::id_of(region, period, version, seq) == id)
            .then_some((region, period, version, seq))
    }
}

/// The finding named `id` (by the key it spells; none for a text that is no finding id).
pub(crate) fn finding_by_id(id: &str) -> Option<Select<supervision_finding::Entity>> {
    let (region, period, version, seq) = StoredFinding::key_of(id)?;
    Some(supervision_finding::Entity::find_by_id((
        region_to_db(region),
        period.as_int(),
        version,
        seq,
    )))
}

/// An update of the stored finding `finding` (its key set, every other column left as stored).
pub(crate) fn finding_update(finding: &StoredFinding) -> supervision_finding::ActiveModel {
    supervision_finding::ActiveModel {
        region_code: Set(region_to_db(finding.region)),
        period: Set(finding.period.as_int()),
        run_version: Set(finding.run_version),
        seq: Set(finding.seq),
        ..Default::default()
    }
}

/// Which findings of a run to list.
#[derive(Clone, Debug, Default)]
pub struct FindingFilter {
    pub rule: Option<RuleId>,
    pub hospital_code: Option<String>,
    pub status: Option<FindingStatus>,
}

/// A reviewer's decision, as the store records it.
#[derive(Clone, Debug)]
pub struct Review {
    pub region: RegionCode,
    pub finding_id: String,
    pub decision: Decision,
    pub reviewer: String,
    pub reason: String,
}

/// Why a run or review was not stored.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Reused(#[from] RequestIdReused),
    #[error("no finding {0} in this region")]
    NoSuchFinding(String),
    #[error(transparent)]
    AlreadyDecided(#[from] AlreadyDecided),
    #[error(transparent)]
    Step(#[from] supervision_domain::lifecycle::StepError),
    #[error("{caller} may not respond to finding {finding_id} of hospital {hospital}")]
    NotYourFinding {
        caller: String,
        finding_id: String,
        hospital: String,
    },
    #[error("finding {0} has a response already; a finding is answered once")]
    AlreadyAnswered(String),
    #[error("no lead {0} in this region")]
    NoSuchLead(String),
    #[error(transparent)]
    Link(#[from] supervision_domain::leads::LinkError),
}

impl From<DbErr> for WriteError {
    fn from(error: DbErr) -> Self {
        WriteError::Store(StoreError::Database(error))
    }
}

/// Runs and findings, written through the context's journal.
#[derive(Clone)]
pub struct SupervisionStore {
    db: DatabaseConnection,
}

pub use crate::finding_rows_store::{FINDINGS_PER_INSERT, FINDINGS_PER_UNNEST};

impl SupervisionStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    pub(crate) fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The stored answer of a write already made with this request, if any.
    pub async fn replay(&self, call: &Call) -> Result<Option<Vec<u8>>, WriteError> {
        JOURNAL.replay(&self.db, call).await
    }

    /// Stores a run as the next version of its region and period, with its findings, its audit
    /// entry and its response (`respond` gives the response of the version written) in one
    /// transaction.
    pub async fn record_run(
        &self,
        call: &Call,
        run: StoredRun,
        findings: Vec<StoredFinding>,
        respond: impl FnOnce(&StoredRun) -> Vec<u8> + Send + 'static,
    ) -> Result<Once, WriteError> {
        JOURNAL
            .run_once(&self.db, call, move |txn| -> Effect<'_, WriteError> {
                Box::pin(async move {
                    let latest = latest_version(txn, run.region, run.period).await?;
                    let version = latest.unwrap_or(0) + 1;
                    let run = StoredRun { version, ..run };
                    run_row(&run).insert(txn).await?;
                    let (region, period) = (run.region, run.period);
                    finding_rows_store::insert(
                        txn,
                        findings.into_iter().map(move |finding| StoredFinding {
                            finding_id: StoredFinding::id_of(region, period, version, finding.seq),
                            run_version: version,
                            ..finding
                        }),
                    )
                    .await?;
                    let detail = format!(
                        "screened {} {} version {}: {} cases, {} findings",
                        run.region,
                        run.period.as_int(),
                        run.version,
                        run.cases,
                        run.findings
                    );
                    Ok((respond(&run), detail))
                })
            })
            .await
    }

    /// The latest run version of a region and period.
    pub async fn latest_version(
        &self,
        region: RegionCode,
        period: YearMonth,
    ) -> Result<Option<i32>, StoreError> {
        Ok(latest_version(&self.db, region, period).await?)
    }

    /// Findings of one run, filtered, in the run's order: the first `limit` whose position is
    /// after `after` (one range scan of the table's key).
    pub async fn findings(
        &self,
        region: RegionCode,
        period: YearMonth,
        version: i32,
        filter: &FindingFilter,
        after: Option<i32>,
        limit: u64,
    ) -> Result<Vec<StoredFinding>, StoreError> {
        let mut query = supervision_finding::Entity::find()
            .filter(supervision_finding::Column::RegionCode.eq(region_to_db(region)))
            .filter(supervision_finding::Column::Period.eq(period.as_int()))
            .filter(supervision_finding::Column::RunVersion.eq(version));
        if let Some(rule) = filter.rule {
            query =
                query.filter(supervision_finding::Column::RuleNumber.eq(i32::from(rule.number())));
        }
        if let Some(hospital) = &filter.hospital_code {
            query = query.filter(supervision_finding::Column::HospitalCode.eq(hospital.clone()));
        }
        if let Some(status) = filter.status {
            query = query.filter(supervision_finding::Column::Status.eq(status.as_str()));
        }
        if let Some(after) = after {
            query = query.filter(supervision_finding::Column::Seq.gt(after));
        }
        query
            .order_by_asc(supervision_finding::Column::Seq)
            .limit(limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(finding_from_row)
            .collect()
    }

    /// The confirmed findings on the cases of `fund` in `region` and the regions inside it,
    /// screened in a month of `year` (of `hospital` only when given), in finding id order.
    pub async fn confirmed_findings(
        &self,
        (region, year, fund): (RegionCode, i32, FundType),
        hospital: Option<&str>,
    ) -> Result<Vec<StoredFinding>, StoreError> {
        use supervision_finding::Column;
        let (from, to) = region_span(region);
        let mut query = supervision_finding::Entity::find()
            .filter(Column::Status.eq(FindingStatus::Confirmed.as_str()))
            .filter(Expr::cust(REVIEWED))
            .filter(Column::FundType.eq(fund_to_db(fund)))
            .filter(Column::CaseRegionCode.between(from, to))
            .filter(Column::Period.between(year * 100 + 1, year * 100 + 12));
        if let Some(hospital) = hospital {
            query = query.filter(Column::HospitalCode.eq(hospital));
        }
        query
            .order_by_asc(Column::FindingId)
            .all(&self.db)
            .await?
            .into_iter()
            .map(finding_from_row)
            .collect()
    }

    /// Records a review of an open finding of `review.region`, with its audit entry and response
    /// (`respond` gives it from the reviewed finding), once per request.
    pub async fn review(
        &self,
        call: &Call,
        review: Review,
        respond: impl FnOnce(&StoredFinding) -> Vec<u8> + Send + 'static,
    ) -> Result<Once, WriteError> {
        JOURNAL
            .run_once(&self.db, call, move |txn| -> Effect<'_, WriteError> {
                Box::pin(async move {
                    let row = match finding_by_id(&review.finding_id) {
                        Some(query) => query.one(txn).await?,
                        None => None,
                    };
                    let row = row
                        .filter(|row| row.region_code == region_to_db(review.region))
                        .ok_or_else(|| WriteError::NoSuchFinding(review.finding_id.clone()))?;
                    let mut finding = finding_from_row(row)?;
                    finding.status = finding.status.review(review.decision)?;
                    finding.reviewer = review.reviewer;
                    finding.review_reason = review.reason;
                    finding.responded_before_review = !finding.response.is_empty();
                    supervision_finding::ActiveModel {
                        status: Set(finding.status.as_str().to_owned()),
                        reviewer: Set(finding.reviewer.clone()),
                        review_reason: Set(finding.review_reason.clone()),
                        responded_before_review: Set(finding.responded_before_review),
                        ..finding_update(&finding)
                    }
                    .update(txn)
                    .await?;
                    let detail =
                        format!("finding {} {}", finding.finding_id, finding.status.as_str());
                    Ok((respond(&finding), detail))
                })
            })
            .await
    }
}

async fn latest_version<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    period: YearMonth,
) -> Result<Option<i32>, DbErr> {
    let latest: Option<Option<i32>> = supervision_run::Entity::find()
        .select_only()
        .column_as(supervision_run::Column::Version.max(), "latest")
        .filter(supervision_run::Column::RegionCode.eq(region_to_db(region)))
        .filter(supervision_run::Column::Period.eq(period.as_int()))
        .into_tuple()
        .one(conn)
        .await?;
    Ok(latest.flatten())
}

fn run_row(run: &StoredRun) -> supervision_run::ActiveModel {
    supervision_run::ActiveModel {
        region_code: Set(region_to_db(run.region)),
        period: Set(run.period.as_int()),
        version: Set(run.version),
        request_id: Set(run.request_id.clone()),
        caller_id: Set(run.caller_id.clone()),
        cases: Set(i32::try_from(run.cases).unwrap_or(i32::MAX)),
        findings: Set(i32::try_from(run.findings).unwrap_or(i32::MAX)),
        policy_json: Set(run.policy_json.clone()),
    }
}

fn corrupt(column: &'static str, value: impl ToString, reason: impl ToString) -> CorruptRow {
    CorruptRow {
        column,
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

pub(crate) fn finding_from_row(
    row: supervision_finding::Model,
) -> Result<StoredFinding, StoreError> {
    let rule = u8::try_from(row.rule_number)
        .ok()
        .and_then(RuleId::from_number)
        .ok_or_else(|| corrupt("rule_number", row.rule_number, "not a rule number"))?;
    let level = match row.level.as_str() {
        "weak" => RuleLevel::Weak,
        "general" => RuleLevel::General,
        "strong" => RuleLevel::Strong,
        other => return Err(corrupt("level", other, "not a rule level").into()),
    };
    let date = match row.date {
        0 => None,
        value => Some(Date::from_yyyymmdd(value).map_err(|e| corrupt("date", value, e))?),
    };
    let fee_lines = row
        .fee_lines
        .split(';')
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<u32>()
                .map_err(|e| corrupt("fee_lines", &row.fee_lines, e))
        })
        .collect::<Result<Vec<u32>, CorruptRow>>()?;
    let evidence: Vec<String> = serde_json::from_str(&row.evidence_json)
        .map_err(|e| corrupt("evidence_json", &row.evidence_json, e))?;
    let status = FindingStatus::parse(&row.status)
        .ok_or_else(|| corrupt("status", &row.status, "not a finding status"))?;
    let fund = match row.fund_type {
        0 => None,
        code => Some(fund_from_db(code)?),
    };
    Ok(StoredFinding {
        finding_id: row.finding_id,
        region: region_from_db(row.region_code)?,
        period: YearMonth::from_int(row.period).map_err(|e| corrupt("period", row.period, e))?,
        run_version: row.run_version,
        seq: row.seq,
        rule,
        level,
        hospital_code: row.hospital_code,
        list_id: row.list_id,
        arm: row.arm,
        item_code: row.item_code,
        date,
        other_hospital_code: row.other_hospital_code,
        other_list_id: row.other_list_id,
        fee_lines,
        evidence,
        amount: Money::from_fen(row.amount_fen),
        status,
        reviewer: row.reviewer,
        review_reason: row.review_reason,
        fund,
        case_region: region_from_db(row.case_region_code)?,
        response: row.response,
        responder: row.responder,
        responded_before_review: row.responded_before_review,
    })
}

/// The stored region codes of `region` and the regions inside it (a county: itself; a
/// prefecture: its counties; a province: all of it).
pub(crate) fn region_span(region: RegionCode) -> (i32, i32) {
    let code = region_to_db(region);
    match region.level() {
        kernel::RegionLevel::Province => (code, code + 9_999),
        kernel::RegionLevel::Prefecture => (code, code + 99),
        kernel::RegionLevel::County => (code, code),
    }
}
