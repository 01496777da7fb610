//! Times in VAST and VMAP documents: durations (`HH:MM:SS` or `HH:MM:SS.mmm`) and offsets,
//! which may also be a percentage (`25%`), `start` or `end`, or a position (`#2`, VMAP's n-th
//! break opportunity). Times are milliseconds.

/// A point in a piece of media, as a document states it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Offset {
    /// Milliseconds from the start.
    Time(u64),
    /// A share of the duration, 0 to 100.
    Percent(f64),
    Start,
    End,
    /// The n-th break opportunity (from 1).
    Position(u32),
}

impl Offset {
    /// Milliseconds from the start of media lasting `duration_ms`; `None` for a position,
    /// which only the content's break opportunities can place.
    pub fn resolve(self, duration_ms: u64) -> Option<u64> {
        match self {
            Offset::Time(ms) => Some(ms.min(duration_ms)),
            Offset::Percent(p) => Some((duration_ms as f64 * p / 100.0).round() as u64),
            Offset::Start => Some(0),
            Offset::End => Some(duration_ms),
            Offset::Position(_) => None,
        }
    }
}

/// `HH:MM:SS` or `HH:MM:SS.mmm` (1 to 3 fraction digits) in milliseconds. Minutes and seconds
/// must be under 60; hours at most 99999.
pub fn parse_clock(text: &str) -> Option<u64> {
    let text = text.trim();
    let (hms, fraction) = match text.split_once('.') {
        Some((hms, f)) => (hms, Some(f)),
        None => (text, None),
    };
    let mut parts = hms.split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let number = |t: &str, max_len: usize| -> Option<u64> {
        (!t.is_empty() && t.len() <= max_len && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    let (h, m, s) = (number(h, 5)?, number(m, 2)?, number(s, 2)?);
    if m >= 60 || s >= 60 {
        return None;
    }
    let ms = match fraction {
        None => 0,
        Some(f) => {
            let digits = number(f, 3)?;
            digits * 10u64.pow(3 - f.len() as u32)
        }
    };
    Some(((h * 60 + m) * 60 + s) * 1000 + ms)
}

/// An offset: `start`, `end`, `n%` (0 to 100), `#n`, or a clock time.
pub fn parse_offset(text: &str) -> Option<Offset> {
    let text = text.trim();
    match text {
        "start" => return Some(Offset::Start),
        "end" => return Some(Offset::End),
        _ => {}
    }
    if let Some(p) = text.strip_suffix('%') {
        let ok =
            !p.is_empty() && p.len() <= 12 && p.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        let v: f64 = p.parse().ok().filter(|_| ok)?;
        return (0.0..=100.0).contains(&v).then_some(Offset::Percent(v));
    }
    if let Some(n) = text.strip_prefix('#') {
        let ok = !n.is_empty() && n.len() <= 9 && n.bytes().all(|b| b.is_ascii_digit());
        let v: u32 = n.parse().ok().filter(|_| ok)?;
        return (v >= 1).then_some(Offset::Position(v));
    }
    parse_clock(text).map(Offset::Time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_times() {
        assert_eq!(parse_clock("00:00:15"), Some(15_000));
        assert_eq!(parse_clock("00:00:15.5"), Some(15_500));
        assert_eq!(parse_clock("01:02:03.045"), Some(3_723_045));
        assert_eq!(parse_clock(" 00:00:30.000 "), Some(30_000));
        for bad in [
            "",
            "15",
            "00:15",
            "00:60:00",
            "00:00:61",
            "00:00:1.2345",
            "a:b:c",
            "-1:00:00",
            "00:00:15.",
            "1:2:3:4",
        ] {
            assert_eq!(parse_clock(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_offset_form() {
        assert_eq!(parse_offset("start"), Some(Offset::Start));
        assert_eq!(parse_offset("end"), Some(Offset::End));
        assert_eq!(parse_offset("25%"), Some(Offset::Percent(25.0)));
        assert_eq!(parse_offset("12.5%"), Some(Offset::Percent(12.5)));
        assert_eq!(parse_offset("#2"), Some(Offset::Position(2)));
        assert_eq!(parse_offset("00:10:00.000"), Some(Offset::Time(600_000)));
        for bad in ["101%", "%", "-5%", "#0", "#", "#x", "later", "1e2%"] {
            assert_eq!(parse_offset(bad), None, "{bad}");
        }
        assert_eq!(Offset::Percent(25.0).resolve(30_000), Some(7_500));
        assert_eq!(Offset::End.resolve(30_000), Some(30_000));
        assert_eq!(Offset::Time(99_000).resolve(30_000), Some(30_000));
        assert_eq!(Offset::Position(1).resolve(30_000), None);
    }
}
