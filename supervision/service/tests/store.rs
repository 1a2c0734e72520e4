//! Screening-rule storage on every backend of the harness.

use platform::store_test;
use supervision_domain::{Decision, FindingStatus, RuleId, RuleLevel};
use supervision_service::Migrator;
use supervision_service::store::{
    FindingFilter, Review, RuleStore, StoredFinding, StoredRule, StoredRun, SupervisionStore,
    WriteError,
};

store_test!(rules_are_listed_per_region_in_pages, Migrator, |db| {
    let store = RuleStore::new(db.clone());
    let haikou = "460100".parse().expect("code");
    let sanya = "460200".parse().expect("code");
    for (region, id) in [
        (haikou, "SPLIT_ADMISSION"),
        (haikou, "BED_BLOCKING"),
        (sanya, "UPCODING"),
    ] {
        store
            .insert(&StoredRule {
                region,
                rule_id: id.into(),
                name: id.to_lowercase(),
                level: "strong".into(),
                parameters_json: "{}".into(),
            })
            .await
            .expect("insert");
    }
    let first = store.list(haikou, None, 1).await.expect("list");
    assert_eq!(
        first.iter().map(|r| r.rule_id.as_str()).collect::<Vec<_>>(),
        ["BED_BLOCKING"]
    );
    let second = store
        .list(haikou, Some("BED_BLOCKING"), 1)
        .await
        .expect("list");
    assert_eq!(
        second
            .iter()
            .map(|r| r.rule_id.as_str())
            .collect::<Vec<_>>(),
        ["SPLIT_ADMISSION"]
    );
    let third = store
        .list(haikou, Some("SPLIT_ADMISSION"), 1)
        .await
        .expect("list");
    assert!(third.is_empty());
});

fn call(request_id: &str, method: &str) -> platform::journal::Call {
    platform::journal::Call::with_fingerprint(
        "agency",
        request_id,
        method,
        platform::journal::Fingerprint::of_parts(method, &[request_id.as_bytes()]),
        None,
    )
}

fn run(region: kernel::RegionCode, period: kernel::YearMonth) -> StoredRun {
    StoredRun {
        region,
        period,
        version: 0,
        request_id: String::new(),
        caller_id: "agency".into(),
        cases: 3,
        findings: 2,
        policy_json: "{}".into(),
    }
}

fn finding(
    region: kernel::RegionCode,
    period: kernel::YearMonth,
    seq: i32,
    rule: RuleId,
) -> StoredFinding {
    StoredFinding {
        finding_id: String::new(),
        region,
        period,
        run_version: 0,
        seq,
        rule,
        level: RuleLevel::Strong,
        hospital_code: "H001".into(),
        list_id: format!("L{seq}"),
        arm: "daily".into(),
        item_code: "001101000010000".into(),
        date: "2026-03-02".parse().ok(),
        other_hospital_code: String::new(),
        other_list_id: String::new(),
        fee_lines: vec![3, 4],
        evidence: vec!["003107010010000".into()],
        amount: kernel::Money::from_fen(12_345),
        status: FindingStatus::Open,
        reviewer: String::new(),
        review_reason: String::new(),
        fund: Some(kernel::FundType::Employee),
        case_region: "460108".parse().expect("code"),
        response: String::new(),
        responder: String::new(),
        responded_before_review: false,
    }
}

