//! Any text as an ad server's VAST answer (`ssai::vast::parse`) gives ads or a typed error,
//! never a panic; and what is read goes through everything the edge does with an answer
//! without panicking either: the ads of the break picked (`ssai::chain::pick`), a wrapper
//! chain of depth 5 following every wrapper of the document, each inline ad resolved at the
//! end of it, the media file chosen for a 640x360 rendition, the time of each tracking event,
//! and every URL of the answer filled in (`[ERRORCODE]`, `[session.id]`). Along the way, what
//! the crate promises: the pod in sequence, the chain's limit, a resolved ad with every
//! wrapper's URLs, a usable media file when there is one, events inside the ad, URLs bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssai::chain::{pick, Chain, ErrorCode, ResolvedAd};
use ssai::macros::{expand, MAX_URL_BYTES};
use ssai::media_file::{choose, usable, Target};
use ssai::vast::{parse, Ad, Vast, MAX_ADS, MAX_MEDIA_FILES, MAX_URLS};

const DEPTH: usize = 5;

const RENDITION: Target = Target {
    width: 640,
    height: 360,
    bitrate_kbps: 800,
};

fn value(name: &str) -> Option<String> {
    match name {
        "ERRORCODE" => Some(ErrorCode::NoAdsAfterWrapper.code().to_string()),
        // Characters that must be escaped, a bracket among them.
        "session.id" => Some("s-1 &[x]/é".into()),
        _ => None,
    }
}

/// `template` filled in: bounded, and unchanged when it has no macro to fill (written
/// `[NAME]` or percent-encoded).
fn url(template: &str) {
    let out = expand(template, &value);
    assert!(out.len() <= MAX_URL_BYTES, "{} bytes", out.len());
    let encoded = template.to_ascii_lowercase().contains("%5b");
    if !template.contains('[') && !encoded && template.len() <= MAX_URL_BYTES {
        assert_eq!(out, template);
    }
}

fn ads(v: &Vast) {
    assert!(v.ads.len() <= MAX_ADS);
    assert!(v.errors.len() <= MAX_URLS);
    for ad in &v.ads {
        assert!(ad.line >= 1);
    }
    let picked = pick(v);
    assert!(picked.len() <= v.ads.len());
    assert_eq!(picked.is_empty(), v.ads.is_empty());
    if picked.len() > 1 || picked.first().is_some_and(|a| a.sequence.is_some()) {
        assert!(picked.iter().all(|a| a.sequence.is_some()));
        assert!(picked.windows(2).all(|w| w[0].sequence <= w[1].sequence));
    }
}

/// A chain following every wrapper of the document in turn, as if each answered the one
/// before: the limit and `followAdditionalWrappers` hold.
fn chain(v: &Vast) -> Chain<'_> {
    let mut chain = Chain::new(DEPTH);
    for w in v.ads.iter().filter_map(Ad::wrapper) {
        let before = chain.wrappers().len();
        let may = before < DEPTH
            && chain
                .wrappers()
                .last()
                .is_none_or(|prev| prev.follow_additional_wrappers);
        match chain.follow(w) {
            Ok(next) => {
                assert!(may, "followed past the limit");
                assert_eq!(next, w.tag_uri);
                assert!(!next.is_empty());
                assert_eq!(chain.wrappers().len(), before + 1);
            }
            Err(e) => {
                assert!(!may, "refused a wrapper it may follow: {e:?}");
                assert_eq!(e, ErrorCode::WrapperLimit);
                assert_eq!(chain.wrappers().len(), before);
            }
        }
    }
    let errors: usize = chain.wrappers().iter().map(|w| w.errors.len()).sum();
    assert_eq!(chain.error_urls().len(), errors);
    chain
}

fn resolved(chain: &Chain<'_>, ad: &Ad) -> Option<ResolvedAd> {
    let inline = ad.inline()?;
    let r = chain.resolve(ad, inline)?;
    let (_, linear) = inline.linear().expect("resolved without a linear");
    let wrapper_impressions: usize = chain.wrappers().iter().map(|w| w.impressions.len()).sum();
    assert_eq!(
        r.impressions.len(),
        wrapper_impressions + inline.impressions.len()
    );
    if !inline.impressions.is_empty() {
        assert_eq!(r.impressions.last(), inline.impressions.last());
    }
    assert_eq!(r.duration_ms, linear.duration_ms.unwrap_or(0));
    assert!(r.media_files.len() <= MAX_MEDIA_FILES);
    let _ = r.creative_key();
    Some(r)
}

fn play(r: &ResolvedAd) {
    match choose(&r.media_files, RENDITION) {
        Some(f) => {
            assert!(usable(f));
            assert!(r.media_files.contains(f));
            url(&f.url);
        }
        None => assert!(!r.media_files.iter().any(usable)),
    }
    for t in &r.tracking {
        for duration in [r.duration_ms, 0, 30_000] {
            if let Some(at) = t.event.at_ms(duration) {
                assert!(at <= duration, "{:?} at {at} of {duration}", t.event);
            }
        }
        url(&t.url);
    }
    for u in r.impressions.iter().chain(&r.errors) {
        url(u);
    }
}

fn urls(v: &Vast, chain: &Chain<'_>) {
    for u in chain.error_urls() {
        url(u);
    }
    for u in &v.errors {
        url(u);
    }
    for ad in &v.ads {
        if let Some(w) = ad.wrapper() {
            url(&w.tag_uri);
            for u in w.impressions.iter().chain(&w.errors) {
                url(u);
            }
        }
        let creatives = match (ad.inline(), ad.wrapper()) {
            (Some(i), _) => &i.creatives,
            (_, Some(w)) => &w.creatives,
            _ => continue,
        };
        for l in creatives.iter().filter_map(|c| c.linear.as_ref()) {
            if let Some(c) = &l.click_through {
                url(c);
            }
            if let Some(skip) = l.skip_offset {
                let _ = skip.resolve(l.duration_ms.unwrap_or(0));
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(v) = parse(&text) else { return };
    ads(&v);
    let chain = chain(&v);
    for ad in &v.ads {
        if let Some(r) = resolved(&chain, ad) {
            play(&r);
        }
    }
    urls(&v, &chain);
});
