//! The splice, on real writer output and on hand-made edge cases.

use std::path::Path;
use std::sync::Arc;

use drm::cenc::Scheme;
use drm::{ContentKey, ContentKeyPair, DrmSystem, Method, Signalling};

use super::*;
use crate::dash::write_mpd;
use crate::hls::{
    cmaf_iframe_playlist, cmaf_media_playlist, subtitle_playlist, write_multivariant, HlsFlavor,
    VariantRates,
};
use crate::mp4::{next_top_level, parse_movie, TopLevelStep};
use crate::presentation::{PackagingOptions, Presentation, SourceFile, SubtitleSource};
use crate::protection::{KeyUrls, Protection};
use crate::ts_package::{ts_media_playlist, ts_multivariant};

const PAIR: &str = "cat=T0k";

fn hls(manifest: &str, pair: &str) -> String {
    String::from_utf8(append_query(manifest.as_bytes(), ManifestSyntax::Hls, pair).into_owned())
        .unwrap()
}

fn mpd(manifest: &str, pair: &str) -> String {
    String::from_utf8(append_query(manifest.as_bytes(), ManifestSyntax::Dash, pair).into_owned())
        .unwrap()
}

/// The demo title (three video, two audio renditions) with English and French
/// subtitles, planned as the daemon plans it.
fn demo() -> Presentation {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo/media/demo");
    let sources = [
        "audio_en",
        "audio_fr",
        "video_180p",
        "video_270p",
        "video_360p",
    ]
    .into_iter()
    .map(|name| {
        let file = std::fs::read(dir.join(format!("{name}.mp4"))).unwrap();
        let mut offset = 0;
        let (moov_at, moov_size) = loop {
            let header = &file[offset as usize..(offset as usize + 16).min(file.len())];
            match next_top_level(header, offset, file.len() as u64).unwrap() {
                TopLevelStep::Next { offset: next } => offset = next,
                TopLevelStep::Moov { offset, size } => break (offset, size),
            }
        };
        let moov =
            bytes::Bytes::copy_from_slice(&file[moov_at as usize..(moov_at + moov_size) as usize]);
        let movie = parse_movie(&moov, moov_at, file.len() as u64).unwrap();
        SourceFile {
            name: name.to_owned(),
            movie: Arc::new(movie),
        }
    })
    .collect();
    let subtitles = ["en", "fr"]
        .into_iter()
        .map(|language| {
            let name = format!("demo.{language}.vtt");
            let text = std::fs::read_to_string(dir.join(&name)).unwrap();
            SubtitleSource {
                language: language.to_owned(),
                vtt: Arc::new(crate::vtt::parse_vtt(&name, &text).unwrap()),
                text: Arc::from(text),
            }
        })
        .collect();
    Presentation::build(sources, subtitles, PackagingOptions::default()).unwrap()
}

fn protection(method: Method) -> Protection {
    let kid = drm::derive::key_id_for("url-query");
    Protection {
        method,
        key: ContentKeyPair {
            kid,
            key: ContentKey([7; 16]),
        },
        signalling: Signalling::new(kid, Scheme::Cbcs, "url-query", &DrmSystem::ALL, None),
        urls: KeyUrls {
            key_path: "keys/k.key".into(),
            clearkey_license: "https://license.example/clearkey?asset=demo&v=2".into(),
            fairplay: "skd://k".into(),
        },
        raw_key_delivery: true,
    }
}

/// The output less every insertion of `PAIR` (with its separator) is the input.
fn assert_only_insertions(input: &str, output: &str) {
    assert!(!input.contains(PAIR));
    let stripped = output
        .replace(&format!("&amp;{PAIR}"), "")
        .replace(&format!("?{PAIR}"), "")
        .replace(&format!("&{PAIR}"), "")
        .replace(PAIR, "");
    assert_eq!(stripped, input);
}

