#!/usr/bin/env python3
"""Makes the seed corpus of the fuzz targets, fuzz/corpus/<target>/, from the repository's
own test media and documents. Standard library only (python3 >= 3.7).

    python3 scripts/make-fuzz-corpus.py            # rewrite the seeds
    python3 scripts/make-fuzz-corpus.py --check    # exit 1 when the committed seeds differ

Seeds are named after what they are made of (`h264_co64.moov`, `route-ts-segment`). Files
named `regression-*` are crashers the fuzzers found; this script never touches them. Any
other file in a corpus directory is removed, so the corpus stays what this script makes
(libFuzzer's own finds go to a working copy, see scripts/fuzz.sh).

What each target gets (see fuzz/README.md for the input format of each):
  mp4_moov          the moov box of every testdata/media/*.mp4
  mp4_top_level     the first 16 bytes at every top-level box of those files, plus a few
                    hand-made headers (64-bit size, size 0, uuid, moof, short)
  nal_subsamples    the avcC/hvcC parameter sets and the first samples (slice data cut
                    short) of every H.264 and HEVC video track, in the target's format
  webvtt            demo/media/demo/*.vtt and a few hand-written files
  route             every path of the README's URL contract
  asset_definition  the README's asset definition examples
  clearkey_request  W3C ClearKey license requests
  cpix_response     CPIX 2.3 answers like drm/src/cpix/tests.rs and the SPEKE test server
                    make, for the key id the target asks for (0x11 x 16)
  access_token      Common Access Tokens (bytes and base64url text) MACed with the target's
                    HMAC key, so they reach the claims, with every claim the edge reads; an
                    ES256 one; Akamai Token Auth 2.0 tokens valid for the target's request
  access_request    request URIs, Cookie headers and token headers (NUL-separated) carrying
                    tokens the ways the edge reads them: query (plain, escaped, among other
                    parameters, twice), cookies (several, quoted) and the header
  steering_query    content steering request queries as the edge writes them (session,
                    served, a viewer token) with what hls.js, dash.js and Shaka add
                    (_HLS_pathway / _DASH_pathway, quoted lists, throughput), a few that are
                    refused; and cdn-router's multivariant playlists and MPD, which the
                    target also feeds to the manifest rewrites
  vast              ssai/testdata/vast*.xml and hand-made answers: VAST 2.0 to 4.3 inline
                    ads and pods with every tracking event, wrappers (one, six, a pod of
                    them, one that forbids more), an empty answer with its Error, namespace
                    prefixes, entities, macros; and broken ones (unclosed, version 5, no
                    Duration, progress without offset, a DTD entity...)
  stripe_webhook    subscription events in each status, signed with the target's secret at its
                    fixed time; a bad MAC, an old timestamp, no header, a broken body
  control_request   the contracts' JSON bodies: assets (every field, minimal, a bad cue point,
                    an unknown field), products, grants, playback requests, non-JSON
  vmap              ssai/testdata/vmap*.xml and hand-made VMAP: every timeOffset form,
                    VASTAdData, CustomAdData, no source; and broken ones
"""

import argparse
import base64
import glob
import hashlib
import hmac
import json
import os
import re
import struct
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))

import mp4lib  # noqa: E402

MEDIA = sorted(glob.glob(os.path.join(REPO, "testdata", "media", "*.mp4")))
CORPUS = os.path.join(REPO, "fuzz", "corpus")

# Longest slice kept in a nal_subsamples seed: the slice header is what the parser reads,
# the rest only has to be there (and more than one AES block, so something is protected).
SLICE_KEEP = 96


def stem(path):
    return os.path.splitext(os.path.basename(path))[0]


# --- MP4 -----------------------------------------------------------------------------------

def mp4_moov(seeds):
    for path in MEDIA:
        data, top = mp4lib.read_file(path)
        moov = next(b for b in top if b.type == b"moov")
        seeds["%s.moov" % stem(path)] = data[moov.offset:moov.offset + moov.size]


def mp4_top_level(seeds):
    seen = set()
    for path in MEDIA:
        data, top = mp4lib.read_file(path)
        for box in top:
            header = data[box.offset:box.offset + 16]
            if header in seen:
                continue
            seen.add(header)
            seeds["%s.%s.header" % (stem(path), box.type.decode("latin-1"))] = header
    seeds["largesize-mdat.header"] = struct.pack(">I4sQ", 1, b"mdat", 1 << 33)
    seeds["largesize-moov.header"] = struct.pack(">I4sQ", 1, b"moov", 4096)
    seeds["size0-mdat.header"] = struct.pack(">I4s", 0, b"mdat") + bytes(8)
    seeds["uuid.header"] = struct.pack(">I4s", 24, b"uuid") + bytes(range(16))
    seeds["moof.header"] = struct.pack(">I4s", 512, b"moof") + struct.pack(">I4s", 16, b"mfhd")
    seeds["short.header"] = struct.pack(">I", 8) + b"fr"


def track_boxes(top):
    moov = next(b for b in top if b.type == b"moov")
    for trak in moov.find_all(b"trak"):
        yield trak, mp4lib.sample_table(trak)


def samples(data, stbl, count):
    """The first `count` samples of a track, as bytes."""
    stsz = stbl.find(b"stsz").payload
    fixed, n = struct.unpack_from(">II", stsz, 4)
    sizes = [fixed] * n if fixed else list(struct.unpack_from(">%dI" % n, stsz, 12))
    offsets_box = stbl.find(b"stco") or stbl.find(b"co64")
    chunk_offsets = mp4lib.chunk_offsets(offsets_box)
    stsc = stbl.find(b"stsc").payload
    entries = [struct.unpack_from(">III", stsc, 8 + 12 * i)
               for i in range(struct.unpack_from(">I", stsc, 4)[0])]
    out = []
    sample = 0
    for chunk, offset in enumerate(chunk_offsets, start=1):
        per_chunk = [e[1] for e in entries if e[0] <= chunk][-1]
        for _ in range(per_chunk):
            if sample >= min(n, count):
                return out
            out.append(data[offset:offset + sizes[sample]])
            offset += sizes[sample]
            sample += 1
    return out


