//! Asset definition files: `name.toml` beside `name.mp4`, `asset.toml` inside a title
//! directory, or `name.toml` alone in the media root for a title whose sources are listed
//! in it (local paths or `http(s)://` URLs). With an HTTP media root they are read from the
//! origin at the same places.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::keys::policy::EncryptionPolicy;
use crate::problem::{Problem, ProblemKind};

/// Largest asset definition file read.
pub const MAX_DEFINITION_BYTES: u64 = 64 * 1024;

/// Name of the asset definition file inside a title directory.
pub const TITLE_DEFINITION_FILE: &str = "asset.toml";

/// What an asset definition file may say.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AssetDefinition {
    /// The encryption policy of the asset, instead of the configured default.
    pub encryption: Option<EncryptionPolicy>,
    /// `"token"` to require playback tokens for this asset when the node's `access.mode` is
    /// `"open"` (a definition can turn access control on, not off).
    pub access: Option<crate::access::config::AccessMode>,
    /// The MP4 sources of the title, in rendition order: URLs, or paths relative to the
    /// definition file. When given, they replace the `.mp4` files found beside it.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Subtitle files by language (`en = "movie.en.vtt"`), resolved like `sources`.
    #[serde(default)]
    pub subtitles: BTreeMap<String, String>,
    /// The asset's ads (server-side ad insertion), instead of a configured policy.
    pub ads: Option<crate::ads::config::AdRules>,
}

/// Parses the text of the definition file `name`.
pub fn parse_definition(name: &str, text: &[u8]) -> Result<AssetDefinition, Problem> {
    let invalid = |detail: String| Problem::new(ProblemKind::AssetDefinitionInvalid, detail);
    let text = std::str::from_utf8(text).map_err(|_| invalid(format!("{name}: not UTF-8")))?;
    let definition: AssetDefinition =
        toml::from_str(text).map_err(|e| invalid(format!("{name}: {}", e.message())))?;
    if let Some(ads) = &definition.ads {
        ads.validate("ads")
            .map_err(|e| invalid(format!("{name}: {e}")))?;
    }
    Ok(definition)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_and_subtitles_are_read() {
        let d = parse_definition(
            "x.toml",
            b"sources = [\"a.mp4\", \"https://o/b.mp4\"]\n[subtitles]\nen = \"x.en.vtt\"\n",
        )
        .unwrap();
        assert_eq!(d.sources.len(), 2);
        assert_eq!(d.subtitles["en"], "x.en.vtt");
        assert!(d.encryption.is_none());
        let e = parse_definition("x.toml", b"source = 1").unwrap_err();
        assert!(e.detail.contains("unknown field"), "{}", e.detail);
    }

    #[test]
    fn an_ad_policy_is_read_and_checked() {
        let d = parse_definition(
            "asset.toml",
            b"[ads]\nad_server = \"https://ads.example/v?s=[session.id]\"\nbreaks = [\"start\", \"50%\"]\nmode = \"guided\"\n",
        )
        .unwrap();
        let ads = d.ads.unwrap();
        assert_eq!(ads.offsets().len(), 2);
        assert_eq!(ads.mode, crate::ads::config::AdMode::Guided);
        let e = parse_definition(
            "asset.toml",
            b"[ads]\nad_server = \"https://a\"\nbreaks = [\"soon\"]\n",
        )
        .unwrap_err();
        assert!(e.detail.contains("asset.toml: ads.breaks"), "{}", e.detail);
    }
}