/// Checks a playlist the way a player reads it: every URI line and every `URI` value
/// carries the token, but for `data:` and `skd:` URIs; returns how many URLs it counted.
fn assert_hls_tokens(input: &str, output: &str) -> usize {
    assert_only_insertions(input, output);
    assert!(output.ends_with('\n'));
    let mut urls = 0;
    for line in output.lines() {
        if line.is_empty() {
            continue;
        }
        if !line.starts_with('#') {
            assert!(line.ends_with(PAIR), "{line}");
            assert_eq!(line.matches('?').count(), 1, "{line}");
            urls += 1;
            continue;
        }
        for value in line.split("URI=\"").skip(1) {
            let value = value.split('"').next().unwrap();
            if value.starts_with("data:") || value.starts_with("skd:") {
                assert!(!value.contains(PAIR), "{line}");
            } else {
                assert!(value.ends_with(PAIR), "{line}");
                urls += 1;
            }
        }
    }
    assert_eq!(output.matches(PAIR).count(), urls);
    urls
}

/// The output is one allocation of its exact size.
#[test]
fn the_output_is_allocated_once_at_its_size() {
    let p = demo();
    let manifests = [
        (ManifestSyntax::Hls, cmaf_media_playlist(&p.video[0], None)),
        (ManifestSyntax::Hls, ts_multivariant(&p, None)),
        (
            ManifestSyntax::Dash,
            write_mpd(&p, Some(&protection(Method::Cenc))),
        ),
    ];
    for (syntax, manifest) in manifests {
        let Cow::Owned(out) = append_query(manifest.as_bytes(), syntax, PAIR) else {
            panic!("URLs to change");
        };
        assert_eq!(out.capacity(), out.len());
    }
}

#[test]
fn cmaf_playlists_of_the_demo_title() {
    let p = demo();
    let rates = VariantRates {
        video: &|r| r.bandwidth,
        audio: &|r| r.bandwidth,
    };
    let multivariant = write_multivariant(&p, HlsFlavor::Cmaf, &rates, None);
    let out = hls(&multivariant, PAIR);
    // 2 audio + 2 subtitle EXT-X-MEDIA, 3 variants, 3 I-frame streams.
    assert_eq!(assert_hls_tokens(&multivariant, &out), 10);
    assert!(out.contains(",URI=\"sub/en/media.m3u8?cat=T0k\"\n"));
    assert!(out.contains(",URI=\"video_360p-v1/iframes.m3u8?cat=T0k\"\n"));
    assert!(out.contains("\nvideo_180p-v1/media.m3u8?cat=T0k\n"));

    let r = &p.video[0];
    let media = cmaf_media_playlist(r, None);
    let out = hls(&media, PAIR);
    assert_eq!(assert_hls_tokens(&media, &out), r.entries.len() + 1);
    assert!(out.contains("#EXT-X-MAP:URI=\"init.mp4?cat=T0k\"\n"));
    assert!(out.contains("\n1.m4s?cat=T0k\n"));

    let iframes = cmaf_iframe_playlist(r);
    let out = hls(&iframes, PAIR);
    assert_eq!(
        assert_hls_tokens(&iframes, &out),
        r.iframe_entries.len() + 1
    );

    let subtitles = subtitle_playlist(&p);
    let out = hls(&subtitles, PAIR);
    assert_eq!(
        assert_hls_tokens(&subtitles, &out),
        p.subtitle_segment_count()
    );
}

#[test]
fn protected_cmaf_playlists_leave_data_and_skd_uris() {
    let p = demo();
    let rates = VariantRates {
        video: &|r| r.bandwidth,
        audio: &|r| r.bandwidth,
    };
    let pr = protection(Method::Cbcs);
    let multivariant = write_multivariant(&p, HlsFlavor::Cmaf, &rates, Some(&pr));
    let out = hls(&multivariant, PAIR);
    assert_hls_tokens(&multivariant, &out);
    assert!(out.contains("#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI=\"keys/k.key?cat=T0k\","));
    assert!(out.contains("URI=\"skd://k\","));
    assert!(out.contains("URI=\"https://license.example/clearkey?asset=demo&v=2&cat=T0k\","));

    let media = cmaf_media_playlist(&p.video[1], Some(&pr));
    let out = hls(&media, PAIR);
    assert_hls_tokens(&media, &out);
    assert!(out.contains("#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"../keys/k.key?cat=T0k\","));
    assert!(out.contains("URI=\"data:text/plain;base64,"));
    assert!(out.contains("URI=\"data:text/plain;charset=UTF-16;base64,"));
    assert!(out.contains("URI=\"skd://k\","));
}

