//! The `medpay.supervision.v1.SupervisionAssessmentService` server: scorecards per region and
//! year, assessment runs (each hospital's monitoring indicators of the year folded from the
//! lists settlement streams, as `GetIndicators` computes them, and its confirmed findings, each
//! violation once, as the deductions count them), credit grades with their history, and leads.
//! Writes go through the journal ([`crate::assessment_store`]).

pub mod convert;

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;

use kernel::{FundType, Money, Principal, RegionCode, Role, YearMonth};
use medpay_proto::supervision::v1 as pb;
use medpay_proto::supervision::v1::supervision_assessment_service_server::{
    SupervisionAssessmentService, SupervisionAssessmentServiceServer,
};
use platform::journal::{Call, Once};
use platform::principal::authorize_request;
use platform::status::{permission_denied, storage_failure};
use platform::wire;
use prost::Message;
use supervision_domain::assessment::{HospitalFacts, read_scorecard};
use supervision_domain::credit::CreditPolicy;
use supervision_domain::monitoring::{Breakdown, Indicators, Monitor};
use supervision_domain::{EarlierCosts, InpatientList, ParameterBook, Tables};
use tonic::{Request, Response, Status};

use crate::assessment_store::{NewLead, StoredAssessmentRun};
use crate::cases::{CaseSource, CaseSourceError};
use crate::deductions::hospital_deductions;
use crate::error::Error;
use crate::store::SupervisionStore;
use convert::{
    assessment_to_store, assessment_to_wire, credit_change_to_wire, credit_policy_of,
    credit_policy_to_wire, lead_request, lead_to_wire, required, run_to_wire, scorecard_of,
    scorecard_to_wire, year,
};

/// The assessment API over the store and the cases settlement streams.
#[derive(Clone)]
pub struct SupervisionAssessmentApi {
    store: SupervisionStore,
    cases: Arc<dyn CaseSource>,
    tables: Arc<Tables>,
    book: Arc<ParameterBook>,
    credit: CreditPolicy,
}

fn answer<M: Message + Default>(once: &Once) -> Result<Response<M>, Status> {
    M::decode(once.response())
        .map(Response::new)
        .map_err(storage_failure)
}

/// The hospital a caller with the hospital role is held to: refused when it names another.
fn own_hospital(principal: &Principal, asked: &str) -> Result<(), Status> {
    if principal.holds(Role::Hospital) && !principal.may_reach_institution(asked) {
        return Err(permission_denied(
            "NOT_YOUR_HOSPITAL",
            format!(
                "hospital {} may not read hospital {asked}",
                principal.caller_id
            ),
        ));
    }
    Ok(())
}

/// A version asked for: 0 is the latest.
fn version(value: i32) -> Result<Option<i32>, Error> {
    match value {
        0 => Ok(None),
        v if v > 0 => Ok(Some(v)),
        v => Err(Error::InvalidArgument(vec![(
            "version".to_owned(),
            format!("{v} is negative: 0 is the latest, versions count from 1"),
        )])),
    }
}

impl SupervisionAssessmentApi {
    /// Assessments with the domain's default screening parameters (readmission window,
    /// low-risk threshold) and, for a region-year without a credit policy put, the default
    /// credit thresholds; group weights and means from `tables`.
    pub fn new(store: SupervisionStore, cases: Arc<dyn CaseSource>, tables: Tables) -> Self {
        Self {
            store,
            cases,
            tables: Arc::new(tables),
            book: Arc::new(ParameterBook::default()),
            credit: CreditPolicy::default(),
        }
    }

    /// The tonic service to mount on a server.
    pub fn into_server(self) -> SupervisionAssessmentServiceServer<Self> {
        SupervisionAssessmentServiceServer::new(self)
    }