def parameter_sets(entry):
    """(format, NAL length size, [parameter set NAL units]) of an avc1/avc3/hvc1/hev1 entry."""
    avcc = entry.find(b"avcC")
    if avcc is not None:
        p = avcc.payload
        length_size = (p[4] & 3) + 1
        sets, pos = [], 5
        for mask in (0x1F, 0xFF):  # SPS count, then PPS count
            count = p[pos] & mask
            pos += 1
            for _ in range(count):
                (n,) = struct.unpack_from(">H", p, pos)
                sets.append(p[pos + 2:pos + 2 + n])
                pos += 2 + n
        return "h264", length_size, sets
    hvcc = entry.find(b"hvcC")
    p = hvcc.payload
    length_size = (p[21] & 3) + 1
    sets, pos = [], 23
    for _ in range(p[22]):
        pos += 1  # array_completeness, NAL unit type
        (count,) = struct.unpack_from(">H", p, pos)
        pos += 2
        for _ in range(count):
            (n,) = struct.unpack_from(">H", p, pos)
            sets.append(p[pos + 2:pos + 2 + n])
            pos += 2 + n
    return "hevc", length_size, sets


def cut_sample(sample, length_size, keep):
    """The sample with every NAL unit longer than `keep` cut to `keep` bytes (its length
    prefix rewritten), so the seeds stay small and still parse."""
    out, pos = b"", 0
    while pos + length_size <= len(sample):
        n = int.from_bytes(sample[pos:pos + length_size], "big")
        unit = sample[pos + length_size:pos + length_size + n][:keep]
        out += len(unit).to_bytes(length_size, "big") + unit
        pos += length_size + n
    return out


def records(parts):
    """The target's framing: each part as a 16-bit big-endian length and its bytes."""
    return b"".join(struct.pack(">H", len(p)) + p for p in parts)


def nal_subsamples(seeds):
    seen = set()
    for path in MEDIA:
        data, top = mp4lib.read_file(path)
        for trak, stbl in track_boxes(top):
            if mp4lib.handler_type(trak) != b"vide":
                continue
            entry = stbl.find(b"stsd").children[0]
            fmt, length_size, sets = parameter_sets(entry)
            # The first byte: bit 0 the codec, (byte >> 1) % 3 the index of the length size
            # in [1, 2, 4]; the second the number of parameter sets. Then the parameter sets
            # and the samples, each with a 16-bit length (as avcC and hvcC store sets).
            first = (0 if fmt == "h264" else 1) | ([1, 2, 4].index(length_size) << 1)
            cut = [cut_sample(s, length_size, SLICE_KEEP) for s in samples(data, stbl, 3)]
            seed = bytes([first, len(sets)]) + records(sets + cut)
            if seed in seen:
                continue
            seen.add(seed)
            name = "%s.%s" % (stem(path), entry.type.decode("latin-1"))
            seeds[name] = seed
            # The same samples with no parameter sets from the sample entry: they come
            # in-band in the first sample (as avc3/hev1 carry them).
            inband = b"".join(len(s).to_bytes(length_size, "big") + s for s in sets)
            seeds[name + ".inband"] = bytes([first, 0]) + records([inband] + cut)


# --- text formats --------------------------------------------------------------------------

def webvtt(seeds):
    for path in sorted(glob.glob(os.path.join(REPO, "demo", "media", "demo", "*.vtt"))):
        with open(path, "rb") as f:
            seeds[os.path.basename(path)] = f.read()
    seeds["settings-and-blocks.vtt"] = (
        b"\xef\xbb\xbfWEBVTT - with a header\r\n"
        b"X-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\r\n\r\n"
        b"STYLE\n::cue { color: yellow }\n\n"
        b"REGION\nid:bill width:40% lines:3 regionanchor:0%,100%\n\n"
        b"NOTE a comment\nover two lines\n\n"
        b"1\n00:00.000 --> 00:02.500 align:start position:10% line:0 region:bill\n"
        b"<v Bob>Hello <b>there</b></v>\n\n"
        b"intro\n01:00:02.000 --> 01:00:04.000\nan hour in\n\n"
        b"00:00:09.990 --> 00:00:10.010\nacross a segment edge\n"
    )
    seeds["overlapping.vtt"] = (
        b"WEBVTT\n\n00:00:01.000 --> 00:00:30.000\nlong\n\n"
        b"00:00:05.000 --> 00:00:06.000\nshort &amp; nested\n\n"
        b"00:00:05.000 --> 00:00:04.000\nends before it starts\n"
    )
    seeds["empty.vtt"] = b"WEBVTT\n"


# Every path of the README's URL contract, with the kinds of asset and rendition names it
# describes (a single file, a title directory).
ROUTES = [
    "/healthz", "/readyz", "/metrics",
    "/vod/demo/master.m3u8",
    "/vod/movie.mp4/master.m3u8",
    "/vod/movie.mp4/v1/media.m3u8",
    "/vod/demo/video_180p-v1/media.m3u8",
    "/vod/demo/video_180p-v1/iframes.m3u8",
    "/vod/movie.mp4/a2/init.mp4",
    "/vod/demo/audio_en-a1/12.m4s",
    "/vod/demo/ts/master.m3u8",
    "/vod/demo/ts/video_270p-v1/media.m3u8",
    "/vod/movie.mp4/ts/v1/123456789.ts",
    "/vod/demo/manifest.mpd",
    "/vod/demo/sub/en/media.m3u8",
    "/vod/demo/sub/fr/3.vtt",
    "/vod/demo/ts/sub/en/media.m3u8",
    "/vod/demo/ts/sub/en/1.vtt",
    "/vod/demo/sub/en.vtt",
    "/vod/demo/keys/0123456789abcdef0123456789abcdef.key",
    "/vod/demo/keys/01234567-89ab-cdef-0123-456789abcdef.key",
    "/vod/demo/license/clearkey",
    "/vod/../etc/passwd",
    "/vod/demo/v1/0.m4s",
    "/vod/demo/s/0123456789abcdef0123456789abcdef/master.m3u8?ads.gender=f&cat=x",
    "/vod/demo/s/0123456789abcdef0123456789abcdef/ts/video_180p-v1/media.m3u8",
    "/vod/demo/s/0123456789abcdef0123456789abcdef/ad/1-0/ad-x-0123456789abcdef-89abcdef.mp4/v2/3.m4s",
    "/vod/demo/s/0123456789abcdef0123456789abcdef/ad/0-slate/ad-y.mp4/keys/0123456789abcdef0123456789abcdef.key",
    "/vod/demo/s/0123456789abcdef0123456789abcdef/assets/2.json",
    "/vod/demo/s/0123456789abcdef0123456789abcdef/blank.vtt",
]


