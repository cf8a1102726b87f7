#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tests/tools/code_residue.py - barcodes and QR codes left in outputs.

Usage: code_residue.py SETDIR OUTPUT_MAP.tsv

SETDIR is make_codes.py's; OUTPUT_MAP.tsv maps each input name to its
output file. Each image, input and output, is rendered to an 8-bit PNG
(12/16-bit: scaled from its own range) and read by zbarimg: every code of
truth.json must be read in the input (else the check itself is broken) and
none in the output. Prints one line per file; exits 1 when a code is read
in an output or a file is missing.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pydicom
from PIL import Image


def render(path, png):
    a = pydicom.dcmread(path).pixel_array.astype(np.float64)
    lo, hi = a.min(), a.max()
    a = (a - lo) * 255.0 / (hi - lo) if hi > lo else a * 0
    Image.fromarray(a.astype(np.uint8)).save(png)


def read_codes(path, tmp):
    png = os.path.join(tmp, "x.png")
    render(path, png)
    r = subprocess.run(["zbarimg", "-q", "--raw", png], capture_output=True, text=True)
    return [l for l in r.stdout.splitlines() if l]


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    truth = json.load(open(os.path.join(argv[1], "truth.json")))
    outs = dict(l.rstrip("\n").split("\t") for l in open(argv[2]) if "\t" in l)
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in sorted(truth):
            want = sorted(c["data"] for c in truth[name])
            got_in = sorted(read_codes(os.path.join(argv[1], name), tmp))
            if got_in != want:
                print("broken check: %s: zbarimg reads %d of %d codes in the input"
                      % (name, len([g for g in got_in if g in want]), len(want)))
                bad += 1
                continue
            out = outs.get(name, "")
            if not out or not os.path.exists(out):
                print("%s: no output" % name)
                bad += 1
                continue
            left = read_codes(out, tmp)
            print("%s: %d codes in, %d read in the output" % (name, len(want), len(left)))
            bad += 1 if left else 0
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main(sys.argv)
