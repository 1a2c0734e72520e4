//! ChangeRuleLevel: a rule moves one level at a time for a region from a year on, recorded with
//! who, why and its reviewed findings; reads and screening runs use the level in force.

use medpay_proto::supervision::v1 as pb;
use platform::testing::{as_caller, assert_request_id_reused, error_reason, violated_fields};
use tonic::Code;

use crate::screening::march_cases;
use crate::{HAIKOU, SANYA, agency, findings, march, screen_request, supervision};

/// The province's bureau: it configures every region of Hainan.
pub fn bureau<T>(message: T) -> tonic::Request<T> {
    as_caller(message, "bureau", "460000", &["configure", "read"])
}

fn change(request_id: &str, rule: &str, level: pb::RuleLevel) -> pb::ChangeRuleLevelRequest {
    pb::ChangeRuleLevelRequest {
        request_id: request_id.into(),
        region_code: HAIKOU.into(),
        year: 2026,
        rule_id: rule.into(),
        level: level as i32,
        reason: "16 of 20 findings confirmed on site".into(),
    }
}

async fn rule(client: &mut crate::Client, region: &str, rule_id: &str, year: i32) -> pb::Rule {
    client
        .get_rule(bureau(pb::GetRuleRequest {
            region_code: region.into(),
            rule_id: rule_id.into(),
            year,
        }))
        .await
        .expect("get rule")
        .into_inner()
        .rule
        .expect("rule")
}

#[tokio::test]
async fn a_rule_moves_one_step_with_who_why_and_its_findings_and_screening_uses_it() {
    let mut client = supervision(march_cases()).await;
    client
        .screen_cases(agency(screen_request("screen-1")))
        .await
        .expect("screen");
    let found = findings(&mut client, march(0)).await;
    assert_eq!(found[0].rule_id, "readmission_15_days");
    assert_eq!(found[0].level, pb::RuleLevel::Weak as i32);
    client
        .review_finding(agency(pb::ReviewFindingRequest {
            request_id: "review-1".into(),
            region_code: HAIKOU.into(),
            finding_id: found[0].finding_id.clone(),
            decision: "confirmed".into(),
            reason: "records checked".into(),
        }))
        .await
        .expect("confirm");

    let request = change("level-1", "readmission_15_days", pb::RuleLevel::General);
    let answer = client
        .change_rule_level(bureau(request.clone()))
        .await
        .expect("weak to general")
        .into_inner();
    let recorded = answer.change.clone().expect("change");
    assert_eq!(
        recorded,
        pb::RuleLevelChange {
            region_code: HAIKOU.into(),
            year: 2026,
            rule_id: "readmission_15_days".into(),
            rule_number: 2,
            from_level: pb::RuleLevel::Weak as i32,
            to_level: pb::RuleLevel::General as i32,
            changed_by: "bureau".into(),
            reason: "16 of 20 findings confirmed on site".into(),
            confirmed_findings: 1,
            dismissed_findings: 0,
        }
    );
    let shown = answer.rule.clone().expect("rule");
    assert_eq!(shown.level, pb::RuleLevel::General as i32);
    assert_eq!(shown.level_changes, std::slice::from_ref(&recorded));

    // A retry answers the same; the request id with another body is refused.
    let replayed = client
        .change_rule_level(bureau(request.clone()))
        .await
        .expect("replay")
        .into_inner();
    assert_eq!(replayed, answer);
    let reused = client
        .change_rule_level(bureau(pb::ChangeRuleLevelRequest {
            reason: "other".into(),
            ..request
        }))
        .await
        .expect_err("reused id");
    assert_request_id_reused(&reused, "level-1", "ChangeRuleLevel");

    // From 2026 on in Haikou only.
    let haikou = rule(&mut client, HAIKOU, "2", 2027).await;
    assert_eq!(haikou.level, pb::RuleLevel::General as i32);
    assert_eq!(haikou.level_changes.len(), 1);
    assert_eq!(
        rule(&mut client, HAIKOU, "2", 2025).await.level,
        pb::RuleLevel::Weak as i32
    );
    assert_eq!(
        rule(&mut client, SANYA, "2", 2026).await.level,
        pb::RuleLevel::Weak as i32
    );
    let listed = client
        .list_rules(bureau(pb::ListRulesRequest {
            region_code: HAIKOU.into(),
            page_size: 30,
            year: 2026,
            ..Default::default()
        }))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.rules[1].level, pb::RuleLevel::General as i32);
    assert!(listed.rules[1].level_changes.is_empty());

    // The next run finds at the level in force; the first run's findings keep theirs.
    client
        .screen_cases(agency(screen_request("screen-2")))
        .await
        .expect("rerun");
    assert_eq!(
        findings(&mut client, march(2)).await[0].level,
        pb::RuleLevel::General as i32
    );
    assert_eq!(
        findings(&mut client, march(1)).await[0].level,
        pb::RuleLevel::Weak as i32
    );

    // One step down is a step too.
    let down = client
        .change_rule_level(bureau(change("level-2", "2", pb::RuleLevel::Weak)))
        .await
        .expect("general to weak")
        .into_inner();
    assert_eq!(down.rule.expect("rule").level_changes.len(), 2);
}

