//! The grouping API over a real socket, one module per subject: grouping with the active scheme
//! and streaming in order, the registry (load, activate, audit, idempotency) and its permissions,
//! DIP directories (loading, grouping, building from history), and the internal batch grouping
//! other contexts call. This module starts the server and builds the requests they share.

mod dip;
mod grouping;
mod internal;
mod registry;

use grouping_service::store::RegistryStore;
use grouping_service::{GroupingApi, Migrator};
use medpay_proto::common::v1::Date;
use medpay_proto::grouping::v1 as pb;
use medpay_proto::grouping::v1::grouping_service_client::GroupingServiceClient;
use tonic::Request;
use tonic::transport::Channel;

struct Server {
    channel: Channel,
    registry: RegistryStore,
}

async fn start() -> Server {
    let registry = RegistryStore::new(platform::testing::sqlite::<Migrator>().await);
    let api = GroupingApi::start(registry.clone()).await.expect("starts");
    let routes = tonic::service::Routes::new(api.clone().into_internal_server())
        .add_service(api.into_server());
    let channel = platform::testing::serve(routes).await;
    Server { channel, registry }
}

/// `message` sent by a caller acting in `scope` with `roles`.
fn as_caller<T>(message: T, scope: &str, roles: &[&str]) -> Request<T> {
    platform::testing::as_caller(message, &format!("caller-{scope}"), scope, roles)
}

fn bureau<T>(message: T) -> Request<T> {
    as_caller(message, "460000", &["bureau"])
}

fn case(id: &str, diagnoses: &[&str], procedures: &[&str]) -> pb::CaseInput {
    pb::CaseInput {
        case_id: id.into(),
        gender: "1".into(),
        age_years: "35".into(),
        diagnoses: diagnoses.iter().map(|d| (*d).to_owned()).collect(),
        procedures: procedures.iter().map(|p| (*p).to_owned()).collect(),
        ..Default::default()
    }
}

fn date(year: i32, month: i32, day: i32) -> Option<Date> {
    Some(Date { year, month, day })
}

async fn activate_demo(
    client: &mut GroupingServiceClient<Channel>,
    request_id: &str,
    from: Option<Date>,
) -> Result<pb::ActivateSchemeResponse, tonic::Status> {
    client
        .activate_scheme(bureau(pb::ActivateSchemeRequest {
            request_id: request_id.into(),
            region_code: "460000".into(),
            scheme_id: "demo".into(),
            version: "1".into(),
            effective_from: from,
        }))
        .await
        .map(tonic::Response::into_inner)
}

fn dip_input(id: &str, diagnosis: &str, procedures: &[&str], cost: &str) -> pb::CaseInput {
    pb::CaseInput {
        case_id: id.into(),
        gender: "1".into(),
        age_years: "35".into(),
        diagnoses: vec![diagnosis.into()],
        procedures: procedures.iter().map(|p| (*p).to_owned()).collect(),
        total_cost: Some(medpay_proto::common::v1::Money { yuan: cost.into() }),
        discharge_type: "1".into(),
        length_of_stay_days: 5,
        ..Default::default()
    }
}
