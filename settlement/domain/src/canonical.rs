//! The canonical JSON of any serializable value, written straight from the value: the bytes are
//! those of `serde_json::to_value` written with every object's keys sorted by byte order, without
//! building the `Value` tree (intake fingerprints every list it receives, and the tree's
//! allocations were most of that work).
//!
//! Scalars and strings are written by serde_json itself, so escaping and number notation are
//! JSON's own. Each object is written into a scratch buffer member by member and then copied out
//! in key order.

use std::borrow::Cow;
use std::ops::Range;

use serde::ser::{self, Serialize};
use serde_json::Error;

/// Writes `value` canonically into `out`.
pub fn write_canonical<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<(), Error> {
    value.serialize(Canonical { out })
}

/// Canonical bytes as text: serde_json writes UTF-8 only.
pub(crate) fn canonical_text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes)
        .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

fn write_json<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<(), Error> {
    serde_json::to_writer(out, value)
}

struct Canonical<'a> {
    out: &'a mut Vec<u8>,
}

/// An object being written: each member's value sits in `scratch` at its range.
struct Object<'a> {
    out: &'a mut Vec<u8>,
    scratch: Vec<u8>,
    members: Vec<(Cow<'static, str>, Range<usize>)>,
    /// The key of a map entry whose value is still to come.
    pending_key: Option<String>,
    /// Set for an enum variant written as `{"variant": {…}}`.
    variant: Option<&'static str>,
}

/// Members of an object being written, by key, each with its value's place in the scratch.
type Members = Vec<(Cow<'static, str>, Range<usize>)>;

/// Scratch buffers and member lists of finished objects, kept for the next objects the thread
/// writes: a settlement list is some two hundred objects, and allocating and growing each one's
/// scratch was a good part of writing it.
#[derive(Default)]
struct Spares {
    scratch: Vec<Vec<u8>>,
    members: Vec<Members>,
}

/// Most spares a thread keeps, and the largest scratch it keeps.
const SPARES_KEPT: usize = 16;
const SPARE_SCRATCH_BYTES: usize = 64 * 1024;

thread_local! {
    static SPARES: std::cell::RefCell<Spares> = std::cell::RefCell::default();
}

impl<'a> Object<'a> {
    fn new(out: &'a mut Vec<u8>, len: Option<usize>, variant: Option<&'static str>) -> Self {
        let (scratch, members) = SPARES.with(|spares| {
            let mut spares = spares.borrow_mut();
            (spares.scratch.pop(), spares.members.pop())
        });
        Self {
            out,
            scratch: scratch.unwrap_or_else(|| Vec::with_capacity(256)),
            members: members.unwrap_or_else(|| Vec::with_capacity(len.unwrap_or(8))),
            pending_key: None,
            variant,
        }
    }

    fn member<T: Serialize + ?Sized>(
        &mut self,
        key: Cow<'static, str>,
        value: &T,
    ) -> Result<(), Error> {
        let start = self.scratch.len();
        value.serialize(Canonical {
            out: &mut self.scratch,
        })?;
        self.members.push((key, start..self.scratch.len()));
        Ok(())
    }

    fn finish(mut self) -> Result<(), Error> {
        // A map may name a key twice; the value tree keeps the last, and so does this (the sort
        // is stable, so the last of equal keys comes last).
        self.members
            .sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        if let Some(variant) = self.variant {
            self.out.push(b'{');
            write_json(variant, self.out)?;
            self.out.push(b':');
        }
        self.out.push(b'{');
        let mut first = true;
        for (at, (key, range)) in self.members.iter().enumerate() {
            if self
                .members
                .get(at + 1)
                .is_some_and(|(next, _)| next == key)
            {
                continue;
            }
            if !first {
                self.out.push(b',');
            }
            first = false;
            write_json(key.as_ref(), self.out)?;
            self.out.push(b':');
            self.out.extend_from_slice(&self.scratch[range.clone()]);
        }
        self.out.push(b'}');
        if self.variant.is_some() {
            self.out.push(b'}');
        }
        Ok(())
    }
}

impl Drop for Object<'_> {
    fn drop(&mut self) {
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut members = std::mem::take(&mut self.members);
        if scratch.capacity() > SPARE_SCRATCH_BYTES {
            return;
        }
        scratch.clear();
        members.clear();
        SPARES.with(|spares| {
            let mut spares = spares.borrow_mut();
            if spares.scratch.len() < SPARES_KEPT {
                spares.scratch.push(scratch);
                spares.members.push(members);
            }
        });
    }
}

/// An array being written; `variant` wraps it as `{"variant": […]}`.
struct Array<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
    variant: Option<&'static str>,
}

