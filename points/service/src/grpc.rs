//! The `medpay.points.v1` server: each method checks the caller's scope, reads its request
//! through [`crate::convert`], and answers through the one `From<Error> for Status`.

use futures::StreamExt;
use kernel::RegionCode;
use medpay_proto::points::v1 as pb;
use medpay_proto::points::v1::points_service_server::PointsService;
use platform::journal::Call;
use platform::principal::{authorize_region, authorize_request, principal_of};
use platform::wire;
use points_domain::{HistoricalCase, ValuationPolicy};
use prost::Message;
use tonic::{Request, Response, Status, Streaming};

use crate::convert::{Calibration, PointValueQuestion, TableActivation, TableDraft};
use crate::error::Error;
use crate::store::{StoredTable, TableKey, TableStatus, TableStore};
use crate::table_choice::{TableDocument, Tables};
use crate::value_stream::{CaseValuer, ValueStream, Valuing};

/// The points gRPC API over a store.
#[derive(Clone)]
pub struct PointsApi {
    pub(crate) tables: Tables,
}

impl PointsApi {
    pub fn new(tables: TableStore) -> Self {
        Self {
            tables: Tables::new(tables),
        }
    }

    /// The tonic service to mount on a server.
    pub fn into_server(self) -> pb::points_service_server::PointsServiceServer<Self> {
        pb::points_service_server::PointsServiceServer::new(self)
    }

    /// A valuer of cases of `region` under `year`'s tables.
    pub fn valuer(&self, region: RegionCode, year: i32) -> CaseValuer {
        CaseValuer::new(self.tables.chooser(region, year))
    }

    /// Stores `document` as the next draft of `key` under `call`, answering with `respond` of
    /// the stored version (or the stored answer when `call` was carried out before).
    async fn put_draft<R: Message + Default>(
        &self,
        key: TableKey,
        document: &TableDocument,
        call: &Call,
        respond: impl FnOnce(pb::ValuationTable) -> R + Send + 'static,
    ) -> Result<Response<R>, Error> {
        let canonical = serde_json::to_string(document).map_err(Error::storage)?;
        let encode = move |table: &StoredTable| respond(to_wire(table)).encode_to_vec();
        let outcome = self
            .tables
            .store()
            .put_draft(key, &canonical, call, encode)
            .await?;
        Ok(Response::new(replayed(outcome.response())?))
    }
}

fn status_to_wire(status: TableStatus) -> i32 {
    match status {
        TableStatus::Draft => pb::TableStatus::Draft as i32,
        TableStatus::Active => pb::TableStatus::Active as i32,
        TableStatus::Superseded => pb::TableStatus::Superseded as i32,
    }
}

fn to_wire(table: &StoredTable) -> pb::ValuationTable {
    pb::ValuationTable {
        region_code: table.region.to_string(),
        year: table.year,
        fund_type: wire::fund_type_to_wire(table.fund),
        version: table.version,
        status: status_to_wire(table.status),
        document_json: table.document_json.clone(),
        effective_from: table.effective_from.map(wire::date_to_wire),
        // Every stored document was read by the same reader before it was stored; one that no
        // longer reads is still shown as JSON.
        document: serde_json::from_str::<TableDocument>(&table.document_json)
            .ok()
            .map(|document| crate::typed_document::document_to_wire(&document)),
    }
}

fn replayed<T: Message + Default>(bytes: &[u8]) -> Result<T, Error> {
    T::decode(bytes).map_err(Error::storage)
}

/// The year of a request that only reads.
fn year(value: i32) -> Result<i32, Error> {
    wire::year("year", value).map_err(|v| Error::InvalidArgument(vec![v]))
}

