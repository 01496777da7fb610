#!/usr/bin/env bash
# Generate edgepack's test media (testdata/media/) and demo title
# (demo/media/demo/) from synthetic sources, then check and summarise them.
#
#   scripts/make-test-media.sh            # everything
#   scripts/make-test-media.sh media      # only testdata/media
#   scripts/make-test-media.sh demo       # only demo/media/demo
#
# Needs ffmpeg/ffprobe (Debian 12: ffmpeg 5.1 with libx264, libx265 and the
# native aac/ac3/eac3 encoders) and python3 (standard library only); on a
# Debian machine run as root it apt-get installs what is missing, including
# fonts-dejavu-core for the drawtext labels of the demo.
#
# Determinism: every source is synthetic (lavfi testsrc2 / sine / aevalsrc,
# no random noise source is used, so there is no seed to fix), the muxers
# and encoders run with +bitexact and no metadata, and x264/x265 run single
# threaded (-threads 1, x265 pools=none:frame-threads=1), so re-running with
# the same ffmpeg build gives byte-identical files.  A different ffmpeg, x264
# or x265 build may give different (still valid) bytes.
#
# Three helpers do what ffmpeg cannot:
#   scripts/stco_to_co64.py  rewrites stco -> co64 (ffmpeg only writes co64
#                            for files over 4 GiB)
#   scripts/aac_he_signal.py turns AAC-LC into explicitly signalled HE-AAC
#                            with synthetic SBR payloads (no HE-AAC encoder
#                            is available from Debian main / PyPI / npm)
#   scripts/mp4_box_tree.py  prints the box tree, used for the checks below
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRIPTS="$ROOT/scripts"
MEDIA="$ROOT/testdata/media"
DEMO="$ROOT/demo/media/demo"
WHAT="${1:-all}"
export PYTHONDONTWRITEBYTECODE=1   # no scripts/__pycache__
case "$WHAT" in all|media|demo) ;; *) echo "usage: $0 [all|media|demo]" >&2; exit 2;; esac

