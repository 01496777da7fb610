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

/// A path segment that names a file-system entry: no separators, no dot-files, no `..`.
pub fn safe_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl MediaRoot {
    /// Where the catalog's `source` of an asset lives, as a root and a name in it (listed
    /// like an asset of that root): a path below this root (`mezzanine/film.mp4`, each
    /// segment a [`safe_name`]), or an http(s) URL of an origin.
    pub fn for_source(&self, source: &str) -> Result<(MediaRoot, String), String> {
        let bad = |why: &str| format!("the catalog's source {source:?} {why}");
        if source.starts_with("http://") || source.starts_with("https://") {
            let (base, name) = source
                .rsplit_once('/')
                .ok_or_else(|| bad("has no file name"))?;
            if !safe_name(name) {
                return Err(bad("does not end in a plain file or title name"));
            }
            let root = MediaRoot::parse(&format!("{base}/")).map_err(|e| bad(&e))?;
            return Ok((root, name.to_owned()));
        }
        let segments: Vec<&str> = source.split('/').collect();
        if segments.len() > 32 || !segments.iter().all(|s| safe_name(s)) {
            return Err(bad(
                "is neither an http(s) URL nor a relative path of plain names",
            ));
        }
        let (name, dirs) = segments.split_last().ok_or_else(|| bad("is empty"))?;
        let root = match self {
            MediaRoot::Local(dir) => {
                MediaRoot::Local(dirs.iter().fold(dir.clone(), |d, s| d.join(s)))
            }
            MediaRoot::Http(base) => {
                let mut url = base.clone();
                if !dirs.is_empty() {
                    url = url
                        .join(&format!("{}/", dirs.join("/")))
                        .map_err(|e| bad(&e.to_string()))?;
                }
                MediaRoot::Http(url)
            }
        };
        Ok((root, (*name).to_owned()))
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

    #[test]
    fn a_catalog_source_is_a_path_below_the_root_or_an_origin_url() {
        let local = MediaRoot::Local("/srv/media".into());
        assert_eq!(
            local.for_source("mezzanine/film.mp4").unwrap(),
            (
                MediaRoot::Local("/srv/media/mezzanine".into()),
                "film.mp4".to_owned()
            )
        );
        assert_eq!(
            local.for_source("demo").unwrap(),
            (MediaRoot::Local("/srv/media".into()), "demo".to_owned())
        );
        let origin = MediaRoot::parse("http://origin/media/").unwrap();
        let (root, name) = origin.for_source("a/b/film.mp4").unwrap();
        assert_eq!(root.to_string(), "http://origin/media/a/b/");
        assert_eq!(name, "film.mp4");
        let (root, name) = local.for_source("https://cdn.example/m/film.mp4").unwrap();
        assert_eq!(root.to_string(), "https://cdn.example/m/");
        assert_eq!(name, "film.mp4");
        for bad in [
            "",
            "../etc/passwd",
            "/etc/passwd",
            "a//b.mp4",
            "a/./b.mp4",
            ".hidden.mp4",
            "https://cdn.example/m/",
            "https://cdn.example/m/..",
            "ftp://x/y.mp4",
        ] {
            assert!(local.for_source(bad).is_err(), "{bad:?}");
        }
    }
}
