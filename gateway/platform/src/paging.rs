//! Keyset pagination (AIP-158) for every list method: a page is "the next `size` rows after this
//! key" in the order of a stable unique key, so a page costs the same at row one million as at
//! row one, and rows inserted between two pages neither repeat nor push others out of sight.
//!
//! The `page_token` a list method hands out is opaque: it carries the last key of the page it
//! ends, a digest of the request it answers (the method and every field but `page_size` and
//! `page_token`) and a check over both. A token that was altered, made up, or issued for another
//! request (another region, another filter) is refused with INVALID_ARGUMENT naming
//! `page_token`. The token is integrity-checked, not secret: the key it carries is the last row
//! the caller already received, and every page is authorised against the request itself.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use tonic::Status;

pub use crate::wire::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// Version of the token layout, first byte of every token.
const TOKEN_VERSION: u8 = 1;
/// Bytes of the request digest a token carries.
const SCOPE_BYTES: usize = 16;
/// Bytes of the check that ends a token.
const CHECK_BYTES: usize = 8;
/// Separates the token check from any other SHA-256 the services compute.
const CHECK_DOMAIN: &[u8] = b"medpay page token v1";

const NOT_ISSUED: &str = "is not a token this service issued: pass next_page_token from the previous \
     response unchanged, or leave it empty for the first page";
const OTHER_REQUEST: &str = "was issued for a different request: region_code and every filter must \
     equal those of the request that returned it (only page_size may change)";

/// What a page token is bound to: a list method and the fields of its request that select rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageScope([u8; SCOPE_BYTES]);

impl PageScope {
    /// The scope of a list request: `method` (its full name) and the request's encoding with
    /// `page_size` and `page_token` cleared, which the caller passes as `selection`. Every field
    /// that selects rows is bound, including fields added to the request later.
    pub fn of<M: prost::Message>(method: &str, selection: &M) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(method.as_bytes());
        hasher.update([0]);
        hasher.update(selection.encode_to_vec());
        let digest = hasher.finalize();
        let mut scope = [0; SCOPE_BYTES];
        scope.copy_from_slice(&digest[..SCOPE_BYTES]);
        PageScope(scope)
    }
}

impl PageScope {
    /// The scope of a list whose selecting fields are not one request message (the audit log
    /// answers every context's own `ListAuditEntriesRequest`): `method` and `selection`, every
    /// field that selects rows, as JSON.
    pub fn of_fields<S: Serialize>(method: &str, selection: &S) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(method.as_bytes());
        hasher.update([0]);
        // A tuple of strings and integers always serialises.
        hasher.update(serde_json::to_vec(selection).unwrap_or_default());
        let digest = hasher.finalize();
        let mut scope = [0; SCOPE_BYTES];
        scope.copy_from_slice(&digest[..SCOPE_BYTES]);
        PageScope(scope)
    }
}

/// A page request read from `page_size` and `page_token`: at most `size` rows whose key is
/// greater than `after` (from the first row when `None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeysetPage<K> {
    pub size: u64,
    pub after: Option<K>,
    scope: PageScope,
}

impl<K: Serialize + DeserializeOwned> KeysetPage<K> {
    /// Reads a page request: `page_size` 0 is [`DEFAULT_PAGE_SIZE`], larger than
    /// [`MAX_PAGE_SIZE`] is that, negative is refused; `page_token` must be empty or a token
    /// issued for `scope`.
    pub fn from_request(
        page_size: i32,
        page_token: &str,
        scope: PageScope,
    ) -> Result<Self, Status> {
        let size = match page_size {
            0 => DEFAULT_PAGE_SIZE,
            n if n < 0 => {
                return Err(crate::status::field_violation(
                    "page_size",
                    "must not be negative",
                ));
            }
            n => u64::try_from(n).unwrap_or(MAX_PAGE_SIZE).min(MAX_PAGE_SIZE),
        };
        let after = if page_token.is_empty() {
            None
        } else {
            Some(read_token(page_token, scope)?)
        };
        Ok(KeysetPage { size, after, scope })
    }

    /// Reads the page of a list request `request` of the method `method` (its full name,
    /// `/package.Service/Method`); `page_fields` points at the request's `page_size` and
    /// `page_token`, and every other field is what the token is bound to.
    pub fn for_request<M: prost::Message + Clone>(
        method: &str,
        request: &M,
        page_fields: fn(&mut M) -> (&mut i32, &mut String),
    ) -> Result<Self, Status> {
        let mut selection = request.clone();
        let (size, token) = page_fields(&mut selection);
        let size = std::mem::take(size);
        let token = std::mem::take(token);
        Self::from_request(size, &token, PageScope::of(method, &selection))
    }

    /// How many rows to fetch: one more than the page, to learn whether another page follows
    /// without a count.
    pub fn fetch_limit(&self) -> u64 {
        self.size + 1
    }

    /// The token of the page that follows the row keyed `last`, for a list that learns by
    /// itself whether more rows follow (one that filters rows after reading them).
    pub fn token_after(&self, last: &K) -> String {
        write_token(last, self.scope)
    }

    /// The page's rows (fetched with [`KeysetPage::fetch_limit`], in key order) and the token
    /// of the next page, empty when this page is the last.
    pub fn finish<R>(&self, mut rows: Vec<R>, key: impl Fn(&R) -> K) -> (Vec<R>, String) {
        let size = usize::try_from(self.size).unwrap_or(usize::MAX);
        if rows.len() <= size {
            return (rows, String::new());
        }
        rows.truncate(size);
        let token = rows
            .last()
            .map(|row| write_token(&key(row), self.scope))
            .unwrap_or_default();
        (rows, token)
    }
}

