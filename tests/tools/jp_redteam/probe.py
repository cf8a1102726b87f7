#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tests/tools/jp_redteam/probe.py - red-team probe of the free-text cleaner
(issue 13). Not run by any test: a tool to find classes the cleaner misses.

  probe.py WORKDIR [SET...]     SET: 1 to 8 (default: 1, 2, 3)
  KAKOU=path/to/kakou (default: build/kakou of this tree)

Plants each phrase of set1.py .. set8.py (identifiers with the parts
that must go, and clinical phrases that must stay) into ImageComments,
StudyDescription, AdditionalPatientHistory, a RequestAttributesSequence
item or an SR TEXT item of the bundled sample (testdata/sample, `make
run`), in UTF-8; a subset also as Shift_JIS and EUC-JP declared ISO_IR 100,
EUC-JP, UTF-8 and ISO 2022 IR 87 with no Specific Character Set, UTF-8
under ISO_IR 6, and half-width katakana bytes undeclared. Runs kakou deid
-p jp-pseudonymized once over all of them and prints one line a phrase
(its output and the parts found), then a summary: identifiers left whole
or in part (searched in every text element, in every decoding of its
bytes, width, kana and kanji numerals folded), clinical phrases changed,
and values whose bytes are not valid in the declared set.
"""
import copy, os, re, shutil, subprocess, sys, unicodedata, json
HERE = os.path.dirname(os.path.abspath(__file__))
TREE = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(TREE, "tests", "tools"))
import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
import jp_text_planted as J

KANJI_NUM = str.maketrans("〇一二三四五六七八九", "0123456789")

def norm(s):
    s = unicodedata.normalize("NFKC", s).casefold()
    s = "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in s)
    s = s.translate(KANJI_NUM)
    return re.sub(r"[\s\u3000]+", "", s)

def part_re(p):
    n = norm(p)
    if re.fullmatch(r"[0-9][0-9/\-.:()]*", n):
        ds = re.sub(r"[^0-9]", "", n)
        return re.compile(r"(?<![0-9])" + r"[\s\-/.:()‐−ー・]*".join(ds) + r"(?![0-9])")
    return re.compile(re.escape(n))

def found(parts, text):
    t = norm(text)
    return [p for p in parts if part_re(p).search(t)]

ATTRS = ["ImageComments", "ImageComments", "StudyDescription", "AdditionalPatientHistory", "RequestAttributesSequence", "SR"]

def find_text_item(ds):
    for it in ds.get("ContentSequence", []):
        if it.get("ValueType") == "TEXT":
            return it
        r = find_text_item(it)
        if r is not None:
            return r
    return None

def plant(base_ct, base_sr, idx, text_bytes, charset, attr):
    """Returns dataset with the phrase planted as raw bytes."""
    ds = copy.deepcopy(base_sr if attr == "SR" else base_ct)
    if charset is None:
        if "SpecificCharacterSet" in ds: del ds.SpecificCharacterSet
    else:
        ds.add_new(0x00080005, "CS", charset)
    # own name as plain ASCII so all charsets are fine
    ds.add_new(0x00100010, "PN", b"Yamada^Tarou")
    ds.add_new(0x00080090, "PN", b"Suzuki^Hanako")
    ds.InstanceNumber = idx
    uid = "2.25.7313%06d" % idx
    ds.SOPInstanceUID = uid + "1"; ds.file_meta.MediaStorageSOPInstanceUID = uid + "1"
    if attr == "SR":
        it = find_text_item(ds)
        if it is None:
            it = Dataset(); it.RelationshipType = "CONTAINS"; it.ValueType = "TEXT"
            cn = Dataset(); cn.CodeValue = "121071"; cn.CodingSchemeDesignator = "DCM"; cn.CodeMeaning = "Finding"
            it.ConceptNameCodeSequence = Sequence([cn]); ds.ContentSequence = Sequence([it])
        it.add_new(0x0040A160, "UT", text_bytes)
    elif attr == "RequestAttributesSequence":
        item = Dataset(); item.add_new(0x00321060, "LO", text_bytes)
        ds.RequestAttributesSequence = Sequence([item])
    else:
        tag = pydicom.datadict.tag_for_keyword(attr)
        ds.add_new(tag, pydicom.datadict.dictionary_VR(tag), text_bytes)
    return ds

ENCS = {  # name: (codec, charset)
    "utf8": ("utf-8", "ISO_IR 192"),
    "sjis100": ("cp932", "ISO_IR 100"),
    "euc100": ("euc_jp", "ISO_IR 100"),
    "eucnone": ("euc_jp", None),
    "utf8_6": ("utf-8", "ISO_IR 6"),
    "utf8none": ("utf-8", None),
    "jisnone": ("iso2022_jp", None),
    "ir13none": ("ir13", None),
}

def enc_bytes(text, codec):
    if codec == "ir13":
        h = J.halfwidth(text)
        if not all(ord(c) < 0x80 or "\uff61" <= c <= "\uff9f" for c in h):
            return None
        return h.encode("shift_jis")
    try:
        return text.encode(codec)
    except UnicodeEncodeError:
        return None

def all_decodings(raw, cs):
    outs = []
    try:
        outs.append(J.decode(raw, cs))
    except Exception:
        pass
    for c in ("utf-8", "cp932", "euc_jp", "iso2022_jp", "latin-1"):
        try:
            outs.append(raw.decode(c, errors="ignore"))
        except Exception:
            pass
    outs.append(re.sub(rb"\x1b(\(B|\(J|\$B|\$@|\)I)", b"", raw).decode("latin-1"))
    return outs

def main():
    work = sys.argv[1]
    kakou = os.environ.get("KAKOU", TREE + "/build/kakou")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work + "/in")
    base_ct = pydicom.dcmread(TREE + "/testdata/sample/ct-1.dcm")
    base_sr = pydicom.dcmread(TREE + "/testdata/sample/sr-1.dcm")
    cases = []  # idx, kind, enc, text, parts, attr
    idx = 1
    sets = sys.argv[2:] or ["1", "2", "3"]
    IDS, CLIN = [], []
    for n in sets:
        m = __import__("set" + n)
        IDS += m.IDS
        CLIN += m.CLIN
    for i, (t, parts) in enumerate(IDS):
        cases.append((idx, "id", "utf8", t, parts, ATTRS[i % len(ATTRS)])); idx += 1
    for i, t in enumerate(CLIN):
        cases.append((idx, "clin", "utf8", t, [t], ATTRS[i % len(ATTRS)])); idx += 1
    kana_ids = [("ﾜﾀﾅﾍﾞ ｹﾝｲﾁ ｻﾏ ﾗｲｲﾝ", ["ﾜﾀﾅﾍﾞ", "ｹﾝｲﾁ"]), ("ｲﾗｲｲ ﾅｶﾑﾗ ﾏｺﾄ", ["ﾅｶﾑﾗ", "ﾏｺﾄ"]),
                ("TEL 090-1111-2222 ｺﾊﾞﾔｼ", ["1111", "2222", "ｺﾊﾞﾔｼ"]), ("ｶｿﾞｸ ｻｻｷ ﾖｳｺ", ["ｻｻｷ", "ﾖｳｺ"])]
    kana_clin = ["ｷｮｳﾌﾞ ｼｮｳﾒﾝ", "ﾌｸﾌﾞ CT ｿﾞｳｴｲ", "ｹｲｶ ｶﾝｻﾂ", "ﾄｳﾌﾞ MRI"]
    sub_ids = IDS[::5]; sub_clin = CLIN[::4]
    for e in ENCS:
        if e == "utf8":
            continue
        pool = [(t, p, "id") for t, p in sub_ids] + [(t, [t], "clin") for t in sub_clin]
        if e == "ir13none":
            pool = [(t, p, "id") for t, p in kana_ids] + [(t, [t], "clin") for t in kana_clin]
        for j, (t, p, k) in enumerate(pool):
            if enc_bytes(t, ENCS[e][0]) is None:
                continue
            cases.append((idx, k, e, t, p, ["ImageComments", "StudyDescription", "AdditionalPatientHistory", "SR"][j % 4])); idx += 1
    for (i, k, e, t, p, a) in cases:
        codec, cs = ENCS[e]
        b = enc_bytes(t, codec)
        if len(b) % 2: b += b" "
        ds = plant(base_ct, base_sr, i, b, cs, a)
        ds.save_as("%s/in/%04d.dcm" % (work, i), write_like_original=False)
    r = subprocess.run([kakou, "key", "new", work + "/key"], capture_output=True)
    r = subprocess.run([kakou, "deid", "-q", "-j", "2", "-p", "jp-pseudonymized", "-k", work + "/key", "--db", work + "/db",
                        "-o", work + "/out", work + "/in"], capture_output=True, text=True)
    if r.returncode:
        print("deid exit", r.returncode, r.stderr[:2000])
    outs = {}
    for root, _, files in os.walk(work + "/out"):
        for f in files:
            if not f.endswith(".dcm"): continue
            path = os.path.join(root, f)
            ds = pydicom.dcmread(path)
            els = []
            J.walk(ds, "", els)
            outs[int(ds.InstanceNumber)] = (ds, els)
    stats = {}
    lines = []
    for (i, k, e, t, p, a) in cases:
        key = (k, "utf8" if e == "utf8" else "charset")
        st = stats.setdefault(key, {"n": 0, "whole": 0, "part": 0, "dropped": 0, "changed": 0, "badbytes": 0})
        st["n"] += 1
        if i not in outs:
            lines.append("%04d %-8s %-5s NOFILE | %s" % (i, e, k, t)); st["dropped"] += 1; continue
        ds, els = outs[i]
        target = None; hits = set(); bad = False
        for path, kw, vr, raw, cs in els:
            if kw in ("PatientName", "ReferringPhysicianName", "OperatorsName", "VerifyingObserverName"):
                pass
            if not J.strict_valid(raw, cs):
                bad = True
            want = {"SR": "TextValue", "RequestAttributesSequence": "RequestedProcedureDescription"}.get(a, a)
            # a part of three ASCII characters or fewer (AS, Lee) is looked
            # for in the planted element only: elsewhere it is any word
            parts = p if kw == want else [x for x in p if not (x.isascii() and len(x) <= 3)]
            for d in all_decodings(raw, cs):
                hits.update(found(parts, d))
            if kw == want:
                try: target = J.decode(raw, cs)
                except Exception: target = "<undecodable>"
        if bad: st["badbytes"] += 1
        flag = ""
        if k == "id":
            if hits and len(hits) == len(p): flag = "LEAK-WHOLE"; st["whole"] += 1
            elif hits: flag = "LEAK-PART"; st["part"] += 1
            else: flag = "ok"
        else:
            if target is None: flag = "DROPPED"; st["dropped"] += 1
            elif norm(t) not in norm(target): flag = "CHANGED"; st["changed"] += 1
            else: flag = "ok"
        if bad: flag += "+BADBYTES"
        lines.append("%04d %-8s %-4s %-12s %-10s | %s  =>  %s %s" % (i, e, k, flag, a[:10], t, target, sorted(hits) if hits else ""))
    for l in lines: print(l)
    print("SUMMARY", json.dumps({"%s/%s" % kk: v for kk, v in stats.items()}))

main()
