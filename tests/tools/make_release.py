#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tests/tools/make_release.py - a generated release for k-anonymity tests.

Usage: make_release.py TEMPLATE.dcm OUTDIR
       make_release.py --recount OUTPUTDIR      (prints JSON)

Writes OUTDIR/<patient>-<study>.dcm from TEMPLATE with new UIDs: 60 common
patients (sex alternating, ages 40-69, heights 1.55-1.79 m, weights
55-74 kg, a SIEMENS SOMATOM, chest or abdomen; the first 12 with a second
study on a GE Revolution), and one-offs: U1 (103 years, 2.05 m, 150 kg, a
one-off clinic, station and ACME X1 scanner, TOE), U2 (a one-off Hitachi
Supria at another clinic), U3 (12 years, 1.20 m, 30 kg, three studies),
and OPT1, whose PatientID is written in full-width letters (the opt-out
list names it in ASCII).

--recount groups the outputs by PatientID and the quasi-identifiers as
written (PatientSex, PatientAge, PatientSize, PatientWeight, Manufacturer
with ManufacturerModelName, BodyPartExamined, InstitutionName, StationName,
InstitutionalDepartmentName; a patient holds the set of its files'
values) and prints the class-size histogram.
"""
import collections
import json
import os
import sys

import pydicom
from pydicom.uid import generate_uid

QI = ["PatientSex", "PatientAge", "PatientSize", "PatientWeight", "Manufacturer",
      "ManufacturerModelName", "BodyPartExamined", "InstitutionName", "StationName",
      "InstitutionalDepartmentName"]


def write(tpl, out, pid, study, sex, age, size, weight, inst, manuf, model, body, station):
    ds = pydicom.dcmread(tpl)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientID = pid
    ds.IssuerOfPatientID = "HOSP"
    ds.PatientName = "Test^" + pid
    ds.PatientSex = sex
    ds.PatientAge = "%03dY" % age
    ds.PatientSize = size
    ds.PatientWeight = weight
    ds.InstitutionName = inst
    ds.Manufacturer = manuf
    ds.ManufacturerModelName = model
    ds.BodyPartExamined = body
    ds.StationName = station
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(os.path.join(out, "%s-%d.dcm" % (pid.encode("ascii", "replace").decode(), study)))


def make(tpl, out):
    os.makedirs(out, exist_ok=True)
    for i in range(1, 61):
        pid = "P%02d" % i
        sex = "M" if i % 2 else "F"
        args = (sex, 40 + (i * 7) % 30, "1.%02d" % (55 + i % 25), str(55 + i % 20),
                "Hospital A")
        body = "ABDOMEN" if i % 3 == 0 else "CHEST"
        write(tpl, out, pid, 1, *args, "SIEMENS", "SOMATOM", body, "CT1")
        if i <= 12:
            write(tpl, out, pid, 2, *args, "GE MEDICAL SYSTEMS", "Revolution", body, "CT2")
    for s in (1, 2):
        write(tpl, out, "U1", s, "M", 103, "2.05", "150", "Tiny Clinic", "ACME", "X1", "TOE", "ST9")
    write(tpl, out, "U2", 1, "F", 55, "1.60", "60", "Other Clinic", "Hitachi", "Supria", "CHEST", "CT1")
    for s in (1, 2, 3):
        write(tpl, out, "U3", s, "F", 12, "1.20", "30", "Hospital A", "SIEMENS", "SOMATOM", "CHEST", "CT1")
    write(tpl, out, "\uff2f\uff30\uff34\uff11", 1, "M", 50, "1.70", "70", "Hospital A", "SIEMENS",
          "SOMATOM", "CHEST", "CT1")


def recount(d):
    pts = collections.defaultdict(lambda: [set() for _ in QI])
    n = 0
    for root, _, files in os.walk(d):
        for f in files:
            if not f.endswith(".dcm"):
                continue
            ds = pydicom.dcmread(os.path.join(root, f), stop_before_pixels=True)
            n += 1
            key = str(ds.get("PatientID", "")) or str(ds.StudyInstanceUID)
            for i, a in enumerate(QI):
                v = ds.get(a, "")
                pts[key][i].add(str(v) if v is not None else "")
    classes = collections.Counter(tuple(frozenset(s) for s in v) for v in pts.values())
    hist = collections.Counter(classes.values())
    print(json.dumps({"instances": n, "patients": len(pts), "classes": len(classes),
                      "smallest": min(classes.values()) if classes else 0,
                      "class_sizes": {str(k): v for k, v in sorted(hist.items())}}))


if __name__ == "__main__":
    if sys.argv[1] == "--recount":
        recount(sys.argv[2])
    else:
        make(sys.argv[1], sys.argv[2])
