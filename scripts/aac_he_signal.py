#!/usr/bin/env python3
"""Turn an AAC-LC MP4 into one that *signals* HE-AAC (v1, SBR) explicitly.

Why: no HE-AAC encoder is available from Debian 12 main, PyPI or npm without
a network download (ffmpeg's native 'aac' encoder has no SBR; libfdk-aac and
faac are non-free and not in Debian main; gstreamer's voaacenc is LC only).
So the test file is made by encoding AAC-LC at half the output rate (the
"core" rate, e.g. 24 kHz) and rewriting the AudioSpecificConfig into the
explicit hierarchical HE-AAC signalling of ISO/IEC 14496-3 1.6.2.1:

    audioObjectType            5  (SBR)
    samplingFrequencyIndex     core rate       (24000 -> 6)
    channelConfiguration       unchanged
    extensionSamplingFreqIndex 2 x core rate   (48000 -> 3)
    audioObjectType            2  (AAC LC)
    GASpecificConfig           unchanged

Because ffmpeg's decoder (and so ffprobe) only reports profile "HE-AAC"
once it meets SBR data in the bitstream, every access unit also gets a small
SBR extension payload: a fill element (ID_FIL, extension_type EXT_SBR_DATA)
is inserted just before the ID_END of each raw_data_block.  The payload is a
valid sbr_extension_data() for the channel pair element: an SBR header
(start_freq 8, stop_freq 14, xover_band 7, linear frequency scale, one noise
band) and one FIXFIX envelope with fixed-width (non-Huffman) start values
only, describing a quiet top band (22.5-24 kHz).  It is synthetic, not the
output of a real SBR encoder: the audio is the LC core upsampled to 48 kHz.
Stereo input only (a mono stream with explicit AOT 5 would be reported as
HE-AACv2 by ffmpeg's implicit-PS guess).

Also rewritten so the file is self-consistent at the output rate:
  * mp4a sample entry samplerate   core -> 2 x core
  * mdhd timescale and duration    x 2
  * stts sample deltas             x 2   (1024 -> 2048)
  * elst media_time                x 2   (media timescale units)
  * stsz sample sizes and the mdat (samples grow by the SBR fill element)
Box sizes (esds up to moov) and chunk offsets are fixed.
The input must have a single mdat holding every chunk (as ffmpeg writes).

usage: aac_he_signal.py IN_LC.mp4 OUT_HE.mp4
"""

import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mp4lib  # noqa: E402

FREQS = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050,
         16000, 12000, 11025, 8000, 7350]


# -- MPEG-4 descriptors (esds) ---------------------------------------------

def read_desc(buf, pos):
    tag = buf[pos]
    pos += 1
    length = 0
    for _ in range(4):
        b = buf[pos]
        pos += 1
        length = (length << 7) | (b & 0x7F)
        if not b & 0x80:
            break
    return tag, buf[pos:pos + length], pos + length


def write_desc(tag, body):
    n = len(body)
    # 4-byte length form, as ffmpeg writes it
    return bytes([tag, 0x80 | (n >> 21) & 0x7F, 0x80 | (n >> 14) & 0x7F,
                  0x80 | (n >> 7) & 0x7F, n & 0x7F]) + body


def rewrite_esds(payload, new_asc_fn):
    """payload = esds payload (version/flags + ES_Descriptor)."""
    vf = payload[:4]
    tag, es, _ = read_desc(payload, 4)
    assert tag == 0x03, "no ES_Descriptor"
    flags = es[2]
    hdr_len = 3 + (2 if flags & 0x80 else 0) + (1 + es[3] if flags & 0x40 else 0) \
        + (2 if flags & 0x20 else 0)
    es_hdr, rest = es[:hdr_len], es[hdr_len:]
    out_children = b""
    pos = 0
    found = False
    while pos < len(rest):
        t, body, pos = read_desc(rest, pos)
        if t == 0x04:  # DecoderConfigDescriptor
            fixed, sub = body[:13], body[13:]
            assert fixed[0] == 0x40, "objectTypeIndication is not MPEG-4 audio"
            new_sub = b""
            p2 = 0
            while p2 < len(sub):
                t2, b2, p2 = read_desc(sub, p2)
                if t2 == 0x05:  # DecoderSpecificInfo = AudioSpecificConfig
                    b2 = new_asc_fn(b2)
                    found = True
                new_sub += write_desc(t2, b2)
            body = fixed + new_sub
        out_children += write_desc(t, body)
    assert found, "no DecoderSpecificInfo in esds"
    return vf + write_desc(0x03, es_hdr + out_children)


# -- AudioSpecificConfig -----------------------------------------------------

