"""Minimal ISO-BMFF (MP4) box reader/writer used by the test-media scripts.

Only what scripts/stco_to_co64.py, scripts/aac_he_signal.py and
scripts/mp4_box_tree.py need: parse the box tree (descending into the usual
container boxes, stsd and the common sample entries), let a caller replace
payloads or boxes, and serialise it again with every enclosing size fixed.

Standard library only (python3 >= 3.7).
"""

import struct

# Plain container boxes: payload is nothing but child boxes.
CONTAINERS = {
    b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"mvex",
    b"moof", b"traf", b"mfra", b"tref", b"sinf", b"schi", b"udta",
}

# Sample entries: fixed-size fields, then child boxes.
VISUAL_ENTRIES = {b"avc1", b"avc3", b"hvc1", b"hev1", b"encv", b"mp4v", b"av01", b"vp09"}
AUDIO_ENTRIES = {b"mp4a", b"ac-3", b"ec-3", b"enca", b"Opus", b"fLaC"}

# Boxes that start with version(1) + flags(3).
FULL_BOXES = {
    b"mvhd", b"tkhd", b"mdhd", b"hdlr", b"elst", b"stsd", b"stts", b"ctts",
    b"stss", b"stsc", b"stsz", b"stco", b"co64", b"sgpd", b"sbgp", b"esds",
    b"dref", b"vmhd", b"smhd", b"nmhd", b"meta", b"mehd", b"trex", b"mfhd",
    b"tfhd", b"tfdt", b"trun", b"sidx", b"cslg", b"sdtp", b"iods", b"emsg",
}


class Box:
    """A box. Either `payload` (leaf) or `prefix` + `children` (container)."""

    def __init__(self, btype, offset=0, size=0, payload=b"", prefix=b"", children=None):
        self.type = btype          # 4-byte bytes
        self.offset = offset       # absolute offset in the source file
        self.size = size           # size in the source file (header included)
        self.payload = payload     # leaf payload (no header)
        self.prefix = prefix       # container: bytes before the first child
        self.children = children   # None for a leaf

    # -- navigation -----------------------------------------------------
    def find(self, btype):
        for c in self.children or []:
            if c.type == btype:
                return c
        return None

    def find_all(self, btype):
        return [c for c in self.children or [] if c.type == btype]

    def walk(self, depth=0):
        yield self, depth
        for c in self.children or []:
            yield from c.walk(depth + 1)

    # -- writing ----------------------------------------------------------
    def body(self):
        if self.children is None:
            return self.payload
        return self.prefix + b"".join(c.serialize() for c in self.children)

    def serialize(self):
        body = self.body()
        size = 8 + len(body)
        if size <= 0xFFFFFFFF:
            return struct.pack(">I4s", size, self.type) + body
        return struct.pack(">I4sQ", 1, self.type, size + 8) + body

    def __repr__(self):
        return "Box(%s @%d size=%d)" % (self.type.decode("latin-1"), self.offset, self.size)


def _audio_prefix_len(data, start):
    # AudioSampleEntry: 6 reserved + 2 data_reference_index + 8 (version(2),
    # revision(2), vendor(4)) + 2 channels + 2 samplesize + 2 + 2 + 4 samplerate
    # = 28.  QuickTime sound description version 1 adds 16, version 2 adds 36.
    version = struct.unpack_from(">H", data, start + 8)[0]
    return {0: 28, 1: 44, 2: 64}.get(version, 28)


def parse_boxes(data, start, end, parent_type=None):
    boxes = []
    pos = start
    while pos + 8 <= end:
        size, btype = struct.unpack_from(">I4s", data, pos)
        hdr = 8
        if size == 1:
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            hdr = 16
        elif size == 0:
            size = end - pos
        if size < hdr or pos + size > end:
            raise ValueError("bad box %r at %d (size %d)" % (btype, pos, size))
        bstart, bend = pos + hdr, pos + size
        box = Box(btype, offset=pos, size=size)
        if btype in CONTAINERS:
            box.children = parse_boxes(data, bstart, bend, btype)
        elif btype == b"stsd":
            box.prefix = data[bstart:bstart + 8]
            box.children = parse_boxes(data, bstart + 8, bend, btype)
        elif parent_type == b"stsd" and btype in VISUAL_ENTRIES:
            box.prefix = data[bstart:bstart + 78]
            box.children = parse_boxes(data, bstart + 78, bend, btype)
        elif parent_type == b"stsd" and btype in AUDIO_ENTRIES:
            n = _audio_prefix_len(data, bstart)
            box.prefix = data[bstart:bstart + n]
            box.children = parse_boxes(data, bstart + n, bend, btype)
        else:
            box.payload = data[bstart:bend]
        boxes.append(box)
        pos += size
    if pos != end and parent_type is None:
        raise ValueError("trailing %d bytes after last box" % (end - pos))
    return boxes


def read_file(path):
    with open(path, "rb") as f:
        data = f.read()
    return data, parse_boxes(data, 0, len(data))


def write_file(path, boxes):
    with open(path, "wb") as f:
        for b in boxes:
            f.write(b.serialize())


def handler_type(trak):
    hdlr = trak.find(b"mdia").find(b"hdlr")
    return hdlr.payload[8:12]


def sample_table(trak):
    return trak.find(b"mdia").find(b"minf").find(b"stbl")


# -- chunk offsets ---------------------------------------------------------

def chunk_offsets(box):
    """Return the list of chunk offsets of an stco/co64 box."""
    p = box.payload
    n = struct.unpack_from(">I", p, 4)[0]
    fmt = ">%dI" % n if box.type == b"stco" else ">%dQ" % n
    return list(struct.unpack_from(fmt, p, 8))


def set_chunk_offsets(box, offsets, as_type=None):
    t = as_type or box.type
    box.type = t
    fmt = ">%dI" % len(offsets) if t == b"stco" else ">%dQ" % len(offsets)
    box.payload = box.payload[:4] + struct.pack(">I", len(offsets)) + struct.pack(fmt, *offsets)


def relocate_chunk_offsets(old_top, new_top, all_offset_boxes, old_offsets):
    """After the top-level layout changed, move every chunk offset so it still
    points at the same byte of the same top-level box (normally mdat).

    old_top: list of (offset, size) of the original top-level boxes.
    new_top: list of the serialised sizes of the same boxes, in order.
    """
    new_starts = []
    pos = 0
    for s in new_top:
        new_starts.append(pos)
        pos += s
    for box, offs in zip(all_offset_boxes, old_offsets):
        moved = []
        for o in offs:
            for i, (start, size) in enumerate(old_top):
                if start <= o < start + size:
                    moved.append(o - start + new_starts[i])
                    break
            else:
                raise ValueError("chunk offset %d outside every top-level box" % o)
        set_chunk_offsets(box, moved)


def finalize_offsets(top, offset_boxes, old_offsets, max_iter=4):
    """Fix chunk offsets of `offset_boxes` for the layout of `top` (list of
    top-level Box). Offsets are fixed-width, so rewriting them never changes
    a size; the loop only guards that assumption."""
    old_top = [(b.offset, b.size) for b in top]
    for _ in range(max_iter):
        sizes = [len(b.serialize()) for b in top]
        relocate_chunk_offsets(old_top, sizes, offset_boxes, old_offsets)
        if [len(b.serialize()) for b in top] == sizes:
            return
    raise RuntimeError("layout did not converge")