impl<'a> Array<'a> {
    fn new(out: &'a mut Vec<u8>, variant: Option<&'static str>) -> Result<Self, Error> {
        if let Some(variant) = variant {
            out.push(b'{');
            write_json(variant, out)?;
            out.push(b':');
        }
        out.push(b'[');
        Ok(Self {
            out,
            first: true,
            variant,
        })
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        value.serialize(Canonical {
            out: &mut *self.out,
        })
    }

    fn finish(self) -> Result<(), Error> {
        self.out.push(b']');
        if self.variant.is_some() {
            self.out.push(b'}');
        }
        Ok(())
    }
}

impl<'a> ser::Serializer for Canonical<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Array<'a>;
    type SerializeTuple = Array<'a>;
    type SerializeTupleStruct = Array<'a>;
    type SerializeTupleVariant = Array<'a>;
    type SerializeMap = Object<'a>;
    type SerializeStruct = Object<'a>;
    type SerializeStructVariant = Object<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        write_json(&v, self.out)
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        write_json(&v, self.out)
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        write_json(&v, self.out)
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        write_json(&v, self.out)
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        write_json(&v, self.out)
    }
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        // The value tree holds what fits 64 bits and refuses the rest.
        write_json(&serde_json::to_value(v)?, self.out)
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        write_json(&v, self.out)
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        write_json(&v, self.out)
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        write_json(&v, self.out)
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        write_json(&v, self.out)
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        write_json(&serde_json::to_value(v)?, self.out)
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        // Through the value tree, which widens an f32 to f64 (and writes non-finite as null).
        write_json(&serde_json::to_value(v)?, self.out)
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        write_json(&serde_json::to_value(v)?, self.out)
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        write_json(&v, self.out)
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_json(v, self.out)
    }
    /// Written by serde_json straight from `Display`, escaped as a string is: the default would
    /// allocate a `String` for every amount and date of a list first.
    fn collect_str<T: std::fmt::Display + ?Sized>(self, value: &T) -> Result<(), Error> {
        ser::Serializer::collect_str(&mut serde_json::Serializer::new(&mut *self.out), value)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        write_json(v, self.out)
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_none()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        write_json(variant, self.out)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.out.push(b'{');
        write_json(variant, self.out)?;
        self.out.push(b':');
        value.serialize(Canonical {
            out: &mut *self.out,
        })?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Array<'a>, Error> {
        Array::new(self.out, None)
    }
    fn serialize_tuple(self, _len: usize) -> Result<Array<'a>, Error> {
        Array::new(self.out, None)
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Array<'a>, Error> {
        Array::new(self.out, None)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Array<'a>, Error> {
        Array::new(self.out, Some(variant))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Object<'a>, Error> {
        Ok(Object::new(self.out, len, None))
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Object<'a>, Error> {
        Ok(Object::new(self.out, Some(len), None))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Object<'a>, Error> {
        Ok(Object::new(self.out, Some(len), Some(variant)))
    }
}

/// The element-writing traits of serde, all of which [`Array`] meets the same way.
macro_rules! array_serializer {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Array<'_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.element(value)
            }
            fn end(self) -> Result<(), Error> {
                self.finish()
            }
        }
    )*};
}

array_serializer!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// The key of a map entry as the value tree holds it: a string as is, a number, bool or char as
/// its text; anything else is refused, as the value tree refuses it.
fn map_key<K: Serialize + ?Sized>(key: &K) -> Result<String, Error> {
    match serde_json::to_value(key)? {
        serde_json::Value::String(text) => Ok(text),
        serde_json::Value::Number(number) => Ok(number.to_string()),
        serde_json::Value::Bool(flag) => Ok(flag.to_string()),
        _ => Err(ser::Error::custom("key must be a string")),
    }
}

impl ser::SerializeMap for Object<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.pending_key = Some(map_key(key)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .pending_key
            .take()
            .ok_or_else(|| <Error as ser::Error>::custom("map value without a key"))?;
        self.member(Cow::Owned(key), value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

/// Struct members, named by the type, for plain structs and struct variants alike.
macro_rules! struct_serializer {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Object<'_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Error> {
                self.member(Cow::Borrowed(key), value)
            }
            fn end(self) -> Result<(), Error> {
                self.finish()
            }
        }
    )*};
}

