//! A seeded fault proxy for the PostgreSQL wire protocol, between a medpay server and its
//! database. It reads message type bytes and lengths only (and the one status byte of
//! ReadyForQuery, which says whether the connection is inside a transaction), never a query or a
//! row. It counts what passes and, at the points a plan names, refuses a new connection, stalls a
//! round trip past the caller's deadline, cuts the connection in the middle of a transaction, or
//! cuts it as the answer to the statement ending a transaction (its COMMIT) starts flowing back:
//! the write is committed and the server never learns it.
//!
//! Each kind of fault counts its own points, so a plan means the same points whatever the
//! packet boundaries: connections opened, round trips (a simple Query or a Sync), round trips
//! sent inside a transaction, and transactions ended.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::faults::{SeededRng, Stall};

/// What happens at one point of a PostgreSQL connection's life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DbFault {
    /// A new connection is closed at once, before the server sees it.
    RefuseConnection,
    /// A round trip is held, never forwarded, until past the caller's deadline; then the
    /// connection is closed.
    Stall,
    /// A round trip sent inside a transaction is not forwarded and the connection is closed:
    /// the server rolls the transaction back.
    CutInTransaction,
    /// The answer ending a transaction (its COMMIT) passes up to its final ReadyForQuery, which
    /// is withheld, and the connection is closed: the write is committed, the answer lost.
    LoseCommitAnswer,
}

impl DbFault {
    pub const ALL: [DbFault; 4] = [
        DbFault::RefuseConnection,
        DbFault::Stall,
        DbFault::CutInTransaction,
        DbFault::LoseCommitAnswer,
    ];

    fn index(self) -> usize {
        match self {
            DbFault::RefuseConnection => 0,
            DbFault::Stall => 1,
            DbFault::CutInTransaction => 2,
            DbFault::LoseCommitAnswer => 3,
        }
    }
}

/// The points each fault kind counts, in [`DbFault::ALL`]'s order: connections opened, round
/// trips, round trips inside a transaction, transactions ended.
pub type DbCounts = [u64; 4];

/// The faults of one proxy: each a kind and the point of that kind's count it strikes at,
/// counted from when the plan was set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DbPlan(pub BTreeSet<(DbFault, u64)>);

impl DbPlan {
    /// Between `least` and `most` faults of the kinds `counts` saw any of, each among the first
    /// `counts` points of its kind. A refused connection strikes one of the first few
    /// connections opened after the plan (a pool opens more only when it needs them, after a
    /// fault or under load).
    pub fn random(rng: &mut SeededRng, counts: &DbCounts, least: u64, most: u64) -> Self {
        let mut plan = BTreeSet::new();
        let wanted = rng.between(least, most);
        let mut tries = 0;
        while (plan.len() as u64) < wanted && tries < 100 {
            tries += 1;
            let kind = DbFault::ALL[rng.below(DbFault::ALL.len() as u64) as usize];
            let points = match kind {
                DbFault::RefuseConnection => 3,
                other => counts[other.index()],
            };
            if points > 0 {
                plan.insert((kind, rng.below(points)));
            }
        }
        Self(plan)
    }
}

#[derive(Default)]
struct Record {
    /// Every point seen, by kind.
    counts: DbCounts,
    /// The counts when the plan was set: a plan's points count from there.
    base: DbCounts,
    plan: DbPlan,
    applied: Vec<(DbFault, u64)>,
}

impl Record {
    /// Counts a point of `kind`'s count; the fault planned there, if any.
    fn next(&mut self, kind: DbFault) -> Option<DbFault> {
        let i = kind.index();
        let point = self.counts[i] - self.base[i];
        self.counts[i] += 1;
        let hit = self.plan.0.contains(&(kind, point));
        if hit {
            self.applied.push((kind, point));
        }
        hit.then_some(kind)
    }
}

/// A running proxy in front of a PostgreSQL server; it stops accepting when dropped.
pub struct PgFaultProxy {
    pub address: SocketAddr,
    record: Arc<Mutex<Record>>,
    accepting: tokio::task::JoinHandle<()>,
}

