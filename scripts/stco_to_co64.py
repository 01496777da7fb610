#!/usr/bin/env python3
"""Rewrite every 'stco' (32-bit chunk offsets) box of an MP4 into 'co64'.

ffmpeg only writes co64 when a file is larger than 4 GiB, so this is how the
test suite gets a small file that exercises the 64-bit chunk-offset path.

Every enclosing box size (stbl, minf, mdia, trak, moov) is fixed.  Each
chunk offset is relocated so it keeps pointing at the same byte of the same
top-level box: for a moov-first (+faststart) file the mdat moves forward by
the growth of the moov (4 bytes per chunk per track), for a moov-last file
nothing moves.

usage: stco_to_co64.py IN.mp4 OUT.mp4
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mp4lib  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    _, top = mp4lib.read_file(src)

    offset_boxes = [b for t in top for b, _ in t.walk() if b.type in (b"stco", b"co64")]
    if not offset_boxes:
        sys.exit("no stco/co64 box in %s" % src)
    old_offsets = [mp4lib.chunk_offsets(b) for b in offset_boxes]
    converted = 0
    for b, offs in zip(offset_boxes, old_offsets):
        if b.type == b"stco":
            mp4lib.set_chunk_offsets(b, offs, as_type=b"co64")
            converted += 1
    mp4lib.finalize_offsets(top, offset_boxes, old_offsets)
    mp4lib.write_file(dst, top)
    growth = os.path.getsize(dst) - os.path.getsize(src)
    print("%s: %d stco -> co64, file grew by %d bytes" % (dst, converted, growth))


if __name__ == "__main__":
    main()
