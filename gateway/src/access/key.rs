//! The key material: generating a key, its text form `mpk_<key id>_<secret>`, and the argon2id
//! hash that is all the store keeps of the secret.
//!
//! Nothing here implements `Display` or a revealing `Debug` for a secret, so a key cannot reach a
//! log line by accident: the only way to the text of a key is [`IssuedKey::reveal`].

use std::fmt;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

/// Every stored key starts with this, so a key found in a repository or a log is recognisable.
pub const KEY_PREFIX: &str = "mpk_";
/// Random bytes of a key id: enough that two keys never share one.
const KEY_ID_BYTES: usize = 8;
/// Random bytes of a secret: 256 bits.
const SECRET_BYTES: usize = 32;

/// Why a key could not be made or checked.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the operating system's random source failed: {0}")]
    Random(String),
    #[error("hashing the key failed: {0}")]
    Hash(String),
}

/// A secret, wrapped so that it prints as `<redacted>`.
#[derive(Clone)]
struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A freshly generated key: its id and secret.
#[derive(Debug)]
pub struct IssuedKey {
    key_id: String,
    secret: Secret,
}

impl IssuedKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<Self, KeyError> {
        Ok(Self {
            key_id: random_hex(KEY_ID_BYTES)?,
            secret: Secret(random_hex(SECRET_BYTES)?),
        })
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The full key, to be shown once to whoever asked for it.
    pub fn reveal(&self) -> String {
        format!("{KEY_PREFIX}{}_{}", self.key_id, self.secret.0)
    }

    /// The argon2id PHC string of the secret, with a fresh salt. Slow on purpose (tens of
    /// milliseconds): run it off the async threads.
    pub fn hash(&self) -> Result<String, KeyError> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| KeyError::Random(e.to_string()))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| KeyError::Hash(e.to_string()))?;
        Argon2::default()
            .hash_password(self.secret.0.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| KeyError::Hash(e.to_string()))
    }
}

/// A key as a caller presented it, split into its id and secret.
pub struct PresentedKey<'a> {
    key_id: &'a str,
    secret: &'a str,
}

impl fmt::Debug for PresentedKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresentedKey")
            .field("key_id", &self.key_id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl<'a> PresentedKey<'a> {
    /// Splits `mpk_<key id>_<secret>`; anything else (another length, upper case, other
    /// characters) is not a stored key.
    pub fn parse(token: &'a str) -> Option<Self> {
        let rest = token.strip_prefix(KEY_PREFIX)?;
        let (key_id, secret) = rest.split_once('_')?;
        (is_lower_hex(key_id, KEY_ID_BYTES) && is_lower_hex(secret, SECRET_BYTES))
            .then_some(Self { key_id, secret })
    }

    pub fn key_id(&self) -> &'a str {
        self.key_id
    }

    /// Whether the secret matches the PHC hash (argon2's comparison is constant-time). Slow on
    /// purpose: run it off the async threads.
    pub fn matches_hash(&self, phc: &str) -> bool {
        self.hash_check(phc.to_owned())()
    }

    /// [`PresentedKey::matches_hash`] as a closure that owns what it needs, to run on a blocking
    /// thread.
    pub fn hash_check(&self, phc: String) -> impl FnOnce() -> bool + Send + 'static {
        let secret = Secret(self.secret.to_owned());
        move || {
            PasswordHash::new(&phc).is_ok_and(|hash| {
                Argon2::default()
                    .verify_password(secret.0.as_bytes(), &hash)
                    .is_ok()
            })
        }
    }

    /// A fast digest of the secret, for the cache of keys verified recently.
    pub fn secret_digest(&self) -> [u8; 32] {
        Sha256::digest(self.secret.as_bytes()).into()
    }
}

/// Whether `key_id` has the form of a key id (for requests that name one).
pub fn is_key_id(key_id: &str) -> bool {
    is_lower_hex(key_id, KEY_ID_BYTES)
}

fn is_lower_hex(text: &str, bytes: usize) -> bool {
    text.len() == bytes * 2 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `bytes` random bytes from the operating system, as lowercase hex.
pub(crate) fn random_hex(bytes: usize) -> Result<String, KeyError> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).map_err(|e| KeyError::Random(e.to_string()))?;
    Ok(buffer.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_parses_back_and_matches_only_its_own_hash() {
        let key = IssuedKey::generate().expect("random");
        let text = key.reveal();
        assert!(text.starts_with("mpk_"));
        assert_eq!(
            text.len(),
            4 + 16 + 1 + 64,
            "{} bits of secret",
            SECRET_BYTES * 8
        );
        let hash = key.hash().expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains(&text[21..]), "the hash holds no secret");
        let presented = PresentedKey::parse(&text).expect("well formed");
        assert_eq!(presented.key_id(), key.key_id());
        assert!(presented.matches_hash(&hash));
        let other = IssuedKey::generate().expect("random");
        assert_ne!(other.key_id(), key.key_id());
        let other_text = other.reveal();
        let other_presented = PresentedKey::parse(&other_text).expect("well formed");
        assert!(!other_presented.matches_hash(&hash));
        assert!(!presented.matches_hash("not a phc string"));
    }

    #[test]
    fn malformed_keys_are_not_parsed() {
        let key = IssuedKey::generate().expect("random").reveal();
        for bad in [
            "",
            "mpk_",
            &key[..key.len() - 1],
            &key.to_uppercase(),
            &key.replace("mpk_", "mpx_"),
            &format!("{key}0"),
            &key.replacen('_', "-", 2),
        ] {
            assert!(PresentedKey::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn secrets_do_not_print() {
        let key = IssuedKey::generate().expect("random");
        let text = key.reveal();
        let secret = &text[21..];
        assert!(!format!("{key:?}").contains(secret));
        let presented = PresentedKey::parse(&text).expect("well formed");
        assert!(!format!("{presented:?}").contains(secret));
    }
}
