//! SetRuleParameters: a rule's parameters per region and year, checked per parameter, shown by
//! the rule and applied by the next screening run (and only the next: a run keeps its own).

use medpay_proto::supervision::v1 as pb;
use platform::testing::{as_caller, error_reason, violated_fields};
use tonic::Code;

use crate::fake_settlement::{FakeSettlement, fee_line, stored_list};
use crate::lifecycle::bureau;
use crate::{HAIKOU, SANYA, supervision};

const BLOOD_COUNT: &str = "002501010010000";

/// Sanya's agency (every rule runs there) with the roles of screening and configuration.
fn sanya<T>(message: T) -> tonic::Request<T> {
    as_caller(
        message,
        "agency-sanya",
        SANYA,
        &["run", "read", "configure"],
    )
}

/// One Sanya stay billing three blood counts (20.00 each, no daily limit in the items table) on
/// 4 March 2026.
fn three_blood_counts() -> FakeSettlement {
    let count = |at: &str| fee_line(BLOOD_COUNT, "04", "20.00", at);
    FakeSettlement {
        cases: vec![stored_list(
            SANYA,
            "S1",
            "P1",
            "2026-03-02 08:00",
            "2026-03-06 10:00",
            vec![
                count("2026-03-04 08:00"),
                count("2026-03-04 12:00"),
                count("2026-03-04 18:00"),
            ],
        )],
    }
}

fn daily_limit(request_id: &str, limit: &str) -> pb::SetRuleParametersRequest {
    pb::SetRuleParametersRequest {
        request_id: request_id.into(),
        region_code: SANYA.into(),
        year: 2026,
        rule_id: "over_frequency".into(),
        parameters_json: format!(r#"{{"item_daily_limits": {{"{BLOOD_COUNT}": "{limit}"}}}}"#),
    }
}

fn screen(request_id: &str) -> pb::ScreenCasesRequest {
    pb::ScreenCasesRequest {
        request_id: request_id.into(),
        region_code: SANYA.into(),
        year: 2026,
        month: 3,
    }
}

async fn over_frequency(client: &mut crate::Client, run_version: i32) -> Vec<pb::Finding> {
    client
        .list_findings(sanya(pb::ListFindingsRequest {
            rule_id: "12".into(),
            region_code: SANYA.into(),
            ..crate::march(run_version)
        }))
        .await
        .expect("findings")
        .into_inner()
        .findings
}

fn limit_in(policy_json: &str) -> serde_json::Value {
    let policy: serde_json::Value = serde_json::from_str(policy_json).expect("policy JSON");
    policy["parameters"]["item_daily_limits"][BLOOD_COUNT].clone()
}

#[tokio::test]
async fn a_daily_limit_of_n_passes_n_units_and_of_n_minus_1_finds_the_last() {
    let mut client = supervision(three_blood_counts()).await;
    let set = client
        .set_rule_parameters(sanya(daily_limit("limit-3", "3")))
        .await
        .expect("limit 3")
        .into_inner()
        .rule
        .expect("rule");
    let own: serde_json::Value = serde_json::from_str(&set.rule_parameters_json).expect("JSON");
    assert_eq!(
        own,
        serde_json::json!({"item_daily_limits": {BLOOD_COUNT: "3"}})
    );
    let first = client
        .screen_cases(sanya(screen("screen-1")))
        .await
        .expect("screen")
        .into_inner();
    assert_eq!(limit_in(&first.policy_json), "3");
    assert!(over_frequency(&mut client, 1).await.is_empty());

    client
        .set_rule_parameters(sanya(daily_limit("limit-2", "2")))
        .await
        .expect("limit 2");
    let second = client
        .screen_cases(sanya(screen("screen-2")))
        .await
        .expect("rerun")
        .into_inner();
    assert_eq!(second.run_version, 2);
    assert_eq!(limit_in(&second.policy_json), "2");
    let found = over_frequency(&mut client, 2).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].arm, "daily");
    assert_eq!(found[0].item_code, BLOOD_COUNT);
    assert_eq!(found[0].fee_lines, [3]);
    // One unit over, at its in-policy 20.00.
    assert_eq!(found[0].amount, "20.00");
    assert_eq!(found[0].evidence, ["excess_units=1"]);

    // The first run reads as it ran: no finding, and its answer keeps the limit it used.
    assert!(over_frequency(&mut client, 1).await.is_empty());
    let replayed = client
        .screen_cases(sanya(screen("screen-1")))
        .await
        .expect("replay")
        .into_inner();
    assert_eq!(replayed, first);
}

