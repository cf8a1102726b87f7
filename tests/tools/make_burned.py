#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tests/tools/make_burned.py - synthetic images with burned-in text (issue 4).

Usage: make_burned.py OUTDIR [--seed N] [--no-dicom]

Writes, for a few dozen synthetic ultrasound (US), secondary-capture (SC)
and other (OT) images, a CT screen capture without BurnedInAnnotation, an
MR that says NO, a CT without text, three cines (static banner, moving
text, a line in frames 2-3 of 6 only), colour text only its chroma shows,
a form written top to bottom, a DX whose label shows the name in romaji
while its header holds kanji and kana, and an MR mosaic with 10-11 px
text at the largest value:

  OUTDIR/dicom/NAME.dcm       the DICOM file (8-bit MONOCHROME2 or RGB; CT
                              and MR 12 bits in 16; multi-frame cines)
  OUTDIR/pgm/NAME_fNN.pgm     each frame's 8-bit luminance (what the codec
                              hands to text detection; RGB -> Y, BT.601)
  OUTDIR/pgm/NAME_fNN.mask.pgm  per-pixel ground truth: 0 background, else
                              the class code of the text item whose glyph
                              covers the pixel (1 name, 2 id, 3 date,
                              4 accession, 5 institution, 6 technical,
                              7 other text)
  OUTDIR/truth.json           per file: the identifiers the header carries
                              and, per frame, the ground-truth boxes with
                              class and text
  OUTDIR/truth.txt            the same for C tests, one "key<TAB>value" a
                              line: "image NAME_fNN" starts a frame, then
                              "notext 0|1", the identifiers ("name",
                              "id", "date", "accession", "institution")
                              and "box X Y W H" for each text box

