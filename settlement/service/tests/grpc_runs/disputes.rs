//! Statement disputes: a hospital acts on its own statement only, the agency resolves.

use super::*;

#[tokio::test]
async fn disputes_follow_the_hospital_and_the_agency() {
    let mut server = start_seeded().await;
    let run = server
        .client
        .run_clearing(as_agency(clearing("k1", "")))
        .await
        .expect("clearing")
        .into_inner();
    let confirm = |caller: &str, hospital: &str, request_id: &str| {
        as_principal(
            pb::ConfirmStatementRequest {
                request_id: request_id.into(),
                region_code: REGION.into(),
                run_id: run.run_id.clone(),
                hospital_code: hospital.into(),
            },
            caller,
            "hospital",
        )
    };
    let denied = server
        .client
        .confirm_statement(confirm("H001", "H002", "d0"))
        .await;
    assert_eq!(refusal(denied), Code::PermissionDenied, "not its own");
    let confirmed = dispute(
        server
            .client
            .confirm_statement(confirm("H001", "H001", "d1"))
            .await,
    );
    assert_eq!(confirmed.state, "confirmed");

    let objected = dispute(
        server
            .client
            .object_to_statement(as_principal(
                pb::ObjectToStatementRequest {
                    request_id: "d2".into(),
                    region_code: REGION.into(),
                    run_id: run.run_id.clone(),
                    hospital_code: "H002".into(),
                    reasons: vec!["case L0003 valued without its special-case points".into()],
                },
                "H002",
                "hospital",
            ))
            .await,
    );
    assert_eq!(objected.state, "objected");
    let resolve = |caller: &str, role: &str, request_id: &str| {
        as_principal(
            pb::ResolveDisputeRequest {
                request_id: request_id.into(),
                region_code: REGION.into(),
                run_id: run.run_id.clone(),
                hospital_code: "H002".into(),
                resolution: "points added; corrected run follows".into(),
                upheld: true,
            },
            caller,
            role,
        )
    };
    let by_hospital = server
        .client
        .resolve_dispute(resolve("H002", "hospital", "d3"))
        .await;
    assert_eq!(refusal(by_hospital), Code::PermissionDenied, "agency only");
    let resolved = dispute(
        server
            .client
            .resolve_dispute(resolve("agency-460100", "agency", "d4"))
            .await,
    );
    assert_eq!(resolved.state, "resolved");
    let history: serde_json::Value = serde_json::from_str(&resolved.history_json).expect("json");
    assert_eq!(history.as_array().expect("steps").len(), 3);
    assert_eq!(history[2]["state"], "upheld");
    let again = server
        .client
        .confirm_statement(confirm("H001", "H001", "d5"))
        .await;
    assert_eq!(
        refusal(again),
        Code::FailedPrecondition,
        "already confirmed"
    );

    let objected_list = server
        .client
        .list_disputes(as_agency(pb::ListDisputesRequest {
            region_code: REGION.into(),
            run_id: run.run_id.clone(),
            state: "issued".into(),
        }))
        .await
        .expect("list")
        .into_inner()
        .disputes;
    assert_eq!(objected_list.len(), 1);
    assert_eq!(objected_list[0].hospital_code, "H003");
}

/// An answer that carries a statement's dispute.
trait Disputed {
    fn into_dispute(self) -> Option<pb::Dispute>;
}

macro_rules! disputed {
    ($($response:ty),*) => {$(
        impl Disputed for $response {
            fn into_dispute(self) -> Option<pb::Dispute> {
                self.dispute
            }
        }
    )*};
}

disputed!(
    pb::ConfirmStatementResponse,
    pb::ObjectToStatementResponse,
    pb::ResolveDisputeResponse
);

/// The dispute a step answered.
fn dispute<T: Disputed>(answer: Result<tonic::Response<T>, tonic::Status>) -> pb::Dispute {
    answer
        .expect("dispute step")
        .into_inner()
        .into_dispute()
        .expect("dispute")
}

/// The code a refused step was answered with.
fn refusal<T: std::fmt::Debug>(answer: Result<tonic::Response<T>, tonic::Status>) -> Code {
    answer.expect_err("refused").code()
}
