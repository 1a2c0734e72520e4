//! Policy, prepayment and month close, year-end clearing (identity to the fen, byte-identical
//! re-runs, versions, replay), statements and their exports, shadow settlement.

use super::*;

#[tokio::test]
async fn policy_is_versioned_and_unknown_keys_are_named() {
    let mut server = start().await;
    let get = || pb::GetSettlementPolicyRequest {
        region_code: REGION.into(),
        year: 2025,
        fund_type: FUND,
    };
    let defaults = server
        .client
        .get_settlement_policy(as_agency(get()))
        .await
        .expect("get")
        .into_inner();
    assert_eq!(defaults.version, 0);
    assert!(defaults.policy_json.contains("prepayment_ratio"));

    let refused = server
        .client
        .put_settlement_policy(as_agency(pb::PutSettlementPolicyRequest {
            request_id: "p0".into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
            policy_json: r#"{"prepayment":{"prepayment_ratio":"0.85","surprise":1}}"#.into(),
            reason: "typo".into(),
            policy: None,
        }))
        .await
        .expect_err("unknown key");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("surprise"),
        "{}",
        refused.message()
    );

    for (request_id, expected) in [("p1", 1), ("p2", 2), ("p2", 2)] {
        let stored = server
            .client
            .put_settlement_policy(as_agency(pb::PutSettlementPolicyRequest {
                request_id: request_id.into(),
                region_code: REGION.into(),
                year: 2025,
                fund_type: FUND,
                policy_json: r#"{"prepayment":{"prepayment_ratio":"0.85"}}"#.into(),
                reason: "provincial notice".into(),
                policy: None,
            }))
            .await
            .expect("put")
            .into_inner();
        assert_eq!(stored.version, expected);
    }
    let current = server
        .client
        .get_settlement_policy(as_agency(get()))
        .await
        .expect("get")
        .into_inner();
    assert_eq!(current.version, 2);
    let policy: serde_json::Value = serde_json::from_str(&current.policy_json).expect("json");
    assert_eq!(policy["prepayment"]["prepayment_ratio"], "0.85");
}

