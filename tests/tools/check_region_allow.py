#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tests/tools/check_region_allow.py - a region rule keeps the technical
tokens in it that read clearly, and nothing else (issue 14, item 5).

Usage: check_region_allow.py KAKOU WORKDIR

Writes two ultrasound images (US, Manufacturer ATL, 640x480: the
profile's region rule paints the top 9%, the vendor's banner) whose
header names YAMADA^TARO with ID 97123456:
  a. the banner holds "MI 1.2" and "TIs 0.4" at its left, the name at its
     right: after `kakou deid -p jp-anonymized`, the token glyphs are as
     they were (>= 90% of their pixels unchanged) and the name's are
     painted (>= 95%);
  b. the banner holds "MI 0.9" with a name right after it, and "TIs 0.4"
     with a name a few glyphs further on the row: all of it is painted (an
     allowlisted token shelters nothing beside it).
Both: the rest of the banner is painted (>= 95% of its non-token pixels
changed or black). Prints one line per check; exit 1 on any failure, 77
when no font.
"""
import os
import subprocess
import sys

import numpy as np
import pydicom
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

KAKOU, WORK = sys.argv[1], sys.argv[2]
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
if not os.path.exists(FONT):
    print("no font %s" % FONT)
    sys.exit(77)
W, H, BANNER = 640, 480, int(480 * 0.09)
font = ImageFont.truetype(FONT, 18)


def image(items, seed):
    rng = np.random.default_rng(seed)
    base = (rng.random((H, W)) * 30 + 10).astype(np.uint8)
    base[:BANNER] = 12
    img = Image.fromarray(base)
    d = ImageDraw.Draw(img)
    masks = {}
    for key, text, (x, y) in items:
        m = Image.new("L", (W, H), 0)
        ImageDraw.Draw(m).text((x, y), text, font=font, fill=255)
        d.text((x, y), text, font=font, fill=230)
        masks[key] = np.array(m) > 0
    return np.array(img), masks


def write(path, px):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.6.1"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid(prefix="1.2.999.7731.84.")
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid(prefix="1.2.999.7731.84.")
    ds.SeriesInstanceUID = generate_uid(prefix="1.2.999.7731.84.")
    ds.Modality, ds.Manufacturer = "US", "ATL"
    ds.PatientName, ds.PatientID = "YAMADA^TARO", "97123456"
    ds.StudyDate, ds.BurnedInAnnotation = "20240401", "YES"
    ds.Rows, ds.Columns = H, W
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = px.tobytes()
    ds.is_little_endian, ds.is_implicit_VR = True, False
    pydicom.dcmwrite(path, ds, write_like_original=False)


def deid(path, out):
    r = subprocess.run([KAKOU, "deid", "-q", "-p", "jp-anonymized", "--no-release", "-o", out, path],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    found = [os.path.join(d, f) for d, _, fs in os.walk(out) for f in fs if f.endswith(".dcm")]
    if r.returncode != 0 or len(found) != 1:
        print("not ok: kakou deid exit %d, %d outputs: %s" % (r.returncode, len(found),
                                                             r.stderr.decode()[:200]))
        return None
    return pydicom.dcmread(found[0]).pixel_array


failures = 0


def check(ok, what):
    global failures
    print(("ok: " if ok else "not ok: ") + what)
    failures += 0 if ok else 1


cases = {
    "apart": [("tok", "MI 1.2", (10, 10)), ("tok", "TIs 0.4", (90, 10)),
              ("name", "YAMADA TARO", (430, 10))],
    "shelter": [("row", "MI 0.9 YAMADA TARO", (10, 10)), ("row", "TIs 0.4", (300, 10)),
                ("row", "YAMADA", (398, 10))],
}
for n, (case, items) in enumerate(cases.items()):
    before, masks = image(items, n)
    path = os.path.join(WORK, case + ".dcm")
    write(path, before)
    after = deid(path, os.path.join(WORK, "out_" + case))
    if after is None:
        failures += 1
        continue
    changed = after != before
    text = np.zeros((H, W), bool)
    for m in masks.values():
        text |= m
    banner = np.zeros((H, W), bool)
    banner[:BANNER] = True
    if "tok" in masks:
        kept = float((~changed[masks["tok"]]).mean())
        check(kept >= 0.90, "%s: %.3f of the technical tokens' pixels kept" % (case, kept))
    for key in ("name", "row"):
        if key in masks:
            gone = float(changed[masks[key]].mean())
            check(gone >= 0.95, "%s: %.3f of the %s's pixels painted" % (case, gone, key))
    # the banner away from the token boxes: black (painted) wherever it was not
    rest = banner.copy()
    if "tok" in masks:
        ys, xs = np.nonzero(masks["tok"])
        for (x0, x1) in ((10, 80), (90, 170)):
            sel = (xs >= x0) & (xs < x1)
            if sel.any():
                rest[ys[sel].min() - 2:ys[sel].max() + 3, xs[sel].min() - 2:xs[sel].max() + 3] = False
    black = float((after[rest] == 0).mean())
    check(black >= 0.95, "%s: %.3f of the rest of the banner painted" % (case, black))
    if "tok" in masks:
        # the banner's band between the two tokens and before the first
        between = np.zeros((H, W), bool)
        between[:BANNER, 0:8] = True
        between[:BANNER, 76:86] = True
        black = float((after[between] == 0).mean())
        check(black >= 0.99, "%s: %.3f of the banner between the tokens painted" % (case, black))
sys.exit(1 if failures else 0)
