//! The route phase: a request path parsed into a typed request (what is asked for, of which
//! asset) and the methods it answers to. This is the URL contract of the daemon; the README
//! documents it.

use packager::url_query::ManifestSyntax;

use crate::media::root::safe_name;
use crate::problem::{Problem, ProblemKind};

/// HLS segment flavor of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Cmaf,
    Ts,
}

/// What a path asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Health,
    Ready,
    Metrics,
    /// `POST /admin/v1/revocations`: revoke a session, an account or a token id.
    Revocations,
    Vod(VodRequest),
}

/// A request for an object of one asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VodRequest {
    /// The asset name as in the URL (`demo`, `movie.mp4`).
    pub asset: String,
    /// The ad session the path names (`/vod/{asset}/s/{session}/...`), if any.
    pub session: Option<String>,
    pub object: VodObject,
}

impl VodRequest {
    /// The path of the object as every session shares it: without the session, and for an
    /// ad's object without its place in the session (the cache key and ETag of what is
    /// built).
    pub fn shared_path(&self) -> String {
        match &self.object {
            VodObject::Ad(ad) => format!(
                "/vod/{}/ad/{}/{}",
                self.asset,
                ad.title,
                ad.object.relative_path()
            ),
            other => format!("/vod/{}/{}", self.asset, other.relative_path()),
        }
    }
}

/// An object of an ad's title, as a session plays it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdObject {
    /// Where the ad is in the session (`{break}-{ad}`).
    pub slot: String,
    /// The ad's title (a conditioned creative).
    pub title: String,
    /// Its init or media segment.
    pub object: Box<VodObject>,
}

/// An object of one asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VodObject {
    Multivariant(Flavor),
    Mpd,
    MediaPlaylist(Flavor, String),
    IframePlaylist(String),
    Init(String),
    CmafSegment(String, u32),
    TsSegment(String, u32),
    SubtitlePlaylist(Flavor, String),
    SubtitleSegment(Flavor, String, u32),
    SubtitleFile(String),
    /// The cues of a language's file from one millisecond to another, their times relative
    /// to the first (`sub/{lang}/period-{from}-{to}.vtt`): a stitched DASH Period's sidecar.
    SubtitlePeriod(String, u64, u64),
    /// The raw 16-byte content key with this key id (HLS AES-128, SAMPLE-AES, ClearKey).
    Key(drm::KeyId),
    /// The W3C ClearKey license endpoint (POST).
    ClearKeyLicense,
    /// The content steering answer for HLS (`steering/hls.json`) or DASH (`steering/dash.json`).
    Steering(ManifestSyntax),
    /// An ad's init or media segment in an ad session (`ad/{slot}/{title}/...`).
    Ad(AdObject),
    /// The empty WebVTT document subtitles play during an ad session's ads (`blank.vtt`).
    BlankSubtitle,
    /// The HLS Interstitials asset list of break N of an ad session (`assets/N.json`).
    AssetList(u32),
}

impl Route {
    /// A short label for metrics: what kind of object was asked for.
    pub fn kind(&self) -> &'static str {
        match self {
            Route::Health | Route::Ready => "health",
            Route::Metrics => "metrics",
            Route::Revocations => "admin",
            Route::Vod(VodRequest { object, .. }) => match object {
                VodObject::Multivariant(_) => "multivariant",
                VodObject::Mpd => "mpd",
                VodObject::MediaPlaylist(..) | VodObject::IframePlaylist(_) => "media_playlist",
                VodObject::Init(_) => "init",
                VodObject::CmafSegment(..) => "cmaf_segment",
                VodObject::TsSegment(..) => "ts_segment",
                VodObject::SubtitlePlaylist(..) => "subtitle_playlist",
                VodObject::SubtitleSegment(..)
                | VodObject::SubtitleFile(_)
                | VodObject::SubtitlePeriod(..) => "subtitle",
                VodObject::Key(_) => "key",
                VodObject::ClearKeyLicense => "license",
                VodObject::Steering(_) => "steering",
                VodObject::Ad(ad) => match *ad.object {
                    VodObject::Init(_) => "ad_init",
                    VodObject::Multivariant(_)
                    | VodObject::MediaPlaylist(..)
                    | VodObject::IframePlaylist(_) => "ad_playlist",
                    _ => "ad_segment",
                },
                VodObject::AssetList(_) => "asset_list",
                VodObject::BlankSubtitle => "subtitle",
            },
        }
    }
}