#[tokio::test]
async fn prepayment_close_and_clearing_reproducible_to_the_fen() {
    let mut server = start_seeded().await;
    register(&server.db, "H002", "460108").await;
    server
        .client
        .put_hospital_year_inputs(as_agency(pb::PutHospitalYearInputsRequest {
            request_id: "y1".into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
            hospitals: vec![pb::HospitalYearInput {
                hospital_code: "H002".into(),
                assessment_coefficient: decimal("0.97"),
                violation_deductions: money("1234.56"),
                deposit_returned: None,
                // Returns 85 % of the deposit withheld (DOMAIN.md §4 tiers).
                assessment_score: decimal("85"),
            }],
        }))
        .await
        .expect("year inputs");

    // January: two prepayment versions, then the month closes on the second.
    let january = || pb::RunPrepaymentRequest {
        request_id: String::new(),
        region_code: REGION.into(),
        period: Some(common::YearMonth {
            year: 2025,
            month: 1,
        }),
        fund_type: FUND,
        provisional_point_value: decimal("142.3571"),
        month_budget: None,
        skip_unvalued: false,
        use_published_point_value: false,
    };
    let mut versions = Vec::new();
    for request_id in ["m1", "m2"] {
        let run = server
            .client
            .run_prepayment(as_agency(pb::RunPrepaymentRequest {
                request_id: request_id.into(),
                ..january()
            }))
            .await
            .expect("prepayment")
            .into_inner();
        assert_eq!(run.statements, 3);
        versions.push(run);
    }
    assert_eq!(versions[1].version, 2);
    let prepaid_total = parse_money(versions[1].totals.as_ref().and_then(|t| t.payable.as_ref()));
    assert!(prepaid_total > Money::ZERO);
    let closed = server
        .client
        .close_month(as_agency(pb::CloseMonthRequest {
            request_id: "c1".into(),
            region_code: REGION.into(),
            period: january().period,
            fund_type: FUND,
        }))
        .await
        .expect("close")
        .into_inner();
    assert_eq!(closed.run_id, versions[1].run_id);
    let refused = server
        .client
        .run_prepayment(as_agency(pb::RunPrepaymentRequest {
            request_id: "m3".into(),
            ..january()
        }))
        .await
        .expect_err("closed month");
    assert_eq!(refused.code(), Code::FailedPrecondition);

    // Clearing v1.
    let first = server
        .client
        .run_clearing(as_agency(clearing("k1", "")))
        .await
        .expect("clearing")
        .into_inner();
    assert_eq!(first.version, 1);
    assert_eq!(first.statements, 3);
    let identity = first.identity.clone().expect("identity");
    assert!(identity.holds);
    assert_eq!(
        parse_money(identity.total_entitlements.as_ref())
            + parse_money(identity.ffs_special_total.as_ref())
            + parse_money(identity.residue.as_ref()),
        "1234567.89".parse::<Money>().expect("money")
    );
    // The FFS case of each hospital is an excluded stay, not an approved special case: it is
    // paid its claimed fund amount before the points, inside the hospital's entitlement.
    assert_eq!(
        parse_money(identity.ffs_special_total.as_ref()),
        Money::ZERO
    );
    let cleared_by = |server: &Server| {
        let db = server.db.clone();
        async move {
            settlement_case_clearing::Entity::find()
                .all(&db)
                .await
                .expect("clearings")
                .into_iter()
                .map(|row| row.run_id)
                .collect::<Vec<_>>()
        }
    };
    let cleared = cleared_by(&server).await;
    assert_eq!(cleared.len(), 120);
    assert!(cleared.iter().all(|run| *run == first.run_id));

    // Statements: Σ prepaid over hospitals equals the final January run's total.
    let statements = server
        .client
        .list_statements(as_agency(pb::ListStatementsRequest {
            region_code: REGION.into(),
            run_id: first.run_id.clone(),
            page_size: 2,
            page_token: String::new(),
            hospital_code: String::new(),
        }))
        .await
        .expect("statements")
        .into_inner();
    assert_eq!(statements.statements.len(), 2);
    assert!(!statements.next_page_token.is_empty());
    let mut prepaid = Money::ZERO;
    let mut statement_rows = statements.statements;
    statement_rows.extend(
        server
            .client
            .list_statements(as_agency(pb::ListStatementsRequest {
                region_code: REGION.into(),
                run_id: first.run_id.clone(),
                page_size: 2,
                page_token: statements.next_page_token,
                hospital_code: String::new(),
            }))
            .await
            .expect("page 2")
            .into_inner()
            .statements,
    );
    assert_eq!(statement_rows.len(), 3);
    for row in &statement_rows {
        let json: serde_json::Value = serde_json::from_str(&row.statement_json).expect("json");
        prepaid += json["prepaid"]
            .as_str()
            .expect("prepaid")
            .parse::<Money>()
            .expect("money");
        assert_eq!(
            parse_money(row.balance.as_ref()),
            json["balance"]
                .as_str()
                .expect("balance")
                .parse::<Money>()
                .expect("money")
        );
    }
    assert_eq!(prepaid, prepaid_total);
    let money_paid_first: Money = statement_rows
        .iter()
        .map(|row| {
            let json: serde_json::Value = serde_json::from_str(&row.statement_json).expect("json");
            let fee_for_service = json["modes"]
                .as_array()
                .expect("modes")
                .iter()
                .find(|line| line["mode"] == "fee_for_service")
                .expect("a fee-for-service line");
            assert_eq!(fee_for_service["cases"], 1);
            assert_eq!(fee_for_service["fund_part"], json["money_fund_part"]);
            json["money_fund_part"]
                .as_str()
                .expect("money fund part")
                .parse::<Money>()
                .expect("money")
        })
        .sum();
    assert_eq!(money_paid_first, Money::from_fen(3 * (1_200_000 + 77) - 3));
    let h002: serde_json::Value =
        serde_json::from_str(&statement_rows[1].statement_json).expect("json");
    assert_eq!(h002["violation_deductions"], "1234.56");
    assert_eq!(h002["assessment_coefficient"], "0.97");
    assert_eq!(h002["assessment_score"], "85");
    let withheld: Money = h002["deposit_withheld"]
        .as_str()
        .expect("withheld")
        .parse()
        .expect("money");
    assert!(withheld > Money::ZERO);
    assert_eq!(
        h002["deposit_returned"],
        Money::round(withheld.value() * Decimal::new(85, 2)).to_string()
    );

    // A re-run needs a reason, is a new version with byte-identical statements, and leaves v1.
    let no_reason = server
        .client
        .run_clearing(as_agency(clearing("k2", "")))
        .await
        .expect_err("reason required");
    assert_eq!(no_reason.code(), Code::InvalidArgument);
    assert!(no_reason.message().contains("reason"));
    let before = run_of(&mut server, &first.run_id).await;
    let second = server
        .client
        .run_clearing(as_agency(clearing("k3", "re-run after review")))
        .await
        .expect("re-run")
        .into_inner();
    assert_eq!(second.version, 2);
    assert_ne!(second.run_id, first.run_id);
    assert_eq!(second.statements_digest, first.statements_digest);
    let csv_first = export(&mut server, &first.run_id, pb::ExportFormat::Csv).await;
    let csv_second = export(&mut server, &second.run_id, pb::ExportFormat::Csv).await;
    assert_eq!(csv_first, csv_second);
    assert_eq!(sha256_hex(&csv_first), first.statements_digest);
    let text = String::from_utf8(csv_first).expect("utf-8");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    assert!(header.starts_with("hospital_code,cases,ffs_special_cases,points"));
    // Each mode's cases, points, amount and fund part follow the fixed columns; H002's typed
    // score and its source come last.
    assert!(
        header.ends_with(
            ",drg_cases,drg_points,drg_amount,drg_fund_part,fee_for_service_cases,\
             fee_for_service_points,fee_for_service_amount,fee_for_service_fund_part,\
             assessment_score,assessment_score_source"
        ),
        "{header}"
    );
    let h001 = lines.next().expect("row");
    assert!(h001.starts_with("H001,40,0,"));
    assert!(h001.ends_with(",,"), "H001 has no score: {h001}");
    assert!(
        lines.next().expect("row").ends_with(",85,year_inputs"),
        "H002's typed score"
    );
    let after = run_of(&mut server, &first.run_id).await;
    assert_eq!(before, after);
    assert_eq!(
        cleared_by(&server).await,
        cleared,
        "the re-run took no case again"
    );

    // A retry of the first request replays it: no third version.
    let replay = server
        .client
        .run_clearing(as_agency(clearing("k1", "")))
        .await
        .expect("replay")
        .into_inner();
    assert_eq!(replay, first);
    let runs = server
        .client
        .list_runs(as_agency(pb::ListRunsRequest {
            region_code: REGION.into(),
            kind: "clearing".into(),
            page_size: 0,
            page_token: String::new(),
        }))
        .await
        .expect("runs")
        .into_inner()
        .runs;
    assert_eq!(runs.len(), 2);

    // XLSX: a zip holding the workbook and its sheet.
    let xlsx = export(&mut server, &first.run_id, pb::ExportFormat::Xlsx).await;
    assert!(xlsx.starts_with(b"PK\x03\x04"));
    let has = |needle: &[u8]| xlsx.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"xl/workbook.xml"));
    assert!(has(b"xl/worksheets/sheet1.xml"));
    assert!(has(b"PK\x05\x06"));
}

