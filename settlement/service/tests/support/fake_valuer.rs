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
/// batch fails as if a peer were down. A principal diagnosis starting `F2` or `F3` is a
/// psychiatric stay, as the points context's default rules see one: per diem once its episode
/// days (prior days + max(LOS, 1)) pass 56, at 150.00 a day up to day 56 and 95.00 after;
/// otherwise DIP.
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
        prior_days: &[u32],
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
            .enumerate()
            .map(|(i, list)| {
                let prior = prior_days.get(i).copied().unwrap_or(0);
                let principal = list
                    .principal_diagnosis()
                    .map(|d| d.code.as_str())
                    .unwrap_or("");
                if self.unvaluable.contains(principal) {
                    return Err(format!("no group accepts principal diagnosis {principal}"));
                }
                let prefix: String = principal.chars().take(3).collect();
                let psychiatric = principal.starts_with("F2") || principal.starts_with("F3");
                let billable = u32::try_from(list.stay.length_of_stay())
                    .unwrap_or(0)
                    .max(1);
                let per_diem = psychiatric && prior + billable > 56;
                let amount = per_diem.then(|| {
                    let acute = (prior + 1..=prior + billable).filter(|d| *d <= 56).count();
                    let later = billable as usize - acute;
                    kernel::Money::round(Decimal::from(acute * 150 + later * 95))
                });
                Ok(ValuedCase {
                    payment_mode: if per_diem {
                        "per_diem_psychiatric"
                    } else if psychiatric {
                        "dip"
                    } else {
                        "drg"
                    }
                    .to_owned(),
                    group_code: format!("G{prefix}"),
                    points: if per_diem {
                        Points::ZERO
                    } else {
                        Points::round(self.points_per_case)
                    },
                    amount,
                    scheme_version: "fake@1".to_owned(),
                    table_version: list.stay.discharged_at.date().year().to_string(),
                    valuation_json: "{\"mode_rule\":\"fake\"}".to_owned(),
                    episode_programme: if psychiatric { "psychiatric" } else { "" }.to_owned(),
                    prior_episode_days: prior,
                })
            })
            .collect())
    }
}
