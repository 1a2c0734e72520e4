//! The supervision context as settlement's peer: the violation deductions (违规扣款) its
//! confirmed findings give each hospital for a clearing's region, year and fund, and each
//! hospital's score of its latest assessment (考核评价) of the region and year, over
//! `medpay.supervision.internal.v1`.
//!
//! A clearing asks once, before its transaction opens, and records what it read with the run:
//! a replay answers from the journal and never asks again. Whatever goes wrong (unreachable,
//! refused, an answer it cannot read) fails the clearing; a deduction is never taken as zero
//! because supervision did not answer.

use kernel::{Decimal, FundType, Money, Principal, RegionCode};
use medpay_proto::supervision::internal::v1 as pb;
use medpay_proto::supervision::internal::v1::supervision_internal_service_client::SupervisionInternalServiceClient;
use platform::peer::{PEER_MESSAGE_LIMIT, PeerCredentials};
use platform::wire;
use settlement_domain::assessment_scores::SupervisedScores;
use settlement_domain::violation_deductions::{DeductionFinding, SupervisedDeduction};
use tonic::transport::Channel;
use tonic::{Code, Status};

/// How a call to the supervision context failed; the clearing stored nothing and may be retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SupervisionFailure {
    /// Supervision refused the request as it stands.
    Refused,
    /// Supervision refused this caller or this service (a bad key, a region out of scope).
    Denied,
    /// Supervision could not be reached, failed, or answered what cannot be read.
    Unavailable,
}

/// What the supervision context answered instead of deductions.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("supervision context: {message}")]
pub struct SupervisionError {
    pub failure: SupervisionFailure,
    pub message: String,
}

impl SupervisionError {
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self {
            failure: SupervisionFailure::Unavailable,
            message: message.into(),
        }
    }
}

impl From<Status> for SupervisionError {
    fn from(status: Status) -> Self {
        let failure = match status.code() {
            Code::InvalidArgument | Code::FailedPrecondition | Code::NotFound => {
                SupervisionFailure::Refused
            }
            Code::PermissionDenied | Code::Unauthenticated => SupervisionFailure::Denied,
            _ => SupervisionFailure::Unavailable,
        };
        let message = match status.code() {
            // A server without the contract answers with an empty message: say what is missing.
            Code::Unimplemented => format!(
                "the peer does not serve GetDeductions or GetAssessmentScores (is \
                 peers.supervision the supervision context's internal listener?) {}",
                status.message()
            ),
            _ => status.message().to_owned(),
        };
        Self { failure, message }
    }
}

/// What settlement asks of the supervision context.
#[async_trait::async_trait]
pub trait SupervisionPeer: Send + Sync {
    /// Every hospital's violation deduction of `region` (and the regions inside it) for `year`
    /// and `fund`, with the findings behind it, asked on behalf of `principal`.
    async fn deductions(
        &self,
        principal: &Principal,
        region: RegionCode,
        year: i32,
        fund: FundType,
    ) -> Result<Vec<SupervisedDeduction>, SupervisionError>;

    /// Each hospital's score of the latest assessment run of exactly `region` and `year`
    /// (version 0 and no score when it was never assessed).
    async fn assessment_scores(
        &self,
        principal: &Principal,
        region: RegionCode,
        year: i32,
    ) -> Result<SupervisedScores, SupervisionError>;
}

/// The supervision port over the supervision context's internal gRPC service.
#[derive(Clone)]
pub struct GrpcSupervision {
    client: SupervisionInternalServiceClient<Channel>,
    credentials: PeerCredentials,
}

impl GrpcSupervision {
    /// A port over `channel`; `api_key`, when set, is sent as `authorization: Bearer`.
    pub fn new(channel: Channel, api_key: Option<&str>) -> Result<Self, String> {
        let credentials = PeerCredentials::from_api_key(api_key)?;
        Ok(Self {
            client: SupervisionInternalServiceClient::new(channel)
                .max_decoding_message_size(PEER_MESSAGE_LIMIT),
            credentials,
        })
    }
}

fn answered_money(what: &str, text: &str) -> Result<Money, SupervisionError> {
    text.parse().map_err(|e: kernel::AmountError| {
        SupervisionError::unavailable(format!(
            "supervision answered {what} {text:?}, not an amount: {e}"
        ))
    })
}

/// Supervision's answer as the domain reads it; an amount it cannot read fails the clearing.
pub fn read_deductions(
    answer: pb::GetDeductionsResponse,
) -> Result<Vec<SupervisedDeduction>, SupervisionError> {
    answer
        .deductions
        .into_iter()
        .map(|d| {
            let amount =
                answered_money(&format!("the deduction of {}", d.hospital_code), &d.amount)?;
            let findings = d
                .findings
                .into_iter()
                .map(|f| {
                    Ok(DeductionFinding {
                        amount: answered_money(&format!("finding {}", f.finding_id), &f.amount)?,
                        finding_id: f.finding_id,
                        rule_id: f.rule_id,
                        case_ids: f.case_ids,
                    })
                })
                .collect::<Result<_, SupervisionError>>()?;
            Ok(SupervisedDeduction {
                hospital_code: d.hospital_code,
                amount,
                findings,
            })
        })
        .collect()
}

