//! Composing contexts into one gRPC server: health, reflection, the edge layer, graceful
//! shutdown. `medpay up` mounts every context; `medpay serve <context>` mounts one.

use std::net::SocketAddr;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::service::RoutesBuilder;
use tonic_health::ServingStatus;

use crate::config::Settings;
use crate::edge::{Authenticator, EdgeLayer};

/// A bounded context that can be served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ContextName {
    Grouping,
    Points,
    Budget,
    Settlement,
    Supervision,
}

impl ContextName {
    pub const ALL: [ContextName; 5] = [
        ContextName::Grouping,
        ContextName::Points,
        ContextName::Budget,
        ContextName::Settlement,
        ContextName::Supervision,
    ];

    /// The public gRPC service of the context.
    pub fn service_name(self) -> &'static str {
        match self {
            ContextName::Grouping => "medpay.grouping.v1.GroupingService",
            ContextName::Points => "medpay.points.v1.PointsService",
            ContextName::Budget => "medpay.budget.v1.BudgetService",
            ContextName::Settlement => "medpay.settlement.v1.SettlementService",
            ContextName::Supervision => "medpay.supervision.v1.SupervisionService",
        }
    }

    /// Runs the context's migrations (each context keeps its own migration table).
    pub async fn migrate(self, db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
        match self {
            ContextName::Grouping => grouping_service::Migrator::up(db, None).await,
            ContextName::Points => points_service::Migrator::up(db, None).await,
            ContextName::Budget => budget_service::Migrator::up(db, None).await,
            ContextName::Settlement => settlement_service::Migrator::up(db, None).await,
            ContextName::Supervision => supervision_service::Migrator::up(db, None).await,
        }
    }

    async fn mount(
        self,
        routes: &mut RoutesBuilder,
        db: &DatabaseConnection,
        settings: &Settings,
        address: SocketAddr,
    ) -> anyhow::Result<()> {
        match self {
            ContextName::Grouping => {
                let store = grouping_service::store::RegistryStore::new(db.clone());
                let api = grouping_service::GroupingApi::start(store).await?;
                if settings.demo.activate_demo_scheme {
                    for region in &settings.demo.regions {
                        if api
                            .activate_demo_if_unset(*region, settings.demo.effective_from)
                            .await
                            .map_err(|e| anyhow::anyhow!("activating the demo scheme: {e}"))?
                        {
                            tracing::info!(%region, "demo scheme activated");
                        }
                    }
                }
                // Internal: settlement groups cases at intake through it; not in reflection.
                routes.add_service(api.clone().into_internal_server());
                routes.add_service(api.into_server());
            }
            ContextName::Points => {
                let store = points_service::store::TableStore::new(db.clone());
                let api = points_service::PointsApi::new(store);
                // Internal: settlement values cases through it; reflection does not describe it.
                routes.add_service(api.clone().into_internal_server());
                routes.add_service(api.into_server());
            }
            ContextName::Budget => {
                let store = budget_service::store::BudgetStore::new(db.clone());
                let api = budget_service::BudgetApi::new(store);
                // Internal: settlement shares and reads quotas through it; not in reflection.
                routes.add_service(api.clone().into_internal_server());
                routes.add_service(api.into_server());
            }
            ContextName::Settlement => {
                let store = settlement_service::ledger::CaseStore::new(db.clone());
                let valuer = settlement_service::valuation::GrpcValuer::new(
                    peer_channel(&settings.peers.grouping, address)?,
                    peer_channel(&settings.peers.points, address)?,
                    Some(settings.peers.api_key.as_str()),
                )
                .map_err(|e| anyhow::anyhow!("peers.api_key: {e}"))?;
                routes.add_service(
                    settlement_service::SettlementApi::new(store)
                        .with_valuer(std::sync::Arc::new(valuer))
                        .into_server(),
                );
                routes.add_service(
                    settlement_service::special_cases::SpecialCaseApi::new(db.clone())
                        .into_server(),
                );
                let budget = settlement_service::sharing::GrpcBudget::new(
                    peer_channel(&settings.peers.budget, address)?,
                    Some(settings.peers.api_key.as_str()),
                )
                .map_err(|e| anyhow::anyhow!("peers.api_key: {e}"))?;
                routes.add_service(
                    settlement_service::SettlementRunApi::new(db.clone())
                        .with_budget(std::sync::Arc::new(budget))
                        .into_server(),
                );
            }
            ContextName::Supervision => {
                let store = supervision_service::store::RuleStore::new(db.clone());
                routes.add_service(supervision_service::SupervisionApi::new(store).into_server());
            }
        }
        Ok(())
    }
}

