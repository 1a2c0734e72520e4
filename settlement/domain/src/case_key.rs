//! Case identity and versions (DOMAIN.md §5 intake): a case is keyed by (hospital code, list id);
//! its content is fingerprinted by a hash over a canonical serialization, so that resubmitting
//! the same content is a no-op whatever the key order of the JSON it arrived in.
//!
//! The canonical form is the case's typed value written as JSON with object keys sorted by byte
//! order at every level, no whitespace, and amounts as their decimal strings. It does not depend
//! on serde_json's map ordering (which a feature elsewhere in the build could change): keys are
//! sorted here. The hash is FNV-1a 64 over those bytes; it detects resubmissions, it is not a
//! security boundary.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::case::SettlementList;

/// A case's identity: list ids are unique only within a hospital.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CaseKey {
    pub hospital_code: String,
    pub list_id: String,
}

impl CaseKey {
    pub fn of(list: &SettlementList) -> Self {
        Self {
            hospital_code: list.header.hospital_code.clone(),
            list_id: list.header.list_id.clone(),
        }
    }
}

/// FNV-1a 64 fingerprint of a canonical serialization, written as 16 hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContentHash(pub u64);

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl Serialize for ContentHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ContentHash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        u64::from_str_radix(&text, 16)
            .map(ContentHash)
            .map_err(serde::de::Error::custom)
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a(bytes: &[u8], mut state: u64) -> u64 {
    for byte in bytes {
        state ^= u64::from(*byte);
        state = state.wrapping_mul(FNV_PRIME);
    }
    state
}

/// Writes `value` canonically: keys sorted, no whitespace. Strings and numbers are written by
/// serde_json, so escaping is JSON's own.
fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(key.as_str(), out);
                out.push(b':');
                write_canonical(item, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => write_json(scalar, out),
    }
}

fn write_json<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) {
    // Writing a string or a scalar into a Vec cannot fail.
    let written = serde_json::to_writer(&mut *out, value);
    debug_assert!(written.is_ok());
}

