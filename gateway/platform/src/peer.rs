//! How one context calls another's internal contract: with the service's api key, and, where the
//! peer scopes its answer to the caller, with the caller's principal.
//!
//! Every peer client (settlement's valuer, budget and supervision ports, supervision's case
//! source) builds its requests here, so a peer sees the same credentials from every caller, and
//! every call carries its trace (`platform::trace`).

use kernel::Principal;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::{Request, Status};

/// The largest message a peer call sends or accepts: a month of a prefecture's cases or
/// valuations in one answer stays well under it.
pub const PEER_MESSAGE_LIMIT: usize = 64 * 1024 * 1024;

/// The service's credentials towards its peers: `authorization: Bearer <api key>`, or nothing
/// when the peers trust the connection (mutual TLS, or one process).
#[derive(Clone, Debug, Default)]
pub struct PeerCredentials {
    authorization: Option<MetadataValue<Ascii>>,
}

impl PeerCredentials {
    /// Credentials from the configured `peers.api_key`; empty means none.
    pub fn from_api_key(api_key: Option<&str>) -> Result<Self, String> {
        let authorization = match api_key {
            None | Some("") => None,
            Some(key) => Some(
                format!("Bearer {key}")
                    .parse()
                    .map_err(|_| "the peer api key is not valid header text".to_owned())?,
            ),
        };
        Ok(Self { authorization })
    }

    /// A request carrying the service's credentials only (the peer answers the service itself)
    /// and the trace it is made in (`traceparent`, a span of its own).
    pub fn request<T>(&self, body: T) -> Request<T> {
        let mut request = Request::new(body);
        if let Some(value) = crate::trace::peer_traceparent()
            .and_then(|traceparent| MetadataValue::try_from(traceparent).ok())
        {
            request
                .metadata_mut()
                .insert(crate::trace::TRACEPARENT, value);
        }
        if let Some(value) = &self.authorization {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        request
    }

    /// A request carrying the service's credentials and the caller's principal, so the peer
    /// scopes its answer to what the caller may see (a gateway in between replaces the principal
    /// with its api key's).
    pub fn request_for<T>(&self, principal: &Principal, body: T) -> Result<Request<T>, Status> {
        let mut request = self.request(body);
        crate::set_principal(request.metadata_mut(), principal)?;
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_travels_as_a_bearer_token_and_no_key_sends_nothing() {
        let with_key = PeerCredentials::from_api_key(Some("k-123")).expect("valid key");
        let request = with_key.request(());
        assert_eq!(
            request
                .metadata()
                .get("authorization")
                .and_then(|v| v.to_str().ok()),
            Some("Bearer k-123")
        );
        for none in [None, Some("")] {
            let without = PeerCredentials::from_api_key(none).expect("no key");
            assert!(
                without
                    .request(())
                    .metadata()
                    .get("authorization")
                    .is_none()
            );
        }
    }

    #[test]
    fn a_key_that_is_not_header_text_is_refused() {
        let refused = PeerCredentials::from_api_key(Some("line\nbreak")).expect_err("refused");
        assert!(refused.contains("peer api key"), "{refused}");
    }
}