# ---------------------------------------------------------------- tools ----
APT_UPDATED=0
apt_install() {
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "missing: $* (install it, or run as root on Debian)" >&2
        return 1
    fi
    if [ "$APT_UPDATED" = 0 ]; then apt-get update -qq; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1; then apt_install ffmpeg; fi
command -v python3 >/dev/null 2>&1 || apt_install python3
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
if [ ! -f "$FONT" ]; then apt_install fonts-dejavu-core || true; fi
# (captured first: grep -q closing a pipe early would trip pipefail)
FILTERS="$(ffmpeg -hide_banner -filters 2>/dev/null)"
ENCODERS="$(ffmpeg -hide_banner -encoders 2>/dev/null)"
HAVE_DRAWTEXT=0
if [ -f "$FONT" ] && grep -q ' drawtext ' <<<"$FILTERS"; then
    HAVE_DRAWTEXT=1
fi
for enc in libx264 libx265 aac ac3 eac3; do
    grep -q " $enc " <<<"$ENCODERS" || { echo "ffmpeg lacks encoder $enc" >&2; exit 1; }
done

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# ------------------------------------------------------- common options ----
FF=(ffmpeg -nostdin -hide_banner -loglevel error -y)
BITEXACT=(-fflags +bitexact -flags:v +bitexact -flags:a +bitexact -map_metadata -1 -map_chapters -1)
# H.264 High, single threaded (reproducible), CBR-ish small rate
H264=(-c:v libx264 -threads 1 -preset medium -profile:v high -pix_fmt yuv420p)
RC_SMALL=(-b:v 100k -maxrate 150k -bufsize 200k)
GOP_25=(-g 50 -keyint_min 50 -sc_threshold 0)     # 2 s at 25 fps, closed GOP
AAC_48K=(-c:a aac -b:a 64k -ac 2 -ar 48000)
DUR=8                                              # seconds, default test length

vsrc() { # WxH RATE DURATION -> lavfi test pattern input
    echo "testsrc2=size=$1:rate=$2:duration=$3"
}
asrc() { # FREQ RATE DURATION -> lavfi sine input (mono; -ac 2 makes stereo)
    echo "sine=frequency=$1:sample_rate=$2:duration=$3"
}

fail() { echo "CHECK FAILED: $*" >&2; exit 1; }
tree_of() { python3 "$SCRIPTS/mp4_box_tree.py" "$1"; }
# decodes every stream without a single error/warning message
check_decodes() {
    local err
    err="$(ffmpeg -nostdin -v warning -i "$1" -map 0 -f null - 2>&1)" || fail "$1 does not decode"
    [ -z "$err" ] || fail "$1 decodes with messages: $err"
}
probe() { # FILE ENTRIES -> value(s) of the first matching stream
    ffprobe -v error -show_entries "$2" -of default=nw=1:nk=1 "$1"
}
keyframe_times() { # FILE -> pts_time of every video keyframe
    ffprobe -v error -select_streams v:0 -skip_frame nokey -show_entries frame=pts_time \
        -of default=nw=1:nk=1 "$1" | grep .
}
count_sps() { # FILE -> SPS seen by trace_headers (1 from avcC/hvcC + in-band ones)
    ffmpeg -nostdin -v verbose -i "$1" -map 0:v -c copy -bsf:v trace_headers -f null - 2>&1 \
        | grep -c 'Sequence Parameter Set' || true
}
trace_count() { # FILE REGEX -> video header lines (trace_headers) matching REGEX
    ffmpeg -nostdin -v verbose -i "$1" -map 0:v -c copy -bsf:v trace_headers -f null - 2>&1 \
        | grep -c "$2" || true
}
top_order() { # FILE -> e.g. "ftyp moov free mdat"
    tree_of "$1" | grep -v '^ ' | awk '{printf "%s ", $1}'
}

# ------------------------------------------------------------ test media ----
make_media() {
    mkdir -p "$MEDIA"
    cd "$MEDIA"
    local f t

    # H.264 + AAC 48 kHz, moov after mdat (ffmpeg's default) and before it.
    # Both are encoded from the same sources with the same settings, so their
    # samples are identical (checked with framemd5 below).
    for layout in last first; do
        f="h264_avc1_25fps_aac_48k_moov_$layout.mp4"
        local mov=()
        [ "$layout" = first ] && mov=(-movflags +faststart)
        "${FF[@]}" -f lavfi -i "$(vsrc 320x180 25 $DUR)" -f lavfi -i "$(asrc 440 48000 $DUR)" \
            "${H264[@]}" "${RC_SMALL[@]}" "${GOP_25[@]}" "${AAC_48K[@]}" \
            "${BITEXACT[@]}" "${mov[@]}" "$f"
    done
    case "$(top_order h264_avc1_25fps_aac_48k_moov_last.mp4)" in
        *mdat*moov*) ;; *) fail "moov_last: moov is not after mdat";; esac
    case "$(top_order h264_avc1_25fps_aac_48k_moov_first.mp4)" in
        *moov*mdat*) ;; *) fail "moov_first: moov is not before mdat";; esac
    [ "$(ffmpeg -v error -i h264_avc1_25fps_aac_48k_moov_first.mp4 -map 0 -c copy -f framemd5 - | grep -v '^#')" = \
      "$(ffmpeg -v error -i h264_avc1_25fps_aac_48k_moov_last.mp4 -map 0 -c copy -f framemd5 - | grep -v '^#')" ] \
        || fail "moov_first and moov_last samples differ"

    # avc3: SPS/PPS repeated in band before every IDR (x264 repeat-headers);
    # ffmpeg still writes an avcC (allowed for avc3).
    f=h264_avc3_25fps.mp4
    "${FF[@]}" -f lavfi -i "$(vsrc 320x180 25 $DUR)" \
        "${H264[@]}" "${RC_SMALL[@]}" "${GOP_25[@]}" -x264-params repeat-headers=1 -tag:v avc3 \
        "${BITEXACT[@]}" "$f"
    t="$(tree_of $f)"
    grep -q '^ *avc3 @' <<<"$t" || fail "$f: sample entry is not avc3"
    grep -q '^ *avc1 @' <<<"$t" && fail "$f: has an avc1 entry"
    # 1 SPS from the avcC + 1 in band per IDR (4 IDRs in 8 s)
    [ "$(count_sps $f)" -ge 5 ] || fail "$f: expected an in-band SPS at every IDR"
    [ "$(count_sps h264_avc1_25fps_aac_48k_moov_last.mp4)" = 1 ] || fail "avc1 file has in-band SPS"

    # HEVC: hvc1 (parameter sets only in hvcC) and hev1 (also in band).
    local X265="pools=none:frame-threads=1:wpp=0:keyint=50:min-keyint=50:scenecut=0:open-gop=0:info=0:log-level=error"
    for tag in hvc1 hev1; do
        f="hevc_${tag}_25fps.mp4"
        local extra="$X265"
        [ "$tag" = hev1 ] && extra="$X265:repeat-headers=1"
        "${FF[@]}" -f lavfi -i "$(vsrc 320x180 25 $DUR)" \
            -c:v libx265 -threads 1 -preset medium -pix_fmt yuv420p -b:v 80k \
            -x265-params "$extra" -tag:v "$tag" "${BITEXACT[@]}" "$f"
        grep -q "^ *$tag @" <<<"$(tree_of $f)" || fail "$f: sample entry is not $tag"
    done
    [ "$(count_sps hevc_hvc1_25fps.mp4)" = 1 ] || fail "hvc1 file has in-band parameter sets"
    [ "$(count_sps hevc_hev1_25fps.mp4)" -ge 5 ] || fail "hev1 file lacks in-band parameter sets"

    # B-frames at 29.97 fps: ctts version 0 (+ edit list shifting the
    # composition offset) and ctts version 1 (negative offsets, no shift).
    for v in 0 1; do
        f="h264_bframes_ctts_v${v}_29.97fps.mp4"
        local mov=()
        [ "$v" = 1 ] && mov=(-movflags +negative_cts_offsets)
        "${FF[@]}" -f lavfi -i "$(vsrc 320x180 30000/1001 $DUR)" \
            "${H264[@]}" "${RC_SMALL[@]}" -bf 3 -g 60 -keyint_min 60 -sc_threshold 0 \
            "${BITEXACT[@]}" "${mov[@]}" "$f"
        t="$(tree_of $f)"
        grep -q "^ *ctts @[0-9]* size=[0-9]* v$v " <<<"$t" || fail "$f: ctts is not version $v"
        grep -q '^ *elst @' <<<"$t" || fail "$f: no edit list"
    done
    grep -q 'ctts .* first=.*-' <<<"$(tree_of h264_bframes_ctts_v1_29.97fps.mp4)" \
        || fail "ctts v1 file has no negative offset"

    f=h264_59.94fps.mp4
    "${FF[@]}" -f lavfi -i "$(vsrc 320x180 60000/1001 $DUR)" \
        "${H264[@]}" -b:v 120k -maxrate 180k -bufsize 240k -g 120 -keyint_min 120 -sc_threshold 0 \
        "${BITEXACT[@]}" "$f"

    # Slice header shapes for CENC subsample maps (drm::nal), 2 s, 1 s GOP, video only.
    # H.264 Constrained Baseline: CAVLC (no cabac_alignment_one_bit), 4 slices per picture.
    f=h264_baseline_cavlc_slices.mp4
    "${FF[@]}" -f lavfi -i "$(vsrc 320x180 25 2)" \
        -c:v libx264 -threads 1 -preset medium -profile:v baseline -pix_fmt yuv420p \
        "${RC_SMALL[@]}" -g 25 -keyint_min 25 -sc_threshold 0 -x264-params slices=4 \
        "${BITEXACT[@]}" "$f"
    [ "$(probe $f stream=profile)" = "Constrained Baseline" ] || fail "$f: not Constrained Baseline"
    [ "$(trace_count $f 'first_mb_in_slice')" = 200 ] || fail "$f: expected 4 slices x 50 pictures"
    # H.264 High, MBAFF interlaced top field first: frame_mbs_only_flag 0, field_pic_flag
    # and delta_pic_order_cnt_bottom in every slice header.
    f=h264_interlaced_mbaff.mp4
    "${FF[@]}" -f lavfi -i "$(vsrc 320x180 25 2)" \
        "${H264[@]}" "${RC_SMALL[@]}" -g 25 -keyint_min 25 -sc_threshold 0 \
        -x264-params interlaced=1:tff=1 "${BITEXACT[@]}" "$f"
    [ "$(probe $f stream=field_order)" = tt ] || fail "$f: not interlaced tff"
    [ "$(trace_count $f 'delta_pic_order_cnt_bottom')" = 50 ] || fail "$f: no delta_pic_order_cnt_bottom"
    # HEVC with 2 slices per picture and wavefront parallel processing (entry points in the
    # slice headers; x265 needs a thread pool for WPP, its output stays deterministic).
    f=hevc_slices_wpp.mp4
    "${FF[@]}" -f lavfi -i "$(vsrc 320x180 25 2)" \
        -c:v libx265 -threads 1 -preset medium -pix_fmt yuv420p -b:v 80k \
        -x265-params "pools=1:frame-threads=1:wpp=1:ctu=32:slices=2:keyint=25:min-keyint=25:scenecut=0:open-gop=0:info=0:log-level=error" \
        -tag:v hvc1 "${BITEXACT[@]}" "$f"
    [ "$(trace_count $f 'entropy_coding_sync_enabled_flag  *1 = 1')" = 1 ] || fail "$f: no WPP"
    [ "$(trace_count $f 'first_slice_segment_in_pic_flag  *0 = 0')" = 50 ] || fail "$f: not 2 slices"

    f=h264_25fps_aac_44.1k.mp4
    "${FF[@]}" -f lavfi -i "$(vsrc 320x180 25 $DUR)" -f lavfi -i "$(asrc 550 44100 $DUR)" \
        "${H264[@]}" "${RC_SMALL[@]}" "${GOP_25[@]}" -c:a aac -b:a 64k -ac 2 -ar 44100 \
        "${BITEXACT[@]}" "$f"

    # HE-AAC (explicit AOT 5 signalling + synthetic SBR payloads), see
    # scripts/aac_he_signal.py: AAC-LC stereo at the 24 kHz core rate first.
    "${FF[@]}" -f lavfi -i "$(asrc 1000 24000 $DUR)" -c:a aac -b:a 48k -ac 2 -ar 24000 \
        "${BITEXACT[@]}" "$TMP/lc24k.mp4"
    f=aac_he_signalled.mp4
    python3 "$SCRIPTS/aac_he_signal.py" "$TMP/lc24k.mp4" "$f" >/dev/null
    [ "$(probe $f stream=profile)" = HE-AAC ] || fail "$f: ffprobe profile is not HE-AAC"
    [ "$(probe $f stream=sample_rate)" = 48000 ] || fail "$f: sample rate is not 48000"

    f=ac3_48k.mp4
    "${FF[@]}" -f lavfi -i "$(asrc 440 48000 $DUR)" -c:a ac3 -b:a 96k -ac 2 -ar 48000 "${BITEXACT[@]}" "$f"
    grep -q '^ *ac-3 @' <<<"$(tree_of $f)" || fail "$f: no ac-3 sample entry"
    f=eac3_48k.mp4
    "${FF[@]}" -f lavfi -i "$(asrc 440 48000 $DUR)" -c:a eac3 -b:a 96k -ac 2 -ar 48000 "${BITEXACT[@]}" "$f"
    grep -q '^ *ec-3 @' <<<"$(tree_of $f)" || fail "$f: no ec-3 sample entry"

    # One video and two AAC tracks, mdhd languages eng (440 Hz, default) and
    # fra (880 Hz).
    f=two_audio_languages.mp4
    "${FF[@]}" -f lavfi -i "$(vsrc 320x180 25 $DUR)" \
        -f lavfi -i "$(asrc 440 48000 $DUR)" -f lavfi -i "$(asrc 880 48000 $DUR)" \
        -map 0:v -map 1:a -map 2:a \
        "${H264[@]}" "${RC_SMALL[@]}" "${GOP_25[@]}" -c:a aac -b:a 48k -ac 2 -ar 48000 \
        "${BITEXACT[@]}" -metadata:s:a:0 language=eng -metadata:s:a:1 language=fra \
        -disposition:a:0 default -disposition:a:1 0 "$f"
    t="$(tree_of $f)"
    grep -q 'language=eng' <<<"$t" || fail "$f: no mdhd language eng"
    grep -q 'language=fra' <<<"$t" || fail "$f: no mdhd language fra"

    # 10 s GOPs over 22 s: keyframes at 0, 10 and 20 s only.
    f=long_gop_10s.mp4
    "${FF[@]}" -f lavfi -i "$(vsrc 256x144 25 22)" -f lavfi -i "$(asrc 330 48000 22)" \
        "${H264[@]}" -b:v 60k -maxrate 90k -bufsize 120k -g 250 -keyint_min 250 -sc_threshold 0 \
        -c:a aac -b:a 32k -ac 2 -ar 48000 "${BITEXACT[@]}" "$f"
    [ "$(keyframe_times $f | tr '\n' ' ')" = "0.000000 10.000000 20.000000 " ] \
        || fail "$f: keyframes at $(keyframe_times $f | tr '\n' ' ')"

    f=audio_only_aac.mp4
    "${FF[@]}" -f lavfi -i "$(asrc 1000 48000 $DUR)" "${AAC_48K[@]}" "${BITEXACT[@]}" "$f"

    # co64 instead of stco, from the moov-first file (so the mdat moves by
    # the growth of the moov and every offset is shifted).
    f=h264_co64.mp4
    python3 "$SCRIPTS/stco_to_co64.py" h264_avc1_25fps_aac_48k_moov_first.mp4 "$f" >/dev/null
    t="$(tree_of $f)"
    grep -q '^ *co64 @' <<<"$t" || fail "$f: no co64"
    grep -q '^ *stco @' <<<"$t" && fail "$f: stco left"
    ffprobe -v error -count_frames -show_entries stream=nb_read_frames -of csv=p=0 "$f" >/dev/null \
        || fail "$f: ffprobe -count_frames failed"
    [ "$(ffmpeg -v error -i $f -map 0 -c copy -f framemd5 - | grep -v '^#')" = \
      "$(ffmpeg -v error -i h264_avc1_25fps_aac_48k_moov_first.mp4 -map 0 -c copy -f framemd5 - | grep -v '^#')" ] \
        || fail "$f: samples differ from the stco source"

    # GOP of every 25 fps file with the default 2 s GOP
    for f in h264_avc1_25fps_aac_48k_moov_last.mp4 h264_avc3_25fps.mp4 hevc_hvc1_25fps.mp4 \
             hevc_hev1_25fps.mp4 h264_25fps_aac_44.1k.mp4 two_audio_languages.mp4; do
        [ "$(keyframe_times $f | tr '\n' ' ')" = "0.000000 2.000000 4.000000 6.000000 " ] \
            || fail "$f: keyframes at $(keyframe_times $f | tr '\n' ' ')"
    done
    for f in *.mp4; do check_decodes "$f"; done
    cd "$ROOT"
}

