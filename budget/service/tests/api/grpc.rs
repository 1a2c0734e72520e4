//! The budget API over a real socket: creating, adjusting, reading and listing budgets with
//! idempotent replays and audit, sharing policies and the year-end sharing of DOMAIN.md §4, and
//! the caller's region scope.

use budget_domain::{BlockKind, BlockShare, BlockSplit, BudgetMode, HospitalYear, SharingOutcome};
use kernel::{Decimal, FundType, Money};
use medpay_proto::budget::v1 as pb;
use medpay_proto::common::v1::FundType as WireFund;
use tonic::Code;

use crate::common::*;

fn hospital(standard: i64, actual: i64, prepaid: i64) -> HospitalYear {
    HospitalYear {
        hospital_code: "H46000001".into(),
        fund: FundType::Employee,
        standard: Money::from_yuan(standard),
        actual: Money::from_yuan(actual),
        prepaid: Money::from_yuan(prepaid),
        ffs_special_cases: Money::ZERO,
    }
}

async fn sharing(server: &mut Server, hospitals: &[HospitalYear]) -> SharingOutcome {
    let response = server
        .client
        .compute_sharing(hainan(pb::ComputeSharingRequest {
            region_code: "460000".into(),
            year: 2025,
            fund_type: EMPLOYEE,
            hospitals_json: serde_json::to_string(hospitals).expect("json"),
            hospitals: None,
        }))
        .await
        .expect("sharing")
        .into_inner();
    serde_json::from_str(&response.outcome_json).expect("outcome")
}

#[tokio::test]
async fn year_end_sharing_follows_the_worked_example_under_both_policies() {
    let mut server = start().await;
    server
        .create_budget(create("b-1", 1_000_000_000))
        .await
        .expect("budget");

    // No stored policy: Hainan. R = 1.08 → 50,000,000 + 50 % × 4,000,000.
    let outcome = sharing(&mut server, &[hospital(50_000_000, 54_000_000, 45_900_000)]).await;
    let line = &outcome.hospitals[0];
    assert_eq!(line.payment, Money::from_yuan(52_000_000));
    assert_eq!(line.balance, Money::from_yuan(6_100_000));
    assert_eq!(line.from_reserve, Money::from_yuan(2_000_000));
    // 5 % of the 1,000,000,000 inpatient block is the reserve available.
    assert_eq!(outcome.reserve_available, Money::from_yuan(50_000_000));
    assert_eq!(outcome.reserve_used, Money::from_yuan(2_000_000));

    let put = server
        .put_sharing_policy("p-1", "\"xinxiang\"")
        .await
        .expect("policy");
    let stored: budget_domain::SharingPolicy =
        serde_json::from_str(&put.policy_json).expect("policy json");
    assert_eq!(stored, budget_domain::SharingPolicy::xinxiang());

    let outcome = sharing(&mut server, &[hospital(50_000_000, 54_000_000, 45_900_000)]).await;
    assert_eq!(outcome.hospitals[0].payment, Money::from_yuan(50_000_000));
    assert_eq!(outcome.hospitals[0].balance, Money::from_yuan(4_100_000));
    assert_eq!(outcome.reserve_used, Money::ZERO);

    let outcome = sharing(&mut server, &[hospital(50_000_000, 46_000_000, 45_900_000)]).await;
    assert_eq!(outcome.hospitals[0].payment, Money::from_yuan(50_000_000));
}

#[tokio::test]
async fn a_bad_sharing_policy_names_every_field() {
    let mut server = start().await;
    let policy = serde_json::json!({
        "overspend_bands": [
            {"lower_ratio": "1", "upper_ratio": "1.1", "shared_rate": "1.5"},
            {"lower_ratio": "1.2", "upper_ratio": null, "shared_rate": "0"}
        ]
    });
    let status = server
        .put_sharing_policy("p-bad", &policy.to_string())
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields = violated_fields(&status);
    assert!(fields.len() >= 2, "{fields:?}");
    assert!(
        fields.iter().all(|field| field.starts_with("policy_json.")),
        "{fields:?}"
    );
    assert!(
        fields.iter().any(|field| field.contains("shared_rate")),
        "{fields:?}"
    );
}

