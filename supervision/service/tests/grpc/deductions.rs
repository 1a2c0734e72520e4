//! GetDeductions over real gRPC: the confirmed findings of a region, year and fund, per
//! hospital with the findings behind each deduction; open and dismissed findings deduct nothing,
//! and the same violation confirmed again in a re-run deducts once.

use std::sync::Arc;

use medpay_proto::supervision::internal::v1 as internal;
use medpay_proto::supervision::internal::v1::supervision_internal_service_client::SupervisionInternalServiceClient;
use medpay_proto::supervision::v1 as pb;
use medpay_proto::supervision::v1::supervision_service_client::SupervisionServiceClient;
use platform::testing::{as_caller, serve, sqlite, violated_fields};
use supervision_service::store::SupervisionStore;
use supervision_service::{GrpcCases, Migrator, SupervisionApi, Tables};
use tonic::Code;
use tonic::transport::Channel;

use crate::screening::march_cases;
use crate::{HAIKOU, SANYA, agency, findings, haikou_policy, march, screen_request};

/// A supervision server with its public and internal services on one channel.
pub async fn both() -> (
    SupervisionServiceClient<Channel>,
    SupervisionInternalServiceClient<Channel>,
) {
    let settlement = serve(tonic::service::Routes::new(march_cases().into_server())).await;
    let api = SupervisionApi::new(
        SupervisionStore::new(sqlite::<Migrator>().await),
        Arc::new(GrpcCases::new(settlement, None).expect("case source")),
        Tables::demo().expect("demo tables"),
    )
    .with_parameters(haikou_policy());
    let channel = serve(
        tonic::service::Routes::new(api.clone().into_server())
            .add_service(api.into_internal_server()),
    )
    .await;
    (
        SupervisionServiceClient::new(channel.clone()),
        SupervisionInternalServiceClient::new(channel),
    )
}

pub fn review(request_id: &str, finding_id: &str, decision: &str) -> pb::ReviewFindingRequest {
    pb::ReviewFindingRequest {
        request_id: request_id.into(),
        region_code: HAIKOU.into(),
        finding_id: finding_id.into(),
        decision: decision.into(),
        reason: "medical record checked".into(),
    }
}

fn ask(region: &str, fund_type: i32) -> internal::GetDeductionsRequest {
    internal::GetDeductionsRequest {
        region_code: region.into(),
        year: 2026,
        hospital_code: String::new(),
        fund_type,
    }
}

/// (hospital, amount, [(finding id, rule, cases, amount)]) of each deduction.
type Summary = Vec<(String, String, Vec<(String, String, Vec<String>, String)>)>;

async fn deductions(
    client: &mut SupervisionInternalServiceClient<Channel>,
    request: internal::GetDeductionsRequest,
) -> Summary {
    client
        .get_deductions(agency(request))
        .await
        .expect("deductions")
        .into_inner()
        .deductions
        .into_iter()
        .map(|d| {
            let findings = d
                .findings
                .into_iter()
                .map(|f| (f.finding_id, f.rule_id, f.case_ids, f.amount))
                .collect();
            (d.hospital_code, d.amount, findings)
        })
        .collect()
}

pub const RESIDENT: i32 = 390;
const EMPLOYEE: i32 = 310;

#[tokio::test]
async fn confirmed_findings_are_the_deductions_of_their_fund_once_each() {
    let (mut client, mut internal) = both().await;
    client
        .screen_cases(agency(screen_request("screen-1")))
        .await
        .expect("screen");
    let found = findings(&mut client, march(0)).await;
    let (readmission, duplicate) = (&found[0], &found[1]);
    assert_eq!(readmission.fund_type, RESIDENT);
    // Nothing is decided yet: nothing is deducted.
    assert!(
        deductions(&mut internal, ask(HAIKOU, RESIDENT))
            .await
            .is_empty()
    );

    client
        .review_finding(agency(review("r1", &readmission.finding_id, "confirmed")))
        .await
        .expect("confirm");
    client
        .review_finding(agency(review("r2", &duplicate.finding_id, "dismissed")))
        .await
        .expect("dismiss");
    let expected = vec![(
        "H001".to_owned(),
        readmission.amount.clone(),
        vec![(
            readmission.finding_id.clone(),
            "readmission_15_days".to_owned(),
            vec!["A2".to_owned(), "A1".to_owned()],
            readmission.amount.clone(),
        )],
    )];
    assert_eq!(readmission.amount, "1000.00");
    assert_eq!(
        deductions(&mut internal, ask(HAIKOU, RESIDENT)).await,
        expected
    );
    // The lists are residents': the employee fund deducts nothing, nor another year.
    assert!(
        deductions(&mut internal, ask(HAIKOU, EMPLOYEE))
            .await
            .is_empty()
    );
    let last_year = internal::GetDeductionsRequest {
        year: 2025,
        ..ask(HAIKOU, RESIDENT)
    };
    assert!(deductions(&mut internal, last_year).await.is_empty());

    // A re-run finds both again; confirming both adds the duplicate charge, not the readmission
    // a second time.
    client
        .screen_cases(agency(screen_request("screen-2")))
        .await
        .expect("rerun");
    let rerun = findings(&mut client, march(2)).await;
    for (n, finding) in rerun.iter().enumerate() {
        client
            .review_finding(agency(review(
                &format!("r3-{n}"),
                &finding.finding_id,
                "confirmed",
            )))
            .await
            .expect("confirm");
    }
    let again = deductions(&mut internal, ask(HAIKOU, RESIDENT)).await;
    assert_eq!(again[0].1, "1005.00");
    let ids: Vec<&str> = again[0].2.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        ids,
        [rerun[0].finding_id.as_str(), rerun[1].finding_id.as_str()]
    );
    let one_hospital = internal::GetDeductionsRequest {
        hospital_code: "H002".into(),
        ..ask(HAIKOU, RESIDENT)
    };
    assert!(deductions(&mut internal, one_hospital).await.is_empty());
}

#[tokio::test]
async fn another_region_is_refused_and_a_bad_request_names_its_fields() {
    let (_, mut internal) = both().await;
    let sanya = internal
        .get_deductions(as_caller(
            ask(HAIKOU, RESIDENT),
            "agency-sanya",
            SANYA,
            &["run"],
        ))
        .await
        .expect_err("Haikou is not Sanya's");
    assert_eq!(sanya.code(), Code::PermissionDenied);
    let bad = internal
        .get_deductions(agency(internal::GetDeductionsRequest {
            year: 0,
            ..ask(HAIKOU, 0)
        }))
        .await
        .expect_err("no fund, no year");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&bad), ["year", "fund_type"]);
}
