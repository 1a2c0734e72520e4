//! Intake of settlement lists (DOMAIN.md §5): record by record, in chunks, idempotent.
//!
//! What is taken is the domain's decision ([`settlement_domain::admission`]): each record is read
//! and validated there (with today from the intake's clock: no date after it), and each chunk
//! decided there against the facts gathered here (the registry records of its institutions, the
//! current versions of its cases, the closed months). Accepted records are stored even when
//! others are rejected.
//!
//! A chunk is valued through the domain's [`CaseValuer`] port, then stored in one transaction
//! with the warnings of its records (validation's and the codes grouping did not know). Its lists
//! are first valued as soon as it is read, while the chunks ahead of it are stored (grouping and
//! points do not read the ledger); the per-diem episode days, which do, are added when it is
//! stored.
//! Two uploads of the same cases racing each other collide on the ledger's primary key; the loser
//! decides its chunk again against what the winner stored, so every case is stored once. A peer
//! that cannot be reached fails the upload before the chunk's transaction, so nothing of that
//! chunk is stored; the chunks before it are (and, on PostgreSQL, those being stored beside it
//! may be), and a retry counts them as unchanged. A chunk's per-diem episode days count the
//! stays of the chunks before it in the upload, on both databases ([`turn`]). A streamed upload
//! is stored while it arrives: a stream that breaks off leaves its earlier chunks stored, in the
//! same way. The upload's final
//! answer is stored under its request id through the journal: a retry of a completed upload
//! replays it.
//! Each stored chunk and each completed upload leaves a fingerprint ([`crate::store::uploads`]): a retry
//! with other records under the same request id is refused before any of them is stored.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use kernel::RegionCode;
use kernel::date::Date;
use medpay_proto::settlement::v1 as pb;
use prost::Message;
use settlement_domain::admission::{
    self, Admitted, IntakeFacts, Record, Rejection, decide_chunk, months_to_check, read_record,
};
use settlement_domain::case::SettlementList;
use settlement_domain::case_key::{CaseKey, ContentHash, StoredVersion};
use settlement_domain::ledger::LedgerStatus;
use settlement_domain::ports::{
    CaseValuer, CheckedValuation, CodeDictionary, GroupingChecksCodes, PeerUnavailable,
    UnknownCode, ValuedCase,
};
use settlement_domain::validation::ValidationPolicy;
use tracing::Instrument;

use crate::convert::intake::rejection_to_wire;
use crate::store::closed_months;
use crate::store::institutions;
use crate::store::journal::{self, Once};
use crate::store::ledger::{CaseStore, LedgerCase, StoreError, StoredHead};
use crate::store::uploads::{self, ChunkMark};
use crate::store::warnings::KeptWarnings;
use crate::store::{Database, Storage};
use crate::timing::lap;

/// Records per chunk on PostgreSQL: one valuation batch and one transaction each.
pub const DEFAULT_CHUNK: usize = 1_000;
/// Records per chunk on SQLite. Its single writer commits one chunk at a time, and a commit
/// writes every page the chunk changed, 16 KiB each, into the WAL and later into the file: the
/// ledger's index pages a chunk touches are about as many for four thousand cases as for one
/// thousand. The 200,000-case demo's year took 36.3 s to take in against 44.6 s at 1,000.
pub const SQLITE_CHUNK: usize = 4_000;
/// Chunks of one upload stored at once on PostgreSQL, each on its own connection. A chunk spends
/// most of its time waiting (its lookups, the grouping and points calls, its commit); with six
/// under way the database and the valuation peers stay busy (3: 15,500 cases/s end to end, 4:
/// 20,500, 6: 25,500, 8: no more; `cargo bench -p integration-tests --bench intake_end_to_end`).
pub const STORES_IN_FLIGHT: usize = 6;
/// Chunks of one upload under way at once on SQLite: one being written while the next gathers
/// its facts (the current versions of its cases, its institutions, the closed months) and is
/// valued. The next one is written only once the one before is stored ([`ChunkTurn`]), so the
/// single writer still stores them in upload order, and it is valued again when the one before
/// stored a per-diem stay of a person it looked up, so every episode counts the stays before it.
pub const SQLITE_STORES_IN_FLIGHT: usize = 2;
/// How often a chunk is decided again after losing a race on the ledger's primary key.
const RACE_ATTEMPTS: usize = 8;