#[test]
fn ts_playlists_of_the_demo_title() {
    let p = demo();
    for method in [Method::None, Method::Aes128, Method::SampleAes] {
        let pr = protection(method);
        let multivariant = ts_multivariant(&p, Some(&pr));
        let out = hls(&multivariant, PAIR);
        assert_hls_tokens(&multivariant, &out);
        let media = ts_media_playlist(&p.video[2], Some(&pr));
        let out = hls(&media, PAIR);
        let urls = assert_hls_tokens(&media, &out);
        let key_lines = usize::from(method != Method::None);
        assert_eq!(urls, p.video[2].entries.len() + key_lines, "{method:?}");
        if method != Method::None {
            assert!(out.contains("URI=\"../../keys/k.key?cat=T0k\""));
        }
    }
}

#[test]
fn mpd_of_the_demo_title() {
    let p = demo();
    let manifest = write_mpd(&p, None);
    let out = mpd(&manifest, PAIR);
    assert_only_insertions(&manifest, &out);
    let renditions = p.video.len() + p.audio.len();
    assert_eq!(
        out.matches("initialization=\"").count(),
        out.matches("/init.mp4?cat=T0k\"").count()
    );
    assert_eq!(out.matches("/init.mp4?cat=T0k\"").count(), renditions);
    assert_eq!(out.matches("/$Number$.m4s?cat=T0k\"").count(), renditions);
    // The subtitle Representation's BaseURL is the file itself.
    assert!(out.contains("<BaseURL>sub/en.vtt?cat=T0k</BaseURL>"));
    assert!(out.contains("<BaseURL>sub/fr.vtt?cat=T0k</BaseURL>"));
    assert_eq!(out.matches(PAIR).count(), 2 * renditions + 2);
}

#[test]
fn protected_mpd_carries_the_token_to_the_license() {
    let p = demo();
    let manifest = write_mpd(&p, Some(&protection(Method::Cenc)));
    let out = mpd(&manifest, PAIR);
    assert_only_insertions(&manifest, &out);
    let sets = 1 + p.audio.len();
    let laurl = "<dashif:Laurl>https://license.example/clearkey?asset=demo&amp;v=2&amp;cat=T0k</dashif:Laurl>";
    assert_eq!(out.matches(laurl).count(), sets);
    // pssh and PlayReady objects are base64, not URLs.
    assert_eq!(
        out.matches("</cenc:pssh>").count(),
        manifest.matches("</cenc:pssh>").count()
    );
    let renditions = p.video.len() + p.audio.len();
    assert_eq!(out.matches(PAIR).count(), 2 * renditions + sets + 2);
}

#[test]
fn nothing_to_change_is_borrowed() {
    for syntax in [ManifestSyntax::Hls, ManifestSyntax::Dash] {
        assert!(matches!(
            append_query(b"", syntax, PAIR),
            Cow::Borrowed(b"")
        ));
        let text: &[u8] = b"#EXTM3U\n<MPD/>\n";
        let Cow::Borrowed(same) = append_query(text, syntax, "") else {
            panic!("an empty pair changes nothing");
        };
        assert!(std::ptr::eq(same, text));
    }
    let clear = b"#EXTM3U\n#EXT-X-VERSION:7\n\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://k\"\n";
    assert!(matches!(
        append_query(clear, ManifestSyntax::Hls, PAIR),
        Cow::Borrowed(_)
    ));
    let mpd_text = b"<MPD><Period><AdaptationSet media=\"a.m4s\"/></Period></MPD>";
    assert!(matches!(
        append_query(mpd_text, ManifestSyntax::Dash, PAIR),
        Cow::Borrowed(_)
    ));
}

