//! Screening-rule storage on every backend of the harness.

use platform::store_test;
use supervision_domain::{Decision, FindingStatus, RuleId, RuleLevel};
use supervision_service::Migrator;
use supervision_service::store::{
    FINDINGS_PER_INSERT, FINDINGS_PER_UNNEST, FindingFilter, Review, RuleStore, StoredFinding,
    StoredRule, StoredRun, SupervisionStore, WriteError,
};

mod lead_link_region;
mod run_key;

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

/// A lead on hospital H001 received by the 12393 hotline on 2026-03-25.
fn hotline_lead(region: kernel::RegionCode) -> supervision_service::assessment_store::NewLead {
    use supervision_domain::leads::LeadChannel;
    supervision_service::assessment_store::NewLead {
        region,
        channel: LeadChannel::Hotline12393,
        received_on: kernel::Date::new(2026, 3, 25).expect("date"),
        hospital_code: "H001".into(),
        summary: "重复收费".into(),
        recorded_by: "reviewer".into(),
    }
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

store_test!(
    level_changes_parameters_and_responses_read_back,
    Migrator,
    |db| {
        use supervision_domain::Override;
        use supervision_domain::lifecycle::RuleParameters;
        use supervision_service::changes_store::{LevelRequest, ResponseRequest};

        let store = SupervisionStore::new(db.clone());
        let haikou: kernel::RegionCode = "460100".parse().expect("code");
        let march = kernel::YearMonth::new(2026, 3).expect("month");
        store
            .record_run(
                &call("s1", "ScreenCases"),
                run(haikou, march),
                vec![
                    finding(haikou, march, 1, RuleId::OverFrequency),
                    finding(haikou, march, 2, RuleId::OverFrequency),
                ],
                |_| vec![],
            )
            .await
            .expect("run");
        let decide = |id: &str, request: &str, decision| Review {
            region: haikou,
            finding_id: id.into(),
            decision,
            reviewer: "reviewer".into(),
            reason: request.into(),
        };
        store
            .review(
                &call("v1", "ReviewFinding"),
                decide("460100-202603-1-1", "v1", Decision::Dismissed),
                |_| vec![],
            )
            .await
            .expect("dismiss");

        let hospital = kernel::Principal {
            caller_id: "h1".into(),
            scopes: vec![haikou],
            roles: vec!["hospital".into()],
            institution: Some("H001".into()),
        };
        store
            .respond_to_finding(
                &call("a1", "RespondToFinding"),
                ResponseRequest {
                    region: haikou,
                    finding_id: "460100-202603-1-2".into(),
                    text: "coded twice by mistake".into(),
                    principal: hospital,
                },
                |_| vec![],
            )
            .await
            .expect("answer");
        store
            .review(
                &call("v2", "ReviewFinding"),
                decide("460100-202603-1-2", "v2", Decision::Confirmed),
                |_| vec![],
            )
            .await
            .expect("confirm");
        let read = store
            .findings(haikou, march, 1, &FindingFilter::default(), None, 10)
            .await
            .expect("findings");
        assert_eq!(
            (
                read[0].responded_before_review,
                read[1].responded_before_review
            ),
            (false, true)
        );
        assert_eq!(read[1].response, "coded twice by mistake");
        assert_eq!(read[1].responder, "h1");

        // Rule 12 ships strong: one step down, with the run's one confirmed and one dismissed.
        let once = store
            .change_level(
                &call("l1", "ChangeRuleLevel"),
                supervision_domain::ScreeningPolicy::default(),
                LevelRequest {
                    region: "460000".parse().expect("code"),
                    year: 2026,
                    rule: RuleId::OverFrequency,
                    to: RuleLevel::General,
                    changed_by: "bureau".into(),
                    reason: "disputed".into(),
                },
                |change, _| {
                    vec![
                        u8::try_from(change.evidence.confirmed).unwrap_or(u8::MAX),
                        u8::try_from(change.evidence.dismissed).unwrap_or(u8::MAX),
                    ]
                },
            )
            .await
            .expect("level");
        assert_eq!(once.response(), [1, 1]);
        store
            .set_parameters(
                &call("p1", "SetRuleParameters"),
                RuleParameters {
                    region: haikou,
                    year: 2026,
                    rule: RuleId::BedBlocking,
                    overrides: vec![Override::BedBlockingDays(5)],
                },
                "bureau".into(),
                |_| vec![],
            )
            .await
            .expect("parameters");
        let changes = store.policy_changes(haikou).await.expect("changes");
        let policy = changes.apply(supervision_domain::ScreeningPolicy::default(), haikou, 2026);
        assert_eq!(policy.level(RuleId::OverFrequency), RuleLevel::General);
        assert_eq!(policy.parameters.bed_blocking_days, 5);
        let sanya = store
            .policy_changes("460200".parse().expect("code"))
            .await
            .expect("changes");
        assert_eq!((sanya.levels.len(), sanya.parameters.len()), (1, 0));
    }
);

store_test!(
    credit_policies_are_stored_in_versions_per_region_and_year,
    Migrator,
    |db| {
        use kernel::Decimal;
        use supervision_domain::credit::CreditPolicy;

        let store = SupervisionStore::new(db.clone());
        let haikou: kernel::RegionCode = "460100".parse().expect("code");
        assert_eq!(
            store
                .latest_credit_policy(haikou, 2026)
                .await
                .expect("read"),
            None
        );
        let strict = CreditPolicy {
            a_min_score: Decimal::new(955, 1),
            a_max_findings: 0,
            b_min_score: Decimal::new(8025, 2),
            b_max_findings: 1,
            c_min_score: Decimal::from(65),
        };
        for (n, policy) in [CreditPolicy::default(), strict].into_iter().enumerate() {
            let once = store
                .put_credit_policy(
                    &call(&format!("cp-{n}"), "PutCreditPolicy"),
                    (haikou, 2026),
                    policy,
                    "bureau".into(),
                    |stored| vec![u8::try_from(stored.version).expect("small")],
                )
                .await
                .expect("put");
            assert_eq!(once.response(), [u8::try_from(n + 1).expect("small")]);
        }
        let latest = store
            .latest_credit_policy(haikou, 2026)
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(
            (latest.version, latest.policy, latest.put_by.as_str()),
            (2, strict, "bureau")
        );
        assert_eq!(
            store
                .latest_credit_policy(haikou, 2027)
                .await
                .expect("read"),
            None
        );
    }
);

store_test!(
    assessments_credit_changes_and_leads_are_stored,
    Migrator,
    |db| {
        use kernel::{Date, Decimal, Money};
        use supervision_domain::credit::{CreditGrade, CreditPolicy};
        use supervision_service::assessment_store::{
            StoredAssessment, StoredAssessmentRun, StoredGroup,
        };

        let store = SupervisionStore::new(db.clone());
        let haikou: kernel::RegionCode = "460100".parse().expect("code");
        store
            .put_scorecard(
                &call("card-1", "PutScorecard"),
                (haikou, 2026),
                r#"{"items":[]}"#.into(),
                "bureau".into(),
                |card| vec![u8::try_from(card.version).expect("small")],
            )
            .await
            .expect("put");
        let card = store.latest_scorecard(haikou, 2026).await.expect("read");
        assert_eq!(
            card.map(|c| (c.version, c.put_by)),
            Some((1, "bureau".into()))
        );

        let assessed = |score: i64, findings: u32, grade: CreditGrade| StoredAssessment {
            hospital_code: "H001".into(),
            score: Decimal::new(score, 2),
            confirmed_findings: findings,
            confirmed_amount: Money::from_fen(100_537),
            credit_grade: grade,
            groups: vec![StoredGroup {
                group: "behaviour".into(),
                score: "10.00".into(),
                weight: "15".into(),
            }],
            items: Vec::new(),
        };
        let run = StoredAssessmentRun {
            region: haikou,
            year: 2026,
            version: 0,
            scorecard_version: 1,
            hospitals: 1,
            run_by: "bureau".into(),
            credit_policy_version: 2,
        };
        // B, then A (a change), then A again (none).
        for (n, (score, findings, grade, changes)) in [
            (8250, 1, CreditGrade::B, 1u8),
            (9500, 0, CreditGrade::A, 1),
            (9500, 0, CreditGrade::A, 0),
        ]
        .into_iter()
        .enumerate()
        {
            let once = store
                .record_assessment(
                    &call(&format!("assess-{n}"), "RunAssessment"),
                    run.clone(),
                    vec![assessed(score, findings, grade)],
                    CreditPolicy::default(),
                    |run, changes| {
                        vec![
                            u8::try_from(run.version).expect("small"),
                            u8::try_from(changes.len()).expect("small"),
                        ]
                    },
                )
                .await
                .expect("record");
            let version = u8::try_from(n + 1).expect("small");
            assert_eq!(once.response(), [version, changes]);
        }
        let latest = store
            .assessment_run(haikou, 2026, None)
            .await
            .expect("run")
            .expect("stored");
        assert_eq!((latest.version, latest.credit_policy_version), (3, 2));
        let first = store
            .assessment_run(haikou, 2026, Some(1))
            .await
            .expect("run")
            .expect("stored");
        let read = store.assessments(&first, Some("H001")).await.expect("read");
        assert_eq!(read, [assessed(8250, 1, CreditGrade::B)]);
        let history = store.credit_history(haikou, "H001").await.expect("history");
        let grades: Vec<_> = history
            .iter()
            .map(|c| (c.change.from, c.change.to, c.assessment_version))
            .collect();
        assert_eq!(
            grades,
            [
                (None, CreditGrade::B, 1),
                (Some(CreditGrade::B), CreditGrade::A, 2)
            ]
        );

        store
            .record_lead(
                &call("lead-1", "RecordLead"),
                hotline_lead(haikou),
                |lead| lead.lead_id.clone().into_bytes(),
            )
            .await
            .expect("lead");
        let leads = store.leads(haikou, Some("H001")).await.expect("leads");
        assert_eq!(leads.len(), 1);
        assert_eq!(leads[0].lead_id, "460100-L1");
        assert_eq!(leads[0].received_on, Date::new(2026, 3, 25).expect("date"));
        let missing = store
            .link_lead(
                &call("link-1", "LinkLeadToFinding"),
                haikou,
                ("460100-L1".into(), "no-such-finding".into()),
                "reviewer".into(),
                |_| Vec::new(),
            )
            .await;
        assert!(matches!(missing, Err(WriteError::NoSuchFinding(_))));
    }
);

store_test!(
    a_run_of_several_insert_chunks_is_stored_whole_or_not_at_all,
    Migrator,
    |db| {
        let store = SupervisionStore::new(db.clone());
        let haikou: kernel::RegionCode = "460100".parse().expect("code");
        let march = kernel::YearMonth::new(2026, 3).expect("month");
        // Three statements on either backend: two whole ones and a short one.
        let count =
            i32::try_from(2 * FINDINGS_PER_INSERT.max(FINDINGS_PER_UNNEST) + 7).expect("count");
        let many = |n: i32| -> Vec<StoredFinding> {
            (1..=n)
                .map(|seq| finding(haikou, march, seq, RuleId::OverFrequency))
                .collect()
        };
        // The last chunk repeats a position, so its finding id: the run fails in that chunk.
        let mut broken = many(count);
        broken.push(finding(haikou, march, count, RuleId::OverFrequency));
        let failed = store
            .record_run(
                &call("broken", "ScreenCases"),
                run(haikou, march),
                broken,
                |_| vec![],
            )
            .await;
        assert!(failed.is_err());
        assert_eq!(
            store.latest_version(haikou, march).await.expect("latest"),
            None
        );
        let nothing = store
            .findings(haikou, march, 1, &FindingFilter::default(), None, 10)
            .await
            .expect("findings");
        assert!(nothing.is_empty(), "the chunks before the failure are gone");

        store
            .record_run(
                &call("whole", "ScreenCases"),
                run(haikou, march),
                many(count),
                |_| vec![],
            )
            .await
            .expect("stored");
        let stored = store
            .findings(haikou, march, 1, &FindingFilter::default(), None, 100_000)
            .await
            .expect("findings");
        assert_eq!(stored.len(), usize::try_from(count).expect("len"));
        assert!(stored.iter().zip(1..).all(|(f, seq)| f.seq == seq
            && f.finding_id == format!("460100-202603-1-{seq}")
            && f.list_id == format!("L{seq}")));
    }
);

store_test!(
    every_column_of_a_finding_reads_back_as_written,
    Migrator,
    |db| {
        let store = SupervisionStore::new(db.clone());
        let sanya: kernel::RegionCode = "460200".parse().expect("code");
        let may = kernel::YearMonth::new(2026, 5).expect("month");
        // Text that array literals, JSON and COPY each treat specially, and a finding with every
        // optional part absent beside one with every part present.
        let awkward = StoredFinding {
            level: RuleLevel::General,
            hospital_code: "H\"9\\{x,y}".into(),
            list_id: "NULL".into(),
            arm: String::new(),
            item_code: "住院,\t\n".into(),
            date: None,
            other_hospital_code: "H2".into(),
            other_list_id: "L\r0".into(),
            fee_lines: Vec::new(),
            evidence: vec!["a\"b".into(), String::new(), "\\N".into()],
            amount: kernel::Money::from_fen(-1),
            status: FindingStatus::Confirmed,
            reviewer: "审核员".into(),
            review_reason: "'quoted'; DROP".into(),
            fund: None,
            case_region: sanya,
            response: "{\"k\": 1}".into(),
            responder: "H\"9".into(),
            responded_before_review: true,
            ..finding(sanya, may, 1, RuleId::CmiRise)
        };
        let plain = finding(sanya, may, 2, RuleId::OverFrequency);
        store
            .record_run(
                &call("columns", "ScreenCases"),
                run(sanya, may),
                vec![awkward.clone(), plain.clone()],
                |_| vec![],
            )
            .await
            .expect("stored");
        let read = store
            .findings(sanya, may, 1, &FindingFilter::default(), None, 10)
            .await
            .expect("findings");
        let stored = |finding: StoredFinding, id: &str| StoredFinding {
            finding_id: id.into(),
            run_version: 1,
            ..finding
        };
        assert_eq!(
            read,
            [
                stored(awkward, "460200-202605-1-1"),
                stored(plain, "460200-202605-1-2"),
            ]
        );
    }
);