impl Drop for PgFaultProxy {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl PgFaultProxy {
    /// Listens on a free loopback port and forwards every connection to `upstream`.
    pub async fn start(upstream: SocketAddr, stall: Stall) -> std::io::Result<PgFaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let record = Arc::new(Mutex::new(Record::default()));
        let shared = Shared {
            upstream,
            record: record.clone(),
            stall,
        };
        let accepting = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let _ = shared.relay(client).await;
                });
            }
        });
        Ok(PgFaultProxy {
            address,
            record,
            accepting,
        })
    }

    /// Replaces the plan; its points count from now.
    pub fn set_plan(&self, plan: DbPlan) {
        if let Ok(mut record) = self.record.lock() {
            record.base = record.counts;
            record.plan = plan;
        }
    }

    /// The points seen since the plan was set, by kind.
    pub fn counts(&self) -> DbCounts {
        self.record
            .lock()
            .map(|r| std::array::from_fn(|i| r.counts[i] - r.base[i]))
            .unwrap_or_default()
    }

    /// The faults applied so far.
    pub fn applied(&self) -> Vec<(DbFault, u64)> {
        self.record
            .lock()
            .map(|r| r.applied.clone())
            .unwrap_or_default()
    }

    /// `url` (`postgres://user@host:port/database`) with its host and port replaced by the
    /// proxy's, and TLS off: the proxy reads the plain protocol.
    pub fn url_for(&self, url: &str) -> anyhow::Result<String> {
        proxied_url(self.address, url)
    }
}

fn proxied_url(address: SocketAddr, url: &str) -> anyhow::Result<String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| anyhow::anyhow!("{url} is not a URL"))?;
    let (user, rest) = rest.split_once('@').unwrap_or(("", rest));
    let path = rest.find('/').map(|at| &rest[at..]).unwrap_or("");
    let user = if user.is_empty() {
        String::new()
    } else {
        format!("{user}@")
    };
    let separator = if path.contains('?') { '&' } else { '?' };
    Ok(format!(
        "{scheme}://{user}{address}{path}{separator}sslmode=disable"
    ))
}

/// The host and port of a `postgres://` URL, resolved.
pub async fn server_address(url: &str) -> anyhow::Result<SocketAddr> {
    let rest = url.split_once("://").map(|(_, rest)| rest).unwrap_or(url);
    let rest = rest.split_once('@').map(|(_, rest)| rest).unwrap_or(rest);
    let host = rest.split(['/', '?']).next().unwrap_or(rest);
    let host = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    };
    tokio::net::lookup_host(&host)
        .await?
        .next()
        .ok_or_else(|| anyhow::anyhow!("{host} resolves to no address"))
}

#[derive(Clone)]
struct Shared {
    upstream: SocketAddr,
    record: Arc<Mutex<Record>>,
    stall: Stall,
}

/// The frontend's startup packets (no type byte) that the server answers with one byte
/// before the real startup message: a request for TLS or for GSSAPI encryption.
const SSL_REQUEST: u32 = 80_877_103;
const GSSENC_REQUEST: u32 = 80_877_104;
const QUERY: u8 = b'Q';
const SYNC: u8 = b'S';
const READY_FOR_QUERY: u8 = b'Z';
const IDLE: u8 = b'I';

impl Shared {
    fn next(&self, kind: DbFault) -> Option<DbFault> {
        self.record.lock().ok()?.next(kind)
    }

    async fn relay(self, client: TcpStream) -> std::io::Result<()> {
        if self.next(DbFault::RefuseConnection).is_some() {
            return Ok(());
        }
        let server = TcpStream::connect(self.upstream).await?;
        client.set_nodelay(true)?;
        server.set_nodelay(true)?;
        let (client_read, client_write) = client.into_split();
        let (server_read, server_write) = server.into_split();
        let (kill, killed) = watch::channel(false);
        // Whether the server's last ReadyForQuery said the connection is inside a transaction.
        let in_transaction = Arc::new(AtomicBool::new(false));
        // One-byte answers the server owes to encryption requests, before its typed messages.
        let owed_bytes = Arc::new(AtomicU64::new(0));
        let requests = tokio::spawn(self.clone().requests(
            client_read,
            server_write,
            in_transaction.clone(),
            owed_bytes.clone(),
            (kill.clone(), killed.clone()),
        ));
        let answers = tokio::spawn(self.answers(
            server_read,
            client_write,
            in_transaction,
            owed_bytes,
            (kill, killed),
        ));
        let _ = requests.await;
        let _ = answers.await;
        Ok(())
    }

