//! The `medpay.supervision.v1` server: scope checks, then the rule library, screening runs over
//! the cases settlement streams, and findings with their reviews. Requests are read in
//! [`crate::convert`]; failures become statuses in [`crate::error`].

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use kernel::{FundType, Principal, RegionCode, YearMonth};
use medpay_proto::supervision::internal::v1::supervision_internal_service_server::SupervisionInternalServiceServer as InternalServer;
use medpay_proto::supervision::v1 as pb;
use medpay_proto::supervision::v1::supervision_service_server::SupervisionService;
use platform::journal::{Call, Once};
use platform::paging::KeysetPage;
use platform::principal::authorize_request;
use platform::status::storage_failure;
use prost::Message;
use supervision_domain::rules::ambulatory::{first_relevant_day, retain_relevant};
use supervision_domain::{
    AmbulatorySettlement, InpatientList, ParameterBook, RuleId, ScreeningInput, ScreeningPolicy,
    SettlementKey, Subject, Tables, screen,
};
use tonic::{Request, Response, Status};

use crate::cases::CaseSource;
use crate::changes::rule_with_history;
use crate::convert::{
    FindingsQuery, ReviewRequest, finding_to_store, finding_to_wire, policy_year, rule_from_text,
    rule_to_wire, screened_month,
};
use crate::error::Error;
use crate::internal::SupervisionInternalApi;
use crate::store::{Review, StoredFinding, StoredRun, SupervisionStore};

/// The full names the page tokens of the lists are bound to.
const LIST_RULES: &str = "/medpay.supervision.v1.SupervisionService/ListRules";
const LIST_FINDINGS: &str = "/medpay.supervision.v1.SupervisionService/ListFindings";

/// The tracing target of each screening run's phase timings: reading the cases, running the
/// rules, storing the findings (fields `reading_s`, `rules_s`, `storing_s`, in seconds).
pub const SCREENING_PHASES: &str = "medpay_supervision_screening";

/// Rules that pair a stay with the one before it: they also read the month before the period,
/// so that a readmission across the month boundary is found. They are the only rules that read
/// that month, and they read its lists without their fee lines
/// ([`CaseSource::earlier_month_cases`]): a rule added here must not read the earlier stay's
/// lines.
const PAIR_RULES: [RuleId; 3] = [
    RuleId::SplitAdmission,
    RuleId::Readmission15Days,
    RuleId::SameDayReadmission,
];

/// The supervision gRPC API over its store and the cases settlement streams.
#[derive(Clone)]
pub struct SupervisionApi {
    pub(crate) store: SupervisionStore,
    cases: Arc<dyn CaseSource>,
    pub(crate) book: Arc<ParameterBook>,
    tables: Arc<Tables>,
}

impl SupervisionApi {
    /// An API screening with the domain's defaults (no region's parameter sets) and `tables`.
    pub fn new(store: SupervisionStore, cases: Arc<dyn CaseSource>, tables: Tables) -> Self {
        Self {
            store,
            cases,
            book: Arc::new(ParameterBook::default()),
            tables: Arc::new(tables),
        }
    }

    /// Screens with the regions' parameter sets of `book`.
    pub fn with_parameters(mut self, book: ParameterBook) -> Self {
        self.book = Arc::new(book);
        self
    }

    /// The tonic service to mount on a server.
    pub fn into_server(self) -> pb::supervision_service_server::SupervisionServiceServer<Self> {
        pb::supervision_service_server::SupervisionServiceServer::new(self)
    }

    /// The internal service (violation deductions for settlement) over the same store, to mount
    /// on the internal listener.
    pub fn into_internal_server(self) -> InternalServer<SupervisionInternalApi> {
        SupervisionInternalApi::new(self.store).into_server()
    }