# ------------------------------------------------------------------ demo ----
make_vtt() { # FILE FORMAT(printf: cue number, mm:ss)
    local file="$1" fmt="$2" n s
    {
        printf 'WEBVTT\n\n'
        for n in $(seq 1 9); do
            s=$((n * 3))
            printf '%d\n00:00:%02d.000 --> 00:00:%02d.500\n' "$n" "$s" "$((s + 2))"
            # shellcheck disable=SC2059
            printf "$fmt\n\n" "$n" "$(printf '00:%02d' "$s")"
        done
    } >"$file"
}

make_demo() {
    mkdir -p "$DEMO"
    cd "$DEMO"
    local D=30
    # Ladder: same fps, same closed 2 s GOP (no scene-cut keyframes) so the
    # IDRs of every rendition line up.  Average rates 90/180/330 kbps (peak
    # 1.5x) instead of 150/300/550: with the two 64 kbps audio tracks that
    # keeps the whole 30 s title under 3 MB.
    local name size rate
    for spec in 180p:320x180:90 270p:480x270:180 360p:640x360:330; do
        IFS=: read -r name size rate <<<"$spec"
        local vf="null"
        if [ "$HAVE_DRAWTEXT" = 1 ]; then
            vf="drawtext=fontfile=$FONT:text='$name':fontsize=h/5:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=6:x=(w-tw)/2:y=h-th-h/12"
        fi
        "${FF[@]}" -f lavfi -i "$(vsrc "$size" 25 $D)" -vf "$vf" \
            "${H264[@]}" -b:v "${rate}k" -maxrate "$((rate * 3 / 2))k" -bufsize "$((rate * 2))k" \
            "${GOP_25[@]}" "${BITEXACT[@]}" -movflags +faststart "video_$name.mp4"
    done
    # English: 440 Hz with a 880 Hz beep every second; French: 660 Hz tremolo
    "${FF[@]}" -f lavfi -i "sine=frequency=440:beep_factor=2:sample_rate=48000:duration=$D" \
        "${AAC_48K[@]}" "${BITEXACT[@]}" -metadata:s:a:0 language=eng -movflags +faststart audio_en.mp4
    "${FF[@]}" -f lavfi -i "aevalsrc=0.25*sin(2*PI*660*t)*(0.6+0.4*sin(2*PI*2*t)):sample_rate=48000:duration=$D" \
        "${AAC_48K[@]}" "${BITEXACT[@]}" -metadata:s:a:0 language=fra -movflags +faststart audio_fr.mp4
    grep -q 'language=eng' <<<"$(tree_of audio_en.mp4)" || fail "audio_en.mp4: language"
    grep -q 'language=fra' <<<"$(tree_of audio_fr.mp4)" || fail "audio_fr.mp4: language"

    make_vtt demo.en.vtt 'Subtitle cue %d at %s'
    make_vtt demo.fr.vtt 'Sous-titre n° %d à %s'

    local ref
    ref="$(keyframe_times video_180p.mp4)"
    [ "$(wc -l <<<"$ref")" = 15 ] || fail "video_180p.mp4: expected 15 keyframes"
    for f in video_270p.mp4 video_360p.mp4; do
        [ "$(keyframe_times $f)" = "$ref" ] || fail "$f: keyframes not aligned with video_180p.mp4"
    done
    for f in *.mp4; do check_decodes "$f"; done
    cd "$ROOT"
}

