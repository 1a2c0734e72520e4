//! Commands that act on a running server as a client (`medpay settlement import`, `medpay demo
//! --server`): where the server is, and a channel that sends the caller's API key on every call.

use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::{Request, Status};

use crate::config::Settings;

/// A channel to a server that carries the caller's credentials on every call.
pub type Channel = InterceptedService<tonic::transport::Channel, Credentials>;

/// The `authorization: Bearer <key>` header of every call, or nothing (an anonymous caller,
/// which a server accepts only where `auth.allow_anonymous` holds).
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    authorization: Option<MetadataValue<Ascii>>,
}

impl Credentials {
    /// Credentials of `api_key` (`--api-key`), or anonymous ones when absent.
    pub fn new(api_key: Option<&str>) -> anyhow::Result<Self> {
        let authorization = api_key
            .map(|key| {
                format!("Bearer {key}")
                    .parse()
                    .map_err(|_| anyhow::anyhow!("--api-key must be printable ASCII"))
            })
            .transpose()?;
        Ok(Self { authorization })
    }
}

impl tonic::service::Interceptor for Credentials {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = &self.authorization {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// The URL of `--server`: as given when it has a scheme, `http://` before a bare `host:port`,
/// and the configured listen address (loopback for an unspecified one) when absent.
pub fn server_url(settings: &Settings, server: Option<&str>) -> String {
    match server {
        Some(url) if url.contains("://") => url.to_owned(),
        Some(address) => format!("http://{address}"),
        None => {
            let mut address = settings.server.listen;
            if address.ip().is_unspecified() {
                address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            format!("http://{address}")
        }
    }
}

/// Connects to `url` with `credentials`; an error names the URL it could not reach.
pub async fn connect(url: &str, credentials: Credentials) -> anyhow::Result<Channel> {
    let channel = tonic::transport::Endpoint::from_shared(url.to_owned())
        .map_err(|e| anyhow::anyhow!("server {url}: {e}"))?
        .connect()
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach {url}: {e}"))?;
    Ok(InterceptedService::new(channel, credentials))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::service::Interceptor as _;

    #[test]
    fn a_key_goes_out_as_a_bearer_header_and_no_key_sends_none() -> anyhow::Result<()> {
        let mut keyed = Credentials::new(Some("mpk_abc_def"))?;
        let request = keyed.call(Request::new(()))?;
        assert_eq!(
            request
                .metadata()
                .get("authorization")
                .map(|v| v.to_str().unwrap_or_default()),
            Some("Bearer mpk_abc_def")
        );
        let mut anonymous = Credentials::new(None)?;
        let request = anonymous.call(Request::new(()))?;
        assert!(request.metadata().get("authorization").is_none());
        assert!(Credentials::new(Some("clé\n")).is_err());
        Ok(())
    }

    #[test]
    fn a_bare_address_is_read_as_plaintext_http() -> anyhow::Result<()> {
        let settings = crate::config::load_from(None, Vec::new())?;
        assert_eq!(
            server_url(&settings, Some("127.0.0.1:7")),
            "http://127.0.0.1:7"
        );
        assert_eq!(
            server_url(&settings, Some("https://gw.example:443")),
            "https://gw.example:443"
        );
        assert!(server_url(&settings, None).starts_with("http://"));
        Ok(())
    }
}