#[test]
fn hls_uri_lines_and_separators() {
    let input = concat!(
        "#EXTM3U\n",
        "a.m4s\n",
        "b.m4s?x=1\n",
        "c.m4s?\n",
        "d.m4s?x=1&\n",
        "e.m4s#t=10\n",
        "f.m4s?x=1#frag?not-query\n",
        "https://cdn.example/g.ts\n",
        "HTTP://cdn.example/h.ts\n",
        "//cdn.example/i.ts\n",
        "ftp://cdn.example/j.ts\n",
        "urn:x:k\n",
        "   \n",
        "# a comment URI=\"x.m4s\"\n",
        "#EXTINF:4.0,URI=\"title.m4s\"\n",
        "l.m4s",
    );
    let expected = concat!(
        "#EXTM3U\n",
        "a.m4s?cat=T0k\n",
        "b.m4s?x=1&cat=T0k\n",
        "c.m4s?cat=T0k\n",
        "d.m4s?x=1&cat=T0k\n",
        "e.m4s?cat=T0k#t=10\n",
        "f.m4s?x=1&cat=T0k#frag?not-query\n",
        "https://cdn.example/g.ts?cat=T0k\n",
        "HTTP://cdn.example/h.ts?cat=T0k\n",
        "//cdn.example/i.ts?cat=T0k\n",
        "ftp://cdn.example/j.ts\n",
        "urn:x:k\n",
        "   \n",
        "# a comment URI=\"x.m4s\"\n",
        "#EXTINF:4.0,URI=\"title.m4s\"\n",
        "l.m4s?cat=T0k",
    );
    assert_eq!(hls(input, PAIR), expected);
}

#[test]
fn hls_crlf_lines_stay_crlf() {
    let input = "#EXTM3U\r\n#EXT-X-MAP:URI=\"init.mp4\"\r\n#EXTINF:4,\r\n1.m4s\r\n\r\n2.m4s\r\n";
    assert_eq!(
        hls(input, PAIR),
        "#EXTM3U\r\n#EXT-X-MAP:URI=\"init.mp4?cat=T0k\"\r\n#EXTINF:4,\r\n1.m4s?cat=T0k\r\n\r\n2.m4s?cat=T0k\r\n"
    );
}

#[test]
fn hls_a_byte_order_mark_is_not_a_uri_line() {
    let input = "\u{FEFF}#EXTM3U\na/media.m3u8\n";
    assert_eq!(hls(input, PAIR), "\u{FEFF}#EXTM3U\na/media.m3u8?cat=T0k\n");
}

