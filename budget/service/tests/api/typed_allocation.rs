//! Typed allocation inputs and typed hospital years: the same as their JSON forms, read by the
//! same reader and checked by the same checks, answered the same in both forms; bad typed fields
//! named by their path and nothing stored.

use medpay_proto::budget::v1 as pb;
use medpay_proto::common::v1::{Decimal as WireDecimal, FundType as WireFund, Money as WireMoney};
use pb::allocation_unit::Kind as Unit;
use pb::quota_profile::Kind as Profile;
use tonic::Code;

use crate::common::*;

fn money(yuan: &str) -> Option<WireMoney> {
    Some(WireMoney { yuan: yuan.into() })
}

fn decimal(value: &str) -> Option<WireDecimal> {
    Some(WireDecimal {
        value: value.into(),
    })
}

fn history(years: &[&str]) -> Vec<WireMoney> {
    years.iter().filter_map(|yuan| money(yuan)).collect()
}

/// A hospital and a two-member alliance, 2:3:5 weights, a primary-care tilt and a seasonal
/// profile: as JSON.
const INPUTS_JSON: &str = r#"{"block": "inpatient",
  "policy": {"history_weights": ["2", "3", "5"], "primary_care_tilt": "1.1"},
  "units": [
    {"code": "H46000001", "kind": {"kind": "hospital",
      "history": ["300000000", "320000000", "350000000.50"]},
     "assessment_coefficient": "0.98", "adjustment_factor": "1.02", "primary_care": false},
    {"code": "A1", "kind": {"kind": "alliance", "members": [
      {"hospital_code": "H46000002", "history": ["90000000", "95000000", "99000000"]},
      {"hospital_code": "H46000003", "history": ["10000000", "11000000", "12500000"]}]},
     "assessment_coefficient": "1", "adjustment_factor": "1", "primary_care": true}],
  "quota_profile": {"kind": "seasonal",
    "weights": ["2", "1", "1", "1", "1", "1", "1", "1", "1", "1", "1", "2"]}}"#;

/// The same inputs as a vendor types them.
fn inputs_typed() -> pb::AllocationInputs {
    let mut weights = vec![decimal("2").unwrap_or_default()];
    weights.extend((0..10).filter_map(|_| decimal("1")));
    weights.extend(decimal("2"));
    pb::AllocationInputs {
        block: "inpatient".into(),
        policy: Some(pb::AllocationPolicy {
            history_weights: Some(pb::HistoryWeightList {
                weights: ["2", "3", "5"].iter().filter_map(|w| decimal(w)).collect(),
            }),
            primary_care_tilt: decimal("1.1"),
        }),
        units: vec![
            pb::AllocationUnit {
                code: "H46000001".into(),
                kind: Some(Unit::Hospital(pb::UnitHistory {
                    history: history(&["300000000", "320000000", "350000000.50"]),
                })),
                assessment_coefficient: decimal("0.98"),
                adjustment_factor: decimal("1.02"),
                primary_care: false,
            },
            pb::AllocationUnit {
                code: "A1".into(),
                kind: Some(Unit::Alliance(pb::AllianceMemberList {
                    members: vec![
                        pb::AllianceMember {
                            hospital_code: "H46000002".into(),
                            history: history(&["90000000", "95000000", "99000000"]),
                        },
                        pb::AllianceMember {
                            hospital_code: "H46000003".into(),
                            history: history(&["10000000", "11000000", "12500000"]),
                        },
                    ],
                })),
                assessment_coefficient: decimal("1"),
                adjustment_factor: decimal("1"),
                primary_care: true,
            },
        ],
        quota_profile: Some(pb::QuotaProfile {
            kind: Some(Profile::Seasonal(pb::SeasonalQuotaProfile { weights })),
        }),
    }
}

fn allocate(
    request_id: &str,
    typed: Option<pb::AllocationInputs>,
    json: &str,
) -> pb::AllocateRequest {
    pb::AllocateRequest {
        request_id: request_id.into(),
        region_code: "460000".into(),
        year: 2025,
        fund_type: EMPLOYEE,
        inputs_json: json.into(),
        inputs: typed,
    }
}