impl Route {
    /// The methods this route answers to, as an `Allow` header lists them. The ClearKey
    /// license endpoint takes POST; everything else GET and HEAD. OPTIONS (CORS preflight)
    /// is answered everywhere.
    pub fn allowed_methods(&self) -> &'static str {
        match self {
            Route::Vod(VodRequest {
                object: VodObject::ClearKeyLicense,
                ..
            })
            | Route::Revocations => "POST, OPTIONS",
            _ => "GET, HEAD, OPTIONS",
        }
    }

    /// Whether this route answers to `method` (OPTIONS is answered before routing).
    pub fn allows(&self, method: &http::Method) -> bool {
        match self {
            Route::Vod(VodRequest {
                object: VodObject::ClearKeyLicense,
                ..
            })
            | Route::Revocations => method == http::Method::POST,
            _ => method == http::Method::GET || method == http::Method::HEAD,
        }
    }
}

impl VodObject {
    /// The path of this object below `/vod/{asset}/`: the inverse of [`parse_route`].
    pub fn relative_path(&self) -> String {
        use Flavor::*;
        use VodObject::*;
        let ts = |f: &Flavor| if *f == Ts { "ts/" } else { "" };
        match self {
            Multivariant(f) => format!("{}master.m3u8", ts(f)),
            Mpd => "manifest.mpd".into(),
            MediaPlaylist(f, r) => format!("{}{r}/media.m3u8", ts(f)),
            IframePlaylist(r) => format!("{r}/iframes.m3u8"),
            Init(r) => format!("{r}/init.mp4"),
            CmafSegment(r, n) => format!("{r}/{n}.m4s"),
            TsSegment(r, n) => format!("ts/{r}/{n}.ts"),
            SubtitlePlaylist(f, l) => format!("{}sub/{l}/media.m3u8", ts(f)),
            SubtitleSegment(f, l, n) => format!("{}sub/{l}/{n}.vtt", ts(f)),
            SubtitleFile(l) => format!("sub/{l}.vtt"),
            SubtitlePeriod(l, from, to) => format!("sub/{l}/period-{from}-{to}.vtt"),
            Key(kid) => format!("keys/{}.key", kid.hex()),
            ClearKeyLicense => "license/clearkey".into(),
            Steering(ManifestSyntax::Hls) => "steering/hls.json".into(),
            Steering(ManifestSyntax::Dash) => "steering/dash.json".into(),
            Ad(ad) => format!("ad/{}/{}/{}", ad.slot, ad.title, ad.object.relative_path()),
            BlankSubtitle => "blank.vtt".into(),
            AssetList(n) => format!("assets/{n}.json"),
        }
    }
}

fn not_found(path: &str) -> Problem {
    Problem::new(
        ProblemKind::NotFound,
        format!("nothing is served at {path}"),
    )
}

/// `period-FROM-TO.vtt`, milliseconds, FROM before TO: a subtitle slice's range.
fn period_range(file: &str) -> Option<(u64, u64)> {
    let (from, to) = file
        .strip_prefix("period-")?
        .strip_suffix(".vtt")?
        .split_once('-')?;
    let ms = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())?
    };
    let (from, to) = (ms(from)?, ms(to)?);
    (from < to).then_some((from, to))
}

