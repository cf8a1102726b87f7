#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tests/tools/make_planted.py - write DICOM files with planted, synthetic PHI.

Usage: make_planted.py OUTDIR

Writes OUTDIR/dicom/<dir-marker>/<name-marker>.dcm (three instances of one
study: two CT images in one series and a Comprehensive SR) and
OUTDIR/planted.tsv, which lists every planted value, one per line:

    value  kind  tag  file  where  encoding  action

  value     the planted string, decoded (Japanese in Unicode)
  kind      what sort of value it is (text, pn, id, date, time, datetime,
            age, number, uid, uidroot, jp, jp-ir13, private, overlay, curve,
            icon-pixels, meta, preamble, filename, dirname, code, sr-text...)
  tag       GGGG,EEEE of the element that holds it (empty for names)
  file      path of the file, relative to OUTDIR
  where     element path inside the file, e.g. (0040,0275)[0]>(0040,1001)
  encoding  how it is stored: ascii, utf-8, iso2022-ir87, ir13, binary
  action    PS3.15 Table E.1-1 Basic action of the element (X, Z, D, U,
            X/Z/D...), or a note such as "X(private)" for rows not in the table

Every planted value is a marker that occurs nowhere else: ASCII markers are
PHI + two letters + two digits (PHIAA01); identifiers are digit strings
starting 97; dates lie in 1931-1949; times end in a fraction .73xxxx; UIDs
all start with the root 1.2.999.7731. Japanese markers are rare kanji,
hiragana and half-width katakana pairs appended to Yamada/Tarou.