def asc_lc_to_he(asc):
    bits = "".join("{:08b}".format(b) for b in asc)
    aot = int(bits[0:5], 2)
    sfi = int(bits[5:9], 2)
    if aot != 2:
        raise SystemExit("input is not AAC-LC (audioObjectType %d)" % aot)
    if sfi == 0xF:
        raise SystemExit("explicit sampling frequency not supported")
    chan = int(bits[9:13], 2)
    ga = bits[13:16]  # frameLengthFlag, dependsOnCoreCoder, extensionFlag
    if chan == 0 or ga != "000":
        raise SystemExit("unsupported AAC-LC config (PCE or GA flags)")
    core = FREQS[sfi]
    ext_sfi = FREQS.index(core * 2)
    out = "{:05b}{:04b}{:04b}{:04b}{:05b}".format(5, sfi, chan, ext_sfi, 2) + ga
    out += "0" * (-len(out) % 8)
    new = bytes(int(out[i:i + 8], 2) for i in range(0, len(out), 8))
    return new, core, core * 2


# -- SBR fill element ---------------------------------------------------------

ID_CPE, ID_FIL, ID_END = "001", "110", "111"


def sbr_fill_element_bits():
    """ID_FIL element carrying sbr_extension_data() for one CPE (bit string)."""
    b = "1101"                            # extension_type = EXT_SBR_DATA
    b += "1"                              # bs_header_flag
    # sbr_header(): bs_amp_res 1, bs_start_freq 8, bs_stop_freq 14,
    # bs_xover_band 7, bs_reserved, bs_header_extra_1 1, bs_header_extra_2 0
    b += "1" + "1000" + "1110" + "111" + "00" + "1" + "0"
    b += "00" + "1" + "00"                # freq_scale 0 (linear), alter_scale 1, noise_bands 0
    # With fs 48000: k0 = 16, k2 = 32, 8 master bands; xover 7 leaves one
    # high-res band (QMF 30..32), so one low-res band and one noise band:
    # every value below is fixed-width, no Huffman code is needed.
    # sbr_channel_pair_element():
    b += "0" + "1"                        # bs_data_extra 0, bs_coupling 1
    b += "00" + "00" + "0"                # sbr_grid: FIXFIX, 1 envelope, freq_res low
    b += "00" + "00"                      # sbr_dtdf ch0, ch1: frequency direction
    b += "00"                             # sbr_invf: 1 noise band, mode off
    b += "{:07b}".format(0)               # ch0 envelope start value (quiet)
    b += "{:05b}".format(30)              # ch0 noise floor start (lowest noise)
    b += "{:06b}".format(12)              # ch1 envelope balance (x2 = 24 = centre)
    b += "{:05b}".format(6)               # ch1 noise balance (x2 = 12 = centre)
    b += "0" + "0"                        # bs_add_harmonic_flag ch0, ch1
    b += "0"                              # bs_extended_data
    cnt = (len(b) + 7) // 8
    b += "0" * (cnt * 8 - len(b))         # bs_fill_bits
    assert cnt < 15
    return ID_FIL + "{:04b}".format(cnt) + b


SBR_FIL = sbr_fill_element_bits()


def add_sbr(frame):
    """Insert SBR_FIL before the ID_END of an AAC raw_data_block.

    The block ends with ID_END (111) followed by zero bits up to the byte
    boundary, so ID_END is the three bits ending at the last set bit."""
    bits = "".join("{:08b}".format(x) for x in frame)
    if bits[:3] != ID_CPE:
        raise SystemExit("first syntactic element is not a CPE (stereo input needed)")
    end = bits.rfind("1") - 2
    if end < 3 or bits[end:end + 3] != ID_END:
        raise SystemExit("cannot find ID_END in access unit")
    out = bits[:end] + SBR_FIL + ID_END
    out += "0" * (-len(out) % 8)
    return bytes(int(out[i:i + 8], 2) for i in range(0, len(out), 8))


# -- sample tables -------------------------------------------------------------

def track_chunks(trak):
    """[(chunk_offset, [sample sizes])] of a track."""
    stbl = mp4lib.sample_table(trak)
    p = stbl.find(b"stsz").payload
    fixed, count = struct.unpack_from(">II", p, 4)
    sizes = [fixed] * count if fixed else list(struct.unpack_from(">%dI" % count, p, 12))
    p = stbl.find(b"stsc").payload
    n = struct.unpack_from(">I", p, 4)[0]
    stsc = [struct.unpack_from(">III", p, 8 + 12 * i) for i in range(n)]
    co = stbl.find(b"stco") or stbl.find(b"co64")
    offs = mp4lib.chunk_offsets(co)
    chunks, pos = [], 0
    for ci, off in enumerate(offs):
        spc = [e[1] for e in stsc if e[0] <= ci + 1][-1]
        chunks.append((off, sizes[pos:pos + spc]))
        pos += spc
    assert pos == count, "stsc does not cover every sample"
    return chunks


def set_sample_sizes(trak, sizes):
    stsz = mp4lib.sample_table(trak).find(b"stsz")
    stsz.payload = stsz.payload[:4] + struct.pack(">II", 0, len(sizes)) + \
        struct.pack(">%dI" % len(sizes), *sizes)