#[tokio::test]
async fn create_adjust_and_read_versions() {
    let mut server = start().await;
    let created = server
        .create_budget(create("b-1", 1_000_000_000))
        .await
        .expect("create")
        .budget
        .expect("budget");
    assert_eq!(created.version, 1);
    assert_eq!(created.total.expect("total").yuan, "1000000000.00");

    let status = server
        .adjust_budget(pb::AdjustBudgetRequest {
            document_json: String::new(),
            ..adjust("a-0", 1_050_000_000, "  ")
        })
        .await
        .expect_err("reason and document required");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&status),
        vec!["reason".to_owned(), "document".to_owned()]
    );

    let adjusted = server
        .adjust_budget(adjust("a-1", 1_050_000_000, "mid-year top-up"))
        .await
        .expect("adjust")
        .budget
        .expect("budget");
    assert_eq!(adjusted.version, 2);
    assert_eq!(adjusted.reason, "mid-year top-up");
    // A retried adjustment answers version 2 again instead of writing version 3.
    let retried = server
        .adjust_budget(adjust("a-1", 1_050_000_000, "mid-year top-up"))
        .await
        .expect("replay")
        .budget
        .expect("budget");
    assert_eq!(retried, adjusted);

    let latest = server.get_budget(0).await.expect("latest");
    assert_eq!(latest.version, 2);
    assert_eq!(latest.total.expect("total").yuan, "1050000000.00");
    let computed: budget_domain::AnnualBudget =
        serde_json::from_str(&latest.document_json).expect("computed budget");
    assert_eq!(computed.adjustment_reserve, Money::from_yuan(52_500_000));
    let first = server.get_budget(1).await.expect("v1");
    assert_eq!(first.total.expect("total").yuan, "1000000000.00");

    let listed = server
        .client
        .list_budgets(hainan(pb::ListBudgetsRequest {
            region_code: "460000".into(),
            ..Default::default()
        }))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.budgets.len(), 1);
    assert_eq!(listed.budgets[0].version, 2);
    assert_eq!(listed.next_page_token, "");

    let actions: Vec<String> = server
        .store
        .audit_entries()
        .await
        .expect("audit")
        .into_iter()
        .map(|entry| entry.method)
        .collect();
    assert_eq!(actions, vec!["CreateBudget", "AdjustBudget"]);
}

#[tokio::test]
async fn create_budget_replays_a_retry_and_stores_nothing_new() {
    let mut server = start().await;
    let create_b1 = create("b-1", 1_000_000_000);
    let first = server
        .create_budget(create_b1.clone())
        .await
        .expect("create");
    let second = server.create_budget(create_b1).await.expect("replay");
    assert_eq!(first, second);
    // The same id with a different document is refused: it is not the same request.
    let reused = server
        .create_budget(create("b-1", 2_000_000_000))
        .await
        .expect_err("a different body under the same id");
    platform::testing::assert_request_id_reused(&reused, "b-1", "CreateBudget");
    assert_eq!(server.store.audit_entries().await.expect("audit").len(), 1);
    let latest = server
        .store
        .get(
            "460000".parse().expect("code"),
            2025,
            FundType::Employee,
            None,
        )
        .await
        .expect("read")
        .expect("budget");
    assert_eq!(latest.version, 1);
    assert_eq!(latest.total, Money::from_yuan(1_000_000_000));

    let status = server
        .create_budget(create("b-2", 1_000_000_000))
        .await
        .expect_err("exists");
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(error_reason(&status), "BUDGET_EXISTS");
}

