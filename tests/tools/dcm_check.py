#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tests/tools/dcm_check.py - DICOM checks for the end-to-end tests (pydicom).

  parse FILE...            exit 0 if pydicom reads each file as DICOM Part 10
                           (force=False), converts every element at every
                           depth and gets the pixel data bytes (encapsulated:
                           every fragment item well formed); else 1
  pixmd5 FILE              print the md5 of the raw Pixel Data value as stored
                           (7FE0,0010, or Float/Double Float Pixel Data;
                           encapsulated: item tags and fragments included);
                           exit 3 if the file has no pixel data
  pixcmp IN OUT [IN OUT]...  exit 0 if each OUT's pixel data equals IN's:
                           byte-identical, or equal after two normalizations
                           that do not touch pixels: one 0x00 pad byte added
                           to an odd-length value, and big- to little-endian
                           byte order by Bits Allocated. 1 if any differ
                           (printed), 3 if an IN has no pixel data
  refcheck OUTDIR [--inputs DIR] [--min N] [--retain-uids]
                           every Referenced SOP Instance UID (0008,1155), at
                           any depth, of every output must name a SOP Instance
                           UID of the output set. With --inputs, references
                           that pointed outside the input set may stay
                           dangling, but there may not be more of those than
                           in the inputs, and no reference may keep any
                           original UID of the inputs (unless --retain-uids).
                           --min N: at least N references must resolve
  deidcheck [--input-icuid UID] [--ltim VALUE] FILE...
                           PatientIdentityRemoved is YES; DeidentificationMethod
                           or DeidentificationMethodCodeSequence is present
                           (the code sequence, if any, holds DCM 113100);
                           LongitudinalTemporalInformationModified is VALUE
                           (if given); file meta: MediaStorageSOPInstanceUID
                           == SOPInstanceUID, MediaStorageSOPClassUID ==
                           SOPClassUID, no Source/Sending/Receiving AE title,
                           no private information, ImplementationClassUID
                           present and not UID
  sopuid FILE...           print SOPInstanceUID<TAB>FILE for each input
  charset [--min N] FILE...  the raw bytes of every text value, at every
                           depth (a sequence item's own Specific Character
                           Set counts), decode strictly under the declared
                           character set: no byte >= 0x80 where only 7-bit
                           sets are declared (none, ISO 2022 IR 6/87/159),
                           valid UTF-8 under ISO_IR 192, valid escapes and
                           two-byte codes under ISO 2022. Prints each bad
                           value (file, tag path; never the value). 1 if any
                           is bad, or fewer than N values were read (default 1)
  layout OUTDIR            every file is OUTDIR/<StudyInstanceUID>/
                           <SeriesInstanceUID>/<SOPInstanceUID>.dcm of its own
                           data set; prints the number of files