struct_serializer!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use proptest::prelude::*;
    use serde::Serialize;

    use super::write_canonical;
    use crate::case_key::canonical_json;
    use crate::fixtures::valid_list;

    /// What the value tree gives: the definition the direct writer must meet byte for byte.
    fn through_value_tree<T: Serialize>(value: &T) -> String {
        canonical_json(&serde_json::to_value(value).expect("value tree"))
    }

    fn direct<T: Serialize>(value: &T) -> String {
        let mut out = Vec::new();
        write_canonical(value, &mut out).expect("canonical");
        String::from_utf8(out).expect("utf-8")
    }

    #[derive(Serialize)]
    struct Unit;

    #[derive(Serialize)]
    struct Wrapped(u32);

    #[derive(Serialize)]
    enum Shape {
        Empty,
        Side(i64),
        Corner(i8, String),
        Box { width: u16, depth: Option<u8> },
    }

    #[derive(Serialize)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    enum Tagged {
        Plain { zeta: bool, alpha: String },
    }

    #[derive(Serialize)]
    struct Extra {
        yes: char,
        absent: Option<String>,
    }

    #[derive(Serialize)]
    struct Everything {
        zebra: String,
        apple: Vec<Shape>,
        #[serde(rename = "Capital")]
        capital: Unit,
        middle: Wrapped,
        numbers: (i128, u128, f64, f64, f32),
        bytes: Vec<u8>,
        by_number: BTreeMap<i32, &'static str>,
        by_name: HashMap<String, Tagged>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        #[serde(flatten)]
        extra: Extra,
        nothing: (),
    }

    /// Serialized through `collect_str`, with text that must be escaped.
    struct Shown(&'static str);

    impl std::fmt::Display for Shown {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{}:{}", self.0, self.0.len())
        }
    }

    impl Serialize for Shown {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_str(self)
        }
    }

    #[test]
    fn text_collected_from_display_matches_the_value_tree() {
        let shown: BTreeMap<&str, Vec<Shown>> = BTreeMap::from([
            ("b", vec![Shown("plain"), Shown("")]),
            (
                "a",
                vec![Shown("quote \" back \\ line\n tab\t \u{1}"), Shown("中文")],
            ),
        ]);
        assert_eq!(direct(&shown), through_value_tree(&shown));
        let written = direct(&shown);
        for escaped in [
            r#"quote \" back"#,
            r"\\ line\n tab\t \u0001:",
            r#""中文:6""#,
        ] {
            assert!(written.contains(escaped), "{escaped} in {written}");
        }
    }

    #[test]
    fn every_shape_of_data_matches_the_value_tree() {
        let mut by_name = HashMap::new();
        for (i, key) in ["b", "a", "ä", "A", "", "a\u{0}b", "\"q\""]
            .iter()
            .enumerate()
        {
            by_name.insert(
                (*key).to_owned(),
                Tagged::Plain {
                    zeta: i % 2 == 0,
                    alpha: format!("line\n{i}\t\u{1f}\\/"),
                },
            );
        }
        let value = Everything {
            zebra: "张三 \"quoted\" \u{7f} \u{2028}".into(),
            apple: vec![
                Shape::Empty,
                Shape::Side(-7),
                Shape::Corner(-128, "x".into()),
                Shape::Box {
                    width: 65_535,
                    depth: None,
                },
            ],
            capital: Unit,
            middle: Wrapped(4_000_000_000),
            numbers: (-(1 << 40), 1 << 60, 0.1, f64::NAN, 0.1),
            bytes: vec![0, 255, 10],
            by_number: [(10, "ten"), (-1, "minus one"), (2, "two")].into(),
            by_name,
            skipped: None,
            extra: Extra {
                yes: '"',
                absent: None,
            },
            nothing: (),
        };
        assert_eq!(direct(&value), through_value_tree(&value));
    }

    #[test]
    fn what_the_value_tree_refuses_is_refused() {
        let mut out = Vec::new();
        assert!(write_canonical(&(u128::MAX,), &mut out).is_err());
        let mut keyed: BTreeMap<(u8, u8), u8> = BTreeMap::new();
        keyed.insert((1, 2), 3);
        assert!(serde_json::to_value(&keyed).is_err());
        assert!(write_canonical(&keyed, &mut Vec::new()).is_err());
    }

    proptest! {
        /// Settlement lists with arbitrary text and optional parts come out exactly as the
        /// value tree writes them.
        #[test]
        fn settlement_lists_match_the_value_tree(
            names in proptest::collection::vec(any::<String>(), 4),
            department in proptest::option::of(any::<String>()),
            weight in proptest::option::of(any::<u32>()),
            drop_procedures in any::<bool>(),
            refund in any::<bool>(),
        ) {
            let mut list = valid_list();
            list.header.case_number = names[0].clone();
            list.stay.admission_department = names[1].clone();
            list.stay.receiving_institution = department;
            list.patient.newborn_birth_weight_g = weight;
            list.header.refund = refund;
            if let Some(first) = list.diagnoses.first_mut() {
                first.name = names[2].clone();
            }
            if drop_procedures {
                list.procedures.clear();
            } else if let Some(first) = list.procedures.first_mut() {
                first.anaesthesia = Some(names[3].clone());
            }
            prop_assert_eq!(direct(&list), through_value_tree(&list));
        }
    }
}