#[tokio::test]
async fn bad_parameters_are_named_and_change_nothing() {
    let mut client = supervision(FakeSettlement::default()).await;
    let request = pb::SetRuleParametersRequest {
        request_id: "bad-1".into(),
        region_code: HAIKOU.into(),
        year: 2026,
        rule_id: "bed_blocking".into(),
        parameters_json:
            r#"{"bed_blocking_days": 0, "care_categories": 5, "self_pay_max_share": "0.2"}"#.into(),
    };
    let bad = client
        .set_rule_parameters(bureau(request.clone()))
        .await
        .expect_err("bad parameters");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&bad),
        [
            "parameters_json.bed_blocking_days",
            "parameters_json.care_categories",
            "parameters_json.self_pay_max_share"
        ]
    );
    for (json, field) in [
        ("[1]", "parameters_json"),
        (
            r#"{"item_daily_limits": {"X": "-1"}}"#,
            "parameters_json.item_daily_limits",
        ),
    ] {
        let rule_id = if field.ends_with("limits") {
            "12"
        } else {
            "13"
        };
        let bad = client
            .set_rule_parameters(bureau(pb::SetRuleParametersRequest {
                parameters_json: json.into(),
                rule_id: rule_id.into(),
                ..request.clone()
            }))
            .await
            .expect_err(json);
        assert_eq!(violated_fields(&bad), [field], "{json}");
    }

    let read = |year| pb::GetRuleRequest {
        region_code: HAIKOU.into(),
        rule_id: "13".into(),
        year,
    };
    let days = |rule: pb::Rule| -> serde_json::Value {
        let own: serde_json::Value =
            serde_json::from_str(&rule.rule_parameters_json).expect("JSON");
        own["bed_blocking_days"].clone()
    };
    let before = client.get_rule(bureau(read(2026))).await.expect("get");
    assert_eq!(days(before.into_inner().rule.expect("rule")), 3);

    let good = pb::SetRuleParametersRequest {
        request_id: "good-1".into(),
        parameters_json: r#"{"bed_blocking_days": 4}"#.into(),
        ..request
    };
    let set = client
        .set_rule_parameters(bureau(good.clone()))
        .await
        .expect("good")
        .into_inner();
    assert_eq!(days(set.rule.clone().expect("rule")), 4);
    let replayed = client
        .set_rule_parameters(bureau(good.clone()))
        .await
        .expect("replay")
        .into_inner();
    assert_eq!(replayed, set);
    let later = client.get_rule(bureau(read(2027))).await.expect("get");
    let later = later.into_inner().rule.expect("rule");
    let all: serde_json::Value = serde_json::from_str(&later.parameters_json).expect("JSON");
    assert_eq!(all["bed_blocking_days"], 4);
    let earlier = client.get_rule(bureau(read(2025))).await.expect("get");
    assert_eq!(days(earlier.into_inner().rule.expect("rule")), 3);

    let sanya = client
        .set_rule_parameters(as_caller(
            pb::SetRuleParametersRequest {
                request_id: "sanya-1".into(),
                region_code: SANYA.into(),
                ..good
            },
            "bureau-haikou",
            HAIKOU,
            &["configure"],
        ))
        .await
        .expect_err("not Haikou's");
    assert_eq!(error_reason(&sanya), "REGION_OUT_OF_SCOPE");
}
