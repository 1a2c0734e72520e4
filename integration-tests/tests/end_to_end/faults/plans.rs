//! What each seed's faults are: planned from the seed among what the fault-free run passed
//! through each proxy.

use super::{Harness, Mode, PROXIES};
use integration_tests::faults::{Fault, FaultPlan, SeededRng};
use integration_tests::pg_faults::{DbCounts, DbFault, DbPlan, PgFaultProxy};

/// What the fault-free run passed through the proxies: the calls through each HTTP/2 proxy and
/// the points the PostgreSQL proxy counts (none without one).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Seen {
    pub(crate) calls: [u64; PROXIES],
    pub(crate) database: DbCounts,
}

impl Seen {
    pub(crate) fn of(h: &Harness) -> Seen {
        Seen {
            calls: h.proxies().map(|(_, proxy)| proxy.calls()),
            database: h
                .database
                .as_ref()
                .map(PgFaultProxy::counts)
                .unwrap_or_default(),
        }
    }
}

/// Each proxy's faults for `seed`, among what the fault-free run passed through it: with
/// [`Mode::Calls`] on the HTTP/2 proxies only, with [`Mode::Database`] on the PostgreSQL proxy
/// only (so that a failure points at one layer).
pub(crate) fn plans(seed: u64, mode: Mode, seen: &Seen) -> ([FaultPlan; PROXIES], DbPlan) {
    let mut rng = SeededRng::new(seed);
    match mode {
        Mode::Calls => (
            [
                FaultPlan::random(&mut rng, seen.calls[0], 1, 3),
                FaultPlan::random(&mut rng, seen.calls[1], 0, 1),
                FaultPlan::random(&mut rng, seen.calls[2], 0, 1),
                FaultPlan::random(&mut rng, seen.calls[3], 0, 1),
                FaultPlan::random(&mut rng, seen.calls[4], 0, 1),
            ],
            DbPlan::default(),
        ),
        Mode::Database => (
            Default::default(),
            DbPlan::random(&mut rng, &seen.database, 1, 3),
        ),
    }
}

#[test]
fn every_fault_kind_is_planned_over_the_ci_seeds() {
    let seen = Seen {
        calls: [40, 8, 8, 2, 2],
        database: [4, 400, 150, 60],
    };
    let planned: std::collections::BTreeSet<&str> = (0..20)
        .flat_map(|seed| plans(seed, Mode::Calls, &seen).0)
        .flat_map(|plan| plan.0.into_values())
        .map(Fault::kind)
        .collect();
    assert_eq!(planned.len(), Fault::ALL.len(), "{planned:?}");
    let planned: std::collections::BTreeSet<_> = (0..10)
        .flat_map(|seed| plans(seed, Mode::Database, &seen).1.0)
        .map(|(kind, _)| kind)
        .collect();
    assert_eq!(planned.len(), DbFault::ALL.len(), "{planned:?}");
}
