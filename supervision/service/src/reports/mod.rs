//! The `medpay.supervision.v1.SupervisionReportsService` server: the monitoring indicators of a
//! region over the lists settlement streams, folded one list at a time by the domain's
//! [`Monitor`] (never a month in memory), the monthly monitoring report and the CSV export.
//! Nothing is written, so nothing goes through the journal.

pub mod convert;

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

use crate::cases::CaseSource;
use crate::error::Error;
use convert::{IndicatorQuery, efficacy_to_wire, row_to_wire, trend_to_wire, unsupported_to_wire};

/// The reports API over the cases settlement streams.
#[derive(Clone)]
pub struct SupervisionReportsApi {
    cases: Arc<dyn CaseSource>,
    tables: Arc<Tables>,
    book: Arc<ParameterBook>,
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
        }
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
                .each_inpatient_list(principal, region, *month, &mut visit)
                .await?;
        }
        let mut previous_year_read = false;
        if previous_year {
            for month in &query.months {
                let Ok(earlier) = YearMonth::new(month.year() - 1, month.month()) else {
                    continue;
                };
                let mut visit = |list: supervision_domain::InpatientList| {
                    if fund.is_none_or(|fund| list.fund_type == fund) {
                        previous_year_read = true;
                        monitor.add_previous_year(&list);
                    }
                };
                self.cases
                    .each_inpatient_list(principal, region, earlier, &mut visit)
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
}
