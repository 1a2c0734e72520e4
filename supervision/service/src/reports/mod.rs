//! The `medpay.supervision.v1.SupervisionReportsService` server: the monitoring indicators of a
//! region over the lists settlement streams, folded one list at a time by the domain's
//! [`Monitor`] (never a month in memory), the monthly monitoring report and the CSV export;
//! the quarterly analysis and annual report (`period`) over the same lists and the findings of
//! the stored screening runs (`hits_store`), as data, CSV, XLSX or an HTML page. Nothing is
//! written, so nothing goes through the journal.

pub mod convert;
pub mod hits_store;
pub mod period;

use std::sync::Arc;

use kernel::{Principal, RegionCode, Role, YearMonth};
use medpay_proto::supervision::v1 as pb;
use medpay_proto::supervision::v1::supervision_reports_service_server::{
    SupervisionReportsService, SupervisionReportsServiceServer,
};
use platform::principal::authorize_request;
use supervision_domain::monitoring::{
    Breakdown, IndicatorRow, Indicators, Monitor, UNSUPPORTED_MONTHLY, UNSUPPORTED_SYSTEM,
    indicators_csv, month_on_month,
};
use supervision_domain::{ParameterBook, Tables};
use tonic::{Request, Response, Status};

use supervision_domain::reports::html::report_html;
use supervision_domain::reports::tables::{report_csv, report_tables};
use supervision_domain::reports::{PeriodAccumulator, PeriodKind, PeriodReport};

use crate::cases::CaseSource;
use crate::error::Error;
use crate::store::SupervisionStore;
use convert::{IndicatorQuery, efficacy_to_wire, row_to_wire, trend_to_wire, unsupported_to_wire};
use hits_store::{HitScope, rule_counts};
use period::{PeriodQuery, format_of, report_to_wire, to_xlsx};

/// The reports API over the cases settlement streams.
#[derive(Clone)]
pub struct SupervisionReportsApi {
    cases: Arc<dyn CaseSource>,
    tables: Arc<Tables>,
    book: Arc<ParameterBook>,
    /// The stored screening runs the period reports count findings from; without it every
    /// rule shows no finding.
    findings: Option<SupervisionStore>,
}

/// A finished table as the caller may see it.
struct View {
    /// Absent for a hospital caller.
    total: Option<IndicatorRow>,
    rows: Vec<IndicatorRow>,
    table: Indicators,
    previous_year_read: bool,
}

impl SupervisionReportsApi {
    /// Reports with the domain's default parameters, group weights and means from `tables`.
    pub fn new(cases: Arc<dyn CaseSource>, tables: Tables) -> Self {
        Self {
            cases,
            tables: Arc::new(tables),
            book: Arc::new(ParameterBook::default()),
            findings: None,
        }
    }

    /// Counts each rule's findings in the period reports from the runs stored in `store`.
    pub fn with_findings(mut self, store: SupervisionStore) -> Self {
        self.findings = Some(store);
        self
    }

    /// Reads the readmission window, cost multiples and low-risk threshold of each region from
    /// `book`.
    pub fn with_parameters(mut self, book: ParameterBook) -> Self {
        self.book = Arc::new(book);
        self
    }

    /// The tonic service to mount on a server.
    pub fn into_server(self) -> SupervisionReportsServiceServer<Self> {
        SupervisionReportsServiceServer::new(self)
    }