#[test]
fn hls_uri_attributes() {
    let input = concat!(
        "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"x,URI=no\",URI=\"a/media.m3u8?lang=en\"\n",
        "#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"avc1.64001f,mp4a.40.2\",AUDIO=\"a\"\n",
        "v/media.m3u8\n",
        "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://key?x=1\",KEYFORMAT=\"com.apple.streamingkeydelivery\"\n",
        "#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,URI=\"data:text/plain;base64,AAAA\",KEYID=0x00\n",
        "#EXT-X-KEY:METHOD=AES-128,URI=\"key.bin#k\"\n",
        "#EXT-X-PART:DURATION=1.0,URI=\"p1.mp4\",INDEPENDENT=YES\n",
        "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p2.mp4\",BYTERANGE-START=0\n",
        "#EXT-X-RENDITION-REPORT:URI=\"../v2/media.m3u8\",LAST-MSN=4\n",
        "#EXT-X-CONTENT-STEERING:SERVER-URI=\"https://steer.example/s.json\",PATHWAY-ID=\"A\"\n",
        "#EXT-X-SESSION-DATA:DATA-ID=\"x\", URI=\"data.json\"\n",
        "#EXT-X-DATERANGE:ID=\"ad\",X-ASSET-URI=\"https://ads.example/a.m3u8\"\n",
        "#EXT-X-MAP:URI=\"\"\n",
        "#EXT-X-BYTERANGE:100@0\n",
        "#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00Z\n",
    );
    let expected = concat!(
        "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"x,URI=no\",URI=\"a/media.m3u8?lang=en&cat=T0k\"\n",
        "#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"avc1.64001f,mp4a.40.2\",AUDIO=\"a\"\n",
        "v/media.m3u8?cat=T0k\n",
        "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://key?x=1\",KEYFORMAT=\"com.apple.streamingkeydelivery\"\n",
        "#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,URI=\"data:text/plain;base64,AAAA\",KEYID=0x00\n",
        "#EXT-X-KEY:METHOD=AES-128,URI=\"key.bin?cat=T0k#k\"\n",
        "#EXT-X-PART:DURATION=1.0,URI=\"p1.mp4?cat=T0k\",INDEPENDENT=YES\n",
        "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p2.mp4?cat=T0k\",BYTERANGE-START=0\n",
        "#EXT-X-RENDITION-REPORT:URI=\"../v2/media.m3u8?cat=T0k\",LAST-MSN=4\n",
        "#EXT-X-CONTENT-STEERING:SERVER-URI=\"https://steer.example/s.json?cat=T0k\",PATHWAY-ID=\"A\"\n",
        "#EXT-X-SESSION-DATA:DATA-ID=\"x\", URI=\"data.json?cat=T0k\"\n",
        "#EXT-X-DATERANGE:ID=\"ad\",X-ASSET-URI=\"https://ads.example/a.m3u8\"\n",
        "#EXT-X-MAP:URI=\"\"\n",
        "#EXT-X-BYTERANGE:100@0\n",
        "#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00Z\n",
    );
    assert_eq!(hls(input, PAIR), expected);
}

#[test]
fn a_pair_that_would_break_the_syntax_is_percent_encoded() {
    assert_eq!(
        hls("#EXT-X-MAP:URI=\"i.mp4\"\na.ts\n", "t=a b\"#\n%zz%2F"),
        "#EXT-X-MAP:URI=\"i.mp4?t=a%20b%22%23%0A%25zz%2F\"\na.ts?t=a%20b%22%23%0A%25zz%2F\n"
    );
    // `&` and `'` escaped for XML; `$` doubled in templates only.
    assert_eq!(
        mpd(
            "<SegmentTemplate media='$Number$.m4s' initialization=\"i.mp4\"/><BaseURL>a.vtt</BaseURL>",
            "t=a&b='$'"
        ),
        "<SegmentTemplate media='$Number$.m4s?t=a&amp;b=&apos;$$&apos;' initialization=\"i.mp4?t=a&amp;b=&apos;$$&apos;\"/><BaseURL>a.vtt?t=a&amp;b=&apos;$&apos;</BaseURL>"
    );
}

