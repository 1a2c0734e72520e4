//! Writing a run's findings inside its transaction. A run stores millions of findings, and the
//! statements' round trips, planning and bound values dominate its time: PostgreSQL takes each
//! column of many findings as one array (`INSERT ... SELECT * FROM UNNEST(...)`), so a statement
//! binds 26 values whatever its size; SQLite, whose statements are local calls, takes them in
//! multi-row INSERTs.

use kernel::Date;
use platform::db::{CorruptRow, fund_to_db, region_to_db};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseTransaction, DbErr, EntityTrait, Statement,
};

use crate::store::{StoreError, StoredFinding, supervision_finding};

/// Findings per multi-row INSERT on SQLite: 1,000 rows of the finding's 26 columns (26,000 bound
/// values) stay under the bundled SQLite's 32,766.
pub const FINDINGS_PER_INSERT: usize = 1_000;

/// Findings per UNNEST statement on PostgreSQL: large enough that a run of a province's month
/// (some 400,000 findings) is a few dozen statements, small enough that one statement's arrays
/// (a few megabytes) stay well under the wire's and the server's bounds.
pub const FINDINGS_PER_UNNEST: usize = 20_000;

/// Statements built ahead of the one PostgreSQL is running: building one takes about as long as
/// the server takes to insert it, so the two overlap instead of taking turns.
const STATEMENTS_AHEAD: usize = 2;

/// Stores `findings` (ids and versions already set) in `txn`.
pub async fn insert<I>(txn: &DatabaseTransaction, findings: I) -> Result<(), StoreError>
where
    I: IntoIterator<Item = StoredFinding>,
    I::IntoIter: Send + 'static,
{
    let mut findings = findings.into_iter().peekable();
    match txn.get_database_backend() {
        DatabaseBackend::Postgres => {
            let (sender, mut statements) = tokio::sync::mpsc::channel(STATEMENTS_AHEAD);
            // Dropping the receiver (a statement failed) ends the building at its next send.
            let building = tokio::task::spawn_blocking(move || {
                while findings.peek().is_some() {
                    let mut columns = Columns::with_capacity(FINDINGS_PER_UNNEST);
                    let mut built = Ok(());
                    for finding in findings.by_ref().take(FINDINGS_PER_UNNEST) {
                        built = columns.push(finding);
                        if built.is_err() {
                            break;
                        }
                    }
                    let last = built.is_err();
                    if sender
                        .blocking_send(built.map(|()| columns.statement()))
                        .is_err()
                        || last
                    {
                        break;
                    }
                }
            });
            while let Some(statement) = statements.recv().await {
                txn.execute_raw(statement?).await?;
            }
            // A builder that did not finish ended the statements early: the run must not commit.
            if let Err(failed) = building.await {
                if failed.is_panic() {
                    std::panic::resume_unwind(failed.into_panic());
                }
                return Err(
                    DbErr::Custom(format!("building the findings failed: {failed}")).into(),
                );
            }
        }
        _ => {
            // Rows are built a chunk at a time, so a run holds one chunk of them.
            while findings.peek().is_some() {
                let chunk = findings
                    .by_ref()
                    .take(FINDINGS_PER_INSERT)
                    .map(|finding| finding_row(&finding))
                    .collect::<Result<Vec<_>, StoreError>>()?;
                supervision_finding::Entity::insert_many(chunk)
                    .exec(txn)
                    .await?;
            }
        }
    }
    Ok(())
}

/// The finding's columns, in the order of [`UNNEST`].
#[derive(Default)]
struct Columns {
    finding_id: Vec<String>,
    region_code: Vec<i32>,
    period: Vec<i32>,
    run_version: Vec<i32>,
    seq: Vec<i32>,
    rule_number: Vec<i32>,
    rule_id: Vec<String>,
    level: Vec<String>,
    hospital_code: Vec<String>,
    list_id: Vec<String>,
    arm: Vec<String>,
    item_code: Vec<String>,
    date: Vec<i32>,
    other_hospital_code: Vec<String>,
    other_list_id: Vec<String>,
    fee_lines: Vec<String>,
    evidence_json: Vec<String>,
    amount_fen: Vec<i64>,
    status: Vec<String>,
    reviewer: Vec<String>,
    review_reason: Vec<String>,
    fund_type: Vec<i32>,
    case_region_code: Vec<i32>,
    response: Vec<String>,
    responder: Vec<String>,
    responded_before_review: Vec<bool>,
}

/// The statement the columns go in by, one array per column.
const UNNEST: &str = "INSERT INTO supervision_finding (finding_id, region_code, period, \
     run_version, seq, rule_number, rule_id, level, hospital_code, list_id, arm, item_code, date, \
     other_hospital_code, other_list_id, fee_lines, evidence_json, amount_fen, status, reviewer, \
     review_reason, fund_type, case_region_code, response, responder, responded_before_review) \
     SELECT * FROM UNNEST($1::text[], $2::int[], $3::int[], $4::int[], $5::int[], $6::int[], \
     $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::int[], \
     $14::text[], $15::text[], $16::text[], $17::text[], $18::bigint[], $19::text[], \
     $20::text[], $21::text[], $22::int[], $23::int[], $24::text[], $25::text[], $26::bool[])";