    /// Every hospital's indicators of the year, both funds, with the same months a year earlier
    /// for the growth rates.
    async fn year_indicators(
        &self,
        principal: &Principal,
        region: RegionCode,
        year: i32,
    ) -> Result<Indicators, Error> {
        let parameters = self.book.policy_for(region, year).parameters;
        let mut monitor = Monitor::new(&self.tables, &parameters, Breakdown::Hospital);
        let months: Vec<YearMonth> = (1..=12)
            .filter_map(|month| YearMonth::new(year, month).ok())
            .collect();
        // Each month is read on a task of its own, the next one while this one is folded, so
        // that reading (settlement's ledger, the lists' JSON) takes both cores; the lists are
        // folded in month order, as one month after the other.
        let mut reads = futures::stream::iter(months)
            .map(|month| {
                let (cases, principal) = (Arc::clone(&self.cases), principal.clone());
                tokio::spawn(
                    async move { month_read(cases.as_ref(), &principal, region, month).await },
                )
            })
            .buffered(MONTHS_READ_AT_ONCE);
        while let Some(read) = reads.next().await {
            let (lists, earlier) = read.map_err(|stopped| {
                CaseSourceError::Unavailable(format!("reading a month's cases stopped: {stopped}"))
            })??;
            for list in &lists {
                monitor.add(list);
            }
            for costs in &earlier {
                monitor.add_previous_year(costs);
            }
        }
        Ok(monitor.finish())
    }

    /// Each hospital's facts: its indicators and its confirmed findings of both funds.
    async fn facts(
        &self,
        principal: &Principal,
        region: RegionCode,
        year: i32,
    ) -> Result<BTreeMap<String, HospitalFacts>, Error> {
        let table = self.year_indicators(principal, region, year).await?;
        let mut facts: BTreeMap<String, HospitalFacts> = BTreeMap::new();
        for row in table.rows {
            if row.key.hospital.is_empty() {
                continue;
            }
            let entry = facts.entry(row.key.hospital.clone()).or_default();
            entry.hospital_code = row.key.hospital.clone();
            entry.indicators = row.figures.iter().map(|f| (f.code, f.value)).collect();
        }
        for fund in [FundType::Employee, FundType::Resident] {
            for deduction in hospital_deductions(&self.store, (region, year, fund), None).await? {
                let entry = facts
                    .entry(deduction.hospital_code.clone())
                    .or_insert_with(|| HospitalFacts {
                        hospital_code: deduction.hospital_code.clone(),
                        ..HospitalFacts::default()
                    });
                entry.confirmed_findings += u32::try_from(deduction.findings.len()).unwrap_or(0);
                entry.confirmed_amount += deduction.amount;
            }
        }
        Ok(facts)
    }

    async fn run_of(
        &self,
        region: RegionCode,
        year: i32,
        version: Option<i32>,
    ) -> Result<StoredAssessmentRun, Error> {
        self.store
            .assessment_run(region, year, version)
            .await?
            .ok_or_else(|| {
                Error::NotFound(match version {
                    None => format!("no assessment run of {region} for {year}"),
                    Some(v) => format!("no assessment run v{v} of {region} for {year}"),
                })
            })
    }
}

/// Months of the assessed year read at once ([`SupervisionAssessmentApi::year_indicators`]).
const MONTHS_READ_AT_ONCE: usize = 2;

/// The lists of `month` as the monitoring reads them, and the costs of the same month a year
/// earlier.
async fn month_read(
    cases: &dyn CaseSource,
    principal: &Principal,
    region: RegionCode,
    month: YearMonth,
) -> Result<(Vec<InpatientList>, Vec<EarlierCosts>), Error> {
    let mut lists = Vec::new();
    cases
        .each_monitored_list(principal, region, month, &mut |list| lists.push(list))
        .await?;
    let mut earlier = Vec::new();
    if let Ok(before) = YearMonth::new(month.year() - 1, month.month()) {
        cases
            .each_earlier_costs(principal, region, before, &mut |costs| earlier.push(costs))
            .await?;
    }
    Ok((lists, earlier))
}