    /// One pass over the query's months (and, with `previous_year`, the same months a year
    /// earlier), then the rows the caller may see: a hospital its own institution's, without
    /// the region's total. Every list of the region still shapes the regional means the
    /// consumption indices compare with.
    async fn table(
        &self,
        principal: &Principal,
        region: RegionCode,
        query: &IndicatorQuery,
        previous_year: bool,
    ) -> Result<View, Error> {
        let hospital = principal.holds(Role::Hospital);
        let breakdown = match query.breakdown {
            Breakdown::Region if hospital => Breakdown::Hospital,
            breakdown => breakdown,
        };
        let year = query.months.first().map_or(i32::MAX, |m| m.year());
        let parameters = self.book.policy_for(region, year).parameters;
        let mut monitor = Monitor::new(&self.tables, &parameters, breakdown);
        let fund = query.fund;
        for month in &query.months {
            let mut visit = |list: supervision_domain::InpatientList| {
                if fund.is_none_or(|fund| list.fund_type == fund) {
                    monitor.add(&list);
                }
            };
            self.cases
                .each_monitored_list(principal, region, *month, &mut visit)
                .await?;
        }
        let mut previous_year_read = false;
        if previous_year {
            for month in &query.months {
                let Ok(earlier) = YearMonth::new(month.year() - 1, month.month()) else {
                    continue;
                };
                let mut visit = |costs: supervision_domain::EarlierCosts| {
                    if fund.is_none_or(|fund| costs.fund_type == fund) {
                        previous_year_read = true;
                        monitor.add_previous_year(&costs);
                    }
                };
                self.cases
                    .each_earlier_costs(principal, region, earlier, &mut visit)
                    .await?;
            }
        }
        let table = monitor.finish();
        let rows = table
            .rows
            .iter()
            .filter(|row| principal.may_reach_institution(&row.key.hospital))
            .cloned()
            .collect();
        Ok(View {
            total: (!hospital).then(|| table.total.clone()),
            rows,
            table,
            previous_year_read,
        })
    }

    /// The quarterly analysis or annual report: one pass over the period's months and the
    /// same months a year earlier, then the findings of the period's runs. A hospital caller's
    /// sums, rows and findings are its own institution's.
    async fn period_report(
        &self,
        principal: &Principal,
        region: RegionCode,
        query: PeriodQuery,
    ) -> Result<PeriodReport, Error> {
        let hospital = principal.holds(Role::Hospital);
        let months = query.period.months();
        let parameters = self.book.policy_for(region, query.period.year).parameters;
        let mut accumulator = PeriodAccumulator::new(&self.tables, &parameters, &months);
        let fund = query.fund;
        for month in &months {
            let mut visit = |list: supervision_domain::InpatientList| {
                if fund.is_none_or(|fund| list.fund_type == fund) {
                    let visible = principal.may_reach_institution(&list.key.hospital);
                    accumulator.add(*month, &list, visible);
                }
            };
            self.cases
                .each_monitored_list(principal, region, *month, &mut visit)
                .await?;
        }
        for month in &months {
            let Ok(earlier) = YearMonth::new(month.year() - 1, month.month()) else {
                continue;
            };
            let mut visit = |costs: supervision_domain::EarlierCosts| {
                if fund.is_none_or(|fund| costs.fund_type == fund) {
                    accumulator.add_previous_year(&costs);
                }
            };
            self.cases
                .each_earlier_costs(principal, region, earlier, &mut visit)
                .await?;
        }
        let (counts, runs) = match &self.findings {
            Some(store) => {
                let scope = HitScope {
                    region,
                    months: &months,
                    fund,
                    // A hospital role without an institution matches no finding.
                    hospital: hospital.then(|| principal.institution.as_deref().unwrap_or("")),
                };
                rule_counts(store, &scope).await?
            }
            None => (Vec::new(), 0),
        };
        Ok(accumulator.finish().into_report(
            (region, query.period),
            !hospital,
            |code| principal.may_reach_institution(code),
            (&counts, runs),
        ))
    }
}

