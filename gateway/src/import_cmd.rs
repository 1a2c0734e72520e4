//! `medpay settlement import`: feeds a CSV export of settlement lists (national platform column
//! names, `settlement/IMPORT.md`) to `SubmitCases` on a running server, as one streamed upload.
//!
//! The upload's request id defaults to a hash of the inputs, so running the same import again
//! is a no-op on the server (it replays the first answer).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kernel::RegionCode;
use medpay_proto::settlement::v1 as pb;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use settlement_service::import::{
    FeeLineIndex, ImportOptions, ListReader, RowError, import_request_id,
};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;

use crate::config::Settings;
use crate::remote;

/// Arguments of `medpay settlement import`.
pub struct ImportArgs {
    /// Settlement lists, one row per list.
    pub file: PathBuf,
    /// Fee lines joined by (fixmedins_code, setl_id).
    pub fee_lines: Option<PathBuf>,
    /// Server URL (default: the configured listen address).
    pub server: Option<String>,
    /// Pooling region of the upload, and of rows without a `pooling_region`.
    pub region: Option<RegionCode>,
    pub api_key: Option<String>,
    pub request_id: Option<String>,
}

/// What the server and the reader made of an import.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub read: u64,
    pub bad_rows: Vec<RowError>,
    pub outcome: Option<pb::IntakeOutcome>,
}

impl ImportReport {
    /// Records refused, locally or by the server.
    pub fn rejected(&self) -> u64 {
        let local = self
            .bad_rows
            .iter()
            .map(|e| (e.file.as_str(), e.line))
            .collect::<std::collections::BTreeSet<_>>()
            .len() as u64;
        local + self.outcome.as_ref().map_or(0, |o| o.rejected)
    }
}

fn read_input(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
}

/// Runs the import and prints its outcome; an error when anything was rejected.
pub async fn settlement_import(settings: &Settings, args: ImportArgs) -> anyhow::Result<()> {
    let report = import(settings, &args).await?;
    for error in &report.bad_rows {
        eprintln!("  {error}");
    }
    if let Some(outcome) = &report.outcome {
        if outcome.replayed {
            println!("this import was already done; its stored answer follows");
        }
        println!(
            "accepted {}, corrected {}, unchanged {}, rejected {}",
            outcome.accepted, outcome.corrected, outcome.unchanged, outcome.rejected
        );
        for rejection in &outcome.rejections {
            println!(
                "  rejected record {} ({}/{}): {}: {} [{}]",
                rejection.position + 1,
                rejection.hospital_code,
                rejection.list_id,
                rejection.field,
                rejection.reason,
                rejection.code
            );
        }
    }
    if !report.bad_rows.is_empty() {
        println!(
            "{} row problem(s) in the input; those rows were not sent",
            report.bad_rows.len()
        );
    }
    let rejected = report.rejected();
    if rejected > 0 {
        anyhow::bail!("{rejected} record(s) rejected");
    }
    Ok(())
}

