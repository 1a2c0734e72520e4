//! A region's main inpatient method chooses its settlement policy's defaults (DOMAIN.md §5
//! "Hainan clearing: precise defaults"): a DIP region with no policy withholds no quality deposit,
//! a DRG region keeps 5 %, a county takes its province's record unless it has its own, and a key
//! a stored policy states still wins.

use super::*;

fn put_method(
    request_id: &str,
    region: &str,
    method: pb::MainInpatientMethod,
) -> pb::PutMainInpatientMethodRequest {
    pb::PutMainInpatientMethodRequest {
        request_id: request_id.into(),
        region_code: region.into(),
        year: 2025,
        method: method as i32,
        reason: "the province's payment reform".into(),
    }
}

fn month(request_id: &str, month: i32) -> pb::RunPrepaymentRequest {
    pb::RunPrepaymentRequest {
        request_id: request_id.into(),
        region_code: REGION.into(),
        period: Some(common::YearMonth { year: 2025, month }),
        fund_type: FUND,
        provisional_point_value: decimal("142.3571"),
        month_budget: None,
        skip_unvalued: false,
        use_published_point_value: false,
    }
}

/// Each line's (capped, quality deposit) of a prepayment run, from its statement JSON.
async fn deposits(server: &mut Server, run_id: &str) -> Vec<(Decimal, Decimal)> {
    let listed = server
        .client
        .list_statements(as_agency(pb::ListStatementsRequest {
            region_code: REGION.into(),
            run_id: run_id.into(),
            page_size: 10,
            ..Default::default()
        }))
        .await
        .expect("statements")
        .into_inner()
        .statements;
    listed
        .iter()
        .map(|s| {
            let line: serde_json::Value = serde_json::from_str(&s.statement_json).expect("json");
            let read = |key: &str| -> Decimal {
                line[key]
                    .as_str()
                    .expect("amount")
                    .parse()
                    .expect("decimal")
            };
            (read("capped"), read("quality_deposit"))
        })
        .collect()
}

async fn policy_in_force(server: &mut Server) -> (i32, serde_json::Value) {
    let answer = server
        .client
        .get_settlement_policy(as_agency(pb::GetSettlementPolicyRequest {
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
        }))
        .await
        .expect("policy")
        .into_inner();
    (
        answer.version,
        serde_json::from_str(&answer.policy_json).expect("json"),
    )
}

fn number(value: &serde_json::Value) -> Decimal {
    value
        .as_str()
        .expect("a decimal string")
        .parse()
        .expect("decimal")
}

fn as_configurer<T>(message: T, scope: &str) -> Request<T> {
    as_principal_in(scope, message, "bureau", "configure")
}

#[tokio::test]
async fn a_dip_region_without_a_policy_withholds_no_deposit_and_a_drg_region_keeps_five_percent() {
    let mut server = start_seeded().await;
    // Nothing recorded: generic defaults.
    let (version, policy) = policy_in_force(&mut server).await;
    assert_eq!(version, 0);
    assert_eq!(policy["scheme"], "generic");
    let nothing = server
        .client
        .get_main_inpatient_method(as_agency(pb::GetMainInpatientMethodRequest {
            region_code: REGION.into(),
            year: 2025,
        }))
        .await
        .expect("method")
        .into_inner();
    assert_eq!(
        (
            nothing.method(),
            nothing.version,
            nothing.policy_scheme.as_str()
        ),
        (pb::MainInpatientMethod::Unspecified, 0, "generic")
    );

    // The province records DIP: the prefecture 460100 takes it.
    server
        .client
        .put_main_inpatient_method(as_configurer(
            put_method("dip", "460000", pb::MainInpatientMethod::Dip),
            "460000",
        ))
        .await
        .expect("put");
    let found = server
        .client
        .get_main_inpatient_method(as_agency(pb::GetMainInpatientMethodRequest {
            region_code: REGION.into(),
            year: 2025,
        }))
        .await
        .expect("method")
        .into_inner();
    assert_eq!(found.method(), pb::MainInpatientMethod::Dip);
    assert_eq!(
        (
            found.recorded_for_region.as_str(),
            found.version,
            found.policy_scheme.as_str()
        ),
        ("460000", 1, "hainan_dip")
    );
    let (version, policy) = policy_in_force(&mut server).await;
    assert_eq!(version, 0, "still no stored policy");
    assert_eq!(policy["scheme"], "hainan_dip");
    assert_eq!(
        number(&policy["prepayment"]["quality_deposit_rate"]),
        Decimal::ZERO
    );
    assert_eq!(
        policy["clearing"]["point_value_basis"],
        "reimbursement_ratio"
    );
    let january = server
        .client
        .run_prepayment(as_agency(month("jan", 1)))
        .await
        .expect("prepay")
        .into_inner();
    let lines = deposits(&mut server, &january.run_id).await;
    assert_eq!(lines.len(), 3);
    for (capped, deposit) in &lines {
        assert!(*capped > Decimal::ZERO);
        assert_eq!(*deposit, Decimal::ZERO);
    }

    // The prefecture records DRG for itself: its own record wins over the province's.
    server
        .client
        .put_main_inpatient_method(as_agency(put_method(
            "drg",
            REGION,
            pb::MainInpatientMethod::Drg,
        )))
        .await
        .expect("put");
    let (_, policy) = policy_in_force(&mut server).await;
    assert_eq!(policy["scheme"], "generic");
    let february = server
        .client
        .run_prepayment(as_agency(month("feb", 2)))
        .await
        .expect("prepay")
        .into_inner();
    for (capped, deposit) in deposits(&mut server, &february.run_id).await {
        // 5 % of what is prepaid, to the fen.
        assert_eq!(deposit, Money::round(capped * Decimal::new(5, 2)).value());
        assert!(deposit > Decimal::ZERO);
    }
}

