#!/usr/bin/env python3
"""Print the box tree of an MP4 with the fields the test-media checks need.

One line per box: indentation, type, offset, size, and for some boxes a few
decoded fields (full-box version, handler, mdhd timescale/language, ctts
version and first offsets, elst entries, chunk-offset count, ASC bytes).

usage: mp4_box_tree.py FILE.mp4
"""

import os
import signal
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mp4lib  # noqa: E402


def lang(code):
    return "".join(chr(((code >> s) & 0x1F) + 0x60) for s in (10, 5, 0))


def describe(b):
    p = b.payload
    t = b.type
    out = []
    if t in mp4lib.FULL_BOXES and t not in (b"stsd",) and len(p) >= 4:
        out.append("v%d" % p[0])
    if t == b"stsd":
        out.append("v%d entries=%d" % (b.prefix[0], struct.unpack_from(">I", b.prefix, 4)[0]))
    if t == b"hdlr":
        out.append("handler=%s" % p[8:12].decode("latin-1"))
    if t == b"mdhd":
        if p[0] == 0:
            ts, dur = struct.unpack_from(">II", p, 12)
            lg = struct.unpack_from(">H", p, 20)[0]
        else:
            ts, dur = struct.unpack_from(">IQ", p, 20)
            lg = struct.unpack_from(">H", p, 32)[0]
        out.append("timescale=%d duration=%d language=%s" % (ts, dur, lang(lg)))
    if t in (b"stco", b"co64"):
        offs = mp4lib.chunk_offsets(b)
        out.append("chunks=%d first=%s" % (len(offs), offs[:1]))
    if t == b"ctts":
        n = struct.unpack_from(">I", p, 4)[0]
        fmt = ">Ii" if p[0] == 1 else ">II"
        ents = [struct.unpack_from(fmt, p, 8 + 8 * i) for i in range(min(n, 4))]
        out.append("entries=%d first=%s" % (n, ents))
    if t == b"stts":
        n = struct.unpack_from(">I", p, 4)[0]
        ents = [struct.unpack_from(">II", p, 8 + 8 * i) for i in range(min(n, 3))]
        out.append("entries=%d first=%s" % (n, ents))
    if t == b"elst":
        n = struct.unpack_from(">I", p, 4)[0]
        ents = []
        pos = 8
        for _ in range(n):
            if p[0] == 0:
                ents.append(struct.unpack_from(">Ii", p, pos)[:2]); pos += 12
            else:
                ents.append(struct.unpack_from(">Qq", p, pos)[:2]); pos += 20
        out.append("(segment_duration, media_time)=%s" % ents)
    if t in mp4lib.AUDIO_ENTRIES and b.prefix:
        ch, ss = struct.unpack_from(">HH", b.prefix, 16)
        sr = struct.unpack_from(">I", b.prefix, 24)[0] >> 16
        out.append("channels=%d samplerate=%d" % (ch, sr))
    if t in mp4lib.VISUAL_ENTRIES and b.prefix:
        w, h = struct.unpack_from(">HH", b.prefix, 24)
        out.append("%dx%d" % (w, h))
    if t == b"esds":
        i = p.find(b"\x05", 4)
        # DecoderSpecificInfo: tag 5, 4-byte length (ffmpeg style) or 1-byte
        j = p.rfind(b"\x05\x80\x80\x80")
        if j >= 0:
            n = p[j + 4]
            out.append("asc=%s" % p[j + 5:j + 5 + n].hex())
        elif i >= 0:
            out.append("asc=%s" % p[i + 2:i + 2 + p[i + 1]].hex())
    return " ".join(out)


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    _, top = mp4lib.read_file(sys.argv[1])
    for root in top:
        for b, depth in root.walk():
            print("%s%s @%d size=%d %s" % ("  " * depth, b.type.decode("latin-1"),
                                           b.offset, b.size, describe(b)))


if __name__ == "__main__":
    main()
