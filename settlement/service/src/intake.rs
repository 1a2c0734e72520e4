//! Intake of settlement lists (DOMAIN.md §5): record by record, in chunks, idempotent.
//!
//! Each record is read, checked against the upload's region, validated (with today from the
//! intake's clock: no date after it), checked for its institution being registered in the
//! upload's region (one registered elsewhere is answered exactly like one never registered, so
//! an upload learns nothing of another region's hospitals or cases) and for a valid service
//! agreement on its discharge date, and decided against the stored current version (same
//! content: no-op; changed: a new version unless its month is closed; first: version 1). Every
//! rejection names the record's position, list id, field and reason; accepted records are stored
//! even when others are rejected.
//!
//! A chunk is valued through the [`Valuer`] port, then stored in one transaction. Two uploads of
//! the same cases racing each other collide on the ledger's primary key; the loser decides its
//! chunk again against what the winner stored, so every case is stored once. A peer that cannot
//! be reached fails the upload before the chunk's transaction, so nothing of that chunk is stored;
//! the chunks before it are (and, on PostgreSQL, those being stored beside it may be), and a retry
//! counts them as unchanged. A streamed upload is stored while it arrives: a stream that breaks
//! off leaves its earlier chunks stored, in the same way. The upload's final answer is
//! stored under its request id through the journal: a retry of a completed upload replays it.
//! Each stored chunk and each completed upload leaves a fingerprint ([`crate::uploads`]): a retry
//! with other records under the same request id is refused before any of them is stored.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use kernel::date::Date;
use kernel::{FundType, Points, RegionCode, YearMonth};
use medpay_proto::settlement::v1 as pb;
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{DatabaseConnection, DbBackend};
use settlement_domain::case::{AmbulatoryKind, AmbulatorySettlement, SettlementList};
use settlement_domain::identity::{
    CaseKey, ContentHash, IntakeDecision, StoredVersion, canonical_json, canonical_json_with_hash,
    decide_intake,
};
use settlement_domain::institution::InstitutionRecord;
use settlement_domain::ports::CodeDictionary;
use settlement_domain::validation::{ValidationPolicy, limits, validate_ambulatory, validate_list};
use sha2::Digest;

use crate::calendar;
use crate::institutions::{self, yyyymmdd};
use crate::journal::{self, Once};
use crate::ledger::{CaseStore, LedgerCase, StoreError, status};
use crate::uploads::{self, ChunkMark};
use crate::valuation::{Unavailable, Valued, Valuer, fund_of};

/// Records per chunk: one valuation batch and one transaction each.
pub const DEFAULT_CHUNK: usize = 1_000;
/// Chunks of one upload stored at once on PostgreSQL, each on its own connection. A chunk spends
/// most of its time waiting (its lookups, the grouping and points calls, its commit); with six
/// under way the database and the valuation peers stay busy (3: 15,500 cases/s end to end, 4:
/// 20,500, 6: 25,500, 8: no more; `cargo bench -p integration-tests --bench intake_end_to_end`).
pub const STORES_IN_FLIGHT: usize = 6;
/// How often a chunk is decided again after losing a race on the ledger's primary key.
const RACE_ATTEMPTS: usize = 8;

/// Reason codes of intake's own checks (validation's come from the domain, lower-cased).
pub mod reason {
    pub const UNREADABLE: &str = "unreadable_record";
    pub const EMPTY: &str = "empty_record";
    pub const REGION_OUTSIDE_UPLOAD: &str = "region_outside_upload";
    pub const NOT_REGISTERED: &str = "institution_not_registered";
    pub const NO_VALID_AGREEMENT: &str = "no_valid_agreement";
    pub const MONTH_CLOSED: &str = "month_closed";
}

/// One record of an upload, as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// An inpatient settlement list as JSON.
    List(String),
    /// An outpatient or pharmacy settlement as JSON.
    Ambulatory(String),
    /// A message that carried no record.
    Empty,
}

impl Record {
    /// The record of a wire message (the deprecated `case_json` when `record` is absent).
    pub fn from_wire(record: Option<pb::SubmitRecord>, case_json: String) -> Record {
        match record.and_then(|r| r.record) {
            Some(pb::submit_record::Record::SettlementListJson(json)) => Record::List(json),
            Some(pb::submit_record::Record::AmbulatoryJson(json)) => Record::Ambulatory(json),
            None if !case_json.is_empty() => Record::List(case_json),
            None => Record::Empty,
        }
    }
}

/// Why an upload failed as a whole (nothing of the failing chunk is stored).
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the stored answer of request {0} cannot be read")]
    CorruptAnswer(String),
    #[error("chunk at record {0} kept colliding with concurrent uploads")]
    Contended(u64),
    #[error("reading records failed: {0}")]
    Worker(String),
    /// The upload's stream broke off; the chunks before were stored.
    #[error("the upload stream failed: {0}")]
    Input(tonic::Status),
    /// The request id was used before for an upload with other records; nothing of this one
    /// was stored.
    #[error("request id {request_id} was already used for an upload with other records: {detail}")]
    RequestIdReused { request_id: String, detail: String },
}

impl From<DbErr> for IntakeError {
    fn from(error: DbErr) -> Self {
        IntakeError::Store(StoreError::Database(error))
    }
}

