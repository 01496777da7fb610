//! Where sources live: a local directory or the base URL of an HTTP origin. Written in the
//! configuration as one string; a value starting with `http://` or `https://` is an origin.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Deserializer};

/// The media root of the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaRoot {
    /// A local directory of MP4 files and title directories.
    Local(PathBuf),
    /// An HTTP origin; asset `name.mp4` is read from `{base}name.mp4`, a title `name` is
    /// described by `{base}name/asset.toml`. Always ends with `/`.
    Http(reqwest::Url),
}

impl MediaRoot {
    /// Parses a configuration value.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.starts_with("http://") || text.starts_with("https://") {
            let with_slash = if text.ends_with('/') {
                text.to_owned()
            } else {
                format!("{text}/")
            };
            let url = reqwest::Url::parse(&with_slash)
                .map_err(|e| format!("media_root {text:?} is not a valid URL: {e}"))?;
            if url.query().is_some() || url.fragment().is_some() {
                return Err(format!(
                    "media_root {text:?}: an origin base URL takes no query or fragment"
                ));
            }
            Ok(MediaRoot::Http(url))
        } else {
            Ok(MediaRoot::Local(PathBuf::from(text)))
        }
    }

    /// The local directory, if the root is one.
    pub fn local(&self) -> Option<&std::path::Path> {
        match self {
            MediaRoot::Local(p) => Some(p),
            MediaRoot::Http(_) => None,
        }
    }
}

impl From<PathBuf> for MediaRoot {
    fn from(path: PathBuf) -> Self {
        MediaRoot::Local(path)
    }
}

impl fmt::Display for MediaRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MediaRoot::Local(p) => write!(f, "{}", p.display()),
            MediaRoot::Http(u) => write!(f, "{u}"),
        }
    }
}

impl<'de> Deserialize<'de> for MediaRoot {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        MediaRoot::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_origins_and_end_with_a_slash() {
        let MediaRoot::Http(url) = MediaRoot::parse("http://origin:8081/media").unwrap() else {
            panic!("not an origin");
        };
        assert_eq!(url.as_str(), "http://origin:8081/media/");
        assert_eq!(
            MediaRoot::parse("demo/media").unwrap(),
            MediaRoot::Local("demo/media".into())
        );
        assert!(MediaRoot::parse("http://origin/media?x=1").is_err());
        assert!(MediaRoot::parse("http://[::1").is_err());
    }
}
