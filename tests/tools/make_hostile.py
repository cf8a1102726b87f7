#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tests/tools/make_hostile.py - write hostile DICOM inputs for the t06xx tests.

Usage: make_hostile.py KIND OUTDIR [N]

Each file is built from raw bytes (struct), so nothing here depends on a
DICOM library accepting it. Every file has a File Meta header and a small
valid data set (SOP Class/Instance, Study/Series UIDs, PatientName
PHIHOSTILE) before the hostile part, so a reader gets past the start.

KIND:
  lengths   OUTDIR/len-*.dcm: a value length past the end of the file; an
            0xFFFFFFFF length on a text element, on an item inside a
            defined-length sequence, on a non-sequence UN element with no
            delimiter, on Pixel Data with no fragments; a 2 GiB length
  deep      OUTDIR/deep.dcm: sequences nested N deep (default 10000)
  many      OUTDIR/many-private.dcm and many-public.dcm: N elements
            (default 1000000) of zero length, implicit VR
  pixels    OUTDIR/pix-*.dcm: Rows x Columns x frames far larger than the
            Pixel Data (native and encapsulated), and one whose claim
            alone is 2^64 bytes
  charset   OUTDIR/cs-*.dcm: broken ISO 2022 escapes and invalid UTF-8
            in person names and free text (these must de-identify)
  structure OUTDIR/meta-in-body.dcm: File Meta elements inside the data
            set; zeros.dcm: 4 KiB of zeros (elements of group 0000 only);
            dir-class-image.dcm: an image whose SOP Class UID says DICOMDIR;
            binary-lengths.dcm: an FD of 5 bytes, an AT of 2;
            stray-item-end.dcm: (FFFE,E00D) outside any item
  good      OUTDIR/good.dcm: a small valid CT-like object
  nest      OUTDIR/nest-CONSTRUCTION-N.dcm: sequences nested N deep (default
            6000) in each construction a reader may take for a sequence,
            each with its own SOP Instance UID:
              sq-undef   explicit VR SQ, undefined lengths (sequences, items)
              sq-defined explicit VR SQ, explicit lengths
              deflated   undefined-length SQ inside a deflated data set
              un-defined a standard sequence (0040,A730) written with VR UN
                         and explicit lengths (its content implicit VR, as
                         UN requires); DCMTK reads it as SQ
              private    implicit VR: a private sequence that the private
                         dictionary knows as SQ (0029,"CARDIO-D.R. 1.0",00),
                         its creator repeated in every item
              mixed      levels alternate: explicit SQ undefined, UN defined,
                         implicit private, inside a deflated data set
            N may be a comma-separated list of depths
  longtext  OUTDIR/longtext-kana.dcm: ImageComments of 1,200,000 katakana with
            no separator; OUTDIR/longtext-notes.dcm: 10,000 sentences
            naming people after cue words (1.2 MB); OUTDIR/longtext-run.dcm:
            a run of 60,000 letters and digits; OUTDIR/longtext-ids.dcm:
            100,000 OtherPatientIDs, one of them in ImageComments;
            OUTDIR/longtext-names.dcm: 40,000 OtherPatientNames, likewise
  goods     OUTDIR/g-NNNN.dcm: N (default 200) small valid objects, each
            with its own Study, Series and SOP Instance UIDs