/// Why an upload failed as a whole (nothing of the failing chunk is stored).
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Unavailable(#[from] PeerUnavailable),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The months of a chunk's cases could not be told.
    #[error("the months of a chunk: {0}")]
    Months(#[from] kernel::YearMonthError),
    #[error("the stored answer of request {0} cannot be read")]
    CorruptAnswer(String),
    #[error("chunk at record {0} kept colliding with concurrent uploads")]
    Contended(u64),
    #[error("reading records failed: {0}")]
    Worker(String),
    /// The upload's stream broke off; the chunks before were stored.
    #[error("the upload stream failed: {0}")]
    Input(#[from] BrokenStream),
    /// The request id was used before for another method or region.
    #[error(transparent)]
    Reused(#[from] platform::journal::RequestIdReused),
    /// The request id was used before for an upload with other records; nothing of this one
    /// was stored.
    #[error("request id {request_id} was already used for an upload with other records: {detail}")]
    RequestIdReused { request_id: String, detail: String },
}

/// Why an upload's stream broke off (the chunks before it were stored).
#[derive(Debug, thiserror::Error)]
pub enum BrokenStream {
    /// A message over the stream's limit ([`crate::grpc::MAX_STREAM_MESSAGE_BYTES`]).
    #[error("message {position} of the stream is {length} bytes")]
    TooLarge { length: usize, position: u64 },
    /// The transport refused a message over its decoding limit.
    #[error("{0}")]
    OverDecodingLimit(String),
    /// The stream failed otherwise: the transport's gRPC code and message.
    #[error("{message}")]
    Failed { code: i32, message: String },
}

mod episodes;
mod incoming;
mod revaluation;
mod turn;
mod warnings;

pub use incoming::Incoming;

use revaluation::record_valuation;
use turn::{ChunkBeside, ChunkTurn, EpisodeLookup, EpisodePersons};

pub use revaluation::{Revaluation, RevaluationOrder};

/// Today's date as validation sees it (no date of a record may lie after it).
pub type Clock = Arc<dyn Fn() -> Date + Send + Sync>;

/// Today in the agency's time zone (China Standard Time, UTC+8, like every time on a list).
pub fn agency_today() -> Date {
    settlement_domain::clock::agency_date(platform::wire::unix_seconds())
}

/// The intake of one settlement database.
#[derive(Clone)]
pub struct Intake {
    db: Database,
    valuer: Arc<dyn CaseValuer>,
    dictionary: Arc<dyn CodeDictionary + Send + Sync>,
    policy: Arc<ValidationPolicy>,
    today: Clock,
    chunk: usize,
    stores_in_flight: usize,
}

/// A chunk read and validated.
struct PreparedChunk {
    /// Upload position of its first record.
    base: u64,
    /// How many records it has.
    records: usize,
    /// [`admission::fingerprint`] of its records.
    fingerprint: String,
    /// The records that passed.
    prepared: Vec<Admitted>,
    /// The rejections.
    checked: ChunkOutcome,
    /// When it was read (unix seconds): the stored time of its cases.
    stored_at: i64,
    /// Its lists' first valuations, being made while the chunks ahead of it are stored.
    first_valuations: UploadTask<FirstValuations>,
}

/// First valuations of a chunk's lists by upload position: grouping and points with no
/// per-diem episode days, and the codes grouping did not know.
type FirstValuations = HashMap<u64, (Result<ValuedCase, String>, Vec<UnknownCode>)>;

/// A chunk's work in a task of its own (its first valuation, its store), in the request's span
/// (the peer calls it makes carry its trace), aborted when the upload is dropped before it is
/// joined. A caller whose deadline passed or whose connection broke sends the same upload again;
/// a store task left running (waiting for a connection, say) could otherwise commit after that
/// retry and after the uploads the caller sends next, and bring back records they replaced.
struct UploadTask<T>(tokio::task::JoinHandle<Result<T, IntakeError>>);

impl<T: Send + 'static> UploadTask<T> {
    fn spawn(work: impl Future<Output = Result<T, IntakeError>> + Send + 'static) -> Self {
        Self(tokio::spawn(work.in_current_span()))
    }

    /// What the task gave; a first valuation that could not reach a peer fails the chunk
    /// before its transaction, as a valuation at the store would.
    async fn join(mut self) -> Result<T, IntakeError> {
        (&mut self.0)
            .await
            .map_err(|e| IntakeError::Worker(e.to_string()))?
    }
}

impl<T> Drop for UploadTask<T> {
    fn drop(&mut self) {
        // Aborting a finished task does nothing; an unfinished store rolls its transaction back.
        self.0.abort();
    }
}

/// What one chunk did.
#[derive(Default)]
struct ChunkOutcome {
    accepted: u64,
    corrected: u64,
    unchanged: u64,
    rejections: Vec<Rejection>,
    rejected_positions: BTreeSet<u64>,
}

impl ChunkOutcome {
    fn reject(&mut self, rejections: impl IntoIterator<Item = Rejection>) {
        for rejection in rejections {
            self.rejected_positions.insert(rejection.position);
            self.rejections.push(rejection);
        }
    }

    fn add(&mut self, other: ChunkOutcome) {
        self.accepted += other.accepted;
        self.corrected += other.corrected;
        self.unchanged += other.unchanged;
        self.rejections.extend(other.rejections);
        self.rejected_positions.extend(other.rejected_positions);
    }
}

/// Valuations of a chunk by upload position, kept across its attempts, with the codes grouping
/// found unknown.
#[derive(Default)]
struct Valuations {
    answers: HashMap<u64, Result<ValuedCase, String>>,
    unknown: HashMap<u64, Vec<UnknownCode>>,
    /// First valuations made when the chunk was read, not yet given their episode days.
    first: FirstValuations,
}

fn stored_hash(text: &str) -> ContentHash {
    // A hash this intake did not write never equals a new one: the record is a change.
    u64::from_str_radix(text, 16).map_or(ContentHash(u64::MAX), ContentHash)
}

impl Intake {
    pub fn new(db: impl Into<Database>, valuer: Arc<dyn CaseValuer>) -> Self {
        let db: Database = db.into();
        let chunk = if db.takes_concurrent_writers() {
            DEFAULT_CHUNK
        } else {
            SQLITE_CHUNK
        };
        Self {
            db,
            valuer,
            dictionary: Arc::new(GroupingChecksCodes),
            policy: Arc::new(ValidationPolicy::default()),
            today: Arc::new(agency_today),
            chunk,
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
        records: Vec<impl Into<Incoming>>,
    ) -> Result<pb::IntakeOutcome, IntakeError> {
        let count = records.len().div_ceil(self.chunk).max(1);
        let (sender, chunks) = tokio::sync::mpsc::channel(count);
        let mut records: Vec<Incoming> = records.into_iter().map(Into::into).collect();
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
    /// Chunk n+1 is read (typed messages included, see [`Incoming`]) and validated on the
    /// blocking pool while chunk n is stored. On
    /// PostgreSQL several chunks ([`STORES_IN_FLIGHT`] unless [`Intake::with_stores_in_flight`]
    /// says otherwise) are stored at once, each in its own
    /// transaction, but never two holding the same case: a chunk that shares a case with one
    /// being stored waits for it, so every case's versions are decided in upload order, as if the
    /// chunks were stored one after another. SQLite, with its single writer, stores them in upload
    /// order, one at a time, each chunk gathering its facts while the one before is stored
    /// ([`ChunkTurn`]).
    pub async fn submit_chunks(
        &self,
        caller_id: &str,
        request_id: &str,
        method: &str,
        region: RegionCode,
        mut chunks: tokio::sync::mpsc::Receiver<Result<Vec<Incoming>, IntakeError>>,
    ) -> Result<pb::IntakeOutcome, IntakeError> {
        let call = journal::upload_call(caller_id, request_id, method, region);
        if let Some(stored) = self.db.replay::<IntakeError>(&call).await? {
            return self
                .replay_completed(caller_id, request_id, &stored, chunks)
                .await;
        }
        let in_upload_order = !self.db.takes_concurrent_writers();
        let stores_in_flight = if in_upload_order {
            self.stores_in_flight.min(SQLITE_STORES_IN_FLIGHT)
        } else {
            self.stores_in_flight
        };
        // The receiver the next chunk's turn waits on, when chunks are stored in upload order.
        let mut previous_stored: Option<tokio::sync::oneshot::Receiver<EpisodePersons>> = None;
        let mut outcome = pb::IntakeOutcome::default();
        let mut rejected = BTreeSet::new();
        let mut merge = |done: ChunkOutcome| {
            outcome.accepted += done.accepted;
            outcome.corrected += done.corrected;
            outcome.unchanged += done.unchanged;
            outcome
                .rejections
                .extend(done.rejections.into_iter().map(rejection_to_wire));
            rejected.extend(done.rejected_positions);
        };
        let mut storing: VecDeque<(
            BTreeSet<CaseKey>,
            Option<ChunkBeside>,
            UploadTask<ChunkOutcome>,
        )> = VecDeque::new();
        let mut next_base = 0u64;
        let mut start_preparing = |records: Vec<Incoming>| {
            let base = next_base;
            next_base += records.len() as u64;
            self.spawn_prepare(region, base, records)
        };
        let mut fingerprints: Vec<String> = Vec::new();
        let mut preparing = chunks.recv().await.transpose()?.map(&mut start_preparing);
        while let Some(ready) = preparing.take() {
            let waited = Instant::now();
            let mut ready = ready
                .await
                .map_err(|e| IntakeError::Worker(e.to_string()))??;
            let prepare_wait = waited.elapsed();
            let (base, fingerprint) = (ready.base, std::mem::take(&mut ready.fingerprint));
            let chunk_index = i64::try_from(fingerprints.len()).unwrap_or(i64::MAX);
            // A chunk stored by an earlier attempt under this request id must be the same
            // chunk; checked before it (or anything after it) is stored.
            let mark =
                match uploads::stored_chunk(&self.db, caller_id, request_id, chunk_index).await? {
                    Some(stored) if stored != fingerprint => {
                        while let Some((_, _, earlier)) = storing.pop_front() {
                            merge(earlier.join().await?);
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
                        records: i64::try_from(ready.records).unwrap_or(i64::MAX),
                        fingerprint: fingerprint.clone(),
                    }),
                };
            fingerprints.push(fingerprint);
            let keys: BTreeSet<CaseKey> = ready.prepared.iter().map(|p| p.key.clone()).collect();
            let waited = Instant::now();
            while storing.len() >= stores_in_flight
                || storing.iter().any(|(held, _, _)| !held.is_disjoint(&keys))
            {
                let Some((_, _, oldest)) = storing.pop_front() else {
                    break;
                };
                merge(oldest.join().await?);
            }
            // Which stage an upload waits on: a prepared chunk (reading and validating) or the
            // store of the chunk before (the single writer on SQLite).
            tracing::debug!(
                chunk = chunk_index,
                records = ready.records,
                prepare_wait_ms = prepare_wait.as_millis() as u64,
                store_wait_ms = waited.elapsed().as_millis() as u64,
                "intake chunk ready to store"
            );
            let (turn, this_chunk) = if in_upload_order {
                (ChunkTurn::in_upload_order(&mut previous_stored), None)
            } else {
                let ahead = storing
                    .iter()
                    .filter_map(|(_, ahead, _)| ahead.clone())
                    .collect();
                let (turn, this_chunk) = ChunkTurn::beside(ahead, &ready.prepared);
                (turn, Some(this_chunk))
            };
            let intake = self.clone();
            let request_id = request_id.to_owned();
            storing.push_back((
                keys,
                this_chunk,
                UploadTask::spawn(async move {
                    intake
                        .store_prepared(region, &request_id, mark, ready, turn)
                        .await
                }),
            ));
            preparing = chunks.recv().await.transpose()?.map(&mut start_preparing);
        }
        while let Some((_, _, oldest)) = storing.pop_front() {
            merge(oldest.join().await?);
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
        let once = self
            .db
            .run_once::<IntakeError, _>(&call, move |work| {
                Box::pin(async move {
                    uploads::insert_upload(&work, &caller, &request, &fingerprints, records)
                        .await?;
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
        mut chunks: tokio::sync::mpsc::Receiver<Result<Vec<Incoming>, IntakeError>>,
    ) -> Result<pb::IntakeOutcome, IntakeError> {
        let Some((stored_chunks, stored_fingerprint)) =
            uploads::stored_upload(&self.db, caller_id, request_id).await?
        else {
            return replayed(stored_answer, request_id);
        };
        let mut fingerprints = Vec::new();
        while let Some(records) = chunks.recv().await.transpose()? {
            let fingerprint = tokio::task::spawn_blocking(move || {
                let records: Vec<Record> = records.into_iter().map(Incoming::into_record).collect();
                admission::fingerprint(&records)
            })
            .await
            .map_err(|e| IntakeError::Worker(e.to_string()))?;
            fingerprints.push(fingerprint);
        }
        let same = i64::try_from(fingerprints.len()).ok() == Some(stored_chunks)
            && admission::upload_fingerprint(&fingerprints) == stored_fingerprint;
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
        records: Vec<Incoming>,
    ) -> tokio::task::JoinHandle<Result<PreparedChunk, IntakeError>> {
        let intake = self.clone();
        tokio::spawn(
            async move { intake.prepare_chunk(region, base, records).await }.in_current_span(),
        )
    }

    /// Reads, checks and validates a chunk on the blocking pool, split over the cores; the
    /// prepared records and rejections keep upload order. Typed messages are read into the
    /// domain's records first, in parallel, so that the fingerprint covers the same bytes
    /// whichever task converted them.
    async fn prepare_chunk(
        &self,
        region: RegionCode,
        base: u64,
        records: Vec<Incoming>,
    ) -> Result<PreparedChunk, IntakeError> {
        let count = records.len();
        let started = Instant::now();
        let stored_at = platform::wire::unix_seconds();
        let today = (self.today)();
        let records: Vec<Record> = incoming::in_parts(records, |_, part| {
            part.into_iter()
                .map(Incoming::into_record)
                .collect::<Vec<_>>()
        })
        .await?
        .into_iter()
        .flatten()
        .collect();
        let (fingerprint, records) = tokio::task::spawn_blocking(move || {
            let fingerprint = admission::fingerprint(&records);
            (fingerprint, records)
        })
        .await
        .map_err(|e| IntakeError::Worker(e.to_string()))?;
        let intake = self.clone();
        let parts = incoming::in_parts(records, move |offset, part| {
            intake.prepare_records(region, base + offset, part, today)
        })
        .await?;
        let mut prepared = Vec::with_capacity(count);
        let mut checked = ChunkOutcome::default();
        for (ready, rejected) in parts {
            prepared.extend(ready);
            checked.add(rejected);
        }
        tracing::debug!(
            records = count,
            prepare_ms = started.elapsed().as_millis() as u64,
            "intake chunk prepared"
        );
        Ok(PreparedChunk {
            base,
            records: count,
            fingerprint,
            first_valuations: self.spawn_first_valuation(&prepared),
            prepared,
            checked,
            stored_at,
        })
    }

    /// Starts valuing the inpatient lists of a prepared chunk, per pooling region (each
    /// region's active scheme and table apply), with no episode days.
    fn spawn_first_valuation(&self, prepared: &[Admitted]) -> UploadTask<FirstValuations> {
        let mut by_region: BTreeMap<RegionCode, (Vec<u64>, Vec<SettlementList>)> = BTreeMap::new();
        for case in prepared {
            if let Some(list) = &case.list {
                let (positions, lists) = by_region.entry(case.region).or_default();
                positions.push(case.position);
                // Valuation reads no fee line; a list is most of its size in them.
                lists.push(list.without_fee_lines());
            }
        }
        let valuer = self.valuer.clone();
        UploadTask::spawn(async move {
            let mut first = FirstValuations::new();
            for (region, (positions, lists)) in by_region {
                let checked = valuer.value_and_check(region, &lists, &[]).await?;
                let mut unknown = checked.unknown_codes.into_iter();
                for (position, answer) in positions.into_iter().zip(checked.valuations) {
                    first.insert(position, (answer, unknown.next().unwrap_or_default()));
                }
            }
            Ok(first)
        })
    }

    /// Reads, checks and validates consecutive records starting at upload position `first`.
    fn prepare_records(
        &self,
        region: RegionCode,
        first: u64,
        records: Vec<Record>,
        today: Date,
    ) -> (Vec<Admitted>, ChunkOutcome) {
        let mut done = ChunkOutcome::default();
        let mut prepared = Vec::with_capacity(records.len());
        for (offset, record) in records.into_iter().enumerate() {
            let position = first + offset as u64;
            let read = read_record(
                record,
                position,
                region,
                self.dictionary.as_ref(),
                &self.policy,
                today,
            );
            match read {
                Ok(admitted) => prepared.push(admitted),
                Err(rejections) => done.reject(rejections),
            }
        }
        (prepared, done)
    }

    /// Decides, values and stores a prepared chunk, deciding again after a lost race.
    async fn store_prepared(
        &self,
        region: RegionCode,
        request_id: &str,
        mut mark: Option<ChunkMark>,
        chunk: PreparedChunk,
        mut turn: ChunkTurn,
    ) -> Result<ChunkOutcome, IntakeError> {
        let PreparedChunk {
            base,
            prepared,
            checked: mut done,
            stored_at,
            first_valuations,
            ..
        } = chunk;
        let waited = Instant::now();
        let mut valued = Valuations {
            first: first_valuations.join().await?,
            ..Valuations::default()
        };
        tracing::debug!(
            valuation_wait_ms = waited.elapsed().as_millis() as u64,
            "intake chunk valued"
        );
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
                .store_chunk(
                    (region, base),
                    mark.as_ref(),
                    &prepared,
                    &mut valued,
                    (request_id, stored_at),
                    &mut turn,
                )
                .await?
            {
                Some(stored) => {
                    turn.mark_stored();
                    done.add(stored);
                    return Ok(done);
                }
                // Another upload stored some of these cases meanwhile: decide again.
                None => continue,
            }
        }
        Err(IntakeError::Contended(base))
    }

    /// Gathers the facts of a chunk, has the domain decide it, waits for its turn, values what is
    /// to be stored and stores it in one transaction; `None` when a concurrent upload stored one
    /// of its cases first (nothing of the chunk is stored then).
    async fn store_chunk(
        &self,
        (region, base): (RegionCode, u64),
        mark: Option<&ChunkMark>,
        prepared: &[Admitted],
        valued: &mut Valuations,
        (request_id, stored_at): (&str, i64),
        turn: &mut ChunkTurn,
    ) -> Result<Option<ChunkOutcome>, IntakeError> {
        let mut done = ChunkOutcome::default();
        if prepared.is_empty() {
            turn.wait_for_the_chunk_before(base).await?;
            return self.store_versions(&[], &[], mark, done).await;
        }
        let mut started = Instant::now();
        let current = current_versions(&self.db, prepared).await?;
        let codes: Vec<String> = prepared
            .iter()
            .map(|p| p.key.hospital_code.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let registry = institutions::records(&self.db, &codes).await?;
        let mut closed_months = BTreeSet::new();
        let months = months_to_check(prepared, &current)?;
        for month in months {
            let (month_region, fund, year_month) = month;
            if closed_months::is_closed(&self.db, month_region, fund, year_month).await? {
                closed_months.insert(month);
            }
        }
        let decision = decide_chunk(
            prepared,
            IntakeFacts {
                upload_region: region,
                institutions: &registry,
                current: &current,
                closed_months: &closed_months,
            },
        );
        done.accepted = decision.accepted;
        done.corrected = decision.corrected;
        done.unchanged = decision.unchanged;
        done.reject(decision.rejections);
        let facts = lap(&mut started);
        // The facts above do not change with the chunk before: the upload holds back a chunk
        // sharing a case with one being stored, and institutions and closed months are not
        // intake's to write. The episode days read the stays stored so far: valued again below
        // when the chunk before changed the stays of a person they looked up.
        let looked_up = EpisodeLookup::of(prepared, &decision.to_store, &valued.first);
        turn.wait_for_the_chunks_beside(&looked_up.persons).await;
        self.value_missing(prepared, &decision.to_store, valued)
            .await?;
        let valuing = lap(&mut started);
        let changed_before = turn.wait_for_the_chunk_before(base).await?;
        let turn_wait = lap(&mut started);
        let revalued = !changed_before.is_disjoint(&looked_up.persons);
        if revalued {
            looked_up.value_again(valued);
            self.value_missing(prepared, &decision.to_store, valued)
                .await?;
        }
        let versions: Vec<LedgerCase> = decision
            .to_store
            .iter()
            .map(|&(index, version)| {
                let case = &prepared[index];
                ledger_case(
                    case,
                    version,
                    valued.answers.get(&case.position),
                    request_id,
                    stored_at,
                )
            })
            .collect();
        let kept = warnings::kept(prepared, &decision.to_store, &valued.unknown);
        turn.writes(&versions);
        let building = lap(&mut started);
        let stored = self.store_versions(&versions, &kept, mark, done).await;
        tracing::debug!(
            records = prepared.len(),
            facts_ms = facts.as_millis() as u64,
            valuing_ms = valuing.as_millis() as u64,
            turn_wait_ms = turn_wait.as_millis() as u64,
            revalued,
            building_ms = building.as_millis() as u64,
            writing_ms = lap(&mut started).as_millis() as u64,
            "intake chunk stored"
        );
        stored
    }

    /// Stores a decided chunk's versions with its mark: `done` once stored, `None` when a
    /// concurrent upload stored one of its cases first.
    async fn store_versions(
        &self,
        versions: &[LedgerCase],
        kept: &[KeptWarnings],
        mark: Option<&ChunkMark>,
        done: ChunkOutcome,
    ) -> Result<Option<ChunkOutcome>, IntakeError> {
        match CaseStore::store_marked_versions(&self.db, versions, kept, mark).await {
            Ok(()) => Ok(Some(done)),
            Err(StoreError::VersionTaken) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Completes the valuation of the inpatient cases about to be stored that have none yet,
    /// per pooling region: their first valuations with the episode days of now.
    async fn value_missing(
        &self,
        prepared: &[Admitted],
        to_store: &[(usize, u32)],
        valued: &mut Valuations,
    ) -> Result<(), IntakeError> {
        let mut by_region: BTreeMap<RegionCode, Vec<usize>> = BTreeMap::new();
        for &(index, _) in to_store {
            let case = &prepared[index];
            if case.list.is_some() && !valued.answers.contains_key(&case.position) {
                by_region.entry(case.region).or_default().push(index);
            }
        }
        for (region, indices) in by_region {
            let lists: Vec<&SettlementList> = indices
                .iter()
                .filter_map(|&i| prepared[i].list.as_ref())
                .collect();
            // Every list of the chunk was valued first; one missing is one the valuer left
            // unanswered.
            let (valuations, unknown_codes) = indices
                .iter()
                .map(|&i| {
                    valued
                        .first
                        .remove(&prepared[i].position)
                        .unwrap_or_else(|| {
                            (
                                Err("valuation answered fewer results".to_owned()),
                                Vec::new(),
                            )
                        })
                })
                .unzip();
            let first = CheckedValuation {
                valuations,
                unknown_codes,
            };
            let mut checked = self.with_episodes(region, &lists, first).await?;
            for (slot, &i) in indices.iter().enumerate() {
                let answer = checked
                    .valuations
                    .get(slot)
                    .cloned()
                    .unwrap_or_else(|| Err("valuation answered fewer results".to_owned()));
                valued.answers.insert(prepared[i].position, answer);
                let unknown = checked.unknown_codes.get_mut(slot).map(std::mem::take);
                valued
                    .unknown
                    .insert(prepared[i].position, unknown.unwrap_or_default());
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

/// The stored version of an admitted case: `valuation` is that of an inpatient case (`None`
/// when it was not valued).
fn ledger_case(
    case: &Admitted,
    version: u32,
    valuation: Option<&Result<ValuedCase, String>>,
    request_id: &str,
    stored_at: i64,
) -> LedgerCase {
    let mut stored = LedgerCase {
        region: case.region,
        hospital_code: case.key.hospital_code.clone(),
        list_id: case.key.list_id.clone(),
        version: i32::try_from(version).unwrap_or(i32::MAX),
        record_kind: case.kind,
        fund: case.fund,
        discharge_date: case.discharge.to_yyyymmdd(),
        payment_mode: String::new(),
        group_code: String::new(),
        points: kernel::Points::from_scaled(0),
        total_cost: case.total_cost,
        individual_burden: case.individual_burden,
        fund_amount: case.fund_amount,
        amount: None,
        person_id: String::new(),
        admission_date: 0,
        planned_readmission: false,
        episode_programme: String::new(),
        prior_episode_days: 0,
        status: LedgerStatus::Recorded,
        valuation_error: String::new(),
        scheme_version: String::new(),
        table_version: String::new(),
        valuation_json: String::new(),
        content_hash: case.hash.to_string(),
        case_json: case.canonical_json.clone(),
        request_id: request_id.to_owned(),
        stored_at,
        head: case.head.as_ref().map(StoredHead::from),
    };
    if let Some(list) = &case.list {
        stored.person_id = list.header.person_id.clone();
        stored.admission_date = list.stay.admitted_at.date().to_yyyymmdd();
        stored.planned_readmission = list.stay.planned_readmission_31d;
        record_valuation(&mut stored, valuation);
    }
    stored
}

/// The current stored version of the chunk's cases, in one query.
async fn current_versions(
    db: &impl Storage,
    prepared: &[Admitted],
) -> Result<HashMap<CaseKey, StoredVersion>, StoreError> {
    let wanted: BTreeSet<(&str, &str)> = prepared
        .iter()
        .map(|p| (p.key.hospital_code.as_str(), p.key.list_id.as_str()))
        .collect();
    let keys: Vec<(&str, &str)> = wanted.into_iter().collect();
    Ok(CaseStore::current_hashes(db, &keys)
        .await?
        .into_iter()
        .map(|(hospital_code, list_id, version, hash)| {
            let key = CaseKey {
                hospital_code,
                list_id,
            };
            let stored = StoredVersion {
                key: key.clone(),
                version: u32::try_from(version).unwrap_or(0),
                content_hash: stored_hash(&hash),
            };
            (key, stored)
        })
        .collect())
}
