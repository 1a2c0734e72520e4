//! The points context as the outpatient year end's valuer (`ValueOutpatient` of
//! `medpay.points.internal.v1`): the per-capita and chronic-disease budgets of the enrolled
//! institutions and the APG points of each ordinary visit are points' rules, asked once before the
//! run's transaction opens.

use std::collections::BTreeMap;

use kernel::{Date, FundType, Principal, RegionCode};
use medpay_proto::points::internal::v1 as pb;
use medpay_proto::points::internal::v1::points_internal_service_client::PointsInternalServiceClient;
use platform::peer::{PEER_MESSAGE_LIMIT, PeerCredentials};
use platform::wire;
use settlement_domain::outpatient_clearing::{InstitutionBudget, OutpatientEnrolment};
use tonic::transport::Channel;
use tonic::{Code, Status};

/// How a call to the points context failed; whatever it was, the run stored nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PointsFailure {
    /// Points refused the request as it stands (bad enrolment figures).
    Refused,
    /// Points refused this caller or this service.
    Denied,
    /// Points could not be reached or failed.
    Unavailable,
}

/// What the points context answered instead of valuations.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("points context: {message}")]
pub struct PointsError {
    pub failure: PointsFailure,
    pub message: String,
}

impl From<Status> for PointsError {
    fn from(status: Status) -> Self {
        let failure = match status.code() {
            Code::InvalidArgument | Code::FailedPrecondition | Code::NotFound => {
                PointsFailure::Refused
            }
            Code::PermissionDenied | Code::Unauthenticated => PointsFailure::Denied,
            _ => PointsFailure::Unavailable,
        };
        Self {
            failure,
            message: status.message().to_owned(),
        }
    }
}

fn unreadable(what: String) -> PointsError {
    PointsError {
        failure: PointsFailure::Unavailable,
        message: format!("points answered {what}"),
    }
}

/// An ordinary visit to value: its key, date, diagnosis and procedures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VisitToValue {
    pub hospital_code: String,
    pub list_id: String,
    pub date: Date,
    pub principal_diagnosis: String,
    pub procedures: Vec<String>,
}

/// One visit's answer: its points and the table version, or why it could not be valued.
pub type VisitAnswer = Result<(kernel::Points, String), String>;

/// What the outpatient year end asks of the points context.
#[async_trait::async_trait]
pub trait OutpatientValuer: Send + Sync {
    /// Budgets by institution code, and one answer per visit in input order.
    async fn value(
        &self,
        principal: &Principal,
        (region, year, fund): (RegionCode, i32, FundType),
        enrolment: &OutpatientEnrolment,
        visits: &[VisitToValue],
    ) -> Result<(BTreeMap<String, InstitutionBudget>, Vec<VisitAnswer>), PointsError>;
}

/// The valuer over the points context's internal gRPC service.
#[derive(Clone)]
pub struct GrpcOutpatientValuer {
    client: PointsInternalServiceClient<Channel>,
    credentials: PeerCredentials,
}

impl GrpcOutpatientValuer {
    /// A valuer over `channel`; `api_key`, when set, is sent as `authorization: Bearer`.
    pub fn new(channel: Channel, api_key: Option<&str>) -> Result<Self, String> {
        Ok(Self {
            client: PointsInternalServiceClient::new(channel)
                .max_decoding_message_size(PEER_MESSAGE_LIMIT)
                .max_encoding_message_size(PEER_MESSAGE_LIMIT),
            credentials: PeerCredentials::from_api_key(api_key)?,
        })
    }
}

fn request(
    (region, year, fund): (RegionCode, i32, FundType),
    enrolment: &OutpatientEnrolment,
    visits: &[VisitToValue],
) -> pb::ValueOutpatientRequest {
    pb::ValueOutpatientRequest {
        region_code: region.to_string(),
        year,
        fund_type: wire::fund_type_to_wire(fund),
        per_capita: enrolment
            .primary
            .iter()
            .map(|p| pb::PerCapitaEnrolment {
                hospital_code: p.hospital_code.clone(),
                enrolled_persons: i64::try_from(p.enrolled_persons).unwrap_or(i64::MAX),
                rate_per_head: Some(wire::money_to_wire(p.rate_per_head)),
                referrals_out: Some(wire::money_to_wire(p.referrals_out)),
            })
            .collect(),
        chronic: enrolment
            .chronic
            .iter()
            .map(|c| pb::ChronicDiseaseEnrolment {
                hospital_code: c.hospital_code.clone(),
                disease_code: c.disease_code.clone(),
                patients: i64::try_from(c.patients).unwrap_or(i64::MAX),
                rate_per_patient: Some(wire::money_to_wire(c.rate_per_patient)),
            })
            .collect(),
        visits: visits
            .iter()
            .map(|v| pb::OutpatientVisitForValuation {
                visit_id: format!("{}/{}", v.hospital_code, v.list_id),
                visit_date: Some(wire::wire_date(v.date)),
                principal_diagnosis: v.principal_diagnosis.clone(),
                procedure_codes: v.procedures.clone(),
            })
            .collect(),
    }
}

#[async_trait::async_trait]
impl OutpatientValuer for GrpcOutpatientValuer {
    async fn value(
        &self,
        principal: &Principal,
        key: (RegionCode, i32, FundType),
        enrolment: &OutpatientEnrolment,
        visits: &[VisitToValue],
    ) -> Result<(BTreeMap<String, InstitutionBudget>, Vec<VisitAnswer>), PointsError> {
        let body = request(key, enrolment, visits);
        let answer = self
            .client
            .clone()
            .value_outpatient(
                self.credentials
                    .request_for(principal, body)
                    .map_err(PointsError::from)?,
            )
            .await?
            .into_inner();
        let mut budgets = BTreeMap::new();
        for budget in answer.budgets {
            let read = |field: &str, value| {
                wire::money(field, value).map_err(|(f, why)| {
                    unreadable(format!("{f} of {}: {why}", budget.hospital_code))
                })
            };
            let per_capita = read("per_capita_budget", budget.per_capita_budget.as_ref())?;
            let chronic = read("chronic_budget", budget.chronic_budget.as_ref())?;
            budgets.insert(
                budget.hospital_code.clone(),
                InstitutionBudget {
                    per_capita_budget: per_capita,
                    chronic_budget: chronic,
                },
            );
        }
        if answer.visits.len() != visits.len() {
            return Err(unreadable(format!(
                "{} visit answers for {} visits",
                answer.visits.len(),
                visits.len()
            )));
        }
        let mut answers = Vec::with_capacity(visits.len());
        for visit in answer.visits {
            if !visit.error.is_empty() {
                answers.push(Err(visit.error));
                continue;
            }
            let points = wire::points("points", visit.points.as_ref())
                .map_err(|(_, why)| unreadable(format!("points of {}: {why}", visit.visit_id)))?;
            answers.push(Ok((points, visit.table_version)));
        }
        Ok((budgets, answers))
    }
}