/// Accepts every code: the scheme's dictionaries live in the grouping context, which reports an
/// unknown code when it groups the case (stored unvalued with the reason).
#[derive(Clone, Copy, Debug, Default)]
pub struct GroupingChecksCodes;

impl CodeDictionary for GroupingChecksCodes {
    fn has_diagnosis(&self, code: &str) -> bool {
        !code.trim().is_empty()
    }
    fn has_procedure(&self, code: &str) -> bool {
        !code.trim().is_empty()
    }
}

/// Today's date as validation sees it (no date of a record may lie after it).
pub type Clock = Arc<dyn Fn() -> Date + Send + Sync>;

/// Today in the agency's time zone (China Standard Time, UTC+8, like every time on a list).
pub fn agency_today() -> Date {
    let local = platform::wire::unix_seconds() + 8 * 3600;
    Date::from_days_since_epoch(i32::try_from(local.div_euclid(86_400)).unwrap_or(i32::MAX))
}

/// The intake of one settlement database.
#[derive(Clone)]
pub struct Intake {
    db: DatabaseConnection,
    valuer: Arc<dyn Valuer>,
    dictionary: Arc<dyn CodeDictionary + Send + Sync>,
    policy: Arc<ValidationPolicy>,
    today: Clock,
    chunk: usize,
    stores_in_flight: usize,
}

/// A record that passed reading, the region check and validation.
struct Prepared {
    position: u64,
    key: CaseKey,
    hash: ContentHash,
    /// The case as it will be stored, version and valuation still to fill in.
    case: LedgerCase,
    /// The inpatient list to value; `None` for ambulatory records.
    list: Option<SettlementList>,
    discharge: i32,
}

/// A chunk read and validated.
struct PreparedChunk {
    /// Upload position of its first record.
    base: u64,
    /// How many records it has.
    records: usize,
    /// [`uploads::fingerprint`] of its records.
    fingerprint: String,
    /// The records that passed.
    prepared: Vec<Prepared>,
    /// The rejections.
    checked: ChunkOutcome,
}

/// A chunk being stored.
type StoreHandle = tokio::task::JoinHandle<Result<ChunkOutcome, IntakeError>>;

async fn join(handle: StoreHandle) -> Result<ChunkOutcome, IntakeError> {
    handle
        .await
        .map_err(|e| IntakeError::Worker(e.to_string()))?
}

/// Below this many records a chunk is not split over threads.
const PARALLEL_MINIMUM: usize = 64;

/// What one chunk did.
#[derive(Default)]
struct ChunkOutcome {
    accepted: u64,
    corrected: u64,
    unchanged: u64,
    rejections: Vec<pb::RecordRejection>,
    rejected_positions: BTreeSet<u64>,
}

fn rejection(
    position: u64,
    hospital_code: &str,
    list_id: &str,
    field: &str,
    code: &str,
    why: impl Into<String>,
) -> pb::RecordRejection {
    pb::RecordRejection {
        hospital_code: echoed(hospital_code, limits::HOSPITAL_CODE),
        list_id: echoed(list_id, limits::LIST_ID),
        field: field.to_owned(),
        reason: why.into(),
        position,
        code: code.to_owned(),
    }
}

/// An identifier of a rejected record as answered: cut to its bound (marked with `…`) when the
/// record exceeds it, so that an oversized field is not sent back once per rejection.
fn echoed(text: &str, bound: usize) -> String {
    if text.chars().count() <= bound {
        text.to_owned()
    } else {
        text.chars().take(bound).chain(['…']).collect()
    }
}

/// The JSON path (`stay.discharged_at`, `diagnoses[1].code`) at byte `offset` of `text`: the
/// innermost member or element open there.
pub fn json_path_at(text: &str, offset: usize) -> String {
    enum Frame {
        Object(Option<String>),
        Array(usize),
    }
    let mut stack: Vec<Frame> = Vec::new();
    let bytes = text.as_bytes();
    let end = offset.min(bytes.len());
    let mut i = 0;
    // Whether the string being read next is an object key.
    let mut expect_key = false;
    while i < end {
        match bytes[i] {
            b'{' => {
                stack.push(Frame::Object(None));
                expect_key = true;
            }
            b'[' => {
                stack.push(Frame::Array(0));
                expect_key = false;
            }
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array(index)) => *index += 1,
                Some(Frame::Object(_)) => expect_key = true,
                None => {}
            },
            b':' => expect_key = false,
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < bytes.len() && bytes[j] != b'"' {
                    if bytes[j] == b'\\' {
                        j += 1;
                    }
                    j += 1;
                }
                if expect_key && let Some(Frame::Object(key)) = stack.last_mut() {
                    *key = Some(text.get(start..j.min(bytes.len())).unwrap_or("").to_owned());
                }
                i = j;
            }
            _ => {}
        }
        i += 1;
    }
    let mut path = String::new();
    for frame in &stack {
        match frame {
            Frame::Object(Some(key)) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Frame::Object(None) => {}
            Frame::Array(index) => path.push_str(&format!("[{index}]")),
        }
    }
    path
}