#[tokio::test]
async fn a_stored_policy_takes_the_methods_defaults_where_it_names_no_scheme() {
    let mut server = start_seeded().await;
    server
        .client
        .put_main_inpatient_method(as_agency(put_method(
            "dip",
            REGION,
            pb::MainInpatientMethod::Dip,
        )))
        .await
        .expect("put");
    let put_policy = |request_id: &str, json: &str| {
        as_agency(pb::PutSettlementPolicyRequest {
            request_id: request_id.into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
            policy_json: json.into(),
            reason: "ratio".into(),
            policy: None,
        })
    };
    // No scheme named: DIP's defaults, with the key it states.
    server
        .client
        .put_settlement_policy(put_policy(
            "p1",
            r#"{"prepayment":{"prepayment_ratio":"0.85"}}"#,
        ))
        .await
        .expect("policy");
    let (version, policy) = policy_in_force(&mut server).await;
    assert_eq!(version, 1);
    assert_eq!(policy["scheme"], "hainan_dip");
    assert_eq!(
        number(&policy["prepayment"]["quality_deposit_rate"]),
        Decimal::ZERO
    );
    assert_eq!(
        number(&policy["prepayment"]["prepayment_ratio"]),
        Decimal::new(85, 2)
    );
    // A scheme the document states wins over the method's.
    server
        .client
        .put_settlement_policy(put_policy("p2", r#"{"scheme":"generic"}"#))
        .await
        .expect("policy");
    let (version, policy) = policy_in_force(&mut server).await;
    assert_eq!(version, 2);
    assert_eq!(
        number(&policy["prepayment"]["quality_deposit_rate"]),
        Decimal::new(5, 2)
    );
    // The typed form naming no scheme takes the method's defaults as the JSON does.
    server
        .client
        .put_settlement_policy(as_agency(pb::PutSettlementPolicyRequest {
            request_id: "p3".into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
            policy_json: String::new(),
            reason: "ratio, typed".into(),
            policy: Some(pb::SettlementPolicy {
                prepayment: Some(pb::PolicyPrepayment {
                    prepayment_ratio: decimal("0.9"),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        }))
        .await
        .expect("typed policy");
    let (version, policy) = policy_in_force(&mut server).await;
    assert_eq!(version, 3);
    assert_eq!(policy["scheme"], "hainan_dip");
    assert_eq!(
        number(&policy["prepayment"]["quality_deposit_rate"]),
        Decimal::ZERO
    );
    assert_eq!(
        number(&policy["prepayment"]["prepayment_ratio"]),
        Decimal::new(9, 1)
    );

    // An unspecified method is refused by its field, and nothing is stored.
    let refused = server
        .client
        .put_main_inpatient_method(as_agency(put_method(
            "none",
            REGION,
            pb::MainInpatientMethod::Unspecified,
        )))
        .await
        .expect_err("no method");
    assert_eq!(refused.code(), Code::InvalidArgument);
    let fields: Vec<String> = refused
        .get_details_bad_request()
        .expect("field violations")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(fields, ["method"]);
    let version = server
        .client
        .get_main_inpatient_method(as_agency(pb::GetMainInpatientMethodRequest {
            region_code: REGION.into(),
            year: 2025,
        }))
        .await
        .expect("method")
        .into_inner()
        .version;
    assert_eq!(version, 1);
}
