//! Tokens as text: base64url without padding (padding and the standard alphabet are
//! tolerated on input), with a size cap applied before anything is decoded.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;

use crate::Refusal;

/// Largest token text accepted, in bytes. CTA-5007 tokens with a few claims are 150 to 400
/// bytes; 4 KiB leaves room for long `catu` lists and refuses anything meant to exhaust us.
pub const MAX_TOKEN_TEXT: usize = 4096;

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_encode_padding(false)
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);

/// Token bytes from their text form.
pub fn decode(text: &str) -> Result<Vec<u8>, Refusal> {
    if text.len() > MAX_TOKEN_TEXT {
        return Err(Refusal::Malformed(format!(
            "token is {} bytes; at most {MAX_TOKEN_TEXT} are accepted",
            text.len()
        )));
    }
    if text.is_empty() {
        return Err(Refusal::Missing);
    }
    let url_safe = !text.bytes().any(|b| b == b'+' || b == b'/');
    let engine = if url_safe { &URL_SAFE } else { &STANDARD };
    engine
        .decode(text.trim_end_matches('='))
        .map_err(|e| Refusal::Malformed(format!("token is not base64url: {e}")))
}

/// The text form of token bytes: base64url without padding.
pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_tolerates_padding_and_standard_alphabet() {
        let bytes = [0xfb, 0xff, 0x01, 0x02];
        let text = encode(&bytes);
        assert_eq!(text, "-_8BAg");
        assert_eq!(decode(&text).unwrap(), bytes);
        assert_eq!(decode("+/8BAg==").unwrap(), bytes);
    }

    #[test]
    fn refuses_oversized_empty_and_garbage() {
        assert!(matches!(
            decode(&"A".repeat(MAX_TOKEN_TEXT + 1)),
            Err(Refusal::Malformed(_))
        ));
        assert_eq!(decode(""), Err(Refusal::Missing));
        assert!(matches!(decode("not base64!"), Err(Refusal::Malformed(_))));
    }
}
