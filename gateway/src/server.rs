//! Composing contexts into one server: health, reflection, the edge layer, graceful shutdown.
//! `medpay up` mounts every context; `medpay serve <context>` mounts one.
//!
//! Each server has two listeners. The public one (`server.listen`) serves the public contracts
//! behind the edge; the internal one (`server.internal_listen`) serves the internal contracts to
//! other medpay services only. Internal services are added to the internal routes and nowhere
//! else (`.ci/check-architecture` checks it).

use std::net::SocketAddr;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use std::sync::Arc;

use futures::{FutureExt, StreamExt};
use kernel::{Principal, Role};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::service::RoutesBuilder;
use tonic::transport::ClientTlsConfig;
use tonic_health::ServingStatus;

use crate::config::Settings;
use crate::edge::{Authenticator, EdgeLayer, Listener};
use crate::limits::Limiter;

/// The routes of the two listeners.
#[derive(Default)]
struct Routes {
    public: RoutesBuilder,
    internal: RoutesBuilder,
}

/// How this server reaches the internal contracts of the contexts it calls.
struct Peers {
    /// This server's own internal listener, for peers configured empty.
    own_internal: SocketAddr,
    tls: Option<ClientTlsConfig>,
    /// The identity of this process's services on its own internal listener.
    service_token: String,
}

impl Peers {
    /// A lazily connected channel to the peer at `url`, or to this server's own internal
    /// listener when `url` is empty (every context in one process, as `medpay up` runs them).
    fn channel(&self, url: &str) -> anyhow::Result<tonic::transport::Channel> {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let target = if url.trim().is_empty() {
            format!("{scheme}://{}", loopback_of(self.own_internal))
        } else {
            url.trim().to_owned()
        };
        let mut endpoint = tonic::transport::Endpoint::from_shared(target.clone())
            .map_err(|e| anyhow::anyhow!("peer address {target}: {e}"))?
            .connect_timeout(Duration::from_secs(5))
            .tcp_nodelay(true);
        if let Some(tls) = &self.tls {
            endpoint = endpoint
                .tls_config(tls.clone())
                .map_err(|e| anyhow::anyhow!("peer TLS for {target}: {e}"))?;
        }
        Ok(endpoint.connect_lazy())
    }

    /// The key sent to the peer at `url`: this process's own service token for its own
    /// listener, the configured key otherwise.
    fn key<'a>(&'a self, url: &str, configured: &'a str) -> &'a str {
        if url.trim().is_empty() {
            &self.service_token
        } else {
            configured
        }
    }
}

fn loopback_of(address: SocketAddr) -> SocketAddr {
    if address.ip().is_unspecified() {
        let loopback: std::net::IpAddr = if address.is_ipv6() {
            std::net::Ipv6Addr::LOCALHOST.into()
        } else {
            std::net::Ipv4Addr::LOCALHOST.into()
        };
        SocketAddr::new(loopback, address.port())
    } else {
        address
    }
}