Identifiers are fictitious. Japanese names carry romaji=kanji=kana groups
and are stored as ISO 2022 IR 87 (SpecificCharacterSet
"ISO 2022 IR 6\\ISO 2022 IR 87"). Text is DejaVu Sans (Latin) or IPA
Gothic (Japanese), 8-32 px, light-on-dark and dark-on-light, in corners,
banners and scattered over speckle; technical tokens (MI 1.2, TIs 0.4, cm
scales, FR 30Hz) sit beside them. Some images carry no text at all (for the
false-positive target). The output depends only on the seed.
"""
import json
import math
import os
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

CLASSES = {"name": 1, "id": 2, "date": 3, "accession": 4, "institution": 5,
           "technical": 6, "other": 7}

LATIN_FONTS = ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
               "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
               "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"]
JP_FONTS = ["/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
            "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
            "/usr/share/fonts/opentype/ipafont-gothic/ipagp.ttf"]

ERAS = [(2019, 5, 1, "令和", "R"), (1989, 1, 8, "平成", "H"),
        (1926, 12, 25, "昭和", "S"), (1912, 7, 30, "大正", "T")]
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP",
          "OCT", "NOV", "DEC"]

PATIENTS = [
    dict(pn="Yamada^Taro=山田^太郎=やまだ^たろう", id="12345678", birth="19700312",
         study="20240401", acc="A24040101", inst="Sakura General Hospital", jp=True),
    dict(pn="Suzuki^Hanako=鈴木^花子=すずき^はなこ", id="00981234", birth="19850705",
         study="20190430", acc="190430-77", inst="東京中央病院", jp=True),
    dict(pn="Smith^John", id="MRN4471902", birth="19581121", study="20231015",
         acc="ACC99817", inst="Riverside Clinic", jp=False),
    dict(pn="Tanaka^Kenji=田中^健二=たなか^けんじ", id="556677", birth="19450815",
         study="20250110", acc="RAD-2025-0042", inst="北山記念病院", jp=True),
    dict(pn="Kobayashi^Yuki=小林^由紀=こばやし^ゆき", id="P0033917", birth="19921203",
         study="20220722", acc="X7720221", inst="Minami Clinic", jp=True),
]

# a patient whose header holds no romaji (kakou reads the screen's by
# the name's reading)
KANA_ONLY = dict(pn="佐藤^一郎=サトウ^イチロウ", romaji="SATOH ICHIROU", id="PX778812",
                 birth="19610412", study="20240401", acc="A9981234", inst="Minami Clinic", jp=True)

TECHNICAL = ["MI 1.2", "MI 0.8", "TIs 0.4", "TIb 0.3", "TIc 0.1", "FR 30Hz",
             "FR 24 Hz", "G 50", "Gn 62", "C5-1", "L12-5", "DR 60", "2D",
             "PWR 100%", "cm", "R", "L", "5.0MHz", "Depth 16cm", "THI",
             "D 14.5cm", "P 100%", "Z 1.0"]
OTHER = ["LIVER", "ABDOMEN", "KIDNEY RT", "腹部", "肝臓", "TRANS", "SAG",
         "Thyroid", "右腎", "CAROTID L"]


def hira_to_kata(s):
    return "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" else c for c in s)


def era_of(y, m, d):
    for (ys, ms, ds, kanji, letter) in ERAS:
        if (y, m, d) >= (ys, ms, ds):
            return kanji, letter, y - ys + 1
    return None


def date_text(rng, da, kind):
    """One spelling of a DA value as a device might burn it in."""
    y, m, d = int(da[:4]), int(da[4:6]), int(da[6:8])
    era = era_of(y, m, d)
    forms = ["%04d/%02d/%02d" % (y, m, d), "%04d-%02d-%02d" % (y, m, d),
             "%02d.%02d.%04d" % (d, m, y), "%02d %s %04d" % (d, MONTHS[m - 1], y),
             "%04d%02d%02d" % (y, m, d)]
    if era:
        kanji, letter, ey = era
        forms += ["%s%d.%d.%d" % (letter, ey, m, d), "%s%d/%d/%d" % (letter, ey, m, d),
                  "%s%d年%d月%d日" % (kanji, ey, m, d)]
    f = forms[rng.integers(len(forms))]
    if kind == "birth":
        label = ["DOB ", "Birth: ", "生年月日 ", ""][rng.integers(4)]
    else:
        label = ["", "Date ", "検査日 ", ""][rng.integers(4)]
        if rng.random() < 0.5 and "年" not in f:
            f += " %02d:%02d" % (rng.integers(8, 19), rng.integers(60))
    return label + f


def name_text(rng, p):
    groups = p["pn"].split("=")
    fam, giv = groups[0].split("^")
    choices = [("latin", "%s %s" % (fam.upper(), giv.upper())),
               ("latin", "Name: %s^%s" % (fam, giv)),
               ("latin", "%s, %s" % (fam, giv)),
               ("latin", "%s %s" % (giv, fam))]
    if len(groups) == 3:
        kf, kg = groups[1].split("^")
        hf, hg = groups[2].split("^")
        choices += [("jp", "%s %s" % (kf, kg)), ("jp", "氏名 %s %s" % (kf, kg)),
                    ("jp", "患者名: %s%s" % (kf, kg)),
                    ("jp", "%s %s" % (hira_to_kata(hf), hira_to_kata(hg))),
                    ("jp", "%s %s" % (hf, hg))]
    return choices[rng.integers(len(choices))]


def id_text(rng, p):
    return ["ID: %s", "%s", "Patient ID %s", "患者ID %s", "PID:%s"][rng.integers(5)] % p["id"]


def acc_text(rng, p):
    return ["Acc: %s", "%s", "ACC# %s", "受付番号 %s"][rng.integers(4)] % p["acc"]


class Frame:
    """One frame: background, text items drawn with their glyph mask."""

    def __init__(self, w, h, rgb):
        self.w, self.h, self.rgb = w, h, rgb
        self.img = np.zeros((h, w, 3), np.float32)
        self.mask = np.zeros((h, w), np.uint8)
        self.boxes = []
        self.occupied = []

    def fits(self, x, y, bw, bh, margin=6):
        if x < 1 or y < 1 or x + bw >= self.w - 1 or y + bh >= self.h - 1:
            return False
        for (ox, oy, ow, oh) in self.occupied:
            if x < ox + ow + margin and ox < x + bw + margin and \
               y < oy + oh + margin and oy < y + bh + margin:
                return False
        return True

    def text(self, rng, s, cls, size, color, region, script="latin", tries=60):
        """Draw s somewhere in region (x0, y0, x1, y1); False if no room."""
        fonts = JP_FONTS if (script == "jp" or any(ord(c) > 0x2FFF for c in s)) else LATIN_FONTS
        font = ImageFont.truetype(fonts[rng.integers(len(fonts))], int(size))
        l, t, r, b = font.getbbox(s)
        bw, bh = r - l, b - t
        x0, y0, x1, y1 = region
        for _ in range(tries):
            if x1 - bw <= x0 or y1 - bh <= y0:
                return False
            x = int(rng.integers(x0, x1 - bw))
            y = int(rng.integers(y0, y1 - bh))
            if self.fits(x, y, bw, bh):
                break
        else:
            return False
        if callable(color):  # a colour chosen for what lies under the text
            color = color(self.img[y:y + bh, x:x + bw])
        self.draw_at(s, cls, font, x - l, y - t, color)
        return True

    def draw_at(self, s, cls, font, ox, oy, color, smooth=True):
        layer = Image.new("L", (self.w, self.h), 0)
        d = ImageDraw.Draw(layer)
        if not smooth:  # as a modality renders its overlay: no anti-aliasing
            d.fontmode = "1"
        d.text((ox, oy), s, font=font, fill=255)
        self.blend(np.asarray(layer, np.float32) / 255.0, s, cls, color)

    def blend(self, a, s, cls, color):
        """Lay colour over the frame with alpha a (0..1, frame-sized) and
        record the glyphs' mask and box."""
        ys, xs = np.nonzero(a)
        if len(xs) == 0:
            return
        col = np.asarray(color, np.float32)
        self.img = self.img * (1 - a[..., None]) + col[None, None, :] * a[..., None]
        self.mask[a > 0] = CLASSES[cls]
        box = [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)]
        self.occupied.append(box)
        self.boxes.append(dict(box=box, cls=cls, text=s))

    def draw_column(self, s, cls, font, x, y, color):
        """s written top to bottom, one character under the other (a
        Japanese form); one box for the column."""
        n0 = len(self.boxes)
        for ch in s:
            if ch != " ":
                self.draw_at(ch, cls, font, x, y, color)
            y += int(font.size * 1.1)
        mine = [b["box"] for b in self.boxes[n0:]]
        del self.boxes[n0:]
        del self.occupied[-len(mine):]
        x0 = min(b[0] for b in mine)
        y0 = min(b[1] for b in mine)
        x1 = max(b[0] + b[2] for b in mine)
        y1 = max(b[1] + b[3] for b in mine)
        box = [x0, y0, x1 - x0, y1 - y0]
        self.occupied.append(box)
        self.boxes.append(dict(box=box, cls=cls, text=s))

    def draw_rotated(self, s, cls, font, x, y, color, angle):
        """s turned by angle degrees (90: reading bottom to top), its
        top-left corner at (x, y)."""
        l, t, r, b = font.getbbox(s)
        layer = Image.new("L", (r - l + 4, b - t + 4), 0)
        ImageDraw.Draw(layer).text((2 - l, 2 - t), s, font=font, fill=255)
        layer = layer.rotate(angle, expand=True)
        a = np.zeros((self.h, self.w), np.float32)
        lw, lh = layer.size
        a[y:y + lh, x:x + lw] = np.asarray(layer, np.float32)[:self.h - y, :self.w - x] / 255.0
        self.blend(a, s, cls, color)

    def luminance(self):
        im = np.clip(self.img + 0.5, 0, 255).astype(np.uint8)
        if not self.rgb:
            return im[..., 0]
        y = 0.299 * im[..., 0] + 0.587 * im[..., 1] + 0.114 * im[..., 2]
        return np.clip(y + 0.5, 0, 255).astype(np.uint8)

    def pixels(self):
        im = np.clip(self.img + 0.5, 0, 255).astype(np.uint8)
        return im if self.rgb else im[..., 0]


