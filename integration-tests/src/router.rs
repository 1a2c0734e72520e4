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
    ($(($n:literal, $name:literal, $context:literal)),* $(,)?) => {
        $(
            impl NamedService for Route<$n> {
                const NAME: &'static str = $name;
            }
        )*
        /// Every public service the router passes on, with the context that serves it: the
        /// packages `envoy.yaml` routes by prefix, service by service.
        pub const ROUTED: &[(&str, &str)] = &[$(($name, $context)),*];
    };
}
named!(
    (0, "medpay.grouping.v1.GroupingService", "grouping"),
    (1, "medpay.points.v1.PointsService", "points"),
    (2, "medpay.budget.v1.BudgetService", "budget"),
    (3, "medpay.settlement.v1.SettlementService", "settlement"),
    (4, "medpay.settlement.v1.SettlementRunService", "settlement"),
    (5, "medpay.settlement.v1.SpecialCaseService", "settlement"),
    (6, "medpay.supervision.v1.SupervisionService", "supervision"),
    (7, "medpay.settlement.v1.OutpatientService", "settlement"),
    (
        8,
        "medpay.supervision.v1.SupervisionReportsService",
        "supervision"
    ),
    (
        9,
        "medpay.supervision.v1.SupervisionAssessmentService",
        "supervision"
    ),
    (10, "medpay.admin.v1.AdminService", "budget"),
);

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
        let supervision = upstream(tls, upstreams.supervision)?;
        let budget = upstream(tls, upstreams.budget)?;
        let server = Server::builder()
            .tls_config(ServerTlsConfig::new().identity(identity))?
            .add_service(Route::<0> {
                channel: upstream(tls, upstreams.grouping)?,
            })
            .add_service(Route::<1> {
                channel: upstream(tls, upstreams.points)?,
            })
            .add_service(Route::<2> {
                channel: budget.clone(),
            })
            .add_service(Route::<3> {
                channel: settlement.clone(),
            })
            .add_service(Route::<4> {
                channel: settlement.clone(),
            })
            .add_service(Route::<5> {
                channel: settlement.clone(),
            })
            .add_service(Route::<6> {
                channel: supervision.clone(),
            })
            .add_service(Route::<7> {
                channel: settlement,
            })
            .add_service(Route::<8> {
                channel: supervision.clone(),
            })
            .add_service(Route::<9> {
                channel: supervision,
            })
            .add_service(Route::<10> { channel: budget });
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

#[cfg(test)]
mod tests {
    use super::ROUTED;

    /// Every `service` of a public package in `proto/` (not `internal`), as `package.Service`.
    fn public_services() -> Vec<String> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../proto/medpay");
        let mut services = Vec::new();
        let mut folders = vec![root];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).expect("proto folder") {
                let path = entry.expect("proto entry").path();
                if path.is_dir() {
                    folders.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("proto file");
                let package = text
                    .lines()
                    .find_map(|line| line.strip_prefix("package "))
                    .map(|package| package.trim_end_matches(';').to_owned())
                    .expect("a package line");
                if package.contains(".internal.") {
                    continue;
                }
                for line in text.lines() {
                    if let Some(rest) = line.strip_prefix("service ") {
                        let name = rest.split_whitespace().next().expect("a service name");
                        services.push(format!("{package}.{name}"));
                    }
                }
            }
        }
        services.sort();
        services
    }

    #[test]
    fn every_public_service_is_routed_to_the_context_of_its_package() {
        let mut routed: Vec<String> = ROUTED.iter().map(|(name, _)| (*name).to_owned()).collect();
        routed.sort();
        assert_eq!(routed, public_services());
        for (name, context) in ROUTED {
            let package = name.split('.').nth(1).expect("medpay.<package>");
            // Administration is answered by the budget context, as in envoy.yaml.
            let expected = if package == "admin" {
                "budget"
            } else {
                package
            };
            assert_eq!(*context, expected, "{name}");
        }
    }
}