#[tokio::test]
async fn create_budget_names_every_bad_field() {
    let mut server = start().await;
    let mut bad = document(1_000_000_000);
    bad.split = BlockSplit::Shares(vec![BlockShare {
        block: BlockKind::Inpatient,
        share: Decimal::new(9, 1),
    }]);
    bad.policy.adjustment_reserve_rate = Decimal::new(2, 0);
    let status = server
        .create_budget(pb::CreateBudgetRequest {
            document_json: serde_json::to_string(&bad).expect("json"),
            ..create("b-bad", 0)
        })
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(error_reason(&status), "SEVERAL_PROBLEMS");
    let fields = violated_fields(&status);
    assert!(
        fields.contains(&"document_json.split".to_owned()),
        "{fields:?}"
    );
    assert!(
        fields
            .iter()
            .any(|field| field.starts_with("document_json.")
                && field.contains("adjustment_reserve_rate")),
        "{fields:?}"
    );

    let status = server
        .create_budget(pb::CreateBudgetRequest {
            request_id: String::new(),
            year: 0,
            fund_type: 0,
            mode: pb::BudgetMode::RegionalPoints as i32,
            ..create("b-x", 1)
        })
        .await
        .expect_err("refused");
    let fields = violated_fields(&status);
    for field in ["request_id", "year", "fund_type", "mode"] {
        assert!(fields.contains(&field.to_owned()), "{field} in {fields:?}");
    }
}

#[tokio::test]
async fn callers_outside_the_region_are_denied() {
    let mut server = start().await;
    let outsider = |message| as_caller(message, "410000");
    let status = server
        .client
        .create_budget(outsider(create("b-1", 1_000_000_000)))
        .await
        .expect_err("denied");
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = server
        .client
        .compute_sharing(as_caller(
            pb::ComputeSharingRequest {
                region_code: "460000".into(),
                year: 2025,
                fund_type: EMPLOYEE,
                hospitals_json: "[]".into(),
                hospitals: None,
            },
            "410000",
        ))
        .await
        .expect_err("denied");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(
        server
            .store
            .audit_entries()
            .await
            .expect("audit")
            .is_empty()
    );
}

fn unit(code: &str, history: [i64; 3], primary_care: bool) -> budget_domain::AllocationUnit {
    budget_domain::AllocationUnit {
        code: code.into(),
        kind: budget_domain::UnitKind::Hospital {
            history: history.iter().map(|fen| Money::from_fen(*fen)).collect(),
        },
        assessment_coefficient: Decimal::ONE,
        adjustment_factor: Decimal::ONE,
        primary_care,
    }
}

fn allocate_request(
    request_id: &str,
    units: &[budget_domain::AllocationUnit],
) -> pb::AllocateRequest {
    pb::AllocateRequest {
        request_id: request_id.into(),
        region_code: "460000".into(),
        year: 2025,
        fund_type: EMPLOYEE,
        inputs_json: serde_json::json!({
            "block": "inpatient",
            "units": units,
        })
        .to_string(),
        inputs: None,
    }
}