#[tonic::async_trait]
impl SupervisionReportsService for SupervisionReportsApi {
    async fn get_indicators(
        &self,
        request: Request<pb::GetIndicatorsRequest>,
    ) -> Result<Response<pb::GetIndicatorsResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let query = IndicatorQuery::try_from(request.get_ref())?;
        let view = self.table(&principal, region, &query, true).await?;
        Ok(Response::new(pb::GetIndicatorsResponse {
            total: view.total.as_ref().map(row_to_wire),
            rows: view.rows.iter().map(row_to_wire).collect(),
            unsupported: unsupported_to_wire("system", UNSUPPORTED_SYSTEM),
            previous_year_read: view.previous_year_read,
        }))
    }

    async fn get_monitoring_report(
        &self,
        request: Request<pb::GetMonitoringReportRequest>,
    ) -> Result<Response<pb::GetMonitoringReportResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let query = IndicatorQuery::try_from(request.get_ref())?;
        let current = self.table(&principal, region, &query, true).await?;
        let earlier_query = IndicatorQuery {
            months: query.months.iter().map(|m| m.previous()).collect(),
            ..query.clone()
        };
        let earlier = self
            .table(&principal, region, &earlier_query, false)
            .await?;
        let trend = month_on_month(&current.table, &earlier.table)
            .into_iter()
            .filter(|line| {
                if line.key.hospital.is_empty() {
                    current.total.is_some()
                } else {
                    principal.may_reach_institution(&line.key.hospital)
                }
            })
            .map(|line| trend_to_wire(&line))
            .collect();
        Ok(Response::new(pb::GetMonitoringReportResponse {
            total: current.total.as_ref().map(row_to_wire),
            hospitals: current.rows.iter().map(row_to_wire).collect(),
            trend,
            efficacy: current
                .total
                .is_some()
                .then(|| efficacy_to_wire(&current.table.efficacy)),
            unsupported: unsupported_to_wire("monthly", UNSUPPORTED_MONTHLY),
        }))
    }

    async fn export_indicators(
        &self,
        request: Request<pb::ExportIndicatorsRequest>,
    ) -> Result<Response<pb::ExportIndicatorsResponse>, Status> {
        let body = request.get_ref().query.clone().unwrap_or_default();
        let (principal, region) =
            authorize_request(&request, "query.region_code", &body.region_code)?;
        // The table's fields sit under `query` in this request.
        let query = IndicatorQuery::try_from(&body).map_err(|error| match error {
            Error::InvalidArgument(violations) => Error::InvalidArgument(
                violations
                    .into_iter()
                    .map(|(field, reason)| (format!("query.{field}"), reason))
                    .collect(),
            ),
            error => error,
        })?;
        let view = self.table(&principal, region, &query, true).await?;
        let (first, last) = (
            query.months.first().map_or(0, |m| m.as_int()),
            query.months.last().map_or(0, |m| m.as_int()),
        );
        let region = region.to_string();
        Ok(Response::new(pb::ExportIndicatorsResponse {
            file_name: format!("indicators_{region}_{first}_{last}.csv"),
            content_type: "text/csv; charset=utf-8".to_owned(),
            content: indicators_csv(&region, view.total.as_ref(), &view.rows),
        }))
    }

    async fn get_period_report(
        &self,
        request: Request<pb::GetPeriodReportRequest>,
    ) -> Result<Response<pb::GetPeriodReportResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let query = PeriodQuery::try_from(request.get_ref())?;
        let report = self.period_report(&principal, region, query).await?;
        Ok(Response::new(report_to_wire(&report)))
    }

    async fn export_period_report(
        &self,
        request: Request<pb::ExportPeriodReportRequest>,
    ) -> Result<Response<pb::ExportPeriodReportResponse>, Status> {
        let body = request.get_ref().query.clone().unwrap_or_default();
        let (principal, region) =
            authorize_request(&request, "query.region_code", &body.region_code)?;
        let query = PeriodQuery::try_from(&body);
        let format = format_of(request.get_ref().format);
        // Every refused field at once, the query's under `query.`.
        let (query, format) = match (query, format) {
            (Ok(query), Ok(format)) => (query, format),
            (query, format) => {
                let mut violations = Vec::new();
                if let Err(Error::InvalidArgument(found)) = query {
                    violations.extend(
                        found
                            .into_iter()
                            .map(|(field, reason)| (format!("query.{field}"), reason)),
                    );
                }
                if let Err(Error::InvalidArgument(found)) = format {
                    violations.extend(found);
                }
                return Err(Error::InvalidArgument(violations).into());
            }
        };
        let report = self.period_report(&principal, region, query).await?;
        let stem = match query.period.kind {
            PeriodKind::Quarter(q) => format!("report_{region}_{}q{q}", query.period.year),
            PeriodKind::Year => format!("report_{region}_{}", query.period.year),
        };
        let (extension, content_type, content) = match format {
            pb::ReportFormat::Xlsx => (
                "xlsx",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                to_xlsx(&report_tables(&report))
                    .map_err(|error| Error::Export(error.to_string()))?,
            ),
            pb::ReportFormat::Html => (
                "html",
                "text/html; charset=utf-8",
                report_html(&report).into_bytes(),
            ),
            pb::ReportFormat::Csv | pb::ReportFormat::Unspecified => {
                ("csv", "text/csv; charset=utf-8", report_csv(&report))
            }
        };
        Ok(Response::new(pb::ExportPeriodReportResponse {
            file_name: format!("{stem}.{extension}"),
            content_type: content_type.to_owned(),
            content,
        }))
    }
}