/// Field path and reason of a JSON reading error.
fn parse_failure(text: &str, error: &serde_json::Error) -> (String, String) {
    let offset = text
        .split_inclusive('\n')
        .take(error.line().saturating_sub(1))
        .map(str::len)
        .sum::<usize>()
        // serde's column is one past the offending token's last character; step back onto it so
        // that a container which opens the bad value is not counted as entered.
        + error.column().saturating_sub(2);
    let message = error.to_string();
    let mut field = json_path_at(text, offset);
    // serde reports a missing member at the end of the object that lacks it.
    if let Some(rest) = message.strip_prefix("missing field `")
        && let Some(name) = rest.split('`').next()
    {
        if !field.is_empty() {
            field.push('.');
        }
        field.push_str(name);
    }
    if field.is_empty() {
        field = format!("line {} column {}", error.line(), error.column());
    }
    (field, message)
}

fn hash_of_ambulatory(value: &serde_json::Value) -> ContentHash {
    let digest = sha2::Sha256::digest(canonical_json(value).as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    ContentHash(u64::from_be_bytes(first))
}

fn record_kind(kind: AmbulatoryKind) -> &'static str {
    match kind {
        AmbulatoryKind::Outpatient => "outpatient",
        AmbulatoryKind::ChronicOutpatient => "chronic_outpatient",
        AmbulatoryKind::Pharmacy => "pharmacy",
    }
}

fn stored_hash(text: &str) -> ContentHash {
    // A hash this intake did not write never equals a new one: the record is a change.
    u64::from_str_radix(text, 16).map_or(ContentHash(u64::MAX), ContentHash)
}

impl Intake {
    pub fn new(db: DatabaseConnection, valuer: Arc<dyn Valuer>) -> Self {
        Self {
            db,
            valuer,
            dictionary: Arc::new(GroupingChecksCodes),
            policy: Arc::new(ValidationPolicy::default()),
            today: Arc::new(agency_today),
            chunk: DEFAULT_CHUNK,
            stores_in_flight: STORES_IN_FLIGHT,
        }
    }

    /// Records per chunk (at least one).
    pub fn with_chunk(mut self, chunk: usize) -> Self {
        self.chunk = chunk.max(1);
        self
    }

    /// Chunks stored at once on PostgreSQL (at least one; one stores them strictly in upload
    /// order, so that a failing chunk leaves exactly the chunks before it stored).
    pub fn with_stores_in_flight(mut self, stores: usize) -> Self {
        self.stores_in_flight = stores.max(1);
        self
    }

    /// Reads today's date from `today` instead of the system clock (tests pin it).
    pub fn with_clock(mut self, today: Clock) -> Self {
        self.today = today;
        self
    }