def rebuild_mdat(data, top, moov, transform):
    """Rewrite the single mdat, passing the samples of every track for which
    transform(trak) returns a function through it; fix stsz and chunk offsets."""
    mdats = [b for b in top if b.type == b"mdat"]
    if len(mdats) != 1:
        raise SystemExit("need exactly one mdat")
    mdat = mdats[0]
    traks = moov.find_all(b"trak")
    all_chunks = []
    for ti, trak in enumerate(traks):
        for ci, (off, sizes) in enumerate(track_chunks(trak)):
            all_chunks.append((off, ti, ci, sizes))
    all_chunks.sort()
    payload = bytearray()
    new_offs = [dict() for _ in traks]
    new_sizes = [dict() for _ in traks]
    funcs = [transform(t) for t in traks]
    for off, ti, ci, sizes in all_chunks:
        new_offs[ti][ci] = len(payload)
        out_sizes = []
        pos = off
        for sz in sizes:
            sample = data[pos:pos + sz]
            pos += sz
            if funcs[ti]:
                sample = funcs[ti](sample)
            payload += sample
            out_sizes.append(len(sample))
        new_sizes[ti][ci] = out_sizes
    for ti, trak in enumerate(traks):
        n = len(new_sizes[ti])
        set_sample_sizes(trak, [s for ci in range(n) for s in new_sizes[ti][ci]])
    mdat.payload = bytes(payload)
    # mdat payload start in the new layout (chunk offsets are fixed width,
    # so writing them does not move anything)
    start = 0
    for b in top:
        if b is mdat:
            start += 8 if 8 + len(mdat.payload) <= 0xFFFFFFFF else 16
            break
        start += len(b.serialize())
    for ti, trak in enumerate(traks):
        stbl = mp4lib.sample_table(trak)
        co = stbl.find(b"stco") or stbl.find(b"co64")
        offs = [start + new_offs[ti][ci] for ci in range(len(new_offs[ti]))]
        if co.type == b"stco" and offs and max(offs) > 0xFFFFFFFF:
            raise SystemExit("offsets overflow stco")
        mp4lib.set_chunk_offsets(co, offs)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    data, top = mp4lib.read_file(src)
    moov = next(b for b in top if b.type == b"moov")
    audio_traks = []

    for trak in moov.find_all(b"trak"):
        if mp4lib.handler_type(trak) != b"soun":
            continue
        stbl = mp4lib.sample_table(trak)
        mp4a = stbl.find(b"stsd").find(b"mp4a")
        if mp4a is None:
            continue
        esds = mp4a.find(b"esds")
        info = {}

        def conv(asc):
            new, core, out = asc_lc_to_he(asc)
            info["core"], info["out"] = core, out
            print("ASC %s -> %s (core %d Hz, output %d Hz)" % (asc.hex(), new.hex(), core, out))
            return new

        esds.payload = rewrite_esds(esds.payload, conv)
        factor = info["out"] // info["core"]

        # mp4a samplerate (16.16) at prefix offset 24
        pre = bytearray(mp4a.prefix)
        struct.pack_into(">I", pre, 24, info["out"] << 16)
        mp4a.prefix = bytes(pre)

        mdia = trak.find(b"mdia")
        mdhd = mdia.find(b"mdhd")
        p = bytearray(mdhd.payload)
        if p[0] == 0:
            ts, dur = struct.unpack_from(">II", p, 12)
            struct.pack_into(">II", p, 12, ts * factor, dur * factor)
        else:
            ts, dur = struct.unpack_from(">IQ", p, 20)
            struct.pack_into(">IQ", p, 20, ts * factor, dur * factor)
        mdhd.payload = bytes(p)

        stts = stbl.find(b"stts")
        p = bytearray(stts.payload)
        n = struct.unpack_from(">I", p, 4)[0]
        for i in range(n):
            cnt, delta = struct.unpack_from(">II", p, 8 + 8 * i)
            struct.pack_into(">II", p, 8 + 8 * i, cnt, delta * factor)
        stts.payload = bytes(p)

        edts = trak.find(b"edts")
        elst = edts.find(b"elst") if edts else None
        if elst:
            p = bytearray(elst.payload)
            v = p[0]
            n = struct.unpack_from(">I", p, 4)[0]
            pos = 8
            for _ in range(n):
                if v == 0:
                    seg, mt = struct.unpack_from(">Ii", p, pos)
                    if mt >= 0:
                        struct.pack_into(">i", p, pos + 4, mt * factor)
                    pos += 12
                else:
                    seg, mt = struct.unpack_from(">Qq", p, pos)
                    if mt >= 0:
                        struct.pack_into(">q", p, pos + 8, mt * factor)
                    pos += 20
            elst.payload = bytes(p)
        audio_traks.append(trak)

    if not audio_traks:
        sys.exit("no mp4a track in %s" % src)
    rebuild_mdat(data, top, moov, lambda t: add_sbr if t in audio_traks else None)
    mp4lib.write_file(dst, top)


if __name__ == "__main__":
    main()
