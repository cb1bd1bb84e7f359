//! The length of a value's compact JSON form (what `serde_json::to_vec` would produce),
//! counted without writing it.
//!
//! Every plugin call measures its input and its output against the slot's caps, so this runs
//! twice per call on documents of a few kilobytes. Counting skips the work of writing: digits
//! are counted rather than formatted and a string's escapes are counted in one pass over its
//! bytes. Floating-point numbers, rare in plugin documents, are formatted by `serde_json` to
//! count their exact length.

use serde::ser::{self, Serialize};

/// The length in bytes of `serde_json::to_vec(value)`, or `usize::MAX` when `serde_json`
/// would fail (a map with keys that are not strings or numbers).
pub fn json_size<T: Serialize + ?Sized>(value: &T) -> usize {
    value.serialize(Counter).unwrap_or(usize::MAX)
}

/// Extra bytes a byte takes in a JSON string beyond itself: `\"`, `\\`, the short escapes
/// `\b \t \n \f \r`, and `\u00XX` for the other control characters.
const ESCAPE_EXTRA: [u8; 256] = {
    let mut table = [0_u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = 5;
        b += 1;
    }
    table[0x08] = 1;
    table[0x09] = 1;
    table[0x0a] = 1;
    table[0x0c] = 1;
    table[0x0d] = 1;
    table[b'"' as usize] = 1;
    table[b'\\' as usize] = 1;
    table
};

pub(super) fn string(s: &str) -> usize {
    let bytes = s.as_bytes();
    if !needs_escape(bytes) {
        return bytes.len() + 2;
    }
    let extra: usize = bytes
        .iter()
        .map(|&b| usize::from(ESCAPE_EXTRA[usize::from(b)]))
        .sum();
    bytes.len() + 2 + extra
}

/// Whether any byte is a control character, `"` or `\\`. Almost no string in a plugin
/// document has one, and most are short (keys, codes, labels), so this tests eight bytes at a
/// time: a byte-at-a-time loop was most of the cost of counting.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // Nonzero when a byte of `w` is below `n` (n ≤ 0x80); bytes of 0x80 and above never
    // count, their high bit is masked off by `!w`.
    let below = |w: u64, n: u8| w.wrapping_sub(ONES * u64::from(n)) & !w & HIGH;
    let has = |w: u64, b: u8| below(w ^ (ONES * u64::from(b)), 1);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_ne_bytes(word);
        if below(w, 0x20) | has(w, b'"') | has(w, b'\\') != 0 {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

pub(super) fn unsigned(n: u128) -> usize {
    // The 64-bit logarithm is a few instructions; the 128-bit one a loop.
    let digits = match u64::try_from(n) {
        Ok(n) => n.checked_ilog10(),
        Err(_) => n.checked_ilog10(),
    };
    digits.map_or(1, |d| d as usize + 1)
}

pub(super) fn signed(n: i128) -> usize {
    unsigned(n.unsigned_abs()) + usize::from(n < 0)
}

fn float<F: Serialize>(f: F) -> usize {
    // Finite floats are written by ryu's shortest form and others as `null`: writing is the
    // one exact way to know the length.
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, &f) {
        Ok(()) => count.0,
        Err(_) => usize::MAX,
    }
}

/// `serde_json` refuses this value (a map key it cannot write).
#[derive(Debug)]
pub struct Unrepresentable;

impl std::fmt::Display for Unrepresentable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the value has no JSON form")
    }
}

impl std::error::Error for Unrepresentable {}

impl ser::Error for Unrepresentable {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Self
    }
}

type Result<T = usize> = std::result::Result<T, Unrepresentable>;

struct Counter;

/// Counts a sequence, a map or an object: brackets, separators and members.
struct Compound {
    size: usize,
    members: usize,
    /// Bytes that close it: `]`, `}` or `]}`/`}}` for a variant's payload.
    closing: usize,
}

impl Compound {
    fn new(opening: usize, closing: usize) -> Self {
        Self {
            size: opening,
            members: 0,
            closing,
        }
    }