def route(seeds):
    for i, path in enumerate(ROUTES):
        name = path.strip("/").replace("/", "_").replace(".", "-") or "root"
        name = re.sub(r"[^A-Za-z0-9_-]", "-", name)
        seeds["route-%02d-%s" % (i, name[:60])] = path.encode()


def asset_definition(seeds):
    seeds["encryption.toml"] = (
        b'[encryption]\n'
        b'method = "cbcs"                                   # none | aes-128 | sample-aes | cenc | cbcs\n'
        b'drm = ["widevine", "playready", "fairplay", "clearkey"]\n'
    )
    seeds["sources.toml"] = (
        b'sources = ["video_1080p.mp4", "video_720p.mp4", '
        b'"https://audio.example.com/t1/audio_en.mp4"]\n'
        b'[subtitles]\nen = "movie.en.vtt"\n'
    )
    seeds["everything.toml"] = (
        b'sources = ["../common/video.mp4", "/abs/audio.mp4", "http://o:8080/a/b.mp4?x=1#f"]\n'
        b'[encryption]\nmethod = "aes-128"\ndrm = []\n'
        b'[subtitles]\nen = "sub/en.vtt"\n"fr-CA" = "https://subs.example.com/fr.vtt"\n'
    )
    seeds["ads.toml"] = (
        b'[ads]\nad_server = "https://ads.example/vast?sid=[session.id]&avail=[avail.index]"\n'
        b'breaks = ["start", "00:10:00", "50%", "#3", "end"]\nbreak_seconds = 30\n'
        b'mode = "guided"\nslate = "slates/back-soon.mp4"\n'
    )
    seeds["inline.toml"] = (
        b'encryption = { method = "cenc", drm = ["clearkey"] }\n'
        b"sources = ['''a.mp4''', \"b\\u00e9.mp4\"]\n"
        b'subtitles = { de = "./de.vtt" }\n'
    )


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def clearkey_request(seeds):
    kid = bytes([0x11] * 16)
    other = bytes(range(16))
    seeds["temporary.json"] = ('{"kids":["%s"],"type":"temporary"}' % b64url(kid)).encode()
    seeds["persistent.json"] = (
        '{"kids":["%s","%s"],"type":"persistent-license"}' % (b64url(kid), b64url(other))
    ).encode()
    seeds["padded-no-type.json"] = (
        '{ "kids" : [ "%s" ] }' % base64.urlsafe_b64encode(other).decode()
    ).encode()


KID_UUID = "11111111-1111-1111-1111-111111111111"
OTHER_UUID = "10000000-1000-1000-1000-100000000001"
KEY_B64 = "MDEyMzQ1Njc4OWFiY2RlZg=="
WIDEVINE = "edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"
PLAYREADY = "9a04f079-9840-4286-ab92-e65be0885f95"
FAIRPLAY = "94ce86fb-07ff-4f43-adb8-93d2fa968ca2"
PSSH_B64 = base64.b64encode(
    struct.pack(">I4sI16sI", 32 + 4, b"pssh", 0, bytes.fromhex(WIDEVINE.replace("-", "")), 4)
    + b"data").decode()


def cpix_doc(content_keys, drm_systems, root='cpix:CPIX', ns=None):
    ns = ns or ('xmlns:cpix="urn:dashif:org:cpix" '
                'xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc"')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<%s contentId="demo" version="2.3" %s>\n'
        '  <cpix:ContentKeyList>%s</cpix:ContentKeyList>\n'
        '  <cpix:DRMSystemList>%s</cpix:DRMSystemList>\n'
        '  <cpix:ContentKeyUsageRuleList><cpix:ContentKeyUsageRule kid="%s" '
        'intendedTrackType="ALL"><cpix:AudioFilter/><cpix:VideoFilter/>'
        '</cpix:ContentKeyUsageRule></cpix:ContentKeyUsageRuleList>\n'
        '</%s>\n' % (root, ns, content_keys, drm_systems, KID_UUID, root)
    ).encode()


def content_key(kid, plain, iv=None):
    iv = ' explicitIV="%s"' % iv if iv else ""
    return ('<cpix:ContentKey kid="%s" commonEncryptionScheme="cbcs"%s><cpix:Data><pskc:Secret>'
            '<pskc:PlainValue>%s</pskc:PlainValue></pskc:Secret></cpix:Data></cpix:ContentKey>'
            % (kid, iv, plain))


def drm_system(kid, system, pssh=True):
    inner = "<cpix:PSSH>%s</cpix:PSSH>" % PSSH_B64 if pssh else ""
    return ('<cpix:DRMSystem kid="%s" systemId="%s">%s'
            '<cpix:ContentProtectionData>eA==</cpix:ContentProtectionData>'
            '<cpix:HLSSignalingData playlist="media">eA==</cpix:HLSSignalingData>'
            '<cpix:HLSSignalingData playlist="master">eA==</cpix:HLSSignalingData>'
            '</cpix:DRMSystem>' % (kid, system, inner))