/// `N.ext` with N from 1: the segment number.
fn numbered(file: &str, ext: &str) -> Option<u32> {
    let n = file.strip_suffix(ext)?;
    if n.is_empty() || n.len() > 9 || !n.bytes().all(|b| b.is_ascii_digit()) || n.starts_with('0') {
        return None;
    }
    n.parse().ok()
}

/// Parses a request path (without query).
pub fn parse_route(path: &str) -> Result<Route, Problem> {
    match path {
        "/healthz" => return Ok(Route::Health),
        "/readyz" => return Ok(Route::Ready),
        "/metrics" => return Ok(Route::Metrics),
        "/admin/v1/revocations" => return Ok(Route::Revocations),
        _ => {}
    }
    let Some(rest) = path.strip_prefix("/vod/") else {
        return Err(not_found(path));
    };
    let parts: Vec<&str> = rest.split('/').collect();
    let asset = parts[0];
    if !safe_name(asset) {
        return Err(Problem::new(
            ProblemKind::BadRequest,
            format!("'{asset}' is not a valid asset name (letters, digits, '-', '_', '.'; not starting with '.')"),
        ));
    }
    for p in &parts[1..] {
        if !safe_name(p) {
            return Err(not_found(path));
        }
    }
    let (session, rest) = match parts[1..] {
        ["s", id, ..] if parts.len() > 3 => {
            if !crate::ads::session::valid_id(id) {
                return Err(not_found(path));
            }
            (Some(id.to_owned()), &parts[3..])
        }
        _ => (None, &parts[1..]),
    };
    let object = match (rest, &session) {
        (["ad", slot, title, inner @ ..], Some(_)) => {
            match parse_object(inner).ok_or_else(|| not_found(path))? {
                // An ad's keys are the content's (ads are encrypted with its key).
                o @ (VodObject::Key(_) | VodObject::ClearKeyLicense) => o,
                o @ (VodObject::Init(_)
                | VodObject::CmafSegment(..)
                | VodObject::TsSegment(..)
                | VodObject::Multivariant(_)
                | VodObject::MediaPlaylist(..)
                | VodObject::IframePlaylist(_)) => VodObject::Ad(AdObject {
                    slot: (*slot).to_owned(),
                    title: (*title).to_owned(),
                    object: Box::new(o),
                }),
                _ => return Err(not_found(path)),
            }
        }
        (["blank.vtt"], Some(_)) => VodObject::BlankSubtitle,
        (["assets", file], Some(_)) => {
            VodObject::AssetList(numbered(file, ".json").ok_or_else(|| not_found(path))?)
        }
        _ => parse_object(rest).ok_or_else(|| not_found(path))?,
    };
    Ok(Route::Vod(VodRequest {
        asset: asset.to_owned(),
        session,
        object,
    }))
}

