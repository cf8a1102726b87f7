#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tests/tools/check_actions.py - every profile action, checked by value, in
every character set of the corpus.

Usage: check_actions.py KAKOU WORKDIR SRC.dcm
       check_actions.py --list     (the character sets it covers)

For each character set the corpus holds (CHARSETS below, which t0820 checks
against the corpus MANIFEST), one input is made from SRC with pydicom:
planted names, IDs, dates, times, an age, an address and free text written
in that character set (a family name, a keep word and an address in its
script where it has one). A profile with one action per attribute is run
twice (date-shift.time keep and remove), and each output is compared with
its input BY VALUE:
  remove   OtherPatientIDs absent          empty  ReferringPhysicianName ""
  dummy    OperatorsName ANONYMIZED, ContentDate 19000101
  uid      StudyInstanceUID 2.25.N, not the original, the same in all files
  pseudonym PatientID P + 12 of the alphabet, same for the same original
  shift-date StudyDate DA, AcquisitionDateTime DT with time,
           FrameReferenceDateTime DT without time, StudyTime TM: one delta
           per patient in range; DT time kept (keep) or cut (remove); TM
           kept (keep) or emptied (remove)
  clean    SeriesDate DA shifted by the same delta; StudyDescription LO and
           PatientComments LT lose the planted name, ID, date, phone and
           digit run and keep the keep word
  generalize-age 093Y -> 090Y, 045Y kept   truncate-date YYYYMM01
  generalize-address 東京都千代田区... -> 東京都千代田区 (other text removed)
