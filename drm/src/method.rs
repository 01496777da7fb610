//! The encryption methods an asset's policy can name, and which output each one gives.

use serde::{Deserialize, Serialize};

use crate::cenc::Scheme;

/// An asset's encryption method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Clear output.
    #[default]
    None,
    /// HLS `METHOD=AES-128`: whole segments, TS and CMAF. No DASH form.
    #[serde(rename = "aes-128")]
    Aes128,
    /// HLS `METHOD=SAMPLE-AES`: Apple sample encryption in TS, `cbcs` in CMAF and DASH.
    SampleAes,
    /// Common Encryption `cenc` (AES-CTR): CMAF (`SAMPLE-AES-CTR` in HLS) and DASH. No TS form.
    Cenc,
    /// Common Encryption `cbcs` (AES-CBC 1:9): CMAF and DASH, and SAMPLE-AES in TS.
    Cbcs,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::None => "none",
            Method::Aes128 => "aes-128",
            Method::SampleAes => "sample-aes",
            Method::Cenc => "cenc",
            Method::Cbcs => "cbcs",
        }
    }

    /// The Common Encryption scheme of CMAF segments, when the method uses one.
    pub fn cmaf_scheme(self) -> Option<Scheme> {
        match self {
            Method::Cenc => Some(Scheme::Cenc),
            Method::Cbcs | Method::SampleAes => Some(Scheme::Cbcs),
            Method::None | Method::Aes128 => None,
        }
    }

    pub fn is_encrypted(self) -> bool {
        self != Method::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_from_toml_strings() {
        #[derive(Deserialize)]
        struct T {
            m: Vec<Method>,
        }
        let t: T =
            serde_json::from_str(r#"{"m":["none","aes-128","sample-aes","cenc","cbcs"]}"#).unwrap();
        assert_eq!(
            t.m,
            [
                Method::None,
                Method::Aes128,
                Method::SampleAes,
                Method::Cenc,
                Method::Cbcs
            ]
        );
        for m in t.m {
            assert_eq!(
                serde_json::to_string(&m).unwrap(),
                format!("\"{}\"", m.name())
            );
        }
    }
}