#[tokio::test]
async fn shadow_settlement_adds_up_per_hospital_and_per_group() {
    let mut server = start_seeded().await;
    let report = server
        .client
        .run_shadow_settlement(as_agency(pb::RunShadowSettlementRequest {
            region_code: REGION.into(),
            fund_type: FUND,
            from: Some(common::YearMonth {
                year: 2025,
                month: 1,
            }),
            to: Some(common::YearMonth {
                year: 2025,
                month: 6,
            }),
            point_value: decimal("151.0921"),
        }))
        .await
        .expect("shadow")
        .into_inner();
    assert_eq!(report.by_hospital.len(), 3);
    assert_eq!(report.by_group.len(), 3);
    let total = report.total.expect("total");
    let sum = |lines: &[pb::ShadowLine]| -> (u64, Money) {
        lines.iter().fold((0, Money::ZERO), |(cases, diff), line| {
            (
                cases + line.cases,
                diff + parse_money(line.difference.as_ref()),
            )
        })
    };
    assert_eq!(
        sum(&report.by_hospital),
        (total.cases, parse_money(total.difference.as_ref()))
    );
    assert_eq!(
        sum(&report.by_group),
        (total.cases, parse_money(total.difference.as_ref()))
    );
    // Months 1..6 of 40 cases per hospital, the FFS case (month 8) outside.
    let expected: u64 = 3 * (0..40).filter(|n| n % 12 < 6).count() as u64;
    assert_eq!(total.cases, expected);
    let ratio: Decimal = total
        .difference_ratio
        .expect("ratio")
        .value
        .parse()
        .expect("dec");
    let ffs = parse_money(total.ffs_amount.as_ref());
    assert_eq!(
        ratio,
        kernel::round_points(parse_money(total.difference.as_ref()).value() / ffs.value())
    );
}
