//! The one status mapping: a domain refusal answers with one code per kind wherever it comes
//! from, and a budget failure keeps its meaning.

use settlement_domain::SettlementError;
use settlement_service::budget_peer::BudgetError;
use settlement_service::status::{budget, refused};
use tonic::{Code, Status};

#[test]
fn a_dispute_step_and_a_review_step_out_of_turn_answer_alike() {
    let dispute = SettlementError::DisputeTransition {
        statement_id: "R/H".into(),
        action: "confirm",
        state: "confirmed",
    };
    let review = SettlementError::IllegalTransition {
        application_id: "SC-1".into(),
        action: "bind",
        state: "applied",
    };
    assert_eq!(refused(&dispute).code(), Code::FailedPrecondition);
    assert_eq!(refused(&review).code(), Code::FailedPrecondition);
    let objection = SettlementError::ObjectionWithoutReason {
        statement_id: "R/H".into(),
    };
    let material = SettlementError::NoMaterial {
        application_id: "SC-1".into(),
    };
    assert_eq!(refused(&objection).code(), Code::InvalidArgument);
    assert_eq!(refused(&material).code(), Code::InvalidArgument);
}

#[test]
fn budget_failures_keep_their_meaning() {
    let status = budget(BudgetError::from(Status::not_found("no budget")));
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(status.message().contains("no budget"));
    let status = budget(BudgetError::from(Status::unauthenticated("key")));
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = budget(BudgetError::from(Status::internal("down")));
    assert_eq!(status.code(), Code::Unavailable);
}
