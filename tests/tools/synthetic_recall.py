#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tests/tools/synthetic_recall.py - end-to-end burned-in text recall on the
synthetic set of make_burned.py, after `kakou deid`.

Usage: synthetic_recall.py SETDIR OUTPUT_MAP.tsv

OUTPUT_MAP.tsv maps each input name (dicom/NAME.dcm) to its output file.
For every frame of every input, the ground-truth mask (pgm/NAME_fNN.mask.pgm)
marks each glyph pixel with its class (1-5 identifiers, 6 technical, 7
other text). Prints, over the whole set: the fraction of identifier glyph
pixels that are dark in the output (recall; target >= 0.99), and for the
files without text the largest fraction of the frame that was changed
(target <= 0.02). Exits 1 when a target is missed. No text is printed.
"""
import os
import sys

import numpy as np
import pydicom


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
    return a


def main():
    setdir, mapping = sys.argv[1:3]
    outputs = dict(line.rstrip("\n").split("\t") for line in open(mapping) if line.strip())
    hit = total = 0
    worst_fp = 0.0
    bad = []
    for name in sorted(os.listdir(os.path.join(setdir, "dicom"))):
        stem = name[:-4]
        if name not in outputs:
            bad.append("%s: no output" % name)
            continue
        before = frames(pydicom.dcmread(os.path.join(setdir, "dicom", name)))
        after = frames(pydicom.dcmread(outputs[name]))
        if before.shape != after.shape:
            bad.append("%s: frames changed shape" % name)
            continue
        for f in range(before.shape[0]):
            mpath = os.path.join(setdir, "pgm", "%s_f%02d.mask.pgm" % (stem, f))
            if not os.path.exists(mpath):
                continue
            mask = read_pgm(mpath)
            ids = (mask >= 1) & (mask <= 5)
            total += int(ids.sum())
            hit += int((after[f][ids] < 40).sum())
            if stem.startswith("notext"):
                changed = float((np.abs(after[f] - before[f]) > 0).mean())
                worst_fp = max(worst_fp, changed)
    recall = hit / total if total else 0.0
    print("identifier glyph pixels painted out: %d of %d (%.4f)" % (hit, total, recall))
    print("largest share of a no-text frame changed: %.4f" % worst_fp)
    for b in bad:
        print("not ok: " + b)
    ok = not bad and total > 0 and recall >= 0.99 and worst_fp <= 0.02
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