/// A lazily connected channel to a peer context: `url`, or this server's own address when empty
/// (every context in one process, as `medpay up` runs them).
fn peer_channel(url: &str, own: SocketAddr) -> anyhow::Result<tonic::transport::Channel> {
    let target = if url.trim().is_empty() {
        let host = if own.ip().is_unspecified() {
            let loopback: std::net::IpAddr = if own.is_ipv6() {
                std::net::Ipv6Addr::LOCALHOST.into()
            } else {
                std::net::Ipv4Addr::LOCALHOST.into()
            };
            SocketAddr::new(loopback, own.port())
        } else {
            own
        };
        format!("http://{host}")
    } else {
        url.trim().to_owned()
    };
    let endpoint = tonic::transport::Endpoint::from_shared(target.clone())
        .map_err(|e| anyhow::anyhow!("peer address {target}: {e}"))?
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true);
    Ok(endpoint.connect_lazy())
}

/// Opens the configured database (the embedded SQLite file unless a URL is set) and migrates the
/// given contexts and the API key store.
pub async fn open_database(
    settings: &Settings,
    contexts: &[ContextName],
) -> anyhow::Result<DatabaseConnection> {
    let url = if settings.database.url.is_empty() {
        let dir = &settings.database.data_dir;
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create data folder {}: {e}", dir.display()))?;
        platform::db::sqlite_url(&dir.join("medpay.db"))
    } else {
        settings.database.url.clone()
    };
    let db = platform::db::connect(&url)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open database: {e}"))?;
    for context in contexts {
        context
            .migrate(&db)
            .await
            .map_err(|e| anyhow::anyhow!("migrating {context:?}: {e}"))?;
    }
    // Every server authenticates, so every server reads the key store.
    crate::access::Migrator::up(&db, None)
        .await
        .map_err(|e| anyhow::anyhow!("migrating the api key store: {e}"))?;
    Ok(db)
}

/// Serves `contexts` until `shutdown` resolves; `on_bound` receives the address actually bound.
pub async fn serve(
    settings: &Settings,
    contexts: &[ContextName],
    db: DatabaseConnection,
    on_bound: impl FnOnce(SocketAddr),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(settings.server.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.server.listen))?;
    let address = listener.local_addr()?;

    let (health, health_service) = tonic_health::server::health_reporter();
    let mut routes = RoutesBuilder::default();
    routes.add_service(health_service);
    routes.add_service(
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(medpay_proto::PUBLIC_FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()?,
    );
    routes.add_service(
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(medpay_proto::PUBLIC_FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()?,
    );
    for context in contexts {
        context.mount(&mut routes, &db, settings, address).await?;
        // A context may serve several public services of its package (settlement serves
        // three); each is healthy once the context is mounted.
        let package = context
            .service_name()
            .rsplit_once('.')
            .map_or("", |(package, _)| package);
        for service in medpay_proto::PUBLIC_SERVICES
            .iter()
            .filter(|name| name.rsplit_once('.').is_some_and(|(p, _)| p == package))
        {
            health
                .set_service_status(*service, ServingStatus::Serving)
                .await;
        }
    }
    let stored_keys = std::sync::Arc::new(crate::access::StoredKeys::new(
        crate::access::KeyStore::new(db.clone()),
    ));
    routes.add_service(crate::access::AdminApi::new(stored_keys.clone()).into_server());
    health
        .set_service_status("medpay.admin.v1.AdminService", ServingStatus::Serving)
        .await;
    health.set_service_status("", ServingStatus::Serving).await;

    let grace = Duration::from_secs(settings.server.shutdown_grace_seconds);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let drain = async move {
        shutdown.await;
        tracing::info!("shutting down: no new requests, finishing in-flight ones");
        let _ = stop_tx.send(());
    };

    on_bound(address);
    tracing::info!(%address, ?contexts, "serving");
    let server = tonic::transport::Server::builder()
        .layer(EdgeLayer::new(
            Authenticator::from_settings(&settings.auth).with_stored_keys(stored_keys),
        ))
        .add_routes(routes.routes())
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), drain);
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => result?,
        () = async {
            let _ = stop_rx.await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(?grace, "in-flight requests did not finish within the grace period");
        }
    }
    health
        .set_service_status("", ServingStatus::NotServing)
        .await;
    db.close().await?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
