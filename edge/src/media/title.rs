//! Resolving an asset name to its sources. In a local media root, `name.mp4` is one file,
//! `name` a directory whose MP4 files are the renditions of one title and whose
//! `*.LANG.vtt` files are its subtitles, or a definition file `name.toml` listing them. In
//! an HTTP media root (which cannot be listed), `name.mp4` is one object and `name` is
//! described by `name/asset.toml`. The listing, once its sources are parsed, becomes a
//! packaging plan ([`Presentation`]).

use std::path::Path;
use std::sync::Arc;

use packager::presentation::{PackagingOptions, Presentation, SourceFile, SubtitleSource};
use packager::segment::Cue;

use crate::hash::fnv1a;
use crate::keys::policy::EncryptionPolicy;
use crate::media::definition::{
    parse_definition, AssetDefinition, MAX_DEFINITION_BYTES, TITLE_DEFINITION_FILE,
};
use crate::media::rights::Rights;
use crate::media::root::MediaRoot;
use crate::origin::{Origins, SourceIdentity, SourceRef};
use crate::problem::{Problem, ProblemKind};

/// A title ready to serve: its plan, where each source lives and which version of it was
/// parsed, and a fingerprint of all of it (for ETags).
#[derive(Debug)]
pub struct Title {
    pub presentation: Presentation,
    /// Each source and its identity, indexed like `presentation.sources`.
    pub sources: Vec<(SourceRef, SourceIdentity)>,
    pub fingerprint: u64,
    /// The encryption policy of the asset definition file, if there is one.
    pub policy: Option<EncryptionPolicy>,
    /// Whether the asset definition asks for tokens, if it says.
    pub access: Option<crate::access::config::AccessMode>,
    /// The ads of the asset definition file, if it has any.
    pub ads: Option<crate::ads::config::AdRules>,
    /// Where and when it may play, when its catalog entry restricts it.
    pub rights: Option<Rights>,
}

/// The objects that make up an asset.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// (rendition-id stem, source) of each MP4, in rendition order.
    pub videos: Vec<(String, SourceRef)>,
    /// (language, source) of each subtitle file.
    pub subtitles: Vec<(String, SourceRef)>,
    /// The asset definition, when there is one.
    pub definition: Option<AssetDefinition>,
    /// A hash of the definition's bytes (0 without one).
    pub definition_hash: u64,
    /// Where and when it may play, when its catalog entry restricts it.
    pub rights: Option<Rights>,
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
    is_language(lang).then(|| lang.to_owned())
}

