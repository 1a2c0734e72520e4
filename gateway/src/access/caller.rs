//! A verified caller, as the edge passes it on.

use std::sync::Arc;

use http::HeaderMap;
use kernel::Principal;
use tonic::Status;

/// A verified caller: its principal and the principal headers the services behind the edge read
/// ([`platform::set_principal`]), rendered once for each configured key, certificate, development
/// principal and cached key of the key store, not on every request it makes.
#[derive(Debug)]
pub struct Caller {
    principal: Principal,
    headers: Result<HeaderMap, Status>,
}

impl Caller {
    pub(crate) fn new(principal: Principal) -> Arc<Self> {
        let mut metadata = tonic::metadata::MetadataMap::new();
        let headers =
            platform::set_principal(&mut metadata, &principal).map(|()| metadata.into_headers());
        Arc::new(Self { principal, headers })
    }

    /// Sets the caller's principal headers on a request whose own principal headers are gone.
    pub(crate) fn forward(&self, request: &mut HeaderMap) -> Result<(), Status> {
        let headers = self.headers.as_ref().map_err(Clone::clone)?;
        for (name, value) in headers {
            request.insert(name.clone(), value.clone());
        }
        Ok(())
    }
}

impl std::ops::Deref for Caller {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        &self.principal
    }
}

/// Two callers are the same when their principals are.
impl PartialEq for Caller {
    fn eq(&self, other: &Self) -> bool {
        self.principal == other.principal
    }
}
