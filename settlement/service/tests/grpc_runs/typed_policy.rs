//! The typed settlement policy: the same document as its JSON form, read by the same reader, stored
//! the same, run the same; bad typed fields named by their path.

use super::*;
use tonic::Status;

const JSON_POLICY: &str = r#"{"scheme":"hainan_dip",
    "prepayment":{"prepayment_ratio":"0.85","quality_deposit_rate":"0.02"},
    "clearing":{"deposit_return":{"full_from":"95"},"alliance_distribution":"separate"},
    "readmission":{"exempt_adrgs":[]},
    "validation":{"age_rules":[{"range":{"from":"P00","to":"P96"},"max_age_days":28}]}}"#;

fn dec(text: &str) -> Option<common::Decimal> {
    Some(common::Decimal { value: text.into() })
}

/// `JSON_POLICY` typed: only what it states is set.
fn typed_policy() -> pb::SettlementPolicy {
    pb::SettlementPolicy {
        scheme: "hainan_dip".into(),
        prepayment: Some(pb::PolicyPrepayment {
            prepayment_ratio: dec("0.85"),
            quality_deposit_rate: dec("0.02"),
            budget_mode: String::new(),
        }),
        clearing: Some(pb::PolicyClearing {
            deposit_return: Some(pb::PolicyDepositReturn {
                full_from: dec("95"),
                none_below: None,
            }),
            alliance_distribution: "separate".into(),
            ..Default::default()
        }),
        readmission: Some(pb::PolicyReadmission {
            exempt_adrgs: Some(pb::PolicyAdrgList { codes: Vec::new() }),
            ..Default::default()
        }),
        validation: Some(pb::PolicyValidation {
            age_rules: Some(pb::PolicyAgeRuleList {
                rules: vec![pb::PolicyAgeRule {
                    range: Some(pb::PolicyCategoryRange {
                        first: "P00".into(),
                        last: "P96".into(),
                    }),
                    min_age_years: None,
                    max_age_years: None,
                    max_age_days: Some(28),
                }],
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn put(
    year: i32,
    request_id: &str,
    policy_json: &str,
    policy: Option<pb::SettlementPolicy>,
) -> pb::PutSettlementPolicyRequest {
    pb::PutSettlementPolicyRequest {
        request_id: request_id.into(),
        region_code: REGION.into(),
        year,
        fund_type: FUND,
        policy_json: policy_json.into(),
        reason: "typed and JSON".into(),
        policy,
    }
}

async fn policy_of(server: &mut Server, year: i32) -> pb::GetSettlementPolicyResponse {
    server
        .client
        .get_settlement_policy(as_agency(pb::GetSettlementPolicyRequest {
            region_code: REGION.into(),
            year,
            fund_type: FUND,
        }))
        .await
        .expect("get")
        .into_inner()
}

#[tokio::test]
async fn typed_and_json_policies_store_the_same_policy() {
    let mut server = start().await;
    server
        .client
        .put_settlement_policy(as_agency(put(2025, "json", JSON_POLICY, None)))
        .await
        .expect("json policy");
    server
        .client
        .put_settlement_policy(as_agency(put(2026, "typed", "", Some(typed_policy()))))
        .await
        .expect("typed policy");
    let json = policy_of(&mut server, 2025).await;
    let typed = policy_of(&mut server, 2026).await;
    assert_eq!(json.policy_json, typed.policy_json);
    assert_eq!(json.policy, typed.policy);

    // What was stated wins, the rest is hainan_dip's defaults, and an empty list stays empty.
    let read = typed.policy.expect("typed read");
    let prepayment = read.prepayment.clone().expect("prepayment");
    assert_eq!(prepayment.prepayment_ratio, dec("0.85"));
    assert_eq!(prepayment.budget_mode, "regional_points");
    let clearing = read.clearing.clone().expect("clearing");
    assert_eq!(clearing.sharing, "budget");
    assert_eq!(clearing.point_value_basis, "reimbursement_ratio");
    assert_eq!(clearing.alliance_distribution, "separate");
    let deposit = clearing.deposit_return.expect("deposit return");
    assert_eq!(
        (deposit.full_from, deposit.none_below),
        (dec("95"), dec("60"))
    );
    let readmission = read.readmission.clone().expect("readmission");
    assert_eq!(
        readmission.exempt_adrgs.expect("list").codes,
        Vec::<String>::new()
    );
    assert_eq!(readmission.window_days, Some(15));
    let validation = read.validation.clone().expect("validation");
    assert_eq!(validation.age_rules.expect("age rules").rules.len(), 1);
    assert_eq!(validation.sex_rules.expect("sex rules").rules.len(), 5);
    let weights = read
        .budget_point_value
        .clone()
        .and_then(|b| b.history_weights);
    assert_eq!(
        weights.expect("weights").weights,
        vec![dec("1"), dec("2"), dec("7")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
    );

    // The typed policy read back, put again, is the same policy.
    server
        .client
        .put_settlement_policy(as_agency(put(2027, "again", "", Some(read))))
        .await
        .expect("read back");
    assert_eq!(
        policy_of(&mut server, 2027).await.policy_json,
        json.policy_json
    );
}

#[tokio::test]
async fn one_form_only_and_bad_typed_fields_are_named() {
    let mut server = start().await;
    let fields = |status: &Status| -> Vec<String> {
        status
            .get_details_bad_request()
            .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
            .unwrap_or_default()
    };
    let both = server
        .client
        .put_settlement_policy(as_agency(put(2025, "both", "{}", Some(typed_policy()))))
        .await
        .expect_err("both forms");
    assert_eq!(both.code(), Code::InvalidArgument);
    assert_eq!(fields(&both), ["policy", "policy_json"]);
    let neither = server
        .client
        .put_settlement_policy(as_agency(put(2025, "neither", " ", None)))
        .await
        .expect_err("no policy");
    assert_eq!(fields(&neither), ["policy"]);

    let mut bad = typed_policy();
    bad.scheme = "zhejiang".into();
    if let Some(prepayment) = bad.prepayment.as_mut() {
        prepayment.prepayment_ratio = dec("0.8.5");
    }
    if let Some(clearing) = bad.clearing.as_mut() {
        clearing.sharing = "nobody".into();
    }
    bad.validation = Some(pb::PolicyValidation {
        discharge_types: Some(pb::PolicyCodeList {
            codes: vec![1, 300],
        }),
        sex_rules: Some(pb::PolicySexRuleList {
            rules: vec![pb::PolicySexRule {
                range: None,
                sex: "other".into(),
            }],
        }),
        ..Default::default()
    });
    bad.budget_point_value = Some(pb::PolicyBudgetPointValue {
        history_weights: Some(pb::PolicyWeightList {
            weights: vec![common::Decimal { value: "x".into() }],
        }),
    });
    let refused = server
        .client
        .put_settlement_policy(as_agency(put(2025, "bad", "", Some(bad))))
        .await
        .expect_err("bad fields");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        fields(&refused),
        [
            "policy.scheme",
            "policy.validation.discharge_types.codes[1]",
            "policy.validation.sex_rules.rules[0].range",
            "policy.validation.sex_rules.rules[0].sex",
            "policy.prepayment.prepayment_ratio",
            "policy.clearing.sharing",
            "policy.budget_point_value.history_weights.weights[0]",
        ]
    );
    // Nothing was stored.
    assert_eq!(policy_of(&mut server, 2025).await.version, 0);
}

/// A January prepayment of the seeded ledger under a policy put in one form or the other.
async fn january_statements(policy: pb::PutSettlementPolicyRequest) -> Vec<String> {
    let mut server = start_seeded().await;
    server
        .client
        .put_settlement_policy(as_agency(policy))
        .await
        .expect("policy");
    let run = server
        .client
        .run_prepayment(as_agency(pb::RunPrepaymentRequest {
            request_id: "jan".into(),
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
        }))
        .await
        .expect("prepayment")
        .into_inner();
    let statements = server
        .client
        .list_statements(as_agency(pb::ListStatementsRequest {
            region_code: REGION.into(),
            run_id: run.run_id,
            page_size: 100,
            page_token: String::new(),
            hospital_code: String::new(),
        }))
        .await
        .expect("statements")
        .into_inner()
        .statements;
    statements.into_iter().map(|s| s.statement_json).collect()
}

#[tokio::test]
async fn a_run_under_either_form_gives_the_same_statements() {
    let json = january_statements(put(2025, "json", JSON_POLICY, None)).await;
    let typed = january_statements(put(2025, "typed", "", Some(typed_policy()))).await;
    assert_eq!(json.len(), 3);
    assert_eq!(json, typed);
    // The stated ratio and deposit rate were applied: 85 % prepaid, 2 % withheld.
    let first: serde_json::Value = serde_json::from_str(&json[0]).expect("statement");
    assert_eq!(first["prepayment_ratio"], "0.85", "{first}");
}
