#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tests/tools/make_copies.py - K copies of a set of DICOM files, each copy
a distinct set of instances with its references kept consistent.

Usage: make_copies.py INDIR OUTDIR K

Every UI value at any depth (file meta included) that starts with ROOT
(the planted root of make_planted.py, 1.2.999.7731) becomes VALUE.<k>, so
copy k has its own study, series and SOP Instance UIDs and its references
(Referenced SOP Instance UID...) point into copy k. Everything else,
planted PHI included, is kept. Writes OUTDIR/<k>/<name>.dcm.
"""
import copy
import os
import sys

import pydicom

ROOT = "1.2.999.7731"


def remap(ds, k):
    for elem in ds.iterall():
        if elem.VR == "UI" and elem.value:
            vals = elem.value if isinstance(elem.value, pydicom.multival.MultiValue) else [elem.value]
            new = [v + "." + str(k) if str(v).startswith(ROOT) and len(v) < 60 else v for v in vals]
            elem.value = new if len(new) > 1 else new[0]


def main():
    indir, outdir, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(indir) for f in fs if f.endswith(".dcm"))
    if not files:
        sys.exit("make_copies: no .dcm under " + indir)
    originals = [pydicom.dcmread(path) for path in files]
    for i in range(1, k + 1):
        os.makedirs(os.path.join(outdir, str(i)), exist_ok=True)
        for n, orig in enumerate(originals):
            ds = copy.deepcopy(orig)
            remap(ds, i)
            remap(ds.file_meta, i)
            ds.save_as(os.path.join(outdir, str(i), "%d.dcm" % n), write_like_original=True)
    print(k * len(files))


main()
