//! The `medpay.grouping.v1` server: the API value and what its parts share. Handlers check scope
//! and delegate ([`handlers`]); requests are read and results written by [`convert`]; the scheme
//! registry and DIP build live in [`registry`] and [`dip_build`]; every failure becomes a status in
//! one place ([`crate::error`]).

mod convert;
mod dip_build;
mod group;
mod handlers;
mod registry;

use std::sync::Arc;

use medpay_proto::grouping::v1 as pb;
use prost::Message;

use crate::catalog::SchemeCatalog;
use crate::error::Error;
use crate::store::RegistryStore;

pub(crate) use convert::scheme_ref;
pub(crate) use group::group_one;
pub(crate) use registry::NoScheme;
pub use registry::StartError;

/// The grouping gRPC API: the scheme registry and the compiled schemes.
#[derive(Clone)]
pub struct GroupingApi {
    pub(crate) registry: RegistryStore,
    catalog: Arc<SchemeCatalog>,
}

impl GroupingApi {
    pub fn new(registry: RegistryStore, catalog: Arc<SchemeCatalog>) -> Self {
        Self { registry, catalog }
    }

    /// The tonic service to mount on a server.
    pub fn into_server(self) -> pb::grouping_service_server::GroupingServiceServer<Self> {
        pb::grouping_service_server::GroupingServiceServer::new(self)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }
}

/// Groups the case of a `GroupCase` request with `scheme` as the servers do once the scheme is
/// resolved: the same reading of the wire case and the same answer, without a registry. Public
/// so the wire conversion can be exercised on arbitrary input without a server.
pub fn group_request(
    scheme: &crate::catalog::LoadedScheme,
    request: &pb::GroupCaseRequest,
) -> Result<pb::GroupResult, Error> {
    let case = request
        .case
        .as_ref()
        .ok_or_else(|| Error::field("case", "is required"))?;
    let mut scratch = grouping_domain::Scratch::default();
    group_one(scheme, case, request.map_codes, request.trace, &mut scratch).map_err(Error::from)
}

/// Largest request or response the grouping servers accept: a history of about three million
/// cases as CSV, or a batch of settlement cases.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

/// The method names stored with their request ids.
const BUILD_DIP_DIRECTORY: &str = "BuildDipDirectory";
const ACTIVATE_SCHEME: &str = "ActivateScheme";

/// The response a journaled request stored the first time.
fn decode_stored<T: Message + Default>(stored: &[u8]) -> Result<T, Error> {
    T::decode(stored).map_err(|e| Error::Internal(format!("stored response does not decode: {e}")))
}
