//! TLS of the listeners and of calls to peers, from the PEM files named in the configuration,
//! and the identity of a client certificate.

use std::path::Path;

use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

use crate::config::{PeersSettings, TlsSettings};
use crate::edge::Listener;

fn read(what: &str, path: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(Path::new(path)).map_err(|e| anyhow::anyhow!("{what} {path}: {e}"))
}

/// The TLS configuration of a listener, or `None` for plaintext (no certificate configured).
///
/// With a client CA, a client certificate is verified against it: optional on the public
/// listener (an agency may authenticate with a key instead), required on the internal one.
pub fn server_config(
    settings: &TlsSettings,
    listener: Listener,
) -> anyhow::Result<Option<ServerTlsConfig>> {
    if settings.cert.is_empty() {
        return Ok(None);
    }
    let identity = Identity::from_pem(
        read("server.tls.cert", &settings.cert)?,
        read("server.tls.key", &settings.key)?,
    );
    let mut config = ServerTlsConfig::new().identity(identity);
    if !settings.client_ca.is_empty() {
        config = config
            .client_ca_root(Certificate::from_pem(read(
                "server.tls.client_ca",
                &settings.client_ca,
            )?))
            .client_auth_optional(listener == Listener::Public);
    }
    Ok(Some(config))
}

/// The TLS configuration of calls to peers, or `None` when peers are called in plaintext.
pub fn peer_config(settings: &PeersSettings) -> anyhow::Result<Option<ClientTlsConfig>> {
    if settings.tls_ca.is_empty() {
        return Ok(None);
    }
    let mut config = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(
        "peers.tls_ca",
        &settings.tls_ca,
    )?));
    if !settings.tls_cert.is_empty() {
        config = config.identity(Identity::from_pem(
            read("peers.tls_cert", &settings.tls_cert)?,
            read("peers.tls_key", &settings.tls_key)?,
        ));
    }
    if !settings.tls_domain.is_empty() {
        config = config.domain_name(settings.tls_domain.clone());
    }
    Ok(Some(config))
}

/// The subject common name of a DER certificate, if it has one.
pub fn common_name(der: &[u8]) -> Option<String> {
    let (_, certificate) = x509_parser::parse_x509_certificate(der).ok()?;
    let name = certificate
        .subject()
        .iter_common_name()
        .next()?
        .as_str()
        .ok()?
        .to_owned();
    Some(name)
}