def cpix_response(seeds):
    seeds["key.xml"] = cpix_doc(content_key(KID_UUID, KEY_B64), "")
    seeds["key-pssh-iv.xml"] = cpix_doc(
        content_key(KID_UUID, "\n  MDEyMzQ1Njc4\n  OWFiY2RlZg\n", iv="AAECAwQFBgcICQoLDA0ODw=="),
        drm_system(KID_UUID, WIDEVINE) + drm_system(KID_UUID, PLAYREADY)
        + drm_system(KID_UUID, FAIRPLAY, pssh=False) + drm_system(OTHER_UUID, WIDEVINE))
    seeds["other-kid-first.xml"] = cpix_doc(
        content_key(OTHER_UUID, "AAAA") + content_key(KID_UUID.upper(), KEY_B64), "")
    seeds["default-namespace.xml"] = (
        '<CPIX xmlns="urn:dashif:org:cpix" xmlns:k="urn:ietf:params:xml:ns:keyprov:pskc" '
        'version="2.3"><ContentKeyList><ContentKey kid="%s" explicitIV="AAECAwQFBgcICQoLDA0ODw==">'
        '<Data><k:Secret><k:PlainValue><![CDATA[%s]]></k:PlainValue></k:Secret></Data>'
        '</ContentKey></ContentKeyList></CPIX>' % (KID_UUID, KEY_B64)).encode()
    seeds["encrypted-value.xml"] = cpix_doc(
        '<cpix:ContentKey kid="%s"><cpix:Data><pskc:Secret><pskc:EncryptedValue>'
        '<pskc:CipherData/></pskc:EncryptedValue></pskc:Secret></cpix:Data></cpix:ContentKey>'
        % KID_UUID, "")
    seeds["entities-comments.xml"] = cpix_doc(
        "<!-- a key -->" + content_key(KID_UUID, "MDEy&#x4D;zQ1Njc4OWFiY2RlZg&#61;&#61;"),
        "<?pi x?>")


# --- playback tokens -----------------------------------------------------------------------

# The keys, request and time of fuzz/fuzz_targets/access_token.rs.
CAT_KID = b"fuzz"
CAT_KEY = b"edgepack fuzz key: 32 bytes long"
AKAMAI_KEY = bytes.fromhex("52a152a152a152a152a152a152a1")
TOKEN_NOW = 1700000100
TOKEN_PATH = "/vod/demo/master.m3u8"


class Tag:
    def __init__(self, tag, value):
        self.tag, self.value = tag, value


def cbor_head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for info, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if n < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | info]) + struct.pack(fmt, n)
    raise ValueError(n)


def cbor(v):
    """A small deterministic CBOR encoder: what the seeds need (RFC 8949)."""
    if v is None:
        return b"\xf6"
    if isinstance(v, bool):
        return b"\xf5" if v else b"\xf4"
    if isinstance(v, int):
        return cbor_head(0, v) if v >= 0 else cbor_head(1, -1 - v)
    if isinstance(v, float):
        return b"\xfb" + struct.pack(">d", v)
    if isinstance(v, bytes):
        return cbor_head(2, len(v)) + v
    if isinstance(v, str):
        raw = v.encode()
        return cbor_head(3, len(raw)) + raw
    if isinstance(v, list):
        return cbor_head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict):
        return cbor_head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())
    if isinstance(v, Tag):
        return cbor_head(6, v.tag) + cbor(v.value)
    raise TypeError(v)


def cose_mac0(claims, protected_extra=None, unprotected=None, tags=(61, 17)):
    """A COSE_Mac0 (HMAC 256/256) over `claims` with the target's key."""
    protected = cbor({1: 5, **(protected_extra or {})})
    payload = cbor(claims)
    mac_structure = cbor(["MAC0", protected, b"", payload])
    tag = hmac.new(CAT_KEY, mac_structure, hashlib.sha256).digest()
    message = [protected, {4: CAT_KID} if unprotected is None else unprotected, payload, tag]
    for t in reversed(tags):
        message = Tag(t, message)
    return cbor(message)


def full_claims():
    return {
        1: "issuer.example",
        3: ["edge", "other"],
        4: TOKEN_NOW + 200,
        5: TOKEN_NOW - 100,
        6: TOKEN_NOW - 100,
        7: bytes(range(16)),
        310: 1,
        312: {
            3: {1: "/vod/demo/"},
            8: {0: ".m3u8"},
            5: {-1: hashlib.sha256(b"/vod/demo").digest()},
            1: {4: ["^cdn\\.", None]},
            4: {3: "lang="},
            2: {0: "443"},
            6: {-2: hashlib.sha512(b"master.m3u8").digest()},
        },
        313: ["GET", "HEAD"],
        311: [Tag(52, [24, b"\x0a\x00\x00"]), Tag(54, [32, b"\x20\x01\x0d\xb8"]),
              Tag(52, b"\xc0\x00\x02\x01"), 64512, "192.0.2.0/24"],
        308: 2,
        323: {0: 2, 1: 120, 2: 60, 4: "X-Token", 6: ["Max-Age=120"]},
        316: ["US", "CA-QC"],
        314: [b"h2", "h3"],
        45: [4, 312],
        "sid": "s-1",
    }


def akamai_token(fields, url=None, salt=None):
    body = "~".join(fields)
    signed = body + ("~url=" + url if url is not None else "") + ("~salt=" + salt if salt else "")
    mac = hmac.new(AKAMAI_KEY, signed.encode(), hashlib.sha256).hexdigest()
    return ("%s~hmac=%s" % (body, mac)).encode()