    /// Client to server: the untyped startup packets, then typed messages; a Query or a Sync
    /// ends a round trip.
    async fn requests(
        self,
        mut from: OwnedReadHalf,
        mut to: OwnedWriteHalf,
        in_transaction: Arc<AtomicBool>,
        owed_bytes: Arc<AtomicU64>,
        (kill, mut killed): (watch::Sender<bool>, watch::Receiver<bool>),
    ) {
        let mut buffer = Vec::new();
        let mut started = false;
        loop {
            let mut chunk = [0u8; 16 * 1024];
            let read = tokio::select! {
                read = from.read(&mut chunk) => read,
                _ = killed.wait_for(|k| *k) => return,
            };
            let n = match read {
                Ok(0) | Err(_) => {
                    let _ = kill.send(true);
                    return;
                }
                Ok(n) => n,
            };
            buffer.extend_from_slice(&chunk[..n]);
            let mut forward = Vec::new();
            let mut fault = None;
            loop {
                if !started {
                    let Some(length) = startup_at(&buffer) else {
                        break;
                    };
                    let code = buffer
                        .get(4..8)
                        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                        .unwrap_or_default();
                    if code == SSL_REQUEST || code == GSSENC_REQUEST {
                        owed_bytes.fetch_add(1, Ordering::SeqCst);
                    } else {
                        started = true;
                    }
                    forward.extend(buffer.drain(..length));
                    continue;
                }
                let Some((kind, length)) = message_at(&buffer) else {
                    break;
                };
                if kind == QUERY || kind == SYNC {
                    let inside = in_transaction.load(Ordering::SeqCst);
                    fault = self.next(DbFault::Stall).or_else(|| {
                        inside
                            .then(|| self.next(DbFault::CutInTransaction))
                            .flatten()
                    });
                    if fault.is_some() {
                        break;
                    }
                }
                forward.extend(buffer.drain(..length));
            }
            if !forward.is_empty() && to.write_all(&forward).await.is_err() {
                let _ = kill.send(true);
                return;
            }
            if let Some(fault) = fault {
                if fault == DbFault::Stall {
                    tokio::time::sleep(self.stall.0).await;
                }
                let _ = kill.send(true);
                return;
            }
        }
    }

    /// Server to client: typed messages; a ReadyForQuery that leaves a transaction ends it.
    async fn answers(
        self,
        mut from: OwnedReadHalf,
        mut to: OwnedWriteHalf,
        in_transaction: Arc<AtomicBool>,
        owed_bytes: Arc<AtomicU64>,
        (kill, mut killed): (watch::Sender<bool>, watch::Receiver<bool>),
    ) {
        let mut buffer = Vec::new();
        loop {
            let mut chunk = [0u8; 16 * 1024];
            let read = tokio::select! {
                read = from.read(&mut chunk) => read,
                _ = killed.wait_for(|k| *k) => return,
            };
            let n = match read {
                Ok(0) | Err(_) => {
                    let _ = kill.send(true);
                    return;
                }
                Ok(n) => n,
            };
            buffer.extend_from_slice(&chunk[..n]);
            let mut forward = Vec::new();
            let mut cut = false;
            loop {
                if owed_bytes.load(Ordering::SeqCst) > 0 && !buffer.is_empty() {
                    owed_bytes.fetch_sub(1, Ordering::SeqCst);
                    forward.push(buffer.remove(0));
                    continue;
                }
                let Some((kind, length)) = message_at(&buffer) else {
                    break;
                };
                if kind == READY_FOR_QUERY {
                    let status = buffer.get(5).copied().unwrap_or(IDLE);
                    let was_inside = in_transaction.swap(status != IDLE, Ordering::SeqCst);
                    if was_inside
                        && status == IDLE
                        && self.next(DbFault::LoseCommitAnswer).is_some()
                    {
                        cut = true;
                        break;
                    }
                }
                forward.extend(buffer.drain(..length));
            }
            if !forward.is_empty() && to.write_all(&forward).await.is_err() {
                let _ = kill.send(true);
                return;
            }
            if cut {
                // What came before the withheld ReadyForQuery reaches the client first.
                let _ = to.flush().await;
                tokio::time::sleep(Duration::from_millis(20)).await;
                let _ = kill.send(true);
                return;
            }
        }
    }
}