"""
import hashlib
import io
import os
import sys
import warnings

import pydicom
from pydicom.encaps import generate_pixel_data_fragment
from pydicom.filebase import DicomBytesIO
from pydicom.tag import Tag

warnings.filterwarnings("ignore")

PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)
NATIVE_TS_BE = "1.2.840.10008.1.2.2"


def die(msg, code=2):
    sys.stderr.write("dcm_check: %s\n" % msg)
    sys.exit(code)


def walk(ds, fn, path=""):
    """Call fn(element, path) for every element at every depth."""
    for el in ds:
        p = "%s(%04X,%04X)" % (path, el.tag.group, el.tag.element)
        fn(el, p)
        if el.VR == "SQ":
            for i, it in enumerate(el.value or []):
                walk(it, fn, "%s[%d]>" % (p, i))


def all_files(d):
    out = []
    for root, _, fs in os.walk(d):
        for f in fs:
            out.append(os.path.join(root, f))
    return sorted(out)


def pixel_element(ds):
    for t in PIXEL_TAGS:
        if t in ds:
            return ds[t]
    return None


def is_encapsulated(ds):
    el = pixel_element(ds)
    return el is not None and bool(el.is_undefined_length)


# ---------------------------------------------------------------- parse
def cmd_parse(args):
    if not args:
        die("usage: parse FILE...")
    bad = 0
    for f in args:
        try:
            ds = pydicom.dcmread(f, force=False)
            n = [0]

            def touch(el, p):
                n[0] += 1
                _ = el.value
                if el.VR == "SQ":
                    for it in el.value or []:
                        if not isinstance(it, pydicom.Dataset):
                            raise ValueError("bad item in %s" % p)
            walk(ds.file_meta, touch)
            walk(ds, touch)
            if "TransferSyntaxUID" not in ds.file_meta:
                raise ValueError("no Transfer Syntax UID in file meta")
            el = pixel_element(ds)
            if el is not None:
                v = el.value
                if v is None:
                    v = b""
                if not isinstance(v, (bytes, bytearray)):
                    raise ValueError("pixel data is not bytes")
                if el.is_undefined_length and el.tag == 0x7FE00010:
                    fp = DicomBytesIO(v)
                    fp.is_little_endian = True
                    frags = 0
                    # first item is the basic offset table, then fragments
                    for _ in generate_pixel_data_fragment(fp):
                        frags += 1
                    if frags < 1:
                        raise ValueError("encapsulated pixel data has no item")
                    if fp.tell() != len(v):
                        raise ValueError("trailing bytes after the pixel data items")
            print("ok %s (%d elements)" % (f, n[0]))
        except KeyError as e:
            bad += 1
            print("FAIL parse %s: KeyError %s: a DICOMDIR record offset (0004,1200/1202/"
                  "1400/1420) does not point at a directory record" % (f, e))
        except Exception as e:
            bad += 1
            print("FAIL parse %s: %s: %s" % (f, type(e).__name__, e))
    return 1 if bad else 0


# ---------------------------------------------------------------- pixels
def read_any(f):
    return pydicom.dcmread(f, force=True)


def raw_pixels(ds):
    el = pixel_element(ds)
    if el is None:
        return None, None
    v = el.value
    if v is None:
        v = b""
    return el, bytes(v)


def cmd_pixmd5(args):
    if len(args) != 1:
        die("usage: pixmd5 FILE")
    ds = read_any(args[0])
    el, v = raw_pixels(ds)
    if el is None:
        print("none")
        return 3
    print(hashlib.md5(v).hexdigest())
    return 0


def ts_of(ds):
    fm = getattr(ds, "file_meta", None)
    ts = fm.get("TransferSyntaxUID") if fm is not None else None
    return str(ts) if ts else ("(implicit/none: %s endian)" % ("little" if ds.is_little_endian else "big"))


def to_le(ds, v):
    """Native pixel data in little-endian byte order."""
    if ds.is_little_endian or is_encapsulated(ds):
        return v
    ba = int(ds.get("BitsAllocated", 16) or 16)
    w = ba // 8 if ba in (16, 32, 64) else 1
    if w == 1:
        return v
    out = bytearray(len(v))
    for i in range(0, len(v) - len(v) % w, w):
        out[i:i + w] = v[i:i + w][::-1]
    out[len(v) - len(v) % w:] = v[len(v) - len(v) % w:]
    return bytes(out)


def cmd_pixcmp(args):
    if not args or len(args) % 2:
        die("usage: pixcmp IN OUT [IN OUT]...")
    rc = 0
    for i in range(0, len(args), 2):
        fin, fout = args[i], args[i + 1]
        din = read_any(fin)
        ein, vin = raw_pixels(din)
        if ein is None:
            print("nopix %s" % fin)
            rc = max(rc, 3) if rc != 1 else 1
            continue
        try:
            dout = read_any(fout)
            eout, vout = raw_pixels(dout)
        except Exception as e:
            print("FAIL pixels %s -> %s: output unreadable: %s" % (fin, fout, e))
            rc = 1
            continue
        if eout is None:
            print("FAIL pixels %s -> %s: output has no pixel data (input has %s, %d bytes)"
                  % (fin, fout, ein.tag, len(vin)))
            rc = 1
            continue
        how = None
        if vin == vout:
            how = "identical"
        elif len(vin) % 2 == 1 and vout == vin + b"\x00":
            how = "identical after pad byte"
        else:
            lin, lout = to_le(din, vin), to_le(dout, vout)
            if lin == lout or (len(lin) % 2 == 1 and lout == lin + b"\x00"):
                how = "identical after byte order"
        if how:
            print("ok %s (%s)" % (fin, how))
            continue
        rc = 1
        print("FAIL pixels %s -> %s: md5 %s (%d bytes, %s) != %s (%d bytes, %s)"
              % (fin, fout, hashlib.md5(vin).hexdigest(), len(vin), ts_of(din),
                 hashlib.md5(vout).hexdigest(), len(vout), ts_of(dout)))
    return rc


# ---------------------------------------------------------------- references
def refs_and_uids(f):
    ds = read_any(f)
    refs, uids = [], set()

    def fn(el, p):
        if el.VR == "UI" and el.value:
            vals = el.value if isinstance(el.value, (list, pydicom.multival.MultiValue)) else [el.value]
            for u in vals:
                uids.add(str(u).strip("\0 "))
            if el.tag == 0x00081155:
                for u in vals:
                    refs.append((p, str(u).strip("\0 ")))
    walk(ds, fn)
    sop = str(ds.get("SOPInstanceUID", "") or "").strip("\0 ")
    return sop, refs, uids


def cmd_refcheck(args):
    inputs, minimum, retain, outdir = None, 0, False, None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--inputs":
            inputs = args[i + 1]; i += 2
        elif a == "--min":
            minimum = int(args[i + 1]); i += 2
        elif a == "--retain-uids":
            retain = True; i += 1
        elif outdir is None:
            outdir = a; i += 1
        else:
            die("usage: refcheck OUTDIR [--inputs DIR] [--min N] [--retain-uids]")
    if outdir is None:
        die("usage: refcheck OUTDIR [--inputs DIR] [--min N] [--retain-uids]")
    outs = {}
    for f in all_files(outdir):
        try:
            outs[f] = refs_and_uids(f)
        except Exception as e:
            print("FAIL refcheck: cannot read output %s: %s" % (f, e))
            return 1
    sops = {v[0] for v in outs.values() if v[0]}
    bad = 0
    resolved = external = 0
    in_sops, in_uids, in_external = set(), set(), 0
    if inputs:
        ins = []
        for f in all_files(inputs):
            try:
                ins.append(refs_and_uids(f))
            except Exception:
                continue
        in_sops = {x[0] for x in ins if x[0]}
        for x in ins:
            in_uids |= x[2]
        in_external = sum(1 for x in ins for _, r in x[1] if r not in in_sops)
    for f, (sop, refs, _) in sorted(outs.items()):
        for p, r in refs:
            if r in sops:
                resolved += 1
            elif inputs and r in in_uids and not retain:
                bad += 1
                print("FAIL ref %s %s keeps an original UID%s" % (
                    os.path.relpath(f, outdir), p,
                    " (a SOP Instance of the input set)" if r in in_sops else ""))
            elif inputs:
                external += 1
            else:
                bad += 1
                print("FAIL ref %s %s names no SOP Instance of the output set" % (
                    os.path.relpath(f, outdir), p))
    if inputs and external > in_external:
        bad += 1
        print("FAIL refcheck: %d reference(s) lead outside the output set, but only %d "
              "led outside the input set (references mapped differently from the "
              "instances they name)" % (external, in_external))
    if resolved < minimum:
        bad += 1
        print("FAIL refcheck: only %d reference(s) resolve inside the output set, "
              "wanted at least %d" % (resolved, minimum))
    print("refcheck: %d output file(s), %d reference(s) resolved, %d external%s"
          % (len(outs), resolved, external,
             (" (inputs: %d external)" % in_external) if inputs else ""))
    return 1 if bad else 0


# ---------------------------------------------------------------- deid attributes
def cmd_deidcheck(args):
    icuid, ltim, files = None, None, []
    i = 0
    while i < len(args):
        if args[i] == "--input-icuid":
            icuid = args[i + 1]; i += 2
        elif args[i] == "--ltim":
            ltim = args[i + 1]; i += 2
        else:
            files.append(args[i]); i += 1
    if not files:
        die("usage: deidcheck [--input-icuid UID] [--ltim VALUE] FILE...")
    bad = 0
    for f in files:
        probs = []
        try:
            ds = pydicom.dcmread(f, force=False)
        except Exception as e:
            print("FAIL deid %s: unreadable: %s" % (f, e))
            bad += 1
            continue
        fm = ds.file_meta
        if str(ds.get("PatientIdentityRemoved", "")).strip() != "YES":
            probs.append("PatientIdentityRemoved is %r, not YES" % ds.get("PatientIdentityRemoved"))
        meth = ds.get("DeidentificationMethod")
        codes = ds.get("DeidentificationMethodCodeSequence")
        if not meth and not codes:
            probs.append("neither DeidentificationMethod nor DeidentificationMethodCodeSequence")
        if codes is not None and len(codes):
            if not any(str(c.get("CodeValue", "")) == "113100" and
                       str(c.get("CodingSchemeDesignator", "")) == "DCM" for c in codes):
                probs.append("DeidentificationMethodCodeSequence lacks (113100, DCM)")
        if ltim is not None and str(ds.get("LongitudinalTemporalInformationModified", "")) != ltim:
            probs.append("LongitudinalTemporalInformationModified is %r, not %s"
                         % (ds.get("LongitudinalTemporalInformationModified"), ltim))
        if str(fm.get("MediaStorageSOPInstanceUID", "")) != str(ds.get("SOPInstanceUID", "")):
            probs.append("MediaStorageSOPInstanceUID %s != SOPInstanceUID %s"
                         % (fm.get("MediaStorageSOPInstanceUID"), ds.get("SOPInstanceUID")))
        if str(fm.get("MediaStorageSOPClassUID", "")) != str(ds.get("SOPClassUID", "")):
            probs.append("MediaStorageSOPClassUID != SOPClassUID")
        for t, name in ((0x00020016, "SourceApplicationEntityTitle"),
                        (0x00020017, "SendingApplicationEntityTitle"),
                        (0x00020018, "ReceivingApplicationEntityTitle"),
                        (0x00020100, "PrivateInformationCreatorUID"),
                        (0x00020102, "PrivateInformation")):
            if t in fm:
                probs.append("file meta keeps %s" % name)
        ic = str(fm.get("ImplementationClassUID", "") or "")
        if not ic:
            probs.append("no ImplementationClassUID")
        elif icuid and ic == icuid:
            probs.append("ImplementationClassUID is the input's (%s)" % ic)
        if probs:
            bad += 1
            for p in probs:
                print("FAIL deid %s: %s" % (f, p))
        else:
            print("ok %s" % f)
    return 1 if bad else 0


# ---------------------------------------------------------------- layout
def cmd_layout(args):
    if len(args) != 1:
        die("usage: layout OUTDIR")
    outdir = args[0]
    bad = n = 0
    for f in all_files(outdir):
        n += 1
        rel = os.path.relpath(f, outdir)
        parts = rel.split(os.sep)
        try:
            ds = pydicom.dcmread(f, force=False, stop_before_pixels=True)
        except Exception as e:
            print("FAIL layout %s: unreadable: %s" % (rel, e))
            bad += 1
            continue
        want = [str(ds.get("StudyInstanceUID", "")), str(ds.get("SeriesInstanceUID", "")),
                str(ds.get("SOPInstanceUID", "")) + ".dcm"]
        if parts != want:
            print("FAIL layout %s: expected %s" % (rel, "/".join(want)))
            bad += 1
    print("layout: %d file(s)" % n)
    return 1 if bad else 0


# ---------------------------------------------------------------- sopuid
def cmd_sopuid(args):
    """print "SOPInstanceUID<TAB>FILE" (Media Storage SOP Instance UID if the
    data set has none; empty if neither) for each FILE"""
    for f in args:
        try:
            ds = pydicom.dcmread(f, force=True, stop_before_pixels=True)
            u = str(ds.get("SOPInstanceUID", "") or "")
            fm = getattr(ds, "file_meta", None)
            if not u and fm is not None:
                u = str(fm.get("MediaStorageSOPInstanceUID", "") or "")
        except Exception:
            u = ""
        print("%s\t%s" % (u.strip("\0 "), f))
    return 0


TEXT_VRS = ("SH", "LO", "ST", "LT", "UT", "UC", "PN", "AE", "CS", "DA", "DS",
            "DT", "IS", "TM", "AS", "UR")
SEVEN_BIT = {"", "ISO 2022 IR 6", "ISO 2022 IR 87", "ISO 2022 IR 159"}


def charset_terms(ds, inherited):
    if 0x00080005 not in ds:
        return inherited
    v = ds.get_item(0x00080005).value
    if isinstance(v, bytes):
        v = v.decode("ascii", "replace").split("\\")
    elif v is None or isinstance(v, str):
        v = (v or "").split("\\")
    terms = [str(t).strip() for t in v]
    return terms or [""]


def charset_walk(ds, terms, where, out):
    from pydicom import config
    from pydicom.charset import convert_encodings, decode_bytes
    terms = charset_terms(ds, terms)
    for tag in list(ds.keys()):
        raw = ds.get_item(tag)
        if raw is None:
            continue
        if raw.VR == "SQ":
            for i, item in enumerate(ds[tag].value):
                charset_walk(item, terms, "%s%s[%d]>" % (where, Tag(tag), i), out)
            continue
        if raw.VR not in TEXT_VRS or not isinstance(raw.value, bytes):
            continue
        b = raw.value
        out["n"] += 1
        name = "%s%s %s" % (where, Tag(tag), raw.VR)
        if all(t in SEVEN_BIT for t in terms) and any(c >= 0x80 for c in b):
            out["bad"].append(name + ": 8-bit byte under a 7-bit character set")
            continue
        if raw.VR not in ("SH", "LO", "ST", "LT", "UT", "UC", "PN"):
            if any(c >= 0x80 for c in b):
                out["bad"].append(name + ": 8-bit byte in a default-repertoire VR")
            continue
        if all(0x20 <= c < 0x7F or c in (0x09, 0x0A, 0x0C, 0x0D) for c in b):
            continue  # ASCII text reads the same under every declared set
        old = config.settings.reading_validation_mode
        config.settings.reading_validation_mode = config.RAISE
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                decode_bytes(b, convert_encodings(terms),
                             {0x5C, 0x5E, 0x3D} if raw.VR == "PN" else {0x5C})
        except Exception as e:  # noqa: BLE001 - any failure is a finding
            out["bad"].append("%s: does not decode under %s (%s)"
                              % (name, "\\".join(terms), type(e).__name__))
        finally:
            config.settings.reading_validation_mode = old


def cmd_charset(args):
    want = 1
    if args[:1] == ["--min"]:
        want, args = int(args[1]), args[2:]
    out = {"n": 0, "bad": []}
    for f in args:
        try:
            ds = pydicom.dcmread(f, stop_before_pixels=True)
        except Exception as e:  # noqa: BLE001
            out["bad"].append("%s: unreadable (%s)" % (f, type(e).__name__))
            continue
        before = len(out["bad"])
        charset_walk(ds, [""], "", out)
        for i in range(before, len(out["bad"])):
            out["bad"][i] = "%s: %s" % (os.path.basename(f), out["bad"][i])
    for m in out["bad"]:
        print(m)
    print("%d text values read raw, %d bad" % (out["n"], len(out["bad"])))
    return 1 if out["bad"] or out["n"] < want else 0


def main():
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    cmd, args = sys.argv[1], sys.argv[2:]
    fn = {"parse": cmd_parse, "pixmd5": cmd_pixmd5, "pixcmp": cmd_pixcmp,
          "refcheck": cmd_refcheck, "deidcheck": cmd_deidcheck,
          "layout": cmd_layout, "sopuid": cmd_sopuid,
          "charset": cmd_charset}.get(cmd)
    if fn is None:
        die("unknown command '%s'" % cmd)
    return fn(args)


if __name__ == "__main__":
    sys.exit(main())