#[tokio::test]
async fn allocation_adds_up_to_the_block_and_feeds_monthly_quotas() {
    let mut server = start().await;
    server
        .create_budget(create("b-1", 1_000_000_000))
        .await
        .expect("budget");
    let alliance = budget_domain::AllocationUnit {
        code: "A4600001".into(),
        kind: budget_domain::UnitKind::Alliance {
            members: vec![
                budget_domain::AllianceMember {
                    hospital_code: "H46000004".into(),
                    history: vec![Money::from_fen(10_000_001); 3],
                },
                budget_domain::AllianceMember {
                    hospital_code: "H46000005".into(),
                    history: vec![Money::from_fen(20_000_003); 3],
                },
            ],
        },
        assessment_coefficient: Decimal::new(97, 2),
        adjustment_factor: Decimal::ONE,
        primary_care: false,
    };
    let units = vec![
        unit("H46000001", [33_333_333, 34_444_444, 35_555_557], false),
        unit("H46000002", [11_111_111, 12_121_212, 13_131_313], true),
        unit("H46000003", [7, 7, 7], false),
        alliance,
    ];
    let response = server
        .allocate(allocate_request("al-1", &units))
        .await
        .expect("allocate");
    let allocation: budget_domain::Allocation =
        serde_json::from_str(&response.allocation_json).expect("allocation");
    // The inpatient block less its 5 % adjustment reserve.
    assert_eq!(allocation.block, Money::from_yuan(950_000_000));
    let sum: Money = allocation.lines.iter().map(|line| line.amount).sum();
    assert_eq!(sum, allocation.block);
    assert_eq!(allocation.lines.len(), 4);

    // Replaying the request answers the same; other inputs under the same id are refused.
    let replay = server
        .allocate(allocate_request("al-1", &units))
        .await
        .expect("replay");
    assert_eq!(replay, response);
    let reused = server
        .allocate(allocate_request("al-1", &units[..2]))
        .await
        .expect_err("other inputs under the same id");
    platform::testing::assert_request_id_reused(&reused, "al-1", "Allocate");

    let h1 = allocation
        .lines
        .iter()
        .find(|line| line.code == "H46000001")
        .expect("line");
    let quotas = server.get_quotas("H46000001").await.expect("quotas");
    assert_eq!(quotas.len(), 12);
    let months: Vec<Money> = quotas
        .iter()
        .map(|money| Money::exact(money.yuan.parse().expect("decimal")).expect("fen"))
        .collect();
    assert_eq!(months.iter().copied().sum::<Money>(), h1.amount);
    let spread =
        months.iter().max().expect("max").value() - months.iter().min().expect("min").value();
    assert!(
        spread <= Decimal::new(1, 2),
        "even within a fen: {months:?}"
    );

    let status = server
        .get_quotas("H49999999")
        .await
        .expect_err("no allocation");
    assert_eq!(status.code(), Code::NotFound);
}

#[tokio::test]
async fn allocation_names_every_bad_unit_and_refuses_regional_point_budgets() {
    let mut server = start().await;
    server
        .create_budget(create("b-1", 1_000_000_000))
        .await
        .expect("budget");
    let mut short = unit("H46000002", [1, 1, 1], false);
    short.kind = budget_domain::UnitKind::Hospital {
        history: vec![Money::from_fen(1)],
    };
    let units = vec![
        unit("H46000001", [1, 1, 1], false),
        unit("H46000001", [1, 1, 1], false),
        short,
    ];
    let status = server
        .allocate(allocate_request("al-bad", &units))
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields = violated_fields(&status);
    assert!(
        fields.contains(&"inputs_json.H46000001".to_owned()),
        "{fields:?}"
    );
    assert!(
        fields.contains(&"inputs_json.H46000002".to_owned()),
        "{fields:?}"
    );

    let mut points = document(1_000_000_000);
    points.fund = FundType::Resident;
    points.mode = BudgetMode::RegionalPoints;
    server
        .create_budget(pb::CreateBudgetRequest {
            fund_type: WireFund::Resident as i32,
            document_json: serde_json::to_string(&points).expect("json"),
            ..create("b-2", 0)
        })
        .await
        .expect("points budget");
    let status = server
        .allocate(pb::AllocateRequest {
            fund_type: WireFund::Resident as i32,
            ..allocate_request("al-2", &units[..1])
        })
        .await
        .expect_err("no caps");
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(error_reason(&status), "NO_CAPS_IN_REGIONAL_POINT_MODE");
}

#[tokio::test]
async fn concurrent_creates_write_one_version() {
    let server = start().await;
    let send = |request_id: &'static str| {
        let mut client = server.client.clone();
        tokio::spawn(async move {
            client
                .create_budget(hainan(create(request_id, 1_000_000_000)))
                .await
        })
    };
    let (a, b) = (send("same"), send("same"));
    let a = a.await.expect("join").expect("first").into_inner();
    let b = b.await.expect("join").expect("retry").into_inner();
    assert_eq!(a, b);
    let (c, d) = (send("other-1"), send("other-2"));
    for outcome in [c.await.expect("join"), d.await.expect("join")] {
        let status = outcome.expect_err("the budget exists");
        assert_eq!(status.code(), Code::AlreadyExists);
    }
    assert_eq!(server.store.audit_entries().await.expect("audit").len(), 1);
}

