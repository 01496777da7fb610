#!/usr/bin/env bash
# Make reference streams with ffmpeg, to validate the player harness
# independently of edgepack. Not run in CI.
#
#   tests/players/make-reference-streams.sh [OUT_DIR]
#
# OUT_DIR defaults to a new temp dir; its path is printed on the last line.
# Layout (all served from one root, like edgepack's /vod/<asset>/):
#   master.m3u8            HLS, fMP4 (CMAF) segments
#   ts/master.m3u8         HLS, MPEG-TS segments
#   manifest.mpd           DASH, fMP4 segments, sidecar WebVTT text
# Each has 2 video renditions (720p, 360p), 2 audio languages (en, fr) and
# WebVTT subtitles in en and fr (cue text "Subtitle cue N" / "Sous-titre N").
#
# Then run the harness against it:
#   REFERENCE_STREAMS_DIR=OUT_DIR node --test tests/players/
set -euo pipefail

DUR=${DUR:-60}          # seconds
SEG=${SEG:-4}           # segment duration, seconds (GOP is 2 s)
OUT=${1:-$(mktemp -d /tmp/edgepack-ref-streams.XXXXXX)}
mkdir -p "$OUT"
cd "$OUT"
rm -rf hls ts dash ./*.m3u8 ./*.mpd ./*.vtt src.mp4

FF=(nice -n 10 ffmpeg -hide_banner -loglevel error -y)

# 1. Mezzanine: 2 video renditions + 2 audio languages (different tones).
"${FF[@]}" \
  -f lavfi -i "testsrc2=size=1280x720:rate=25:duration=${DUR}" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=${DUR}" \
  -f lavfi -i "sine=frequency=660:sample_rate=48000:duration=${DUR}" \
  -filter_complex "[0:v]split=2[a][b];[a]scale=1280:720,format=yuv420p[v720];[b]scale=640:360,format=yuv420p[v360]" \
  -map "[v720]" -map "[v360]" -map 1:a -map 2:a \
  -c:v libx264 -preset veryfast -profile:v main -threads 2 \
  -g 50 -keyint_min 50 -sc_threshold 0 -bf 2 \
  -b:v:0 1500k -maxrate:v:0 1800k -bufsize:v:0 3000k \
  -b:v:1 400k -maxrate:v:1 500k -bufsize:v:1 800k \
  -c:a aac -b:a 96k -ac 2 \
  -metadata:s:a:0 language=eng -metadata:s:a:1 language=fra \
  -movflags +faststart src.mp4

# 2. WebVTT subtitles: one cue every 2 s, covering the whole duration.
make_vtt() { # lang text-prefix file [header-line]
  local n=$((DUR / 2)) i s e
  {
    echo "WEBVTT"
    [ -n "${4:-}" ] && echo "$4"
    echo
    for ((i = 0; i < n; i++)); do
      s=$((i * 2)); e=$((s + 2))
      printf '%02d:%02d:%02d.000 --> %02d:%02d:%02d.000\n' $((s / 3600)) $((s / 60 % 60)) $((s % 60)) $((e / 3600)) $((e / 60 % 60)) $((e % 60))
      echo "$2 $((i + 1))"
      echo
    done
  } >"$3"
}

# first video PTS of a segment (90 kHz), for X-TIMESTAMP-MAP
first_pts() {
  local t
  t=$(ffprobe -v error -select_streams v:0 -show_entries packet=pts_time -of csv=p=0 -read_intervals '%+#1' "$@" | head -1 || true)
  awk -v t="${t:-0}" 'BEGIN { printf "%d", t * 90000 + 0.5 }'
}

sub_playlist() { # vtt-file > playlist
  cat <<EOF
#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:${DUR}
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXTINF:${DUR}.000,
$1
#EXT-X-ENDLIST
EOF
}

# RFC 6381 codec string of the H.264 track in an MP4 init segment (from avcC)
avc_codec() {
  local off
  off=$(grep -obUa avcC "$1" | head -1 | cut -d: -f1)
  printf 'avc1.%s' "$(od -An -tx1 -j $((off + 5)) -N3 "$1" | tr -d ' \n')"
}

# ffmpeg 5.1 writes no CODECS for these variants: add them (players and the
# HLS spec want them), and the subtitle group.
add_subs_to_master() { # master.m3u8 codecs-720 codecs-360
  local m=$1 tmp
  tmp=$(mktemp)
  awk -v c720="$2" -v c360="$3" '
    /^#EXT-X-STREAM-INF/ && !/CODECS=/ && /RESOLUTION=1280x720/ { sub(/$/, ",CODECS=\"" c720 ",mp4a.40.2\"") }
    /^#EXT-X-STREAM-INF/ && !/CODECS=/ && /RESOLUTION=640x360/ { sub(/$/, ",CODECS=\"" c360 ",mp4a.40.2\"") }
    /^#EXT-X-STREAM-INF/ { sub(/$/, ",SUBTITLES=\"subs\"") }
    { print }
    /^#EXT-X-VERSION/ {
      print "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"English\",LANGUAGE=\"en\",DEFAULT=NO,AUTOSELECT=YES,URI=\"subs_en.m3u8\""
      print "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"Francais\",LANGUAGE=\"fr\",DEFAULT=NO,AUTOSELECT=YES,URI=\"subs_fr.m3u8\""
    }' "$m" >"$tmp"
  mv "$tmp" "$m"
}

VSM='a:0,agroup:aud,language:en,name:audio_en,default:yes a:1,agroup:aud,language:fr,name:audio_fr v:0,agroup:aud,name:video_720 v:1,agroup:aud,name:video_360'

# 3. HLS with fMP4 segments, at the root.
"${FF[@]}" -i src.mp4 -map 0:v:0 -map 0:v:1 -map 0:a:0 -map 0:a:1 -c copy \
  -f hls -hls_time "$SEG" -hls_playlist_type vod -hls_segment_type fmp4 \
  -hls_fmp4_init_filename init.mp4 \
  -hls_segment_filename 'hls_%v/seg_%03d.m4s' \
  -master_pl_name master.m3u8 -var_stream_map "$VSM" 'hls_%v/index.m3u8'
C720=$(avc_codec hls_video_720/init_*.mp4)
C360=$(avc_codec hls_video_360/init_*.mp4)
cat hls_video_720/init_*.mp4 hls_video_720/seg_000.m4s >first.mp4
pts=$(first_pts first.mp4)
rm -f first.mp4
for l in en fr; do
  [ $l = en ] && t="Subtitle cue" || t="Sous-titre"
  make_vtt $l "$t" "subs_$l.vtt" "X-TIMESTAMP-MAP=MPEGTS:${pts:-0},LOCAL:00:00:00.000"
  sub_playlist "subs_$l.vtt" >"subs_$l.m3u8"
done
add_subs_to_master master.m3u8 "$C720" "$C360"

# 4. HLS with MPEG-TS segments, under ts/.
mkdir -p ts
(
  cd ts
  "${FF[@]}" -i ../src.mp4 -map 0:v:0 -map 0:v:1 -map 0:a:0 -map 0:a:1 -c copy \
    -f hls -hls_time "$SEG" -hls_playlist_type vod -hls_segment_type mpegts \
    -hls_segment_filename 'ts_%v/seg_%03d.ts' \
    -master_pl_name master.m3u8 -var_stream_map "$VSM" 'ts_%v/index.m3u8'
  pts=$(first_pts ts_video_720/seg_000.ts)
  for l in en fr; do
    [ $l = en ] && t="Subtitle cue" || t="Sous-titre"
    make_vtt $l "$t" "subs_$l.vtt" "X-TIMESTAMP-MAP=MPEGTS:${pts:-0},LOCAL:00:00:00.000"
    sub_playlist "subs_$l.vtt" >"subs_$l.m3u8"
  done
  add_subs_to_master master.m3u8 "$C720" "$C360"
)

# 5. DASH: one adaptation set for video (2 representations), one per audio
#    language, and hand-added sidecar WebVTT text adaptation sets.
mkdir -p dash
"${FF[@]}" -i src.mp4 -map 0:v:0 -map 0:v:1 -map 0:a:0 -map 0:a:1 -c copy \
  -f dash -seg_duration "$SEG" -use_template 1 -use_timeline 0 \
  -init_seg_name 'dash/init-$RepresentationID$.m4s' \
  -media_seg_name 'dash/chunk-$RepresentationID$-$Number%05d$.m4s' \
  -adaptation_sets 'id=0,streams=v id=1,streams=2 id=2,streams=3' manifest.mpd
for l in en fr; do
  [ $l = en ] && t="Subtitle cue" || t="Sous-titre"
  make_vtt $l "$t" "dash/sub_$l.vtt"
done
tmp=$(mktemp)
awk '
  /<\/Period>/ {
    n = split("en fr", L, " ")
    for (i = 1; i <= n; i++) {
      printf "\t\t<AdaptationSet id=\"%d\" contentType=\"text\" mimeType=\"text/vtt\" lang=\"%s\">\n", 10 + i, L[i]
      print "\t\t\t<Role schemeIdUri=\"urn:mpeg:dash:role:2011\" value=\"subtitle\"/>"
      printf "\t\t\t<Representation id=\"sub_%s\" bandwidth=\"256\">\n", L[i]
      printf "\t\t\t\t<BaseURL>dash/sub_%s.vtt</BaseURL>\n", L[i]
      print "\t\t\t</Representation>"
      print "\t\t</AdaptationSet>"
    }
  }
  { print }' manifest.mpd >"$tmp"
mv "$tmp" manifest.mpd

rm -f src.mp4
echo "$OUT"