    fn member(&mut self, size: usize) {
        // A comma before every member but the first.
        self.size += size + usize::from(self.members > 0);
        self.members += 1;
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<()> {
        let value = value.serialize(Counter)?;
        self.member(string(key) + 1 + value);
        Ok(())
    }

    fn done(self) -> usize {
        self.size + self.closing
    }
}

/// `{"variant":` before a variant's payload and `}` after it.
fn variant_wrapper(variant: &str) -> usize {
    1 + string(variant) + 1
}

impl ser::Serializer for Counter {
    type Ok = usize;
    type Error = Unrepresentable;
    type SerializeSeq = Compound;
    type SerializeTuple = Compound;
    type SerializeTupleStruct = Compound;
    type SerializeTupleVariant = Compound;
    type SerializeMap = MapCounter;
    type SerializeStruct = Compound;
    type SerializeStructVariant = Compound;

    fn serialize_bool(self, v: bool) -> Result {
        Ok(if v { 4 } else { 5 })
    }
    fn serialize_i8(self, v: i8) -> Result {
        Ok(signed(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result {
        Ok(signed(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result {
        Ok(signed(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result {
        Ok(signed(v.into()))
    }
    fn serialize_i128(self, v: i128) -> Result {
        Ok(signed(v))
    }
    fn serialize_u8(self, v: u8) -> Result {
        Ok(unsigned(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result {
        Ok(unsigned(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result {
        Ok(unsigned(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result {
        Ok(unsigned(v.into()))
    }
    fn serialize_u128(self, v: u128) -> Result {
        Ok(unsigned(v))
    }
    fn serialize_f32(self, v: f32) -> Result {
        Ok(float(v))
    }
    fn serialize_f64(self, v: f64) -> Result {
        Ok(float(v))
    }
    fn serialize_char(self, v: char) -> Result {
        Ok(string(v.encode_utf8(&mut [0; 4])))
    }
    fn serialize_str(self, v: &str) -> Result {
        Ok(string(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result {
        // An array of numbers.
        let digits: usize = v.iter().map(|&b| unsigned(b.into())).sum();
        Ok(2 + digits + v.len().saturating_sub(1))
    }
    fn serialize_none(self) -> Result {
        Ok(4)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        Ok(4)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        Ok(4)
    }
    fn serialize_unit_variant(self, _name: &'static str, _i: u32, variant: &'static str) -> Result {
        Ok(string(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _i: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        Ok(variant_wrapper(variant) + value.serialize(self)? + 1)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound> {
        Ok(Compound::new(1, 1))
    }
    fn serialize_tuple(self, _len: usize) -> Result<Compound> {
        Ok(Compound::new(1, 1))
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Compound> {
        Ok(Compound::new(1, 1))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _i: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound> {
        Ok(Compound::new(variant_wrapper(variant) + 1, 2))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<MapCounter> {
        Ok(MapCounter {
            object: Compound::new(1, 1),
            key: 0,
        })
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Compound> {
        Ok(Compound::new(1, 1))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _i: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound> {
        Ok(Compound::new(variant_wrapper(variant) + 1, 2))
    }
}

// Arrays (sequences, tuples, tuple structs and variants) and objects (structs and struct
// variants) differ only in the trait and its method's name; each forwards to `Compound`.
macro_rules! array {
    ($($trait:ident::$method:ident),*) => {$(
        impl ser::$trait for Compound {
            type Ok = usize;
            type Error = Unrepresentable;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
                self.member(value.serialize(Counter)?);
                Ok(())
            }
            fn end(self) -> Result {
                Ok(self.done())
            }
        }
    )*};
}

macro_rules! object {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Compound {
            type Ok = usize;
            type Error = Unrepresentable;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<()> {
                self.field(key, value)
            }
            fn end(self) -> Result {
                Ok(self.done())
            }
        }
    )*};
}

array!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);
object!(SerializeStruct, SerializeStructVariant);

/// A map: its keys are written as JSON strings, numbers and booleans quoted.
struct MapCounter {
    object: Compound,
    key: usize,
}

impl ser::SerializeMap for MapCounter {
    type Ok = usize;
    type Error = Unrepresentable;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.key = key.serialize(KeyCounter)?;
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let value = value.serialize(Counter)?;
        self.object.member(self.key + 1 + value);
        Ok(())
    }
    fn end(self) -> Result {
        Ok(self.object.done())
    }
}

/// Map keys as `serde_json` writes them: strings as they are, numbers, booleans and
/// characters as strings; anything else has no JSON form.
struct KeyCounter;

impl ser::Serializer for KeyCounter {
    type Ok = usize;
    type Error = Unrepresentable;
    type SerializeSeq = ser::Impossible<usize, Unrepresentable>;
    type SerializeTuple = ser::Impossible<usize, Unrepresentable>;
    type SerializeTupleStruct = ser::Impossible<usize, Unrepresentable>;
    type SerializeTupleVariant = ser::Impossible<usize, Unrepresentable>;
    type SerializeMap = ser::Impossible<usize, Unrepresentable>;
    type SerializeStruct = ser::Impossible<usize, Unrepresentable>;
    type SerializeStructVariant = ser::Impossible<usize, Unrepresentable>;

    fn serialize_bool(self, v: bool) -> Result {
        Ok(if v { 6 } else { 7 })
    }
    fn serialize_i8(self, v: i8) -> Result {
        Ok(signed(v.into()) + 2)
    }
    fn serialize_i16(self, v: i16) -> Result {
        Ok(signed(v.into()) + 2)
    }
    fn serialize_i32(self, v: i32) -> Result {
        Ok(signed(v.into()) + 2)
    }
    fn serialize_i64(self, v: i64) -> Result {
        Ok(signed(v.into()) + 2)
    }
    fn serialize_i128(self, v: i128) -> Result {
        Ok(signed(v) + 2)
    }
    fn serialize_u8(self, v: u8) -> Result {
        Ok(unsigned(v.into()) + 2)
    }
    fn serialize_u16(self, v: u16) -> Result {
        Ok(unsigned(v.into()) + 2)
    }
    fn serialize_u32(self, v: u32) -> Result {
        Ok(unsigned(v.into()) + 2)
    }
    fn serialize_u64(self, v: u64) -> Result {
        Ok(unsigned(v.into()) + 2)
    }
    fn serialize_u128(self, v: u128) -> Result {
        Ok(unsigned(v) + 2)
    }
    fn serialize_f32(self, v: f32) -> Result {
        float_key(v)
    }
    fn serialize_f64(self, v: f64) -> Result {
        float_key(v)
    }
    fn serialize_char(self, v: char) -> Result {
        Ok(string(v.encode_utf8(&mut [0; 4])))
    }
    fn serialize_str(self, v: &str) -> Result {
        Ok(string(v))
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result {
        Err(Unrepresentable)
    }
    fn serialize_none(self) -> Result {
        Err(Unrepresentable)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result {
        Err(Unrepresentable)
    }
    fn serialize_unit(self) -> Result {
        Err(Unrepresentable)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        Err(Unrepresentable)
    }
    fn serialize_unit_variant(self, _name: &'static str, _i: u32, variant: &'static str) -> Result {
        Ok(string(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _i: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result {
        Err(Unrepresentable)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(Unrepresentable)
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        Err(Unrepresentable)
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(Unrepresentable)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _i: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(Unrepresentable)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        Err(Unrepresentable)
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct> {
        Err(Unrepresentable)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _i: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(Unrepresentable)
    }
}

/// A float key, as `serde_json` quotes it (non-finite ones have no JSON form).
fn float_key<F: Serialize + Into<f64> + Copy>(f: F) -> Result {
    if f.into().is_finite() {
        Ok(float(f) + 2)
    } else {
        Err(Unrepresentable)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;
    use serde_json::json;

    use super::json_size;
    use crate::plugins::fixtures;

    fn same_as_serde_json<T: Serialize + ?Sized>(value: &T) {
        let written = serde_json::to_vec(value).map(|v| v.len()).ok();
        assert_eq!(
            Some(json_size(value)).filter(|&n| n != usize::MAX),
            written,
            "{}",
            serde_json::to_string(value).unwrap_or_default()
        );
    }

    #[test]
    fn plugin_documents_count_as_serde_json_writes_them() {
        same_as_serde_json(&fixtures::pricing_request());
        same_as_serde_json(&fixtures::email());
        same_as_serde_json(&fixtures::tenant());
        same_as_serde_json(&(fixtures::trip(), fixtures::rates(), fixtures::tenant()));
        same_as_serde_json(&fixtures::quote_document());
    }

    #[test]
    fn every_escape_and_character_counts() {
        let all_ascii: String = (0_u8..128).map(char::from).collect();
        for s in [
            "",
            "plain",
            "quote \" and backslash \\",
            "tab\tnew line\nreturn\r\u{8}\u{c}",
            "\u{0}\u{1f}\u{7f}",
            "Zürich — 北京 🐘",
            all_ascii.as_str(),
        ] {
            same_as_serde_json(s);
        }
        same_as_serde_json(&'"');
        same_as_serde_json(&'\u{1}');
        same_as_serde_json(&'é');
    }

    #[test]
    fn an_escape_is_found_at_any_place_in_a_longer_string() {
        // Strings are checked eight bytes at a time: every position of a word and of the
        // remainder, beside bytes that must not count (0x20, 0x7f and the bytes of `é`).
        for len in 1..=24 {
            for at in 0..len {
                for special in [
                    '\u{0}', '\u{1f}', '"', '\\', ' ', '\u{7f}', 'é', '!', '#', '[',
                ] {
                    let s: String = (0..len)
                        .map(|i| if i == at { special } else { 'a' })
                        .collect();
                    same_as_serde_json(s.as_str());
                }
            }
        }
    }

    #[test]
    fn numbers_count_their_digits_and_signs() {
        for n in [0_i64, 1, -1, 9, 10, -10, 99, 100, i64::MAX, i64::MIN] {
            same_as_serde_json(&n);
        }
        for n in [0_u64, 9, 10, u64::MAX] {
            same_as_serde_json(&n);
        }
        same_as_serde_json(&u128::MAX);
        same_as_serde_json(&(u128::from(u64::MAX) + 1));
        same_as_serde_json(&(i128::from(i64::MIN) - 1));
        same_as_serde_json(&i128::MIN);
        same_as_serde_json(&[u8::MAX, 0, 7]);
        for f in [0.0, -0.0, 0.1, 1e300, -2.5e-8, f64::NAN, f64::INFINITY] {
            same_as_serde_json(&f);
        }
        same_as_serde_json(&1.5_f32);
        same_as_serde_json(&serde_bytes_like());
    }

    fn serde_bytes_like() -> impl Serialize {
        struct Bytes;
        impl Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(&[0, 10, 255])
            }
        }
        Bytes
    }

    #[test]
    fn containers_and_enums_count_their_punctuation() {
        #[derive(Serialize)]
        enum Shape {
            Unit,
            Newtype(u32),
            Tuple(i8, String),
            Struct { a: Option<bool>, b: Vec<()> },
        }
        #[derive(Serialize)]
        struct Wrapper(Vec<Shape>);
        #[derive(Serialize)]
        struct Renamed {
            #[serde(rename = "odd \"key\"")]
            odd: (),
            #[serde(skip_serializing_if = "Option::is_none")]
            skipped: Option<u8>,
        }
        same_as_serde_json(&Wrapper(vec![
            Shape::Unit,
            Shape::Newtype(42),
            Shape::Tuple(-1, "x\n".into()),
            Shape::Struct {
                a: None,
                b: vec![(), ()],
            },
            Shape::Struct {
                a: Some(false),
                b: vec![],
            },
        ]));
        same_as_serde_json(&Renamed {
            odd: (),
            skipped: None,
        });
        same_as_serde_json(&Vec::<u8>::new());
        same_as_serde_json(&json!({"a": [1, {"b": null}], "": "", "c": {}}));
    }

    #[test]
    fn map_keys_are_quoted_and_unwritable_ones_refused() {
        same_as_serde_json(&BTreeMap::from([(1, "one"), (-20, "minus twenty")]));
        same_as_serde_json(&BTreeMap::from([(true, 1), (false, 0)]));
        same_as_serde_json(&BTreeMap::from([('k', 1)]));
        same_as_serde_json(&BTreeMap::<String, u8>::new());
        assert_eq!(json_size(&BTreeMap::from([((1, 2), 3)])), usize::MAX);
        assert!(serde_json::to_vec(&BTreeMap::from([((1, 2), 3)])).is_err());
    }
}
