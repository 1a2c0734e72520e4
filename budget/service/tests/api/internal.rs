//! The budget context's internal service over a real socket: year-end sharing for a whole
//! clearing (DOMAIN.md §4 worked example) and the monthly quotas of every allocated unit, each
//! agreeing with the public API.

use kernel::{Decimal, Money};
use medpay_proto::budget::internal::v1 as internal;
use medpay_proto::budget::v1 as pb;
use medpay_proto::common::v1 as common;
use tonic::Code;

use crate::common::*;

fn yuan(value: i64) -> Option<common::Money> {
    Some(platform::wire::money_to_wire(Money::from_yuan(value)))
}

fn money(value: Option<&common::Money>) -> Money {
    platform::wire::money("money", value).expect("money")
}

fn standard(code: &str, std: i64, act: i64) -> internal::HospitalStandard {
    internal::HospitalStandard {
        hospital_code: code.into(),
        standard: yuan(std),
        actual: yuan(act),
    }
}

fn share_request(hospitals: Vec<internal::HospitalStandard>) -> internal::ShareForClearingRequest {
    internal::ShareForClearingRequest {
        region_code: "460000".into(),
        year: 2025,
        fund_type: EMPLOYEE,
        clearing_run_id: "clearing-460000-310-202500-v1".into(),
        hospitals,
    }
}

#[tokio::test]
async fn sharing_for_a_clearing_follows_the_worked_example_for_every_hospital_at_once() {
    let mut server = start().await;
    server
        .create_budget(create("b-1", 1_000_000_000))
        .await
        .expect("budget");
    let answer = server
        .internal
        .share_for_clearing(hainan(share_request(vec![
            // R = 1.08 under Hainan's policy: Std + 50 % × (Act − Std) from the reserve.
            standard("H46000002", 50_000_000, 54_000_000),
            // R = 0.92: the surplus is retained, Std is paid.
            standard("H46000001", 50_000_000, 46_000_000),
        ])))
        .await
        .expect("share")
        .into_inner();
    let codes: Vec<&str> = answer
        .hospitals
        .iter()
        .map(|h| h.hospital_code.as_str())
        .collect();
    assert_eq!(codes, ["H46000001", "H46000002"]);
    let under = &answer.hospitals[0];
    assert_eq!(money(under.payable.as_ref()), Money::from_yuan(50_000_000));
    assert_eq!(under.tier, "surplus_retained");
    assert_eq!(money(under.from_reserve.as_ref()), Money::ZERO);
    let over = &answer.hospitals[1];
    assert_eq!(money(over.payable.as_ref()), Money::from_yuan(52_000_000));
    assert!(over.tier.starts_with("overspend_band_"), "{}", over.tier);
    assert_eq!(
        money(over.from_reserve.as_ref()),
        Money::from_yuan(2_000_000)
    );

    // The same figures as the public ComputeSharing for the same records.
    let outcome: budget_domain::SharingOutcome =
        serde_json::from_str(&answer.outcome_json).expect("outcome");
    assert_eq!(outcome.reserve_available, Money::from_yuan(50_000_000));
    assert_eq!(outcome.reserve_used, Money::from_yuan(2_000_000));
    let public = server
        .client
        .compute_sharing(hainan(pb::ComputeSharingRequest {
            region_code: "460000".into(),
            year: 2025,
            fund_type: EMPLOYEE,
            hospitals_json: serde_json::json!([
                {"hospital_code": "H46000002", "fund": "310", "standard": "50000000",
                 "actual": "54000000", "prepaid": "0", "ffs_special_cases": "0"},
                {"hospital_code": "H46000001", "fund": "310", "standard": "50000000",
                 "actual": "46000000", "prepaid": "0", "ffs_special_cases": "0"},
            ])
            .to_string(),
            hospitals: None,
        }))
        .await
        .expect("public sharing")
        .into_inner();
    let public: budget_domain::SharingOutcome =
        serde_json::from_str(&public.outcome_json).expect("outcome");
    assert_eq!(public, outcome);
}

#[tokio::test]
async fn sharing_refuses_bad_records_a_missing_budget_and_foreign_regions() {
    let mut server = start().await;
    let status = server
        .internal
        .share_for_clearing(hainan(share_request(vec![standard(
            "H46000001",
            50_000_000,
            54_000_000,
        )])))
        .await
        .expect_err("no budget");
    assert_eq!(status.code(), Code::FailedPrecondition);

    server
        .create_budget(create("b-1", 1_000_000_000))
        .await
        .expect("budget");
    let status = server
        .internal
        .share_for_clearing(hainan(share_request(vec![
            standard("H46000001", 50_000_000, 54_000_000),
            standard("H46000001", 1, 1),
            internal::HospitalStandard {
                hospital_code: "H46000003".into(),
                standard: None,
                actual: yuan(1),
            },
        ])))
        .await
        .expect_err("bad records");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("hospitals[1].hospital_code"),
        "{status:?}"
    );
    assert!(
        status.message().contains("hospitals[2].standard"),
        "{status:?}"
    );

    let status = server
        .internal
        .share_for_clearing(as_caller(
            share_request(vec![standard("H46000001", 50_000_000, 54_000_000)]),
            "410000",
        ))
        .await
        .expect_err("out of scope");
    assert_eq!(status.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn monthly_quotas_of_every_unit_agree_with_get_quotas() {
    let mut server = start().await;
    server
        .create_budget(create("b-1", 1_000_000_000))
        .await
        .expect("budget");
    let unit = |code: &str, history: [i64; 3]| budget_domain::AllocationUnit {
        code: code.into(),
        kind: budget_domain::UnitKind::Hospital {
            history: history.iter().map(|fen| Money::from_fen(*fen)).collect(),
        },
        assessment_coefficient: Decimal::ONE,
        adjustment_factor: Decimal::ONE,
        primary_care: false,
    };
    let units = vec![
        unit("H46000002", [11_111_111, 12_121_212, 13_131_313]),
        unit("H46000001", [33_333_333, 34_444_444, 35_555_557]),
    ];
    server
        .allocate(pb::AllocateRequest {
            request_id: "al-1".into(),
            region_code: "460000".into(),
            year: 2025,
            fund_type: EMPLOYEE,
            inputs_json: serde_json::json!({"block": "inpatient", "units": units}).to_string(),
            inputs: None,
        })
        .await
        .expect("allocate");
    for month in [1, 7, 12] {
        let answer = server
            .internal
            .get_monthly_quotas(hainan(internal::GetMonthlyQuotasRequest {
                region_code: "460000".into(),
                year: 2025,
                month,
                fund_type: EMPLOYEE,
            }))
            .await
            .expect("quotas")
            .into_inner();
        let codes: Vec<&str> = answer.quotas.iter().map(|q| q.unit_code.as_str()).collect();
        assert_eq!(codes, ["H46000001", "H46000002"]);
        for quota in &answer.quotas {
            let year = server
                .get_quotas(&quota.unit_code)
                .await
                .expect("get quotas");
            let index = usize::try_from(month - 1).expect("month");
            assert_eq!(
                money(quota.quota.as_ref()),
                money(year.get(index)),
                "{} month {month}",
                quota.unit_code
            );
            assert!(money(quota.quota.as_ref()) > Money::ZERO);
        }
    }
    let status = server
        .internal
        .get_monthly_quotas(hainan(internal::GetMonthlyQuotasRequest {
            region_code: "460000".into(),
            year: 2025,
            month: 13,
            fund_type: EMPLOYEE,
        }))
        .await
        .expect_err("month 13");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("month"), "{status:?}");
}