#[tokio::test]
async fn typed_and_json_allocations_answer_and_store_the_same() {
    let (mut json, mut typed) = (start().await, start().await);
    for server in [&mut json, &mut typed] {
        server
            .create_budget(create("b-1", 1_000_000_000))
            .await
            .expect("budget");
    }
    let by_json = json
        .allocate(allocate("al-1", None, INPUTS_JSON))
        .await
        .expect("json inputs");
    let by_typed = typed
        .allocate(allocate("al-1", Some(inputs_typed()), ""))
        .await
        .expect("typed inputs");
    assert_eq!(by_typed.allocation_json, by_json.allocation_json);
    assert_eq!(by_typed, by_json);
    for unit in ["H46000001", "A1"] {
        let quotas = typed.get_quotas(unit).await.expect("typed quotas");
        assert_eq!(quotas, json.get_quotas(unit).await.expect("json quotas"));
        assert_eq!(quotas.len(), 12);
    }

    // The typed allocation: 95 % of the 1,000,000,000 inpatient block, shared to the fen.
    let allocation = by_typed.allocation.expect("typed allocation");
    assert_eq!(allocation.block, money("950000000.00"));
    let codes: Vec<&str> = allocation.lines.iter().map(|l| l.code.as_str()).collect();
    assert_eq!(codes, ["H46000001", "A1"]);
    assert_eq!(allocation.lines[1].members, ["H46000002", "H46000003"]);
    let fen: i64 = allocation
        .lines
        .iter()
        .map(|line| {
            let yuan = line
                .amount
                .as_ref()
                .map(|m| m.yuan.clone())
                .unwrap_or_default();
            let (whole, fraction) = yuan.split_once('.').expect("amount at the fen");
            whole.parse::<i64>().expect("yuan") * 100 + fraction.parse::<i64>().expect("fen")
        })
        .sum();
    assert_eq!(fen, 95_000_000_000);
}

#[tokio::test]
async fn bad_typed_allocation_fields_are_named_by_their_path_and_nothing_is_stored() {
    let mut server = start().await;
    server
        .create_budget(create("b-1", 1_000_000_000))
        .await
        .expect("budget");
    let both = server
        .allocate(allocate("both", Some(inputs_typed()), INPUTS_JSON))
        .await
        .expect_err("both forms");
    assert_eq!(violated_fields(&both), ["inputs", "inputs_json"]);
    let neither = server
        .allocate(allocate("neither", None, ""))
        .await
        .expect_err("neither form");
    assert_eq!(violated_fields(&neither), ["inputs"]);

    let mut unreadable = inputs_typed();
    unreadable.block = "surgery".into();
    if let Some(policy) = unreadable.policy.as_mut() {
        policy.primary_care_tilt = decimal("a little");
    }
    let hospital = &mut unreadable.units[0];
    hospital.code = " ".into();
    if let Some(Unit::Hospital(unit)) = hospital.kind.as_mut() {
        unit.history[2] = WireMoney {
            yuan: "350000000.505".into(),
        };
    }
    hospital.adjustment_factor = None;
    unreadable.units.push(pb::AllocationUnit {
        code: "H46000009".into(),
        ..Default::default()
    });
    if let Some(Profile::Seasonal(seasonal)) = unreadable
        .quota_profile
        .as_mut()
        .and_then(|p| p.kind.as_mut())
    {
        seasonal.weights.pop();
    }
    let refused = server
        .allocate(allocate("unreadable", Some(unreadable), ""))
        .await
        .expect_err("unreadable");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&refused),
        [
            "inputs.block",
            "inputs.policy.primary_care_tilt",
            "inputs.units[0].code",
            "inputs.units[0].hospital.history[2]",
            "inputs.units[0].adjustment_factor",
            "inputs.units[2].kind",
            "inputs.units[2].assessment_coefficient",
            "inputs.units[2].adjustment_factor",
            "inputs.quota_profile.seasonal.weights",
        ]
    );

    // Readable inputs the domain refuses, named under the typed field.
    let mut invalid = inputs_typed();
    invalid.units[0].assessment_coefficient = decimal("0");
    let refused = server
        .allocate(allocate("invalid", Some(invalid), ""))
        .await
        .expect_err("invalid");
    let fields = violated_fields(&refused);
    assert!(
        fields
            .iter()
            .any(|f| f.starts_with("inputs.") && f.ends_with("assessment_coefficient")),
        "{fields:?}"
    );
    let status = server
        .get_quotas("H46000001")
        .await
        .expect_err("nothing stored");
    assert_eq!(status.code(), Code::NotFound);
}

fn year(code: &str, standard: &str, actual: &str) -> pb::HospitalYear {
    pb::HospitalYear {
        hospital_code: code.into(),
        fund_type: EMPLOYEE,
        standard: money(standard),
        actual: money(actual),
        prepaid: money("45900000"),
        ffs_special_cases: money("0"),
    }
}