Clean writes the text back in every one of these character sets: the keep
word stays in each (ISO_IR 13, ISO 2022 IR 100, IR 149 and IR 58 too).
Raw bytes: SpecificCharacterSet is kept, every text value decodes under it
without holding UTF-8 copies of non-ASCII text, and a 7-bit ISO 2022
object (IR 87) has no byte >= 0x80 (text written back as UTF-8 shows here).
Prints one line per failure; exit 1 when any.
"""
import datetime
import os
import re
import subprocess
import sys
import warnings

import pydicom
from pydicom.charset import convert_encodings, decode_bytes

if sys.argv[1:] == ["--list"]:
    KAKOU = WORK = SRC = None
else:
    KAKOU, WORK, SRC = sys.argv[1], sys.argv[2], sys.argv[3]
warnings.simplefilter("ignore")  # 'ISO-IR 100' is malformed on purpose

# charset -> (family name, given name, keep word, address or None)
JA = ("山田", "太郎", "胸部", "東京都千代田区丸の内一丁目九番")
CHARSETS = {
    "ISO_IR 100": ("Müller", "Jürgen", "Lungenödem", None),
    "ISO 2022 IR 100": ("Müller", "Jürgen", "Lungenödem", None),
    "ISO-IR 100": ("Muller", "Jurgen", "Lungenoedem", None),
    "ISO_IR 101": ("Dvořák", "Jiří", "plíce", None),
    "ISO_IR 126": ("Παπαδόπουλος", "Γιώργος", "θώρακας", None),
    "ISO_IR 127": ("حداد", "سامي", "صدر", None),
    "ISO_IR 138": ("כהן", "דוד", "חזה", None),
    "ISO_IR 144": ("Иванов", "Пётр", "грудь", None),
    "ISO_IR 13": ("ﾔﾏﾀﾞ", "ﾀﾛｳ", "ｷｮｳﾌﾞ", None),
    "ISO_IR 192": JA,
    "GB18030": ("王伟", "强", "胸部", JA[3]),
    "\\ISO 2022 IR 87": JA,
    "ISO 2022 IR 13\\ISO 2022 IR 87": ("ﾔﾏﾀﾞ", "ﾀﾛｳ", "胸部", JA[3]),
    "\\ISO 2022 IR 149": ("김민준", "서연", "흉부", None),
    "\\ISO 2022 IR 58": ("王伟", "强", "胸部", None),
}
SEVEN_BIT = {"\\ISO 2022 IR 87"}  # IR 149 and IR 58 sit in G1 (8-bit bytes)
TEXT_VRS = {"SH", "LO", "ST", "LT", "UT", "UC", "PN"}
PROFILE = """profile by-value
version 1
default keep
private remove
set iod-repair off
set date-shift.range -40:-10
set date-shift.time %s
OtherPatientIDs        remove
ReferringPhysicianName empty
OperatorsName          dummy
ContentDate            dummy
StudyInstanceUID       uid
PatientID              pseudonym domain=patient prefix=P length=12
StudyDate              shift-date
AcquisitionDateTime    shift-date
FrameReferenceDateTime shift-date
StudyTime              shift-date
SeriesDate             clean
StudyDescription       clean
PatientComments        clean
PatientAge             generalize-age threshold=90 marker=090Y
PatientBirthDate       truncate-date
PatientAddress         generalize-address
"""
ALPHABET = set("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ")
fails = []


def bad(msg):
    fails.append(msg)


def enc(cs, text):
    """The value to hand pydicom: ISO_IR 13 (JIS X 0201) is encoded here,
    because pydicom writes '?' for half-width katakana in it; so is
    \\ISO 2022 IR 58, because pydicom 2.3 writes its GB2312 bytes without
    the ESC $ ) A that designates them (PS3.5 6.1.2.5: with value 1 empty
    nothing is in G1 until designated, again after each delimiter)."""
    if cs == "\\ISO 2022 IR 58":
        out = b""
        for part in re.split(r"([\\^=\r\n\t\f])", text):
            b = part.encode("gb2312")
            out += b"\x1b$)A" + b if any(c > 0x7F for c in b) else b
        return out
    if cs != "ISO_IR 13":
        return text
    return bytes(ord(c) - 0xFF61 + 0xA1 if "\uff61" <= c <= "\uff9f" else ord(c) for c in text)


def make_inputs(indir):
    os.makedirs(indir, exist_ok=True)
    plan = []
    for i, (cs, (fam, giv, keep, addr)) in enumerate(sorted(CHARSETS.items())):
        ds = pydicom.dcmread(SRC)
        for el in list(ds):
            if el.tag.group & 1:
                del ds[el.tag]
        ds.SpecificCharacterSet = cs.split("\\") if "\\" in cs else cs
        ds.InstanceNumber = i + 1
        ds.SOPInstanceUID = "1.2.999.7731.88.2.%d" % (i + 1)
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        pid = "97%06d" % (i // 2)  # two files per patient
        ds.PatientID = pid
        ds.PatientName = enc(cs, "%s^%s" % (fam, giv))
        ds.OtherPatientIDs = "97555%03d" % i
        ds.ReferringPhysicianName = enc(cs, "%s^Referrer" % fam)
        ds.OperatorsName = enc(cs, "%s^Operator" % fam)
        ds.ContentDate = "19410305"
        ds.StudyInstanceUID = "1.2.999.7731.88.1"
        ds.StudyDate = "20240401"
        ds.SeriesDate = "20240402"
        ds.AcquisitionDateTime = "20240401123456.123456"
        ds.FrameReferenceDateTime = "20240403"
        ds.StudyTime = "101112.73"
        ds.PatientAge = "093Y" if i % 2 == 0 else "045Y"
        ds.PatientBirthDate = "19370415"
        ds.StudyDescription = enc(cs, "%s %s %s 2024-04-01" % (keep, fam, pid))
        ds.PatientComments = enc(cs, "%s %s tel 03-5555-0199 id 97123456" % (keep, fam))
        if addr:
            ds.PatientAddress = addr
        else:
            ds.PatientAddress = "Hauptstr 5 Berlin"
        path = os.path.join(indir, "in%02d.dcm" % i)
        ds.save_as(path, write_like_original=False)
        plan.append(dict(n=i + 1, cs=cs, fam=fam, giv=giv, keep=keep, addr=addr, pid=pid))
    return plan


def read_outputs(outdir):
    got = {}
    for root, _, files in os.walk(outdir):
        for f in files:
            if f.endswith(".dcm"):
                p = os.path.join(root, f)
                got[int(pydicom.dcmread(p, stop_before_pixels=True).InstanceNumber)] = p
    return got


def ymd(s):
    return datetime.date(int(s[0:4]), int(s[4:6]), int(s[6:8]))


def raw_check(path, cs):
    """Raw bytes of every top-level text value: they decode under cs, hold
    no UTF-8 copy of the text (unless cs is UTF-8), and a 7-bit set (IR 87
    alone) has no byte >= 0x80."""
    want = cs.split("\\") if "\\" in cs else cs
    raw = pydicom.dcmread(path, stop_before_pixels=True)
    out_cs = raw.get("SpecificCharacterSet", "")
    if (list(out_cs) if not isinstance(out_cs, str) else out_cs) != want:
        bad("%s: SpecificCharacterSet %r, input had %r" % (cs, out_cs, want))
    encs = convert_encodings(want if isinstance(want, list) else [want])
    n = 0
    for tag in list(raw.keys()):
        r = raw.get_item(tag)
        if r is None or r.VR not in TEXT_VRS or not isinstance(r.value, bytes):
            continue
        b = r.value
        n += 1
        if cs in SEVEN_BIT and any(c >= 0x80 for c in b):
            bad("%s: %s raw value has 8-bit bytes in a 7-bit ISO 2022 object: %r" % (cs, tag, b[:40]))
        try:
            text = decode_bytes(b, encs, {0x5C, 0x5E, 0x3D} if r.VR == "PN" else {0x5C})
        except Exception as e:  # noqa: BLE001 - any failure is a finding
            bad("%s: %s raw value does not decode: %s" % (cs, tag, e))
            continue
        if cs != "ISO_IR 192" and any(ord(c) > 127 for c in text):
            u = text.strip().encode("utf-8")
            if u and u in b:
                bad("%s: %s holds the text as UTF-8 bytes" % (cs, tag))
    if n < 5:
        bad("%s: only %d text values read raw" % (cs, n))


def check(plan, outdir, time_mode):
    got = read_outputs(outdir)
    if len(got) != len(plan):
        bad("%s: %d outputs for %d inputs" % (time_mode, len(got), len(plan)))
    study_uids, pseud, deltas = set(), {}, {}
    for p in plan:
        tag = "%s [%s]" % (p["cs"], time_mode)
        path = got.get(p["n"])
        if not path:
            bad("%s: no output" % tag)
            continue
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        raw_check(path, p["cs"])
        if "OtherPatientIDs" in ds:
            bad("%s: remove: OtherPatientIDs still there" % tag)
        if "ReferringPhysicianName" not in ds or str(ds.ReferringPhysicianName) != "":
            bad("%s: empty: ReferringPhysicianName %r" % (tag, ds.get("ReferringPhysicianName")))
        if str(ds.get("OperatorsName", "")) != "ANONYMIZED":
            bad("%s: dummy: OperatorsName %r" % (tag, ds.get("OperatorsName")))
        if ds.get("ContentDate") != "19000101":
            bad("%s: dummy: ContentDate %r" % (tag, ds.get("ContentDate")))
        su = str(ds.get("StudyInstanceUID", ""))
        if not re.fullmatch(r"2\.25\.[1-9][0-9]{0,38}", su):
            bad("%s: uid: StudyInstanceUID %r is not a 2.25 UID" % (tag, su))
        study_uids.add(su)
        pid = str(ds.get("PatientID", ""))
        if not (len(pid) == 13 and pid[0] == "P" and set(pid[1:]) <= ALPHABET):
            bad("%s: pseudonym: PatientID %r" % (tag, pid))
        if p["pid"] in pid:
            bad("%s: pseudonym: holds the original" % tag)
        if pseud.setdefault(p["pid"], pid) != pid:
            bad("%s: pseudonym: %s gave %s and %s" % (tag, p["pid"], pseud[p["pid"]], pid))
        # shift-date
        sd = ds.get("StudyDate", "")
        if len(sd) != 8:
            bad("%s: shift: StudyDate %r" % (tag, sd))
            continue
        delta = (ymd(sd) - ymd("20240401")).days
        if not -40 <= delta <= -10:
            bad("%s: shift: StudyDate delta %d outside -40:-10" % (tag, delta))
        if deltas.setdefault(p["pid"], delta) != delta:
            bad("%s: shift: one patient, deltas %d and %d" % (tag, deltas[p["pid"]], delta))
        want = (ymd("20240401") + datetime.timedelta(days=delta)).strftime("%Y%m%d")
        dt = ds.get("AcquisitionDateTime", "")
        want_dt = want + ("123456.123456" if time_mode == "keep" else "")
        if dt != want_dt:
            bad("%s: shift: AcquisitionDateTime %r, wanted %r" % (tag, dt, want_dt))
        want3 = (ymd("20240403") + datetime.timedelta(days=delta)).strftime("%Y%m%d")
        if ds.get("FrameReferenceDateTime", "") != want3:
            bad("%s: shift: FrameReferenceDateTime (DT, no time) %r, wanted %r"
                % (tag, ds.get("FrameReferenceDateTime"), want3))
        tm = ds.get("StudyTime", None)
        want_tm = "101112.73" if time_mode == "keep" else ""
        if tm is None or str(tm) != want_tm:
            bad("%s: shift: StudyTime (TM) %r, wanted %r" % (tag, tm, want_tm))
        want2 = (ymd("20240402") + datetime.timedelta(days=delta)).strftime("%Y%m%d")
        if ds.get("SeriesDate", "") != want2:
            bad("%s: clean: SeriesDate (DA) %r, wanted %r" % (tag, ds.get("SeriesDate"), want2))
        # clean of text: identifiers gone, the keep word stays
        for kw in ("StudyDescription", "PatientComments"):
            v = str(ds.get(kw, ""))
            for ident in (p["fam"], p["pid"], "2024-04-01", "03-5555-0199", "97123456"):
                if ident in v:
                    bad("%s: clean: %s keeps %r: %r" % (tag, kw, ident, v))
            if p["keep"] not in v:
                bad("%s: clean: %s lost the keep word %r: %r" % (tag, kw, p["keep"], v))
        age = ds.get("PatientAge", "")
        want_age = "090Y" if p["n"] % 2 == 1 else "045Y"
        if age != want_age:
            bad("%s: generalize-age: %r, wanted %r" % (tag, age, want_age))
        if ds.get("PatientBirthDate", "") != "19370401":
            bad("%s: truncate-date: %r" % (tag, ds.get("PatientBirthDate")))
        addr = ds.get("PatientAddress", None)
        if p["addr"]:
            if addr is None or str(addr) != "東京都千代田区":
                bad("%s: generalize-address: %r" % (tag, addr))
        elif addr is not None and str(addr) != "":
            bad("%s: generalize-address: an address with no prefecture kept: %r" % (tag, addr))
    if len(study_uids) != 1 or "1.2.999.7731.88.1" in study_uids:
        bad("[%s] uid: one original StudyInstanceUID gave %r" % (time_mode, sorted(study_uids)))


def main():
    indir = os.path.join(WORK, "act-in")
    plan = make_inputs(indir)
    key = os.path.join(WORK, "act.key")
    if not os.path.exists(key):
        subprocess.run([KAKOU, "key", "new", key], check=True, capture_output=True)
    for mode in ("keep", "remove"):
        prof = os.path.join(WORK, "by-value-%s.kkp" % mode)
        with open(prof, "w") as f:
            f.write(PROFILE % mode)
        out = os.path.join(WORK, "act-out-" + mode)
        r = subprocess.run([KAKOU, "deid", "-q", "-p", prof, "-k", key, "-o", out, indir],
                           capture_output=True, text=True)
        if r.returncode != 0:
            bad("deid (%s) exit %d: %s" % (mode, r.returncode, r.stderr.strip()[:500]))
            continue
        check(plan, out, mode)
    for m in fails:
        print("not ok:", m)
    print("%d inputs in %d character sets, 2 runs, %d failures" % (len(plan), len(CHARSETS), len(fails)))
    sys.exit(1 if fails else 0)


if KAKOU is None:
    print("\n".join(sorted(CHARSETS)))
else:
    main()