"""
import os
import random
import struct
import sys
import zlib

TS_EXPLICIT = b"1.2.840.10008.1.2.1"
TS_IMPLICIT = b"1.2.840.10008.1.2"
CT = b"1.2.840.10008.5.1.4.1.1.2"
UNDEF = 0xFFFFFFFF


def pad(v, c=b" "):
    return v + c if len(v) % 2 else v


def ex(group, elem, vr, value, length=None):
    """An explicit VR little endian element."""
    if vr in (b"OB", b"OW", b"SQ", b"UN", b"UT", b"UC", b"UR", b"OF", b"OD", b"OL"):
        n = len(value) if length is None else length
        return struct.pack("<HH2sHI", group, elem, vr, 0, n) + value
    n = len(value) if length is None else length
    return struct.pack("<HH2sH", group, elem, vr, n) + value


def im(group, elem, value, length=None):
    """An implicit VR little endian element."""
    n = len(value) if length is None else length
    return struct.pack("<HHI", group, elem, n) + value


def item(body, length=None):
    return struct.pack("<HHI", 0xFFFE, 0xE000, len(body) if length is None else length) + body


ITEM_END = struct.pack("<HHI", 0xFFFE, 0xE00D, 0)
SEQ_END = struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)


def meta(ts, sop=b"2.25.1000"):
    body = (ex(0x0002, 0x0001, b"OB", b"\x00\x01")
            + ex(0x0002, 0x0002, b"UI", pad(CT, b"\0"))
            + ex(0x0002, 0x0003, b"UI", pad(sop, b"\0"))
            + ex(0x0002, 0x0010, b"UI", pad(ts, b"\0"))
            + ex(0x0002, 0x0012, b"UI", pad(b"1.2.3.4", b"\0")))
    return b"\0" * 128 + b"DICM" + ex(0x0002, 0x0000, b"UL", struct.pack("<I", len(body))) + body


def head_explicit(sop=b"2.25.1000"):
    """The start of a data set, up to (0010,0010); elements after it must
    have larger tags."""
    return (ex(0x0008, 0x0016, b"UI", pad(CT, b"\0"))
            + ex(0x0008, 0x0018, b"UI", pad(sop, b"\0"))
            + ex(0x0008, 0x0060, b"CS", b"CT")
            + ex(0x0010, 0x0010, b"PN", pad(b"PHIHOSTILE^NAME"))
            + ex(0x0010, 0x0020, b"LO", pad(b"PHIHOSTILEID")))


def uids_explicit(sop=b"2.25.1000"):
    return (ex(0x0020, 0x000D, b"UI", pad(sop + b".1", b"\0"))
            + ex(0x0020, 0x000E, b"UI", pad(sop + b".2", b"\0")))


def head_implicit(sop=b"2.25.1000"):
    return (im(0x0008, 0x0016, pad(CT, b"\0"))
            + im(0x0008, 0x0018, pad(sop, b"\0"))
            + im(0x0008, 0x0060, b"CT")
            + im(0x0010, 0x0010, pad(b"PHIHOSTILE^NAME"))
            + im(0x0010, 0x0020, pad(b"PHIHOSTILEID")))


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def image_tail(rows, cols, frames, bits, pixel):
    """Image Pixel module (group 0028) and Pixel Data, explicit VR LE."""
    t = ex(0x0028, 0x0002, b"US", struct.pack("<H", 1))
    t += ex(0x0028, 0x0004, b"CS", b"MONOCHROME2 ")
    if frames is not None:
        t += ex(0x0028, 0x0008, b"IS", pad(str(frames).encode()))
    t += ex(0x0028, 0x0010, b"US", struct.pack("<H", rows))
    t += ex(0x0028, 0x0011, b"US", struct.pack("<H", cols))
    t += ex(0x0028, 0x0100, b"US", struct.pack("<H", bits))
    t += ex(0x0028, 0x0101, b"US", struct.pack("<H", bits))
    t += ex(0x0028, 0x0102, b"US", struct.pack("<H", bits - 1))
    t += ex(0x0028, 0x0103, b"US", struct.pack("<H", 0))
    return t + pixel


def good(out):
    sop = b"2.25.4242"
    pixel = ex(0x7FE0, 0x0010, b"OW", b"\x01\x00" * 64)
    write(os.path.join(out, "good.dcm"), meta(TS_EXPLICIT, sop) + head_explicit(sop)
          + uids_explicit(sop) + image_tail(8, 8, None, 16, pixel))


def goods(out, n):
    for i in range(n):
        sop = b"2.25.7%d" % (100000 + i)
        pixel = ex(0x7FE0, 0x0010, b"OW", struct.pack("<H", i & 0xFFFF) * 64)
        write(os.path.join(out, "g-%04d.dcm" % i), meta(TS_EXPLICIT, sop) + head_explicit(sop)
              + uids_explicit(sop) + image_tail(8, 8, None, 16, pixel))


def lengths(out):
    base = meta(TS_EXPLICIT) + head_explicit() + uids_explicit()
    # a text value whose length runs past the end of the file
    write(os.path.join(out, "len-past-eof.dcm"),
          base + ex(0x0020, 0x4000, b"LT", b"PHIHOSTILETEXT", length=0x1000))
    # Pixel Data whose 4-byte length claims 2 GiB
    write(os.path.join(out, "len-2gib.dcm"),
          base + image_tail(8, 8, None, 16, ex(0x7FE0, 0x0010, b"OW", b"\0" * 16, length=0x7FFFFFF0)))
    # 0xFFFFFFFF on a 4-byte-length text element (UT cannot be undefined)
    write(os.path.join(out, "len-undef-ut.dcm"),
          base + ex(0x0020, 0x4000, b"UT", b"PHIHOSTILETEXT  " * 4, length=UNDEF))
    # 0xFFFFFFFF on an item inside a sequence of defined length
    inner = item(ex(0x0008, 0x1150, b"UI", pad(CT, b"\0")), length=UNDEF)
    write(os.path.join(out, "len-undef-item.dcm"),
          base + ex(0x0040, 0x0275, b"SQ", inner, length=len(inner))
          + ex(0x0040, 0x0280, b"ST", pad(b"PHIHOSTILE")))
    # 0xFFFFFFFF on an OB element that is not Pixel Data, with no delimiter
    write(os.path.join(out, "len-undef-ob.dcm"),
          base + ex(0x0029, 0x0010, b"LO", pad(b"ACME")) + ex(0x0029, 0x1010, b"OB", b"\x01\x02" * 40, length=UNDEF))
    # encapsulated Pixel Data with no items and no delimiter
    write(os.path.join(out, "len-undef-pixels.dcm"),
          base + image_tail(8, 8, None, 8, ex(0x7FE0, 0x0010, b"OB", b"\x00\x11" * 8, length=UNDEF)))
    # the File Meta group length runs past the end
    m = bytearray(meta(TS_EXPLICIT))
    struct.pack_into("<I", m, 132 + 8, 0x7FFFFFFF)
    write(os.path.join(out, "len-meta.dcm"), bytes(m) + head_explicit())


def deep(out, n):
    sop = b"2.25.1001"
    # implicit VR, undefined lengths: 16 bytes to open a level, 16 to close
    open_ = struct.pack("<HHI", 0x0040, 0xA730, UNDEF) + struct.pack("<HHI", 0xFFFE, 0xE000, UNDEF)
    close = ITEM_END + SEQ_END
    body = head_implicit(sop) + im(0x0020, 0x000D, pad(sop + b".1", b"\0")) \
        + im(0x0020, 0x000E, pad(sop + b".2", b"\0"))
    body += open_ * n + im(0x0040, 0xA160, pad(b"PHIHOSTILEDEEP")) + close * n
    write(os.path.join(out, "deep.dcm"), meta(TS_IMPLICIT, sop) + body)


def many(out, n):
    for kind in ("private", "public"):
        sop = b"2.25.1002" if kind == "private" else b"2.25.1003"
        parts = [meta(TS_IMPLICIT, sop), head_implicit(sop),
                 im(0x0020, 0x000D, pad(sop + b".1", b"\0")), im(0x0020, 0x000E, pad(sop + b".2", b"\0"))]
        g0 = 0x0021 if kind == "private" else 0x4000
        left = n
        g = g0
        while left > 0:
            k = min(left, 0xF000)
            # elements 0x1000.. of one group, zero length: 8 bytes each
            parts.append(b"".join(struct.pack("<HHI", g, 0x1000 + i, 0) for i in range(k)))
            left -= k
            g += 2
        write(os.path.join(out, "many-%s.dcm" % kind), b"".join(parts))


def pixels(out):
    def one(name, rows, cols, frames, bits, pixel, ts=TS_EXPLICIT):
        sop = b"2.25.1004." + str(len(name)).encode()
        write(os.path.join(out, name), meta(ts, sop) + head_explicit(sop) + uids_explicit(sop)
              + image_tail(rows, cols, frames, bits, pixel))
    small = ex(0x7FE0, 0x0010, b"OW", b"\0" * 128)
    # 65535 x 65535 x 1,000,000 frames x 2 bytes: 8.6 PB claimed, 128 held
    one("pix-native-huge.dcm", 65535, 65535, 1000000, 16, small)
    # a claim near the machine's size: 4 GiB claimed, 128 held
    one("pix-native-4g.dcm", 32768, 32768, 4, 8, small)
    # encapsulated: empty offset table and one 16-byte fragment
    frag = item(b"") + item(b"\xff\xd8\xff\xd9" * 4) + SEQ_END
    one("pix-encaps-huge.dcm", 65535, 65535, 1000000, 16,
        ex(0x7FE0, 0x0010, b"OB", frag, length=UNDEF), ts=b"1.2.840.10008.1.2.4.50")
    # the claim overflows 64 bits: frames near 2^31, bits 64
    one("pix-overflow.dcm", 65535, 65535, 2147483647, 64, small)
    # 128 bytes of pixels and no frame size to lay them out by: Rows 0,
    # then Columns 0
    one("pix-rows-zero.dcm", 0, 8, 1, 16, small)
    one("pix-columns-zero.dcm", 8, 0, 1, 16, small)
    # nothing to search: an empty Pixel Data (a vendor NM in the corpus has
    # one), and 2 bytes with no Rows (as pydicom's test files)
    one("pix-empty.dcm", 8, 8, 1, 16, ex(0x7FE0, 0x0010, b"OW", b""))
    one("pix-tiny-unsized.dcm", 0, 0, 1, 16, ex(0x7FE0, 0x0010, b"OW", b"\0\0"))
    # a frame NumberOfFrames hides: 16 x 16 8-bit, one frame said, two
    # held (native: the bytes after the first; RLE: a second fragment)
    hidden = b"\x10" * 256 + b"\xab" * 256
    one("pix-hidden-native.dcm", 16, 16, 1, 8, ex(0x7FE0, 0x0010, b"OB", hidden))
    rle = struct.pack("<16I", 1, 64, *([0] * 14)) + (b"\x7f" + b"\x10" * 128) * 2
    frags = item(b"") + item(rle) + item(rle.replace(b"\x10", b"\xab")) + SEQ_END
    one("pix-hidden-rle.dcm", 16, 16, 1, 8, ex(0x7FE0, 0x0010, b"OB", frags, length=UNDEF),
        ts=b"1.2.840.10008.1.2.5")
    # pixels DCMTK cannot decode: deflated image frames (1.2.840.10008.1.2.8.1,
    # newer than DCMTK 3.6.7) of a 16 x 16 8-bit frame; and a Float Pixel
    # Data beside a Pixel Data of zeros
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    frame = z.compress(b"\x10" * 128 + b"\xab" * 128) + z.flush()
    frame += b"\0" * (len(frame) % 2)
    one("pix-deflated-frames.dcm", 16, 16, 1, 8,
        ex(0x7FE0, 0x0010, b"OB", item(b"") + item(frame) + SEQ_END, length=UNDEF),
        ts=b"1.2.840.10008.1.2.8.1")
    one("pix-float-beside.dcm", 16, 16, 1, 8,
        ex(0x7FE0, 0x0008, b"OF", struct.pack("<256f", *([16.0] * 128 + [171.0] * 128)))
        + ex(0x7FE0, 0x0010, b"OB", b"\0" * 256))


def structure(out):
    sop = b"2.25.1006"
    # File Meta elements inside the data set: a transfer syntax that
    # contradicts the file's and a Source AE title that names a place
    write(os.path.join(out, "meta-in-body.dcm"), meta(TS_EXPLICIT, sop)
          + ex(0x0002, 0x0010, b"UI", pad(b"1.2.840.10008.1.2", b"\0"))
          + ex(0x0002, 0x0016, b"AE", pad(b"PHIHOSTILEAE"))
          + head_explicit(sop) + uids_explicit(sop))
    # zeros, as a truncated copy or a sparse file holds: read as elements
    # of group 0000, no data element at all
    write(os.path.join(out, "zeros.dcm"), b"\0" * 4096)
    # binary values no reader can split: an FD of 5 bytes, an AT of 2
    write(os.path.join(out, "binary-lengths.dcm"), meta(TS_EXPLICIT, sop + b".8")
          + head_explicit(sop + b".8") + ex(0x0018, 0x1050, b"FD", b"\x01\x02\x03\x04\x05")
          + uids_explicit(sop + b".8") + ex(0x0020, 0x9165, b"AT", b"\x28\x00"))
    # an Item Delimitation Item outside any item, after the name: DCMTK
    # ends the data set there
    write(os.path.join(out, "stray-item-end.dcm"), meta(TS_EXPLICIT, sop + b".7")
          + head_explicit(sop + b".7") + struct.pack("<HHI", 0xFFFE, 0xE00D, 0)
          + uids_explicit(sop + b".7"))
    # an image whose SOP Class UID says DICOMDIR
    d = b"1.2.840.10008.1.3.10"
    write(os.path.join(out, "dir-class-image.dcm"), meta(TS_EXPLICIT, sop + b".9")
          + ex(0x0008, 0x0016, b"UI", pad(d, b"\0")) + ex(0x0008, 0x0018, b"UI", pad(sop + b".9", b"\0"))
          + ex(0x0008, 0x0060, b"CS", b"OT") + ex(0x0010, 0x0010, b"PN", pad(b"PHIHOSTILE^NAME"))
          + uids_explicit(sop + b".9")
          + image_tail(8, 8, None, 16, ex(0x7FE0, 0x0010, b"OW", b"\x10\x00" * 64)))


def charset(out):
    cases = {
        # ESC at the very end, an unknown escape, JIS bytes with no escape
        "cs-iso2022-broken.dcm": (b"\\ISO 2022 IR 87", [
            b"Yamada^\x1b$B;3ED\x1b(B=\x1b$B;3",        # 2-byte set never closed, odd byte
            b"PHI\x1b$Zjunk\x1b",                         # unknown escape, ESC at end
            b"\x1b(J\xff\xfe\x1b$(D\x7f\x7f",            # bytes outside the set
        ]),
        "cs-iso2022-ir13.dcm": (b"ISO 2022 IR 13\\ISO 2022 IR 87", [
            b"\xd4\xcf\xc0\xde^\x1b$B\x1b$B\x1b$B",
            b"\x1b$)C\xc8\xab\x1b",                       # a Korean designation under a JP set
            b"\x0e\x0f\x1b(I\xa1\xa2",
        ]),
        "cs-utf8-invalid.dcm": (b"ISO_IR 192", [
            b"\xc3\x28PHI^\xa0\xa1",                      # bad continuation, lone continuations
            b"\xed\xa0\x80\xf4\x90\x80\x80\xc0\xaf",     # surrogate, > U+10FFFF, overlong
            b"\xe5\xb1\xb1\xe7\x94",                      # truncated at the end
        ]),
        "cs-unknown-term.dcm": (b"ISO_IR 999\\\x1b\xff", [b"\x1b$B;3", b"\xff\xfe\xfd", b"ok"]),
    }
    for i, (name, (cs, vals)) in enumerate(sorted(cases.items())):
        sop = b"2.25.1005." + str(i).encode()
        body = (ex(0x0008, 0x0005, b"CS", pad(cs))
                + ex(0x0008, 0x0016, b"UI", pad(CT, b"\0"))
                + ex(0x0008, 0x0018, b"UI", pad(sop, b"\0"))
                + ex(0x0008, 0x0060, b"CS", b"CT")
                + ex(0x0008, 0x1030, b"LO", pad(vals[1]))   # StudyDescription: cleaned
                + ex(0x0010, 0x0010, b"PN", pad(vals[0]))
                + ex(0x0010, 0x0020, b"LO", pad(b"PHIHOSTILEID"))
                + uids_explicit(sop)
                + ex(0x0020, 0x4000, b"LT", pad(vals[2]))   # ImageComments
                )
        write(os.path.join(out, name), meta(TS_EXPLICIT, sop) + body)


TS_DEFLATED = b"1.2.840.10008.1.2.1.99"
PRIV_CREATOR = b"CARDIO-D.R. 1.0 "  # even length


def nest_text():
    return im(0x0040, 0xA160, pad(b"PHIHOSTILEDEEP"))


def nest_level(kind, inner, explicit):
    """One level of nesting around inner (the bytes of an item's content)
    in the encoding of the enclosing data set (explicit or implicit VR)."""
    if kind == "sq-undef":
        return (ex(0x0040, 0xA730, b"SQ", item(inner, UNDEF) + ITEM_END, UNDEF) + SEQ_END
                if explicit else im(0x0040, 0xA730, item(inner, UNDEF) + ITEM_END, UNDEF) + SEQ_END)
    if kind == "sq-defined":
        it = item(inner)
        return ex(0x0040, 0xA730, b"SQ", it) if explicit else im(0x0040, 0xA730, it)
    if kind == "un-defined":
        it = item(inner)
        return ex(0x0040, 0xA730, b"UN", it) if explicit else im(0x0040, 0xA730, it)
    if kind == "private":
        it = item(inner)
        if explicit:
            return ex(0x0029, 0x0010, b"LO", PRIV_CREATOR) + ex(0x0029, 0x1000, b"SQ", it)
        return im(0x0029, 0x0010, PRIV_CREATOR) + im(0x0029, 0x1000, it)
    raise ValueError(kind)


def nest_body(kind, n, explicit):
    """n levels of kind (or the mix); below a UN or implicit level the
    content is implicit VR."""
    kinds = [kind if kind != "mixed" else ("sq-undef", "un-defined", "private")[i % 3]
             for i in range(n)]
    encs = []
    e = explicit
    for k in kinds:
        encs.append(e)
        if k in ("un-defined", "private"):
            e = False
    inner = nest_text() if not e else ex(0x0040, 0xA160, b"LT", pad(b"PHIHOSTILEDEEP"))
    for k, ee in zip(reversed(kinds), reversed(encs)):
        inner = nest_level(k, inner, ee)
    return inner


def nest(out, depths):
    kinds = ("sq-undef", "sq-defined", "deflated", "un-defined", "private", "mixed")
    for n in depths:
        for i, kind in enumerate(kinds):
            sop = b"2.25.1006.%d.%d" % (n, i)
            if kind == "private":
                body = head_implicit(sop) + im(0x0020, 0x000D, pad(sop + b".1", b"\0")) \
                    + im(0x0020, 0x000E, pad(sop + b".2", b"\0"))
                # private group 0029 sorts after 0020 and before 0040
                data = meta(TS_IMPLICIT, sop) + body + nest_body("private", n, False)
            else:
                body = head_explicit(sop) + uids_explicit(sop)
                k = "sq-undef" if kind == "deflated" else kind
                if kind == "mixed":
                    # (0029) private first is not possible in the mix: the mix
                    # starts with a standard sequence, its levels below
                    nested = nest_body("mixed", n, True)
                else:
                    nested = nest_body(k, n, True)
                ds = body + nested
                if kind in ("deflated", "mixed"):
                    c = zlib.compressobj(9, zlib.DEFLATED, -15)
                    ds = c.compress(ds) + c.flush()
                    data = meta(TS_DEFLATED, sop) + ds
                else:
                    data = meta(TS_EXPLICIT, sop) + ds
            write(os.path.join(out, "nest-%s-%d.dcm" % (kind, n)), data)


def longtext(out):
    """Free text far longer than any note, to be cleaned: a run of
    1,200,000 katakana with no separator (the patient's name, over and
    over), 10,000 sentences naming people after cue words, a run of
    60,000 letters and digits, 100,000 OtherPatientIDs and 40,000
    OtherPatientNames."""
    def one(name, text, extra=b""):
        sop = b"2.25.1005." + str(len(name)).encode()
        body = (im(0x0008, 0x0005, b"ISO_IR 192")
                + im(0x0008, 0x0016, pad(CT, b"\0"))
                + im(0x0008, 0x0018, pad(sop, b"\0"))
                + im(0x0008, 0x0060, b"CT")
                + im(0x0010, 0x0010, pad("ヤマダ^タロウ".encode()))
                + im(0x0010, 0x0020, pad(b"PHIHOSTILEID"))
                + extra
                + im(0x0020, 0x000D, pad(sop + b".1", b"\0"))
                + im(0x0020, 0x000E, pad(sop + b".2", b"\0"))
                + im(0x0020, 0x4000, pad(text.encode())))
        write(os.path.join(out, name), meta(TS_IMPLICIT, sop) + body)
    one("longtext-kana.dcm", "所見：" + "ヤマダ" * 400000 + "。主治医 佐藤先生。腹部単純CT異常なし。")
    one("longtext-notes.dcm", "患者山田太郎様は東京都文京区本郷七丁目3番1号に住む。主治医佐藤先生。"
        "腹部単純CT異常なし。" * 10000)
    one("longtext-run.dcm", "所見：" + "a0" * 30000 + " 腹部単純CT異常なし。")
    ids = "\\".join("ID%06d" % i for i in range(100000))
    one("longtext-ids.dcm", "ID000777 来院。腹部単純CT異常なし。", im(0x0010, 0x1000, pad(ids.encode())))
    syl = ("ka ki ku ke ko sa shi su se so ta chi tsu te to na ni nu ne no ha hi fu he ho ma mi mu "
           "me mo ya yu yo ra ri ru re ro wa").split()
    rnd = random.Random(5)
    names = ["%s^%s" % tuple("".join(rnd.choice(syl) for _ in range(3)).capitalize() for _ in "fg")
             for i in range(40000)]
    one("longtext-names.dcm", "%s 来院。腹部単純CT異常なし。" % names[777].split("^")[0],
        im(0x0010, 0x1001, pad("\\".join(names).encode())))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    kind, out = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 and "," not in sys.argv[3] else None
    os.makedirs(out, exist_ok=True)
    if kind == "lengths":
        lengths(out)
    elif kind == "deep":
        deep(out, n or 10000)
    elif kind == "many":
        many(out, n or 1000000)
    elif kind == "pixels":
        pixels(out)
    elif kind == "charset":
        charset(out)
    elif kind == "structure":
        structure(out)
    elif kind == "nest":
        depths = [int(x) for x in sys.argv[3].split(",")] if len(sys.argv) > 3 else [6000]
        nest(out, depths)
    elif kind == "longtext":
        longtext(out)
    elif kind == "goods":
        goods(out, n or 200)
    elif kind == "good":
        good(out)
    else:
        sys.exit("unknown kind '%s'" % kind)


if __name__ == "__main__":
    main()
