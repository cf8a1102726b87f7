#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tests/tools/make_distinct.py - N copies of one DICOM file that are
distinct objects: each has its own SOP Instance UID, and every 10 share a
series, every 30 a study and a patient (PatientID, PatientName).

Usage: make_distinct.py SRC OUTDIR N

Writes OUTDIR/f000000.dcm ... One template is written with pydicom; the
copies patch fixed-width counters in its bytes (fast: 1000 files in well
under a second), so only the identifiers differ.
"""
import os
import sys

import pydicom

src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(out, exist_ok=True)
ds = pydicom.dcmread(src)
ds.SOPInstanceUID = "1.2.999.8810.1.111111"
ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
ds.SeriesInstanceUID = "1.2.999.8810.2.222222"
ds.StudyInstanceUID = "1.2.999.8810.3.333333"
ds.PatientID = "PID444444"
ds.PatientName = "DISTINCT^P555555"
tmpl = os.path.join(out, ".template")
ds.save_as(tmpl, write_like_original=False)
with open(tmpl, "rb") as f:
    data = f.read()
os.unlink(tmpl)
marks = [(b"8810.1.111111", 1), (b"8810.2.222222", 10), (b"8810.3.333333", 30),
         (b"PID444444", 30), (b"P555555", 30)]
for m, _ in marks:
    if m not in data:
        sys.exit("make_distinct.py: marker %r not in the template" % m)
for i in range(n):
    b = data
    for m, per in marks:
        b = b.replace(m, m[:-6] + b"%06d" % (i // per))
    with open(os.path.join(out, "f%06d.dcm" % i), "wb") as f:
        f.write(b)
