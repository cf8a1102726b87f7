#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""bench/pixel.py - burned-in text benchmark (issue 4): frames per second of
`kakou deid` with its pixel rules on, for a 640x480 ultrasound-like single
frame and a 100-frame cine with a static banner. Run by bench/run.sh (make
bench), or directly:

    bench/pixel.py KAKOU WORKDIR [ROUNDS]

Prints one line per case: median wall time over ROUNDS runs (process start
included), frames/s, and the issue's goal (>= 5 single frames/s on one core;
the 100-frame cine in under 2 s). Timings are reported, never judged.
"""
import os
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np
import pydicom
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def frame(rng, banner, t):
    """One 640x480 ultrasound-like frame: speckle in a sector, a banner."""
    h, w = 480, 640
    yy, xx = np.mgrid[0:h, 0:w]
    ang = np.arctan2(xx - w / 2, yy + 40)
    r = np.hypot(xx - w / 2, yy + 40)
    sector = (np.abs(ang) < 0.6) & (r > 80) & (r < 500)
    img = np.zeros((h, w), np.float32)
    speck = rng.rayleigh(40 + 10 * np.sin(t / 5.0), size=(h, w))
    img[sector] = speck[sector]
    im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(im)
    font = ImageFont.truetype(FONT, 14)
    for i, line in enumerate(banner):
        d.text((8, 4 + 18 * i), line, fill=235, font=font)
    d.text((540, 4), "MI 1.2  TIs 0.4", fill=235, font=font)
    d.text((590, 450), "16cm", fill=235, font=font)
    return np.asarray(im)


def write(path, frames):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.3.1" if len(frames) > 1 else "1.2.840.10008.5.1.4.1.1.6.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(path, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "US"
    ds.PatientName = "BENCH^PATIENT"
    ds.PatientID = "BENCH0001"
    ds.PatientBirthDate = "19700312"
    ds.StudyDate = "20240401"
    ds.Rows, ds.Columns = frames[0].shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    if len(frames) > 1:
        ds.NumberOfFrames = len(frames)
        ds.FrameIncrementPointer = (0x0018, 0x1063)
        ds.FrameTime = "33.3"
    ds.PixelData = np.stack(frames).tobytes()
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as(path, write_like_original=False)


def run(kakou, src, out):
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    p = subprocess.run([kakou, "deid", "-q", "-j", "1", "-p", "jp-anonymized", "--no-release", "-o", out, src],
                       capture_output=True)
    dt = time.perf_counter() - t0
    return dt if p.returncode == 0 else None


def main():
    kakou, work = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(1)
    banner = ["BENCH, PATIENT   ID BENCH0001", "DOB 12/03/1970   01-APR-2024 10:21"]
    single = os.path.join(work, "us-640x480.dcm")
    cine = os.path.join(work, "us-cine-100.dcm")
    if not os.path.exists(single):
        write(single, [frame(rng, banner, 0)])
    if not os.path.exists(cine):
        write(cine, [frame(rng, banner, t) for t in range(100)])
    batch = os.path.join(work, "batch")
    if not os.path.isdir(batch):
        os.makedirs(batch)
        for i in range(20):
            write(os.path.join(batch, "us-%02d.dcm" % i), [frame(rng, banner, i)])
    env_note = "one worker (-j 1)"
    print("burned-in text, jp-anonymized, %s, median of %d runs" % (env_note, rounds))
    print("%-28s %9s %10s   %s" % ("case", "wall s", "frames/s", "goal"))
    for name, path, nframes, goal in (("640x480 single frame", single, 1, "(process start)"),
                                      ("20 single frames, 1 run", batch, 20, ">= 5 frames/s"),
                                      ("640x480 cine, 100 frames", cine, 100, "< 2 s")):
        times = [run(kakou, path, os.path.join(work, "out")) for _ in range(rounds)]
        if any(t is None for t in times):
            print("%-28s %9s %10s   %s" % (name, "failed", "-", goal))
            continue
        m = statistics.median(times)
        print("%-28s %9.3f %10.1f   %s" % (name, m, nframes / m, goal))
    shutil.rmtree(os.path.join(work, "out"), ignore_errors=True)


if __name__ == "__main__":
    main()