/// Reads the inputs, streams the good rows to `SubmitCases` and returns what happened.
pub async fn import(settings: &Settings, args: &ImportArgs) -> anyhow::Result<ImportReport> {
    let lists = read_input(&args.file)?;
    let fees = match &args.fee_lines {
        Some(path) => Some(read_input(path)?),
        None => None,
    };
    let region_text = args.region.map(|r| r.to_string()).unwrap_or_default();
    let request_id = args.request_id.clone().unwrap_or_else(|| {
        import_request_id(&[
            &lists,
            fees.as_deref().unwrap_or_default(),
            region_text.as_bytes(),
        ])
    });
    let lists_name = args.file.display().to_string();
    let (index, mut bad_rows) = match (&fees, &args.fee_lines) {
        (Some(bytes), Some(path)) => {
            FeeLineIndex::read(bytes.as_slice(), &path.display().to_string())
        }
        _ => (FeeLineIndex::default(), Vec::new()),
    };
    let mut reader = ListReader::new(
        std::io::Cursor::new(lists),
        &lists_name,
        index,
        ImportOptions {
            default_region: args.region,
        },
    );

    // The first good row decides the upload's region when none is given: its province, which
    // holds every region of the rows of one agency's export.
    let mut first = None;
    let mut read = 0u64;
    for item in reader.by_ref() {
        read += 1;
        match item {
            Ok(list) => {
                first = Some(list);
                break;
            }
            Err(problems) => bad_rows.extend(problems),
        }
    }
    let Some(first) = first else {
        bad_rows.extend(reader.unmatched_fee_lines());
        return Ok(ImportReport {
            read,
            bad_rows,
            outcome: None,
        });
    };
    let region = args
        .region
        .unwrap_or_else(|| first.list.header.pooling_region.province());

    let url = remote::server_url(settings, args.server.as_deref());
    let credentials = remote::Credentials::new(args.api_key.as_deref())?;
    let channel = remote::connect(&url, credentials).await?;
    let mut client =
        SettlementServiceClient::new(channel).max_decoding_message_size(64 * 1024 * 1024);

    let read_count = Arc::new(AtomicU64::new(read));
    let sent_count = Arc::new(AtomicU64::new(0));
    let (tx, rx) = tokio::sync::mpsc::channel::<pb::SubmitCasesRequest>(256);
    let producer_read = Arc::clone(&read_count);
    let region_code = region.to_string();
    let upload_id = request_id.clone();
    let producer = tokio::task::spawn_blocking(move || {
        let mut bad_rows = Vec::new();
        let message = |json: String, first: bool| pb::SubmitCasesRequest {
            request_id: if first {
                upload_id.clone()
            } else {
                String::new()
            },
            region_code: if first {
                region_code.clone()
            } else {
                String::new()
            },
            case_json: String::new(),
            record: Some(pb::SubmitRecord {
                record: Some(pb::submit_record::Record::SettlementListJson(json)),
            }),
        };
        if tx.blocking_send(message(first.json, true)).is_err() {
            return (bad_rows, reader.unmatched_fee_lines());
        }
        for item in reader.by_ref() {
            producer_read.fetch_add(1, Ordering::Relaxed);
            match item {
                Ok(list) => {
                    if tx.blocking_send(message(list.json, false)).is_err() {
                        break;
                    }
                }
                Err(problems) => bad_rows.extend(problems),
            }
        }
        (bad_rows, reader.unmatched_fee_lines())
    });

    let counted = Arc::clone(&sent_count);
    let stream = ReceiverStream::new(rx).map(move |message| {
        counted.fetch_add(1, Ordering::Relaxed);
        message
    });
    let request = tonic::Request::new(stream);

    let progress = Progress::start(Arc::clone(&read_count), Arc::clone(&sent_count));
    let answer = client.submit_cases(request).await;
    progress.finish().await;
    let (more_bad, unmatched) = producer
        .await
        .map_err(|e| anyhow::anyhow!("reading {lists_name}: {e}"))?;
    bad_rows.extend(more_bad);
    bad_rows.extend(unmatched);
    let response = answer.map_err(|status| {
        anyhow::anyhow!(
            "the server refused the upload: {:?}: {}",
            status.code(),
            status.message()
        )
    })?;
    eprintln!(
        "read {} rows, sent {} records as upload {request_id} to {url}",
        read_count.load(Ordering::Relaxed),
        sent_count.load(Ordering::Relaxed)
    );
    Ok(ImportReport {
        read: read_count.load(Ordering::Relaxed),
        bad_rows,
        outcome: response.into_inner().outcome,
    })
}

/// Progress of an import: one rewritten line on a terminal, a plain line now and then otherwise.
struct Progress {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Progress {
    fn start(read: Arc<AtomicU64>, sent: Arc<AtomicU64>) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let tick = if terminal {
                Duration::from_millis(200)
            } else {
                Duration::from_secs(5)
            };
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    () = tokio::time::sleep(tick) => {}
                }
                let (read, sent) = (read.load(Ordering::Relaxed), sent.load(Ordering::Relaxed));
                if terminal {
                    eprint!("\rread {read} rows, sent {sent} records");
                } else {
                    eprintln!("read {read} rows, sent {sent} records");
                }
            }
            if terminal {
                eprint!("\r\x1b[K");
            }
        });
        Self { stop, task }
    }

    async fn finish(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}