    /// Validates codes against `dictionary` instead of leaving them to grouping.
    pub fn with_dictionary(mut self, dictionary: Arc<dyn CodeDictionary + Send + Sync>) -> Self {
        self.dictionary = dictionary;
        self
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Records per chunk: a reader of a streamed upload cuts its chunks at this size.
    pub fn chunk_size(&self) -> usize {
        self.chunk
    }

    /// Takes an upload held whole: every record answered, accepted ones stored, the answer stored
    /// under (caller, request id) and replayed on retry.
    pub async fn submit(
        &self,
        caller_id: &str,
        request_id: &str,
        method: &str,
        region: RegionCode,
        records: Vec<Record>,
    ) -> Result<pb::IntakeOutcome, IntakeError> {
        let count = records.len().div_ceil(self.chunk).max(1);
        let (sender, chunks) = tokio::sync::mpsc::channel(count);
        let mut records = records;
        while !records.is_empty() {
            let rest = records.split_off(self.chunk.min(records.len()));
            let chunk = std::mem::replace(&mut records, rest);
            // The channel holds every chunk: sending cannot fail or wait.
            let _ = sender.try_send(Ok(chunk));
        }
        drop(sender);
        self.submit_chunks(caller_id, request_id, method, region, chunks)
            .await
    }

    /// Takes an upload whose records arrive in chunks while earlier ones are being stored (a
    /// stream being read); an `Err` from `chunks` fails the upload.
    ///
    /// Chunk n+1 is read and validated on the blocking pool while chunk n is stored. On
    /// PostgreSQL several chunks ([`STORES_IN_FLIGHT`] unless [`Intake::with_stores_in_flight`]
    /// says otherwise) are stored at once, each in its own
    /// transaction, but never two holding the same case: a chunk that shares a case with one
    /// being stored waits for it, so every case's versions are decided in upload order, as if the
    /// chunks were stored one after another. SQLite, with its single writer, stores one at a time.
    pub async fn submit_chunks(
        &self,
        caller_id: &str,
        request_id: &str,
        method: &str,
        region: RegionCode,
        mut chunks: tokio::sync::mpsc::Receiver<Result<Vec<Record>, IntakeError>>,
    ) -> Result<pb::IntakeOutcome, IntakeError> {
        let call = journal::upload_call(caller_id, request_id, method, region);
        if let Some(stored) = journal::replay::<_, IntakeError>(&self.db, &call).await? {
            return self
                .replay_completed(caller_id, request_id, &stored, chunks)
                .await;
        }
        let stores_in_flight = match self.db.get_database_backend() {
            DbBackend::Postgres => self.stores_in_flight,
            _ => 1,
        };
        let mut outcome = pb::IntakeOutcome::default();
        let mut rejected = BTreeSet::new();
        let mut merge = |done: ChunkOutcome| {
            outcome.accepted += done.accepted;
            outcome.corrected += done.corrected;
            outcome.unchanged += done.unchanged;
            outcome.rejections.extend(done.rejections);
            rejected.extend(done.rejected_positions);
        };
        let mut storing: VecDeque<(BTreeSet<CaseKey>, StoreHandle)> = VecDeque::new();
        let mut next_base = 0u64;
        let mut start_preparing = |records: Vec<Record>| {
            let base = next_base;
            next_base += records.len() as u64;
            self.spawn_prepare(region, base, records, request_id)
        };
        let mut fingerprints: Vec<String> = Vec::new();
        let mut preparing = chunks.recv().await.transpose()?.map(&mut start_preparing);
        while let Some(ready) = preparing.take() {
            let PreparedChunk {
                base,
                records,
                fingerprint,
                prepared,
                checked,
            } = ready
                .await
                .map_err(|e| IntakeError::Worker(e.to_string()))??;
            let chunk_index = i64::try_from(fingerprints.len()).unwrap_or(i64::MAX);
            // A chunk stored by an earlier attempt under this request id must be the same
            // chunk; checked before it (or anything after it) is stored.
            let mark =
                match uploads::stored_chunk(&self.db, caller_id, request_id, chunk_index).await? {
                    Some(stored) if stored != fingerprint => {
                        while let Some((_, earlier)) = storing.pop_front() {
                            merge(join(earlier).await?);
                        }
                        return Err(IntakeError::RequestIdReused {
                            request_id: request_id.to_owned(),
                            detail: format!(
                                "the records from position {base} on differ from those stored"
                            ),
                        });
                    }
                    Some(_) => None,
                    None => Some(ChunkMark {
                        caller_id: caller_id.to_owned(),
                        request_id: request_id.to_owned(),
                        chunk_index,
                        records: i64::try_from(records).unwrap_or(i64::MAX),
                        fingerprint: fingerprint.clone(),
                    }),
                };
            fingerprints.push(fingerprint);
            let keys: BTreeSet<CaseKey> = prepared.iter().map(|p| p.key.clone()).collect();
            while storing.len() >= stores_in_flight
                || storing.iter().any(|(held, _)| !held.is_disjoint(&keys))
            {
                let Some((_, oldest)) = storing.pop_front() else {
                    break;
                };
                merge(join(oldest).await?);
            }
            let intake = self.clone();
            storing.push_back((
                keys,
                tokio::spawn(async move {
                    intake
                        .store_prepared(region, base, mark, prepared, checked)
                        .await
                }),
            ));
            preparing = chunks.recv().await.transpose()?.map(&mut start_preparing);
        }
        while let Some((_, oldest)) = storing.pop_front() {
            merge(join(oldest).await?);
        }
        outcome.rejected = rejected.len() as u64;
        // A chunk answers its reading and validation rejections before its storage ones.
        outcome.rejections.sort_by_key(|r| r.position);
        let encoded = pb::SubmitCaseBatchResponse {
            outcome: Some(outcome.clone()),
        }
        .encode_to_vec();
        let detail = format!(
            "region {region}: {} accepted, {} corrected, {} unchanged, {} rejected",
            outcome.accepted, outcome.corrected, outcome.unchanged, outcome.rejected
        );
        let call = journal::upload_call(caller_id, request_id, method, region);
        let (caller, request) = (caller_id.to_owned(), request_id.to_owned());
        let records = next_base;
        let once = journal::run_once::<IntakeError, _>(&self.db, &call, move |txn| {
            Box::pin(async move {
                uploads::insert_upload(txn, &caller, &request, &fingerprints, records).await?;
                Ok((encoded, detail))
            })
        })
        .await?;
        match once {
            Once::Done(_) => Ok(outcome),
            Once::Replayed(stored) => replayed(&stored, request_id),
        }
    }

    /// Answers a retry of a completed upload: its stored answer when the records are the ones
    /// completed under this request id, [`IntakeError::RequestIdReused`] when they differ. Only
    /// fingerprints are computed; nothing is read, validated or stored. An upload completed
    /// before fingerprints were kept has none, and is replayed as it always was.
    async fn replay_completed(
        &self,
        caller_id: &str,
        request_id: &str,
        stored_answer: &[u8],
        mut chunks: tokio::sync::mpsc::Receiver<Result<Vec<Record>, IntakeError>>,
    ) -> Result<pb::IntakeOutcome, IntakeError> {
        let Some((stored_chunks, stored_fingerprint)) =
            uploads::stored_upload(&self.db, caller_id, request_id).await?
        else {
            return replayed(stored_answer, request_id);
        };
        let mut fingerprints = Vec::new();
        while let Some(records) = chunks.recv().await.transpose()? {
            let fingerprint = tokio::task::spawn_blocking(move || uploads::fingerprint(&records))
                .await
                .map_err(|e| IntakeError::Worker(e.to_string()))?;
            fingerprints.push(fingerprint);
        }
        let same = i64::try_from(fingerprints.len()).ok() == Some(stored_chunks)
            && uploads::upload_fingerprint(&fingerprints) == stored_fingerprint;
        if same {
            replayed(stored_answer, request_id)
        } else {
            Err(IntakeError::RequestIdReused {
                request_id: request_id.to_owned(),
                detail: "its records differ from the completed upload".to_owned(),
            })
        }
    }

    /// Starts reading, checking and validating a chunk in the background.
    fn spawn_prepare(
        &self,
        region: RegionCode,
        base: u64,
        records: Vec<Record>,
        request_id: &str,
    ) -> tokio::task::JoinHandle<Result<PreparedChunk, IntakeError>> {
        let intake = self.clone();
        let request_id = request_id.to_owned();
        tokio::spawn(async move {
            intake
                .prepare_chunk(region, base, records, request_id)
                .await
        })
    }

    /// Reads, checks and validates a chunk on the blocking pool, split over the cores; the
    /// prepared records and rejections keep upload order.
    async fn prepare_chunk(
        &self,
        region: RegionCode,
        base: u64,
        records: Vec<Record>,
        request_id: String,
    ) -> Result<PreparedChunk, IntakeError> {
        let (fingerprint, records) = tokio::task::spawn_blocking(move || {
            let fingerprint = uploads::fingerprint(&records);
            (fingerprint, records)
        })
        .await
        .map_err(|e| IntakeError::Worker(e.to_string()))?;
        let count = records.len();
        let stored_at = platform::wire::unix_seconds();
        let today = (self.today)();
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        let part = records.len().div_ceil(workers).max(PARALLEL_MINIMUM);
        let request_id = Arc::<str>::from(request_id);
        let mut parts = Vec::new();
        let mut offset = 0usize;
        let mut records = records;
        while !records.is_empty() {
            let rest = records.split_off(part.min(records.len()));
            let slice = std::mem::replace(&mut records, rest);
            let count = slice.len();
            let intake = self.clone();
            let request_id = Arc::clone(&request_id);
            let first = base + offset as u64;
            parts.push(tokio::task::spawn_blocking(move || {
                intake.prepare_records(region, first, slice, &request_id, stored_at, today)
            }));
            offset += count;
        }
        let mut prepared = Vec::new();
        let mut checked = ChunkOutcome::default();
        for part in parts {
            let (ready, rejected) = part.await.map_err(|e| IntakeError::Worker(e.to_string()))?;
            prepared.extend(ready);
            checked
                .rejected_positions
                .extend(rejected.rejected_positions);
            checked.rejections.extend(rejected.rejections);
        }
        Ok(PreparedChunk {
            base,
            records: count,
            fingerprint,
            prepared,
            checked,
        })
    }

    /// Reads, checks and validates consecutive records starting at upload position `first`.
    fn prepare_records(
        &self,
        region: RegionCode,
        first: u64,
        records: Vec<Record>,
        request_id: &str,
        stored_at: i64,
        today: Date,
    ) -> (Vec<Prepared>, ChunkOutcome) {
        let mut done = ChunkOutcome::default();
        let mut prepared = Vec::with_capacity(records.len());
        for (offset, record) in records.into_iter().enumerate() {
            let position = first + offset as u64;
            match self.prepare(region, position, record, request_id, stored_at, today) {
                Ok(ready) => prepared.push(ready),
                Err(rejections) => {
                    done.rejected_positions.insert(position);
                    done.rejections.extend(rejections);
                }
            }
        }
        (prepared, done)
    }

    /// Decides, values and stores a prepared chunk, deciding again after a lost race.
    async fn store_prepared(
        &self,
        region: RegionCode,
        base: u64,
        mut mark: Option<ChunkMark>,
        prepared: Vec<Prepared>,
        checked: ChunkOutcome,
    ) -> Result<ChunkOutcome, IntakeError> {
        let mut done = checked;
        let mut valued: HashMap<u64, Result<Valued, String>> = HashMap::new();
        for attempt in 0..RACE_ATTEMPTS {
            if attempt > 0
                && let Some(ours) = &mark
            {
                // A concurrent upload under the same request id may have stored this chunk.
                match uploads::stored_chunk(
                    &self.db,
                    &ours.caller_id,
                    &ours.request_id,
                    ours.chunk_index,
                )
                .await?
                {
                    Some(stored) if stored != ours.fingerprint => {
                        return Err(IntakeError::RequestIdReused {
                            request_id: ours.request_id.clone(),
                            detail: format!(
                                "the records from position {base} on differ from those stored"
                            ),
                        });
                    }
                    Some(_) => mark = None,
                    None => {}
                }
            }
            match self
                .store_chunk(region, mark.as_ref(), &prepared, &mut valued)
                .await?
            {
                Some(stored) => {
                    done.accepted += stored.accepted;
                    done.corrected += stored.corrected;
                    done.unchanged += stored.unchanged;
                    done.rejections.extend(stored.rejections);
                    done.rejected_positions.extend(stored.rejected_positions);
                    return Ok(done);
                }
                // Another upload stored some of these cases meanwhile: decide again.
                None => continue,
            }
        }
        Err(IntakeError::Contended(base))
    }

    /// Reads one record and runs the checks that need no storage.
    fn prepare(
        &self,
        region: RegionCode,
        position: u64,
        record: Record,
        request_id: &str,
        stored_at: i64,
        today: Date,
    ) -> Result<Prepared, Vec<pb::RecordRejection>> {
        let (text, inpatient) = match record {
            Record::List(text) => (text, true),
            Record::Ambulatory(text) => (text, false),
            Record::Empty => {
                return Err(vec![rejection(
                    position,
                    "",
                    "",
                    "record",
                    reason::EMPTY,
                    "the message carries no record",
                )]);
            }
        };
        let unreadable = |error: serde_json::Error| {
            let (field, why) = parse_failure(&text, &error);
            vec![rejection(position, "", "", &field, reason::UNREADABLE, why)]
        };
        if inpatient {
            let list: SettlementList = serde_json::from_str(&text).map_err(unreadable)?;
            let header = &list.header;
            let reject = |field: &str, code: &str, why: String| {
                rejection(
                    position,
                    &header.hospital_code,
                    &header.list_id,
                    field,
                    code,
                    why,
                )
            };
            if !region.contains(header.pooling_region) {
                return Err(vec![reject(
                    "header.pooling_region",
                    reason::REGION_OUTSIDE_UPLOAD,
                    format!(
                        "pooling region {} is not inside the upload's region {region}",
                        header.pooling_region
                    ),
                )]);
            }
            let report = validate_list(&list, self.dictionary.as_ref(), &self.policy, today);
            if !report.is_accepted() {
                return Err(report
                    .errors
                    .iter()
                    .map(|v| reject(&v.field, &v.reason().to_ascii_lowercase(), v.detail.clone()))
                    .collect());
            }
            let Some(fund) = fund_of(&list) else {
                return Err(vec![reject(
                    "header.insutype",
                    "insurance_type_invalid",
                    format!("{} is neither 310 nor 390", header.insurance_type),
                )]);
            };
            let (case_json, hash) = canonical_json_with_hash(&list);
            let discharge = yyyymmdd(list.stay.discharged_at.date());
            let case = ledger_case(
                &list.header,
                "inpatient",
                fund,
                discharge,
                &list.payment,
                hash,
                case_json,
                request_id,
                stored_at,
            );
            Ok(Prepared {
                position,
                key: CaseKey::of(&list),
                hash,
                case,
                list: Some(list),
                discharge,
            })
        } else {
            let value: serde_json::Value = serde_json::from_str(&text).map_err(unreadable)?;
            let settlement: AmbulatorySettlement =
                serde_json::from_str(&text).map_err(unreadable)?;
            let header = &settlement.header;
            let reject = |field: &str, code: &str, why: String| {
                rejection(
                    position,
                    &header.hospital_code,
                    &header.list_id,
                    field,
                    code,
                    why,
                )
            };
            if !region.contains(header.pooling_region) {
                return Err(vec![reject(
                    "header.pooling_region",
                    reason::REGION_OUTSIDE_UPLOAD,
                    format!(
                        "pooling region {} is not inside the upload's region {region}",
                        header.pooling_region
                    ),
                )]);
            }
            let report =
                validate_ambulatory(&settlement, self.dictionary.as_ref(), &self.policy, today);
            if !report.is_accepted() {
                return Err(report
                    .errors
                    .iter()
                    .map(|v| reject(&v.field, &v.reason().to_ascii_lowercase(), v.detail.clone()))
                    .collect());
            }
            let Some(fund) = FundType::from_code(header.insurance_type).ok() else {
                return Err(vec![reject(
                    "header.insutype",
                    "insurance_type_invalid",
                    format!("{} is neither 310 nor 390", header.insurance_type),
                )]);
            };
            let hash = hash_of_ambulatory(&value);
            let discharge = yyyymmdd(settlement.settled_at.date());
            let mut case = ledger_case(
                header,
                record_kind(settlement.kind),
                fund,
                discharge,
                &settlement.payment,
                hash,
                canonical_json(&value),
                request_id,
                stored_at,
            );
            case.status = status::RECORDED.to_owned();
            Ok(Prepared {
                position,
                key: CaseKey {
                    hospital_code: header.hospital_code.clone(),
                    list_id: header.list_id.clone(),
                },
                hash,
                case,
                list: None,
                discharge,
            })
        }
    }

    /// Decides, values and stores a chunk in one transaction; `None` when a concurrent upload
    /// stored one of its cases first (nothing of the chunk is stored then).
    async fn store_chunk(
        &self,
        region: RegionCode,
        mark: Option<&ChunkMark>,
        prepared: &[Prepared],
        valued: &mut HashMap<u64, Result<Valued, String>>,
    ) -> Result<Option<ChunkOutcome>, IntakeError> {
        let mut done = ChunkOutcome::default();
        if prepared.is_empty() {
            return match CaseStore::store_marked_versions(&self.db, &[], mark).await {
                Ok(()) => Ok(Some(done)),
                Err(StoreError::VersionTaken) => Ok(None),
                Err(error) => Err(error.into()),
            };
        }
        let mut current = current_versions(&self.db, prepared).await?;
        let codes: Vec<String> = prepared
            .iter()
            .map(|p| p.key.hospital_code.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let registry = institutions::records(&self.db, &codes).await?;
        let mut closed: HashMap<(RegionCode, FundType, i32), bool> = HashMap::new();
        // (index into `prepared`, version) of what to store, in upload order.
        let mut to_store: Vec<(usize, i32)> = Vec::new();
        for (index, ready) in prepared.iter().enumerate() {
            let reject = |field: &str, code: &str, why: String| {
                rejection(
                    ready.position,
                    &ready.key.hospital_code,
                    &ready.key.list_id,
                    field,
                    code,
                    why,
                )
            };
            let record = registry.get(&ready.key.hospital_code);
            // A hospital registered elsewhere is answered exactly like one never registered, so
            // an upload cannot tell whether another region's hospital (or its case) exists.
            if !registered_inside(record, region) {
                done.rejected_positions.insert(ready.position);
                done.rejections.push(reject(
                    "header.fixmedins_code",
                    reason::NOT_REGISTERED,
                    format!(
                        "institution {} is not registered in region {region}",
                        ready.key.hospital_code
                    ),
                ));
                continue;
            }
            if !has_valid_agreement(record, ready.discharge) {
                done.rejected_positions.insert(ready.position);
                done.rejections.push(reject(
                    "header.fixmedins_code",
                    reason::NO_VALID_AGREEMENT,
                    format!(
                        "institution {} has no active service agreement covering {}",
                        ready.key.hospital_code, ready.discharge
                    ),
                ));
                continue;
            }
            let existing = current
                .get(&ready.key)
                .map(|(version, hash)| StoredVersion {
                    key: ready.key.clone(),
                    version: u32::try_from(*version).unwrap_or(0),
                    content_hash: *hash,
                });
            let month_closed = match &existing {
                Some(stored) if stored.content_hash != ready.hash => {
                    let month_key = (ready.case.region, ready.case.fund, ready.discharge / 100);
                    match closed.get(&month_key) {
                        Some(answer) => *answer,
                        None => {
                            let month = YearMonth::new(
                                ready.discharge / 10_000,
                                u32::try_from(ready.discharge / 100 % 100).unwrap_or(0),
                            )
                            .map_err(|e| StoreError::Database(DbErr::Custom(e.to_string())))?;
                            let answer = calendar::is_closed(
                                &self.db,
                                ready.case.region,
                                ready.case.fund,
                                month,
                            )
                            .await?;
                            closed.insert(month_key, answer);
                            answer
                        }
                    }
                }
                _ => false,
            };
            let version = match decide_intake(existing.as_ref(), ready.hash, month_closed) {
                IntakeDecision::NoOp => {
                    done.unchanged += 1;
                    continue;
                }
                IntakeDecision::DeferredToYearEnd { .. } => {
                    done.rejected_positions.insert(ready.position);
                    done.rejections.push(reject(
                        "header.setl_id",
                        reason::MONTH_CLOSED,
                        format!(
                            "the month of discharge {} is closed; a changed list is no longer taken",
                            ready.discharge
                        ),
                    ));
                    continue;
                }
                IntakeDecision::NewCase => {
                    done.accepted += 1;
                    1
                }
                IntakeDecision::Correction { version } => {
                    done.corrected += 1;
                    i32::try_from(version).unwrap_or(i32::MAX)
                }
            };
            current.insert(ready.key.clone(), (version, ready.hash));
            to_store.push((index, version));
        }
        self.value_missing(prepared, &to_store, valued).await?;
        let mut versions = Vec::with_capacity(to_store.len());
        for &(index, version) in &to_store {
            let ready = &prepared[index];
            let mut case = ready.case.clone();
            case.version = version;
            if ready.list.is_some() {
                match valued.get(&ready.position) {
                    Some(Ok(v)) => {
                        case.status = status::VALUED.to_owned();
                        case.payment_mode = v.payment_mode.clone();
                        case.group_code = v.group_code.clone();
                        case.points = v.points;
                        case.scheme_version = v.scheme_version.clone();
                        case.table_version = v.table_version.clone();
                        case.valuation_json = v.valuation_json.clone();
                    }
                    Some(Err(why)) => {
                        case.status = status::UNVALUED.to_owned();
                        case.valuation_error = why.clone();
                    }
                    None => {
                        case.status = status::UNVALUED.to_owned();
                        case.valuation_error = "not valued".to_owned();
                    }
                }
            }
            versions.push(case);
        }
        match CaseStore::store_marked_versions(&self.db, &versions, mark).await {
            Ok(()) => Ok(Some(done)),
            Err(StoreError::VersionTaken) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Values the inpatient cases about to be stored that have no valuation yet, per pooling
    /// region (each region's active scheme and table apply).
    async fn value_missing(
        &self,
        prepared: &[Prepared],
        to_store: &[(usize, i32)],
        valued: &mut HashMap<u64, Result<Valued, String>>,
    ) -> Result<(), Unavailable> {
        let mut by_region: BTreeMap<RegionCode, Vec<usize>> = BTreeMap::new();
        for &(index, _) in to_store {
            let ready = &prepared[index];
            if ready.list.is_some() && !valued.contains_key(&ready.position) {
                by_region.entry(ready.case.region).or_default().push(index);
            }
        }
        for (region, indices) in by_region {
            let lists: Vec<SettlementList> = indices
                .iter()
                .filter_map(|&i| prepared[i].list.clone())
                .collect();
            let answers = self.valuer.value_batch(region, &lists).await?;
            for (slot, &i) in indices.iter().enumerate() {
                let answer = answers
                    .get(slot)
                    .cloned()
                    .unwrap_or_else(|| Err("valuation answered fewer results".to_owned()));
                valued.insert(prepared[i].position, answer);
            }
        }
        Ok(())
    }
}

fn replayed(stored: &[u8], request_id: &str) -> Result<pb::IntakeOutcome, IntakeError> {
    let response = pb::SubmitCaseBatchResponse::decode(stored)
        .map_err(|_| IntakeError::CorruptAnswer(request_id.to_owned()))?;
    let mut outcome = response.outcome.unwrap_or_default();
    outcome.replayed = true;
    Ok(outcome)
}

/// Whether the institution is registered and its current registration lies in `region` (the
/// upload's region, which the caller's scope covers).
fn registered_inside(record: Option<&InstitutionRecord>, region: RegionCode) -> bool {
    record
        .and_then(|record| record.history().last())
        .is_some_and(|latest| region.contains(latest.institution.pooling_region))
}

fn has_valid_agreement(record: Option<&InstitutionRecord>, discharge: i32) -> bool {
    match (record, institutions::date_of(discharge)) {
        (Some(record), Some(on)) => record.has_valid_agreement(on),
        _ => false,
    }
}

#[allow(clippy::too_many_arguments)]
fn ledger_case(
    header: &settlement_domain::case::ListHeader,
    kind: &str,
    fund: FundType,
    discharge: i32,
    payment: &settlement_domain::case::Payment,
    hash: ContentHash,
    case_json: String,
    request_id: &str,
    stored_at: i64,
) -> LedgerCase {
    LedgerCase {
        region: header.pooling_region,
        hospital_code: header.hospital_code.clone(),
        list_id: header.list_id.clone(),
        version: 1,
        record_kind: kind.to_owned(),
        fund,
        discharge_date: discharge,
        payment_mode: String::new(),
        group_code: String::new(),
        points: Points::from_scaled(0),
        total_cost: payment.total,
        individual_burden: payment.individual_burden(),
        fund_amount: payment.fund_total(),
        status: status::UNVALUED.to_owned(),
        valuation_error: String::new(),
        scheme_version: String::new(),
        table_version: String::new(),
        valuation_json: String::new(),
        content_hash: hash.to_string(),
        case_json,
        request_id: request_id.to_owned(),
        stored_at,
    }
}

/// Current (version, hash) of the chunk's cases, in one query.
async fn current_versions(
    db: &DatabaseConnection,
    prepared: &[Prepared],
) -> Result<HashMap<CaseKey, (i32, ContentHash)>, StoreError> {
    let wanted: BTreeSet<(&str, &str)> = prepared
        .iter()
        .map(|p| (p.key.hospital_code.as_str(), p.key.list_id.as_str()))
        .collect();
    let keys: Vec<(&str, &str)> = wanted.into_iter().collect();
    Ok(CaseStore::current_hashes(db, &keys)
        .await?
        .into_iter()
        .map(|(hospital_code, list_id, version, hash)| {
            (
                CaseKey {
                    hospital_code,
                    list_id,
                },
                (version, stored_hash(&hash)),
            )
        })
        .collect())
}

/// A valid inpatient settlement list as JSON (an appendicitis stay of one day, 12,000.00 total),
/// for tests, benches and demos: `discharge` is `yyyy-mm-dd`, `case_number` lets a caller send a
/// changed version of the same list.
pub fn sample_list_json(
    region: &str,
    hospital_code: &str,
    list_id: &str,
    discharge: &str,
    case_number: &str,
) -> String {
    format!(
        r#"{{"header":{{"setl_id":"{list_id}","fixmedins_code":"{hospital_code}","hospital_level":"3","insutype":310,"psn_no":"P{list_id}","case_number":"{case_number}","declared_at":"{discharge} 18:00:00","pooling_region":"{region}"}},"patient":{{"sex":2,"birth_date":"1990-03-01","age_years":35}},"stay":{{"med_type":"21","admission_route":"2","admitted_at":"{discharge} 08:30","admission_department":"general_surgery","discharged_at":"{discharge} 17:00","discharge_department":"general_surgery","discharge_type":1}},"diagnoses":[{{"code":"K35.800","name":"acute appendicitis","admission_condition":1}},{{"code":"I10.x00","name":"hypertension","admission_condition":1}}],"procedures":[{{"code":"47.0100x001","name":"laparoscopic appendectomy","date":"{discharge}","anaesthesia":"general"}}],"charges":[{{"category":"surgery","amount":"7000.00"}},{{"category":"western_drugs","amount":"3000.00"}},{{"category":"bed","amount":"2000.00"}}],"payment":{{"medfee_sumamt":"12000.00","hifp_pay":"8400.00","hifmi_pay":"600.00","acct_pay":"1000.00","psn_cash_pay":"2000.00","fulamt_ownpay_amt":"300.00","copay_amt":"2700.00"}}}}"#
    )
}

/// A valid outpatient settlement as JSON, for tests and demos.
pub fn sample_outpatient_json(
    region: &str,
    hospital_code: &str,
    list_id: &str,
    settled: &str,
) -> String {
    format!(
        r#"{{"header":{{"setl_id":"{list_id}","fixmedins_code":"{hospital_code}","hospital_level":"3","insutype":390,"psn_no":"P{list_id}","case_number":"MZ{list_id}","declared_at":"{settled} 18:00:00","pooling_region":"{region}"}},"kind":"outpatient","med_type":"11","settled_at":"{settled} 10:00","diagnoses":[{{"code":"I10.x00","name":"hypertension","admission_condition":1}}],"payment":{{"medfee_sumamt":"300.00","hifp_pay":"150.00","acct_pay":"50.00","psn_cash_pay":"100.00"}}}}"#
    )
}
