//! Resolving an asset name to its sources: `name.mp4` is one file of the media root, `name`
//! a directory whose MP4 files are the renditions of one title and whose `*.LANG.vtt` files
//! are its subtitles. The listing is turned into a packaging plan ([`Presentation`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use packager::presentation::{PackagingOptions, Presentation, SourceFile, SubtitleSource};
use packager::vtt::{parse_vtt, MAX_VTT_BYTES};

use crate::keys::policy::{AssetDefinition, EncryptionPolicy};
use crate::media::source_file::{identify, FileIdentity};
use crate::problem::{Problem, ProblemKind};

/// A title ready to serve: its plan, where each source lives, and a fingerprint of every
/// file's identity (for ETags).
#[derive(Debug)]
pub struct Title {
    pub presentation: Presentation,
    /// Path of each source, indexed like `presentation.sources`.
    pub paths: Vec<PathBuf>,
    pub fingerprint: u64,
    /// The encryption policy of the asset definition file, if there is one.
    pub policy: Option<EncryptionPolicy>,
}

/// The files that make up an asset.
#[derive(Debug, Clone)]
pub struct Listing {
    /// (rendition-id stem, path) of each MP4, sorted by file name.
    pub videos: Vec<(String, PathBuf)>,
    /// (language, path) of each subtitle file.
    pub subtitles: Vec<(String, PathBuf)>,
    /// The asset definition file (`name.toml` beside `name.mp4`, `asset.toml` in a title
    /// directory), when present.
    pub definition: Option<PathBuf>,
}

/// Name of the asset definition file inside a title directory.
pub const TITLE_DEFINITION_FILE: &str = "asset.toml";

/// Largest asset definition file read.
const MAX_DEFINITION_BYTES: u64 = 64 * 1024;

