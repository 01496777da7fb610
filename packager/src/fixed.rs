//! Decimal text of a non-negative `f64` with a fixed number of decimals, as `format!("{:.N}")`
//! writes it, without the formatting machinery: manifests write frame rates and durations
//! this way on every request, and `{:.N}` of an `f64` (exact rounding, which often falls
//! back to the slow Dragon algorithm) was a few percent of the core serving them.
//!
//! The value is scaled and rounded in floating point; where that rounding could differ from
//! the exact decimal's (the scaled value within 1e-6 of a half), `format!` decides.

use std::fmt::Write;

/// Largest scaled value written by the fast path. Below it an `f64`'s spacing is under
/// 2.4e-7, so the one rounding of the product errs by less than the 1e-6 kept around
/// halves, and the rounded product is the exact decimal's rounding.
const FAST_LIMIT: f64 = 1e9;

/// Appends `value` with `decimals` decimals (at most 9) to `out`, exactly as
/// `write!(out, "{value:.decimals$}")` does.
pub(crate) fn push_fixed(out: &mut String, value: f64, decimals: usize) {
    let decimals = decimals.min(9);
    let scale = 10u64.pow(decimals as u32);
    let scaled = value * scale as f64;
    let near_tie = (scaled - scaled.floor() - 0.5).abs() < 1e-6;
    if !(0.0..FAST_LIMIT).contains(&scaled) || near_tie || value.is_sign_negative() {
        let _ = write!(out, "{value:.decimals$}");
        return;
    }
    let units = scaled.round() as u64;
    let mut digits = itoa::Buffer::new();
    out.push_str(digits.format(units / scale));
    if decimals > 0 {
        out.push('.');
        let fraction = digits.format(units % scale);
        for _ in fraction.len()..decimals {
            out.push('0');
        }
        out.push_str(fraction);
    }
}

/// `value` with `decimals` decimals: see [`push_fixed`].
pub(crate) fn fixed(value: f64, decimals: usize) -> String {
    let mut out = String::with_capacity(24);
    push_fixed(&mut out, value, decimals);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(value: f64) {
        for decimals in 0..=4 {
            assert_eq!(
                fixed(value, decimals),
                format!("{value:.decimals$}"),
                "{value} with {decimals} decimals"
            );
        }
    }

    #[test]
    fn agrees_with_format_on_frame_rates_and_durations() {
        for fps in [
            23.976, 24.0, 25.0, 29.97, 30.0, 50.0, 59.94, 60.0, 120.0, 12.5, 7.5, 0.5, 1.0,
        ] {
            check(fps);
            check(fps * 1000.0 / 1001.0);
            check(90_000.0 / (90_000.0 / fps).round());
        }
        for ticks in 0..20_000u64 {
            check(ticks as f64 / 1000.0);
            check(ticks as f64 / 48_000.0 * 1024.0);
            check(ticks as f64 / 90_000.0 * 3003.0);
        }
    }

    #[test]
    fn agrees_with_format_at_ties_edges_and_odd_values() {
        for value in [
            0.0,
            -0.0,
            0.0005,
            0.0015,
            0.0025,
            1.0005,
            2.5,
            0.5,
            1.5,
            4.0041,
            9.9995,
            999_999.999_5,
            1e12,
            1e15,
            1e20,
            f64::MAX,
            f64::MIN_POSITIVE,
            -1.25,
            f64::INFINITY,
            f64::NAN,
        ] {
            check(value);
        }
        // Pseudo-random values over many magnitudes.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let value = (x >> 11) as f64 / (1u64 << 53) as f64 * 10f64.powi((x % 12) as i32);
            check(value);
        }
    }
}
