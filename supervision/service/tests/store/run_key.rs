//! Findings keyed by their run (migration m0007): the rows survive the migration both ways, and
//! an id names its key in one spelling only.

use platform::store_test;
use supervision_domain::{Decision, RuleId};
use supervision_service::Migrator;
use supervision_service::store::{
    FindingFilter, Review, StoredFinding, SupervisionStore, WriteError,
};

use super::{call, finding, run};

store_test!(
    findings_survive_the_run_key_migration_down_and_up,
    Migrator,
    |db| {
        use sea_orm_migration::MigratorTrait;
        let store = SupervisionStore::new(db.clone());
        let haikou: kernel::RegionCode = "460100".parse().expect("code");
        let march = kernel::YearMonth::new(2026, 3).expect("month");
        store
            .record_run(
                &call("keyed", "ScreenCases"),
                run(haikou, march),
                vec![
                    finding(haikou, march, 1, RuleId::Readmission15Days),
                    finding(haikou, march, 2, RuleId::OverFrequency),
                ],
                |_| Vec::new(),
            )
            .await
            .expect("run stored");
        // Back to the text key (every migration from the seventh on undone, however many follow
        // it), and forward to the run's key again: the rows are copied both ways.
        let from_m0007 = u32::try_from(Migrator::migrations().len() - 6).expect("a few");
        Migrator::down(db, Some(from_m0007)).await.expect("down");
        Migrator::up(db, None).await.expect("up");
        let stored = store
            .findings(haikou, march, 1, &FindingFilter::default(), None, 10)
            .await
            .expect("findings");
        assert_eq!(
            stored
                .iter()
                .map(|f| (f.finding_id.as_str(), f.seq))
                .collect::<Vec<_>>(),
            [("460100-202603-1-1", 1), ("460100-202603-1-2", 2)]
        );
        let decide = |id: &str, request: &str| Review {
            region: haikou,
            finding_id: id.into(),
            decision: Decision::Confirmed,
            reviewer: "inspector".into(),
            reason: request.into(),
        };
        store
            .review(
                &call("confirm", "ReviewFinding"),
                decide("460100-202603-1-2", "confirm"),
                |_| Vec::new(),
            )
            .await
            .expect("reviewed by the id");
        // The same key spelt otherwise is no finding's id.
        for (request, id) in [
            ("padded", "460100-202603-01-1"),
            ("tail", "460100-202603-1-1-"),
        ] {
            let refused = store
                .review(&call(request, "ReviewFinding"), decide(id, request), |_| {
                    Vec::new()
                })
                .await;
            assert!(
                matches!(refused, Err(WriteError::NoSuchFinding(ref named)) if named == id),
                "{id}: {refused:?}"
            );
        }
        let confirmed = store
            .confirmed_findings((haikou, 2026, kernel::FundType::Employee), None)
            .await
            .expect("confirmed");
        assert_eq!(
            confirmed
                .iter()
                .map(|f| f.finding_id.as_str())
                .collect::<Vec<_>>(),
            ["460100-202603-1-2"]
        );
    }
);

#[test]
fn a_finding_id_spells_its_run_key_one_way_only() {
    let haikou: kernel::RegionCode = "460100".parse().expect("code");
    let march = kernel::YearMonth::new(2026, 3).expect("month");
    assert_eq!(
        StoredFinding::key_of("460100-202603-2-17"),
        Some((haikou, march, 2, 17))
    );
    assert_eq!(
        StoredFinding::key_of(&StoredFinding::id_of(haikou, march, 12, 400_000)),
        Some((haikou, march, 12, 400_000))
    );
    for id in [
        "",
        "460100",
        "460100-202603-2",
        "460100-202603-2-17-1",
        "460100-202603-+2-17",
        "460100-202613-2-17",
        "x-202603-2-17",
    ] {
        assert_eq!(StoredFinding::key_of(id), None, "{id}");
    }
}
