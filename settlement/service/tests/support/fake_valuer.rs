//! An in-process valuer for the intake tests and bench.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use kernel::{Decimal, Points, RegionCode};
use settlement_domain::case::SettlementList;
use settlement_domain::ports::{BatchValuation, CaseValuer, PeerUnavailable, ValuedCase};

/// An in-process valuer for tests and benches: every case groups into `G` + the first three
/// characters of its principal diagnosis and is worth `points_per_case`, except cases whose
/// principal diagnosis is in `unvaluable` (refused one by one); while `unreachable` is set every
/// batch fails as if a peer were down.
#[derive(Debug, Default)]
pub struct FakeValuer {
    pub points_per_case: Decimal,
    pub unvaluable: BTreeSet<String>,
    pub unreachable: AtomicBool,
    /// Cases valued so far.
    pub valued: AtomicUsize,
    /// Batches answered so far.
    pub batches: AtomicUsize,
    /// Peers go down after this many batches (never when `None`).
    pub outage_after_batches: Option<usize>,
}

impl FakeValuer {
    pub fn new(points_per_case: Decimal) -> Arc<Self> {
        Arc::new(Self {
            points_per_case,
            ..Self::default()
        })
    }

    pub fn refusing(points_per_case: Decimal, diagnoses: &[&str]) -> Arc<Self> {
        Arc::new(Self {
            points_per_case,
            unvaluable: diagnoses.iter().map(|d| (*d).to_owned()).collect(),
            ..Self::default()
        })
    }

    /// Answers `batches` batches, then fails every later one as unreachable.
    pub fn failing_after(points_per_case: Decimal, batches: usize) -> Arc<Self> {
        Arc::new(Self {
            points_per_case,
            outage_after_batches: Some(batches),
            ..Self::default()
        })
    }

    pub fn set_unreachable(&self, down: bool) {
        self.unreachable.store(down, Ordering::SeqCst);
    }
}

#[async_trait::async_trait]
impl CaseValuer for FakeValuer {
    async fn value_batch(
        &self,
        _region: RegionCode,
        cases: &[SettlementList],
    ) -> Result<BatchValuation, PeerUnavailable> {
        let batch = self.batches.fetch_add(1, Ordering::SeqCst);
        let outage = self
            .outage_after_batches
            .is_some_and(|after| batch >= after);
        if outage || self.unreachable.load(Ordering::SeqCst) {
            return Err(PeerUnavailable {
                peer: "grouping",
                message: "connection refused".to_owned(),
            });
        }
        self.valued.fetch_add(cases.len(), Ordering::SeqCst);
        Ok(cases
            .iter()
            .map(|list| {
                let principal = list
                    .principal_diagnosis()
                    .map(|d| d.code.as_str())
                    .unwrap_or("");
                if self.unvaluable.contains(principal) {
                    return Err(format!("no group accepts principal diagnosis {principal}"));
                }
                let prefix: String = principal.chars().take(3).collect();
                Ok(ValuedCase {
                    payment_mode: "drg".to_owned(),
                    group_code: format!("G{prefix}"),
                    points: Points::round(self.points_per_case),
                    amount: None,
                    scheme_version: "fake@1".to_owned(),
                    table_version: list.stay.discharged_at.date().year().to_string(),
                    valuation_json: "{\"mode_rule\":\"fake\"}".to_owned(),
                })
            })
            .collect())
    }
}