    /// The cases a run of `month` screens: the month's lists, those of the month before (for the
    /// rules across stays) and, when rule 7 or 8 is enabled, the ambulatory settlements of the
    /// patients of the month's stays from a lookback before the earliest admission on (months
    /// before the one before are read for their ambulatory settlements only).
    async fn screening_cases(
        &self,
        principal: &Principal,
        region: RegionCode,
        month: YearMonth,
        policy: &ScreeningPolicy,
    ) -> Result<
        (
            Vec<InpatientList>,
            Vec<InpatientList>,
            Vec<AmbulatorySettlement>,
        ),
        Status,
    > {
        let ambulatory_rules = [RuleId::CostsMovedToOutpatient, RuleId::AmbulatoryDuringStay]
            .iter()
            .any(|rule| policy.is_enabled(*rule));
        if !ambulatory_rules {
            let current = self
                .cases
                .inpatient_lists(principal, region, month)
                .await
                .map_err(Error::from)?;
            let earlier = self
                .cases
                .earlier_month_cases(principal, region, month.previous(), false)
                .await
                .map_err(Error::from)?;
            return Ok((current, earlier.lists, Vec::new()));
        }
        let current = self
            .cases
            .month_cases(principal, region, month)
            .await
            .map_err(Error::from)?;
        let earlier = self
            .cases
            .earlier_month_cases(principal, region, month.previous(), true)
            .await
            .map_err(Error::from)?;
        let mut ambulatory = current.ambulatory;
        ambulatory.extend(earlier.ambulatory);
        retain_relevant(&mut ambulatory, &current.lists);
        if let Some(first) = first_relevant_day(&current.lists, &policy.parameters) {
            let (year, number, _) = first.ymd();
            let first = YearMonth::new(year, number).map_err(storage_failure)?;
            let mut reading = month.previous().previous();
            while reading >= first {
                let mut more = self
                    .cases
                    .ambulatory_settlements(principal, region, reading)
                    .await
                    .map_err(Error::from)?;
                retain_relevant(&mut more, &current.lists);
                ambulatory.extend(more);
                reading = reading.previous();
            }
        }
        Ok((current.lists, earlier.lists, ambulatory))
    }

    fn parameters_json(policy: &ScreeningPolicy) -> Result<String, Status> {
        serde_json::to_string(&policy.parameters).map_err(storage_failure)
    }
}

/// A month's findings in the run's order, numbered from 1, ready to store: the rules of one stay
/// over the month's lists (and `ambulatory`), and the rules across stays over them with the
/// month before, keeping their findings on the month's lists.
fn screen_month(
    (current, earlier, ambulatory): (
        Vec<InpatientList>,
        Vec<InpatientList>,
        Vec<AmbulatorySettlement>,
    ),
    tables: &Tables,
    policy: &ScreeningPolicy,
    (region, month): (RegionCode, YearMonth),
) -> Vec<StoredFinding> {
    let mut period_policy = policy.clone();
    let mut pair_policy = policy.clone();
    for rule in RuleId::ALL {
        if PAIR_RULES.contains(rule) {
            period_policy.enabled.remove(rule);
        } else {
            pair_policy.enabled.remove(rule);
        }
    }
    let period_input = ScreeningInput {
        lists: current,
        ambulatory,
        ..ScreeningInput::default()
    };
    let mut findings = screen(&period_input, tables, &period_policy);
    let mut with_earlier = period_input;
    let screened_count = with_earlier.lists.len();
    with_earlier.lists.extend(earlier);
    let screened: HashSet<&SettlementKey> = with_earlier.lists[..screened_count]
        .iter()
        .map(|list| &list.key)
        .collect();
    findings.extend(
        screen(&with_earlier, tables, &pair_policy)
            .into_iter()
            .filter(|finding| match &finding.subject {
                Subject::Settlement(key) => screened.contains(key),
                Subject::Hospital(_) => true,
            }),
    );
    findings.sort();
    // What a finding deducts from: the fund and region of the list it is on (a key in both
    // months reads as the month before's, as it always has).
    let cases: HashMap<&SettlementKey, (FundType, RegionCode)> = with_earlier
        .lists
        .iter()
        .map(|list| (&list.key, (list.fund_type, list.pooling_region)))
        .collect();
    findings
        .into_iter()
        .zip(1..)
        .map(|(finding, seq)| {
            let case = match &finding.subject {
                Subject::Settlement(key) => cases.get(key).copied(),
                Subject::Hospital(_) => None,
            };
            finding_to_store(finding, (region, month), case, seq)
        })
        .collect()
}

