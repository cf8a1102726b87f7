#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tests/tools/make_codes.py - images with barcodes and QR codes burned in,
as a scanned wristband or label puts them beside printed text.

Usage: make_codes.py OUTDIR

Writes OUTDIR/NAME.dcm and OUTDIR/truth.json (each file's code boxes, x y w
h, and what each code says). The codes are drawn by zint (Debian's zint)
and carry the patient's ID and name; kinds: an 8-bit SC label page with a
Code 128 and a QR code beside text, a 16-bit DX with a Code 128 label in a
corner (what a plate reader prints; 1.5 megapixels, as radiographs are), an RGB photograph (XC) with a QR code
on a coloured background, and a US frame with a small QR code on speckle.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image, ImageDraw, ImageFont

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
PID, PN = "P0071234", "SUZUKI^HANAKO"


def code(kind, data, scale, tmp):
    """a zint symbol as a 0/255 grayscale array (black modules)"""
    out = os.path.join(tmp, "c.png")
    b = {"code128": "20", "qr": "58"}[kind]
    subprocess.run(["zint", "-b", b, "-d", data, "--scale=%d" % scale, "--notext", "--quietzones",
                    "-o", out], check=True, capture_output=True)
    return np.array(Image.open(out).convert("L"))


def to_dicom(path, pix, modality, rgb=False, bits=8):
    sop = {"SC": "1.2.840.10008.5.1.4.1.1.7", "DX": "1.2.840.10008.5.1.4.1.1.1.1",
           "XC": "1.2.840.10008.5.1.4.1.1.77.1.4", "US": "1.2.840.10008.5.1.4.1.1.6.1"}[modality]
    name = os.path.basename(path)
    uid = "2.25.%d" % int.from_bytes(name.encode()[:14].ljust(14, b"\0"), "big")
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop
    ds.file_meta.MediaStorageSOPInstanceUID = uid + ".3"
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = "2.25.1"
    ds.SOPClassUID, ds.SOPInstanceUID = sop, uid + ".3"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = uid + ".1", uid + ".2"
    ds.Modality = modality
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = PN, PID, "19500312"
    ds.StudyDate, ds.StudyTime, ds.AccessionNumber = "20240401", "101500", "A20240401"
    ds.PatientSex, ds.ReferringPhysicianName, ds.StudyID = "F", "", "1"
    ds.SeriesNumber, ds.InstanceNumber, ds.Manufacturer = "1", "1", "kakou-test"
    ds.PatientOrientation, ds.ConversionType, ds.Laterality = "", "WSD", ""
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    if modality == "DX":
        ds.PresentationIntentType = "FOR PRESENTATION"
    ds.Rows, ds.Columns = pix.shape[0], pix.shape[1]
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    if bits == 16:
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    if rgb:
        ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    else:
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.PixelData = pix.astype("<u2").tobytes() if bits == 16 else pix.astype(np.uint8).tobytes()
    ds.is_little_endian, ds.is_implicit_VR = True, False
    pydicom.dcmwrite(path, ds, write_like_original=False)


def paste(page, sym, x, y, truth, data):
    h, w = sym.shape
    page[y:y + h, x:x + w] = sym
    truth.append({"box": [x, y, w, h], "data": data})


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(26)
    truth = {}
    font = ImageFont.truetype(FONT, 22)
    with tempfile.TemporaryDirectory() as tmp:
        # a label page: text, a Code 128 and a QR code
        page = np.full((600, 800), 235, np.uint8)
        t = []
        paste(page, code("code128", PID, 2, tmp), 60, 200, t, PID)
        paste(page, code("qr", PID + " SUZUKI HANAKO 1950-03-12", 3, tmp), 560, 120, t,
              PID + " SUZUKI HANAKO 1950-03-12")
        im = Image.fromarray(page)
        d = ImageDraw.Draw(im)
        d.text((60, 60), "SUZUKI HANAKO  F  1950-03-12", fill=20, font=font)
        d.text((60, 100), "ID " + PID, fill=20, font=font)
        to_dicom(os.path.join(out, "sc_label.dcm"), np.array(im), "SC")
        truth["sc_label.dcm"] = t
        # a DX with a plate reader's label in a corner, 12 bits
        dx = (rng.normal(1800, 300, (1400, 1100)).clip(0, 4095)).astype(np.uint16)
        sym = code("code128", PID, 2, tmp)
        h, w = sym.shape
        t = []
        lab = np.full((h + 16, w + 16), 4000, np.uint16)
        lab[8:8 + h, 8:8 + w] = (sym.astype(np.int32) * 4000) // 255
        dx[20:20 + h + 16, 20:20 + w + 16] = lab
        t.append({"box": [28, 28, w, h], "data": PID})
        to_dicom(os.path.join(out, "dx_label.dcm"), dx, "DX", bits=16)
        truth["dx_label.dcm"] = t
        # a photograph with a QR code on a coloured background
        rgb = np.zeros((480, 640, 3), np.uint8)
        rgb[..., 0], rgb[..., 1], rgb[..., 2] = 170, 120, 90
        rgb += rng.integers(0, 20, rgb.shape, dtype=np.uint8)
        sym = code("qr", PID, 3, tmp)
        t = []
        h, w = sym.shape
        rgb[300:300 + h, 420:420 + w] = sym[..., None]
        t.append({"box": [420, 300, w, h], "data": PID})
        to_dicom(os.path.join(out, "xc_photo.dcm"), rgb, "XC", rgb=True)
        truth["xc_photo.dcm"] = t
        # a small QR code on ultrasound speckle
        us = (rng.gamma(2.0, 25, (480, 640))).clip(0, 255).astype(np.uint8)
        sym = code("qr", PID, 2, tmp)
        t = []
        h, w = sym.shape
        us[30:30 + h, 500:500 + w] = sym
        t.append({"box": [500, 30, w, h], "data": PID})
        to_dicom(os.path.join(out, "us_qr.dcm"), us, "US")
        truth["us_qr.dcm"] = t
    with open(os.path.join(out, "truth.json"), "w") as f:
        json.dump(truth, f, indent=1)


if __name__ == "__main__":
    main(sys.argv)