/// A fresh 256-bit secret for this process's services to call its own internal listener.
fn service_token() -> anyhow::Result<String> {
    crate::access::key::random_hex(32).map_err(|e| anyhow::anyhow!("service token: {e}"))
}

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
        crate::migrate::Target::from(self).apply(db).await
    }

    async fn mount(
        self,
        routes: &mut Routes,
        db: &DatabaseConnection,
        settings: &Settings,
        peers: &Peers,
    ) -> anyhow::Result<()> {
        match self {
            ContextName::Grouping => {
                let store = grouping_service::store::RegistryStore::new(db.clone());
                let api = grouping_service::GroupingApi::start(store).await?;
                if settings.demo.activate_demo_scheme {
                    let effective_from = kernel::Date::from_yyyymmdd(settings.demo.effective_from)
                        .map_err(|e| anyhow::anyhow!("demo.effective_from: {e}"))?;
                    for region in &settings.demo.regions {
                        if api
                            .activate_demo_if_unset(*region, effective_from)
                            .await
                            .map_err(|e| anyhow::anyhow!("activating the demo scheme: {e}"))?
                        {
                            tracing::info!(%region, "demo scheme activated");
                        }
                    }
                }
                // Internal: settlement groups cases at intake through it.
                routes
                    .internal
                    .add_service(api.clone().into_internal_server());
                routes.public.add_service(api.into_server());
            }
            ContextName::Points => {
                let store = points_service::store::TableStore::new(db.clone());
                let api = points_service::PointsApi::new(store);
                // Internal: settlement values cases through it.
                routes
                    .internal
                    .add_service(api.clone().into_internal_server());
                routes.public.add_service(api.into_server());
            }
            ContextName::Budget => {
                let store = budget_service::store::BudgetStore::new(db.clone());
                let api = budget_service::BudgetApi::new(store);
                // Internal: settlement shares and reads quotas through it.
                routes
                    .internal
                    .add_service(api.clone().into_internal_server());
                routes.public.add_service(api.into_server());
            }
            ContextName::Settlement => {
                let store = settlement_service::store::ledger::CaseStore::new(db.clone());
                let configured = settings.peers.api_key.as_str();
                // One key for both: grouping and points are either both this server or both
                // elsewhere behind the same service identity.
                let valuer = settlement_service::valuation::GrpcValuer::new(
                    peers.channel(&settings.peers.grouping)?,
                    peers.channel(&settings.peers.points)?,
                    Some(peers.key(&settings.peers.grouping, configured)),
                )
                .map_err(|e| anyhow::anyhow!("peers.api_key: {e}"))?;
                // Internal: supervision screens the ledger's cases through it.
                routes.internal.add_service(
                    settlement_service::SettlementInternalApi::new(store.clone()).into_server(),
                );
                routes.public.add_service(
                    settlement_service::SettlementApi::new(store)
                        .with_valuer(std::sync::Arc::new(valuer))
                        .into_server(),
                );
                routes.public.add_service(
                    settlement_service::special_cases::SpecialCaseApi::new(db.clone())
                        .into_server(),
                );
                let budget = settlement_service::budget_peer::GrpcBudget::new(
                    peers.channel(&settings.peers.budget)?,
                    Some(peers.key(&settings.peers.budget, configured)),
                )
                .map_err(|e| anyhow::anyhow!("peers.api_key: {e}"))?;
                // The outpatient year end asks points for its budgets and APG points.
                let outpatient = settlement_service::outpatient_valuer::GrpcOutpatientValuer::new(
                    peers.channel(&settings.peers.points)?,
                    Some(peers.key(&settings.peers.points, configured)),
                )
                .map_err(|e| anyhow::anyhow!("peers.api_key: {e}"))?;
                let mut runs = settlement_service::SettlementRunApi::new(db.clone())
                    .with_budget(std::sync::Arc::new(budget))
                    .with_outpatient_valuer(std::sync::Arc::new(outpatient));
                // Violation deductions come from supervision's confirmed findings unless the
                // configuration says there is no supervision peer.
                let supervision = settings.peers.supervision.trim();
                if !supervision.eq_ignore_ascii_case("none") {
                    let peer = settlement_service::supervision_peer::GrpcSupervision::new(
                        peers.channel(supervision)?,
                        Some(peers.key(supervision, configured)),
                    )
                    .map_err(|e| anyhow::anyhow!("peers.api_key: {e}"))?;
                    runs = runs.with_supervision(std::sync::Arc::new(peer));
                }
                routes
                    .public
                    .add_service(runs.clone().into_outpatient_server());
                routes.public.add_service(runs.into_server());
            }
            ContextName::Supervision => {
                let store = supervision_service::store::SupervisionStore::new(db.clone());
                let cases = supervision_service::GrpcCases::new(
                    peers.channel(&settings.peers.settlement)?,
                    Some(peers.key(&settings.peers.settlement, &settings.peers.api_key)),
                )
                .map_err(|e| anyhow::anyhow!("peers.api_key: {e}"))?;
                let tables = supervision_service::Tables::demo()
                    .map_err(|e| anyhow::anyhow!("the demo screening tables: {e}"))?;
                let cases: std::sync::Arc<dyn supervision_service::CaseSource> =
                    std::sync::Arc::new(cases);
                routes.public.add_service(
                    supervision_service::SupervisionReportsApi::new(cases.clone(), tables.clone())
                        .with_findings(store.clone())
                        .into_server(),
                );
                routes.public.add_service(
                    supervision_service::SupervisionAssessmentApi::new(
                        store.clone(),
                        cases.clone(),
                        tables.clone(),
                    )
                    .into_server(),
                );
                let api = supervision_service::SupervisionApi::new(store, cases, tables);
                // Internal: settlement reads violation deductions and assessment scores through
                // it at clearing.
                routes
                    .internal
                    .add_service(api.clone().into_internal_server());
                routes.public.add_service(api.into_server());
            }
        }
        Ok(())
    }
}

