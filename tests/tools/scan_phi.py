#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tests/tools/scan_phi.py - look for planted PHI in de-identified output.

Usage: scan_phi.py [--allow KIND[,KIND]]... [--option OPT]... [--table TSV]
                   [--allow-empty] PLANTED.tsv OUTDIR

PLANTED.tsv is written by make_planted.py. Every regular file under OUTDIR
is searched for every planted value, in four ways:
  raw      the file's bytes: ASCII values (letters case-insensitive);
           Japanese values as UTF-8, Shift_JIS, EUC-JP, ISO-2022-JP, and as
           the bare 7-bit JIS X 0208 pairs with the escapes stripped;
           half-width katakana also as JIS X 0201 (IR 13) bytes
  decoded  the bytes decoded by our own ISO 2022 decoder (ESC $ B / ESC $ @
           JIS X 0208, ESC ( B/J, ESC ) I and bare 0xA1-0xDF katakana),
           which finds text whose escapes were placed differently
  pydicom  the text of every element (nested included) as pydicom decodes it
           with the file's Specific Character Set
  path     the file's path below OUTDIR (directories included)
Digit-only values (dates, times, IDs, numbers, UIDs) only match where no
digit precedes them (other kinds, UIDs included: nor follows), so they cannot
match inside longer numbers; the digits of kakou's keyed UIDs (2.25.N) are
not searched at all (a planted value turns up in one by chance).

For each value found it prints
    LEAK <value> <where planted> (<planted file>) in <output file> [<kind>; <how>]
and exits 1 if anything leaked, 0 if nothing did, 2 on a usage error or when
OUTDIR holds no file (unless --allow-empty).

Allowing values a profile may keep:
  --allow KIND     skip planted values of that kind (see make_planted.py),
                   e.g. --allow date,time,datetime; "uid" also covers the root
  --option OPT     skip values whose tag has K in that option's column of
                   PS3.15 Table E.1-1 (OPT: retain-uids, rtn_uids, ...)
  --table TSV      the table (default profiles/reference/ps315_annex_e.tsv)
