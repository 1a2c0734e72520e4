//! A seeded fault proxy for end-to-end tests: a TCP proxy in front of a gRPC server that reads
//! the HTTP/2 frame headers passing through it (never their contents), counts the calls it
//! forwards, and at the calls a plan names refuses the call, stalls it, or cuts the connection
//! once the server has answered. Counting calls rather than bytes or connections makes a plan
//! mean the same calls on every run, whatever the connection reuse and packet boundaries.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What happens to one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// The connection is closed before the call reaches the server: nothing of it runs.
    Refuse,
    /// The call is held, never forwarded, until past the caller's deadline; then the
    /// connection is closed.
    StallRequest,
    /// The call is forwarded and runs; its answer is held until past the caller's deadline,
    /// then the connection is closed: the write commits and the caller never learns it.
    StallAnswer,
    /// The call is forwarded and runs; the connection is cut the moment the answer starts:
    /// the write commits and the answer is lost.
    CutAnswer,
    /// The call is forwarded and runs; the answer's headers pass and the connection is cut
    /// before its body: the caller holds an answer without a message or a status.
    CutAnswerBody,
    /// The call's frames are forwarded except the one that ends the request: the server has
    /// every message of a stream but never its end when the connection is cut.
    CutRequest,
    /// The call is forwarded and the connection cut this many milliseconds later unless its
    /// answer has started: the server's work is abandoned wherever it has got to.
    CutAfter(u16),
}

impl Fault {
    /// One fault of each kind (`CutAfter` with its longest delay).
    pub const ALL: [Fault; 7] = [
        Fault::Refuse,
        Fault::StallRequest,
        Fault::StallAnswer,
        Fault::CutAnswer,
        Fault::CutAnswerBody,
        Fault::CutRequest,
        Fault::CutAfter(CUT_AFTER_MAX_MS),
    ];

    /// The fault's kind, whatever its delay.
    pub fn kind(self) -> &'static str {
        match self {
            Fault::Refuse => "Refuse",
            Fault::StallRequest => "StallRequest",
            Fault::StallAnswer => "StallAnswer",
            Fault::CutAnswer => "CutAnswer",
            Fault::CutAnswerBody => "CutAnswerBody",
            Fault::CutRequest => "CutRequest",
            Fault::CutAfter(_) => "CutAfter",
        }
    }
}

/// The longest delay of [`Fault::CutAfter`]: about what a small upload or a clearing takes in a
/// debug build, so that most such cuts land while the server works.
pub const CUT_AFTER_MAX_MS: u16 = 40;

/// splitmix64: a small, well-mixed generator whose sequence a seed fixes on every platform.
#[derive(Clone, Debug)]
pub struct SeededRng(u64);

impl SeededRng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high.saturating_sub(low) + 1)
    }
}

/// The faults of one proxy, by call number (the first call the proxy forwards is 0).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultPlan(pub BTreeMap<u64, Fault>);

impl FaultPlan {
    /// Between `least` and `most` faults of any kind at distinct calls among the first `calls`.
    pub fn random(rng: &mut SeededRng, calls: u64, least: u64, most: u64) -> Self {
        let count = rng.between(least, most).min(calls);
        let mut plan = BTreeMap::new();
        while (plan.len() as u64) < count {
            let call = rng.below(calls);
            let kind = match Fault::ALL[rng.below(Fault::ALL.len() as u64) as usize] {
                Fault::CutAfter(longest) => {
                    Fault::CutAfter(rng.between(1, u64::from(longest)) as u16)
                }
                other => other,
            };
            plan.entry(call).or_insert(kind);
        }
        Self(plan)
    }
}

/// What a proxy did: every call it saw, and the faults it applied.
#[derive(Default, Debug)]
struct Record {
    calls: u64,
    applied: Vec<(u64, Fault)>,
}

/// A running proxy; it stops accepting when dropped.
pub struct FaultProxy {
    /// Where clients connect.
    pub address: SocketAddr,
    upstream: Arc<Mutex<Option<SocketAddr>>>,
    plan: Arc<Mutex<FaultPlan>>,
    record: Arc<Mutex<Record>>,
    accepting: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

/// How long a stalled call is held: past any deadline the test's callers set.
#[derive(Clone, Copy, Debug)]
pub struct Stall(pub Duration);

impl FaultProxy {
    /// Listens on a free loopback port; forwards nowhere until [`FaultProxy::forward_to`].
    pub async fn start(stall: Stall) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let upstream = Arc::new(Mutex::new(None));
        let plan = Arc::new(Mutex::new(FaultPlan::default()));
        let record = Arc::new(Mutex::new(Record::default()));
        let shared = Shared {
            upstream: upstream.clone(),
            plan: plan.clone(),
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
        Ok(FaultProxy {
            address,
            upstream,
            plan,
            record,
            accepting,
        })
    }