#[tonic::async_trait]
impl PointsService for PointsApi {
    async fn get_table(
        &self,
        request: Request<pb::GetTableRequest>,
    ) -> Result<Response<pb::GetTableResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let (year, fund) = wire::year_and_fund(body.year, body.fund_type)?;
        let version = (body.version > 0).then_some(body.version);
        let table = self
            .tables
            .store()
            .get(region, year, fund, version)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "no valuation table for region {region}, {year}, fund {fund}"
                ))
            })?;
        Ok(Response::new(pb::GetTableResponse {
            table: Some(to_wire(&table)),
        }))
    }

    async fn put_table(
        &self,
        request: Request<pb::PutTableRequest>,
    ) -> Result<Response<pb::PutTableResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let TableDraft { key, document } = TableDraft::try_from((region, body))?;
        let call = Call::by(&principal, &body.request_id, "PutTable", body, key.region);
        Ok(self
            .put_draft(key, &document, &call, |table| pb::PutTableResponse {
                table: Some(table),
            })
            .await?)
    }

    async fn activate_table(
        &self,
        request: Request<pb::ActivateTableRequest>,
    ) -> Result<Response<pb::ActivateTableResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let TableActivation {
            key,
            version,
            effective_from,
        } = TableActivation::try_from((region, body))?;
        let encode = |table: &StoredTable| {
            pb::ActivateTableResponse {
                table: Some(to_wire(table)),
            }
            .encode_to_vec()
        };
        let outcome = self
            .tables
            .store()
            .activate(
                key,
                version,
                effective_from.to_yyyymmdd(),
                &Call::by(
                    &principal,
                    &body.request_id,
                    "ActivateTable",
                    body,
                    key.region,
                ),
                encode,
            )
            .await
            .map_err(Error::from)?;
        Ok(Response::new(replayed(outcome.response())?))
    }

    async fn value_case(
        &self,
        request: Request<pb::ValueCaseRequest>,
    ) -> Result<Response<pb::ValueCaseResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let year = year(request.get_ref().year)?;
        let case = request.into_inner().case;
        let valuation = self
            .valuer(region, year)
            .value(case)
            .await
            .map_err(Status::from)?;
        Ok(Response::new(pb::ValueCaseResponse {
            valuation: Some(valuation),
        }))
    }

    type ValueCasesStream = ValueStream;

    async fn value_cases(
        &self,
        request: Request<Streaming<pb::ValueCasesRequest>>,
    ) -> Result<Response<Self::ValueCasesStream>, Status> {
        let principal = principal_of(&request)?;
        let mut input = request.into_inner();
        let Some(first) = input.next().await.transpose()? else {
            return Ok(Response::new(Box::pin(futures::stream::empty())));
        };
        let region = authorize_region(&principal, "region_code", &first.region_code)?;
        let year = year(first.year)?;
        Ok(Response::new(Box::pin(Valuing::new(
            region.to_string(),
            self.valuer(region, year),
            first,
            input,
        ))))
    }

    async fn calibrate(
        &self,
        request: Request<pb::CalibrateRequest>,
    ) -> Result<Response<pb::CalibrateResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let Calibration {
            key,
            options,
            cases,
        } = Calibration::try_from((region, body))?;
        let report = points_domain::calibrate(
            cases.iter().map(|case| HistoricalCase {
                year: case.year,
                group_code: &case.group_code,
                hospital_code: &case.hospital_code,
                hospital_level: case.hospital_level,
                total_cost: case.total_cost,
            }),
            &options,
        )
        .map_err(Error::from)?;
        // The draft keeps the region's policy in force (defaults when none) under the scheme
        // calibrated.
        let mut policy = match self.tables.latest_active(key).await? {
            Some(table) => table.document.policy.clone(),
            None => ValuationPolicy::new(region, key.year, key.fund),
        };
        policy.main_method = options.scheme;
        let document = TableDocument {
            policy,
            tables: report.tables.clone(),
        };
        let mut report_json = serde_json::to_value(&report).map_err(Error::storage)?;
        if let Some(object) = report_json.as_object_mut() {
            // The tables are the draft's document; the report keeps the statistics.
            object.remove("tables");
        }
        let report_json = report_json.to_string();
        let call = Call::by(&principal, &body.request_id, "Calibrate", body, key.region);
        Ok(self
            .put_draft(key, &document, &call, move |table| pb::CalibrateResponse {
                table: Some(table),
                report_json,
            })
            .await?)
    }

    async fn list_audit_entries(
        &self,
        request: Request<pb::ListAuditEntriesRequest>,
    ) -> Result<Response<pb::ListAuditEntriesResponse>, Status> {
        platform::list_audit_entries!(
            crate::store::JOURNAL,
            self.tables.store().connection(),
            request,
            pb::ListAuditEntriesResponse
        )
    }

    async fn preview_point_value(
        &self,
        request: Request<pb::PreviewPointValueRequest>,
    ) -> Result<Response<pb::PreviewPointValueResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let PointValueQuestion {
            key,
            fund_budget,
            individual_burden,
            total_points,
        } = PointValueQuestion::try_from((region, request.get_ref()))?;
        let active = self.tables.latest_active(key).await?;
        let default_policy;
        let policy = match &active {
            Some(table) => &table.document.policy,
            None => {
                default_policy = ValuationPolicy::new(region, key.year, key.fund);
                &default_policy
            }
        };
        let value =
            points_domain::drg_point_value(policy, fund_budget, individual_burden, total_points)
                .map_err(Error::from)?;
        Ok(Response::new(pb::PreviewPointValueResponse {
            point_value: Some(wire::decimal_to_wire(value.published)),
            exact_point_value: Some(wire::decimal_to_wire(value.exact)),
        }))
    }
}
