//! The `medpay.supervision.internal.v1` server: what other contexts read of supervision
//! (settlement reads each hospital's violation deductions and latest assessment score at
//! clearing). Served on the internal listener only; the principal the caller forwards is checked against the region, and every
//! finding's own region against the request's ([`supervision_domain::deductions`]).

use medpay_proto::supervision::internal::v1 as pb;
use medpay_proto::supervision::internal::v1::supervision_internal_service_server::{
    SupervisionInternalService, SupervisionInternalServiceServer,
};
use platform::principal::authorize_request;
use platform::wire;
use supervision_domain::HospitalDeduction;
use tonic::{Request, Response, Status};

use crate::deductions::hospital_deductions;
use crate::error::Error;
use crate::store::SupervisionStore;

/// The supervision internal gRPC API over its store.
#[derive(Clone)]
pub struct SupervisionInternalApi {
    store: SupervisionStore,
}

impl SupervisionInternalApi {
    pub fn new(store: SupervisionStore) -> Self {
        Self { store }
    }

    /// The tonic service to mount on the internal listener.
    pub fn into_server(self) -> SupervisionInternalServiceServer<Self> {
        SupervisionInternalServiceServer::new(self)
    }
}

fn deduction_to_wire(deduction: HospitalDeduction) -> pb::Deduction {
    pb::Deduction {
        hospital_code: deduction.hospital_code,
        amount: deduction.amount.to_string(),
        findings: deduction
            .findings
            .into_iter()
            .map(|f| pb::DeductionFinding {
                finding_id: f.finding_id,
                rule_id: f.rule.slug().to_owned(),
                case_ids: f.case_ids,
                amount: f.amount.to_string(),
            })
            .collect(),
    }
}

#[tonic::async_trait]
impl SupervisionInternalService for SupervisionInternalApi {
    async fn get_deductions(
        &self,
        request: Request<pb::GetDeductionsRequest>,
    ) -> Result<Response<pb::GetDeductionsResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let (year, fund) = match (
            wire::year("year", body.year),
            wire::fund_type("fund_type", body.fund_type),
        ) {
            (Ok(year), Ok(fund)) => (year, fund),
            (year, fund) => {
                let violations = [year.err(), fund.err()].into_iter().flatten().collect();
                return Err(Error::InvalidArgument(violations).into());
            }
        };
        let hospital = Some(body.hospital_code.trim()).filter(|code| !code.is_empty());
        let found = hospital_deductions(&self.store, (region, year, fund), hospital).await?;
        Ok(Response::new(pb::GetDeductionsResponse {
            deductions: found.into_iter().map(deduction_to_wire).collect(),
        }))
    }

    async fn get_assessment_scores(
        &self,
        request: Request<pb::GetAssessmentScoresRequest>,
    ) -> Result<Response<pb::GetAssessmentScoresResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let year = wire::year("year", request.get_ref().year)
            .map_err(|violation| Error::InvalidArgument(vec![violation]))?;
        // The run of exactly this region: a prefecture's clearing reads the prefecture's
        // assessment, never a county's or the province's.
        let Some(run) = self
            .store
            .assessment_run(region, year, None)
            .await
            .map_err(Error::from)?
        else {
            return Ok(Response::new(pb::GetAssessmentScoresResponse::default()));
        };
        let scores = self
            .store
            .assessments(&run, None)
            .await
            .map_err(Error::from)?
            .into_iter()
            .map(|a| pb::AssessmentScore {
                hospital_code: a.hospital_code,
                score: crate::assessment::convert::score_text(a.score),
                credit_grade: a.credit_grade.as_str().to_owned(),
            })
            .collect();
        Ok(Response::new(pb::GetAssessmentScoresResponse {
            version: run.version,
            scores,
        }))
    }
}