def access_token(seeds):
    full = cose_mac0(full_claims())
    seeds["cat-hs256-full.cbor"] = full
    seeds["cat-hs256-full.txt"] = b64url(full).encode()
    seeds["cat-hs256-minimal-untagged.cbor"] = cose_mac0(
        {4: TOKEN_NOW + 60}, protected_extra={4: CAT_KID}, unprotected={}, tags=())
    seeds["cat-hs256-renewal.txt"] = b64url(cose_mac0({
        1: "issuer.example", 4: TOKEN_NOW + 30, 323: {0: 3, 1: 300, 7: 307},
        308: 1, 45: [323], "sid": "s-2"})).encode()
    seeds["cat-hs256-float-exp.cbor"] = cose_mac0({4: TOKEN_NOW + 60.5, 313: "GET"})
    seeds["cat-es256.cbor"] = cbor(Tag(61, Tag(18, [
        cbor({1: -7}), {4: b"es"}, cbor({4: TOKEN_NOW + 60}), bytes(64)])))
    fields = ["st=1700000000", "exp=1700000300"]
    seeds["akamai-acl.txt"] = akamai_token(fields + ["acl=/vod/*"])
    seeds["akamai-acl-list.txt"] = akamai_token(fields + ["acl=/live/*!/vod/demo/*.m3u8"])
    seeds["akamai-url.txt"] = akamai_token(fields, url=TOKEN_PATH)
    seeds["akamai-ip-id-data-salt.txt"] = akamai_token(
        ["ip=10.0.0.7"] + fields + ["id=abc", "data=x+y%2fz"], url=TOKEN_PATH, salt="s")


def access_request(seeds):
    token = b64url(cose_mac0({4: TOKEN_NOW + 60})).encode()
    akamai = akamai_token(["st=1700000000", "exp=1700000300", "acl=/vod/*"])
    cases = {
        "query-only": (b"/vod/demo/master.m3u8?cat=" + token, b"", b""),
        "query-among-others": (b"/vod/demo/1.m4s?a=1&cat=" + token + b"&b=&&c", b"", b""),
        "query-twice": (b"/vod/demo/1.m4s?CAT=x&cat=" + token, b"", b""),
        "query-akamai-escaped": (b"/vod/demo/1.m4s?__token__=" +
                                 akamai.replace(b"=", b"%3D").replace(b"~", b"%7E"), b"", b""),
        "cookies": (b"/vod/demo/1.m4s", b"a=b; CTA-Common-Access-Token=\"" + token +
                    b"\"; __token__=" + akamai + b"; hdnts=", b""),
        "header": (b"/vod/demo/1.m4s", b"", token),
        "everything": (b"/vod/demo/1.m4s?cat=" + token, b"Common-Access-Token=" + token, token),
    }
    for name, (uri, cookie, header) in cases.items():
        seeds["request-" + name] = uri + b"\0" + cookie + b"\0" + header


# --- content steering ----------------------------------------------------------------------

def steering_query(seeds):
    session = "session=3f2a9c0d1e4b5a6978f0e1d2c3b4a596"
    token = b64url(cose_mac0({4: TOKEN_NOW + 60}))
    cases = {
        # As the edge writes SERVER-URI / RELOAD-URI, and dash.js asks before it starts.
        "edge": session + "&served=cdn-a",
        "edge-viewer-token": session + "&served=cdn-a&cat=" + token,
        # hls.js appends the pathway it is on and its throughput (bits per second).
        "hls-js": session + "&served=cdn-a&_HLS_pathway=cdn-a&_HLS_throughput=5400000",
        "hls-js-failover": session + "&served=cdn-a&_HLS_pathway=cdn-b&_HLS_throughput=2500000",
        "hls-js-clone": session + "&served=cdn-a&cat=" + token + "&_HLS_pathway=cdn-b.eu_1",
        # dash.js: every location since its last request, quoted, the current one last.
        "dash-js": session + "&served=cdn-a&_DASH_pathway=%22cdn-a,cdn-b%22"
                   "&_DASH_throughput=%22900000,1200000%22",
        "dash-js-fraction": "_DASH_pathway=%22cdn-b%22&_DASH_throughput=%2212.6%22&" + session,
        # Shaka: one unquoted value.
        "shaka-dash": session + "&served=cdn-b&_DASH_pathway=cdn-b&_DASH_throughput=8000000",
        "cache-buster": session + "&&_=1700000000000&_HLS_pathway=&x",
        # Refused: a broken escape, a pathway id with a space, a negative throughput.
        "bad-escape": "session=%zz&served=cdn-a",
        "bad-pathway": "served=cdn-a&_HLS_pathway=cdn%20a",
        "bad-throughput": "_HLS_throughput=-1",
    }
    for name, query in cases.items():
        seeds["query-" + name] = query.encode()
    testdata = os.path.join(REPO, "cdn-router", "testdata")
    for name in ("demo_master.m3u8", "demo_ts_master.m3u8", "demo_manifest.mpd"):
        with open(os.path.join(testdata, name), "rb") as f:
            seeds["manifest-" + name] = f.read()


# --- server-side ad insertion --------------------------------------------------------------

SSAI_TESTDATA = os.path.join(REPO, "ssai", "testdata")

# Every linear event the edge fires, and one it leaves to players.
EVENTS = ("creativeView", "start", "firstQuartile", "midpoint", "thirdQuartile", "complete",
          "pause")


def vast_doc(version, ads, errors=(), root="VAST", prefix=""):
    """A VAST document: `ads` are the <Ad> elements' XML; `prefix` a namespace prefix."""
    ns = ' xmlns:%s="http://www.iab.com/VAST"' % prefix.rstrip(":") if prefix else ""
    body = "".join("  <%sError><![CDATA[%s]]></%sError>\n" % (prefix, e, prefix)
                   for e in errors) + "".join(ads)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<%s%s version="%s"%s>\n%s</%s%s>\n'
            % (prefix, root, version, ns, body, prefix, root)).encode()


def tracking(ad, events=EVENTS):
    return "".join(
        '<Tracking event="%s"><![CDATA[https://ads.example/t?e=%s&ad=%s&s=[session.id]]]>'
        '</Tracking>\n' % (e, e, ad) for e in events)