def blur(a, radius):
    im = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    return np.asarray(im.filter(ImageFilter.GaussianBlur(radius)), np.float32)


def us_background(rng, f, apex=None, phase=0.0):
    """Speckle in a fan-shaped sector, with a few anatomical structures."""
    w, h = f.w, f.h
    ax, ay = apex or (w // 2, int(h * 0.09))
    r0, r1 = h * 0.08, h * 0.9
    half = math.radians(rng.uniform(32, 40))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = xx - ax, yy - ay
    r = np.hypot(dx, dy)
    th = np.arctan2(dx, dy)
    sector = (r > r0) & (r < r1) & (np.abs(th) < half)
    speck = rng.rayleigh(1.0, (h, w)).astype(np.float32) * 60
    speck = blur(speck, rng.uniform(0.8, 1.6))
    # tissue layers and a dark cyst
    tissue = 0.6 + 0.4 * np.sin(r / rng.uniform(25, 60) + phase)
    for _ in range(int(rng.integers(1, 4))):
        cx, cy = rng.uniform(w * 0.35, w * 0.65), rng.uniform(h * 0.35, h * 0.8)
        rr = rng.uniform(15, 50)
        tissue = tissue * np.where(np.hypot(xx - cx, yy - cy) < rr, 0.15, 1.0)
    bright = np.abs(r - rng.uniform(r0 + 60, r1 - 40)) < rng.uniform(2, 6)
    tissue = tissue + bright * 1.2
    gain = np.clip(1.4 - r / (r1 * 1.3), 0.3, 1.4)
    val = np.where(sector, speck * tissue * gain, 0) + rng.normal(0, 2, (h, w))
    val = np.clip(val, 0, 235)
    f.img[...] = val[..., None]
    # the scale: ticks down the right edge of the sector
    return dict(ax=ax, ay=ay, r0=r0, r1=r1, half=half)


def sc_background(rng, f):
    """Dark-on-light: a light page with a darker picture in the middle."""
    w, h = f.w, f.h
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = rng.uniform(190, 235) + (xx / w - 0.5) * rng.uniform(-20, 20)
    pic = blur(rng.normal(110, 40, (h, w)), 3.0)
    inside = (xx > w * 0.2) & (xx < w * 0.8) & (yy > h * 0.22) & (yy < h * 0.82)
    val = np.where(inside, pic, base) + rng.normal(0, 3, (h, w))
    f.img[...] = np.clip(val, 0, 255)[..., None]


def ot_background(rng, f):
    """A mid-grey smooth picture (CT/XA-like body) with mild noise."""
    w, h = f.w, f.h
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    body = ((xx - w / 2) / (w * 0.38)) ** 2 + ((yy - h / 2) / (h * 0.36)) ** 2 < 1
    val = np.where(body, 120 + 25 * np.sin(xx / 17.0) * np.cos(yy / 23.0), 15)
    val = blur(val, 2.0) + rng.normal(0, 4, (h, w))
    f.img[...] = np.clip(val, 0, 255)[..., None]


def page_background(rng, f):
    """A nearly blank scanned page: light, grainy, no picture."""
    val = rng.uniform(215, 240) + rng.normal(0, rng.uniform(3, 7), (f.h, f.w))
    f.img[...] = np.clip(val, 0, 255)[..., None]


def layout_vertical(rng, f, p):
    """A form written top to bottom: the identifiers in columns (kanji,
    digits written upright), a heading across, a column of other text."""
    groups = p["pn"].split("=")
    nm = groups[1 if len(groups) > 1 else 0].replace("^", "")
    font = ImageFont.truetype(JP_FONTS[int(rng.integers(2))], int(rng.choice([16, 20, 24, 28])))
    ink = (rng.uniform(10, 60),) * 3
    f.draw_at("診療情報提供書", "other", font, int(f.w * 0.3), 20, ink)
    items = [("name", "患者氏名" + nm), ("id", "ID" + p["id"]),
             ("date", date_text(rng, p["birth"], "birth")), ("other", "右腎に結石あり")]
    x = f.w - 60
    for cls, text in items:
        f.draw_column(text, cls, font, x, 80, ink)
        x -= int(font.size * 2.2)


def layout_label(rng, f, p):
    """A radiograph with a white label box: the name in romaji (the header
    holds kanji and kana only) and the ID, dark on white."""
    yy, xx = np.mgrid[0:f.h, 0:f.w].astype(np.float32)
    body = 90 + 70 * np.exp(-(((xx - f.w / 2) / (f.w * 0.3)) ** 2 + ((yy - f.h * 0.55) / (f.h * 0.37)) ** 2))
    f.img[...] = np.clip(body + rng.normal(0, 4, (f.h, f.w)), 0, 255)[..., None]
    font = ImageFont.truetype(LATIN_FONTS[int(rng.integers(2))], int(rng.choice([16, 18, 20, 22])))
    x0, y0 = int(rng.integers(20, 60)), int(rng.integers(20, 60))
    lines = [("name", p["romaji"]), ("id", "ID " + p["id"])]
    wmax = max(font.getbbox(t)[2] for _, t in lines)
    f.img[y0:y0 + 30 + 34 * len(lines), x0:x0 + wmax + 30] = 250
    for k, (cls, text) in enumerate(lines):
        f.draw_at(text, cls, font, x0 + 12, y0 + 12 + 34 * k, (25, 25, 25))


def layout_sideways(rng, f, p):
    """A radiograph whose identifiers run along its edges: the ID turned
    to read bottom to top, the name in romaji turned the other way, and
    (Japanese patients) the kanji name written top to bottom; technical
    marks across, as a modality draws them."""
    yy, xx = np.mgrid[0:f.h, 0:f.w].astype(np.float32)
    body = 70 + 90 * np.exp(-(((xx - f.w / 2) / (f.w * 0.32)) ** 2 + ((yy - f.h * 0.5) / (f.h * 0.4)) ** 2))
    f.img[...] = np.clip(blur(body + rng.normal(0, 10, (f.h, f.w)), 1.0), 0, 255)[..., None]
    groups = p["pn"].split("=")
    fam, giv = groups[0].split("^")
    size = int(rng.choice([18, 20, 24]))
    latin = ImageFont.truetype(LATIN_FONTS[int(rng.integers(2))], size)
    ink = (235, 235, 235)
    f.draw_rotated("ID %s" % p["id"], "id", latin, 14, int(f.h * 0.3), ink, 90)
    f.draw_rotated("%s %s" % (giv.upper(), fam.upper()), "name", latin, f.w - 14 - int(size * 1.4),
                   int(f.h * 0.25), ink, -90)
    if len(groups) == 3:
        jp = ImageFont.truetype(JP_FONTS[int(rng.integers(2))], size)
        f.draw_column(groups[1].replace("^", ""), "name", jp, int(f.w * 0.08), int(f.h * 0.62), ink)
    for k, t in enumerate(["R", "AP", "100kV"]):
        f.draw_at(t, "technical", latin, int(f.w * 0.4) + 90 * k, f.h - 50, ink)


def layout_mosaic(rng, f, p):
    """An MR mosaic (16 slices in one frame, as Siemens stores them) with
    the name and the ID burned in at 10-11 px as a modality draws its
    overlay (the largest value, no anti-aliasing), over slices as bright
    as the window allows."""
    t = f.w // 4
    yy, xx = np.mgrid[0:t, 0:t].astype(np.float32)
    for i in range(4):
        for j in range(4):
            r = rng.uniform(0.30, 0.42) * t
            e = ((xx - t / 2) / r) ** 2 + ((yy - t / 2) / (r * 1.2)) ** 2
            brain = blur(rng.normal(120, 60, (t, t)), 1.5) + 40 * np.sin(xx / 5.0 + j) * np.cos(yy / 7.0 + i)
            tile = np.where(e < 1, brain, rng.normal(8, 3, (t, t)))
            tile = np.where((e < 1) & (e > 0.82), 205, tile)
            f.img[i * t:(i + 1) * t, j * t:(j + 1) * t] = np.clip(tile, 0, 215)[..., None]
    font = ImageFont.truetype(LATIN_FONTS[0], int(rng.choice([10, 11])))
    groups = p["pn"].split("=")[0].split("^")
    items = [("name", " ".join(groups).upper()), ("id", p["id"])]
    for k, (cls, text) in enumerate(items):
        i, j = int(rng.integers(4)), int(rng.integers(4))
        f.draw_at(text, cls, font, j * t + 3, i * t + 2 + 14 * k, (255, 255, 255), smooth=False)


def pick_color(rng, rgb, dark_bg=True):
    if not dark_bg:
        return (rng.uniform(0, 50),) * 3
    if rgb and rng.random() < 0.5:
        return [(255, 255, 0), (0, 255, 0), (0, 255, 255), (255, 255, 255)][rng.integers(4)]
    g = rng.uniform(200, 255)
    return (g, g, g)


def iso_color(rng):
    """A saturated colour with the luminance (BT.601) of the pixels it is
    drawn over, at least 70: text a luminance view cannot see, only its
    chroma (green on grey speckle). Returned as a function of the patch."""
    hue = [(0.0, 1.0, 0.0), (1.0, 0.0, 1.0), (1.0, 0.25, 0.0), (0.0, 0.5, 1.0)][rng.integers(4)]

    def pick(patch):
        y = 0.299 * patch[..., 0] + 0.587 * patch[..., 1] + 0.114 * patch[..., 2]
        target = max(70.0, float(y.mean()) if y.size else 70.0)
        k = target / (0.299 * hue[0] + 0.587 * hue[1] + 0.114 * hue[2])
        return tuple(min(255.0, k * c) for c in hue)
    return pick


def size_of(rng):
    return int([8, 9, 10, 12, 14, 16, 18, 20, 24, 28, 32][rng.integers(11)])


def identifier_items(rng, p):
    script, nm = name_text(rng, p)
    items = [("name", nm), ("id", id_text(rng, p)),
             ("date", date_text(rng, p["birth"], "birth")),
             ("date", date_text(rng, p["study"], "study"))]
    if rng.random() < 0.6:
        items.append(("accession", acc_text(rng, p)))
    if rng.random() < 0.7:
        items.append(("institution", p["inst"]))
    return items


def layout(rng, f, p, kind, with_text=True, identifiers=True, chroma=False):
    """Backgrounds plus text for one still frame; chroma: every line in a
    colour as light as what is under it."""
    w, h = f.w, f.h
    if kind == "US":
        geo = us_background(rng, f)
    elif kind == "SC":
        sc_background(rng, f)
    else:
        ot_background(rng, f)
    if not with_text:
        return
    dark = kind != "SC"
    banner = (0, 0, w, int(h * 0.2))
    left = (0, int(h * 0.15), int(w * 0.25), h)
    right = (int(w * 0.75), int(h * 0.15), w, h)
    bottom = (0, int(h * 0.82), w, h)
    anywhere = (0, 0, w, h)
    if identifiers:
        for i, (cls, s) in enumerate(identifier_items(rng, p)):
            size = size_of(rng)
            region = [banner, banner, left, right, bottom, anywhere][i % 6] \
                if rng.random() < 0.85 else anywhere
            if chroma:  # over the speckle, where only the hue differs
                region = (int(w * 0.22), int(h * 0.3), int(w * 0.78), int(h * 0.92))
            for attempt in range(4):
                color = iso_color(rng) if chroma else pick_color(rng, f.rgb, dark)
                if f.text(rng, s, cls, size, color, region):
                    break
                size, region = max(8, size - 4), anywhere
    for _ in range(int(rng.integers(2, 7))):
        s = TECHNICAL[rng.integers(len(TECHNICAL))]
        f.text(rng, s, "technical", size_of(rng),
               iso_color(rng) if chroma else pick_color(rng, f.rgb, dark),
               [left, right, bottom][rng.integers(3)])
    if rng.random() < 0.5:
        s = OTHER[rng.integers(len(OTHER))]
        f.text(rng, s, "other", size_of(rng), pick_color(rng, f.rgb, dark), anywhere)
    if kind == "US" and rng.random() < 0.7:
        # depth scale: numbers beside the sector's right edge
        x = int(geo["ax"] + math.sin(geo["half"]) * geo["r1"] * 0.55 + 60)
        font = ImageFont.truetype(LATIN_FONTS[0], int(rng.integers(9, 14)))
        for k, depth in enumerate(range(0, 20, 5)):
            y = int(geo["ay"] + geo["r0"] + k * (geo["r1"] - geo["r0"]) / 4.2)
            if x + 20 < w and y + 14 < h and f.fits(x, y, 20, 14):
                f.draw_at(str(depth), "technical", font, x, y, (200, 200, 200))


def to_dicom(path, frames, p, kind, rgb, jp):
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
    sop_class = {"US": "1.2.840.10008.5.1.4.1.1.6.1", "SC": "1.2.840.10008.5.1.4.1.1.7",
                 "OT": "1.2.840.10008.5.1.4.1.1.7", "CT": "1.2.840.10008.5.1.4.1.1.2",
                 "MR": "1.2.840.10008.5.1.4.1.1.4", "DX": "1.2.840.10008.5.1.4.1.1.1.1"}[kind]
    if len(frames) > 1:
        sop_class = "1.2.840.10008.5.1.4.1.1.3.1" if kind == "US" else "1.2.840.10008.5.1.4.1.1.7.2"
    ds = Dataset()
    name = os.path.basename(path)
    # deterministic UIDs from the file name, under a test root
    uid = "2.25.%d" % (int.from_bytes(name.encode("utf-8")[:14].ljust(14, b"\0"), "big"))
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = uid + ".3"
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = "2.25.1"
    if jp:
        ds.SpecificCharacterSet = ["ISO 2022 IR 6", "ISO 2022 IR 87"]
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, uid + ".3"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = uid + ".1", uid + ".2"
    ds.Modality = kind
    ds.StudyDate, ds.AccessionNumber = p["study"], p["acc"]
    ds.InstitutionName = p["inst"]
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = p["pn"], p["id"], p["birth"]
    if kind == "MR":
        ds.BurnedInAnnotation = "NO"  # what many MR objects say, wrongly
    elif kind not in ("CT", "DX"):
        ds.BurnedInAnnotation = "YES"
    # Type 1 and 2 attributes of the Patient, Study, Series and Equipment
    # modules, so validators look at what matters
    ds.PatientSex, ds.StudyTime, ds.ReferringPhysicianName = "", "101500", ""
    ds.StudyID, ds.SeriesNumber, ds.InstanceNumber = "1", "1", "1"
    ds.Manufacturer, ds.PatientOrientation = "kakou-test", ""
    ds.ConversionType = "WSD"
    ds.ContentDate, ds.ContentTime = p["study"], "101500"
    if kind == "US":
        ds.ImageType = ["ORIGINAL", "PRIMARY"]
    elif kind in ("CT", "MR"):
        ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
        if name.startswith("mr_mosaic"):
            ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "MOSAIC"]
    elif kind == "DX":
        ds.ImageType = ["ORIGINAL", "PRIMARY"]
        ds.PresentationIntentType = "FOR PRESENTATION"
    h, w = frames[0].h, frames[0].w
    ds.Rows, ds.Columns = h, w
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    wide = kind in ("CT", "MR", "DX") and not rgb
    if wide:
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    if rgb:
        ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    else:
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Laterality = ""
    if len(frames) > 1:
        ds.NumberOfFrames = len(frames)
        ds.FrameTime = "33.3"
        ds.FrameIncrementPointer = 0x00181063  # FrameTime
    if wide:
        ds.PixelData = b"".join((fr.pixels().astype("<u2") * 16).tobytes() for fr in frames)
    else:
        ds.PixelData = b"".join(fr.pixels().tobytes() for fr in frames)
    ds.is_little_endian, ds.is_implicit_VR = True, False
    pydicom.dcmwrite(path, ds, write_like_original=False)