    /// Sets the server behind the proxy (known only once the server has started, while the
    /// server's configuration needs the proxy's address first).
    pub fn forward_to(&self, upstream: SocketAddr) {
        if let Ok(mut slot) = self.upstream.lock() {
            *slot = Some(upstream);
        }
    }

    /// Replaces the plan; call numbers count on from the calls already seen.
    pub fn set_plan(&self, plan: FaultPlan) {
        if let Ok(mut slot) = self.plan.lock() {
            *slot = plan;
        }
    }

    /// Calls seen so far.
    pub fn calls(&self) -> u64 {
        self.record.lock().map(|r| r.calls).unwrap_or_default()
    }

    /// The faults applied so far, by call number.
    pub fn applied(&self) -> Vec<(u64, Fault)> {
        self.record
            .lock()
            .map(|r| r.applied.clone())
            .unwrap_or_default()
    }

    /// The URL a gRPC client or a medpay peer setting uses to reach the server through the proxy.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

#[derive(Clone)]
struct Shared {
    upstream: Arc<Mutex<Option<SocketAddr>>>,
    plan: Arc<Mutex<FaultPlan>>,
    record: Arc<Mutex<Record>>,
    stall: Stall,
}

/// The streams of one connection whose answer is to be stalled or cut.
type Marked = Arc<Mutex<BTreeMap<u32, Fault>>>;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const FRAME_HEADER: usize = 9;
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const END_STREAM: u8 = 0x1;

impl Shared {
    /// The fault of the next call, counting it.
    fn next_call(&self) -> Option<Fault> {
        let mut record = self.record.lock().ok()?;
        let call = record.calls;
        record.calls += 1;
        let fault = self.plan.lock().ok()?.0.get(&call).copied();
        if let Some(fault) = fault {
            record.applied.push((call, fault));
        }
        fault
    }

    async fn relay(self, client: TcpStream) -> std::io::Result<()> {
        let upstream = self
            .upstream
            .lock()
            .ok()
            .and_then(|slot| *slot)
            .ok_or_else(|| std::io::Error::other("no upstream yet"))?;
        let server = TcpStream::connect(upstream).await?;
        client.set_nodelay(true)?;
        server.set_nodelay(true)?;
        let (client_read, client_write) = client.into_split();
        let (server_read, server_write) = server.into_split();
        let (kill, killed) = watch::channel(false);
        let marked: Marked = Arc::default();
        let requests = tokio::spawn(self.clone().requests(
            client_read,
            server_write,
            marked.clone(),
            kill.clone(),
            killed.clone(),
        ));
        let answers = tokio::spawn(self.answers(server_read, client_write, marked, kill, killed));
        let _ = requests.await;
        let _ = answers.await;
        Ok(())
    }

    /// Client to server: the preface, then whole frames; a HEADERS frame on a stream not seen
    /// before opens a call.
    async fn requests(
        self,
        mut from: OwnedReadHalf,
        mut to: OwnedWriteHalf,
        marked: Marked,
        kill: watch::Sender<bool>,
        mut killed: watch::Receiver<bool>,
    ) {
        let mut buffer = Vec::new();
        let mut preface_done = false;
        let mut seen: BTreeSet<u32> = BTreeSet::new();
        let mut cutting: BTreeSet<u32> = BTreeSet::new();
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
            if !preface_done {
                if buffer.len() < PREFACE.len() {
                    continue;
                }
                forward.extend(buffer.drain(..PREFACE.len()));
                preface_done = true;
            }
            let mut fault = None;
            while let Some((kind, stream, length)) = frame_at(&buffer) {
                if cutting.contains(&stream) && ends_stream(&buffer) {
                    fault = Some(Fault::CutRequest);
                    break;
                }
                if kind == HEADERS && stream % 2 == 1 && seen.insert(stream) {
                    match self.next_call() {
                        Some(held @ (Fault::Refuse | Fault::StallRequest)) => {
                            fault = Some(held);
                            break;
                        }
                        Some(Fault::CutRequest) if ends_stream(&buffer) => {
                            fault = Some(Fault::CutRequest);
                            break;
                        }
                        Some(Fault::CutRequest) => {
                            cutting.insert(stream);
                        }
                        Some(Fault::CutAfter(delay)) => {
                            if let Ok(mut marked) = marked.lock() {
                                marked.insert(stream, Fault::CutAfter(delay));
                            }
                            let (marked, kill) = (marked.clone(), kill.clone());
                            tokio::spawn(async move {
                                tokio::time::sleep(Duration::from_millis(u64::from(delay))).await;
                                // Still marked: the answer has not started.
                                let pending = marked
                                    .lock()
                                    .map(|mut m| m.remove(&stream).is_some())
                                    .unwrap_or(true);
                                if pending {
                                    let _ = kill.send(true);
                                }
                            });
                        }
                        Some(answer_fault) => {
                            if let Ok(mut marked) = marked.lock() {
                                marked.insert(stream, answer_fault);
                            }
                        }
                        None => {}
                    }
                }
                forward.extend(buffer.drain(..FRAME_HEADER + length));
            }
            if !forward.is_empty() && to.write_all(&forward).await.is_err() {
                let _ = kill.send(true);
                return;
            }
            match fault {
                Some(Fault::Refuse | Fault::CutRequest) => {
                    let _ = kill.send(true);
                    return;
                }
                Some(_) => {
                    tokio::time::sleep(self.stall.0).await;
                    let _ = kill.send(true);
                    return;
                }
                None => {}
            }
        }
    }