def media_files(ad):
    return (
        '<MediaFile delivery="progressive" type="video/mp4" width="640" height="360" '
        'bitrate="800" codec="avc1.64001e"><![CDATA[https://cdn.example/ads/%s_360p.mp4]]>'
        '</MediaFile>\n'
        '<MediaFile delivery="progressive" type="video/mp4" width="1280" height="720" '
        'minBitrate="2000" maxBitrate="3000"><![CDATA[https://cdn.example/ads/%s_720p.mp4]]>'
        '</MediaFile>\n'
        '<MediaFile delivery="streaming" type="application/x-mpegURL" width="1280" '
        'height="720"><![CDATA[https://cdn.example/ads/%s.m3u8]]></MediaFile>\n' % (ad, ad, ad))


def inline_ad(ad, sequence=None, duration="00:00:15.000", events=EVENTS, extra_events="",
              skip=' skipoffset="00:00:05"'):
    seq = ' sequence="%d"' % sequence if sequence is not None else ""
    return (
        '<Ad id="%s"%s><InLine><AdSystem version="4.3">edgepack-fuzz</AdSystem>'
        '<AdTitle>%s</AdTitle>\n'
        '<Impression id="i"><![CDATA[https://ads.example/imp?ad=%s&s=[session.id]]]></Impression>\n'
        '<Error><![CDATA[https://ads.example/err?ad=%s&code=[ERRORCODE]]]></Error>\n'
        '<Creatives><Creative id="c-%s" adId="a-%s" sequence="1">'
        '<UniversalAdId idRegistry="ad-id.org">EDGE%s</UniversalAdId>\n'
        '<Linear%s><Duration>%s</Duration>\n<TrackingEvents>\n%s%s</TrackingEvents>\n'
        '<VideoClicks><ClickThrough><![CDATA[https://advertiser.example/%s]]></ClickThrough>'
        '</VideoClicks>\n<MediaFiles>\n%s</MediaFiles></Linear></Creative></Creatives>'
        '</InLine></Ad>\n' % (ad, seq, ad, ad, ad, ad, ad, ad, skip, duration,
                             tracking(ad, events), extra_events, ad, media_files(ad)))


def wrapper_ad(ad, next_uri, attrs=' followAdditionalWrappers="true"', sequence=None):
    seq = ' sequence="%d"' % sequence if sequence is not None else ""
    return (
        '<Ad id="%s"%s><Wrapper%s><AdSystem>wrapper</AdSystem>\n'
        '<VASTAdTagURI><![CDATA[%s]]></VASTAdTagURI>\n'
        '<Impression><![CDATA[https://ads.example/imp?w=%s]]></Impression>\n'
        '<Error><![CDATA[https://ads.example/err?w=%s&code=[ERRORCODE]]]></Error>\n'
        '<Creatives><Creative><Linear><TrackingEvents>\n%s</TrackingEvents></Linear></Creative>'
        '</Creatives></Wrapper></Ad>\n'
        % (ad, seq, attrs, next_uri, ad, ad, tracking("w" + ad, ("start", "complete"))))


def vast(seeds):
    for path in sorted(glob.glob(os.path.join(SSAI_TESTDATA, "vast*.xml"))):
        with open(path, "rb") as f:
            seeds[os.path.basename(path)] = f.read()
    # The test ad server's documents (valid VAST 4.2), as it answers them.
    for name in ("pod_two_ads.xml", "wrapper_outer.xml", "wrapper_inner.xml"):
        with open(os.path.join(REPO, "testdata", "vast", name), "rb") as f:
            text = f.read().replace(b"{base}", b"http://ads.test").replace(b"{session}", b"s-1")
        seeds["test-ad-server-" + name] = text
    progress = ('<Tracking event="progress" offset="00:00:02.500"><![CDATA[https://ads.example/p1]]>'
                '</Tracking>\n<Tracking event="progress" offset="25%"><![CDATA['
                'https://ads.example/p2]]></Tracking>\n')
    seeds["vast43-pod.xml"] = vast_doc("4.3", [
        inline_ad("p1", 1, extra_events=progress),
        inline_ad("p2", 2, duration="00:00:06", skip=""),
        inline_ad("buffet", duration="00:00:30"),
    ])
    seeds["vast2-inline.xml"] = vast_doc("2.0", [
        inline_ad("v2", duration="00:00:30", events=("start", "complete"), skip="")])
    seeds["vast4-wrapper.xml"] = vast_doc("4.0", [wrapper_ad(
        "w1", "https://ads.example/vast?level=2&s=[session.id]&c=[CACHEBUSTING]",
        ' followAdditionalWrappers="0" allowMultipleAds="1" fallbackOnNoAd="true"')])
    # More wrappers than a chain follows, and a pod of wrappers.
    seeds["vast3-six-wrappers.xml"] = vast_doc("3.0", [
        wrapper_ad("w%d" % i, "https://ads.example/vast?level=%d" % (i + 1)) for i in range(6)])
    seeds["vast42-wrapper-pod.xml"] = vast_doc("4.2", [
        wrapper_ad("wp1", "https://ads.example/a", sequence=1),
        inline_ad("p2", 2),
        wrapper_ad("wp3", "https://ads.example/b", ' followAdditionalWrappers="false"', 3),
    ])
    seeds["vast3-empty-error.xml"] = vast_doc(
        "3.0", [], errors=["https://ads.example/error?empty=1&code=[ERRORCODE]&s=[session.id]"])
    seeds["vast4-prefixed.xml"] = vast_doc("4.1", [inline_ad("ns").replace("<", "<v:").replace(
        "<v:/", "</v:").replace("<v:![CDATA[", "<![CDATA[")], prefix="v:")
    seeds["vast4-macros.xml"] = vast_doc("4.1", [], errors=[
        "https://ads.example/e?c=[ERRORCODE]&s=[session.id]&x=[UNKNOWN]&y=[[ERRORCODE]]&z=["
        "&t=[TIMESTAMP][session.id][ERRORCODE]" + "[" * 20 + "]"])
    seeds["vast4-idvalue-entities.xml"] = vast_doc("4.0", [
        '<Ad id="e&amp;1"><InLine><AdSystem>a &lt;b&gt;</AdSystem><Impression>'
        'https://ads.example/imp?a=1&amp;b=2</Impression><Creatives><Creative adID="x">'
        '<UniversalAdId idRegistry="unknown" idValue="V1"/><Linear><Duration>01:02:03.4'
        '</Duration><MediaFiles><MediaFile type="VIDEO/QUICKTIME" width=" 640 " height="360">'
        'https://cdn.example/a.mov</MediaFile><MediaFile type="video/mp4" width="640">'
        'https://cdn.example/no-height.mp4</MediaFile></MediaFiles></Linear></Creative>'
        '</Creatives></InLine></Ad>\n'])
    # Refused: each names an element and a line.
    broken = {
        "unclosed": vast_doc("4.0", [inline_ad("u")])[:-20],
        "version5": vast_doc("5.0", [inline_ad("v5")]),
        "no-version": b'<VAST><Ad><InLine/></Ad></VAST>',
        "ad-without-body": vast_doc("4.0", ['<Ad id="x"><Other/></Ad>\n']),
        "bad-duration": vast_doc("3.0", [inline_ad("d", duration="00:61:00")]),
        "no-duration": vast_doc("3.0", [inline_ad("d").replace(
            "<Duration>00:00:15.000</Duration>", "")]),
        "progress-without-offset": vast_doc("4.0", [inline_ad("p", extra_events=(
            '<Tracking event="progress"><![CDATA[https://ads.example/p]]></Tracking>'))]),
        "bad-skipoffset": vast_doc("4.0", [inline_ad("s", skip=' skipoffset="101%"')]),
        "bad-sequence": vast_doc("4.0", [inline_ad("q").replace(
            '<Ad id="q"', '<Ad id="q" sequence="first"')]),
        "wrapper-without-uri": vast_doc("3.0", [
            '<Ad id="w"><Wrapper><VASTAdTagURI>  </VASTAdTagURI></Wrapper></Ad>']),
        "entity": b'<!DOCTYPE VAST [<!ENTITY x "lol">]><VAST version="4.0"><Error>&x;</Error>'
                  b'</VAST>',
        "mismatched-end": b'<VAST version="4.0"><Ad></VAST></Ad>',
        "vmap-root": b'<vmap:VMAP xmlns:vmap="v" version="1.0"/>',
    }
    for name, doc in broken.items():
        seeds["broken-%s.xml" % name] = doc