#[test]
fn mpd_url_attributes() {
    let input = concat!(
        "<?xml version=\"1.0\"?>\n",
        "<!-- <SegmentTemplate media=\"comment.m4s\"/> -->\n",
        "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" media=\"not-a-url\">\n",
        "<SegmentTemplate timescale=\"1\" media=\"$RepresentationID$/$Number%05d$.m4s\" initialization=\"$RepresentationID$/init.mp4?v=1&amp;w=2\" index=\"idx.sidx\"/>\n",
        "<mpd:SegmentTemplate media = 'x/$Time$.m4s#f' startNumber=\"1\" >\n",
        "<SegmentURL media=\"s1.m4s?a=&gt;\" mediaRange=\"0-99\" index=\"s1.idx&#35;x\"/>\n",
        "<SegmentURL media=\"s2.m4s?a=1&#38;\" indexRange=\"0-9\"/>\n",
        "<Initialization sourceURL=\"init.mp4&#63;q=1\" range=\"0-100\"/>\n",
        "<RepresentationIndex sourceURL=\"https://cdn.example/index.sidx\"/>\n",
        "<Initialization sourceURL=\"data:application/octet-stream;base64,AA\"/>\n",
        "<Period xlink:href=\"https://remote.example/p.xml\"/>\n",
        "</mpd:SegmentTemplate>\n",
        "</MPD>\n",
    );
    let expected = concat!(
        "<?xml version=\"1.0\"?>\n",
        "<!-- <SegmentTemplate media=\"comment.m4s\"/> -->\n",
        "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" media=\"not-a-url\">\n",
        "<SegmentTemplate timescale=\"1\" media=\"$RepresentationID$/$Number%05d$.m4s?cat=T0k\" initialization=\"$RepresentationID$/init.mp4?v=1&amp;w=2&amp;cat=T0k\" index=\"idx.sidx?cat=T0k\"/>\n",
        "<mpd:SegmentTemplate media = 'x/$Time$.m4s?cat=T0k#f' startNumber=\"1\" >\n",
        "<SegmentURL media=\"s1.m4s?a=&gt;&amp;cat=T0k\" mediaRange=\"0-99\" index=\"s1.idx?cat=T0k&#35;x\"/>\n",
        "<SegmentURL media=\"s2.m4s?a=1&#38;cat=T0k\" indexRange=\"0-9\"/>\n",
        "<Initialization sourceURL=\"init.mp4&#63;q=1&amp;cat=T0k\" range=\"0-100\"/>\n",
        "<RepresentationIndex sourceURL=\"https://cdn.example/index.sidx?cat=T0k\"/>\n",
        "<Initialization sourceURL=\"data:application/octet-stream;base64,AA\"/>\n",
        "<Period xlink:href=\"https://remote.example/p.xml\"/>\n",
        "</mpd:SegmentTemplate>\n",
        "</MPD>\n",
    );
    assert_eq!(mpd(input, PAIR), expected);
}

#[test]
fn mpd_base_urls_directories_stay_bases() {
    let cases = [
        ("https://cdn.example/title/", None),
        ("https://cdn.example", None),
        ("//cdn.example", None),
        ("../", None),
        ("video/", None),
        ("video/?x=1", None),
        (".", None),
        ("a/..", None),
        (
            "https://cdn.example/title/en.vtt",
            Some("https://cdn.example/title/en.vtt?cat=T0k"),
        ),
        ("sub/en.vtt?v=1", Some("sub/en.vtt?v=1&amp;cat=T0k")),
        ("\n  video.mp4\n", Some("\n  video.mp4?cat=T0k\n")),
        ("skd://x/y.mp4", None),
    ];
    for (base, spliced) in cases {
        let input = format!("<Representation><BaseURL>{base}</BaseURL></Representation>");
        let expected = match spliced {
            Some(s) => format!("<Representation><BaseURL>{s}</BaseURL></Representation>"),
            None => input.clone(),
        };
        assert_eq!(mpd(&input, PAIR), expected, "{base}");
    }
}