fn check(body: &[u8]) -> [u8; CHECK_BYTES] {
    let mut hasher = Sha256::new();
    hasher.update(CHECK_DOMAIN);
    hasher.update(body);
    let digest = hasher.finalize();
    let mut out = [0; CHECK_BYTES];
    out.copy_from_slice(&digest[..CHECK_BYTES]);
    out
}

fn write_token<K: Serialize>(key: &K, scope: PageScope) -> String {
    let mut bytes = vec![TOKEN_VERSION];
    bytes.extend_from_slice(&scope.0);
    // A key of strings and integers always serialises.
    bytes.extend(serde_json::to_vec(key).unwrap_or_default());
    let check = check(&bytes);
    bytes.extend_from_slice(&check);
    hex(&bytes)
}

fn read_token<K: DeserializeOwned>(token: &str, scope: PageScope) -> Result<K, Status> {
    let not_issued = || crate::status::field_violation("page_token", NOT_ISSUED);
    let bytes = unhex(token).ok_or_else(not_issued)?;
    if bytes.len() < 1 + SCOPE_BYTES + CHECK_BYTES || bytes[0] != TOKEN_VERSION {
        return Err(not_issued());
    }
    let (body, tail) = bytes.split_at(bytes.len() - CHECK_BYTES);
    if check(body) != tail {
        return Err(not_issued());
    }
    if body[1..=SCOPE_BYTES] != scope.0 {
        return Err(crate::status::field_violation("page_token", OTHER_REQUEST));
    }
    serde_json::from_slice(&body[1 + SCOPE_BYTES..]).map_err(|_| not_issued())
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    out
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let text = text.as_bytes();
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use medpay_proto::common::v1 as pb;

    type Key = (i32, String);

    fn scope(year: i32) -> PageScope {
        PageScope::of("/test.Service/List", &pb::YearMonth { year, month: 1 })
    }

    fn reason(status: &Status) -> String {
        let details = tonic_types::StatusExt::get_error_details(status);
        let bad = details.bad_request().expect("a bad request");
        format!(
            "{}: {}",
            bad.field_violations[0].field, bad.field_violations[0].description
        )
    }

    #[test]
    fn a_full_page_hands_out_the_token_of_its_last_key_and_a_short_one_none() {
        let page = KeysetPage::<Key>::from_request(2, "", scope(2026)).expect("first page");
        assert_eq!(page.after, None);
        assert_eq!(page.fetch_limit(), 3);
        let rows = vec![
            (1, "a".to_owned()),
            (1, "b".to_owned()),
            (2, "a".to_owned()),
        ];
        let (rows, token) = page.finish(rows, Clone::clone);
        assert_eq!(rows.len(), 2);
        let next = KeysetPage::<Key>::from_request(2, &token, scope(2026)).expect("next page");
        assert_eq!(next.after, Some((1, "b".to_owned())));
        let (rows, token) = next.finish(vec![(2, "a".to_owned())], Clone::clone);
        assert_eq!((rows.len(), token.as_str()), (1, ""));
        // The size may change between pages.
        assert!(KeysetPage::<Key>::from_request(400, &format_token(), scope(2026)).is_ok());
    }

    fn format_token() -> String {
        write_token(&(7, "x".to_owned()), scope(2026))
    }

    #[test]
    fn sizes_default_cap_and_refuse_negatives() {
        let size = |n| KeysetPage::<Key>::from_request(n, "", scope(1)).map(|p| p.size);
        assert_eq!(size(0).ok(), Some(DEFAULT_PAGE_SIZE));
        assert_eq!(size(100_000).ok(), Some(MAX_PAGE_SIZE));
        assert!(size(-1).is_err());
    }

    #[test]
    fn altered_made_up_and_offset_tokens_are_refused() {
        let token = format_token();
        let mut altered = token.clone().into_bytes();
        let at = altered.len() / 2;
        altered[at] = if altered[at] == b'0' { b'1' } else { b'0' };
        let altered = String::from_utf8(altered).expect("hex");
        for bad in [
            "o50",
            "garbage",
            "00",
            altered.as_str(),
            &token[..token.len() - 2],
        ] {
            let refused =
                KeysetPage::<Key>::from_request(10, bad, scope(2026)).expect_err("not issued");
            assert_eq!(refused.code(), tonic::Code::InvalidArgument);
            assert!(
                reason(&refused).starts_with("page_token: is not a token"),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_token_of_another_request_is_refused_naming_the_field() {
        let refused = KeysetPage::<Key>::from_request(10, &format_token(), scope(2025))
            .expect_err("another request");
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        assert!(reason(&refused).starts_with("page_token: was issued for a different request"));
        let other_method = PageScope::of(
            "/test.Service/Other",
            &pb::YearMonth {
                year: 2026,
                month: 1,
            },
        );
        assert_ne!(other_method, scope(2026));
    }

    #[test]
    fn a_token_of_another_key_type_is_not_issued() {
        let refused =
            KeysetPage::<(String, String, String)>::from_request(10, &format_token(), scope(2026))
                .expect_err("another key");
        assert!(reason(&refused).starts_with("page_token: is not a token"));
    }
}