impl Columns {
    fn with_capacity(rows: usize) -> Self {
        let mut columns = Self::default();
        columns.finding_id.reserve(rows);
        columns.seq.reserve(rows);
        columns.evidence_json.reserve(rows);
        columns
    }

    fn push(&mut self, finding: StoredFinding) -> Result<(), StoreError> {
        self.fee_lines.push(fee_lines(&finding.fee_lines));
        self.evidence_json.push(evidence_json(&finding.evidence)?);
        self.amount_fen.push(finding.amount.to_fen()?);
        self.finding_id.push(finding.finding_id);
        self.region_code.push(region_to_db(finding.region));
        self.period.push(finding.period.as_int());
        self.run_version.push(finding.run_version);
        self.seq.push(finding.seq);
        self.rule_number.push(i32::from(finding.rule.number()));
        self.rule_id.push(finding.rule.slug().to_owned());
        self.level.push(finding.level.as_str().to_owned());
        self.hospital_code.push(finding.hospital_code);
        self.list_id.push(finding.list_id);
        self.arm.push(finding.arm);
        self.item_code.push(finding.item_code);
        self.date
            .push(finding.date.map(Date::to_yyyymmdd).unwrap_or(0));
        self.other_hospital_code.push(finding.other_hospital_code);
        self.other_list_id.push(finding.other_list_id);
        self.status.push(finding.status.as_str().to_owned());
        self.reviewer.push(finding.reviewer);
        self.review_reason.push(finding.review_reason);
        self.fund_type.push(finding.fund.map_or(0, fund_to_db));
        self.case_region_code
            .push(region_to_db(finding.case_region));
        self.response.push(finding.response);
        self.responder.push(finding.responder);
        self.responded_before_review
            .push(finding.responded_before_review);
        Ok(())
    }

    fn statement(self) -> Statement {
        Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            UNNEST,
            [
                self.finding_id.into(),
                self.region_code.into(),
                self.period.into(),
                self.run_version.into(),
                self.seq.into(),
                self.rule_number.into(),
                self.rule_id.into(),
                self.level.into(),
                self.hospital_code.into(),
                self.list_id.into(),
                self.arm.into(),
                self.item_code.into(),
                self.date.into(),
                self.other_hospital_code.into(),
                self.other_list_id.into(),
                self.fee_lines.into(),
                self.evidence_json.into(),
                self.amount_fen.into(),
                self.status.into(),
                self.reviewer.into(),
                self.review_reason.into(),
                self.fund_type.into(),
                self.case_region_code.into(),
                self.response.into(),
                self.responder.into(),
                self.responded_before_review.into(),
            ],
        )
    }
}

/// Positions joined by `;`.
fn fee_lines(lines: &[u32]) -> String {
    let lines: Vec<String> = lines.iter().map(u32::to_string).collect();
    lines.join(";")
}

fn evidence_json(evidence: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(evidence).map_err(|e| {
        StoreError::Corrupt(CorruptRow {
            column: "evidence_json",
            value: String::new(),
            reason: e.to_string(),
        })
    })
}

pub(crate) fn finding_row(
    finding: &StoredFinding,
) -> Result<supervision_finding::ActiveModel, StoreError> {
    use sea_orm::Set;
    Ok(supervision_finding::ActiveModel {
        finding_id: Set(finding.finding_id.clone()),
        region_code: Set(region_to_db(finding.region)),
        period: Set(finding.period.as_int()),
        run_version: Set(finding.run_version),
        seq: Set(finding.seq),
        rule_number: Set(i32::from(finding.rule.number())),
        rule_id: Set(finding.rule.slug().to_owned()),
        level: Set(finding.level.as_str().to_owned()),
        hospital_code: Set(finding.hospital_code.clone()),
        list_id: Set(finding.list_id.clone()),
        arm: Set(finding.arm.clone()),
        item_code: Set(finding.item_code.clone()),
        date: Set(finding.date.map(Date::to_yyyymmdd).unwrap_or(0)),
        other_hospital_code: Set(finding.other_hospital_code.clone()),
        other_list_id: Set(finding.other_list_id.clone()),
        fee_lines: Set(fee_lines(&finding.fee_lines)),
        evidence_json: Set(evidence_json(&finding.evidence)?),
        amount_fen: Set(finding.amount.to_fen()?),
        status: Set(finding.status.as_str().to_owned()),
        reviewer: Set(finding.reviewer.clone()),
        review_reason: Set(finding.review_reason.clone()),
        fund_type: Set(finding.fund.map_or(0, fund_to_db)),
        case_region_code: Set(region_to_db(finding.case_region)),
        response: Set(finding.response.clone()),
        responder: Set(finding.responder.clone()),
        responded_before_review: Set(finding.responded_before_review),
    })
}