#[tokio::test]
async fn two_steps_the_same_level_another_region_and_bad_fields_are_refused() {
    let mut client = supervision(march_cases()).await;
    // Very long stay ships weak: strong is two steps away.
    let jump = client
        .change_rule_level(bureau(change(
            "l1",
            "very_long_stay",
            pb::RuleLevel::Strong,
        )))
        .await
        .expect_err("two steps");
    assert_eq!(jump.code(), Code::FailedPrecondition);
    assert_eq!(error_reason(&jump), "RULE_LEVEL_STEP");
    assert!(jump.message().contains("one step"), "{}", jump.message());
    let same = client
        .change_rule_level(bureau(change("l2", "very_long_stay", pb::RuleLevel::Weak)))
        .await
        .expect_err("same level");
    assert_eq!(error_reason(&same), "RULE_LEVEL_STEP");
    assert!(
        rule(&mut client, HAIKOU, "17", 2026)
            .await
            .level_changes
            .is_empty()
    );

    let sanya = client
        .change_rule_level(as_caller(
            pb::ChangeRuleLevelRequest {
                region_code: SANYA.into(),
                ..change("l3", "17", pb::RuleLevel::General)
            },
            "bureau-haikou",
            HAIKOU,
            &["configure"],
        ))
        .await
        .expect_err("Sanya is not Haikou's");
    assert_eq!(sanya.code(), Code::PermissionDenied);
    assert_eq!(error_reason(&sanya), "REGION_OUT_OF_SCOPE");

    let bad = client
        .change_rule_level(bureau(pb::ChangeRuleLevelRequest {
            request_id: String::new(),
            year: 0,
            reason: " ".into(),
            ..change("l4", "24", pb::RuleLevel::Unspecified)
        }))
        .await
        .expect_err("bad fields");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&bad),
        ["request_id", "year", "rule_id", "level", "reason"]
    );
}

#[tokio::test]
async fn the_provinces_change_holds_in_its_counties_until_a_nearer_one() {
    let mut client = supervision(march_cases()).await;
    client
        .change_rule_level(bureau(pb::ChangeRuleLevelRequest {
            region_code: "460000".into(),
            ..change("p1", "very_long_stay", pb::RuleLevel::General)
        }))
        .await
        .expect("province");
    assert_eq!(
        rule(&mut client, SANYA, "17", 2026).await.level,
        pb::RuleLevel::General as i32
    );
    // Haikou steps from the province's general, not from the shipped weak.
    let haikou = client
        .change_rule_level(bureau(change("h1", "17", pb::RuleLevel::Strong)))
        .await
        .expect("haikou")
        .into_inner()
        .change
        .expect("change");
    assert_eq!(haikou.from_level, pb::RuleLevel::General as i32);
    assert_eq!(
        rule(&mut client, "460105", "17", 2026).await.level,
        pb::RuleLevel::Strong as i32
    );
    assert_eq!(
        rule(&mut client, SANYA, "17", 2026).await.level,
        pb::RuleLevel::General as i32
    );
}