/// The object the path below `/vod/{asset}/` names.
fn parse_object(parts: &[&str]) -> Option<VodObject> {
    use Flavor::*;
    use VodObject::*;
    Some(match *parts {
        ["master.m3u8"] => Multivariant(Cmaf),
        ["manifest.mpd"] => Mpd,
        ["ts", "master.m3u8"] => Multivariant(Ts),
        ["sub", file] if file.ends_with(".vtt") => {
            SubtitleFile(file.trim_end_matches(".vtt").to_owned())
        }
        ["sub", lang, "media.m3u8"] => SubtitlePlaylist(Cmaf, lang.to_owned()),
        ["sub", lang, file] if file.starts_with("period-") => {
            let (from, to) = period_range(file)?;
            SubtitlePeriod(lang.to_owned(), from, to)
        }
        ["ts", "sub", lang, "media.m3u8"] => SubtitlePlaylist(Ts, lang.to_owned()),
        ["sub", lang, file] => SubtitleSegment(Cmaf, lang.to_owned(), numbered(file, ".vtt")?),
        ["ts", "sub", lang, file] => SubtitleSegment(Ts, lang.to_owned(), numbered(file, ".vtt")?),
        ["keys", file] => Key(file.strip_suffix(".key")?.parse().ok()?),
        ["license", "clearkey"] => ClearKeyLicense,
        ["steering", "hls.json"] => Steering(ManifestSyntax::Hls),
        ["steering", "dash.json"] => Steering(ManifestSyntax::Dash),
        ["ts", rendition, "media.m3u8"] => MediaPlaylist(Ts, rendition.to_owned()),
        ["ts", rendition, file] => TsSegment(rendition.to_owned(), numbered(file, ".ts")?),
        [rendition, "media.m3u8"] => MediaPlaylist(Cmaf, rendition.to_owned()),
        [rendition, "iframes.m3u8"] => IframePlaylist(rendition.to_owned()),
        [rendition, "init.mp4"] => Init(rendition.to_owned()),
        [rendition, file] => CmafSegment(rendition.to_owned(), numbered(file, ".m4s")?),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vod(path: &str) -> VodObject {
        match parse_route(path).unwrap() {
            Route::Vod(VodRequest { object, .. }) => object,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_the_url_contract() {
        assert_eq!(
            vod("/vod/a.mp4/master.m3u8"),
            VodObject::Multivariant(Flavor::Cmaf)
        );
        assert_eq!(
            vod("/vod/a/ts/master.m3u8"),
            VodObject::Multivariant(Flavor::Ts)
        );
        assert_eq!(vod("/vod/a/manifest.mpd"), VodObject::Mpd);
        assert_eq!(
            vod("/vod/a/keys/000102030405060708090a0b0c0d0e0f.key"),
            VodObject::Key(drm::KeyId(std::array::from_fn(|i| i as u8)))
        );
        assert_eq!(vod("/vod/a/license/clearkey"), VodObject::ClearKeyLicense);
        assert!(parse_route("/vod/a/keys/zz.key").is_err());
        assert_eq!(vod("/vod/a/v1/init.mp4"), VodObject::Init("v1".into()));
        assert_eq!(
            vod("/vod/a/v1/12.m4s"),
            VodObject::CmafSegment("v1".into(), 12)
        );
        assert_eq!(
            vod("/vod/a/ts/v1/3.ts"),
            VodObject::TsSegment("v1".into(), 3)
        );
        assert_eq!(
            vod("/vod/a/ts/sub/en/2.vtt"),
            VodObject::SubtitleSegment(Flavor::Ts, "en".into(), 2)
        );
        assert_eq!(
            vod("/vod/a/sub/en.vtt"),
            VodObject::SubtitleFile("en".into())
        );
        assert_eq!(
            vod("/vod/a/sub/en/period-0-12000.vtt"),
            VodObject::SubtitlePeriod("en".into(), 0, 12000)
        );
        for bad in [
            "/vod/a/sub/en/period-5-5.vtt",
            "/vod/a/sub/en/period-9-1.vtt",
            "/vod/a/sub/en/period--1.vtt",
            "/vod/a/sub/en/period-1-2.m4s",
            "/vod/a/sub/en/period-+1-2.vtt",
            "/vod/a/sub/en/period-1-99999999999999.vtt",
        ] {
            assert!(parse_route(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn relative_paths_parse_back() {
        use VodObject::*;
        for object in [
            Multivariant(Flavor::Cmaf),
            Multivariant(Flavor::Ts),
            Mpd,
            MediaPlaylist(Flavor::Ts, "a-v1".into()),
            MediaPlaylist(Flavor::Cmaf, "v1".into()),
            IframePlaylist("v1".into()),
            Init("a2".into()),
            CmafSegment("a2".into(), 7),
            TsSegment("v1".into(), 3),
            SubtitlePlaylist(Flavor::Ts, "en".into()),
            SubtitleSegment(Flavor::Cmaf, "fr".into(), 2),
            SubtitleFile("en".into()),
            SubtitlePeriod("en".into(), 12000, 24000),
            Steering(ManifestSyntax::Hls),
            Steering(ManifestSyntax::Dash),
        ] {
            let path = format!("/vod/x.mp4/{}", object.relative_path());
            assert_eq!(vod(&path), object, "{path}");
        }
    }

    #[test]
    fn session_paths_name_the_session_and_ad_objects() {
        let id = "0123456789abcdef0123456789abcdef";
        let parsed = |p: &str| match parse_route(p) {
            Ok(Route::Vod(v)) => v,
            other => panic!("{p}: {other:?}"),
        };
        let v = parsed(&format!("/vod/a/s/{id}/v1/media.m3u8"));
        assert_eq!(v.session.as_deref(), Some(id));
        assert_eq!(
            v.object,
            VodObject::MediaPlaylist(Flavor::Cmaf, "v1".into())
        );
        assert_eq!(v.shared_path(), "/vod/a/v1/media.m3u8");
        let ad = parsed(&format!("/vod/a/s/{id}/ad/1-0/ad-x.mp4/ts/v2/3.ts"));
        assert_eq!(ad.shared_path(), "/vod/a/ad/ad-x.mp4/ts/v2/3.ts");
        assert_eq!(
            format!("/vod/a/s/{id}/{}", ad.object.relative_path()),
            format!("/vod/a/s/{id}/ad/1-0/ad-x.mp4/ts/v2/3.ts")
        );
        // An ad's key is the content's.
        let key = parsed(&format!(
            "/vod/a/s/{id}/ad/0-0/ad-x.mp4/keys/000102030405060708090a0b0c0d0e0f.key"
        ));
        assert!(matches!(key.object, VodObject::Key(_)));
        assert_eq!(
            parsed(&format!("/vod/a/s/{id}/assets/2.json")).object,
            VodObject::AssetList(2)
        );
        assert_eq!(
            parsed(&format!("/vod/a/s/{id}/blank.vtt")).object,
            VodObject::BlankSubtitle
        );
        // Not a session id, ad objects outside a session, and ad objects that are not media.
        assert!(parse_route("/vod/a/s/XYZ/v1/media.m3u8").is_err());
        assert!(parse_route("/vod/a/ad/0-0/ad-x.mp4/v1/1.m4s").is_err());
        assert!(parse_route(&format!("/vod/a/s/{id}/ad/0-0/ad-x.mp4/sub/en.vtt")).is_err());
        assert!(parse_route(&format!("/vod/a/s/{id}/assets/0.json")).is_err());
        // A rendition called `s` is still a rendition.
        assert_eq!(
            parsed("/vod/a/s/1.m4s").object,
            VodObject::CmafSegment("s".into(), 1)
        );
    }

    #[test]
    fn the_license_endpoint_takes_post_and_the_rest_get() {
        let license = parse_route("/vod/a/license/clearkey").unwrap();
        assert!(license.allows(&http::Method::POST));
        assert!(!license.allows(&http::Method::GET));
        assert_eq!(license.allowed_methods(), "POST, OPTIONS");
        let segment = parse_route("/vod/a/v1/1.m4s").unwrap();
        assert!(segment.allows(&http::Method::GET) && segment.allows(&http::Method::HEAD));
        assert!(!segment.allows(&http::Method::POST));
        assert_eq!(segment.allowed_methods(), "GET, HEAD, OPTIONS");
    }

    #[test]
    fn rejects_traversal_and_odd_numbers() {
        assert_eq!(
            parse_route("/vod/../master.m3u8").unwrap_err().kind,
            ProblemKind::BadRequest
        );
        assert!(parse_route("/vod/.hidden/master.m3u8").is_err());
        assert!(parse_route("/vod/a/v1/0.m4s").is_err());
        assert!(parse_route("/vod/a/v1/01.m4s").is_err());
        assert!(parse_route("/vod/a/v1/99999999999.m4s").is_err());
        assert!(parse_route("/vod/a/v%2f1/1.m4s").is_err());
        assert!(parse_route("/etc/passwd").is_err());
    }
}
