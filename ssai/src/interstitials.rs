//! HLS Interstitials (the guided mode): instead of splicing ads into the content, each break
//! is an `EXT-X-DATERANGE` with `CLASS="com.apple.hls.interstitial"` whose `X-ASSET-LIST` the
//! player asks for when it gets there (per session: the session's ads), and the content plays
//! on untouched. Interstitials are placed by date, so the content gets an
//! `EXT-X-PROGRAM-DATE-TIME` anchor: content time zero is [`ANCHOR_MS`] (2000-01-01), a date
//! every node
//! writes the same way.

use std::fmt::Write as _;

/// One interstitial break.
#[derive(Debug, Clone, PartialEq)]
pub struct Interstitial {
    /// The `ID` (unique in the playlist).
    pub id: String,
    /// Where it goes, milliseconds into the content.
    pub at_ms: u64,
    /// The asset list the player asks for (`X-ASSET-LIST`).
    pub asset_list: String,
    /// The planned length, seconds (`PLANNED-DURATION`), if known.
    pub planned_s: Option<f64>,
}

/// One asset of an asset list.
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    pub uri: String,
    pub duration_s: f64,
}

/// The date content time zero is given: 2000-01-01T00:00:00Z. Not the Unix epoch: players
/// read a date of 0 as no date (hls.js then dates only the first segment, and places no
/// interstitial on it).
pub const ANCHOR_MS: u64 = 946_684_800_000;

/// `ms` after the Unix epoch as an ISO 8601 date with milliseconds, UTC.
pub fn iso_date(ms: u64) -> String {
    let days = ms / 86_400_000;
    let rem = ms % 86_400_000;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

/// `media` (a content media playlist) with a date anchor before its first segment and one
/// `EXT-X-DATERANGE` per interstitial. Skipping past or jumping over a break is restricted
/// (`X-RESTRICT="SKIP,JUMP"`), and the content resumes where it paused (`X-RESUME-OFFSET=0`).
pub fn media_playlist(media: &str, breaks: &[Interstitial]) -> String {
    let mut tags = String::new();
    let _ = writeln!(tags, "#EXT-X-PROGRAM-DATE-TIME:{}", iso_date(ANCHOR_MS));
    for b in breaks {
        let _ = write!(
            tags,
            "#EXT-X-DATERANGE:ID=\"{}\",CLASS=\"com.apple.hls.interstitial\",START-DATE=\"{}\",",
            b.id.replace('"', ""),
            iso_date(ANCHOR_MS.saturating_add(b.at_ms))
        );
        if let Some(p) = b.planned_s {
            let _ = write!(tags, "PLANNED-DURATION={p:.3},");
        }
        let _ = writeln!(
            tags,
            "X-ASSET-LIST=\"{}\",X-RESUME-OFFSET=0,X-RESTRICT=\"SKIP,JUMP\"",
            b.asset_list.replace('"', "%22")
        );
    }
    let mut out = String::with_capacity(media.len() + tags.len());
    let mut placed = false;
    for line in media.lines() {
        let segment_tag = line.starts_with("#EXTINF:") || line.starts_with("#EXT-X-MAP:");
        if !placed && segment_tag {
            out.push_str(&tags);
            placed = true;
        }
        if !line.starts_with("#EXT-X-PROGRAM-DATE-TIME:") {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !placed {
        out.push_str(&tags);
    }
    out
}

/// The asset list JSON of one break (`{"ASSETS": [{"URI": ..., "DURATION": ...}]}`).
pub fn asset_list(assets: &[Asset]) -> String {
    let mut out = String::from("{\"ASSETS\":[");
    for (i, a) in assets.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"URI\":");
        json_string(&mut out, &a.uri);
        let _ = write!(out, ",\"DURATION\":{:.3}}}", a.duration_s);
    }
    out.push_str("]}");
    out
}

fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIDEO: &str = include_str!("../testdata/demo_video_180p_media.m3u8");

    #[test]
    fn dates_from_the_epoch() {
        assert_eq!(iso_date(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_date(12_345), "1970-01-01T00:00:12.345Z");
        assert_eq!(iso_date(90_061_001), "1970-01-02T01:01:01.001Z");
        // 2000-03-01, past a leap day.
        assert_eq!(iso_date(951_868_800_000), "2000-03-01T00:00:00.000Z");
    }

    #[test]
    fn daterange_tags_before_the_first_segment_and_the_content_untouched() {
        let out = media_playlist(
            VIDEO,
            &[
                Interstitial {
                    id: "pre".into(),
                    at_ms: 0,
                    asset_list: "/s/x/assets/0.json".into(),
                    planned_s: Some(10.0),
                },
                Interstitial {
                    id: "mid".into(),
                    at_ms: 12_000,
                    asset_list: "/s/x/assets/1.json".into(),
                    planned_s: None,
                },
            ],
        );
        let lines: Vec<&str> = out.lines().collect();
        let map = lines
            .iter()
            .position(|l| l.starts_with("#EXT-X-MAP"))
            .unwrap();
        assert_eq!(
            lines[map - 3],
            "#EXT-X-PROGRAM-DATE-TIME:2000-01-01T00:00:00.000Z"
        );
        assert_eq!(
            lines[map - 1],
            "#EXT-X-DATERANGE:ID=\"mid\",CLASS=\"com.apple.hls.interstitial\",START-DATE=\"2000-01-01T00:00:12.000Z\",X-ASSET-LIST=\"/s/x/assets/1.json\",X-RESUME-OFFSET=0,X-RESTRICT=\"SKIP,JUMP\""
        );
        assert!(lines[map - 2].contains("PLANNED-DURATION=10.000"));
        // The segments are those of the content.
        let segs = |t: &str| t.lines().filter(|l| !l.starts_with('#')).count();
        assert_eq!(segs(&out), segs(VIDEO));
        let parsed = m3u8_rs::parse_playlist_res(out.as_bytes());
        assert!(
            matches!(parsed, Ok(m3u8_rs::Playlist::MediaPlaylist(_))),
            "{parsed:?}"
        );
    }

    #[test]
    fn the_asset_list_is_json() {
        let j = asset_list(&[
            Asset {
                uri: "/ads/a1/master.m3u8".into(),
                duration_s: 10.0,
            },
            Asset {
                uri: "/ads/\"odd\"/master.m3u8".into(),
                duration_s: 6.5,
            },
        ]);
        assert_eq!(
            j,
            "{\"ASSETS\":[{\"URI\":\"/ads/a1/master.m3u8\",\"DURATION\":10.000},{\"URI\":\"/ads/\\\"odd\\\"/master.m3u8\",\"DURATION\":6.500}]}"
        );
    }
}
