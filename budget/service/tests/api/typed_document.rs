//! The typed budget document and sharing policy: the same documents as their JSON forms, read by
//! the same reader, checked by the same checks, stored byte for byte the same and answered the
//! same; bad typed fields named by their path and nothing stored.

use medpay_proto::budget::v1 as pb;
use medpay_proto::common::v1::{Decimal as WireDecimal, Money as WireMoney};
use pb::budget_basis::Kind as Basis;
use pb::budget_split::Kind as Split;
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

/// A budget from planned income split by shares into three blocks, with a 4 % reserve: as JSON.
const INCOME_JSON: &str = r#"{"region": "460000", "year": 2025, "fund": "310",
  "mode": "hospital_caps",
  "basis": {"kind": "planned_income", "planned_pooled_income": "1100000000",
    "risk_reserve": "50000000.00", "earmarked": "30000000", "carried_balance": "-20000000"},
  "split": {"shares": [{"block": "pharmacies", "share": "0.15"},
    {"block": "inpatient", "share": "0.6"}, {"block": "outpatient_pooling", "share": "0.25"}]},
  "policy": {"adjustment_reserve_rate": "0.04"}}"#;

fn share(block: &str, value: &str) -> pb::BlockShare {
    pb::BlockShare {
        block: block.into(),
        share: decimal(value),
    }
}

/// The same budget as a vendor types it.
fn income_typed() -> pb::BudgetDocument {
    pb::BudgetDocument {
        region: "460000".into(),
        year: 2025,
        fund_type: EMPLOYEE,
        mode: "hospital_caps".into(),
        basis: Some(pb::BudgetBasis {
            kind: Some(Basis::PlannedIncome(pb::PlannedIncomeBasis {
                planned_pooled_income: money("1100000000"),
                risk_reserve: money("50000000.00"),
                earmarked: money("30000000"),
                carried_balance: money("-20000000"),
            })),
        }),
        split: Some(pb::BudgetSplit {
            kind: Some(Split::Shares(pb::BlockShareList {
                shares: vec![
                    share("pharmacies", "0.15"),
                    share("inpatient", "0.6"),
                    share("outpatient_pooling", "0.25"),
                ],
            })),
        }),
        policy: Some(pb::BudgetPolicy {
            adjustment_reserve_rate: decimal("0.04"),
        }),
    }
}

fn create_typed(request_id: &str, document: pb::BudgetDocument) -> pb::CreateBudgetRequest {
    pb::CreateBudgetRequest {
        document_json: String::new(),
        document: Some(document),
        ..create(request_id, 0)
    }
}

fn create_json(request_id: &str, json: &str) -> pb::CreateBudgetRequest {
    pb::CreateBudgetRequest {
        document_json: json.into(),
        ..create(request_id, 0)
    }
}

async fn list(server: &mut Server) -> pb::ListBudgetsResponse {
    server
        .client
        .list_budgets(hainan(pb::ListBudgetsRequest {
            region_code: "460000".into(),
            ..Default::default()
        }))
        .await
        .expect("list")
        .into_inner()
}

