#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tests/tools/synthetic_recall.py - end-to-end burned-in text recall on the
synthetic set of make_burned.py, after `kakou deid`.

Usage: synthetic_recall.py [--only] SETDIR OUTPUT_MAP.tsv

OUTPUT_MAP.tsv maps each input name (dicom/NAME.dcm) to its output file
(with --only, the inputs it maps are judged and the rest left out).
For every frame of every input, the ground-truth mask (pgm/NAME_fNN.mask.pgm)
marks each glyph pixel with its class (1-5 identifiers, 6 technical, 7
other text) and truth.json holds the frame's text boxes. Checks, per frame
(not an aggregate): at least 90% of the identifier glyph pixels are dark
in the output (< 10% left); an output that claims clean pixels
(BurnedInAnnotation NO or code 113101) has every identifier glyph pixel of
every frame painted (>= 99%); on frames with text, at most 25% of the
frame is painted outside the truth boxes (padded by 3 px; seed 4 measures
21% on us_small, where a tissue arc between rows of text is painted, and
10% on cine_moving: known misses, the bound catches boxes grown over the
whole frame), and at most 4% on CT, MR and radiographs (ANATOMY_OUT), 1% on MR mosaics
(MOSAIC_OUT); on
frames without text at most 1% of the frame is changed. Prints the worst numbers and
the whole-set recall; exits 1 when a target is missed. No text is printed.
"""
import json
import os
import sys

import numpy as np
import pydicom

# anatomy is not text (issue 14): on CT, MR and radiographs with text, the
# painting outside it stays small. Seeds 1, 4, 5, 7, 11 measure at most
# 3.1% (mr_noflag: 13 lines and their padding), 1.7% on mr_mosaic, which
# had 18% painted when a one-digit StudyID matched OCR noise and 4-5%
# when every unread guess inside the slices was painted.
ANATOMY = ("CT", "MR", "DX")
ANATOMY_OUT = 0.04
# a mosaic has its two lines of text in a corner and brain tiles all
# over: 1% (the issue's bound), with the truth boxes' padding. Seeds 1,
# 4, 5, 7, 11 measure 0.18-0.67%; 1.0-1.7% while thick blobs in the tiles
# (a sulcus OCR reads as "|" or "me") were painted as unread text.
MOSAIC_OUT = 0.01


def read_pgm(path):
    with open(path, "rb") as f:
        data = f.read()
    parts = data.split(None, 4)
    w, h = int(parts[1]), int(parts[2])
    return np.frombuffer(parts[4][-w * h:], np.uint8).reshape(h, w)


def frames(ds):
    a = ds.pixel_array.astype(float)
    n = int(getattr(ds, "NumberOfFrames", 1) or 1)
    if n == 1:
        a = a[None]
    if a.ndim == 4:
        a = a @ np.array([0.299, 0.587, 0.114])
    bs = int(getattr(ds, "BitsStored", 8))
    if bs > 8:
        a = a / float(1 << (bs - 8))
    return a


def claims_clean(ds):
    if str(getattr(ds, "BurnedInAnnotation", "")).strip() == "NO":
        return True
    for it in getattr(ds, "DeidentificationMethodCodeSequence", []) or []:
        if str(getattr(it, "CodeValue", "")) == "113101":
            return True
    return False


def main():
    args = sys.argv[1:]
    only = "--only" in args  # judge the mapped inputs only (a subset run)
    if only:
        args.remove("--only")
    setdir, mapping = args[:2]
    outputs = dict(line.rstrip("\n").split("\t") for line in open(mapping) if line.strip())
    truth = json.load(open(os.path.join(setdir, "truth.json"), encoding="utf-8"))
    hit = total = 0
    worst_fp = worst_out = worst_anat = 0.0
    worst_recall = 1.0
    nframes = 0
    bad = []
    for name in sorted(os.listdir(os.path.join(setdir, "dicom"))):
        stem = name[:-4]
        if only and name not in outputs:
            continue
        if name not in outputs or not outputs[name]:
            bad.append("%s: no output" % name)
            continue
        src = pydicom.dcmread(os.path.join(setdir, "dicom", name))
        before = frames(src)
        out = pydicom.dcmread(outputs[name])
        after = frames(out)
        clean = claims_clean(out)
        if before.shape != after.shape:
            bad.append("%s: frames changed shape" % name)
            continue
        tframes = truth[name]["frames"]
        if len(tframes) != before.shape[0]:
            bad.append("%s: truth for %d of %d frames" % (name, len(tframes), before.shape[0]))
            continue
        for f in range(before.shape[0]):
            mpath = os.path.join(setdir, "pgm", "%s_f%02d.mask.pgm" % (stem, f))
            mask = read_pgm(mpath)
            nframes += 1
            ids = (mask >= 1) & (mask <= 5)
            n_ids = int(ids.sum())
            n_hit = int((after[f][ids] < 40).sum())
            total += n_ids
            hit += n_hit
            changed = np.abs(after[f] - before[f]) > 0
            if n_ids:
                r = n_hit / n_ids
                worst_recall = min(worst_recall, r)
                if r < 0.90:
                    bad.append("%s frame %d: %.3f of its identifier pixels painted" % (name, f, r))
                elif clean and r < 0.99:
                    bad.append("%s frame %d: claims clean pixels with %.3f of its identifier "
                               "pixels painted" % (name, f, r))
            boxes = tframes[f]["boxes"]
            if boxes:
                inside = np.zeros(mask.shape, bool)
                for b in boxes:
                    x, y, w, h = b["box"]
                    inside[max(0, y - 3):y + h + 3, max(0, x - 3):x + w + 3] = True
                out_share = float((changed & ~inside).mean())
                worst_out = max(worst_out, out_share)
                if out_share > 0.25:
                    bad.append("%s frame %d: %.3f of the frame painted outside its text" %
                               (name, f, out_share))
                if truth[name]["kind"] in ANATOMY:
                    worst_anat = max(worst_anat, out_share)
                    bound = (MOSAIC_OUT if "MOSAIC" in list(getattr(src, "ImageType", []) or [])
                             else ANATOMY_OUT)
                    if out_share > bound:
                        bad.append("%s frame %d: %.3f of the anatomy painted outside its text" %
                                   (name, f, out_share))
            else:
                worst_fp = max(worst_fp, float(changed.mean()))
    recall = hit / total if total else 0.0
    print("identifier glyph pixels painted out: %d of %d (%.4f), worst frame %.4f, %d frames" %
          (hit, total, recall, worst_recall, nframes))
    print("largest share of a no-text frame changed: %.4f" % worst_fp)
    print("largest share of a text frame painted outside its text: %.4f" % worst_out)
    print("largest share of an anatomy frame (CT, MR, DX) painted outside its text: %.4f" % worst_anat)
    for b in bad:
        print("not ok: " + b)
    ok = not bad and total > 0 and nframes > 0 and worst_fp <= 0.01
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
