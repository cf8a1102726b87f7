#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tests/tools/pixel_residue.py - is burned-in text painted out?

Usage: pixel_residue.py TRUTH.tsv INPUT_DIR OUTPUT_MAP.tsv

TRUTH.tsv (testdata/burned_in/phi_lines.tsv) lists rectangles of PHI text
per input file. OUTPUT_MAP.tsv maps each input file name to its output
file. For each rectangle, on every frame, the glyph pixels of the input (clearly brighter
than the rectangle's background) must be dark in the output: at least 99%
of them on the worst frame (the issue's recall target). Prints one line per rectangle and
exits 1 when any falls short. Prints no pixel values or text.

Pixels are read with pydicom; syntaxes it cannot decode here (JPEG
lossless, JPEG-LS, RLE) are first decompressed with DCMTK's tools.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import pydicom

RECALL = 0.99


def decompressed(path, tmp):
    ds = pydicom.dcmread(path)
    try:
        ds.pixel_array
        return ds
    except Exception:
        pass
    out = os.path.join(tmp, os.path.basename(path) + ".native.dcm")
    for tool in ("dcmdjpeg", "dcmdrle", "dcmdjpls"):
        if subprocess.run([tool, path, out], capture_output=True).returncode == 0:
            ds = pydicom.dcmread(out)
            ds.pixel_array
            return ds
    raise RuntimeError("cannot decode the pixels of %s" % os.path.basename(path))


def luminance(ds):
    """Every frame, as 0-255 luminance: an array of frames."""
    a = ds.pixel_array
    if int(getattr(ds, "NumberOfFrames", 1) or 1) == 1:
        a = a[np.newaxis]
    pi = ds.PhotometricInterpretation
    if pi == "PALETTE COLOR":
        from pydicom.pixel_data_handlers.util import apply_color_lut
        a = apply_color_lut(a, ds).astype(float)
        a = a / max(a.max(), 1) * 255
    elif pi in ("YBR_FULL", "YBR_FULL_422") and a.ndim == 3:
        # JPEG 2000 (YBR_ICT/RCT) comes out of pydicom as RGB already
        from pydicom.pixel_data_handlers.util import convert_color_space
        a = convert_color_space(a, pi, "RGB").astype(float)
    a = a.astype(float)
    if a.ndim == 4:
        a = a @ np.array([0.299, 0.587, 0.114])
    out = np.empty(a.shape, dtype=float)
    for i, f in enumerate(a):
        lo, hi = np.percentile(f, 0.5), np.percentile(f, 99.5)
        if hi <= lo:
            hi = lo + 1
        out[i] = np.clip((f - lo) / (hi - lo) * 255, 0, 255)
    if pi == "MONOCHROME1":
        out = 255 - out
    return out


def main():
    truth, indir, mapping = sys.argv[1:4]
    outputs = {}
    with open(mapping) as f:
        for line in f:
            name, out = line.rstrip("\n").split("\t")
            outputs[name] = out
    bad = 0
    cache = {}
    with tempfile.TemporaryDirectory() as tmp, open(truth) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            name, x, y, w, h, what = line.rstrip("\n").split("\t")
            x, y, w, h = int(x), int(y), int(w), int(h)
            if name not in outputs:
                print("not ok: %s: no output" % name)
                bad += 1
                continue
            if name not in cache:
                cache[name] = (luminance(decompressed(os.path.join(indir, name), tmp)),
                               luminance(decompressed(outputs[name], tmp)))
            before, after = cache[name]
            if before.shape != after.shape:
                print("not ok: %s: output frames %s, input %s" % (name, after.shape, before.shape))
                bad += 1
                continue
            # the rectangle is judged on every frame that shows glyphs there
            n = gone = 0
            worst = 1.0
            for fb, fa in zip(before, after):
                rb = fb[y:y + h, x:x + w]
                ra = fa[y:y + h, x:x + w]
                glyph = rb > max(np.median(rb) + 60, 90)
                k = int(glyph.sum())
                if k == 0:
                    continue
                g = int((ra[glyph] < 40).sum())
                n, gone, worst = n + k, gone + g, min(worst, g / k)
            if n == 0:
                print("not ok: %s (%d,%d %dx%d) %s: no glyph pixels found in the input" % (name, x, y, w, h, what))
                bad += 1
                continue
            ok = worst >= RECALL
            bad += not ok
            print("%s: %s (%d,%d %dx%d) %s: %d of %d glyph pixels painted out (worst frame %.3f)"
                  % ("ok" if ok else "not ok", name, x, y, w, h, what, gone, n, worst))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