#[tokio::test]
async fn typed_and_json_budgets_store_and_answer_the_same() {
    let (mut json, mut typed) = (start().await, start().await);
    let by_json = json
        .create_budget(create_json("b-1", INCOME_JSON))
        .await
        .expect("json document")
        .budget
        .expect("budget");
    let by_typed = typed
        .create_budget(create_typed("b-1", income_typed()))
        .await
        .expect("typed document")
        .budget
        .expect("budget");
    // Byte for byte the same stored JSON, and the same answer in both forms.
    assert_eq!(by_typed.document_json, by_json.document_json);
    assert_eq!(by_typed, by_json);
    assert_eq!(typed.get_budget(0).await.expect("get"), by_json);
    assert_eq!(list(&mut typed).await, list(&mut json).await);

    // The typed answer is the computation: 1,000,000,000 split 0.6 / 0.25 / 0.15, 4 % reserve
    // held back from the inpatient block only, blocks in block order.
    let computed = by_typed.computed.clone().expect("typed computed budget");
    assert_eq!(computed.version, 1);
    assert_eq!(computed.total, money("1000000000.00"));
    assert_eq!(computed.adjustment_reserve, money("24000000.00"));
    let blocks: Vec<_> = computed
        .blocks
        .iter()
        .map(|b| {
            let yuan =
                |m: &Option<WireMoney>| m.as_ref().map(|m| m.yuan.clone()).unwrap_or_default();
            (
                b.kind.as_str(),
                yuan(&b.amount),
                yuan(&b.reserve),
                yuan(&b.allocatable),
            )
        })
        .collect();
    assert_eq!(
        blocks,
        [
            (
                "inpatient",
                "600000000.00".into(),
                "24000000.00".into(),
                "576000000.00".into()
            ),
            (
                "outpatient_pooling",
                "250000000.00".into(),
                "0.00".into(),
                "250000000.00".into()
            ),
            (
                "pharmacies",
                "150000000.00".into(),
                "0.00".into(),
                "150000000.00".into()
            ),
        ]
    );
    let document = computed.document.expect("document");
    assert_eq!(document.mode, "hospital_caps");
    assert_eq!(document.fund_type, EMPLOYEE);

    // The document answered, given back typed as an adjustment, stores what the JSON adjustment
    // of the same document stores.
    let adjusted_typed = typed
        .adjust_budget(pb::AdjustBudgetRequest {
            document_json: String::new(),
            document: Some(document),
            ..adjust("a-1", 0, "re-read")
        })
        .await
        .expect("typed adjustment")
        .budget
        .expect("budget");
    let adjusted_json = json
        .adjust_budget(pb::AdjustBudgetRequest {
            document_json: INCOME_JSON.into(),
            ..adjust("a-1", 0, "re-read")
        })
        .await
        .expect("json adjustment")
        .budget
        .expect("budget");
    assert_eq!(adjusted_typed.version, 2);
    assert_eq!(adjusted_typed.document_json, adjusted_json.document_json);
    assert_eq!(adjusted_typed, adjusted_json);
}

#[tokio::test]
async fn a_sparse_typed_document_takes_the_json_defaults() {
    let (mut json, mut typed) = (start().await, start().await);
    let sparse = pb::BudgetDocument {
        mode: "regional_points".into(),
        basis: Some(pb::BudgetBasis {
            kind: Some(Basis::LastYearGrowth(pb::LastYearGrowthBasis {
                last_year_spending: money("1000.01"),
                growth_cap: decimal("0.035"),
            })),
        }),
        split: Some(pb::BudgetSplit {
            kind: Some(Split::Amounts(pb::BlockAmountList {
                amounts: vec![pb::BlockAmount {
                    block: "inpatient".into(),
                    amount: money("1035.01"),
                }],
            })),
        }),
        policy: None,
        ..income_typed()
    };
    let plain = r#"{"region": "460000", "year": 2025, "fund": "310", "mode": "regional_points",
      "basis": {"kind": "last_year_growth", "last_year_spending": "1000.01", "growth_cap": "0.035"},
      "split": {"amounts": [{"block": "inpatient", "amount": "1035.01"}]}}"#;
    let by_typed = typed
        .create_budget(create_typed("b-1", sparse))
        .await
        .expect("typed")
        .budget
        .expect("budget");
    let by_json = json
        .create_budget(create_json("b-1", plain))
        .await
        .expect("json")
        .budget
        .expect("budget");
    assert_eq!(by_typed.document_json, by_json.document_json);
    let policy = by_typed
        .computed
        .and_then(|c| c.document)
        .and_then(|d| d.policy)
        .expect("the default policy, set");
    assert_eq!(policy.adjustment_reserve_rate, decimal("0.05"));
}