def vmap_doc(breaks):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<vmap:VMAP '
            'xmlns:vmap="http://www.iab.net/videosuite/vmap" version="1.0">\n%s</vmap:VMAP>\n'
            % "".join(breaks)).encode()


def vmap_break(offset, source, break_type="linear", tracking=True):
    events = ('<vmap:TrackingEvents><vmap:Tracking event="breakStart"><![CDATA['
              'https://ads.example/bs]]></vmap:Tracking><vmap:Tracking event="error"><![CDATA['
              'https://ads.example/be?c=[ERRORCODE]]]></vmap:Tracking></vmap:TrackingEvents>\n'
              if tracking else "")
    return ('<vmap:AdBreak timeOffset="%s" breakType="%s" breakId="b-%s">\n'
            '<vmap:AdSource id="s" allowMultipleAds="true">%s</vmap:AdSource>\n%s'
            '</vmap:AdBreak>\n' % (offset, break_type, offset, source, events))


def tag_uri(uri):
    return '<vmap:AdTagURI templateType="vast3"><![CDATA[%s]]></vmap:AdTagURI>' % uri


def vmap(seeds):
    for path in sorted(glob.glob(os.path.join(SSAI_TESTDATA, "vmap*.xml"))):
        with open(path, "rb") as f:
            seeds[os.path.basename(path)] = f.read()
    embedded = vast_doc("4.2", [inline_ad("e1", 1), inline_ad("e2", 2, skip="")])
    embedded = embedded[embedded.index(b"<VAST"):].decode()
    offsets = ["start", "00:00:15", "00:10:00.000", "01:02:03.5", "0%", "12.5%", "100%",
               "#1", "#12", "end"]
    seeds["vmap-every-offset.xml"] = vmap_doc([
        vmap_break(o, tag_uri("https://ads.example/vast?o=%d&s=[session.id]" % i))
        for i, o in enumerate(offsets)])
    seeds["vmap-vast-data.xml"] = vmap_doc([
        vmap_break("start", "<vmap:VASTAdData>%s</vmap:VASTAdData>" % embedded),
        vmap_break("50%", '<vmap:CustomAdData templateType="x">?</vmap:CustomAdData>',
                   "nonlinear, Display", tracking=False),
        vmap_break("end", "", "linear"),
    ])
    broken = {
        "offset": vmap_doc([vmap_break("soon", tag_uri("https://ads.example/v"))]),
        "percent": vmap_doc([vmap_break("101%", tag_uri("https://ads.example/v"))]),
        "position0": vmap_doc([vmap_break("#0", tag_uri("https://ads.example/v"))]),
        "no-offset": b'<VMAP version="1.0"><AdBreak/></VMAP>',
        "version2": b'<VMAP version="2.0"><AdBreak timeOffset="start"/></VMAP>',
        "no-vast": vmap_doc([vmap_break("start", "<vmap:VASTAdData></vmap:VASTAdData>")]),
        "empty-uri": vmap_doc([vmap_break("start", tag_uri(" "))]),
        "bad-vast": vmap_doc([vmap_break("start", '<vmap:VASTAdData><VAST version="4.0">'
                                         '<Ad/></VAST></vmap:VASTAdData>')]),
        "unclosed": vmap_doc([vmap_break("end", tag_uri("https://ads.example/v"))])[:-14],
        "vast-root": vast_doc("4.0", []),
    }
    for name, doc in broken.items():
        seeds["broken-%s.xml" % name] = doc