fn share(
    typed: Option<Vec<pb::HospitalYear>>,
    json: &str,
) -> tonic::Request<pb::ComputeSharingRequest> {
    hainan(pb::ComputeSharingRequest {
        region_code: "460000".into(),
        year: 2025,
        fund_type: EMPLOYEE,
        hospitals_json: json.into(),
        hospitals: typed.map(|hospitals| pb::HospitalYearList { hospitals }),
    })
}

#[tokio::test]
async fn typed_and_json_hospital_years_share_the_same() {
    let mut server = start().await;
    server
        .create_budget(create("b-1", 1_000_000_000))
        .await
        .expect("budget");
    let json = r#"[
      {"hospital_code": "H46000001", "fund": "310", "standard": "50000000",
       "actual": "54000000", "prepaid": "45900000", "ffs_special_cases": "0"},
      {"hospital_code": "H46000002", "fund": "310", "standard": "50000000",
       "actual": "46000000", "prepaid": "45900000", "ffs_special_cases": "0"}]"#;
    let by_json = server
        .client
        .compute_sharing(share(None, json))
        .await
        .expect("json")
        .into_inner();
    let typed = vec![
        year("H46000001", "50000000", "54000000"),
        year("H46000002", "50000000", "46000000"),
    ];
    let by_typed = server
        .client
        .compute_sharing(share(Some(typed), ""))
        .await
        .expect("typed")
        .into_inner();
    assert_eq!(by_typed.outcome_json, by_json.outcome_json);
    assert_eq!(by_typed, by_json);

    // DOMAIN.md §4 worked example, typed: R = 1.08 in the first band → 52,000,000, a top-up
    // of 6,100,000, 2,000,000 from the reserve.
    let outcome = by_typed.outcome.expect("typed outcome");
    assert_eq!(outcome.fund_type, EMPLOYEE);
    let first = &outcome.hospitals[0];
    assert_eq!(first.ratio_shown, decimal("1.0800"));
    let tier = first.tier.clone().expect("tier");
    assert_eq!((tier.kind.as_str(), tier.band), ("overspend", Some(0)));
    assert_eq!(first.payment, money("52000000.00"));
    assert_eq!(first.balance, money("6100000.00"));
    let second = outcome.hospitals[1].tier.clone().expect("tier");
    assert_eq!(
        (second.kind.as_str(), second.band),
        ("surplus_retained", None)
    );
    assert_eq!(outcome.reserve_used, money("2000000.00"));
    assert_eq!(outcome.shortfall, None);
}

#[tokio::test]
async fn bad_typed_hospital_years_are_named_by_their_path() {
    let mut server = start().await;
    server
        .create_budget(create("b-1", 1_000_000_000))
        .await
        .expect("budget");
    let both = server
        .client
        .compute_sharing(share(Some(Vec::new()), "[]"))
        .await
        .expect_err("both forms");
    assert_eq!(violated_fields(&both), ["hospitals", "hospitals_json"]);

    let mut unreadable = year("", "50000000", "54000000");
    unreadable.fund_type = 0;
    unreadable.standard = None;
    unreadable.prepaid = money("a lot");
    let refused = server
        .client
        .compute_sharing(share(
            Some(vec![year("H46000001", "50000000", "54000000"), unreadable]),
            "",
        ))
        .await
        .expect_err("unreadable");
    assert_eq!(
        violated_fields(&refused),
        [
            "hospitals.hospitals[1].hospital_code",
            "hospitals.hospitals[1].fund_type",
            "hospitals.hospitals[1].standard",
            "hospitals.hospitals[1].prepaid",
        ]
    );
    let mut resident = year("H46000002", "50000000", "54000000");
    resident.fund_type = WireFund::Resident as i32;
    let refused = server
        .client
        .compute_sharing(share(Some(vec![resident]), ""))
        .await
        .expect_err("another fund");
    assert_eq!(
        violated_fields(&refused),
        ["hospitals.hospitals[0].fund_type"]
    );
    let negative = year("H46000003", "50000000", "-1");
    let refused = server
        .client
        .compute_sharing(share(Some(vec![negative]), ""))
        .await
        .expect_err("negative actual");
    let fields = violated_fields(&refused);
    assert!(
        fields.iter().all(|f| f.starts_with("hospitals.")) && !fields.is_empty(),
        "{fields:?}"
    );
}