#[tokio::test]
async fn bad_typed_budget_fields_are_named_by_their_path_and_nothing_is_stored() {
    let mut server = start().await;
    let both = server
        .create_budget(pb::CreateBudgetRequest {
            document: Some(income_typed()),
            ..create_json("both", INCOME_JSON)
        })
        .await
        .expect_err("both forms");
    assert_eq!(both.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&both), ["document", "document_json"]);
    let neither = server
        .create_budget(create_json("neither", " "))
        .await
        .expect_err("neither form");
    assert_eq!(violated_fields(&neither), ["document"]);

    // Unreadable values, each named as it is read.
    let unreadable = pb::BudgetDocument {
        region: "46000X".into(),
        fund_type: 0,
        mode: "caps".into(),
        basis: Some(pb::BudgetBasis {
            kind: Some(Basis::LastYearGrowth(pb::LastYearGrowthBasis {
                last_year_spending: money("10.001"),
                growth_cap: None,
            })),
        }),
        split: Some(pb::BudgetSplit {
            kind: Some(Split::Shares(pb::BlockShareList {
                shares: vec![
                    share("inpatient", "0.5"),
                    share("surgery", "zero point five"),
                ],
            })),
        }),
        policy: Some(pb::BudgetPolicy {
            adjustment_reserve_rate: decimal("five percent"),
        }),
        ..income_typed()
    };
    let refused = server
        .create_budget(create_typed("unreadable", unreadable))
        .await
        .expect_err("unreadable");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&refused),
        [
            "document.region",
            "document.fund_type",
            "document.mode",
            "document.basis.last_year_growth.last_year_spending",
            "document.basis.last_year_growth.growth_cap",
            "document.split.shares.shares[1].block",
            "document.split.shares.shares[1].share",
            "document.policy.adjustment_reserve_rate",
        ]
    );
    let missing = server
        .create_budget(create_typed("missing", pb::BudgetDocument::default()))
        .await
        .expect_err("empty document");
    assert_eq!(
        violated_fields(&missing),
        [
            "document.region",
            "document.year",
            "document.fund_type",
            "document.mode",
            "document.basis",
            "document.split",
        ]
    );

    // Readable values the checks refuse, named by the same checks as the JSON form's.
    let mut invalid = income_typed();
    invalid.year = 2024;
    invalid.basis = Some(pb::BudgetBasis {
        kind: Some(Basis::LastYearGrowth(pb::LastYearGrowthBasis {
            last_year_spending: money("1000000"),
            growth_cap: decimal("2"),
        })),
    });
    let refused = server
        .create_budget(create_typed("wrong-year", invalid.clone()))
        .await
        .expect_err("another year");
    assert_eq!(violated_fields(&refused), ["document.year"]);
    invalid.year = 2025;
    invalid.split = Some(pb::BudgetSplit {
        kind: Some(Split::Shares(pb::BlockShareList {
            shares: vec![share("inpatient", "0.9"), share("other", "1.5")],
        })),
    });
    invalid.policy = Some(pb::BudgetPolicy {
        adjustment_reserve_rate: decimal("1.5"),
    });
    let refused = server
        .create_budget(create_typed("invalid", invalid))
        .await
        .expect_err("invalid");
    assert_eq!(error_reason(&refused), "SEVERAL_PROBLEMS");
    let fields = violated_fields(&refused);
    for field in [
        "document.policy.adjustment_reserve_rate",
        "document.basis.last_year_growth.growth_cap",
    ] {
        assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
    }
    assert!(
        fields.iter().all(|f| f.starts_with("document.")),
        "{fields:?}"
    );
    // The JSON form of a defect of the basis is named at its JSON path.
    let refused = server
        .create_budget(create_json(
            "invalid-json",
            &INCOME_JSON.replace("\"-20000000\"", "\"-2000000000\""),
        ))
        .await
        .expect_err("negative total");
    assert_eq!(violated_fields(&refused), ["document_json.basis"]);

    let status = server.get_budget(0).await.expect_err("nothing stored");
    assert_eq!(status.code(), Code::NotFound);
    assert!(list(&mut server).await.budgets.is_empty());
    assert!(
        server
            .store
            .audit_entries()
            .await
            .expect("audit")
            .is_empty()
    );
}

fn band(lower: &str, upper: Option<&str>, rate: &str) -> pb::OverspendBand {
    pb::OverspendBand {
        lower_ratio: decimal(lower),
        upper_ratio: upper.and_then(decimal),
        shared_rate: decimal(rate),
    }
}

fn put_policy(
    request_id: &str,
    policy: Option<pb::SharingPolicy>,
    policy_json: &str,
) -> pb::PutSharingPolicyRequest {
    pb::PutSharingPolicyRequest {
        request_id: request_id.into(),
        region_code: "460000".into(),
        year: 2025,
        policy_json: policy_json.into(),
        policy,
    }
}