/// Supervision's scores as the domain reads them; a score it cannot read, or one outside
/// 0–100, fails the clearing rather than return a deposit by a wrong score. A credit grade other
/// than A–D fails it too (a statement would print it); an empty one means no grade.
pub fn read_scores(
    answer: pb::GetAssessmentScoresResponse,
) -> Result<SupervisedScores, SupervisionError> {
    let mut scores = std::collections::BTreeMap::new();
    let mut grades = std::collections::BTreeMap::new();
    for s in answer.scores {
        match s.credit_grade.as_str() {
            "" => {}
            "A" | "B" | "C" | "D" => {
                grades.insert(s.hospital_code.clone(), s.credit_grade.clone());
            }
            other => {
                return Err(SupervisionError::unavailable(format!(
                    "supervision answered the credit grade {other:?} of {}, not one of A, B, C, D",
                    s.hospital_code
                )));
            }
        }
        let score: Decimal = s
            .score
            .trim()
            .parse()
            .ok()
            .filter(|score: &Decimal| (Decimal::ZERO..=Decimal::ONE_HUNDRED).contains(score))
            .ok_or_else(|| {
                SupervisionError::unavailable(format!(
                    "supervision answered the score {:?} of {}, not a score from 0 to 100",
                    s.score, s.hospital_code
                ))
            })?;
        scores.insert(s.hospital_code, score);
    }
    Ok(SupervisedScores {
        version: answer.version,
        scores,
        grades,
    })
}

#[async_trait::async_trait]
impl SupervisionPeer for GrpcSupervision {
    async fn deductions(
        &self,
        principal: &Principal,
        region: RegionCode,
        year: i32,
        fund: FundType,
    ) -> Result<Vec<SupervisedDeduction>, SupervisionError> {
        // The caller's principal travels with the call, so supervision scopes the answer to
        // what the caller may see.
        let request = self.credentials.request_for(
            principal,
            pb::GetDeductionsRequest {
                region_code: region.to_string(),
                year,
                hospital_code: String::new(),
                fund_type: wire::fund_type_to_wire(fund),
            },
        )?;
        let answer = self
            .client
            .clone()
            .get_deductions(request)
            .await?
            .into_inner();
        read_deductions(answer)
    }

    async fn assessment_scores(
        &self,
        principal: &Principal,
        region: RegionCode,
        year: i32,
    ) -> Result<SupervisedScores, SupervisionError> {
        let request = self.credentials.request_for(
            principal,
            pb::GetAssessmentScoresRequest {
                region_code: region.to_string(),
                year,
            },
        )?;
        let answer = self
            .client
            .clone()
            .get_assessment_scores(request)
            .await?
            .into_inner();
        read_scores(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_with_an_unreadable_amount_fails_instead_of_deducting_nothing() {
        let answer = |amount: &str| pb::GetDeductionsResponse {
            deductions: vec![pb::Deduction {
                hospital_code: "H1".into(),
                amount: amount.into(),
                findings: vec![pb::DeductionFinding {
                    finding_id: "f1".into(),
                    rule_id: "readmission_15_days".into(),
                    case_ids: vec!["L1".into()],
                    amount: amount.into(),
                }],
            }],
        };
        let read = read_deductions(answer("12.50")).expect("read");
        assert_eq!(read[0].amount.to_string(), "12.50");
        assert_eq!(read[0].findings[0].case_ids, ["L1"]);
        for bad in ["", "twelve", "12.505"] {
            let error = read_deductions(answer(bad)).expect_err(bad);
            assert_eq!(error.failure, SupervisionFailure::Unavailable);
            assert!(error.message.contains("H1"), "{error}");
        }
    }

    #[test]
    fn scores_outside_0_to_100_or_unreadable_fail_instead_of_returning_a_deposit() {
        let answer = |score: &str| pb::GetAssessmentScoresResponse {
            version: 3,
            scores: vec![pb::AssessmentScore {
                hospital_code: "H1".into(),
                score: score.into(),
                credit_grade: "B".into(),
            }],
        };
        let read = read_scores(answer("75.00")).expect("read");
        assert_eq!(read.version, 3);
        assert_eq!(read.scores["H1"].to_string(), "75.00");
        assert_eq!(read.grades["H1"], "B");
        let mut odd = answer("75.00");
        odd.scores[0].credit_grade = "E".into();
        let error = read_scores(odd).expect_err("grade E");
        assert!(error.message.contains("\"E\" of H1"), "{error}");
        for bad in ["", "seventy", "100.01", "-1"] {
            let error = read_scores(answer(bad)).expect_err(bad);
            assert_eq!(error.failure, SupervisionFailure::Unavailable);
            assert!(error.message.contains("H1"), "{error}");
        }
    }

    #[test]
    fn statuses_become_failures() {
        let denied = SupervisionError::from(Status::unauthenticated("bad key"));
        assert_eq!(denied.failure, SupervisionFailure::Denied);
        let missing = SupervisionError::from(Status::unimplemented(""));
        assert_eq!(missing.failure, SupervisionFailure::Unavailable);
        assert!(missing.message.contains("GetDeductions"));
    }
}