fn decode<M: Message + Default>(bytes: &[u8]) -> Result<M, Status> {
    M::decode(bytes).map_err(storage_failure)
}

fn answer<M: Message + Default>(once: &Once) -> Result<Response<M>, Status> {
    Ok(Response::new(decode(once.response())?))
}

#[tonic::async_trait]
impl SupervisionService for SupervisionApi {
    async fn list_rules(
        &self,
        request: Request<pb::ListRulesRequest>,
    ) -> Result<Response<pb::ListRulesResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let page = KeysetPage::<u8>::for_request(LIST_RULES, body, |r| {
            (&mut r.page_size, &mut r.page_token)
        })?;
        let (policy, _) = self.policy(region, policy_year(body.year)?).await?;
        let parameters = Self::parameters_json(&policy)?;
        // The catalogue in rule-number order, keyed by the number.
        let mut catalogue: Vec<RuleId> = RuleId::ALL.to_vec();
        catalogue.sort_by_key(|rule| rule.number());
        let after = page.after.unwrap_or(0);
        let rules: Vec<RuleId> = catalogue
            .into_iter()
            .filter(|rule| rule.number() > after)
            .take(usize::try_from(page.fetch_limit()).unwrap_or(usize::MAX))
            .collect();
        let (rules, next_page_token) = page.finish(rules, |rule| rule.number());
        let rules: Vec<pb::Rule> = rules
            .into_iter()
            .map(|rule| rule_to_wire(rule, &policy, &parameters))
            .collect();
        Ok(Response::new(pb::ListRulesResponse {
            rules,
            next_page_token,
        }))
    }

    async fn get_rule(
        &self,
        request: Request<pb::GetRuleRequest>,
    ) -> Result<Response<pb::GetRuleResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let rule = rule_from_text(&body.rule_id)
            .ok_or_else(|| Error::NotFound(format!("no rule {:?} in the library", body.rule_id)))?;
        let (policy, changes) = self.policy(region, policy_year(body.year)?).await?;
        Ok(Response::new(pb::GetRuleResponse {
            rule: Some(rule_with_history(rule, &policy, &changes, region)?),
        }))
    }

    async fn screen_cases(
        &self,
        request: Request<pb::ScreenCasesRequest>,
    ) -> Result<Response<pb::ScreenCasesResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let month = screened_month(&body)?;
        let call = Call::by(&principal, &body.request_id, "ScreenCases", &body, region);
        // A retry answers from the journal without reading the ledger again.
        if let Some(stored) = self.store.replay(&call).await.map_err(Error::from)? {
            return Ok(Response::new(decode(&stored)?));
        }

        let (policy, _) = self.policy(region, month.year()).await?;
        let reading = Instant::now();
        let (current, earlier, ambulatory) = self
            .screening_cases(&principal, region, month, &policy)
            .await?;
        let reading = reading.elapsed();
        let rules = Instant::now();
        let screened_cases = u32::try_from(current.len()).unwrap_or(u32::MAX);
        let tables = Arc::clone(&self.tables);
        let run_policy = policy.clone();
        // A province's month is seconds of CPU on every core: off the runtime's workers.
        let stored = tokio::task::spawn_blocking(move || {
            screen_month(
                (current, earlier, ambulatory),
                &tables,
                &run_policy,
                (region, month),
            )
        })
        .await
        .map_err(storage_failure)?;
        let run = StoredRun {
            region,
            period: month,
            version: 0,
            request_id: body.request_id.clone(),
            caller_id: principal.caller_id.clone(),
            cases: screened_cases,
            findings: u32::try_from(stored.len()).unwrap_or(u32::MAX),
            policy_json: serde_json::to_string(&policy).map_err(storage_failure)?,
        };
        let rules = rules.elapsed();
        let storing = Instant::now();
        let once = self
            .store
            .record_run(&call, run, stored, |run| {
                pb::ScreenCasesResponse {
                    findings: run.findings,
                    run_version: run.version,
                    cases: run.cases,
                    policy_json: run.policy_json.clone(),
                }
                .encode_to_vec()
            })
            .await
            .map_err(Error::from)?;
        // Where a run's time goes, for whoever sizes the service (and the screening bench).
        tracing::info!(
            target: SCREENING_PHASES,
            region = %region,
            period = month.as_int(),
            cases = screened_cases,
            reading_s = reading.as_secs_f64(),
            rules_s = rules.as_secs_f64(),
            storing_s = storing.elapsed().as_secs_f64(),
            "screening run phases"
        );
        answer(&once)
    }

    async fn list_findings(
        &self,
        request: Request<pb::ListFindingsRequest>,
    ) -> Result<Response<pb::ListFindingsResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let page = KeysetPage::<i32>::for_request(LIST_FINDINGS, body, |r| {
            (&mut r.page_size, &mut r.page_token)
        })?;
        let mut query = FindingsQuery::try_from(body)?;
        query.filter.hospital_code =
            Self::findings_hospital(&principal, query.filter.hospital_code.take())?;
        let version = match query.run_version {
            0 => self
                .store
                .latest_version(region, query.period)
                .await
                .map_err(Error::from)?
                .ok_or_else(|| {
                    Error::NotFound(format!(
                        "no screening run of {region} for {}",
                        query.period.as_int()
                    ))
                })?,
            version => version,
        };
        let findings = self
            .store
            .findings(
                region,
                query.period,
                version,
                &query.filter,
                page.after,
                page.fetch_limit(),
            )
            .await
            .map_err(Error::from)?;
        let (findings, next_page_token) = page.finish(findings, |finding| finding.seq);
        Ok(Response::new(pb::ListFindingsResponse {
            findings: findings.iter().map(finding_to_wire).collect(),
            next_page_token,
        }))
    }

    async fn review_finding(
        &self,
        request: Request<pb::ReviewFindingRequest>,
    ) -> Result<Response<pb::ReviewFindingResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let review = ReviewRequest::try_from(&body)?;
        let call = Call::by(&principal, &body.request_id, "ReviewFinding", &body, region);
        let once = self
            .store
            .review(
                &call,
                Review {
                    region,
                    finding_id: review.finding_id,
                    decision: review.decision,
                    reviewer: principal.caller_id.clone(),
                    reason: review.reason,
                },
                |finding| {
                    pb::ReviewFindingResponse {
                        finding: Some(finding_to_wire(finding)),
                    }
                    .encode_to_vec()
                },
            )
            .await
            .map_err(Error::from)?;
        answer(&once)
    }

    async fn change_rule_level(
        &self,
        request: Request<pb::ChangeRuleLevelRequest>,
    ) -> Result<Response<pb::ChangeRuleLevelResponse>, Status> {
        self.change_rule_level_impl(request).await
    }

    async fn set_rule_parameters(
        &self,
        request: Request<pb::SetRuleParametersRequest>,
    ) -> Result<Response<pb::SetRuleParametersResponse>, Status> {
        self.set_rule_parameters_impl(request).await
    }

    async fn respond_to_finding(
        &self,
        request: Request<pb::RespondToFindingRequest>,
    ) -> Result<Response<pb::RespondToFindingResponse>, Status> {
        self.respond_to_finding_impl(request).await
    }

    async fn list_deductions(
        &self,
        request: Request<pb::ListDeductionsRequest>,
    ) -> Result<Response<pb::ListDeductionsResponse>, Status> {
        self.list_deductions_impl(request).await
    }
}
