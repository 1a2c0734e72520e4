//! The `medpay.points.internal.v1` server: settlement values each grouped settlement list at
//! intake through `ValueBatch`. One result per case in input order; a case that cannot be valued
//! gets its reason and never fails the batch. Only a request-level fault (scope, year) or a
//! storage failure fails the call, so that the caller stores nothing and retries.

use medpay_proto::points::internal::v1 as internal;
use medpay_proto::points::internal::v1::points_internal_service_server::{
    PointsInternalService, PointsInternalServiceServer,
};
use platform::principal::authorize_request;
use platform::wire;
use tonic::{Request, Response, Status};

use crate::error::Error;
use crate::grpc::PointsApi;
use crate::value_stream::answer;

/// Largest encoded batch accepted or answered: a settlement chunk of some thousands of lists with
/// room to spare (tonic's default of 4 MiB would refuse a large chunk's answer).
pub const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;

impl PointsApi {
    /// The internal service other contexts value cases through (never exposed at the edge).
    pub fn into_internal_server(self) -> PointsInternalServiceServer<Self> {
        PointsInternalServiceServer::new(self)
            .max_decoding_message_size(MAX_BATCH_BYTES)
            .max_encoding_message_size(MAX_BATCH_BYTES)
    }
}

#[tonic::async_trait]
impl PointsInternalService for PointsApi {
    async fn value_batch(
        &self,
        request: Request<internal::ValueBatchRequest>,
    ) -> Result<Response<internal::ValueBatchResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let year = wire::year("year", request.get_ref().year)
            .map_err(|v| Error::InvalidArgument(vec![v]))?;
        let cases = request.into_inner().cases;
        let mut valuer = self.valuer(region, year);
        let mut results = Vec::with_capacity(cases.len());
        for (sequence, case) in (0u64..).zip(cases) {
            results.push(answer(sequence, valuer.value(Some(case)).await)?);
        }
        Ok(Response::new(internal::ValueBatchResponse { results }))
    }

    async fn value_outpatient(
        &self,
        request: Request<internal::ValueOutpatientRequest>,
    ) -> Result<Response<internal::ValueOutpatientResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        Ok(Response::new(
            self.value_outpatient_year(region, request.into_inner())
                .await?,
        ))
    }
}
