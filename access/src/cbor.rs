//! Bounded CBOR reading for tokens: one item, no trailing bytes, at most [`MAX_DEPTH`] levels
//! of nesting, and small accessors that turn a wrong type into a [`Refusal`]. Token bytes are
//! already capped (see [`crate::text::MAX_TOKEN_TEXT`]), so no item can claim more memory
//! than the token's own size.

use ciborium::value::{Integer, Value};

use crate::Refusal;

/// Deepest nesting accepted. A CAT nests at most five levels (tag, array, map, claim map,
/// match map); anything deeper is hostile.
pub const MAX_DEPTH: usize = 16;

/// Decodes exactly one CBOR item from `bytes`.
pub fn decode(bytes: &[u8], what: &str) -> Result<Value, Refusal> {
    let mut rest = bytes;
    let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut rest, MAX_DEPTH)
        .map_err(|e| Refusal::Malformed(format!("{what} is not valid CBOR: {e}")))?;
    if !rest.is_empty() {
        return Err(Refusal::Malformed(format!(
            "{what} has {} bytes after its CBOR item",
            rest.len()
        )));
    }
    Ok(value)
}

/// Encodes a value (for MAC and signature structures, and minting).
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    // Writing into a Vec cannot fail.
    let _ = ciborium::ser::into_writer(value, &mut out);
    out
}

fn malformed(what: &str, wanted: &str) -> Refusal {
    Refusal::Malformed(format!("{what} must be {wanted}"))
}

/// The entries of a map whose keys are all distinct: a token with a claim given twice is
/// refused rather than read either way.
pub fn map<'a>(value: &'a Value, what: &str) -> Result<&'a [(Value, Value)], Refusal> {
    let entries = value.as_map().ok_or_else(|| malformed(what, "a map"))?;
    for (i, (key, _)) in entries.iter().enumerate() {
        if entries[..i].iter().any(|(k, _)| k == key) {
            return Err(Refusal::Malformed(format!(
                "{what} has the key {} twice",
                describe(key)
            )));
        }
    }
    Ok(entries)
}

/// An integer that fits `i64`.
pub fn int(value: &Value, what: &str) -> Result<i64, Refusal> {
    match value {
        Value::Integer(i) => i64::try_from(*i).map_err(|_| malformed(what, "a 64-bit integer")),
        _ => Err(malformed(what, "an integer")),
    }
}

/// A non-negative integer (a NumericDate; CWT also allows a float, which we truncate).
pub fn time(value: &Value, what: &str) -> Result<u64, Refusal> {
    match value {
        Value::Integer(i) => u64::try_from(*i).map_err(|_| malformed(what, "a time after 1970")),
        Value::Float(f) if f.is_finite() && *f >= 0.0 && *f < 1.8e19 => Ok(*f as u64),
        _ => Err(malformed(what, "a NumericDate")),
    }
}

pub fn text<'a>(value: &'a Value, what: &str) -> Result<&'a str, Refusal> {
    value
        .as_text()
        .ok_or_else(|| malformed(what, "a text string"))
}

pub fn bytes<'a>(value: &'a Value, what: &str) -> Result<&'a [u8], Refusal> {
    value
        .as_bytes()
        .map(Vec::as_slice)
        .ok_or_else(|| malformed(what, "a byte string"))
}

pub fn array<'a>(value: &'a Value, what: &str) -> Result<&'a [Value], Refusal> {
    value
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| malformed(what, "an array"))
}

/// An integer map key, if it is one.
pub fn int_key(key: &Value) -> Option<i64> {
    match key {
        Value::Integer(i) => i64::try_from(*i).ok(),
        _ => None,
    }
}

pub fn int_value(i: i64) -> Value {
    Value::Integer(Integer::from(i))
}

/// A key as a person reads it in an error.
pub fn describe(key: &Value) -> String {
    match key {
        Value::Integer(i) => i128::from(*i).to_string(),
        Value::Text(t) => format!("{t:?}"),
        other => format!("{other:?}").chars().take(40).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_trailing_bytes_and_deep_nesting() {
        assert!(decode(&[0x01, 0x02], "x").is_err());
        let deep = [vec![0x81u8; 200], vec![0x01]].concat();
        assert!(decode(&deep, "x").is_err());
        let ok = [vec![0x81u8; 5], vec![0x01]].concat();
        assert!(decode(&ok, "x").is_ok());
    }

    #[test]
    fn refuses_duplicate_keys() {
        // {1: 1, 1: 2}
        let v = decode(&[0xa2, 0x01, 0x01, 0x01, 0x02], "claims").unwrap();
        assert!(map(&v, "claims").unwrap_err().to_string().contains("twice"));
    }

    #[test]
    fn a_huge_declared_length_is_refused_without_allocating_it() {
        // a byte string that claims 2^62 bytes
        let v = [0x5b, 0x40, 0, 0, 0, 0, 0, 0, 0, 0xaa];
        assert!(decode(&v, "x").is_err());
    }
}