store_test!(
    runs_are_versioned_and_findings_reviewed_once,
    Migrator,
    |db| {
        let store = SupervisionStore::new(db.clone());
        let haikou: kernel::RegionCode = "460100".parse().expect("code");
        let march = kernel::YearMonth::new(2026, 3).expect("month");
        // Every finding of these runs, in one page.
        let page = (None, 10);
        for (request, version) in [("r1", 1i32), ("r2", 2)] {
            let findings = vec![
                finding(haikou, march, 1, RuleId::Readmission15Days),
                finding(haikou, march, 2, RuleId::OverFrequency),
            ];
            let once = store
                .record_run(
                    &call(request, "ScreenCases"),
                    run(haikou, march),
                    findings,
                    |run| run.version.to_be_bytes().to_vec(),
                )
                .await
                .expect("run stored");
            assert_eq!(once.response(), version.to_be_bytes());
        }
        let replay = store
            .record_run(
                &call("r1", "ScreenCases"),
                run(haikou, march),
                vec![],
                |_| vec![],
            )
            .await
            .expect("replayed");
        assert!(replay.is_replay());
        assert_eq!(
            store.latest_version(haikou, march).await.expect("latest"),
            Some(2)
        );

        let second = store
            .findings(haikou, march, 2, &FindingFilter::default(), page.0, page.1)
            .await
            .expect("findings");
        assert_eq!(
            second
                .iter()
                .map(|f| f.finding_id.as_str())
                .collect::<Vec<_>>(),
            ["460100-202603-2-1", "460100-202603-2-2"]
        );
        let read = &second[1];
        assert_eq!(read.fee_lines, [3, 4]);
        assert_eq!(read.amount.to_string(), "123.45");
        assert_eq!(read.date, "2026-03-02".parse().ok());
        assert_eq!(read.evidence, ["003107010010000"]);
        let only_rule_2 = store
            .findings(
                haikou,
                march,
                1,
                &FindingFilter {
                    rule: Some(RuleId::Readmission15Days),
                    ..FindingFilter::default()
                },
                page.0,
                page.1,
            )
            .await
            .expect("filtered");
        assert_eq!(only_rule_2.len(), 1);

        let review = |request: &str, decision: Decision| {
            let store = store.clone();
            let call = call(request, "ReviewFinding");
            async move {
                store
                    .review(
                        &call,
                        Review {
                            region: haikou,
                            finding_id: "460100-202603-2-1".into(),
                            decision,
                            reviewer: "inspector".into(),
                            reason: "checked".into(),
                        },
                        |finding| finding.status.as_str().as_bytes().to_vec(),
                    )
                    .await
            }
        };
        let confirmed = review("v1", Decision::Confirmed).await.expect("confirmed");
        assert_eq!(confirmed.response(), b"confirmed");
        assert!(matches!(
            review("v2", Decision::Dismissed).await,
            Err(WriteError::AlreadyDecided(_))
        ));
        let sanya_review = store
            .review(
                &call("v3", "ReviewFinding"),
                Review {
                    region: "460200".parse().expect("code"),
                    finding_id: "460100-202603-2-1".into(),
                    decision: Decision::Dismissed,
                    reviewer: "inspector".into(),
                    reason: "checked".into(),
                },
                |_| vec![],
            )
            .await;
        assert!(matches!(sanya_review, Err(WriteError::NoSuchFinding(_))));
        let confirmed = store
            .findings(
                haikou,
                march,
                2,
                &FindingFilter {
                    status: Some(FindingStatus::Confirmed),
                    ..FindingFilter::default()
                },
                page.0,
                page.1,
            )
            .await
            .expect("confirmed");
        assert_eq!(confirmed.len(), 1);
        assert_eq!(confirmed[0].reviewer, "inspector");

        // Deductions read confirmed findings by the case's region, fund and year.
        let employee = kernel::FundType::Employee;
        let read =
            |region: &str, year: i32, fund: kernel::FundType, hospital: Option<&'static str>| {
                let store = store.clone();
                let region: kernel::RegionCode = region.parse().expect("code");
                async move {
                    store
                        .confirmed_findings((region, year, fund), hospital)
                        .await
                        .expect("confirmed findings")
                        .into_iter()
                        .map(|f| (f.finding_id, f.fund, f.case_region.to_string()))
                        .collect::<Vec<_>>()
                }
            };
        let expected = vec![(
            "460100-202603-2-1".to_owned(),
            Some(employee),
            "460108".to_owned(),
        )];
        assert_eq!(read("460108", 2026, employee, None).await, expected);
        assert_eq!(read("460100", 2026, employee, Some("H001")).await, expected);
        assert!(
            read("460100", 2026, employee, Some("H002"))
                .await
                .is_empty()
        );
        assert!(read("460105", 2026, employee, None).await.is_empty());
        assert!(read("460108", 2025, employee, None).await.is_empty());
        assert!(
            read("460108", 2026, kernel::FundType::Resident, None)
                .await
                .is_empty()
        );
    }
);