/// Reads and parses an asset definition file.
pub fn load_definition(path: &Path) -> Result<AssetDefinition, Problem> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let invalid = |detail: String| Problem::new(ProblemKind::AssetDefinitionInvalid, detail);
    let meta = std::fs::metadata(path).map_err(|e| invalid(format!("{name}: {e}")))?;
    if meta.len() > MAX_DEFINITION_BYTES {
        return Err(invalid(format!(
            "{name}: larger than {MAX_DEFINITION_BYTES} bytes"
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| invalid(format!("{name}: {e}")))?;
    toml::from_str(&text).map_err(|e| invalid(format!("{name}: {}", e.message())))
}

fn id_stem(stem: &str) -> String {
    stem.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `name.LANG.vtt` gives `LANG` when it is a plausible language tag.
fn subtitle_language(file: &str, stem: Option<&str>) -> Option<String> {
    let base = file.strip_suffix(".vtt")?;
    let (head, lang) = base.rsplit_once('.')?;
    if let Some(stem) = stem {
        if head != stem {
            return None;
        }
    }
    let ok = (2..=8).contains(&lang.len())
        && lang.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    ok.then(|| lang.to_owned())
}

/// Lists the files of `asset` under `root`.
pub fn list_asset(root: &Path, asset: &str) -> Result<Listing, Problem> {
    let path = root.join(asset);
    let missing = || {
        Problem::new(
            ProblemKind::AssetNotFound,
            format!("no asset '{asset}' in the media root"),
        )
    };
    let meta = std::fs::metadata(&path).map_err(|_| missing())?;
    let read_dir = |dir: &Path| -> Result<Vec<String>, Problem> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map_err(|e| {
                Problem::new(
                    ProblemKind::SourceUnreadable,
                    format!("cannot list '{asset}': {e}"),
                )
            })?
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        Ok(names)
    };
    if meta.is_file() {
        let Some(stem) = asset.strip_suffix(".mp4") else {
            return Err(Problem::new(
                ProblemKind::AssetNotFound,
                format!("'{asset}' is neither an .mp4 file nor a title directory"),
            ));
        };
        let subtitles = read_dir(root)?
            .into_iter()
            .filter_map(|n| subtitle_language(&n, Some(stem)).map(|l| (l, root.join(&n))))
            .collect();
        let definition = root.join(format!("{stem}.toml"));
        return Ok(Listing {
            videos: vec![(String::new(), path)],
            subtitles,
            definition: definition.is_file().then_some(definition),
        });
    }
    if !meta.is_dir() {
        return Err(missing());
    }
    let names = read_dir(&path)?;
    let videos: Vec<_> = names
        .iter()
        .filter_map(|n| n.strip_suffix(".mp4").map(|s| (id_stem(s), path.join(n))))
        .collect();
    if videos.is_empty() {
        return Err(Problem::new(
            ProblemKind::AssetNotFound,
            format!("title directory '{asset}' holds no .mp4 file"),
        ));
    }
    let subtitles = names
        .iter()
        .filter_map(|n| subtitle_language(n, None).map(|l| (l, path.join(n))))
        .collect();
    let definition = path.join(TITLE_DEFINITION_FILE);
    Ok(Listing {
        videos,
        subtitles,
        definition: definition.is_file().then_some(definition),
    })
}

/// Identities of every file in a listing, in order.
pub fn identities(listing: &Listing) -> Result<Vec<FileIdentity>, Problem> {
    listing
        .videos
        .iter()
        .map(|(_, p)| p)
        .chain(listing.subtitles.iter().map(|(_, p)| p))
        .chain(listing.definition.iter())
        .map(|p| {
            identify(p).map_err(|e| Problem::new(ProblemKind::SourceUnreadable, e.to_string()))
        })
        .collect()
}

/// Reads and parses the subtitle files of a listing.
pub fn load_subtitles(listing: &Listing) -> Result<Vec<SubtitleSource>, Problem> {
    let mut out: Vec<SubtitleSource> = Vec::new();
    for (lang, path) in &listing.subtitles {
        if out.iter().any(|s| &s.language == lang) {
            continue;
        }
        let name = path.display().to_string();
        let meta = std::fs::metadata(path)
            .map_err(|e| Problem::new(ProblemKind::SourceUnreadable, format!("{name}: {e}")))?;
        if meta.len() > MAX_VTT_BYTES as u64 {
            return Err(Problem::new(
                ProblemKind::SourceUnpackable,
                format!(
                    "{name}: subtitle file of {} bytes exceeds {MAX_VTT_BYTES}",
                    meta.len()
                ),
            ));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| Problem::new(ProblemKind::SourceUnreadable, format!("{name}: {e}")))?;
        let vtt = parse_vtt(&name, &text)?;
        out.push(SubtitleSource {
            language: lang.clone(),
            vtt: Arc::new(vtt),
            text: Arc::from(text),
        });
    }
    Ok(out)
}

/// Puts parsed sources and subtitles together into a title.
pub fn assemble(
    listing: &Listing,
    movies: Vec<Arc<packager::mp4::Movie>>,
    subtitles: Vec<SubtitleSource>,
    options: PackagingOptions,
    fingerprint: u64,
) -> Result<Title, Problem> {
    let sources = listing
        .videos
        .iter()
        .zip(movies)
        .map(|((name, _), movie)| SourceFile {
            name: name.clone(),
            movie,
        })
        .collect();
    let policy = match &listing.definition {
        Some(path) => load_definition(path)?.encryption,
        None => None,
    };
    let presentation = Presentation::build(sources, subtitles, options)?;
    Ok(Title {
        presentation,
        paths: listing.videos.iter().map(|(_, p)| p.clone()).collect(),
        fingerprint,
        policy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtitle_language_from_file_name() {
        assert_eq!(
            subtitle_language("demo.en.vtt", None).as_deref(),
            Some("en")
        );
        assert_eq!(
            subtitle_language("movie.pt-BR.vtt", Some("movie")).as_deref(),
            Some("pt-BR")
        );
        assert_eq!(subtitle_language("other.en.vtt", Some("movie")), None);
        assert_eq!(subtitle_language("plain.vtt", None), None);
    }

    #[test]
    fn rendition_stems_are_url_safe() {
        assert_eq!(id_stem("video 720p+hi"), "video_720p_hi");
    }
}
