//! The province gateway's routing for tests (the `province-gateway` binary runs it as a process): a TLS gRPC listener that passes each public call,
//! unchanged (its `authorization` header included), to the context that serves its package, as
//! `deploy/k8s/overlays/province/envoy.yaml` does, over TLS verified against the test CA. A call
//! whose context cannot be reached is answered UNAVAILABLE, as Envoy answers when no upstream
//! accepts it; the upstream connections are lazy and reconnect, so a context restarted on its
//! port is reached again without restarting the router.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::Status;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::transport::{
    Certificate, Channel, ClientTlsConfig, Endpoint, Identity, Server, ServerTlsConfig,
};
use tower::Service;

/// The PEM files the router uses: the CA it verifies the contexts against, and the certificate
/// and key it presents to callers.
#[derive(Clone, Debug)]
pub struct Tls {
    pub ca: std::path::PathBuf,
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
}

/// The public addresses of the context servers the router reaches.
#[derive(Clone, Debug)]
pub struct Upstreams {
    pub grouping: SocketAddr,
    pub points: SocketAddr,
    pub budget: SocketAddr,
    pub settlement: SocketAddr,
    pub supervision: SocketAddr,
}

/// One public service routed to one context's channel; `N` only tells the services apart.
#[derive(Clone)]
struct Route<const N: usize> {
    channel: Channel,
}

macro_rules! named {
    ($n:literal, $name:literal) => {
        impl NamedService for Route<$n> {
            const NAME: &'static str = $name;
        }
    };
}
named!(0, "medpay.grouping.v1.GroupingService");
named!(1, "medpay.points.v1.PointsService");
named!(2, "medpay.budget.v1.BudgetService");
named!(3, "medpay.settlement.v1.SettlementService");
named!(4, "medpay.settlement.v1.SettlementRunService");
named!(5, "medpay.settlement.v1.SpecialCaseService");
named!(6, "medpay.supervision.v1.SupervisionService");

type Answer = Pin<Box<dyn Future<Output = Result<http::Response<Body>, Infallible>> + Send>>;

impl<const N: usize> Service<http::Request<Body>> for Route<N> {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Answer;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Answer {
        let mut channel = self.channel.clone();
        Box::pin(async move {
            let forwarded = async {
                std::future::poll_fn(|cx| channel.poll_ready(cx)).await?;
                channel.call(request).await
            };
            Ok(match forwarded.await {
                Ok(answer) => answer,
                Err(error) => {
                    Status::unavailable(format!("upstream unreachable: {error}")).into_http()
                }
            })
        })
    }
}

/// A lazy TLS channel to `address`, verified against the test CA for `localhost`.
fn upstream(tls: &Tls, address: SocketAddr) -> anyhow::Result<Channel> {
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(std::fs::read(&tls.ca)?))
        .domain_name("localhost");
    Ok(Endpoint::from_shared(format!("https://{address}"))?
        .tls_config(tls)?
        .tcp_nodelay(true)
        .connect_lazy())
}

/// A running router; it stops when dropped.
pub struct Router {
    pub address: SocketAddr,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Router {
    /// Listens on a free loopback port with `tls`'s certificate and routes to `upstreams`.
    pub async fn start(tls: &Tls, upstreams: &Upstreams) -> anyhow::Result<Router> {
        let identity = Identity::from_pem(std::fs::read(&tls.cert)?, std::fs::read(&tls.key)?);
        let settlement = upstream(tls, upstreams.settlement)?;
        let server = Server::builder()
            .tls_config(ServerTlsConfig::new().identity(identity))?
            .add_service(Route::<0> {
                channel: upstream(tls, upstreams.grouping)?,
            })
            .add_service(Route::<1> {
                channel: upstream(tls, upstreams.points)?,
            })
            .add_service(Route::<2> {
                channel: upstream(tls, upstreams.budget)?,
            })
            .add_service(Route::<3> {
                channel: settlement.clone(),
            })
            .add_service(Route::<4> {
                channel: settlement.clone(),
            })
            .add_service(Route::<5> {
                channel: settlement,
            })
            .add_service(Route::<6> {
                channel: upstream(tls, upstreams.supervision)?,
            });
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let incoming = TcpListenerStream::new(listener);
        let task = tokio::spawn(async move {
            let _ = server.serve_with_incoming(incoming).await;
        });
        Ok(Router {
            address,
            task: Some(task),
        })
    }

    /// Serves until the process ends.
    pub async fn serve(mut self) -> anyhow::Result<()> {
        if let Some(task) = self.task.take() {
            task.await?;
        }
        Ok(())
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}