/// The canonical serialization of any JSON value (keys sorted at every level).
pub fn canonical_json(value: &Value) -> String {
    let mut out = Vec::new();
    write_canonical(value, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The content hash of a settlement list: FNV-1a 64 over its canonical serialization.
pub fn content_hash(list: &SettlementList) -> ContentHash {
    canonical_json_with_hash(list).1
}

/// The canonical JSON of a settlement list together with its [`content_hash`], from one
/// serialization (intake stores the one and compares the other).
pub fn canonical_json_with_hash(list: &SettlementList) -> (String, ContentHash) {
    let mut canonical = Vec::with_capacity(16_384);
    // Plain data with string keys always serializes; were a type change ever to break that, the
    // (empty) null form is hashed rather than panicking, and every test of this module fails.
    if crate::canonical::write_canonical(list, &mut canonical).is_err() {
        canonical.clear();
        canonical.extend_from_slice(b"null");
    }
    canonical_text_with_hash(canonical)
}

/// Canonical bytes as text, with their [`content_hash`].
pub(crate) fn canonical_text_with_hash(canonical: Vec<u8>) -> (String, ContentHash) {
    let hash = ContentHash(fnv1a(&canonical, FNV_OFFSET));
    (crate::canonical::canonical_text(canonical), hash)
}

/// A stored version of a case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredVersion {
    pub key: CaseKey,
    /// 1 for the first submission, +1 per correction.
    pub version: u32,
    pub content_hash: ContentHash,
}

/// What intake does with a submitted list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "decision")]
pub enum IntakeDecision {
    /// Same content as the stored version: nothing to do.
    NoOp,
    /// First submission of this key: store as version 1.
    NewCase,
    /// Changed content while its month is open: store as `version`.
    Correction { version: u32 },
    /// Changed content after its month closed: store as `version` and settle it at the year
    /// end, not in a monthly prepayment.
    DeferredToYearEnd { version: u32 },
}

/// Decides intake (DOMAIN.md §5): the same content is a no-op; a changed resubmission before the
/// month is closed is a correction kept as a new version; after closing it goes to the year end.
/// A first submission is always a new case: the service books it in the open declaration month.
pub fn decide_intake(
    existing: Option<&StoredVersion>,
    incoming_hash: ContentHash,
    month_closed: bool,
) -> IntakeDecision {
    match existing {
        None => IntakeDecision::NewCase,
        Some(stored) if stored.content_hash == incoming_hash => IntakeDecision::NoOp,
        Some(stored) if month_closed => IntakeDecision::DeferredToYearEnd {
            version: stored.version + 1,
        },
        Some(stored) => IntakeDecision::Correction {
            version: stored.version + 1,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{VALID_LIST_JSON, valid_list};

    #[test]
    fn fnv1a_matches_reference_vectors() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fnv1a(b"", FNV_OFFSET), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a", FNV_OFFSET), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar", FNV_OFFSET), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let a: Value =
            serde_json::from_str(r#"{"b":1,"a":{"y":[1,{"d":2,"c":3}],"x":"s"}}"#).expect("json");
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"x":"s","y":[1,{"c":3,"d":2}]},"b":1}"#
        );
    }

    #[test]
    fn canonical_json_with_hash_agrees_with_its_parts() {
        let list = valid_list();
        let (canonical, hash) = canonical_json_with_hash(&list);
        assert_eq!(hash, content_hash(&list));
        let value = serde_json::to_value(&list).expect("serialise");
        assert_eq!(canonical, canonical_json(&value));
        let mut changed = list.clone();
        changed.header.list_id.push('X');
        assert_ne!(canonical_json_with_hash(&changed).1, hash);
    }

    fn stored(version: u32, hash: u64) -> StoredVersion {
        StoredVersion {
            key: CaseKey {
                hospital_code: "H1".into(),
                list_id: "L1".into(),
            },
            version,
            content_hash: ContentHash(hash),
        }
    }

    #[test]
    fn intake_decisions() {
        let cases = [
            (None, 7, false, IntakeDecision::NewCase),
            (None, 7, true, IntakeDecision::NewCase),
            (Some(stored(1, 7)), 7, false, IntakeDecision::NoOp),
            (Some(stored(3, 7)), 7, true, IntakeDecision::NoOp),
            (
                Some(stored(1, 7)),
                8,
                false,
                IntakeDecision::Correction { version: 2 },
            ),
            (
                Some(stored(2, 7)),
                8,
                true,
                IntakeDecision::DeferredToYearEnd { version: 3 },
            ),
        ];
        for (existing, hash, closed, expected) in cases {
            assert_eq!(
                decide_intake(existing.as_ref(), ContentHash(hash), closed),
                expected,
                "existing {existing:?}, hash {hash}, closed {closed}"
            );
        }
    }

    /// Writes `value` as JSON with each object's keys in an order drawn from `seed`.
    fn write_shuffled(value: &Value, seed: &mut u64, out: &mut String) {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                for i in (1..entries.len()).rev() {
                    *seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    let j = (*seed >> 33) as usize % (i + 1);
                    entries.swap(i, j);
                }
                out.push('{');
                for (i, (key, item)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&Value::String(key.clone()).to_string());
                    out.push_str(": ");
                    write_shuffled(item, seed, out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_shuffled(item, seed, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }

    proptest::proptest! {
        #[test]
        fn content_hash_is_stable_under_json_key_reordering(seed in proptest::prelude::any::<u64>()) {
            let value: Value = serde_json::from_str(VALID_LIST_JSON).expect("fixture");
            let mut state = seed;
            let mut text = String::new();
            write_shuffled(&value, &mut state, &mut text);
            let reordered: SettlementList = serde_json::from_str(&text).expect("reordered parses");
            proptest::prop_assert_eq!(content_hash(&reordered), content_hash(&valid_list()));
        }
    }

    #[test]
    fn content_hash_sees_content_not_notation() {
        let base = content_hash(&valid_list());
        // The same amount written with fewer places is the same content.
        let renotated = VALID_LIST_JSON.replace("\"7000.00\"", "\"7000\"");
        let parsed: SettlementList = serde_json::from_str(&renotated).expect("parses");
        assert_eq!(content_hash(&parsed), base);
        // A changed fen is a changed case.
        let mut changed = valid_list();
        changed.payment.personal_cash = kernel::Money::from_fen(200_001);
        assert_ne!(content_hash(&changed), base);
        let mut reordered_diagnoses = valid_list();
        reordered_diagnoses.diagnoses.reverse();
        assert_ne!(
            content_hash(&reordered_diagnoses),
            base,
            "diagnosis order is content"
        );
    }

    #[test]
    fn hash_round_trips_as_hex() {
        let h = ContentHash(0x00ab_cdef_0123_4567);
        let json = serde_json::to_string(&h).expect("ser");
        assert_eq!(json, "\"00abcdef01234567\"");
        assert_eq!(serde_json::from_str::<ContentHash>(&json).expect("de"), h);
    }
}