/// Opens the configured database (the embedded SQLite file unless a URL is set) and migrates the
/// given contexts and the API key store, or with `database.migrate = false` fails unless a
/// `medpay migrate` has already done so.
pub async fn open_database(
    settings: &Settings,
    contexts: &[ContextName],
) -> anyhow::Result<DatabaseConnection> {
    let db = connect(settings).await?;
    // Every server authenticates, so every server reads the key store.
    let targets = crate::migrate::Target::of_server(contexts);
    if settings.database.migrate {
        crate::migrate::apply(&db, &targets).await?;
    } else {
        crate::migrate::check(&db, &targets).await?;
    }
    Ok(db)
}

/// Opens the configured database (the embedded SQLite file unless a URL is set), as it is.
pub async fn connect(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
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
    Ok(db)
}

/// The addresses a server bound.
#[derive(Clone, Copy, Debug)]
pub struct Bound {
    pub public: SocketAddr,
    pub internal: SocketAddr,
    /// The plaintext health listener (`server.health_listen`), when configured.
    pub health: Option<SocketAddr>,
}

async fn bind(address: SocketAddr, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(address)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {address} ({what}): {e}"))
}

/// Accepted connections with Nagle's algorithm off: a small gRPC answer must not wait for the
/// peer's delayed ACK (tonic's own `tcp_nodelay` does not reach connections it did not accept).
fn accepted(
    listener: TcpListener,
) -> impl futures::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    TcpListenerStream::new(listener).map(|connection| {
        connection.inspect(|stream| {
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!(%error, "TCP_NODELAY not set");
            }
        })
    })
}