    /// Server to client: whole frames; the first HEADERS frame of a marked stream (its answer
    /// starting) is where the answer is stalled or cut.
    async fn answers(
        self,
        mut from: OwnedReadHalf,
        mut to: OwnedWriteHalf,
        marked: Marked,
        kill: watch::Sender<bool>,
        mut killed: watch::Receiver<bool>,
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
            let mut fault = None;
            while let Some((kind, stream, length)) = frame_at(&buffer) {
                if kind == HEADERS {
                    // The answer of a call to be cut after a delay has started in time: it
                    // passes.
                    fault = marked
                        .lock()
                        .ok()
                        .and_then(|mut m| m.remove(&stream))
                        .filter(|f| !matches!(f, Fault::CutAfter(_)));
                    if fault == Some(Fault::CutAnswerBody) {
                        forward.extend(buffer.drain(..FRAME_HEADER + length));
                    }
                    if fault.is_some() {
                        break;
                    }
                }
                forward.extend(buffer.drain(..FRAME_HEADER + length));
            }
            if !forward.is_empty() && to.write_all(&forward).await.is_err() {
                let _ = kill.send(true);
                return;
            }
            if fault == Some(Fault::CutAnswerBody) {
                // The headers reach the caller before the connection goes.
                let _ = to.flush().await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            match fault {
                Some(Fault::StallAnswer) => {
                    tokio::time::sleep(self.stall.0).await;
                    let _ = kill.send(true);
                    return;
                }
                Some(_) => {
                    let _ = kill.send(true);
                    return;
                }
                None => {}
            }
        }
    }
}

/// The type, stream and payload length of the whole frame at the start of `buffer`, if it has
/// arrived entirely.
fn frame_at(buffer: &[u8]) -> Option<(u8, u32, usize)> {
    let header = buffer.get(..FRAME_HEADER)?;
    let length =
        usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
    let stream = u32::from_be_bytes([header[5], header[6], header[7], header[8]]) & 0x7FFF_FFFF;
    (buffer.len() >= FRAME_HEADER + length).then_some((header[3], stream, length))
}

/// Whether the whole frame at the start of `buffer` ends its stream (the END_STREAM flag, on a
/// DATA or HEADERS frame).
fn ends_stream(buffer: &[u8]) -> bool {
    buffer
        .get(3..5)
        .is_some_and(|b| matches!(b[0], DATA | HEADERS) && b[1] & END_STREAM != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_the_same_plan_and_other_seeds_other_plans() {
        let plan = |seed| FaultPlan::random(&mut SeededRng::new(seed), 30, 2, 4);
        assert_eq!(plan(7), plan(7));
        let distinct: BTreeSet<Vec<(u64, Fault)>> = (0..20)
            .map(|seed| plan(seed).0.into_iter().collect())
            .collect();
        assert!(distinct.len() > 15, "{distinct:?}");
        for seed in 0..50 {
            let faults = plan(seed).0;
            assert!((2..=4).contains(&faults.len()), "{faults:?}");
            assert!(faults.keys().all(|call| *call < 30));
        }
    }

    #[test]
    fn a_frame_is_read_only_once_it_has_arrived_whole() {
        let mut frame = vec![0, 0, 3, HEADERS, 4, 0, 0, 0, 5, 1, 2];
        assert_eq!(frame_at(&frame), None);
        frame.push(3);
        assert_eq!(frame_at(&frame), Some((HEADERS, 5, 3)));
        assert!(!ends_stream(&frame));
        frame[4] = END_STREAM;
        assert!(ends_stream(&frame));
    }
}
