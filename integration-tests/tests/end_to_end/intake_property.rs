//! Intake as a property, through the real `medpay up` on SQLite: the same settlement lists in
//! any order, split into any uploads (streamed or batched), with uploads sent again under their
//! own request id or a new one, with corrections sent any number of times and damaged lists
//! among them, leave the same ledger and the same prepayment and clearing statements as the
//! lists sent once in order. A correction is a new version of its case, never a second case; a
//! damaged list is refused and changes nothing.
//!
//! Each case starts its own server; `PROPTEST_CASES` sets how many (12 by default), and
//! `MEDPAY_FAULT_POSTGRES` puts each server on its own PostgreSQL database.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use integration_tests::quarter::{self, COUNTY, Damage, List};
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use tonic::transport::Channel;

use crate::faults::{Harness, Paid, record, set_up, settle, timed};

const DATA_SEED: u64 = 77;
const LISTS: usize = 24;

/// How one case sends the lists.
#[derive(Clone, Debug)]
struct Sending {
    /// The lists' order.
    order: Vec<usize>,
    /// Upload sizes, used in turn until every list is sent.
    sizes: Vec<usize>,
    /// Whether the nth upload streams (`SubmitCases`) or is one batch (`SubmitCaseBatch`).
    streamed: Vec<bool>,
    /// Damaged lists: (the list damaged, how), each sent in the upload of its list.
    damaged: Vec<(usize, usize)>,
    /// Uploads sent again afterwards: (which upload, under its own request id or a new one).
    again: Vec<(usize, bool)>,
    /// Lists corrected after everything else, and how often the correction is sent.
    corrections: Vec<usize>,
    correction_sends: usize,
}

fn sending() -> impl Strategy<Value = Sending> {
    (
        Just((0..LISTS).collect::<Vec<_>>()).prop_shuffle(),
        prop::collection::vec(1..=10usize, 1..6),
        prop::collection::vec(any::<bool>(), 6),
        prop::collection::vec((0..LISTS, 0..Damage::ALL.len()), 0..3),
        prop::collection::vec((0..12usize, any::<bool>()), 0..4),
        prop::sample::subsequence((0..LISTS).collect::<Vec<_>>(), 0..4),
        1..=3usize,
    )
        .prop_map(
            |(order, sizes, streamed, damaged, again, corrections, correction_sends)| Sending {
                order,
                sizes,
                streamed,
                damaged,
                again,
                corrections,
                correction_sends,
            },
        )
}

/// One upload: its request id, records, whether it streams, and how many it must refuse.
struct Upload {
    request_id: String,
    lists: Vec<List>,
    streamed: bool,
    refused: u64,
}

async fn send(
    h: &Harness,
    intake: &SettlementServiceClient<Channel>,
    upload: &Upload,
) -> anyhow::Result<settlement::IntakeOutcome> {
    let outcome = if upload.streamed {
        let messages: Vec<settlement::SubmitCasesRequest> = upload
            .lists
            .iter()
            .enumerate()
            .map(|(i, list)| settlement::SubmitCasesRequest {
                request_id: if i == 0 {
                    upload.request_id.clone()
                } else {
                    String::new()
                },
                region_code: COUNTY.into(),
                case_json: String::new(),
                record: Some(record(list)),
            })
            .collect();
        h.call("SubmitCases", || {
            let (mut c, body) = (intake.clone(), messages.clone());
            async move { c.submit_cases(timed(tokio_stream::iter(body))).await }
        })
        .await?
        .outcome
    } else {
        let batch = settlement::SubmitCaseBatchRequest {
            request_id: upload.request_id.clone(),
            region_code: COUNTY.into(),
            records: upload.lists.iter().map(record).collect(),
        };
        h.call("SubmitCaseBatch", || {
            let (mut c, body) = (intake.clone(), batch.clone());
            async move { c.submit_case_batch(timed(body)).await }
        })
        .await?
        .outcome
    };
    outcome.ok_or_else(|| anyhow::anyhow!("{} answered no outcome", upload.request_id))
}

/// The uploads of `sending`, first sends only.
fn uploads(lists: &[List], sending: &Sending) -> Vec<Upload> {
    let mut uploads = Vec::new();
    let mut rest = sending.order.as_slice();
    let mut n = 0;
    while !rest.is_empty() {
        let size = sending.sizes[n % sending.sizes.len()].min(rest.len());
        let (these, later) = rest.split_at(size);
        let mut chosen: Vec<List> = these.iter().map(|&i| lists[i].clone()).collect();
        let mut refused = 0;
        for &(list, damage) in &sending.damaged {
            if these.contains(&list) {
                chosen.push(quarter::damaged(&lists[list], Damage::ALL[damage]));
                refused += 1;
            }
        }
        uploads.push(Upload {
            request_id: format!("upload-{n}"),
            lists: chosen,
            streamed: sending.streamed[n % sending.streamed.len()],
            refused,
        });
        rest = later;
        n += 1;
    }
    uploads
}

