#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tests/tools/check_paint_extent.py - painting stays near the text.

Usage: check_paint_extent.py KAKOU WORKDIR

Writes one 3-frame ultrasound (US, 8-bit MONOCHROME2, 320x240, speckle)
whose header names YAMADA^TARO with ID 97123456; frames 0 and 2 carry the
name and ID burned in at known boxes, frame 1 carries no text. Runs
`kakou deid -p jp-anonymized` and compares pixels:
  * recall: >= 95% of the glyph pixels of each text frame changed;
  * extent: in each frame, pixels changed outside the text boxes grown by
    12 px stay <= 5% of the frame (a box that paints its whole frame, or
    far beyond its text, fails here);
  * frame 1 (no text) changes <= 1% away from the other frames' boxes.
Prints one line per check; exit 1 on any failure, 77 when no font.
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
W, H, GROW = 320, 240, 12
rng = np.random.default_rng(7)
font = ImageFont.truetype(FONT, 16)
texts = [("YAMADA TARO", (14, 12)), ("ID 97123456", (170, 200))]
frames, glyphs, boxes = [], [], []
for f in range(3):
    base = (rng.random((H, W)) * 40 + 20).astype(np.uint8)  # dark speckle
    img = Image.fromarray(base)
    mask = Image.new("L", (W, H), 0)
    fb = []
    if f != 1:
        d, dm = ImageDraw.Draw(img), ImageDraw.Draw(mask)
        for t, (x, y) in texts:
            d.text((x, y), t, font=font, fill=235)
            dm.text((x, y), t, font=font, fill=255)
            fb.append(d.textbbox((x, y), t, font=font))
    frames.append(np.array(img))
    glyphs.append(np.array(mask) > 0)
    boxes.append(fb)

ds = Dataset()
ds.file_meta = FileMetaDataset()
ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.3.1"  # US multi-frame
ds.file_meta.MediaStorageSOPInstanceUID = generate_uid(prefix="1.2.999.7731.83.")
ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
ds.StudyInstanceUID = generate_uid(prefix="1.2.999.7731.83.")
ds.SeriesInstanceUID = generate_uid(prefix="1.2.999.7731.83.")
ds.Modality = "US"
ds.PatientName = "YAMADA^TARO"
ds.PatientID = "97123456"
ds.StudyDate = "20240401"
ds.BurnedInAnnotation = "YES"
ds.SamplesPerPixel = 1
ds.PhotometricInterpretation = "MONOCHROME2"
ds.Rows, ds.Columns = H, W
ds.NumberOfFrames = 3
ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
ds.PixelData = np.stack(frames).tobytes()
ds.is_little_endian, ds.is_implicit_VR = True, False
indir, outdir = os.path.join(WORK, "paint-in"), os.path.join(WORK, "paint-out")
os.makedirs(indir, exist_ok=True)
ds.save_as(os.path.join(indir, "us.dcm"), write_like_original=False)
r = subprocess.run([KAKOU, "deid", "-q", "-p", "jp-anonymized", "--no-release", "-o", outdir, indir],
                   capture_output=True, text=True)
fails = 0


def bad(msg):
    global fails
    fails += 1
    print("not ok:", msg)


outs = [os.path.join(a, f) for a, _, fs in os.walk(outdir) for f in fs if f.endswith(".dcm")]
if r.returncode != 0 or len(outs) != 1:
    bad("deid exit %d, %d outputs: %s" % (r.returncode, len(outs), r.stderr.strip()[:300]))
    sys.exit(1)
after = pydicom.dcmread(outs[0]).pixel_array.reshape(3, H, W)
for f in range(3):
    changed = after[f] != frames[f]
    near = np.zeros((H, W), bool)
    for (x0, y0, x1, y1) in boxes[f]:
        near[max(0, y0 - GROW):min(H, y1 + GROW), max(0, x0 - GROW):min(W, x1 + GROW)] = True
    outside = (changed & ~near).sum() / float(W * H)
    if f == 1:
        # kakou may paint the other frames' boxes here too (a cine's text
        # can sit still): nothing away from them
        for (x0, y0, x1, y1) in boxes[0] + boxes[2]:
            near[max(0, y0 - GROW):min(H, y1 + GROW), max(0, x0 - GROW):min(W, x1 + GROW)] = True
        frac = (changed & ~near).sum() / float(W * H)
        (bad if frac > 0.01 else print)("frame 1 (no text): %.1f%% changed away from the "
                                        "other frames' text" % (100 * frac))
        continue
    recall = (changed & glyphs[f]).sum() / float(glyphs[f].sum())
    (bad if recall < 0.95 else print)("frame %d: %.1f%% of glyph pixels painted" % (f, 100 * recall))
    (bad if outside > 0.05 else print)("frame %d: %.1f%% of the frame painted away from the text"
                                       % (f, 100 * outside))
sys.exit(1 if fails else 0)
