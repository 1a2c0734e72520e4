//! Verifying presented keys against the store, with a short cache.
//!
//! argon2 costs tens of milliseconds by design, far too much for every gRPC call, so a key that
//! verified is remembered for [`CACHE_SECONDS`] (or until it ends, if sooner) by the SHA-256 of its
//! secret. A revocation or rotation made through this process forgets the key at once; one made
//! by another process (another server, or `medpay admin keys` on the box) takes effect here when
//! the cached entry runs out, within [`CACHE_SECONDS`].

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

use super::Caller;
use super::key::PresentedKey;
use super::store::{KeyStore, StoreError};
use super::unix_now;

/// Longest a verified key is trusted without reading the store again.
pub const CACHE_SECONDS: u64 = 30;
/// Cached keys above which stale entries are swept on insert.
const SWEEP_ABOVE: usize = 4096;

struct CachedKey {
    secret_digest: [u8; 32],
    caller: Arc<Caller>,
    until: Instant,
}

/// Stored keys and the cache of those verified recently.
pub struct StoredKeys {
    store: KeyStore,
    cache: Mutex<HashMap<String, CachedKey>>,
    ttl: Duration,
    /// Bumped by every [`StoredKeys::forget`]: a verification that read a key before a change
    /// to it must not cache what it read.
    forgotten: AtomicU64,
}

impl StoredKeys {
    pub fn new(store: KeyStore) -> Self {
        Self::with_cache_ttl(store, Duration::from_secs(CACHE_SECONDS))
    }

    /// With another cache lifetime (tests use it to see a change made elsewhere).
    pub fn with_cache_ttl(store: KeyStore, ttl: Duration) -> Self {
        Self {
            store,
            cache: Mutex::new(HashMap::new()),
            ttl,
            forgotten: AtomicU64::new(0),
        }
    }

    pub fn store(&self) -> &KeyStore {
        &self.store
    }

    /// Drops a key from the cache, so that a change to it applies to the next request.
    pub fn forget(&self, key_id: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(key_id);
            self.forgotten.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// The caller of a presented key, or `None` when the key is unknown, revoked, expired or
    /// its secret is wrong (the caller is told none of these apart).
    pub async fn verify(&self, key: &PresentedKey<'_>) -> Result<Option<Arc<Caller>>, StoreError> {
        let digest = key.secret_digest();
        let now = Instant::now();
        if let Some(known) = self.cached(key.key_id(), &digest, now) {
            return Ok(known);
        }
        let generation = self.forgotten.load(Ordering::SeqCst);
        let Some((record, hash)) = self.store.get_with_hash(key.key_id()).await? else {
            return Ok(None);
        };
        let unix = unix_now();
        if !record.is_active_at(unix) {
            return Ok(None);
        }
        let secret_matches = tokio::task::spawn_blocking(key.hash_check(hash))
            .await
            .unwrap_or(false);
        if !secret_matches {
            return Ok(None);
        }
        let mut lifetime = self.ttl;
        if let Some(end) = record.ends_at() {
            let left = u64::try_from(end.saturating_sub(unix)).unwrap_or(0);
            lifetime = lifetime.min(Duration::from_secs(left));
        }
        let caller = Caller::new(record.principal());
        if let Ok(mut cache) = self.cache.lock()
            && self.forgotten.load(Ordering::SeqCst) == generation
        {
            if cache.len() >= SWEEP_ABOVE {
                cache.retain(|_, entry| entry.until > now);
            }
            cache.insert(
                record.key_id,
                CachedKey {
                    secret_digest: digest,
                    caller: caller.clone(),
                    until: now + lifetime,
                },
            );
        }
        Ok(Some(caller))
    }

    /// What the cache knows: `Some(Some(p))` verified, `Some(None)` a wrong secret for a key
    /// verified recently (no need to run argon2 to refuse it), `None` nothing.
    fn cached(&self, key_id: &str, digest: &[u8; 32], now: Instant) -> Option<Option<Arc<Caller>>> {
        let mut cache = self.cache.lock().ok()?;
        let entry = cache.get(key_id)?;
        if entry.until <= now {
            cache.remove(key_id);
            return None;
        }
        if bool::from(entry.secret_digest.ct_eq(digest)) {
            Some(Some(entry.caller.clone()))
        } else {
            Some(None)
        }
    }
}