/// Serves `contexts` until `shutdown` resolves; `on_bound` receives the addresses bound.
pub async fn serve(
    settings: &Settings,
    contexts: &[ContextName],
    db: DatabaseConnection,
    on_bound: impl FnOnce(Bound),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let public_listener = bind(settings.server.listen, "server.listen").await?;
    let internal_listener = bind(settings.server.internal_listen, "server.internal_listen").await?;
    let health_listener = match settings.server.health_listen.trim() {
        "" => None,
        address => {
            let address: SocketAddr = address
                .parse()
                .map_err(|e| anyhow::anyhow!("server.health_listen {address:?}: {e}"))?;
            Some(bind(address, "server.health_listen").await?)
        }
    };
    let bound = Bound {
        public: public_listener.local_addr()?,
        internal: internal_listener.local_addr()?,
        health: health_listener
            .as_ref()
            .map(TcpListener::local_addr)
            .transpose()?,
    };

    let token = service_token()?;
    let in_process_services = Principal {
        caller_id: "medpay-services".into(),
        scopes: settings.auth.internal_scopes.clone(),
        roles: vec![Role::Service.as_str().to_owned()],
        institution: None,
    };
    let stored_keys = Arc::new(crate::access::StoredKeys::new(
        crate::access::KeyStore::new(db.clone()),
    ));
    let auth = Arc::new(
        Authenticator::from_settings(&settings.auth)
            .with_service_token(token.clone(), in_process_services)
            .with_stored_keys(stored_keys.clone()),
    );
    let peers = Peers {
        own_internal: bound.internal,
        tls: crate::tls::peer_config(&settings.peers)?,
        service_token: token,
    };

    let (health, health_service) = tonic_health::server::health_reporter();
    let mut routes = Routes::default();
    routes.public.add_service(health_service.clone());
    routes.internal.add_service(health_service.clone());
    routes.public.add_service(
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(medpay_proto::PUBLIC_FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()?,
    );
    routes.public.add_service(
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(medpay_proto::PUBLIC_FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()?,
    );
    for context in contexts {
        context.mount(&mut routes, &db, settings, &peers).await?;
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
    routes
        .public
        .add_service(crate::access::AdminApi::new(stored_keys.clone()).into_server());
    health
        .set_service_status("medpay.admin.v1.AdminService", ServingStatus::Serving)
        .await;
    health.set_service_status("", ServingStatus::Serving).await;

    let grace = Duration::from_secs(settings.server.shutdown_grace_seconds);
    let deadline = Duration::from_secs(settings.server.max_deadline_seconds);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut receiver: tokio::sync::watch::Receiver<bool>| async move {
        let _ = receiver.wait_for(|stop| *stop).await;
    };
    let drain = async move {
        shutdown.await;
        tracing::info!("shutting down: no new requests, finishing in-flight ones");
        let _ = stop_tx.send(true);
    };
    tokio::spawn(drain);
    // The WAL is copied into the file beside the requests rather than by the commit that
    // crosses the threshold (SQLite only).
    let checkpointer = tokio::spawn(platform::db::checkpoint_wal_until(
        db.clone(),
        stopped(stop_rx.clone()),
    ));

    let limiter = Arc::new(Limiter::new(settings.limits.clone()));
    let mut public = tonic::transport::Server::builder().timeout(deadline);
    if let Some(tls) = crate::tls::server_config(&settings.server.tls, Listener::Public)? {
        public = public.tls_config(tls)?;
    }
    let edge = EdgeLayer::new(auth.clone(), limiter);
    let origins = &settings.server.grpc_web.allowed_origins;
    // gRPC-Web arrives over HTTP/1.1 as often as HTTP/2; without it the listener speaks HTTP/2
    // only, and a gRPC-Web request is never translated.
    let public = if origins.is_empty() {
        public
            .layer(edge)
            .add_routes(routes.public.routes())
            .serve_with_incoming_shutdown(accepted(public_listener), stopped(stop_rx.clone()))
            .boxed()
    } else {
        public
            .accept_http1(true)
            .layer(crate::web::CorsLayer::new(origins)?)
            .layer(tonic_web::GrpcWebLayer::new())
            .layer(edge)
            .add_routes(routes.public.routes())
            .serve_with_incoming_shutdown(accepted(public_listener), stopped(stop_rx.clone()))
            .boxed()
    };
    let mut internal = tonic::transport::Server::builder().timeout(deadline);
    if let Some(tls) = crate::tls::server_config(&settings.server.tls, Listener::Internal)? {
        internal = internal.tls_config(tls)?;
    }
    let internal = internal
        .layer(EdgeLayer::internal(auth))
        .add_routes(routes.internal.routes())
        .serve_with_incoming_shutdown(accepted(internal_listener), stopped(stop_rx.clone()));

    // Health only, in plaintext and without the edge: Kubernetes' gRPC probes speak neither TLS
    // nor credentials, and grpc.health reveals nothing but serving states.
    let health_stop = stopped(stop_rx.clone());
    let health_only = async move {
        match health_listener {
            Some(listener) => {
                tonic::transport::Server::builder()
                    .add_service(health_service)
                    .serve_with_incoming_shutdown(accepted(listener), health_stop)
                    .await
            }
            None => Ok(()),
        }
    };

    on_bound(bound);
    tracing::info!(public = %bound.public, internal = %bound.internal, ?contexts, "serving");
    let servers = async { tokio::try_join!(public, internal, health_only).map(|_| ()) };
    tokio::pin!(servers);
    tokio::select! {
        result = &mut servers => result?,
        () = async {
            stopped(stop_rx).await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(?grace, "in-flight requests did not finish within the grace period");
        }
    }
    health
        .set_service_status("", ServingStatus::NotServing)
        .await;
    if let Err(error) = checkpointer.await {
        tracing::warn!(%error, "the WAL checkpointer stopped abnormally");
    }
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
