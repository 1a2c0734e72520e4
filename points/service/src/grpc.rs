//! The `medpay.points.v1` server: scope checks, proto ↔ domain conversion, status codes.

use std::pin::Pin;

use futures::Stream;
use medpay_proto::points::v1 as pb;
use medpay_proto::points::v1::points_service_server::PointsService;
use platform::principal::authorize_request;
use platform::status::{not_yet, storage_failure};
use platform::wire;
use tonic::{Request, Response, Status, Streaming};

use crate::store::{StoredTable, TableStatus, TableStore};

/// The points gRPC API over a store.
#[derive(Clone)]
pub struct PointsApi {
    tables: TableStore,
}

impl PointsApi {
    pub fn new(tables: TableStore) -> Self {
        Self { tables }
    }

    /// The tonic service to mount on a server.
    pub fn into_server(self) -> pb::points_service_server::PointsServiceServer<Self> {
        pb::points_service_server::PointsServiceServer::new(self)
    }
}

fn status_to_wire(status: TableStatus) -> i32 {
    match status {
        TableStatus::Draft => pb::TableStatus::Draft as i32,
        TableStatus::Active => pb::TableStatus::Active as i32,
        TableStatus::Superseded => pb::TableStatus::Superseded as i32,
    }
}

fn to_wire(table: StoredTable) -> pb::ValuationTable {
    pb::ValuationTable {
        region_code: table.region.to_string(),
        year: table.year,
        fund_type: wire::fund_type_to_wire(table.fund),
        version: table.version,
        status: status_to_wire(table.status),
        document_json: table.document_json,
        effective_from: table
            .effective_from
            .map(|d| medpay_proto::common::v1::Date {
                year: d / 10_000,
                month: d / 100 % 100,
                day: d % 100,
            }),
    }
}

type ValueStream = Pin<Box<dyn Stream<Item = Result<pb::ValueCasesResponse, Status>> + Send>>;

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
            .get(region, year, fund, version)
            .await
            .map_err(storage_failure)?
            .ok_or_else(|| {
                Status::not_found(format!(
                    "no valuation table for region {region}, {year}, fund {fund}"
                ))
            })?;
        Ok(Response::new(pb::GetTableResponse {
            table: Some(to_wire(table)),
        }))
    }

    async fn put_table(
        &self,
        _request: Request<pb::PutTableRequest>,
    ) -> Result<Response<pb::PutTableResponse>, Status> {
        Err(not_yet("PutTable"))
    }

    async fn activate_table(
        &self,
        _request: Request<pb::ActivateTableRequest>,
    ) -> Result<Response<pb::ActivateTableResponse>, Status> {
        Err(not_yet("ActivateTable"))
    }

    async fn value_case(
        &self,
        _request: Request<pb::ValueCaseRequest>,
    ) -> Result<Response<pb::ValueCaseResponse>, Status> {
        Err(not_yet("ValueCase"))
    }

    type ValueCasesStream = ValueStream;

    async fn value_cases(
        &self,
        _request: Request<Streaming<pb::ValueCasesRequest>>,
    ) -> Result<Response<Self::ValueCasesStream>, Status> {
        Err(not_yet("ValueCases"))
    }

    async fn calibrate(
        &self,
        _request: Request<pb::CalibrateRequest>,
    ) -> Result<Response<pb::CalibrateResponse>, Status> {
        Err(not_yet("Calibrate"))
    }

    async fn preview_point_value(
        &self,
        _request: Request<pb::PreviewPointValueRequest>,
    ) -> Result<Response<pb::PreviewPointValueResponse>, Status> {
        Err(not_yet("PreviewPointValue"))
    }
}