Planted:
  * every attribute of ps315_annex_e.tsv whose Basic action is not K or U and
    whose VR (pydicom dictionary) is a string VR, with a value valid for the
    VR; U attributes get root UIDs; each Table SQ gets one item;
  * nested sequences 2-3 levels deep, both in sequences the profile removes
    and in sequences it keeps (which it must walk);
  * private blocks (creator, LO/SH/PN, private SQ holding PN, a UN element,
    a safe-list element stored as UN holding the patient's name);
  * kept values that are never cleaned holding the patient's own name and
    IDs (a CS label, a multi-valued CS, a code value), a URL with an ID, and
    an unknown standard element stored as UN;
  * overlay group 6000 (OverlayDescription/Label/Comments/Data), curve 5000;
  * SR content (TEXT, PNAME, DATETIME, DATE, TIME, UIDREF, IMAGE items);
  * file meta (Source/Sending/Receiving AE titles, Implementation Version
    Name, Implementation Class UID, private information), the preamble,
    data set trailing padding, the directory and the file name.
Character sets: ISO_IR 192 (CT 1), \\ISO 2022 IR 87 (CT 2) and
ISO 2022 IR 13\\ISO 2022 IR 87 (SR), each with a three-group Japanese PN.

The output is deterministic: running it twice gives identical files.
"""
import csv
import os
import sys

import pydicom
from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("SHARED") or os.path.normpath(os.path.join(HERE, "../../../shared"))
# the project keeps its own copy of Table E.1-1
TABLE = os.path.normpath(os.path.join(HERE, "../../profiles/reference/ps315_annex_e.tsv"))

ROOT = "1.2.999.7731"
CT_CLASS = "1.2.840.10008.5.1.4.1.1.2"
SR_CLASS = "1.2.840.10008.5.1.4.1.1.88.33"
EXPLICIT_LE = "1.2.840.10008.1.2.1"

STRING_VRS = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH",
              "ST", "TM", "UC", "UI", "UR", "UT"}
KANJI = "鰯鯖鮪鯵鰹鱈鮭鯛鰻鮎鰤鯉鮫鯨鰐蛸鰈鱒鰊鯰"
HIRA = "ぬゑゐぢづぺぽぷぶべ"
HWKATA = "ﾇｦﾍﾎﾑﾒﾓﾕﾖﾗ"


def load_table():
    rows = {}
    with open(TABLE, encoding="utf-8") as f:
        lines = [l for l in f if not l.startswith("#")]
    for r in csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE):
        rows[r["tag"].upper()] = r
    return rows


class Planter:
    """Hands out unique markers and records where each was planted."""

    def __init__(self, table):
        self.table = table
        self.n = 0
        self.rows = []
        self.jp = 0
        self.file = ""
        self.charset = ""

    def _next(self):
        self.n += 1
        return self.n

    def marker(self):
        n = self._next()
        a, b = divmod(n // 100, 26)
        return "PHI%s%s%02d" % (chr(65 + a % 26), chr(65 + b), n % 100)

    def ident(self):
        return "97%04d31" % self._next()

    def date(self, base=1931):
        n = self._next()
        # 7-day steps from base-02-03, never 1 January
        import datetime
        d = datetime.date(base, 2, 3) + datetime.timedelta(days=7 * n)
        return d.strftime("%Y%m%d")

    def time(self):
        n = self._next()
        return "%02d%02d%02d.73%04d" % (n % 24, (n * 7) % 60, (n * 13) % 60, n)

    def datetime(self):
        return self.date(1941) + self.time() + "+0900"

    def age(self):
        n = self._next()
        return "%03dW" % (n % 900 + 10)

    def ds(self):
        n = self._next()
        return "7%04d.%04d3" % (n, n)

    def is_(self):
        n = self._next()
        return "7%05d3" % n

    def uid(self, branch="9"):
        return "%s.%s.%d" % (ROOT, branch, self._next())

    def jp_pair(self, alphabet):
        self.jp += 1
        i, j = divmod(self.jp, len(alphabet))
        return alphabet[i % len(alphabet)] + alphabet[j]

    def ascii_enc(self):
        return "utf-8" if self.charset == "ISO_IR 192" else "ascii"

    def jp_enc(self):
        return "utf-8" if self.charset == "ISO_IR 192" else "iso2022-ir87"

    def action(self, tag):
        key = "%04X,%04X" % (tag >> 16, tag & 0xFFFF)
        r = self.table.get(key)
        if r:
            return r["basic"]
        g = tag >> 16
        if g & 1:
            return "X(private)"
        if 0x6000 <= g <= 0x60FF:
            return "X(overlay)"
        if 0x5000 <= g <= 0x50FF:
            return "X(curve)"
        return "-"

    def add(self, value, kind, tag, where, encoding=None, action=None):
        tagtxt = "" if tag is None else "%04X,%04X" % (tag >> 16, tag & 0xFFFF)
        if action is None:
            action = self.action(tag) if tag is not None else "-"
        self.rows.append((value, kind, tagtxt, self.file, where,
                          encoding or self.ascii_enc(), action))

    # values -----------------------------------------------------------
    def japanese_pn(self, tag, where):
        """Yamada^Tarou=山田..^太郎..=やまだ..^たろう.. with markers; in an IR 13
        file the phonetic group is half-width katakana."""
        fam, giv = self.marker(), self.marker()
        k1, k2 = "山田" + self.jp_pair(KANJI), "太郎" + self.jp_pair(KANJI)
        ir13 = self.charset.startswith("ISO 2022 IR 13")
        if ir13:
            p1, p2 = "ﾔﾏﾀﾞ" + self.jp_pair(HWKATA), "ﾀﾛｳ" + self.jp_pair(HWKATA)
        else:
            p1, p2 = "やまだ" + self.jp_pair(HIRA), "たろう" + self.jp_pair(HIRA)
        alpha = "Yamada%s^Tarou%s" % (fam, giv)
        value = "%s=%s^%s=%s^%s" % (alpha, k1, k2, p1, p2)
        self.add(fam, "pn", tag, where + " alphabetic family")
        self.add(giv, "pn", tag, where + " alphabetic given")
        self.add(k1 + "^" + k2, "jp", tag, where + " ideographic group", self.jp_enc())
        self.add(k1, "jp", tag, where + " ideographic family", self.jp_enc())
        self.add(k2, "jp", tag, where + " ideographic given", self.jp_enc())
        penc = "ir13" if ir13 else self.jp_enc()
        pkind = "jp-ir13" if ir13 else "jp"
        self.add(p1 + "^" + p2, pkind, tag, where + " phonetic group", penc)
        self.add(p1, pkind, tag, where + " phonetic family", penc)
        self.add(p2, pkind, tag, where + " phonetic given", penc)
        return value, fam

    def value_for(self, vr, tag, keyword, where):
        """A VR-valid value made of fresh markers, recorded in the table."""
        kw = keyword or ""
        if vr == "PN":
            a, b = self.marker(), self.marker()
            self.add(a, "pn", tag, where + " family")
            self.add(b, "pn", tag, where + " given")
            return "%s^%s" % (a, b)
        if vr in ("LO", "SH", "UC") and (kw.endswith(("ID", "IDs", "Number", "Numbers"))
                                         or "Identifier" in kw):
            v = self.ident()
            self.add(v, "id", tag, where)
            return v
        if vr in ("LO", "SH", "UC", "AE", "CS"):
            v = self.marker()
            self.add(v, "text", tag, where)
            return v
        if vr in ("LT", "ST", "UT"):
            v = self.marker()
            self.add(v, "text", tag, where)
            return "planted note %s end" % v
        if vr == "UR":
            v = self.marker()
            self.add(v, "text", tag, where)
            return "https://example.invalid/%s" % v
        if vr == "DA":
            v = self.date()
            self.add(v, "date", tag, where)
            return v
        if vr == "TM":
            v = self.time()
            self.add(v, "time", tag, where)
            return v
        if vr == "DT":
            v = self.datetime()
            self.add(v, "datetime", tag, where)
            self.add(v[:8], "date", tag, where + " date part")
            return v
        if vr == "AS":
            v = self.age()
            self.add(v, "age", tag, where)
            return v
        if vr == "DS":
            v = self.ds()
            self.add(v, "number", tag, where)
            return v
        if vr == "IS":
            v = self.is_()
            self.add(v, "number", tag, where)
            return v
        if vr == "UI":
            v = self.uid()
            self.add(v, "uid", tag, where)
            return v
        raise ValueError(vr)


def tagstr(tag):
    return "(%04X,%04X)" % (tag >> 16, tag & 0xFFFF)


def code_item(p, where, kind="code"):
    it = Dataset()
    cv, cm = p.marker(), p.marker()
    it.CodeValue = cv
    it.CodingSchemeDesignator = "99PHI"
    it.CodeMeaning = cm
    p.add(cv, kind, 0x00080100, where + ">(0008,0100)")
    p.add(cm, kind, 0x00080104, where + ">(0008,0104)")
    return it


def std_code(value, scheme, meaning):
    it = Dataset()
    it.CodeValue = value
    it.CodingSchemeDesignator = scheme
    it.CodeMeaning = meaning
    return it


def put(ds, p, tag, where_prefix=""):
    """Plant a Table attribute with a fresh value (string VRs only)."""
    vr = dictionary_VR(tag)
    kw = keyword_for_tag(tag)
    where = where_prefix + tagstr(tag) + " " + kw
    ds.add_new(tag, vr, p.value_for(vr, tag, kw, where))


def sequence_item(p, tag, kw, action, where, ctx):
    """One item for a Table sequence (which the profile removes, empties or
    replaces), holding markers 2-3 levels deep."""
    it = Dataset()
    if action == "X/Z/U*":  # Referenced Image / Source Image: UIDs only
        it.ReferencedSOPClassUID = CT_CLASS
        it.ReferencedSOPInstanceUID = ctx["peer_sop"]
        return it
    if kw == "OtherPatientIDsSequence":
        put(it, p, 0x00100020, where + ">")
        it.TypeOfPatientID = "TEXT"
        put(it, p, 0x00100021, where + ">")
        return it
    if kw == "RequestAttributesSequence":
        for t in (0x00401001, 0x00400009, 0x00321060):
            put(it, p, t, where + ">")
        it.ScheduledProtocolCodeSequence = Sequence([code_item(p, where + ">(0040,0008)[0]")])
        return it
    if kw == "ReferencedStudySequence":
        it.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"
        it.ReferencedSOPInstanceUID = ctx["study"]
        return it
    if kw == "ContentSequence":
        it.RelationshipType = "CONTAINS"
        it.ValueType = "TEXT"
        it.ConceptNameCodeSequence = Sequence([std_code("121106", "DCM", "Comment")])
        m = p.marker()
        it.TextValue = "planted text %s end" % m
        p.add(m, "sr-text", 0x0040A160, where + ">(0040,A160) TextValue", action="D(ContentSequence)")
        return it
    if kw == "VerifyingObserverSequence":
        put(it, p, 0x0040A075, where + ">")
        put(it, p, 0x0040A027, where + ">")
        put(it, p, 0x0040A030, where + ">")
        it.VerifyingObserverIdentificationCodeSequence = Sequence(
            [code_item(p, where + ">(0040,A088)[0]")])
        return it
    if kw == "OriginalAttributesSequence":
        mod = Dataset()
        put(mod, p, 0x00100010, where + ">(0400,0550)[0]>")
        put(mod, p, 0x00100030, where + ">(0400,0550)[0]>")
        it.ModifiedAttributesSequence = Sequence([mod])
        put(it, p, 0x04000564, where + ">")  # SourceOfPreviousValues
        put(it, p, 0x04000562, where + ">")  # AttributeModificationDateTime
        put(it, p, 0x04000563, where + ">")  # ModifyingSystem
        it.ReasonForTheAttributeModification = "COERCE"
        return it
    if kw == "IconImageSequence":
        m = p.marker()
        it.SamplesPerPixel = 1
        it.PhotometricInterpretation = "MONOCHROME2"
        it.Rows = 4
        it.Columns = 4
        it.BitsAllocated = 8
        it.BitsStored = 8
        it.HighBit = 7
        it.PixelRepresentation = 0
        it.add_new(0x7FE00010, "OB", (m + "." * 16)[:16].encode("ascii"))
        p.add(m, "icon-pixels", 0x7FE00010, where + ">(7FE0,0010) icon pixels", "binary",
              action="X(IconImageSequence)")
        return it
    if kw == "DigitalSignaturesSequence":
        it.MACIDNumber = 1
        it.DigitalSignatureUID = p.uid()
        p.add(it.DigitalSignatureUID, "uid", 0x04000100, where + ">(0400,0100)")
        put(it, p, 0x04000105, where + ">")  # DigitalSignatureDateTime
        it.CertificateType = "X509_1993_SIG"
        m = p.marker()
        it.add_new(0x04000115, "OB", ("CN=" + m + " ").encode("ascii"))
        p.add(m, "text", 0x04000115, where + ">(0400,0115) CertificateOfSigner", "binary",
              action="X(DigitalSignaturesSequence)")
        it.add_new(0x04000120, "OB", b"\x00\x01")
        return it
    # generic: a code item with marker meaning, plus Table text attributes
    it = code_item(p, where, "code-in-D-seq" if action.startswith(("D", "X/Z/D", "X/D")) else "code")
    put(it, p, 0x00080080, where + ">")  # InstitutionName
    put(it, p, 0x00081050, where + ">")  # PerformingPhysicianName
    return it


def plant_table(ds, p, ctx, skip):
    """Every Table E.1-1 row with a string VR (and one item per SQ row)."""
    for key, r in p.table.items():
        if not all(c in "0123456789ABCDEF," for c in key):
            continue  # masks: 50xx,xxxx 60xx,3000 gggg,eeee (planted elsewhere)
        tag = int(key.replace(",", ""), 16)
        g = tag >> 16
        if g in (0x0000, 0x0002, 0x0004) or g >= 0xFFFA:
            continue  # command, meta, DICOMDIR, signatures/padding: elsewhere
        if tag in skip:
            continue
        action = r["basic"]
        if action == "K":
            continue
        try:
            vr = dictionary_VR(tag)
        except KeyError:
            continue
        kw = keyword_for_tag(tag)
        where = tagstr(tag) + " " + kw
        if vr == "SQ":
            ds.add_new(tag, "SQ", Sequence([sequence_item(p, tag, kw, action, where + "[0]", ctx)]))
            continue
        if vr not in STRING_VRS:
            continue
        if action == "U" or vr == "UI":
            v = p.uid()
            p.add(v, "uid", tag, where)
            ds.add_new(tag, vr, v)
            continue
        ds.add_new(tag, vr, p.value_for(vr, tag, kw, where))


def plant_nested_kept(ds, p, ctx):
    """Sequences the Table does not list (kept, and walked by the profile)
    holding Table attributes 2-3 levels down, and instance references."""
    # (0008,1115) > (0008,114A) > ReferencedSOPInstanceUID of the peer
    inst = Dataset()
    inst.ReferencedSOPClassUID = CT_CLASS
    inst.ReferencedSOPInstanceUID = ctx["peer_sop"]
    ser = Dataset()
    ser.SeriesInstanceUID = ctx["series"]
    ser.ReferencedInstanceSequence = Sequence([inst])
    ds.ReferencedSeriesSequence = Sequence([ser])
    # (0040,0260) > (0040,0440) > PersonName, Date, DateTime, PatientName
    w = "(0040,0260)[0]>(0040,0440)[0]>"
    ctxit = Dataset()
    ctxit.ValueType = "PNAME"
    ctxit.ConceptNameCodeSequence = Sequence([std_code("121008", "DCM", "Person Observer Name")])
    put(ctxit, p, 0x0040A123, w)
    put(ctxit, p, 0x0040A121, w)
    put(ctxit, p, 0x0040A120, w)
    put(ctxit, p, 0x00100010, w)
    put(ctxit, p, 0x00080080, w)
    prot = std_code("P5-0900X", "99LOCAL", "Protocol")
    prot.ProtocolContextSequence = Sequence([ctxit])
    ds.PerformedProtocolCodeSequence = Sequence([prot])
    # (0008,1032) ProcedureCodeSequence > item > (0008,0082) InstitutionCodeSequence
    pc = std_code("P1-0001", "99LOCAL", "Procedure")
    pc.InstitutionCodeSequence = Sequence([code_item(p, "(0008,1032)[0]>(0008,0082)[0]")])
    put(pc, p, 0x00081048, "(0008,1032)[0]>")  # PhysiciansOfRecord
    ds.ProcedureCodeSequence = Sequence([pc])


def plant_kept_codes(ds, p, fam):
    """Kept values that are not text, so never cleaned, holding the patient's
    own identifiers: a CS label with the family name, a multi-valued CS and
    a code value with the IDs; a URL with an ID; and an element of a
    standard group the dictionary does not know, stored as UN."""
    ds.add_new(0x00700080, "CS", ("Yamada" + fam).upper())  # ContentLabel
    p.add(fam, "pn", 0x00700080, "(0070,0080) ContentLabel = the patient's family name")
    pid = str(ds.PatientID)
    ds.ScanOptions = ["HELICAL", pid]
    p.add(pid, "id", 0x00180022, "(0018,0022) ScanOptions second value = PatientID")
    if pid.isdigit() and len(pid) >= 6:
        ds.AcquisitionNumber = pid
        p.add(pid, "id", 0x00200012, "(0020,0012) AcquisitionNumber IS = PatientID")
    acc = str(ds.AccessionNumber)
    ds.AnatomicRegionSequence = Sequence([std_code(acc, "99LOCAL", "chest")])
    p.add(acc, "id", 0x00080100, "(0008,2218)[0]>(0008,0100) CodeValue = AccessionNumber")
    v = p.ident()
    ds.add_new(0x00081190, "UR", "https://pacs.invalid/wado?patientID=%s" % v)
    p.add(v, "id", 0x00081190, "(0008,1190) RetrieveURL query")
    v = p.marker()
    ds.add_new(0x00422234, "UN", ("note " + v + " ").encode("ascii"))
    p.add(v, "un", 0x00422234, "(0042,2234) unknown standard element, UN", "binary")


def plant_private(ds, p, fam):
    g = 0x0009
    creator = "KAKOU PLANT " + p.marker()
    p.add(creator.split()[-1], "private", 0x00090010, "(0009,0010) private creator")
    ds.add_new(0x00090010, "LO", creator)
    v = p.marker(); ds.add_new(0x00091001, "LO", v); p.add(v, "private", 0x00091001, "(0009,1001) LO")
    v = p.marker(); ds.add_new(0x00091002, "SH", v); p.add(v, "private", 0x00091002, "(0009,1002) SH")
    a, b = p.marker(), p.marker()
    ds.add_new(0x00091003, "PN", a + "^" + b)
    p.add(a, "private", 0x00091003, "(0009,1003) PN family")
    p.add(b, "private", 0x00091003, "(0009,1003) PN given")
    v = p.ident()
    ds.add_new(0x00091004, "UN", ("ID" + v).encode("ascii"))
    p.add(v, "private", 0x00091004, "(0009,1004) UN holding an identifier", "binary")
    d = p.date()
    ds.add_new(0x00091005, "DA", d)
    p.add(d, "private", 0x00091005, "(0009,1005) DA")
    # private SQ > item with its own creator, a private PN and a standard PN
    it = Dataset()
    c2 = "KAKOU PLANT INNER"
    it.add_new(0x00090010, "LO", c2)
    a, b = p.marker(), p.marker()
    it.add_new(0x00091001, "PN", a + "^" + b)
    p.add(a, "private", 0x00091001, "(0009,1010)[0]>(0009,1001) PN family")
    p.add(b, "private", 0x00091001, "(0009,1010)[0]>(0009,1001) PN given")
    a, b = p.marker(), p.marker()
    it.PatientName = a + "^" + b
    p.add(a, "private", 0x00100010, "(0009,1010)[0]>(0010,0010) PatientName family", action="X(private)")
    p.add(b, "private", 0x00100010, "(0009,1010)[0]>(0010,0010) PatientName given", action="X(private)")
    inner = Dataset()
    inner.add_new(0x00090010, "LO", c2)
    v = p.marker()
    inner.add_new(0x00091002, "LO", v)
    p.add(v, "private", 0x00091002, "(0009,1010)[0]>(0009,1011)[0]>(0009,1002) LO")
    it.add_new(0x00091011, "SQ", Sequence([inner]))
    ds.add_new(0x00091010, "SQ", Sequence([it]))
    # a second block in another group, creator only plus an ST
    ds.add_new(0x00290010, "LO", "KAKOU PLANT SECOND")
    v = p.marker()
    ds.add_new(0x00291001, "ST", "private note %s" % v)
    p.add(v, "private", 0x00291001, "(0029,1001) ST")
    # a safe-list element (Table E.3.10-1, SIEMENS Ultrasound SC2000
    # (0119,xx00) LO, which DCMTK's dictionary does not know) stored as UN,
    # as a system that did not know the creator writes it, holding the
    # patient's name
    ds.add_new(0x01190010, "LO", "SIEMENS Ultrasound SC2000")
    ds.add_new(0x01191000, "UN", ("Yamada" + fam + " ").encode("ascii"))
    p.add(fam, "private", 0x01191000, "(0119,1000) safe-list private stored as UN, the patient's name")


def plant_overlay_curve(ds, p):
    ds.add_new(0x60000010, "US", 8)
    ds.add_new(0x60000011, "US", 8)
    ds.add_new(0x60000040, "CS", "G")
    ds.add_new(0x60000050, "SS", [1, 1])
    ds.add_new(0x60000100, "US", 1)
    ds.add_new(0x60000102, "US", 0)
    for t, kw in ((0x60000022, "OverlayDescription"), (0x60001500, "OverlayLabel")):
        v = p.marker()
        ds.add_new(t, "LO", v)
        p.add(v, "overlay", t, tagstr(t) + " " + kw)
    v = p.marker()
    ds.add_new(0x60004000, "LT", "overlay comment %s" % v)
    p.add(v, "overlay", 0x60004000, "(6000,4000) OverlayComments")
    v = p.marker()
    ds.add_new(0x60003000, "OW", (v + " ").encode("ascii"))  # 8x8 bits
    p.add(v, "overlay", 0x60003000, "(6000,3000) OverlayData bytes", "binary")
    ds.add_new(0x50000005, "US", 1)
    ds.add_new(0x50000010, "US", 1)
    ds.add_new(0x50000020, "CS", "TAC")
    for t, kw in ((0x50000022, "CurveDescription"), (0x50002500, "CurveLabel")):
        v = p.marker()
        ds.add_new(t, "LO", v)
        p.add(v, "curve", t, tagstr(t) + " " + kw)


def base_patient(ds, p):
    """PatientName with Japanese groups (before the Table fills the rest)."""
    value, fam = p.japanese_pn(0x00100010, "(0010,0010) PatientName")
    ds.PatientName = value
    return fam


def ct_image(p, ctx, number, charset):
    ds = Dataset()
    ds.SpecificCharacterSet = charset
    ds.SOPClassUID = CT_CLASS
    ds.SOPInstanceUID = ctx["sop"]
    ds.Modality = "CT"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    fam = base_patient(ds, p)
    plant_table(ds, p, ctx, skip={0x00100010, 0x00080018, 0x0020000D, 0x0020000E,
                                  0x00200052, 0x00081155, 0x0040A124})
    if charset != "ISO_IR 192":
        # kanji in free text too
        k = "病院" + p.jp_pair(KANJI)
        p.rows = [r for r in p.rows if not (r[2] == "0008,0080" and r[4].startswith("(0008,0080)"))]
        ds.InstitutionName = "%s %s" % (p.marker(), k)
        p.add(ds.InstitutionName.split()[0], "text", 0x00080080, "(0008,0080) InstitutionName")
        p.add(k, "jp", 0x00080080, "(0008,0080) InstitutionName kanji", p.jp_enc())
    ds.StudyInstanceUID = ctx["study"]
    ds.SeriesInstanceUID = ctx["series"]
    ds.FrameOfReferenceUID = ctx["for"]
    ds.SOPInstanceUID = ctx["sop"]
    for t, k, v in ((0x0020000D, "StudyInstanceUID", ctx["study"]),
                    (0x0020000E, "SeriesInstanceUID", ctx["series"]),
                    (0x00200052, "FrameOfReferenceUID", ctx["for"]),
                    (0x00080018, "SOPInstanceUID", ctx["sop"])):
        p.add(v, "uid", t, tagstr(t) + " " + k)
    plant_nested_kept(ds, p, ctx)
    plant_kept_codes(ds, p, fam)
    plant_private(ds, p, fam)
    plant_overlay_curve(ds, p)
    ds.SeriesNumber = 1
    ds.InstanceNumber = number
    ds.PatientPosition = "HFS"
    ds.ImagePositionPatient = [0, 0, number]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [1, 1]
    ds.SliceThickness = 1
    ds.KVP = 120
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = 16
    ds.Columns = 16
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    ds.RescaleType = "HU"
    ds.BurnedInAnnotation = "NO"
    # every byte < 0x10, so no ASCII marker can appear in the pixels
    px = bytearray()
    for i in range(256):
        px += bytes([(i * 7 + number) % 16, (i // 16 + number) % 16])
    ds.PixelData = bytes(px)
    ds["PixelData"].VR = "OW"
    ds.add_new(0xFFFCFFFC, "OB", b"")
    v = p.marker()
    ds[0xFFFCFFFC].value = ("pad " + v + " ").encode("ascii")
    p.add(v, "text", 0xFFFCFFFC, "(FFFC,FFFC) DataSetTrailingPadding", "binary")
    return ds, fam


def sr_document(p, ctx, charset):
    ds = Dataset()
    ds.SpecificCharacterSet = charset
    ds.SOPClassUID = SR_CLASS
    ds.SOPInstanceUID = ctx["sop"]
    ds.Modality = "SR"
    fam = base_patient(ds, p)
    plant_table(ds, p, ctx, skip={0x00100010, 0x00080018, 0x0020000D, 0x0020000E,
                                  0x00200052, 0x00081155, 0x0040A124, 0x0040A730,
                                  0x00081140, 0x00082112, 0x00880200})
    ds.StudyInstanceUID = ctx["study"]
    ds.SeriesInstanceUID = ctx["series"]
    ds.SOPInstanceUID = ctx["sop"]
    for t, k, v in ((0x0020000D, "StudyInstanceUID", ctx["study"]),
                    (0x0020000E, "SeriesInstanceUID", ctx["series"]),
                    (0x00080018, "SOPInstanceUID", ctx["sop"])):
        p.add(v, "uid", t, tagstr(t) + " " + k)
    ds.SeriesNumber = 2
    ds.InstanceNumber = 1
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = Sequence([std_code("18748-4", "LN", "Diagnostic Imaging Report")])
    ds.ContinuityOfContent = "SEPARATE"
    ds.CompletionFlag = "COMPLETE"
    ds.VerificationFlag = "VERIFIED"
    # evidence: a kept sequence that references both CT images
    refs = []
    for sop in ctx["ct_sops"]:
        r = Dataset()
        r.ReferencedSOPClassUID = CT_CLASS
        r.ReferencedSOPInstanceUID = sop
        refs.append(r)
    ser = Dataset()
    ser.SeriesInstanceUID = ctx["ct_series"]
    ser.ReferencedSOPSequence = Sequence(refs)
    st = Dataset()
    st.StudyInstanceUID = ctx["study"]
    st.ReferencedSeriesSequence = Sequence([ser])
    ds.CurrentRequestedProcedureEvidenceSequence = Sequence([st])
    # content tree: root > CONTAINER > CONTAINER > TEXT, and typed items
    W = "(0040,A730)"

    def item(rel, vt, code):
        it = Dataset()
        it.RelationshipType = rel
        it.ValueType = vt
        it.ConceptNameCodeSequence = Sequence([std_code(*code)])
        return it

    def textitem(where):
        it = item("CONTAINS", "TEXT", ("121071", "DCM", "Finding"))
        m = p.marker()
        k = "所見" + p.jp_pair(KANJI)
        it.TextValue = "finding %s %s" % (m, k)
        p.add(m, "sr-text", 0x0040A160, where + ">(0040,A160) TextValue", action="D(ContentSequence)")
        p.add(k, "jp", 0x0040A160, where + ">(0040,A160) TextValue kanji", p.jp_enc(),
              action="D(ContentSequence)")
        return it

    items = []
    obs = item("HAS OBS CONTEXT", "PNAME", ("121008", "DCM", "Person Observer Name"))
    obs.PersonName, _ = p.japanese_pn(0x0040A123, W + "[0]>(0040,A123) PersonName")
    items.append(obs)
    dt = item("CONTAINS", "DATETIME", ("111526", "DCM", "DateTime Started"))
    put(dt, p, 0x0040A120, W + "[1]>")
    put(dt, p, 0x0040A032, W + "[1]>")  # ObservationDateTime
    items.append(dt)
    da = item("CONTAINS", "DATE", ("111060", "DCM", "Study Date"))
    put(da, p, 0x0040A121, W + "[2]>")
    items.append(da)
    tm = item("CONTAINS", "TIME", ("111061", "DCM", "Study Time"))
    put(tm, p, 0x0040A122, W + "[3]>")
    items.append(tm)
    ui = item("CONTAINS", "UIDREF", ("121018", "DCM", "Procedure Study Instance UID"))
    ui.UID = ctx["study"]
    items.append(ui)
    img = item("CONTAINS", "IMAGE", ("121200", "DCM", "Illustration of ROI"))
    rs = Dataset()
    rs.ReferencedSOPClassUID = CT_CLASS
    rs.ReferencedSOPInstanceUID = ctx["ct_sops"][0]
    img.ReferencedSOPSequence = Sequence([rs])
    items.append(img)
    inner2 = item("CONTAINS", "CONTAINER", ("121070", "DCM", "Findings"))
    inner2.ContinuityOfContent = "SEPARATE"
    inner2.ContentSequence = Sequence([textitem(W + "[6]>(0040,A730)[0]>(0040,A730)[0]")])
    pn = item("CONTAINS", "PNAME", ("121008", "DCM", "Person Observer Name"))
    put(pn, p, 0x0040A123, W + "[6]>(0040,A730)[1]>")
    inner1 = item("CONTAINS", "CONTAINER", ("121070", "DCM", "Findings"))
    inner1.ContinuityOfContent = "SEPARATE"
    inner1.ContentSequence = Sequence([inner2, pn])
    items.append(inner1)
    items.append(textitem(W + "[7]"))
    ds.ContentSequence = Sequence(items)
    return ds, fam


def file_meta(p, ds, where_file):
    fm = FileMetaDataset()
    fm.MediaStorageSOPClassUID = ds.SOPClassUID
    fm.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    fm.TransferSyntaxUID = EXPLICIT_LE
    fm.ImplementationClassUID = ROOT + ".0.1"
    v = p.marker()
    fm.ImplementationVersionName = v
    p.add(v, "meta", 0x00020013, "(0002,0013) ImplementationVersionName", "ascii")
    p.add(fm.ImplementationClassUID, "uid", 0x00020012, "(0002,0012) ImplementationClassUID", "ascii")
    for t, kw in ((0x00020016, "SourceApplicationEntityTitle"),
                  (0x00020017, "SendingApplicationEntityTitle"),
                  (0x00020018, "ReceivingApplicationEntityTitle")):
        v = p.marker()
        fm.add_new(t, "AE", v)
        p.add(v, "meta", t, tagstr(t) + " " + kw, "ascii")
    fm.add_new(0x00020100, "UI", ROOT + ".0.2")
    p.add(ROOT + ".0.2", "uid", 0x00020100, "(0002,0100) PrivateInformationCreatorUID", "ascii")
    v = p.marker()
    fm.add_new(0x00020102, "OB", ("private " + v + " ").encode("ascii"))
    p.add(v, "meta", 0x00020102, "(0002,0102) PrivateInformation", "binary")
    p.add(ds.SOPInstanceUID, "uid", 0x00020003, "(0002,0003) MediaStorageSOPInstanceUID", "ascii")
    return fm


def write(p, outdir, subdir, ds, fam, given_name):
    fname = given_name + ".dcm"
    rel = os.path.join("dicom", subdir, fname)
    ds.file_meta = file_meta(p, ds, rel)
    v = p.marker()
    ds.preamble = (b"PREAMBLE " + v.encode("ascii")).ljust(128, b"\0")
    p.add(v, "preamble", None, "preamble", "binary", action="replace(E.1.1)")
    p.add(fam, "filename", None, "input file name", "utf-8", action="-")
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    path = os.path.join(outdir, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    ds.save_as(path, write_like_original=False)
    return rel


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: make_planted.py OUTDIR\n")
        return 2
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    p = Planter(load_table())
    subdir = p.marker()
    p.rows.append((subdir, "dirname", "", "dicom/" + subdir, "input directory name", "utf-8", "-"))
    root_row = (ROOT + ".", "uidroot", "", "*", "every original UID", "ascii", "U")
    study, ct_series, sr_series, frame = ROOT + ".1.1", ROOT + ".2.1", ROOT + ".2.2", ROOT + ".4.1"
    sops = [ROOT + ".3.1", ROOT + ".3.2", ROOT + ".3.3"]
    files = []
    # CT 1 (UTF-8), refers to CT 2; CT 2 (ISO 2022 IR 87), refers to CT 1
    specs = [(0, 1, "ISO_IR 192"), (1, 0, ["", "ISO 2022 IR 87"])]
    for idx, peer, cs in specs:
        ctx = dict(study=study, series=ct_series, sop=sops[idx], peer_sop=sops[peer], **{"for": frame})
        p.charset = cs if isinstance(cs, str) else "\\".join(cs)
        start = len(p.rows)
        ds, fam = ct_image(p, ctx, idx + 1, cs)
        fname = fam  # the input file is named after the patient name marker
        rel = os.path.join("dicom", subdir, fname + ".dcm")
        for i in range(start, len(p.rows)):
            r = p.rows[i]
            p.rows[i] = (r[0], r[1], r[2], rel, r[4], r[5], r[6])
        p.file = rel
        write(p, outdir, subdir, ds, fam, fname)
        files.append(rel)
    # SR (ISO 2022 IR 13 \ ISO 2022 IR 87) refers to both CTs
    ctx = dict(study=study, series=sr_series, sop=sops[2], peer_sop=sops[0],
               ct_sops=sops[:2], ct_series=ct_series, **{"for": frame})
    p.charset = "ISO 2022 IR 13\\ISO 2022 IR 87"
    start = len(p.rows)
    ds, fam = sr_document(p, ctx, ["ISO 2022 IR 13", "ISO 2022 IR 87"])
    rel = os.path.join("dicom", subdir, fam + ".dcm")
    for i in range(start, len(p.rows)):
        r = p.rows[i]
        p.rows[i] = (r[0], r[1], r[2], rel, r[4], r[5], r[6])
    p.file = rel
    write(p, outdir, subdir, ds, fam, fam)
    files.append(rel)
    p.rows.append(root_row)
    with open(os.path.join(outdir, "planted.tsv"), "w", encoding="utf-8") as f:
        f.write("value\tkind\ttag\tfile\twhere\tencoding\taction\n")
        for r in p.rows:
            f.write("\t".join(str(x).replace("\t", " ") for x in r) + "\n")
    # sanity: every file reads back, markers are unique
    for rel in files:
        pydicom.dcmread(os.path.join(outdir, rel))
    print("wrote %d files and %d planted values to %s" % (len(files), len(p.rows), outdir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
