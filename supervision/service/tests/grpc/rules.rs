//! The rule library as a region's policy of a year runs it.

use medpay_proto::supervision::v1 as pb;
use tonic::Code;

use crate::fake_settlement::FakeSettlement;
use crate::{HAIKOU, SANYA, agency, supervision};

#[tokio::test]
async fn rules_carry_the_regions_switches_levels_and_parameters() {
    let mut client = supervision(FakeSettlement::default()).await;
    let listed = client
        .list_rules(agency(pb::ListRulesRequest {
            region_code: HAIKOU.into(),
            page_size: 30,
            year: 2026,
            ..Default::default()
        }))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.rules.len(), 23);
    let enabled: Vec<u32> = listed
        .rules
        .iter()
        .filter(|r| r.enabled)
        .map(|r| r.number)
        .collect();
    assert_eq!(enabled, [2, 10]);

    // Before the region's set took effect every rule runs.
    let rule = client
        .get_rule(agency(pb::GetRuleRequest {
            region_code: HAIKOU.into(),
            rule_id: "bed_blocking".into(),
            year: 2025,
        }))
        .await
        .expect("get")
        .into_inner()
        .rule
        .expect("rule");
    assert_eq!(rule.number, 13);
    assert!(rule.enabled);
    assert_eq!(rule.level, pb::RuleLevel::General as i32);
    let parameters: serde_json::Value =
        serde_json::from_str(&rule.parameters_json).expect("parameters JSON");
    assert_eq!(parameters["bed_blocking_days"], 3);

    let status = client
        .get_rule(agency(pb::GetRuleRequest {
            region_code: HAIKOU.into(),
            rule_id: "24".into(),
            year: 0,
        }))
        .await
        .expect_err("no rule 24");
    assert_eq!(status.code(), Code::NotFound);
    let status = client
        .get_rule(agency(pb::GetRuleRequest {
            region_code: SANYA.into(),
            rule_id: "1".into(),
            year: 0,
        }))
        .await
        .expect_err("Sanya");
    assert_eq!(status.code(), Code::PermissionDenied);
}