fn corrections(lists: &[List], which: &[usize]) -> Vec<List> {
    which
        .iter()
        .map(|&i| quarter::corrected(&lists[i], 10_001))
        .collect()
}

/// A fresh server given the lists as `sending` says; what it paid.
async fn pay(sending: Option<&Sending>, corrected: &[usize]) -> anyhow::Result<Paid> {
    let lists = quarter::lists(DATA_SEED, LISTS);
    let h = Harness::start().await?;
    set_up(&h).await?;
    let intake = SettlementServiceClient::new(h.channel.clone());
    let first = match sending {
        Some(sending) => uploads(&lists, sending),
        None => vec![Upload {
            request_id: "all".into(),
            lists: lists.clone(),
            streamed: false,
            refused: 0,
        }],
    };
    for upload in &first {
        let outcome = send(&h, &intake, upload).await?;
        anyhow::ensure!(
            outcome.rejected == upload.refused && !outcome.replayed,
            "{}: {outcome:?}",
            upload.request_id
        );
    }
    for (k, &(which, same_id)) in sending
        .map(|s| s.again.as_slice())
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let Some(upload) = first.get(which % first.len()) else {
            continue;
        };
        let again = Upload {
            request_id: if same_id {
                upload.request_id.clone()
            } else {
                format!("again-{k}")
            },
            lists: upload.lists.clone(),
            streamed: upload.streamed,
            refused: upload.refused,
        };
        let outcome = send(&h, &intake, &again).await?;
        // Sent again, nothing is new: a replay answers as the first time, a new request id
        // finds every valid list unchanged.
        if same_id {
            anyhow::ensure!(outcome.replayed, "{outcome:?}");
        } else {
            anyhow::ensure!(
                outcome.accepted == 0
                    && outcome.corrected == 0
                    && outcome.rejected == again.refused,
                "{}: {outcome:?}",
                again.request_id
            );
        }
    }
    let sends = sending.map_or(1, |s| s.correction_sends);
    let corrections = corrections(&lists, corrected);
    if !corrections.is_empty() {
        for n in 0..sends {
            let upload = Upload {
                request_id: format!("corrections-{n}"),
                lists: corrections.clone(),
                streamed: n % 2 == 0,
                refused: 0,
            };
            let outcome = send(&h, &intake, &upload).await?;
            let expected = if n == 0 { corrections.len() as u64 } else { 0 };
            anyhow::ensure!(outcome.corrected == expected, "{outcome:?}");
        }
    }
    settle(&h).await
}

#[test]
fn any_order_batching_and_resending_leaves_the_same_ledger_and_statements() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(12);
    let mut runner = TestRunner::new(Config {
        cases,
        max_shrink_iters: 16,
        failure_persistence: None,
        ..Config::default()
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    // The lists sent once in order, by the corrections made after them.
    let references = std::cell::RefCell::new(std::collections::BTreeMap::new());
    let result = runner.run(&sending(), |sending| {
        runtime.block_on(async {
            let known = references.borrow().get(&sending.corrections).cloned();
            let reference = match known {
                Some(reference) => reference,
                None => {
                    let reference = pay(None, &sending.corrections)
                        .await
                        .map_err(|e| TestCaseError::fail(format!("in order: {e:#}")))?;
                    references
                        .borrow_mut()
                        .insert(sending.corrections.clone(), reference.clone());
                    reference
                }
            };
            let paid = pay(Some(&sending), &sending.corrections)
                .await
                .map_err(|e| TestCaseError::fail(format!("{e:#}")))?;
            let versions = |p: &Paid| -> Vec<(String, i32)> {
                p.cases
                    .iter()
                    .map(|c| (c.list_id.clone(), c.version))
                    .collect()
            };
            prop_assert_eq!(paid.cases.len(), LISTS);
            prop_assert_eq!(
                versions(&paid).iter().filter(|(_, v)| *v == 2).count(),
                sending.corrections.len()
            );
            prop_assert_eq!(versions(&paid), versions(&reference));
            prop_assert_eq!(&paid, &reference);
            Ok(())
        })
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
