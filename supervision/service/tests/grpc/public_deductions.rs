//! ListDeductions: the public read of the deductions settlement clears with, the same figures as
//! the internal GetDeductions, scoped to the caller's region and a hospital's own.

use medpay_proto::supervision::internal::v1 as internal;
use medpay_proto::supervision::v1 as pb;
use platform::testing::{as_caller, error_reason, violated_fields};
use tonic::Code;

use crate::deductions::{RESIDENT, both, review};
use crate::responses::hospital;
use crate::{HAIKOU, SANYA, agency, findings, march, screen_request};

fn ask(hospital_code: &str) -> pb::ListDeductionsRequest {
    pb::ListDeductionsRequest {
        region_code: HAIKOU.into(),
        year: 2026,
        fund_type: RESIDENT,
        hospital_code: hospital_code.into(),
    }
}

#[tokio::test]
async fn the_public_deductions_are_the_internal_ones_in_the_callers_scope() {
    let (mut client, mut internal) = both().await;
    client
        .screen_cases(agency(screen_request("screen-1")))
        .await
        .expect("screen");
    let found = findings(&mut client, march(0)).await;
    for (n, finding) in found.iter().enumerate() {
        client
            .review_finding(agency(review(
                &format!("r{n}"),
                &finding.finding_id,
                "confirmed",
            )))
            .await
            .expect("confirm");
    }

    let public = client
        .list_deductions(agency(ask("")))
        .await
        .expect("deductions")
        .into_inner()
        .deductions;
    // The readmission's whole list (1000.00) and the duplicate injection (5.00).
    assert_eq!(public.len(), 1);
    assert_eq!(public[0].hospital_code, "H001");
    assert_eq!(public[0].amount, "1005.00");
    let ids: Vec<&str> = public[0]
        .findings
        .iter()
        .map(|f| f.finding_id.as_str())
        .collect();
    assert_eq!(
        ids,
        [found[0].finding_id.as_str(), found[1].finding_id.as_str()]
    );
    assert_eq!(public[0].findings[0].case_ids, ["A2", "A1"]);

    let inside = internal
        .get_deductions(agency(internal::GetDeductionsRequest {
            region_code: HAIKOU.into(),
            year: 2026,
            hospital_code: String::new(),
            fund_type: RESIDENT,
        }))
        .await
        .expect("internal")
        .into_inner()
        .deductions;
    // The internal answer, field for field in the public messages.
    let same: Vec<pb::HospitalDeduction> = inside
        .into_iter()
        .map(|d| pb::HospitalDeduction {
            hospital_code: d.hospital_code,
            amount: d.amount,
            findings: d
                .findings
                .into_iter()
                .map(|f| pb::DeductedFinding {
                    finding_id: f.finding_id,
                    rule_id: f.rule_id,
                    case_ids: f.case_ids,
                    amount: f.amount,
                })
                .collect(),
        })
        .collect();
    assert_eq!(public, same);

    // A hospital sees its own; another hospital nothing, and not H001's when it asks.
    let own = client
        .list_deductions(hospital(ask(""), "H001"))
        .await
        .expect("own")
        .into_inner()
        .deductions;
    assert_eq!(own, public);
    let none = client
        .list_deductions(hospital(ask(""), "H002"))
        .await
        .expect("none")
        .into_inner()
        .deductions;
    assert!(none.is_empty());
    let prying = client
        .list_deductions(hospital(ask("H001"), "H002"))
        .await
        .expect_err("not H002's");
    assert_eq!(prying.code(), Code::PermissionDenied);
    assert_eq!(error_reason(&prying), "NOT_YOUR_HOSPITAL");
}

#[tokio::test]
async fn another_region_and_bad_fields_are_refused() {
    let (mut client, _) = both().await;
    let sanya = client
        .list_deductions(as_caller(ask(""), "agency-sanya", SANYA, &["read"]))
        .await
        .expect_err("Haikou is not Sanya's");
    assert_eq!(error_reason(&sanya), "REGION_OUT_OF_SCOPE");
    let bad = client
        .list_deductions(agency(pb::ListDeductionsRequest {
            year: 0,
            fund_type: 0,
            ..ask("")
        }))
        .await
        .expect_err("no year, no fund");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&bad), ["year", "fund_type"]);
}