#[tonic::async_trait]
impl SupervisionAssessmentService for SupervisionAssessmentApi {
    async fn put_scorecard(
        &self,
        request: Request<pb::PutScorecardRequest>,
    ) -> Result<Response<pb::PutScorecardResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let (year, scorecard) = scorecard_of(&body)?;
        let call = Call::by(&principal, &body.request_id, "PutScorecard", &body, region);
        let once = self
            .store
            .put_scorecard(
                &call,
                (region, year),
                scorecard.to_json(),
                principal.caller_id.clone(),
                |stored| {
                    pb::PutScorecardResponse {
                        scorecard: Some(scorecard_to_wire(stored)),
                    }
                    .encode_to_vec()
                },
            )
            .await
            .map_err(Error::from)?;
        answer(&once)
    }

    async fn get_scorecard(
        &self,
        request: Request<pb::GetScorecardRequest>,
    ) -> Result<Response<pb::GetScorecardResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let year = year(request.get_ref().year)?;
        let stored = self
            .store
            .latest_scorecard(region, year)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| Error::NotFound(format!("no scorecard of {region} for {year}")))?;
        Ok(Response::new(pb::GetScorecardResponse {
            scorecard: Some(scorecard_to_wire(&stored)),
        }))
    }

    async fn put_credit_policy(
        &self,
        request: Request<pb::PutCreditPolicyRequest>,
    ) -> Result<Response<pb::PutCreditPolicyResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let (year, policy) = credit_policy_of(&body)?;
        let call = Call::by(
            &principal,
            &body.request_id,
            "PutCreditPolicy",
            &body,
            region,
        );
        let once = self
            .store
            .put_credit_policy(
                &call,
                (region, year),
                policy,
                principal.caller_id.clone(),
                move |stored| {
                    pb::PutCreditPolicyResponse {
                        policy: Some(credit_policy_to_wire((region, year), Some(stored))),
                    }
                    .encode_to_vec()
                },
            )
            .await
            .map_err(Error::from)?;
        answer(&once)
    }

    async fn get_credit_policy(
        &self,
        request: Request<pb::GetCreditPolicyRequest>,
    ) -> Result<Response<pb::GetCreditPolicyResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let year = year(request.get_ref().year)?;
        let stored = self
            .store
            .latest_credit_policy(region, year)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(pb::GetCreditPolicyResponse {
            policy: Some(credit_policy_to_wire((region, year), stored.as_ref())),
        }))
    }

    async fn run_assessment(
        &self,
        request: Request<pb::RunAssessmentRequest>,
    ) -> Result<Response<pb::RunAssessmentResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let year = year(body.year)?;
        let call = Call::by(&principal, &body.request_id, "RunAssessment", &body, region);
        // A retry answers from the journal without reading the ledger again.
        if let Some(stored) = self.store.replay(&call).await.map_err(Error::from)? {
            return pb::RunAssessmentResponse::decode(stored.as_slice())
                .map(Response::new)
                .map_err(storage_failure);
        }
        let stored_card = self
            .store
            .latest_scorecard(region, year)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| Error::NoScorecard {
                region: region.to_string(),
                year,
            })?;
        let scorecard = read_scorecard(&stored_card.scorecard_json).map_err(|problems| {
            storage_failure(format!(
                "stored scorecard v{} of {region} {year} is unreadable: {problems:?}",
                stored_card.version
            ))
        })?;
        let stored_policy = self
            .store
            .latest_credit_policy(region, year)
            .await
            .map_err(Error::from)?;
        let credit = stored_policy.as_ref().map_or(self.credit, |p| p.policy);
        let facts = self.facts(&principal, region, year).await?;
        let assessments: Vec<_> = scorecard
            .assess_all(facts.values())
            .into_iter()
            .map(|assessment| {
                let (confirmed, amount) = facts
                    .get(&assessment.hospital_code)
                    .map_or((0, Money::ZERO), |f| {
                        (f.confirmed_findings, f.confirmed_amount)
                    });
                let grade = credit.grade(assessment.score, confirmed).grade;
                assessment_to_store(assessment, confirmed, amount, grade)
            })
            .collect();
        let run = StoredAssessmentRun {
            region,
            year,
            version: 0,
            scorecard_version: stored_card.version,
            hospitals: u32::try_from(assessments.len()).unwrap_or(u32::MAX),
            run_by: principal.caller_id.clone(),
            credit_policy_version: stored_policy.map_or(0, |p| p.version),
        };
        let once = self
            .store
            .record_assessment(&call, run, assessments, credit, |run, changes| {
                pb::RunAssessmentResponse {
                    run: Some(run_to_wire(run)),
                    credit_changes: changes.iter().map(credit_change_to_wire).collect(),
                }
                .encode_to_vec()
            })
            .await
            .map_err(Error::from)?;
        answer(&once)
    }

    async fn get_assessment(
        &self,
        request: Request<pb::GetAssessmentRequest>,
    ) -> Result<Response<pb::GetAssessmentResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let hospital = required("hospital_code", &body.hospital_code)
            .map_err(|v| Error::InvalidArgument(vec![v]))?;
        own_hospital(&principal, &hospital)?;
        let run = self
            .run_of(region, year(body.year)?, version(body.version)?)
            .await?;
        let assessment = self
            .store
            .assessments(&run, Some(&hospital))
            .await
            .map_err(Error::from)?
            .into_iter()
            .next()
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "hospital {hospital} is not in assessment v{} of {region} {}",
                    run.version, run.year
                ))
            })?;
        Ok(Response::new(pb::GetAssessmentResponse {
            run: Some(run_to_wire(&run)),
            assessment: Some(assessment_to_wire(&assessment)),
        }))
    }

    async fn list_assessments(
        &self,
        request: Request<pb::ListAssessmentsRequest>,
    ) -> Result<Response<pb::ListAssessmentsResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let run = self
            .run_of(region, year(body.year)?, version(body.version)?)
            .await?;
        let own = principal
            .holds(Role::Hospital)
            .then(|| principal.institution.clone().unwrap_or_default());
        let assessments = self
            .store
            .assessments(&run, own.as_deref())
            .await
            .map_err(Error::from)?;
        Ok(Response::new(pb::ListAssessmentsResponse {
            run: Some(run_to_wire(&run)),
            assessments: assessments.iter().map(assessment_to_wire).collect(),
        }))
    }

    async fn get_credit(
        &self,
        request: Request<pb::GetCreditRequest>,
    ) -> Result<Response<pb::GetCreditResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let hospital = required("hospital_code", &request.get_ref().hospital_code)
            .map_err(|v| Error::InvalidArgument(vec![v]))?;
        own_hospital(&principal, &hospital)?;
        let history = self
            .store
            .credit_history(region, &hospital)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(pb::GetCreditResponse {
            grade: history
                .last()
                .map_or("", |c| c.change.to.as_str())
                .to_owned(),
            history: history.iter().map(credit_change_to_wire).collect(),
        }))
    }

    async fn record_lead(
        &self,
        request: Request<pb::RecordLeadRequest>,
    ) -> Result<Response<pb::RecordLeadResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let (channel, received_on, hospital_code, summary) = lead_request(&body, wire::today())?;
        let call = Call::by(&principal, &body.request_id, "RecordLead", &body, region);
        let once = self
            .store
            .record_lead(
                &call,
                NewLead {
                    region,
                    channel,
                    received_on,
                    hospital_code,
                    summary,
                    recorded_by: principal.caller_id.clone(),
                },
                |lead| {
                    pb::RecordLeadResponse {
                        lead: Some(lead_to_wire(lead)),
                    }
                    .encode_to_vec()
                },
            )
            .await
            .map_err(Error::from)?;
        answer(&once)
    }

    async fn list_leads(
        &self,
        request: Request<pb::ListLeadsRequest>,
    ) -> Result<Response<pb::ListLeadsResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let hospital = Some(request.get_ref().hospital_code.trim()).filter(|h| !h.is_empty());
        let leads = self
            .store
            .leads(region, hospital)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(pb::ListLeadsResponse {
            leads: leads.iter().map(lead_to_wire).collect(),
        }))
    }

    async fn link_lead_to_finding(
        &self,
        request: Request<pb::LinkLeadToFindingRequest>,
    ) -> Result<Response<pb::LinkLeadToFindingResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let (lead_id, finding_id) = match (
            required("lead_id", &body.lead_id),
            required("finding_id", &body.finding_id),
        ) {
            (Ok(lead), Ok(finding)) => (lead, finding),
            (lead, finding) => {
                let violations = [lead.err(), finding.err()].into_iter().flatten().collect();
                return Err(Error::InvalidArgument(violations).into());
            }
        };
        let call = Call::by(
            &principal,
            &body.request_id,
            "LinkLeadToFinding",
            &body,
            region,
        );
        let once = self
            .store
            .link_lead(
                &call,
                region,
                (lead_id, finding_id),
                principal.caller_id.clone(),
                |lead| {
                    pb::LinkLeadToFindingResponse {
                        lead: Some(lead_to_wire(lead)),
                    }
                    .encode_to_vec()
                },
            )
            .await
            .map_err(Error::from)?;
        answer(&once)
    }
}