fn is_language(lang: &str) -> bool {
    (2..=8).contains(&lang.len()) && lang.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn not_found(asset: &str) -> Problem {
    Problem::new(
        ProblemKind::AssetNotFound,
        format!("no asset '{asset}' in the media root"),
    )
}

/// Lists the sources of `asset` in `root`.
pub async fn list_asset(
    origins: &Origins,
    root: &MediaRoot,
    asset: &str,
) -> Result<Listing, Problem> {
    match root {
        MediaRoot::Local(dir) => {
            let dir = dir.clone();
            let name = asset.to_owned();
            let (mut listing, definition) =
                tokio::task::spawn_blocking(move || list_local(&dir, &name))
                    .await
                    .map_err(|e| Problem::new(ProblemKind::Internal, e.to_string()))??;
            if let Some(def) = definition {
                read_definition(origins, &def, &mut listing).await?;
            }
            finish(asset, listing)
        }
        MediaRoot::Http(base) => {
            let base = SourceRef::Url(base.clone());
            let at = |path: &str| base.resolve(path).map_err(|_| not_found(asset));
            let mut listing = Listing::default();
            if let Some(stem) = asset.strip_suffix(".mp4") {
                listing.videos.push((String::new(), at(asset)?));
                read_definition(origins, &at(&format!("{stem}.toml"))?, &mut listing).await?;
            } else {
                let def = at(&format!("{asset}/{TITLE_DEFINITION_FILE}"))?;
                if !read_definition(origins, &def, &mut listing).await? {
                    return Err(not_found(asset));
                }
            }
            finish(asset, listing)
        }
    }
}

fn finish(asset: &str, listing: Listing) -> Result<Listing, Problem> {
    if listing.videos.is_empty() {
        return Err(Problem::new(
            ProblemKind::AssetNotFound,
            format!("title '{asset}' has no MP4 source"),
        ));
    }
    Ok(listing)
}

/// Reads the definition at `def` into `listing`, if it exists: its sources replace the
/// listed MP4 files, its subtitles add to the listed ones. Returns whether it exists.
async fn read_definition(
    origins: &Origins,
    def: &SourceRef,
    listing: &mut Listing,
) -> Result<bool, Problem> {
    let name = def.stem() + ".toml";
    let invalid = |detail: String| Problem::new(ProblemKind::AssetDefinitionInvalid, detail);
    let Some(bytes) = origins
        .read_document(def, MAX_DEFINITION_BYTES)
        .await
        .map_err(Problem::from)?
    else {
        return Ok(false);
    };
    let definition = parse_definition(&name, &bytes)?;
    if !definition.sources.is_empty() {
        listing.videos = definition
            .sources
            .iter()
            .map(|s| {
                let source = def
                    .resolve(s)
                    .map_err(|e| invalid(format!("{name}: {e}")))?;
                Ok((id_stem(&source.stem()), source))
            })
            .collect::<Result<_, Problem>>()?;
        if listing.videos.len() == 1 {
            listing.videos[0].0.clear();
        }
    }
    for (lang, s) in &definition.subtitles {
        if !is_language(lang) {
            return Err(invalid(format!("{name}: '{lang}' is not a language tag")));
        }
        let source = def
            .resolve(s)
            .map_err(|e| invalid(format!("{name}: {e}")))?;
        listing.subtitles.retain(|(l, _)| l != lang);
        listing.subtitles.push((lang.clone(), source));
    }
    listing.definition_hash = fnv1a(&bytes, 0x5eed);
    listing.definition = Some(definition);
    Ok(true)
}

/// Lists a local asset: the listing from the file system, and the definition file to read.
fn list_local(root: &Path, asset: &str) -> Result<(Listing, Option<SourceRef>), Problem> {
    let path = root.join(asset);
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
    let file = |p: &Path| SourceRef::File(p.to_owned());
    let Ok(meta) = std::fs::metadata(&path) else {
        // A title made only of its definition file.
        let definition = root.join(format!("{asset}.toml"));
        if asset.ends_with(".mp4") || !definition.is_file() {
            return Err(not_found(asset));
        }
        return Ok((Listing::default(), Some(file(&definition))));
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
            .filter_map(|n| subtitle_language(&n, Some(stem)).map(|l| (l, file(&root.join(&n)))))
            .collect();
        let definition = root.join(format!("{stem}.toml"));
        let listing = Listing {
            videos: vec![(String::new(), file(&path))],
            subtitles,
            ..Listing::default()
        };
        return Ok((listing, definition.is_file().then(|| file(&definition))));
    }
    if !meta.is_dir() {
        return Err(not_found(asset));
    }
    let names = read_dir(&path)?;
    let listing = Listing {
        videos: names
            .iter()
            .filter_map(|n| {
                n.strip_suffix(".mp4")
                    .map(|s| (id_stem(s), file(&path.join(n))))
            })
            .collect(),
        subtitles: names
            .iter()
            .filter_map(|n| subtitle_language(n, None).map(|l| (l, file(&path.join(n)))))
            .collect(),
        ..Listing::default()
    };
    let definition = path.join(TITLE_DEFINITION_FILE);
    Ok((listing, definition.is_file().then(|| file(&definition))))
}

/// The identity of every source and subtitle of a listing, and a fingerprint of them all
/// and of the definition.
pub async fn identify(
    origins: &Origins,
    listing: &Listing,
) -> Result<(Vec<SourceIdentity>, u64), Problem> {
    let mut ids = Vec::with_capacity(listing.videos.len() + listing.subtitles.len());
    let mut fingerprint = listing.definition_hash;
    let all = listing.videos.iter().chain(&listing.subtitles);
    for (stem, source) in all {
        let id = origins.identify(source).await?;
        fingerprint = fnv1a(stem.as_bytes(), fingerprint);
        fingerprint = fnv1a(&id.len.to_be_bytes(), fingerprint);
        fingerprint = fnv1a(&id.version.to_be_bytes(), fingerprint);
        ids.push(id);
    }
    Ok((ids, fingerprint))
}

/// Reads and parses the subtitle files of a listing.
pub async fn load_subtitles(
    origins: &Origins,
    listing: &Listing,
) -> Result<Vec<SubtitleSource>, Problem> {
    let mut out: Vec<SubtitleSource> = Vec::new();
    for (lang, source) in &listing.subtitles {
        if out.iter().any(|s| &s.language == lang) {
            continue;
        }
        let name = source.public_name();
        let max = packager::vtt::MAX_VTT_BYTES as u64;
        let bytes = origins
            .read_document(source, max)
            .await
            .map_err(|e| match e {
                crate::origin::OriginError::Unreadable { .. } => Problem::new(
                    ProblemKind::SourceUnpackable,
                    format!("{name}: subtitle file over {max} bytes, or unreadable: {e}"),
                ),
                e => Problem::from(e),
            })?
            .ok_or_else(|| {
                Problem::new(ProblemKind::SourceUnreadable, format!("{name}: not found"))
            })?;
        let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
            Problem::new(ProblemKind::SourceUnpackable, format!("{name}: not UTF-8"))
        })?;
        let vtt = packager::vtt::parse_vtt(&name, &text)?;
        out.push(SubtitleSource {
            language: lang.clone(),
            vtt: Arc::new(vtt),
            text: Arc::from(text),
        });
    }
    Ok(out)
}

/// `fingerprint` with the `cues` the title is cut at (they change its segments, so its ETags).
pub fn with_cues(fingerprint: u64, cues: &[Cue]) -> u64 {
    cues.iter().fold(fingerprint, |h, c| {
        let (kind, value) = match c {
            Cue::At(ms) => (0u8, *ms),
            Cue::Fraction(ppm) => (1, u64::from(*ppm)),
        };
        fnv1a(&value.to_be_bytes(), fnv1a(&[kind], h))
    })
}

/// Puts parsed sources and subtitles together into a title, cut at `cues` too.
pub fn assemble(
    listing: &Listing,
    ids: &[SourceIdentity],
    movies: Vec<Arc<packager::mp4::Movie>>,
    subtitles: Vec<SubtitleSource>,
    options: PackagingOptions,
    cues: &[Cue],
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
    let presentation = Presentation::build_with_cues(sources, subtitles, options, cues)?;
    Ok(Title {
        presentation,
        sources: listing
            .videos
            .iter()
            .zip(ids)
            .map(|((_, s), id)| (s.clone(), id.clone()))
            .collect(),
        fingerprint,
        policy: listing
            .definition
            .as_ref()
            .and_then(|d| d.encryption.clone()),
        access: listing.definition.as_ref().and_then(|d| d.access),
        ads: listing.definition.as_ref().and_then(|d| d.ads.clone()),
        rights: listing.rights.clone(),
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