def write_pgm(path, a):
    with open(path, "wb") as fh:
        fh.write(b"P5\n%d %d\n255\n" % (a.shape[1], a.shape[0]))
        fh.write(np.ascontiguousarray(a, np.uint8).tobytes())


def main(argv):
    args = list(argv[1:])
    seed, dicom = 4, True
    if "--seed" in args:
        i = args.index("--seed")
        seed = int(args[i + 1])
        del args[i:i + 2]
    if "--no-dicom" in args:
        args.remove("--no-dicom")
        dicom = False
    if len(args) != 1:
        sys.stderr.write(__doc__)
        return 2
    out = args[0]
    os.makedirs(os.path.join(out, "pgm"), exist_ok=True)
    if dicom:
        os.makedirs(os.path.join(out, "dicom"), exist_ok=True)
    rng = np.random.default_rng(seed)

    # (name, kind, size, rgb, with_text, frames, moving)
    specs = []
    for i in range(12):
        specs.append(("us%02d" % i, "US", (640, 480), i % 3 == 2, True, 1, False))
    specs += [("us_big", "US", (800, 600), False, True, 1, False),
              ("us_xl", "US", (1024, 768), True, True, 1, False),
              ("us_small", "US", (320, 240), False, True, 1, False)]
    for i in range(5):
        specs.append(("sc%02d" % i, "SC", [(640, 480), (800, 600)][i % 2], i == 1, True, 1, False))
    for i in range(3):
        specs.append(("ot%02d" % i, "OT", (512, 512), False, True, 1, False))
    for i in range(6):
        specs.append(("notext_us%02d" % i, "US", [(640, 480), (800, 600), (1024, 768)][i % 3],
                      i % 2 == 1, False, 1, False))
    specs += [("notext_sc", "SC", (640, 480), False, False, 1, False),
              ("notext_ot", "OT", (512, 512), False, False, 1, False)]
    specs += [("cine_static", "US", (640, 480), False, True, 4, False),
              ("cine_moving", "US", (640, 480), True, True, 4, True),
              # a line shown in some frames only (frames 2 and 3 of 6)
              ("cine_partial", "US", (640, 480), False, True, 6, "partial")]
    # images no rule singles out: a CT screen capture (DERIVED\SECONDARY,
    # no BurnedInAnnotation), an MR saying BurnedInAnnotation NO, both 12
    # bits in 16; and a CT with no text
    specs += [("ct_capture", "CT", (512, 512), False, True, 1, False),
              ("mr_noflag", "MR", (512, 512), False, True, 1, False),
              ("notext_ct", "CT", (512, 512), False, False, 1, False)]
    # colour text as light as the speckle under it: only its chroma shows
    # (issue 14). Last, so the images before it stay as they were; not in
    # truth.txt, whose luminance images cannot show it.
    specs += [("us_chroma", "US", (640, 480), True, True, 1, "chroma")]
    # text written top to bottom on a nearly blank page (a form, a fax),
    # found by its shape alone in all-text mode: not in truth.txt, whose
    # phi-mode run needs a reading; and a radiograph whose label shows the
    # name in romaji while the header holds kanji and kana only
    specs += [("doc_vertical", "SC", (800, 1000), False, True, 1, "vertical"),
              ("dx_label", "DX", (1024, 1024), False, True, 1, "label")]
    # an MR mosaic: small text at the largest value over bright slices;
    # not in truth.txt either: kakou finds it in the extremes view of the
    # 12-bit values, which an 8-bit pgm cannot give
    specs += [("mr_mosaic", "MR", (512, 512), False, True, 1, "mosaic")]
    # a radiograph with its name and ID along the edges, turned, and the
    # kanji name top to bottom (phi mode: each column is read); not in
    # truth.txt, whose run reads rows only
    specs += [("dx_sideways", "DX", (1024, 1024), False, True, 1, "sideways")]

    truth, lines = {}, []
    for n, (name, kind, (w, h), rgb, with_text, nframes, moving) in enumerate(specs):
        p = PATIENTS[n % len(PATIENTS)]
        if moving == "label":
            p = KANA_ONLY
        jp = "=" in p["pn"]
        frames = []
        if nframes == 1:
            f = Frame(w, h, rgb)
            if moving == "vertical":
                page_background(rng, f)
                layout_vertical(rng, f, p)
            elif moving == "label":
                layout_label(rng, f, p)
            elif moving == "mosaic":
                layout_mosaic(rng, f, p)
            elif moving == "sideways":
                layout_sideways(rng, f, p)
            else:
                layout(rng, f, p, kind, with_text, chroma=moving == "chroma")
            frames.append(f)
        else:
            # the banner is drawn once, onto fresh speckle in every frame
            proto = Frame(w, h, rgb)
            layout(rng, proto, p, kind, True, identifiers=not moving)
            partial_at = None
            if moving == "partial":
                script, pn = name_text(rng, p)
                pfont = ImageFont.truetype(JP_FONTS[0] if script == "jp" else LATIN_FONTS[0], 16)
                partial_at = (pn, id_text(rng, p), pfont)
            brng_seed = int(rng.integers(1 << 30))
            script, nm = name_text(rng, p)
            for k in range(nframes):
                f = Frame(w, h, rgb)
                us_background(np.random.default_rng(brng_seed + k), f, phase=k * 0.7)
                f.img = np.where(proto.mask[..., None] > 0, proto.img, f.img)
                f.mask[...] = proto.mask
                f.boxes = [dict(b) for b in proto.boxes]
                f.occupied = [b["box"] for b in proto.boxes]
                if partial_at and k in (2, 3):
                    pn, pid, pfont = partial_at
                    f.draw_at(pn, "name", pfont, 200, 300, (230, 230, 230))
                    f.draw_at(pid, "id", pfont, 200, 325, (230, 230, 230))
                elif moving is True:
                    font = ImageFont.truetype(JP_FONTS[0] if script == "jp" else LATIN_FONTS[0], 18)
                    f.draw_at(nm, "name", font, 150 + 40 * k, 200 + 25 * k, (255, 255, 0))
                    f.draw_at(id_text(rng, p), "id", font, 170 + 40 * k, 230 + 25 * k, (255, 255, 255))
                frames.append(f)
        entry = dict(kind=kind, rgb=rgb, width=w, height=h, frames=[],
                     identifiers=dict(PatientName=p["pn"], PatientID=p["id"],
                                      PatientBirthDate=p["birth"], StudyDate=p["study"],
                                      AccessionNumber=p["acc"], InstitutionName=p["inst"]))
        for k, f in enumerate(frames):
            stem = "%s_f%02d" % (name, k)
            write_pgm(os.path.join(out, "pgm", stem + ".pgm"), f.luminance())
            write_pgm(os.path.join(out, "pgm", stem + ".mask.pgm"), f.mask)
            entry["frames"].append(dict(pgm=stem + ".pgm", boxes=f.boxes))
            if moving in ("chroma", "vertical", "mosaic", "sideways"):
                continue
            lines.append("image\t%s" % stem)
            lines.append("notext\t%d" % (0 if with_text else 1))
            lines.append("name\t%s" % p["pn"])
            lines.append("id\t%s" % p["id"])
            lines.append("date\t%s" % p["birth"])
            lines.append("date\t%s" % p["study"])
            lines.append("accession\t%s" % p["acc"])
            lines.append("institution\t%s" % p["inst"])
            for b in f.boxes:
                lines.append("box\t%d %d %d %d" % tuple(b["box"]))
        if dicom:
            to_dicom(os.path.join(out, "dicom", name + ".dcm"), frames, p, kind, rgb, jp)
        truth[name + ".dcm"] = entry
    with open(os.path.join(out, "truth.json"), "w", encoding="utf-8") as fh:
        json.dump(truth, fh, ensure_ascii=False, indent=1)
    with open(os.path.join(out, "truth.txt"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