#[tokio::test]
async fn a_sharing_policy_is_stored_once_per_request_id() {
    let mut server = start().await;
    let first = server
        .put_sharing_policy("p-1", "xinxiang")
        .await
        .expect("policy");
    let again = server
        .put_sharing_policy("p-1", "xinxiang")
        .await
        .expect("replay");
    assert_eq!(first, again);
    let reused = server
        .put_sharing_policy("p-1", "hainan")
        .await
        .expect_err("another policy under the same id");
    platform::testing::assert_request_id_reused(&reused, "p-1", "PutSharingPolicy");
    let region = "460000".parse().expect("code");
    let stored: budget_domain::SharingPolicy = serde_json::from_str(
        &server
            .store
            .sharing_policy(region, 2025)
            .await
            .expect("read")
            .expect("stored"),
    )
    .expect("json");
    assert_eq!(
        stored,
        budget_domain::SharingPolicy::xinxiang(),
        "unchanged"
    );
    assert_eq!(server.store.audit_entries().await.expect("audit").len(), 1);
}

#[tokio::test]
async fn audit_entries_are_listed_to_administrators_by_filter_and_page() {
    let mut server = start().await;
    server
        .create_budget(create("b-1", 1_000_000_000))
        .await
        .expect("create");
    for (request_id, yuan, reason) in [
        ("b-2", 1_100_000_000, "growth"),
        ("b-3", 1_200_000_000, "more growth"),
    ] {
        server
            .adjust_budget(adjust(request_id, yuan, reason))
            .await
            .expect("adjust");
    }
    let all = server
        .audit(pb::ListAuditEntriesRequest::default(), "460000")
        .await
        .expect("list");
    let methods: Vec<&str> = all.entries.iter().map(|e| e.method.as_str()).collect();
    assert_eq!(methods, ["CreateBudget", "AdjustBudget", "AdjustBudget"]);
    assert!(all.entries.iter().all(|e| e.region_code == "460000"));
    assert!(all.entries.iter().all(|e| e.caller_id == "caller-460000"));
    let first_page = pb::ListAuditEntriesRequest {
        method: "AdjustBudget".into(),
        page_size: 1,
        ..Default::default()
    };
    let adjustments = server
        .audit(first_page.clone(), "460000")
        .await
        .expect("first page");
    assert_eq!(adjustments.entries.len(), 1);
    assert_eq!(adjustments.entries[0].request_id, "b-2");
    let second_page = pb::ListAuditEntriesRequest {
        page_token: adjustments.next_page_token.clone(),
        ..first_page
    };
    let next = server
        .audit(second_page, "460000")
        .await
        .expect("second page");
    assert_eq!(next.entries.len(), 1);
    assert_eq!(next.entries[0].request_id, "b-3");
    assert_eq!(next.next_page_token, "", "the last page");
    for nothing_matches in [
        pb::ListAuditEntriesRequest {
            caller_id: "someone-else".into(),
            ..Default::default()
        },
        pb::ListAuditEntriesRequest {
            since_unix_seconds: all.entries[0].at_unix_seconds + 3600,
            ..Default::default()
        },
    ] {
        let listed = server
            .audit(nothing_matches.clone(), "460000")
            .await
            .expect("list");
        assert!(listed.entries.is_empty(), "{nothing_matches:?}");
    }
    // A county administrator sees no entry of the province's budget.
    let county = server
        .audit(pb::ListAuditEntriesRequest::default(), "460108")
        .await
        .expect("county");
    assert!(county.entries.is_empty());
    let denied = server
        .client
        .list_audit_entries(hainan(pb::ListAuditEntriesRequest::default()))
        .await
        .expect_err("not an administrator");
    assert_eq!(denied.code(), Code::PermissionDenied);
}
