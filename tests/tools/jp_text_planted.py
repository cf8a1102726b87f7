#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Japanese free text planted in DICOM, and the check of what survives (issue 13).

  jp_text_planted.py make OUTDIR [--seed N] [--files-per-encoding N]
      writes OUTDIR/dicom/*.dcm and OUTDIR/planted.json
  jp_text_planted.py check OUTDIR/planted.json OUTPUT_DIR [--store DB]
      prints one line per problem and a summary; exit 1 on any problem

The set is generated from classes, not fixed strings: patient and other
people's names drawn from MeCab IPAdic's person names (kanji and reading),
written in kanji, katakana, hiragana, half-width katakana and romaji
(Hepburn, Kunrei, long vowels as ou/o/oh/ō); addresses from prefecture,
municipality, a town name from the dictionary's place names, 丁目/番地/号 or
N-N-N, building and room; postal codes; My Numbers, insurer numbers with
valid check digits, passport numbers, phone numbers in any width and
separator style; era and Gregorian dates of the patient. Each goes into
descriptive attributes (cleaned), PatientAddress, InstitutionAddress,
OtherPatientIDs, a RequestAttributesSequence item and a safe-list private
element, with must-keep clinical phrases in the same values, encoded as
ISO_IR 192, ISO 2022 IR 13\\IR 87, IR 87 alone, ISO_IR 13, Shift_JIS
declared ISO_IR 100, Shift_JIS with no Specific Character Set and EUC-JP
declared ISO_IR 100 (bytes Latin-1 allows: no C1 gives them away). Kanji
whose JIS code has 0x3D or 0x5C as a byte are planted on purpose.

The check looks for every identifier, whole and in parts, in every text
element of the outputs: decoded (pydicom), NFKC-folded and case-folded;
and in the element's raw bytes as UTF-8, Shift_JIS, EUC-JP and ISO-2022-JP
with escapes stripped. Numbers are found with any separators between
their digits. It also checks that every text element's bytes are valid in
the declared character set, that DCMTK (dcm2json) decodes them as pydicom
does where DCMTK supports the set, that >= 95% of the must-keep phrases
stay, and (with --store) that no pseudonym row was made for a My Number.
"""
import json
import os
import random
import re
import subprocess
import sys
import unicodedata

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

IPADIC = "/usr/share/mecab/dic/ipadic"

CLINICAL = [
    "腹部単純CT", "胸部X線正面", "頭部MRI T2強調", "脳梗塞疑い", "造影剤アレルギーなし",
    "肝S8に低吸収域", "左肺上葉に結節影", "前回比較で著変なし", "第3腰椎圧迫骨折",
    "右腎結石", "冠動脈石灰化", "大動脈解離なし", "胆嚢ポリープ", "甲状腺腫大なし",
    "膵頭部腫瘤疑い", "心拡大なし", "胸水少量", "肺気腫", "経過観察", "術後評価",
]
CLINICAL_EN = ["CHEST PA", "T2 FLAIR AX", "follow up", "no acute findings", "contrast enhanced"]
CLINICAL_KANA = ["ｹｲｶ ｶﾝｻﾂ", "ｼﾞｭﾂｺﾞ ﾋｮｳｶ", "ｷｮｳﾌﾞ X ｾﾝ", "CT ｿﾞｳｴｲ ﾅｼ"]

PLACES = [("東京都", "世田谷区", "154"), ("大阪府", "大阪市北区", "530"), ("神奈川県", "横浜市中区", "231"),
          ("愛知県", "名古屋市中区", "460"), ("福岡県", "福岡市博多区", "812"), ("北海道", "札幌市中央区", "060"),
          ("京都府", "京都市左京区", "606"), ("宮城県", "仙台市青葉区", "980"), ("埼玉県", "川口市", "332"),
          ("千葉県", "船橋市", "273"), ("兵庫県", "神戸市中央区", "650"), ("広島県", "広島市中区", "730")]
BUILDINGS = ["グランハイツ", "メゾン", "コーポ", "パークマンション", "レジデンス", "ハイム"]
CUES_BEFORE = ["主治医 ", "主治医：", "依頼医:", "依頼医 ", "担当技師 ", "担当看護師 ", "キーパーソン（長女）",
               "家族連絡先 ", "連絡先：妻 ", "長男 ", "紹介元 ", "報告者 "]
CUES_AFTER = ["先生", " 先生", "様", "さん", " 医師", "氏"]
EN_CUES = ["Dr.{R}", "Dr. {R}", "Dr {R}", "contact: daughter {G} {R}", "referred by Dr {R}",
           "Mr. {R}", "Mrs {R}", "wife {G} {R}", "{R}-sama", "{G} {R} (son)"]

KANA_ROMA = {
    "ア": "a", "イ": "i", "ウ": "u", "エ": "e", "オ": "o", "カ": "ka", "キ": "ki", "ク": "ku", "ケ": "ke",
    "コ": "ko", "ガ": "ga", "ギ": "gi", "グ": "gu", "ゲ": "ge", "ゴ": "go", "サ": "sa", "シ": "shi",
    "ス": "su", "セ": "se", "ソ": "so", "ザ": "za", "ジ": "ji", "ズ": "zu", "ゼ": "ze", "ゾ": "zo",
    "タ": "ta", "チ": "chi", "ツ": "tsu", "テ": "te", "ト": "to", "ダ": "da", "ヂ": "ji", "ヅ": "zu",
    "デ": "de", "ド": "do", "ナ": "na", "ニ": "ni", "ヌ": "nu", "ネ": "ne", "ノ": "no", "ハ": "ha",
    "ヒ": "hi", "フ": "fu", "ヘ": "he", "ホ": "ho", "バ": "ba", "ビ": "bi", "ブ": "bu", "ベ": "be",
    "ボ": "bo", "パ": "pa", "ピ": "pi", "プ": "pu", "ペ": "pe", "ポ": "po", "マ": "ma", "ミ": "mi",
    "ム": "mu", "メ": "me", "モ": "mo", "ヤ": "ya", "ユ": "yu", "ヨ": "yo", "ラ": "ra", "リ": "ri",
    "ル": "ru", "レ": "re", "ロ": "ro", "ワ": "wa", "ヲ": "o", "ン": "n",
}
YOON = {"ャ": "ya", "ュ": "yu", "ョ": "yo"}


def romaji(kata, style):
    """Hepburn romaji of a katakana reading; style picks the long-vowel form."""
    out = ""
    i = 0
    sokuon = False
    while i < len(kata):
        c = kata[i]
        if c == "ッ":
            sokuon = True
            i += 1
            continue
        if c == "ー":
            out += {"macron": "", "ou": out[-1:] if out else "", "o": "", "oh": "h"}[style]
            i += 1
            continue
        r = KANA_ROMA.get(c)
        if r is None:
            return None
        if i + 1 < len(kata) and kata[i + 1] in YOON:
            y = YOON[kata[i + 1]]
            r = (r[:-1] if r not in ("shi", "chi", "ji") else r[:-1]) + (y if r not in ("shi", "chi", "ji") else y[1:])
            i += 1
        if sokuon:
            r = ("t" if r.startswith("ch") else r[0]) + r
            sokuon = False
        out += r
        i += 1
    # long vowels: ou / uu
    if style == "o":
        out = out.replace("ou", "o").replace("uu", "u")
    elif style == "oh":
        out = re.sub(r"ou(?![aeiou])", "oh", out).replace("uu", "u")
    elif style == "macron":
        out = out.replace("ou", "ō").replace("uu", "ū")
    return out


def kata2hira(s):
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in s)


def halfwidth(s):
    table = {}
    for cp in range(0xFF61, 0xFFA0):
        full = unicodedata.normalize("NFKC", chr(cp))
        if len(full) == 1:
            table[full] = chr(cp)
    out = ""
    for c in s:
        if c in table:
            out += table[c]
            continue
        d = unicodedata.normalize("NFD", c)
        if len(d) == 2 and d[0] in table and d[1] in ("\u3099", "\u309a"):
            out += table[d[0]] + ("ﾞ" if d[1] == "\u3099" else "ﾟ")
            continue
        out += c
    return out


def fullwidth(s):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c) for c in s)


# every kana word this file writes into the texts, and every kanji word
with open(__file__, encoding="utf-8") as _src:
    _text = _src.read()
    TEMPLATE_KANA = " ".join(re.findall("[\u3041-\u30ff]{3,}", _text))
    TEMPLATE_KANJI = " ".join(re.findall("[\u4e00-\u9fff]{2,}", _text))


def load_names(rng):
    sur, given = [], []
    with open(os.path.join(IPADIC, "Noun.name.csv"), encoding="euc_jp", errors="replace") as f:
        for line in f:
            p = line.rstrip("\n").split(",")
            if len(p) < 12:
                continue
            surf, kind, reading = p[0], p[7], p[11]
            if not (2 <= len(surf) <= 3) or not all("\u4e00" <= c <= "\u9fff" for c in surf):
                continue
            if not (3 <= len(reading) <= 6) or romaji(reading, "ou") is None:
                continue
            try:
                surf.encode("iso2022_jp")
                surf.encode("cp932")
            except UnicodeEncodeError:
                continue
            # a name that is also a place kept as the municipality (船橋市)
            if any(surf in p + c for p, c, _ in PLACES):
                continue
            # a reading inside a word the templates write (ナンバ in
            # マイナンバー) would be "found" where no name was put
            if reading in TEMPLATE_KANA or kata2hira(reading) in TEMPLATE_KANA:
                continue
            (sur if kind == "姓" else given).append((surf, reading))
    rng.shuffle(sur)
    rng.shuffle(given)
    return sur, given


def load_towns(rng):
    towns = []
    with open(os.path.join(IPADIC, "Noun.place.csv"), encoding="euc_jp", errors="replace") as f:
        for line in f:
            p = line.split(",")
            if len(p) > 7 and p[6] == "地域" and p[7] == "一般" and 2 <= len(p[0]) <= 4 and \
                    all("\u4e00" <= c <= "\u9fff" for c in p[0]) and \
                    not p[0].endswith(("市", "区", "町", "村", "県", "都", "府", "道")) and \
                    not any(p[0] in pr + c for pr, c, _ in PLACES) and p[0] not in TEMPLATE_KANJI:
                # (a town named like a kept prefecture or city, 北海道 in
                # 仙台市青葉区, or like a word of the texts, 正面, would be
                # found where it was never put as a town)
                try:
                    p[0].encode("iso2022_jp")
                    towns.append(p[0])
                except UnicodeEncodeError:
                    pass
    rng.shuffle(towns)
    return towns


def my_number(rng):
    d = [rng.randrange(10) for _ in range(11)]
    s = sum(d[10 - (k - 1)] * (k + 1 if k <= 6 else k - 5) for k in range(1, 12))
    r = s % 11
    return "".join(map(str, d)) + str(0 if r <= 1 else 11 - r)


def insurer(rng):
    d = rng.choice(["01", "06", "31", "32", "34", "39", "63"]) + "".join(str(rng.randrange(10)) for _ in range(5))
    s = 0
    for k in range(7):
        v = int(d[6 - k]) * (2 if k % 2 == 0 else 1)
        s += v // 10 + v % 10
    return d + str((10 - s % 10) % 10)


def phone(rng):
    a = rng.choice(["03", "06", "045", "052", "090", "080", "0120"])
    b = "".join(str(rng.randrange(10)) for _ in range(4 if len(a) == 2 or a.startswith("0") and len(a) == 3 and a[1] in "89" else 3))
    c = "".join(str(rng.randrange(10)) for _ in range(4))
    return a, b, c


ENC = ["utf8", "ir13_87", "ir87", "ir13", "sjis100", "sjisnone", "euc100"]
CHARSET = {"utf8": "ISO_IR 192", "ir13_87": "ISO 2022 IR 13\\ISO 2022 IR 87", "ir87": "\\ISO 2022 IR 87",
           "ir13": "ISO_IR 13", "sjis100": "ISO_IR 100", "sjisnone": None, "euc100": "ISO_IR 100"}


EUC_FROM_CP932 = {0xFF0D: 0x2212, 0xFF5E: 0x301C, 0x2225: 0x2016, 0xFFE0: 0x00A2, 0xFFE1: 0x00A3,
                  0xFFE2: 0x00AC}


def encode(text, enc):
    """Bytes of a value as the encoding writes it (PS3.5 6.1.2.5 for ISO 2022)."""
    if enc == "utf8":
        return text.encode("utf-8")
    if enc in ("sjis100", "sjisnone"):
        return text.encode("cp932")
    if enc == "euc100":
        # CP932's own code points (full-width minus, wave dash...) as EUC-JP has them
        return text.translate(EUC_FROM_CP932).encode("euc_jp", errors="replace")
    if enc == "ir13":
        return text.encode("shift_jis")
    # ISO 2022: JIS X 0208 runs by escape, back to G0 before delimiters and at the end
    g0 = b"\x1b(J" if enc == "ir13_87" else b"\x1b(B"
    out = b""
    in_jis = False
    for ch in text:
        if ord(ch) < 0x80:
            if in_jis:
                out += g0
                in_jis = False
            out += ch.encode("ascii")
        elif "\uff61" <= ch <= "\uff9f":
            if in_jis:
                out += g0
                in_jis = False
            out += bytes([0xA1 + ord(ch) - 0xFF61])
        else:
            j = ch.encode("iso2022_jp")
            assert j.startswith(b"\x1b$B"), ch
            if not in_jis:
                out += b"\x1b$B"
                in_jis = True
            out += j[3:5]
    if in_jis:
        out += g0
    return out


def can_encode(text, enc):
    try:
        if enc == "ir13":
            return all(ord(c) < 0x80 or "\uff61" <= c <= "\uff9f" for c in text)
        if enc == "ir87":
            return not any("\uff61" <= c <= "\uff9f" for c in text) and bool(encode(text, enc) is not None)
        encode(text, enc)
        return True
    except (UnicodeEncodeError, AssertionError):
        return False


def person(rng, sur, given, enc):
    s, sr = sur.pop()
    g, gr = given.pop()
    style = rng.choice(["ou", "o", "oh"] + (["macron"] if enc == "utf8" else []))
    rs, rg = romaji(sr, style), romaji(gr, style)
    return {"kanji": (s, g), "kata": (sr, gr), "roma": (rs.capitalize(), rg.capitalize()),
            "roma_plain": (romaji(sr, "o").capitalize(), romaji(gr, "o").capitalize())}


def name_parts(p):
    """Identifier parts a person leaves: each name in each script."""
    parts = []
    for i in range(2):
        parts += [("name", p["kanji"][i]), ("name", p["kata"][i]), ("name", kata2hira(p["kata"][i])),
                  ("romaji", p["roma"][i]), ("romaji", p["roma_plain"][i])]
    return parts


def make(outdir, seed, per_enc):
    rng = random.Random(seed)
    sur, given = load_names(rng)
    towns = load_towns(rng)
    os.makedirs(os.path.join(outdir, "dicom"), exist_ok=True)
    files = []
    # kanji whose JIS bytes hold 0x3D or 0x5C (女 3D77, 宿 3D49, 表 493D, 申 3F3D, 能 473D)
    delim_kanji = ["女性", "宿泊", "表在", "申告", "機能"]
    n = 0
    for enc in ENC:
        for k in range(per_enc):
            n += 1
            pt = person(rng, sur, given, enc)
            others = [person(rng, sur, given, enc) for _ in range(4)]
            pref, city, zip3 = rng.choice(PLACES)
            town = towns.pop()
            chome = rng.choice(["{a}-{b}-{c}", "{a}丁目{b}番{c}号", "{a}丁目{b}-{c}", "{a}番地{b}"]).format(
                a=rng.randint(1, 9), b=rng.randint(1, 30), c=rng.randint(1, 20))
            bldg = rng.choice(BUILDINGS) + "{}号室".format(rng.randint(101, 909))
            zipc = "{}-{:04d}".format(zip3, rng.randint(0, 9999))
            mn = my_number(rng)
            ins = insurer(rng)
            pp = "T{}{:07d}".format(rng.choice("KRZ"), rng.randint(0, 9999999))
            ph = phone(rng)
            by, bm, bd = rng.randint(1935, 1988), rng.randint(1, 12), rng.randint(1, 28)
            era = ("昭和{}年{}月{}日".format(by - 1925, bm, bd) if by < 1989 else "平成{}年{}月{}日".format(by - 1988, bm, bd))
            ids = []   # (kind, value) that must not survive
            keep = []  # phrases that must stay
            texts = {}
            cl = rng.sample(CLINICAL, 8)
            dk = rng.choice(delim_kanji)
            if enc == "ir13":
                hw = halfwidth(pt["kata"][0]) + " " + halfwidth(pt["kata"][1])
                o = others[0]
                texts["StudyDescription"] = "{} {} CT".format(hw, rng.choice(CLINICAL_KANA))
                texts["ImageComments"] = "{} Dr.{} TEL {}-{}-{} {}".format(
                    CLINICAL_EN[0], o["roma"][0], ph[0], ph[1], ph[2], CLINICAL_EN[2])
                texts["PatientComments"] = "{} {} {}".format(CLINICAL_EN[3], "MN {} {} {}".format(mn[:4], mn[4:8], mn[8:]), CLINICAL_EN[4])
                texts["RequestedProcedureDescription"] = "{} {}-sama".format(CLINICAL_EN[1], o["roma"][0])
                keep += ["CHEST PA", "follow up", "no acute findings", "contrast enhanced", "T2 FLAIR AX"]
                ids += [("name", pt["kata"][0]), ("name", pt["kata"][1]), ("romaji", o["roma"][0]),
                        ("number", mn), ("number", "".join(ph))]
                address = None
            else:
                o1, o2, o3, o4 = others
                cue1 = rng.choice(CUES_BEFORE)
                cue2 = rng.choice(CUES_AFTER)
                own_form = rng.choice(["hw", "hira", "kata", "kanji", "roma"])
                own = {"hw": halfwidth(pt["kata"][0] + " " + pt["kata"][1]),
                       "hira": kata2hira(pt["kata"][0]) + " " + kata2hira(pt["kata"][1]),
                       "kata": pt["kata"][0] + pt["kata"][1],
                       "kanji": pt["kanji"][0] + "　" + pt["kanji"][1],
                       "roma": pt["roma"][1] + " " + pt["roma"][0].upper()}[own_form]
                if enc in ("ir87",) and own_form == "hw":
                    own = pt["kata"][0] + " " + pt["kata"][1]
                en = rng.choice(EN_CUES).format(R=o3["roma"][0], G=o3["roma"][1])
                fwphone = fullwidth("TEL {}-{}-{}".format(*ph))
                sep = rng.choice([" ", "-", "　", ""])
                mn_text = sep.join([mn[:4], mn[4:8], mn[8:]])
                if rng.random() < 0.5:
                    mn_text = fullwidth(mn_text)
                texts["StudyDescription"] = "{} {}".format(cl[0], own)
                texts["SeriesDescription"] = "{}。{}生 {}".format(cl[1], era, dk)
                texts["ImageComments"] = "{}{}{}{} {}。{} {}".format(
                    cl[2], cue1, o1["kanji"][0] + rng.choice(["", " ", "　"]) + o1["kanji"][1], cue2 if cue1.startswith(("主治", "依頼", "紹介")) else "", cl[3], en, cl[4])
                texts["AdditionalPatientHistory"] = "{} 担当技師 {} {}。家族連絡先 {} {}".format(
                    cl[5], o2["kanji"][0], cl[6], o4["kanji"][0] + o4["kanji"][1], fwphone)
                texts["PatientComments"] = "マイナンバー {} {}".format(mn_text, cl[7])
                texts["RequestedProcedureDescription"] = "{} 住所 {}{}{}{}".format(cl[0], pref, city, town, chome)
                texts["Occupation"] = "K{}".format(rng.randint(10000, 99999))
                keep += cl[:8] + [dk]
                ids += name_parts(pt)[:3] + name_parts(pt)[5:8]
                ids += [("name", o1["kanji"][0]), ("name", o1["kanji"][1]), ("romaji", o3["roma"][0]),
                        ("name", o2["kanji"][0]), ("name", o4["kanji"][0]), ("name", o4["kanji"][1]),
                        ("number", mn), ("number", "".join(ph)), ("text", era), ("text", town),
                        ("number", re.sub(r"\D", "", chome)), ("text", texts["Occupation"])]
                if "{G}" in en or "daughter" in en or "wife" in en or "son)" in en:
                    ids.append(("romaji", o3["roma"][1]))
                address = "〒{} {}{}{}{} {}".format(zipc, pref, city, town, chome, bldg)
                ids += [("number", zipc.replace("-", "")), ("text", bldg[:-5] if False else re.sub(r"\d+号室", "", bldg)),
                        ("number", re.sub(r"\D", "", bldg))]
            if enc in ("ir87", "ir13_87"):
                # JIS X 0208 has the minus sign (0x215D), not U+FF0D
                texts = {k: v.replace("\uff0d", "\u2212") for k, v in texts.items()}
            files.append(dict(path="f{:03d}_{}.dcm".format(n, enc), enc=enc, texts=texts, address=address,
                              pn=pt, others=[], ids=ids, keep=keep, my_number=mn, insurer=ins, passport=pp,
                              patient_id="PID{:06d}".format(n), birth="{:04d}{:02d}{:02d}".format(by, bm, bd)))
    for f in files:
        write(outdir, f)
    with open(os.path.join(outdir, "planted.json"), "w", encoding="utf-8") as fp:
        json.dump(files, fp, ensure_ascii=False, indent=1)
    print("{} files".format(len(files)))


def write(outdir, f):
    enc = f["enc"]
    ds = Dataset()
    fm = FileMetaDataset()
    fm.TransferSyntaxUID = ExplicitVRLittleEndian
    fm.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    uid = "1.2.999.1313.{}".format(abs(hash(f["path"])) % 10**12)
    fm.MediaStorageSOPInstanceUID = uid + ".1"
    ds.file_meta = fm
    ds.SOPClassUID = fm.MediaStorageSOPClassUID
    ds.SOPInstanceUID = uid + ".1"
    ds.StudyInstanceUID = uid + ".2"
    ds.SeriesInstanceUID = uid + ".3"
    ds.Modality = "OT"
    ds.StudyDate = "20240401"
    ds.InstanceNumber = int(f["path"][1:4])
    if CHARSET[enc] is not None:
        ds.add_new(0x00080005, "CS", CHARSET[enc])
    ds.PatientID = f["patient_id"]
    ds.PatientBirthDate = f["birth"]
    p = f["pn"]
    if enc == "ir13":
        pn = "{}^{}={}^{}".format(p["roma"][0].upper(), p["roma"][1].upper(),
                                  halfwidth(p["kata"][0]), halfwidth(p["kata"][1]))
        pn = "{}^{}".format(p["roma_plain"][0].upper(), p["roma_plain"][1].upper())
    elif enc in ("sjis100", "sjisnone", "euc100"):
        pn = "{}^{}".format(p["kanji"][0], p["kanji"][1])
    else:
        pn = "{}^{}={}^{}={}^{}".format(p["roma"][0], p["roma"][1], p["kanji"][0], p["kanji"][1],
                                        p["kata"][0], p["kata"][1])
    ds.add_new(0x00100010, "PN", encode(pn, enc))
    vr = {"StudyDescription": "LO", "SeriesDescription": "LO", "ImageComments": "LT",
          "AdditionalPatientHistory": "LT", "PatientComments": "LT", "RequestedProcedureDescription": "LO",
          "Occupation": "SH"}
    for kw, text in f["texts"].items():
        tag = pydicom.datadict.tag_for_keyword(kw)
        ds.add_new(tag, vr[kw], encode(text, enc))
    if f["address"] and can_encode(f["address"], enc):
        ds.add_new(0x00101040, "LO", encode(f["address"], enc))
        ds.add_new(0x00080081, "ST", encode(f["address"], enc))
    # OtherPatientIDs: My Number with separators, an insurer number, a passport
    mn = f["my_number"]
    ds.add_new(0x00101000, "LO", "{} {} {}\\{}\\{}".format(mn[:4], mn[4:8], mn[8:], f["insurer"], f["passport"]).encode())
    # a request item with text, and a safe-list private element (GEMS_ACQU_01 LO)
    item = Dataset()
    if "RequestedProcedureDescription" in f["texts"]:
        item.add_new(0x00321060, "LO", encode(f["texts"]["RequestedProcedureDescription"], enc))
    ds.RequestAttributesSequence = Sequence([item])
    ds.add_new(0x00190010, "LO", b"GEMS_ACQU_01")
    priv = f["texts"].get("ImageComments", "")[:60]
    ds.add_new(0x0019109E, "LO", encode(priv, enc))
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.save_as(os.path.join(outdir, "dicom", f["path"]), write_like_original=False)


# --- check -------------------------------------------------------------------

TEXT_VRS = {"SH", "LO", "ST", "LT", "UT", "PN", "UC"}


def strict_valid(raw, charset):
    """Bytes valid in the declared set (the first value decides ISO 2022)."""
    terms = [t.strip() for t in (charset or "").split("\\")]
    if not raw:
        return True
    first = terms[0] if terms else ""
    if any(t.startswith("ISO 2022") for t in terms):
        g1_kana = "ISO 2022 IR 13" in terms
        parts = re.split(rb"(\x1b(?:\(B|\(J|\$B|\$@|\$\(D|\)I))", raw)
        mode = "roman" if first == "ISO 2022 IR 13" else "ascii"
        for p in parts:
            if p.startswith(b"\x1b"):
                mode = {b"\x1b(B": "ascii", b"\x1b(J": "roman", b"\x1b$B": "jis", b"\x1b$@": "jis",
                        b"\x1b$(D": "jis212", b"\x1b)I": mode}[p]
                if p == b"\x1b$B" and "ISO 2022 IR 87" not in terms:
                    return False
                continue
            if b"\x1b" in p:
                return False
            if mode in ("jis", "jis212"):
                if len(p) % 2 and not p.rstrip(b"\r\n"):
                    return False
                try:
                    (b"\x1b$B" + p).decode("iso2022_jp") if mode == "jis" else None
                except UnicodeDecodeError:
                    return False
                if any(b >= 0x80 for b in p):
                    return False
            else:
                for b in p:
                    if b >= 0x80 and not (g1_kana and 0xA1 <= b <= 0xDF):
                        return False
            for d in (b"^", b"=", b"\\"):
                pass
        # the value ends in the initial G0 set
        return mode in ("ascii", "roman") and not (first == "ISO 2022 IR 13" and raw.rfind(b"\x1b(B") >= 0)
    if first == "ISO_IR 192":
        try:
            raw.decode("utf-8")
            return True
        except UnicodeDecodeError:
            return False
    if first == "ISO_IR 13":
        return all(b < 0x80 or 0xA1 <= b <= 0xDF for b in raw)
    if first in ("ISO_IR 100", "ISO_IR 101", "ISO_IR 148", "ISO_IR 203"):
        return not any(0x80 <= b <= 0x9F for b in raw)
    if first in ("", "ISO_IR 6"):
        return all(b < 0x80 for b in raw)
    return True


def walk(ds, charset, out, path=""):
    """(path, keyword, VR, raw bytes, charset) of every text element, read
    before pydicom converts anything."""
    cs = ds.get_item((0x0008, 0x0005))
    if cs is not None:
        v = cs.value
        if isinstance(v, bytes):
            v = v.decode("ascii", "replace")
        charset = "\\".join(v) if isinstance(v, (list, pydicom.multival.MultiValue)) else str(v)
        charset = charset.strip(" \x00")
    for tag in list(ds.keys()):
        r = ds.get_item(tag)
        vr = r.VR
        if vr == "SQ":
            for i, it in enumerate(ds[tag].value):
                walk(it, charset, out, "{}{}[{}]>".format(path, tag, i))
            continue
        if vr in TEXT_VRS:
            raw = r.value
            if not isinstance(raw, bytes):
                continue
            kw = pydicom.datadict.keyword_for_tag(tag) or str(tag)
            out.append((path + str(tag), kw, vr, raw.rstrip(b" \x00"), charset))


def decode(raw, charset):
    encs = pydicom.charset.convert_encodings([t for t in (charset or "").split("\\")] if charset else ["ISO_IR 6"])
    return pydicom.charset.decode_bytes(raw, encs, {0x5c, 0x3d, 0x5e})


def fold(s):
    return unicodedata.normalize("NFKC", s).casefold()


def digits_re(num):
    # not inside a longer run of digits: a keyed pseudonym's digits may hold
    # any four-digit number by chance (seed 10 once failed on 3167 that way)
    return re.compile(r"(?<![0-9])" + r"[\s\-－ー‐−.・]*".join(re.escape(c) for c in num)
                      + r"(?![0-9])")


def raw_forms(text):
    forms = []
    for codec in ("utf-8", "cp932", "euc_jp"):
        try:
            forms.append(text.encode(codec))
        except UnicodeEncodeError:
            pass
    try:
        j = text.encode("iso2022_jp")
        forms.append(re.sub(rb"\x1b(\(B|\(J|\$B|\$@)", b"", j))
    except UnicodeEncodeError:
        pass
    return [f for f in forms if len(f) >= 4]


def dcmtk_values(path):
    """Text values as DCMTK decodes them (dcm2json), or None when it cannot."""
    try:
        r = subprocess.run(["dcm2json", path], capture_output=True, timeout=60)
    except FileNotFoundError:
        return None
    if r.returncode != 0:
        return None
    try:
        return json.loads(r.stdout.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None


def check(planted_path, outdir, store):
    planted = json.load(open(planted_path, encoding="utf-8"))
    outs = []
    for root, _, names in os.walk(outdir):
        for n in names:
            if n.endswith(".dcm") or not os.path.splitext(n)[1]:
                outs.append(os.path.join(root, n))
    by_pid = {}
    problems = []
    for o in outs:
        try:
            ds = pydicom.dcmread(o)
        except Exception as e:  # noqa
            problems.append("UNREADABLE {}: {}".format(o, e))
            continue
        by_pid.setdefault(str(ds.get("PatientID", "")), []).append((o, ds))
    if len(outs) < len(planted):
        problems.append("ONLY {} outputs for {} inputs".format(len(outs), len(planted)))
    # every identifier against every output (a name may travel)
    allids = []
    for f in planted:
        allids += [tuple(x) for x in f["ids"]]
    kept = total = 0
    invalid = dcmtk_diff = dcmtk_skip = elements = 0
    found = []
    alltexts = []
    for o in outs:
        try:
            ds = pydicom.dcmread(o)
        except Exception:  # noqa
            continue
        els = []
        walk(ds, None, els)
        dj = dcmtk_values(o)
        if dj is None:
            dcmtk_skip += 1
        for path, kw, vr, raw, cs in els:
            if kw in ("CodeValue", "CodingSchemeDesignator", "CodeMeaning", "DeidentificationMethod"):
                continue  # kakou's own records
            elements += 1
            if not strict_valid(raw, cs):
                invalid += 1
                problems.append("CHARSET {} {} {}: bytes not valid in '{}'".format(os.path.basename(o), path, kw, cs))
            try:
                txt = decode(raw, cs)
            except Exception as e:  # noqa
                problems.append("DECODE {} {}: {}".format(os.path.basename(o), path, e))
                continue
            if dj is not None and ">" not in path and vr != "PN":
                tag = path[1:5] + path[7:11]
                v = dj.get(tag.upper(), {}).get("Value")
                if v is not None and not (cs or "").startswith("ISO_IR 13"):
                    # (DCMTK reads 0x5C under ISO_IR 13 as a yen sign, so
                    # its multi-valued values differ from pydicom's there)
                    dv = "\\".join(str(x) for x in v)
                    if dv.strip() != txt.strip().rstrip("\x00"):
                        dcmtk_diff += 1
                        problems.append("DCMTK {} {}: DCMTK and pydicom decode differently".format(os.path.basename(o), kw))
            alltexts.append((o, kw, txt, raw, str(ds.get("InstanceNumber", ""))))
    for kind, value in set(allids):
        if not value or len(value) < 2:
            continue
        fv = fold(value)
        for o, kw, txt, raw, _ in alltexts:
            ft = fold(txt)
            hit = False
            if kind == "number":
                hit = len(value) >= 4 and (digits_re(value).search(ft) is not None)
            elif kind == "romaji":
                hit = len(fv) >= 3 and re.search(r"(?<![a-z]){}(?![a-z])".format(re.escape(fv)), ft) is not None
            else:
                hit = fv in ft or kata2hira(fv) in kata2hira(ft)
                if not hit:
                    hit = any(rf in raw for rf in raw_forms(value))
            if hit:
                found.append((kind, value, os.path.basename(o), kw))
    for kind, value, o, kw in found:
        problems.append("LEAK {} '{}' in {} {}".format(kind, value, o, kw))
    # must-keep phrases: in the same file's text
    for f in planted:
        num = str(int(f["path"][1:4]))
        texts = " ".join(fold(t) for _, _, t, _, inst in alltexts if inst == num)
        for ph in f["keep"]:
            total += 1
            if fold(ph) in texts:
                kept += 1
            else:
                print("lost: '{}' from {}".format(ph, f["path"]))
    if store:
        import sqlite3
        con = sqlite3.connect(store)
        n = con.execute("select count(*) from pseudonyms where domain='patient'").fetchone()[0]
        want = len(set(f["patient_id"] for f in planted))
        if n != want:
            problems.append("STORE {} patient pseudonyms for {} patients: an ID that is a personal code was stored".format(n, want))
    for p in problems:
        print(p)
    ratio = kept / total if total else 0
    print("summary: {} outputs, {} text elements, {} leaks, {} charset errors, DCMTK: {} differ, {} files it cannot read, "
          "must-keep {}/{} ({:.1%})".format(len(outs), elements, len(found), invalid, dcmtk_diff, dcmtk_skip, kept, total, ratio))
    if ratio < 0.95:
        print("KEEP only {:.1%} of must-keep phrases stay".format(ratio))
        return 1
    return 1 if problems else 0


def main():
    a = sys.argv[1:]
    if not a:
        print(__doc__)
        return 2
    if a[0] == "make":
        seed = int(a[a.index("--seed") + 1]) if "--seed" in a else 1313
        per = int(a[a.index("--files-per-encoding") + 1]) if "--files-per-encoding" in a else 4
        make(a[1], seed, per)
        return 0
    if a[0] == "check":
        store = a[a.index("--store") + 1] if "--store" in a else None
        return check(a[1], a[2], store)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