/// The length of the whole untyped startup packet at the start of `buffer`, once it has arrived.
fn startup_at(buffer: &[u8]) -> Option<usize> {
    let length = buffer.get(..4)?;
    let length = u32::from_be_bytes([length[0], length[1], length[2], length[3]]) as usize;
    (buffer.len() >= length).then_some(length.max(4))
}

/// The type and whole length (type byte included) of the typed message at the start of
/// `buffer`, once it has arrived whole.
fn message_at(buffer: &[u8]) -> Option<(u8, usize)> {
    let header = buffer.get(..5)?;
    let length = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    let whole = 1 + length.max(4);
    (buffer.len() >= whole).then_some((header[0], whole))
}

/// A fresh PostgreSQL database per server under `MEDPAY_FAULT_POSTGRES` (a server URL without a
/// database, `postgres://postgres@127.0.0.1:5432`), dropped with it.
pub struct FaultDatabase {
    server: String,
    name: String,
}

impl FaultDatabase {
    /// The server's URL, when `MEDPAY_FAULT_POSTGRES` names one.
    pub fn server() -> Option<String> {
        std::env::var("MEDPAY_FAULT_POSTGRES")
            .ok()
            .map(|url| url.trim().trim_end_matches('/').to_owned())
            .filter(|url| !url.is_empty())
    }

    /// A new database on [`FaultDatabase::server`]; `None` without one.
    pub fn create() -> anyhow::Result<Option<FaultDatabase>> {
        let Some(server) = Self::server() else {
            return Ok(None);
        };
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let database = FaultDatabase {
            server,
            name: format!(
                "medpay_faults_{}_{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ),
        };
        database.psql(&format!("CREATE DATABASE {}", database.name))?;
        Ok(Some(database))
    }

    pub fn url(&self) -> String {
        format!("{}/{}", self.server, self.name)
    }

    fn psql(&self, sql: &str) -> anyhow::Result<()> {
        let status = std::process::Command::new("psql")
            .args([&format!("{}/postgres", self.server), "-qc", sql])
            .status()?;
        anyhow::ensure!(status.success(), "psql failed: {sql}");
        Ok(())
    }
}

impl Drop for FaultDatabase {
    fn drop(&mut self) {
        let _ = self.psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_startup_packets_are_read_only_once_whole() {
        let mut sync = vec![SYNC, 0, 0, 0];
        assert_eq!(message_at(&sync), None);
        sync.push(4);
        assert_eq!(message_at(&sync), Some((SYNC, 5)));
        let ready = [READY_FOR_QUERY, 0, 0, 0, 5, b'T', QUERY];
        assert_eq!(message_at(&ready), Some((READY_FOR_QUERY, 6)));
        let ssl = SSL_REQUEST.to_be_bytes();
        let mut packet = vec![0, 0, 0, 8];
        assert_eq!(startup_at(&packet), None);
        packet.extend_from_slice(&ssl);
        assert_eq!(startup_at(&packet), Some(8));
    }

    #[test]
    fn a_seed_gives_the_same_plan_within_the_counts_seen() {
        let counts = [0, 400, 150, 60];
        let plan = |seed| DbPlan::random(&mut SeededRng::new(seed), &counts, 1, 3);
        assert_eq!(plan(11), plan(11));
        let kinds: BTreeSet<DbFault> = (0..40)
            .flat_map(|seed| plan(seed).0)
            .map(|(kind, _)| kind)
            .collect();
        assert_eq!(kinds.len(), DbFault::ALL.len(), "{kinds:?}");
        for seed in 0..40 {
            let faults = plan(seed).0;
            assert!((1..=3).contains(&faults.len()), "{faults:?}");
            for (kind, point) in faults {
                let bound = match kind {
                    DbFault::RefuseConnection => 3,
                    other => counts[other.index()],
                };
                assert!(point < bound, "{kind:?} at {point}");
            }
        }
    }

    #[test]
    fn the_proxy_url_keeps_user_and_database() -> anyhow::Result<()> {
        assert_eq!(
            proxied_url(
                "127.0.0.1:6543".parse()?,
                "postgres://postgres@127.0.0.1:5432/medpay_faults_1"
            )?,
            "postgres://postgres@127.0.0.1:6543/medpay_faults_1?sslmode=disable"
        );
        Ok(())
    }
}