# --- writing -------------------------------------------------------------------------------

STRIPE_SECRET = b"whsec_fuzz_0123456789abcdef"  # fuzz/fuzz_targets/stripe_webhook.rs
STRIPE_NOW = 1700000000


def stripe_event(kind, status, period_end=STRIPE_NOW + 86400, **extra):
    sub = {"id": "sub_1", "object": "subscription", "customer": "cus_1", "status": status,
           "current_period_end": period_end, "start_date": STRIPE_NOW - 86400,
           "metadata": {"account": "acct-1"},
           "items": {"object": "list", "data": [{"id": "si_1", "price": {"id": "price_1"}}]}}
    sub.update(extra)
    return {"id": "evt_%s_%s" % (kind.split(".")[-1], status), "object": "event",
            "type": kind, "created": STRIPE_NOW, "data": {"object": sub}}


def stripe_webhook(seeds):
    """Header NUL body: signed with the target's secret at its fixed time, so deliveries
    reach the event reader verified; some signed badly or not at all."""
    events = {
        "active": stripe_event("customer.subscription.created", "active"),
        "trialing": stripe_event("customer.subscription.updated", "trialing"),
        "past-due": stripe_event("customer.subscription.updated", "past_due"),
        "canceled": stripe_event("customer.subscription.deleted", "canceled",
                                 period_end=STRIPE_NOW - 10),
        "unpaid": stripe_event("customer.subscription.updated", "unpaid"),
        "expanded-customer": stripe_event("customer.subscription.updated", "active",
                                          customer={"id": "cus_2", "object": "customer"}),
        "item-period": stripe_event("customer.subscription.updated", "active",
                                    current_period_end=None),
        "metadata-product": stripe_event("customer.subscription.created", "active",
                                         metadata={"account": "a", "product": "premium"}),
        "invoice": {"id": "evt_inv", "type": "invoice.paid", "created": STRIPE_NOW,
                    "data": {"object": {"object": "invoice", "id": "in_1"}}},
    }
    for name, event in events.items():
        body = json.dumps(event, separators=(",", ":")).encode()
        mac = hmac.new(STRIPE_SECRET, b"%d." % STRIPE_NOW + body, hashlib.sha256).hexdigest()
        seeds["signed-%s" % name] = b"t=%d,v1=%s,v0=00\0" % (STRIPE_NOW, mac.encode()) + body
    body = json.dumps(events["active"]).encode()
    seeds["wrong-mac"] = b"t=%d,v1=%s\0" % (STRIPE_NOW, b"00" * 32) + body
    seeds["old"] = b"t=1,v1=00\0" + body
    seeds["no-header"] = b"\0" + body
    seeds["broken-body"] = b"t=1700000000,v1=00\0{\"id\": \"evt\", \"type\":"


def control_request(seeds):
    """Kind byte (0 asset, 1 product, 2 grant, 3 playback request) then the JSON body."""
    bodies = {
        "asset": (0, {"title": "Demo", "source": "demo/",
                      "encryption": {"scheme": "cbcs", "drm_systems": ["widevine", "fairplay"]},
                      "ads": {"ad_server": "https://ads.example/vast?s=[session.id]",
                              "cue_points": ["start", "00:00:10.000", "50%", "#2", "end"],
                              "break_seconds": 30, "mode": "guided"},
                      "availability": {"starts_at": 0, "ends_at": 4102444800},
                      "territories": ["FR", "DE"], "products": ["basic", "premium"]}),
        "asset-minimal": (0, {"title": "x"}),
        "asset-bad-cue": (0, {"title": "x", "ads": {"ad_server": "https://a/", "cue_points": ["soon"]}}),
        "asset-unknown-field": (0, {"title": "x", "colour": "red"}),
        "product": (1, {"name": "Basic", "max_streams": 2}),
        "product-zero": (1, {"name": "Basic", "max_streams": 0}),
        "grant": (2, {"account": "acct-1", "product": "basic", "starts_at": 1, "ends_at": 2,
                      "source": "billing:stripe"}),
        "session": (3, {"account": "acct-1", "device": "tv", "asset": "demo", "country": "FR"}),
    }
    for name, (kind, body) in bodies.items():
        seeds[name] = bytes([kind]) + json.dumps(body).encode()
    seeds["not-json"] = b"\x00{\"title\": "
    seeds["array"] = b"\x03[]"


TARGETS = {
    "mp4_moov": mp4_moov,
    "mp4_top_level": mp4_top_level,
    "nal_subsamples": nal_subsamples,
    "webvtt": webvtt,
    "route": route,
    "asset_definition": asset_definition,
    "clearkey_request": clearkey_request,
    "cpix_response": cpix_response,
    "access_token": access_token,
    "access_request": access_request,
    "steering_query": steering_query,
    "vast": vast,
    "vmap": vmap,
    "stripe_webhook": stripe_webhook,
    "control_request": control_request,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="only compare with the committed seeds; exit 1 when they differ")
    args = parser.parse_args()
    differ = []
    total = 0
    for target, make in TARGETS.items():
        seeds = {}
        make(seeds)
        directory = os.path.join(CORPUS, target)
        os.makedirs(directory, exist_ok=True)
        present = set(os.listdir(directory))
        for name in sorted(present - set(seeds)):
            if name.startswith("regression-"):
                continue
            differ.append(os.path.join(target, name))
            if not args.check:
                os.remove(os.path.join(directory, name))
        for name, data in sorted(seeds.items()):
            path = os.path.join(directory, name)
            total += len(data)
            if name in present:
                with open(path, "rb") as f:
                    if f.read() == data:
                        continue
            differ.append(os.path.join(target, name))
            if not args.check:
                with open(path, "wb") as f:
                    f.write(data)
        print("%-17s %3d seeds, %7d bytes" % (target, len(seeds), sum(map(len, seeds.values()))))
    print("total %d bytes" % total)
    if args.check and differ:
        print("differs from the committed corpus: %s" % ", ".join(differ), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