#[test]
fn mpd_text_urls() {
    let input = concat!(
        "<ContentProtection value=\"ClearKey1.0\"><dashif:Laurl>https://l.example/ck</dashif:Laurl></ContentProtection>\n",
        "<ContentProtection><clearkey:Laurl Lic_type=\"EME-1.0\">https://l.example/ck?a=1</clearkey:Laurl></ContentProtection>\n",
        "<ContentProtection><ms:laurl licenseUrl=\"https://pr.example/rightsmanager.asmx\"/></ContentProtection>\n",
        "<Location>https://cdn.example/a.mpd</Location><PatchLocation ttl=\"60\">patch.mpp</PatchLocation>\n",
        "<BaseURL><![CDATA[https://cdn.example/a.mp4?x=1&y=2]]></BaseURL>\n",
        "<BaseURL><!-- c -->a.mp4</BaseURL>\n",
        "<BaseURL/><Laurl></Laurl>\n",
    );
    let expected = concat!(
        "<ContentProtection value=\"ClearKey1.0\"><dashif:Laurl>https://l.example/ck?cat=T0k</dashif:Laurl></ContentProtection>\n",
        "<ContentProtection><clearkey:Laurl Lic_type=\"EME-1.0\">https://l.example/ck?a=1&amp;cat=T0k</clearkey:Laurl></ContentProtection>\n",
        "<ContentProtection><ms:laurl licenseUrl=\"https://pr.example/rightsmanager.asmx?cat=T0k\"/></ContentProtection>\n",
        "<Location>https://cdn.example/a.mpd?cat=T0k</Location><PatchLocation ttl=\"60\">patch.mpp?cat=T0k</PatchLocation>\n",
        "<BaseURL><![CDATA[https://cdn.example/a.mp4?x=1&y=2]]></BaseURL>\n",
        "<BaseURL><!-- c -->a.mp4</BaseURL>\n",
        "<BaseURL/><Laurl></Laurl>\n",
    );
    assert_eq!(mpd(input, PAIR), expected);
}

#[test]
fn mpd_markup_that_is_not_elements() {
    let input = concat!(
        "<!DOCTYPE MPD [ <!ENTITY e \"<SegmentTemplate media='dtd.m4s'/>\"> ]>\n",
        "<?pi <SegmentTemplate media=\"pi.m4s\"/> ?>\n",
        "<MPD><SegmentTemplate note=\"a > b\" media=\"after.m4s\"/></MPD>\n",
    );
    let out = mpd(input, PAIR);
    assert_eq!(out, input.replace("after.m4s", "after.m4s?cat=T0k"));
}

#[test]
fn find_stays_at_or_after_its_start() {
    let s = b"a<b<";
    let long = [
        b"x".repeat(100),
        b"<".to_vec(),
        b"y".repeat(30),
        b"<".to_vec(),
    ]
    .concat();
    assert_eq!(find(&long, 0, b'<'), Some(100));
    assert_eq!(find(&long, 101, b'<'), Some(131));
    assert_eq!(find(&long, 80, b'<'), Some(100));
    assert_eq!(find(&long[..131], 101, b'<'), None);
    assert_eq!(find(s, 0, b'<'), Some(1));
    assert_eq!(find(s, 2, b'<'), Some(3));
    assert_eq!(find(s, 3, b'<'), Some(3));
    assert_eq!(find(s, 4, b'<'), None);
    assert_eq!(find(s, 9, b'<'), None);
    assert_eq!(find(b"abc", 0, b'<'), None);
    assert_eq!(find(b"", 0, b'<'), None);
}

/// Cut or corrupted manifests never panic, and what comes out is still the input plus
/// insertions.
#[test]
fn truncated_and_corrupted_manifests() {
    let p = demo();
    let pr = protection(Method::Cenc);
    let manifests = [
        (ManifestSyntax::Dash, write_mpd(&p, Some(&pr))),
        (
            ManifestSyntax::Hls,
            cmaf_media_playlist(&p.video[0], Some(&protection(Method::Cbcs))),
        ),
        (ManifestSyntax::Hls, ts_multivariant(&p, None)),
    ];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for (syntax, text) in &manifests {
        let bytes = text.as_bytes();
        for cut in (0..bytes.len()).step_by(7) {
            let input = &bytes[..cut];
            let out = append_query(input, *syntax, PAIR);
            if let Ok(input) = std::str::from_utf8(input) {
                assert_only_insertions(input, std::str::from_utf8(&out).unwrap());
            }
        }
        for _ in 0..300 {
            let mut input = bytes.to_vec();
            for _ in 0..8 {
                let at = (next() % input.len() as u64) as usize;
                let noise = b"<>/=\"'?#&;:\n\r $!x";
                input[at] = noise[(next() % noise.len() as u64) as usize];
            }
            let _ = append_query(&input, *syntax, PAIR);
        }
    }
}