# --------------------------------------------------------------- summary ----
summary() {
    local f
    printf '\n%-56s %8s  %s\n' FILE BYTES STREAMS
    for f in "$@"; do
        [ -f "$f" ] || continue
        local streams
        streams="$(ffprobe -v error -show_entries \
            stream=codec_name,profile,width,height,avg_frame_rate,sample_rate,channels:stream_tags=language \
            -of json "$f" | python3 -c '
import json, sys
out = []
for s in json.load(sys.stdin).get("streams", []):
    d = s["codec_name"]
    if s.get("profile") and s["profile"] != "unknown":
        d += "(%s)" % s["profile"]
    if "width" in s:
        n, m = map(int, s["avg_frame_rate"].split("/"))
        d += " %dx%d %.5gfps" % (s["width"], s["height"], n / m if m else 0)
    if "sample_rate" in s:
        d += " %sHz %sch" % (s["sample_rate"], s["channels"])
    lang = s.get("tags", {}).get("language")
    if lang and lang != "und":
        d += " [%s]" % lang
    out.append(d)
print(" | ".join(out))')"
        printf '%-56s %8d  %s\n' "${f#"$ROOT"/}" "$(stat -c %s "$f")" "$streams"
    done
}

[ "$WHAT" = demo ] || make_media
[ "$WHAT" = media ] || make_demo
summary "$MEDIA"/*.mp4 "$DEMO"/*.mp4 "$DEMO"/*.vtt
echo
du -sh "$MEDIA" "$DEMO" 2>/dev/null || true