async fn put(
    server: &mut Server,
    request: pb::PutSharingPolicyRequest,
) -> Result<pb::PutSharingPolicyResponse, tonic::Status> {
    server
        .client
        .put_sharing_policy(hainan(request))
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn typed_and_json_sharing_policies_store_and_share_the_same() {
    let (mut json, mut typed) = (start().await, start().await);
    let table = r#"{"surplus": {"retained_cap": "0.15"},
      "overspend_bands": [{"lower_ratio": "1", "upper_ratio": "1.2", "shared_rate": "0.6"},
        {"lower_ratio": "1.2", "upper_ratio": null, "shared_rate": "0"}],
      "reserve_shortfall": "allow_negative"}"#;
    let typed_table = pb::SharingPolicy {
        surplus: Some(pb::SurplusRule {
            retained_cap: decimal("0.15"),
            beyond_cap_retained_share: None,
        }),
        overspend_bands: Some(pb::OverspendBandList {
            bands: vec![band("1", Some("1.2"), "0.6"), band("1.2", None, "0")],
        }),
        reserve_shortfall: "allow_negative".into(),
    };
    let by_json = put(&mut json, put_policy("p-1", None, table))
        .await
        .expect("json policy");
    let by_typed = put(&mut typed, put_policy("p-1", Some(typed_table), ""))
        .await
        .expect("typed policy");
    assert_eq!(by_typed.policy_json, by_json.policy_json);
    assert_eq!(by_typed, by_json);
    let answered = by_typed.policy.clone().expect("typed policy answered");
    assert_eq!(
        answered.surplus.and_then(|s| s.beyond_cap_retained_share),
        decimal("0"),
        "every field set"
    );

    // A preset answers typed too, and its typed form put back stores the same table.
    let preset = put(&mut json, put_policy("p-2", None, "xinxiang"))
        .await
        .expect("preset");
    let again = put(&mut typed, put_policy("p-2", preset.policy.clone(), ""))
        .await
        .expect("typed preset");
    assert_eq!(again.policy_json, preset.policy_json);
    assert_eq!(again, preset);

    // Sharing under the two stored policies gives the same answer.
    let hospitals = r#"[{"hospital_code": "H46000001", "fund": "310", "standard": "50000000",
      "actual": "58000000", "prepaid": "45900000", "ffs_special_cases": "0"}]"#;
    let mut outcomes = Vec::new();
    for server in [&mut json, &mut typed] {
        server
            .create_budget(create("b-1", 1_000_000_000))
            .await
            .expect("budget");
        let outcome = server
            .client
            .compute_sharing(hainan(pb::ComputeSharingRequest {
                region_code: "460000".into(),
                year: 2025,
                fund_type: EMPLOYEE,
                hospitals_json: hospitals.into(),
                hospitals: None,
            }))
            .await
            .expect("sharing")
            .into_inner();
        outcomes.push(outcome.outcome_json);
    }
    assert_eq!(outcomes[0], outcomes[1]);
}

#[tokio::test]
async fn bad_typed_policy_fields_are_named_by_their_path_and_nothing_is_stored() {
    let mut server = start().await;
    let both = put(
        &mut server,
        put_policy("both", Some(pb::SharingPolicy::default()), "hainan"),
    )
    .await
    .expect_err("both forms");
    assert_eq!(violated_fields(&both), ["policy", "policy_json"]);
    let neither = put(&mut server, put_policy("neither", None, ""))
        .await
        .expect_err("neither form");
    assert_eq!(violated_fields(&neither), ["policy"]);

    let unreadable = pb::SharingPolicy {
        surplus: Some(pb::SurplusRule {
            retained_cap: decimal("a sixth"),
            beyond_cap_retained_share: None,
        }),
        overspend_bands: Some(pb::OverspendBandList {
            bands: vec![band("1", Some("1.1"), "0.5"), pb::OverspendBand::default()],
        }),
        reserve_shortfall: "borrow".into(),
    };
    let refused = put(&mut server, put_policy("unreadable", Some(unreadable), ""))
        .await
        .expect_err("unreadable");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&refused),
        [
            "policy.surplus.retained_cap",
            "policy.overspend_bands.bands[1].lower_ratio",
            "policy.overspend_bands.bands[1].shared_rate",
            "policy.reserve_shortfall",
        ]
    );

    // Readable bands the same validation refuses as in a JSON table.
    let invalid = pb::SharingPolicy {
        overspend_bands: Some(pb::OverspendBandList {
            bands: vec![band("1", Some("1.1"), "1.5"), band("1.1", Some("1.3"), "0")],
        }),
        ..Default::default()
    };
    let refused = put(&mut server, put_policy("invalid", Some(invalid), ""))
        .await
        .expect_err("invalid");
    assert_eq!(
        violated_fields(&refused),
        [
            "policy.overspend_bands.bands[0].shared_rate",
            "policy.overspend_bands.bands[1].upper_ratio",
        ]
    );
    let region = "460000".parse().expect("code");
    assert_eq!(
        server
            .store
            .sharing_policy(region, 2025)
            .await
            .expect("read"),
        None,
        "nothing stored"
    );
    assert!(
        server
            .store
            .audit_entries()
            .await
            .expect("audit")
            .is_empty()
    );
}
