//! Language codes: MP4 stores ISO 639-2/T (`eng`), HLS and DASH want BCP 47 (`en`), and
//! players show a name.

/// (ISO 639-2/T, ISO 639-2/B, BCP 47, English name) for the languages we name; others pass
/// through unchanged.
const LANGUAGES: &[(&str, &str, &str, &str)] = &[
    ("eng", "eng", "en", "English"),
    ("fra", "fre", "fr", "French"),
    ("deu", "ger", "de", "German"),
    ("spa", "spa", "es", "Spanish"),
    ("ita", "ita", "it", "Italian"),
    ("por", "por", "pt", "Portuguese"),
    ("nld", "dut", "nl", "Dutch"),
    ("jpn", "jpn", "ja", "Japanese"),
    ("zho", "chi", "zh", "Chinese"),
    ("kor", "kor", "ko", "Korean"),
    ("rus", "rus", "ru", "Russian"),
    ("ara", "ara", "ar", "Arabic"),
    ("hin", "hin", "hi", "Hindi"),
    ("pol", "pol", "pl", "Polish"),
    ("swe", "swe", "sv", "Swedish"),
    ("tur", "tur", "tr", "Turkish"),
];

/// BCP 47 tag for an MP4 or file-name language code, or `None` for undetermined.
pub fn bcp47(code: &str) -> Option<String> {
    let code = code.to_ascii_lowercase();
    if code.is_empty() || code == "und" {
        return None;
    }
    Some(
        LANGUAGES
            .iter()
            .find(|l| l.0 == code || l.1 == code || l.2 == code)
            .map_or(code.clone(), |l| l.2.to_owned()),
    )
}

/// A name a player can show for the language.
pub fn display_name(code: &str) -> String {
    let code = code.to_ascii_lowercase();
    LANGUAGES
        .iter()
        .find(|l| l.0 == code || l.1 == code || l.2 == code)
        .map_or_else(
            || {
                if code == "und" || code.is_empty() {
                    "Undetermined".to_owned()
                } else {
                    code.clone()
                }
            },
            |l| l.3.to_owned(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_mp4_codes_to_bcp47() {
        assert_eq!(bcp47("eng").as_deref(), Some("en"));
        assert_eq!(bcp47("fre").as_deref(), Some("fr"));
        assert_eq!(bcp47("fr").as_deref(), Some("fr"));
        assert_eq!(bcp47("und"), None);
        assert_eq!(bcp47("xho").as_deref(), Some("xho"));
        assert_eq!(display_name("fra"), "French");
    }
}
