//! `medpay health`: asks a running server's grpc.health whether it serves, for container health
//! checks and exec probes. It speaks plaintext, to the health listener (`server.health_listen`)
//! when one is configured, else to the public listener of a server without TLS.

use std::net::SocketAddr;
use std::time::Duration;

use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::config::Settings;

/// The address `medpay health` asks when none is given.
pub fn default_address(settings: &Settings) -> anyhow::Result<SocketAddr> {
    let configured = settings.server.health_listen.trim();
    let address = if configured.is_empty() {
        anyhow::ensure!(
            settings.server.tls.cert.is_empty(),
            "server.tls is on and server.health_listen is empty: set server.health_listen (a \
             plaintext health listener) or pass --address"
        );
        settings.server.listen
    } else {
        configured
            .parse()
            .map_err(|e| anyhow::anyhow!("server.health_listen {configured:?}: {e}"))?
    };
    Ok(reachable(address))
}

/// A wildcard address names every interface; ask on loopback.
fn reachable(address: SocketAddr) -> SocketAddr {
    if !address.ip().is_unspecified() {
        return address;
    }
    let loopback: std::net::IpAddr = if address.is_ipv6() {
        std::net::Ipv6Addr::LOCALHOST.into()
    } else {
        std::net::Ipv4Addr::LOCALHOST.into()
    };
    SocketAddr::new(loopback, address.port())
}

/// Succeeds when the server at `address` reports `service` (empty: the server as a whole) as
/// SERVING within `timeout`; fails naming what it saw otherwise.
pub async fn check(address: SocketAddr, service: &str, timeout: Duration) -> anyhow::Result<()> {
    let target = format!("http://{}", reachable(address));
    let channel = tonic::transport::Endpoint::from_shared(target.clone())?
        .connect_timeout(timeout)
        .timeout(timeout)
        .connect()
        .await
        .map_err(|e| anyhow::anyhow!("{target}: cannot connect: {e}"))?;
    let status = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .map_err(|e| anyhow::anyhow!("{target}: health check failed: {}", e.message()))?
        .into_inner()
        .status;
    let status = ServingStatus::try_from(status).unwrap_or(ServingStatus::Unknown);
    let what = if service.is_empty() {
        "the server"
    } else {
        service
    };
    anyhow::ensure!(
        status == ServingStatus::Serving,
        "{target}: {what} is {}",
        status.as_str_name()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        let env = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        crate::config::load_from(None, env).expect("valid settings")
    }

    #[test]
    fn asks_the_health_listener_on_loopback_before_the_public_one() {
        let plain = settings(&[("MEDPAY__SERVER__LISTEN", "0.0.0.0:7000")]);
        assert_eq!(
            default_address(&plain).expect("plaintext server"),
            "127.0.0.1:7000".parse().expect("address")
        );
        let probed = settings(&[
            ("MEDPAY__SERVER__LISTEN", "0.0.0.0:7000"),
            ("MEDPAY__SERVER__HEALTH_LISTEN", "0.0.0.0:7003"),
        ]);
        assert_eq!(
            default_address(&probed).expect("health listener"),
            "127.0.0.1:7003".parse().expect("address")
        );
    }

    #[test]
    fn a_tls_server_without_a_health_listener_is_named_not_guessed() {
        let tls = settings(&[
            ("MEDPAY__SERVER__TLS__CERT", "/etc/medpay/tls/tls.crt"),
            ("MEDPAY__SERVER__TLS__KEY", "/etc/medpay/tls/tls.key"),
        ]);
        let error = default_address(&tls).expect_err("plaintext cannot reach a TLS listener");
        assert!(
            error.to_string().contains("server.health_listen"),
            "{error}"
        );
    }
}