Values of kind "keep" (Basic action K) are always skipped.
"""
import argparse
import codecs
import csv
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("SHARED") or os.path.normpath(os.path.join(HERE, "../../../shared"))

OPTIONS = {
    "retain-safe-private": "rtn_safe_priv", "retain-uids": "rtn_uids",
    "retain-device-identity": "rtn_dev_id", "retain-institution-identity": "rtn_inst_id",
    "retain-patient-characteristics": "rtn_pat_chars",
    "retain-longitudinal-full-dates": "rtn_long_full_dates",
    "retain-longitudinal-modified-dates": "rtn_long_modif_dates",
    "clean-descriptors": "clean_desc", "clean-structured-content": "clean_struct_cont",
    "clean-graphics": "clean_graph",
}
LEFT_ONLY = {"date", "time", "datetime", "age"}
BOTH = {"id", "number", "uid"}

TEXT_VRS = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM",
            "UC", "UI", "UR", "UT"}


# ---------------------------------------------------------------- decoding
def _pair(enc_prefix, pair, codec):
    try:
        return (enc_prefix + pair).decode(codec)
    except Exception:
        return "\ufffd"


def iso2022_decode(b):
    """Decode bytes as DICOM ISO 2022 text (Japanese, plus Korean/Chinese G1
    sets), never failing. Control bytes reset G0 to ASCII, as value
    boundaries do in DICOM."""
    out = []
    g0, g1 = "ascii", "kata"
    i, n = 0, len(b)
    while i < n:
        c = b[i]
        if c == 0x1B:
            s3, s4 = b[i:i + 3], b[i:i + 4]
            if s3 in (b"\x1b$B", b"\x1b$@"):
                g0, i = "jis0208", i + 3
            elif s4 == b"\x1b$(D":
                g0, i = "jis0212", i + 4
            elif s3 in (b"\x1b(B", b"\x1b(J"):
                g0, i = "ascii", i + 3
            elif s3 == b"\x1b)I":
                g1, i = "kata", i + 3
            elif s4 == b"\x1b$)C":
                g1, i = "ksc", i + 4
            elif s4 == b"\x1b$)A":
                g1, i = "gb", i + 4
            elif s3 in (b"\x1b-A", b"\x1b-B", b"\x1b-F", b"\x1b-G", b"\x1b-H", b"\x1b-L",
                        b"\x1b-M"):
                g1, i = "latin", i + 3
            else:
                out.append("\x00")
                i += 1
            continue
        if c < 0x20:
            g0 = "ascii"
            out.append("\x00")
            i += 1
            continue
        if g0 in ("jis0208", "jis0212") and 0x21 <= c <= 0x7E and i + 1 < n \
                and 0x21 <= b[i + 1] <= 0x7E:
            if g0 == "jis0208":
                out.append(_pair(b"\x1b$B", bytes(b[i:i + 2]), "iso2022_jp"))
            else:
                out.append(_pair(b"\x1b$(D", bytes(b[i:i + 2]), "iso2022_jp_2"))
            i += 2
            continue
        if c >= 0x80:
            if g1 == "kata" and 0xA1 <= c <= 0xDF:
                out.append(chr(0xFF61 + c - 0xA1))
                i += 1
                continue
            if g1 in ("ksc", "gb") and i + 1 < n and b[i + 1] >= 0xA1:
                out.append(_pair(b"", bytes(b[i:i + 2]), "euc_kr" if g1 == "ksc" else "gb2312"))
                i += 2
                continue
            out.append(bytes([c]).decode("latin-1"))
            i += 1
            continue
        out.append(chr(c))
        i += 1
    return "".join(out)


def jis7_stripped(value):
    """ISO-2022-JP bytes of value with the escape sequences removed."""
    try:
        e = value.encode("iso2022_jp")
    except Exception:
        return None
    return re.sub(rb"\x1b(\$[@B]|\([BJ])", b"", e)


def byte_forms(value):
    """(how, bytes) for each stored form of a non-ASCII value."""
    forms = []
    for how, codec in (("utf-8", "utf-8"), ("shift_jis", "shift_jis"), ("euc-jp", "euc_jp"),
                       ("iso-2022-jp", "iso2022_jp"), ("cp932", "cp932")):
        try:
            forms.append((how, value.encode(codec)))
        except Exception:
            pass
    s = jis7_stripped(value)
    if s and len(s) >= 6 and s != value.encode("latin-1", "ignore"):
        forms.append(("jis7-no-escape", s))
    seen, uniq = set(), []
    for how, b in forms:
        if b not in seen:
            seen.add(b)
            uniq.append((how, b))
    return uniq


# ---------------------------------------------------------------- planted values
PHI_RE = re.compile(r"PHI[A-Z]{2}[0-9]{2}")
PHI_FULL = re.compile(r"^PHI[A-Z]{2}[0-9]{2}$")
DIGITS_ONLY = re.compile(r"^[0-9]+$")
KEYED_UID_B = re.compile(rb"(?<![0-9.])2\.25\.[0-9]{10,}")
KEYED_UID_S = re.compile(r"(?<![0-9.])2\.25\.[0-9]{10,}")


class Value:
    def __init__(self, row):
        self.value = row["value"]
        self.kind = row["kind"]
        self.tag = row["tag"]
        self.file = row["file"]
        self.where = row["where"]
        self.encoding = row["encoding"]
        v = self.value
        if self.kind == "uidroot":
            pat = r"(?<![0-9.])" + re.escape(v)
        elif self.kind == "uid":
            pat = r"(?<![0-9.])" + re.escape(v) + r"(?![0-9])"
        elif self.kind in BOTH:
            pat = r"(?<![0-9])" + re.escape(v) + r"(?![0-9])"
        elif self.kind in LEFT_ONLY:
            pat = r"(?<![0-9])" + re.escape(v)
        elif DIGITS_ONLY.match(v):
            # digits of any other kind (a private ID): a number of its own,
            # not a piece of a longer one
            pat = r"(?<![0-9])" + re.escape(v) + r"(?![0-9])"
        else:
            pat = re.escape(v)
        self.ascii = v.isascii()
        self.phi = bool(PHI_FULL.match(v))
        # fast paths: a PHI marker, or digits that must start a digit run
        # (LEFT_ONLY) or be a whole digit run (BOTH)
        self.digits = None
        if DIGITS_ONLY.match(v) and self.kind in LEFT_ONLY:
            self.digits = "prefix"
        elif DIGITS_ONLY.match(v) and self.kind != "uid" and self.kind != "uidroot":
            self.digits = "whole"
        self.low = v.lower()
        self.text_re = re.compile(pat.lower() if self.ascii else pat)
        if self.ascii:
            self.byte_forms = [("raw", self.low.encode("ascii"),
                                re.compile(pat.lower().encode("ascii")))]
        else:
            self.byte_forms = [("raw " + how, b, re.compile(re.escape(b)))
                               for how, b in byte_forms(v)]


class Haystack:
    """A text (str) or byte string prepared for many searches: lower-cased,
    with its PHI markers and digit runs indexed."""

    def __init__(self, data):
        # kakou's keyed UIDs (2.25.<128-bit number>) are random digits: a
        # planted date or ID turns up inside one by chance (about one run
        # of t0970 in thirty), so their digits are not searched
        if isinstance(data, bytes):
            data = KEYED_UID_B.sub(b"2.25.#", data)
        else:
            data = KEYED_UID_S.sub("2.25.#", data)
        self.orig = data
        self.data = data.lower()
        isb = isinstance(data, bytes)
        phi = PHI_RE.pattern.encode() if isb else PHI_RE.pattern
        dig = rb"[0-9]+" if isb else r"[0-9]+"
        up = data.upper()
        self.phi = set(m.decode("ascii") if isb else m for m in re.findall(phi, up))
        runs = re.findall(dig, data)
        if isb:
            runs = [r.decode("ascii") for r in runs]
        self.runs = set(runs)
        self.prefixes = {}
        for r in self.runs:
            for n in (8,):
                if len(r) >= n:
                    self.prefixes.setdefault(n, set()).add(r[:n])
        self.isb = isb

    def find(self, v):
        """How v was found here, or None."""
        if v.phi and v.ascii:
            return ("raw" if self.isb else "text") if v.value in self.phi else None
        if v.digits == "whole":
            return ("raw" if self.isb else "text") if v.value in self.runs else None
        if v.digits == "prefix" and len(v.value) in self.prefixes:
            return ("raw" if self.isb else "text") \
                if v.value in self.prefixes[len(v.value)] else None
        if self.isb:
            hay = self.data if v.ascii else self.orig
            for how, lit, rx in v.byte_forms:
                if lit in hay and rx.search(hay):
                    return how
            return None
        lit, hay = (v.low, self.data) if v.ascii else (v.value, self.orig)
        if lit in hay and v.text_re.search(hay):
            return "text"
        return None


def load_planted(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def kept_tags(table, options):
    if not options:
        return set()
    keep = set()
    with open(table, encoding="utf-8") as f:
        lines = [l for l in f if not l.startswith("#")]
    for r in csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE):
        if any((r.get(o) or "").strip() == "K" for o in options):
            keep.add(r["tag"].upper())
    return keep


# ---------------------------------------------------------------- pydicom text
def pydicom_text(path):
    try:
        import pydicom
        ds = pydicom.dcmread(path, force=True)
    except Exception:
        return ""
    parts = []

    def walk(d):
        try:
            elems = list(d)
        except Exception:
            return
        for el in elems:
            try:
                if el.VR == "SQ":
                    for it in el.value or []:
                        walk(it)
                elif el.VR in TEXT_VRS:
                    v = el.value
                    if isinstance(v, (list, tuple)) or type(v).__name__ == "MultiValue":
                        parts.extend(str(x) for x in v)
                    elif v is not None:
                        parts.append(str(v))
                elif el.VR in ("UN", "OB") and isinstance(el.value, bytes) and len(el.value) < 4096:
                    parts.append(iso2022_decode(el.value))
            except Exception:
                continue

    walk(getattr(ds, "file_meta", None) or [])
    walk(ds)
    return "\x00".join(parts)


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description="find planted PHI in de-identified output")
    ap.add_argument("--allow", action="append", default=[], metavar="KIND")
    ap.add_argument("--option", action="append", default=[], metavar="OPT")
    ap.add_argument("--table", default=os.path.normpath(os.path.join(HERE, "../../profiles/reference/ps315_annex_e.tsv")))
    ap.add_argument("--allow-empty", action="store_true")
    ap.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    ap.add_argument("planted")
    ap.add_argument("outdir")
    a = ap.parse_args()

    allow = {"keep"}
    for x in a.allow:
        allow.update(k.strip() for k in x.split(",") if k.strip())
    if "uid" in allow:
        allow.add("uidroot")
    opts = []
    for o in a.option:
        o = o.strip()
        if o in OPTIONS:
            opts.append(OPTIONS[o])
        elif o in OPTIONS.values():
            opts.append(o)
        else:
            sys.stderr.write("scan_phi: unknown option '%s'\n" % o)
            return 2
    if "rtn_uids" in opts:
        allow.update(("uid", "uidroot"))
    keep = kept_tags(a.table, opts)

    rows = load_planted(a.planted)
    values = []
    for r in rows:
        if r["kind"] in allow or (r["tag"] and r["tag"].upper() in keep):
            continue
        # a date planted in a private or text element is spelled like any
        # other date: where dates are allowed (shifted by a random offset),
        # a shifted date may equal it by chance, so it is checked as a date
        if "date" in allow and re.fullmatch(r"(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])", r["value"]):
            continue
        values.append(Value(r))
    if not os.path.isdir(a.outdir):
        sys.stderr.write("scan_phi: no such directory '%s'\n" % a.outdir)
        return 2

    files, names = [], []
    for d, dirs, fs in os.walk(a.outdir):
        for x in dirs:
            names.append(os.path.relpath(os.path.join(d, x), a.outdir))
        for x in fs:
            p = os.path.join(d, x)
            names.append(os.path.relpath(p, a.outdir))
            if os.path.isfile(p):
                files.append(p)
    files.sort()
    if not files and not a.allow_empty:
        sys.stderr.write("scan_phi: no files under '%s'\n" % a.outdir)
        return 2

    leaks = 0
    reported = set()

    def report(v, where, how):
        nonlocal leaks
        key = (v.value, where)
        if key in reported:
            return
        reported.add(key)
        leaks += 1
        print("LEAK %s %s (%s) in %s [%s; %s]" % (v.value, v.where, v.file, where, v.kind, how))

    for rel in sorted(names):
        h = Haystack(rel)
        for v in values:
            if h.find(v):
                report(v, rel, "path")
    for p in files:
        rel = os.path.relpath(p, a.outdir)
        with open(p, "rb") as f:
            data = f.read()
        stacks = [("", Haystack(data)), ("decoded iso-2022 ", Haystack(iso2022_decode(data)))]
        text = pydicom_text(p)
        if text:
            stacks.append(("pydicom ", Haystack(text)))
        for v in values:
            for label, h in stacks:
                how = h.find(v)
                if how:
                    report(v, rel, label + how)
                    break
    if not a.quiet:
        sys.stderr.write("scan_phi: %d file(s), %d planted value(s) checked, %d skipped as "
                         "allowed, %d leak(s)\n" % (len(files), len(values),
                                                  len(rows) - len(values), leaks))
    return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main())
