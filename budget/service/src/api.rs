//! The budget context's API over its store; [`crate::grpc`] serves it publicly and
//! [`crate::internal`] to other contexts.

use medpay_proto::budget::v1 as pb;

use crate::store::BudgetStore;

/// The budget gRPC API over a store.
#[derive(Clone)]
pub struct BudgetApi {
    pub(crate) store: BudgetStore,
}

impl BudgetApi {
    pub fn new(store: BudgetStore) -> Self {
        Self { store }
    }

    /// The tonic service to mount on a server.
    pub fn into_server(self) -> pb::budget_service_server::BudgetServiceServer<Self> {
        pb::budget_service_server::BudgetServiceServer::new(self)
    }
}
