//! The `catnip` claim: the client addresses a token may be used from. Entries are IP
//! addresses or prefixes in RFC 9164 form (tag 52 for IPv4, 54 for IPv6: a byte string, or
//! `[prefix length, byte string]`), as text (`"10.0.0.0/8"`, `"2001:db8::1"`, which some
//! issuers write), or integers (autonomous system numbers, which an edge without an ASN
//! database cannot place: they never match).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ciborium::value::Value;

use crate::cbor;
use crate::Refusal;

const TAG_IPV4: u64 = 52;
const TAG_IPV6: u64 = 54;

/// An address with a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    addr: IpAddr,
    len: u8,
}

impl Prefix {
    fn contains(&self, ip: IpAddr) -> bool {
        let ip = match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            _ => ip,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(&net.octets(), self.len) == masked(&ip.octets(), self.len)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(&net.octets(), self.len) == masked(&ip.octets(), self.len)
            }
            _ => false,
        }
    }
}

fn masked<const N: usize>(octets: &[u8; N], len: u8) -> [u8; N] {
    let mut out = *octets;
    for (i, byte) in out.iter_mut().enumerate() {
        let bits = usize::from(len).saturating_sub(i * 8).min(8);
        *byte &= if bits == 0 { 0 } else { 0xffu8 << (8 - bits) };
    }
    out
}

/// A parsed `catnip`.
#[derive(Debug, Clone, Default)]
pub struct IpRules {
    prefixes: Vec<Prefix>,
}

impl IpRules {
    pub fn parse(value: &Value) -> Result<IpRules, Refusal> {
        let entries: &[Value] = match value {
            Value::Array(items) => items,
            single => std::slice::from_ref(single),
        };
        let mut prefixes = Vec::with_capacity(entries.len());
        for entry in entries {
            if let Some(prefix) = parse_entry(entry)? {
                prefixes.push(prefix);
            }
        }
        Ok(IpRules { prefixes })
    }

    pub fn check(&self, ip: Option<IpAddr>) -> Result<(), Refusal> {
        let Some(ip) = ip else {
            return Err(Refusal::IpNotAllowed("unknown".into()));
        };
        if self.prefixes.iter().any(|p| p.contains(ip)) {
            Ok(())
        } else {
            Err(Refusal::IpNotAllowed(ip.to_string()))
        }
    }
}

fn bad(what: &str) -> Refusal {
    Refusal::Malformed(format!("catnip entry: {what}"))
}

/// One entry; `None` for an ASN.
fn parse_entry(entry: &Value) -> Result<Option<Prefix>, Refusal> {
    match entry {
        Value::Integer(_) => Ok(None),
        Value::Text(text) => parse_text(text).map(Some),
        Value::Tag(tag @ (TAG_IPV4 | TAG_IPV6), inner) => {
            let v6 = *tag == TAG_IPV6;
            let (len, bytes) = match inner.as_ref() {
                Value::Bytes(b) => (if v6 { 128 } else { 32 }, b.as_slice()),
                Value::Array(items) => match items.as_slice() {
                    [len, bytes] => (
                        u8::try_from(cbor::int(len, "catnip prefix length")?)
                            .map_err(|_| bad("prefix length out of range"))?,
                        cbor::bytes(bytes, "catnip prefix")?,
                    ),
                    _ => return Err(bad("a prefix is [length, bytes]")),
                },
                _ => return Err(bad("an address is a byte string")),
            };
            from_bytes(bytes, len, v6).map(Some)
        }
        Value::Bytes(bytes) => {
            let v6 = bytes.len() == 16;
            from_bytes(bytes, if v6 { 128 } else { 32 }, v6).map(Some)
        }
        _ => Err(bad("an address, a prefix or an AS number")),
    }
}

/// Address bytes (trailing zero bytes may be left out, as RFC 9164 prefixes do).
fn from_bytes(bytes: &[u8], len: u8, v6: bool) -> Result<Prefix, Refusal> {
    let full = if v6 { 16 } else { 4 };
    if bytes.len() > full || len > (full * 8) as u8 {
        return Err(bad("address too long"));
    }
    let addr = if v6 {
        let mut o = [0u8; 16];
        o[..bytes.len()].copy_from_slice(bytes);
        IpAddr::V6(Ipv6Addr::from(o))
    } else {
        let mut o = [0u8; 4];
        o[..bytes.len()].copy_from_slice(bytes);
        IpAddr::V4(Ipv4Addr::from(o))
    };
    Ok(Prefix { addr, len })
}

fn parse_text(text: &str) -> Result<Prefix, Refusal> {
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    let addr: IpAddr = addr.parse().map_err(|_| bad("not an IP address"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match len {
        Some(l) => l
            .parse::<u8>()
            .ok()
            .filter(|l| *l <= max)
            .ok_or_else(|| bad("bad prefix length"))?,
        None => max,
    };
    Ok(Prefix { addr, len })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn text_addresses_and_cidrs() {
        let rules = IpRules::parse(&Value::Array(vec![
            Value::Text("10.0.0.0/8".into()),
            Value::Text("2001:db8::/32".into()),
            Value::Text("192.0.2.7".into()),
        ]))
        .unwrap();
        assert!(rules.check(ip("10.1.2.3")).is_ok());
        assert!(rules.check(ip("::ffff:10.1.2.3")).is_ok());
        assert!(rules.check(ip("2001:db8:1::5")).is_ok());
        assert!(rules.check(ip("192.0.2.7")).is_ok());
        assert!(rules.check(ip("192.0.2.8")).is_err());
        assert!(rules.check(ip("11.0.0.1")).is_err());
        assert!(rules.check(None).is_err());
    }

    #[test]
    fn rfc9164_tagged_prefixes() {
        let v4 = Value::Tag(
            TAG_IPV4,
            Box::new(Value::Array(vec![
                Value::Integer(24.into()),
                Value::Bytes(vec![192, 0, 2]),
            ])),
        );
        let v6 = Value::Tag(
            TAG_IPV6,
            Box::new(Value::Bytes(vec![
                0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
            ])),
        );
        let rules =
            IpRules::parse(&Value::Array(vec![v4, v6, Value::Integer(64496.into())])).unwrap();
        assert!(rules.check(ip("192.0.2.200")).is_ok());
        assert!(rules.check(ip("192.0.3.1")).is_err());
        assert!(rules.check(ip("2001:db8::1")).is_ok());
        assert!(rules.check(ip("2001:db8::2")).is_err());
    }

    #[test]
    fn malformed_entries_are_refused() {
        for bad in [
            Value::Text("10.0.0.0/33".into()),
            Value::Text("nope".into()),
            Value::Tag(TAG_IPV4, Box::new(Value::Bytes(vec![1; 5]))),
            Value::Bool(true),
        ] {
            assert!(IpRules::parse(&bad).is_err(), "{bad:?}");
        }
    }
}
