#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tests/tools/deface.py - what the defacing tests (t094x) need, independent of
kakou's own code: synthetic head, chest and abdomen phantoms written as DICOM
series in any orientation, a renderer of a series' skin surface as seen from
the front, OpenCV's face detectors on that render, and a brain-mask check.

  deface.py phantom KIND ORIENT OUTDIR [--enhanced] [--rle] [--fine]
      KIND: head-ct head-mr chest-ct abdomen-ct; ORIENT: axial sagittal
      coronal oblique
  deface.py render DIR PNG       front render; prints "cascades N": how many of
                                 the three frontal-face cascades find a face
  deface.py faces DIR [--views=3] renders from the front (and, with
                                 --views=3, turned 10 degrees either way); a
                                 view has a face when two of the three
                                 cascades (opencv-data) find one; prints
                                 "views-with-face N of M (...)"
  deface.py pixels DIR           "IPP md5" of each object's raw Pixel Data
  deface.py tiles PNG            for a `kakou review --faces` sheet, per head:
                                 "before N after M", cascades finding a face
  deface.py brain BEFORE AFTER   prints "brain-kept F" for a head phantom:
      the fraction of voxels inside the phantom's brain whose values did
      not change (slices matched by ImagePositionPatient)
  deface.py sides BEFORE AFTER   for a real head: "moved-left A cm2
      moved-right B cm2 z Z0..Z1 deep-kept F": how much of the lateral
      surface of each side moved more than 4 mm inward (the ears), at
      which heights, and the fraction of the posterior voxels 15 mm or more
      inside the head whose values did not change
  deface.py ears BEFORE AFTER    prints "ears-removed F" for a head phantom:
      the fraction of the voxels of its ears (the flaps outside the head)
      that were skin before and are background after (below the threshold
      the renderer takes for skin)

Patient coordinates are LPS (+x left, +y posterior, +z superior), mm.
"""
import math
import os
import sys

import cv2
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, RLELossless, generate_uid

LIGHT_UP = float(os.environ.get("LIGHT_UP", "0.5"))
CUE_MM = float(os.environ.get("CUE_MM", "40"))
CASCADES = "/usr/share/opencv4/haarcascades"

# --- phantoms ---------------------------------------------------------------


def ell(P, c, s):
    """Inside the ellipsoid of centre c, semi-axes s."""
    return (((P[..., 0] - c[0]) / s[0]) ** 2 + ((P[..., 1] - c[1]) / s[1]) ** 2 +
            ((P[..., 2] - c[2]) / s[2]) ** 2) <= 1.0


HEAD = ((0, 0, -10), (75, 95, 120))
EAR_ANGLE = math.radians(30)


def ear_flaps(P):
    """The phantom's outer ears: on either side a flap 7 mm thick, 34 mm
    long and 60 mm high, attached in front (just in front of the coronal
    midplane, at nose height) and turned 30 degrees out of the side of the
    head, its back edge 19 mm out of the skin."""
    out = np.zeros(P.shape[:-1], dtype=bool)
    for sx in (-1, 1):
        u = np.array([sx * math.sin(EAR_ANGLE), math.cos(EAR_ANGLE), 0.0])
        w = np.array([sx * math.cos(EAR_ANGLE), -math.sin(EAR_ANGLE), 0.0])
        c = np.array([sx * 73.0, 0.0, -12.0]) + 17 * u
        d = P - c
        out |= ((d @ u / 17) ** 2 + (d @ w / 3.5) ** 2 + (d[..., 2] / 30) ** 2) <= 1
    return out


def ear_mask(P):
    """The voxels of the ears: the flaps outside the head."""
    return ear_flaps(P) & ~ell(P, *HEAD)


def brain_mask(P):
    """The phantom's brain: an ellipsoid whose frontal part sits on the
    anterior cranial fossa (nothing anterior below the orbital roof)."""
    b = ell(P, (0, 0, 20), (60, 80, 76))
    return b & ~((P[..., 1] < -25) & (P[..., 2] < 5))


def head_values(P, mr):
    skin, bone, brain, csf, air = (800, 80, 600, 300, 0) if mr else (40, 1100, 35, 8, -1000)
    v = np.full(P.shape[:-1], float(air), dtype=np.float32)
    face = (ell(P, *HEAD) |
            ell(P, (0, -91, 14), (50, 6, 16)) |        # brow ridge
            ell(P, (0, -92, -28), (12, 22, 28)) |      # nose
            ell(P, (0, -87, -64), (24, 9, 5)) |        # upper lip
            ell(P, (0, -87, -76), (22, 9, 5)) |        # lower lip
            ell(P, (0, -78, -100), (30, 14, 14)) |     # chin
            ear_flaps(P))
    sockets = ell(P, (32, -92, 0), (15, 12, 11)) | ell(P, (-32, -92, 0), (15, 12, 11))
    globes = ell(P, (32, -78, 0), (11, 11, 11)) | ell(P, (-32, -78, 0), (11, 11, 11))
    mouth = (np.abs(P[..., 2] + 70) < 1.5) & (np.abs(P[..., 0]) < 20) & (P[..., 1] < -82)
    v[face & ~sockets & ~mouth] = skin
    v[globes] = csf
    inner = (0, 0, 0), (69, 89, 104)
    v[ell(P, *inner)] = bone
    v[ell(P, (0, 0, 0), (63, 83, 98))] = csf
    v[brain_mask(P)] = brain
    return v


def body_values(P, kind):
    v = np.full(P.shape[:-1], -1000.0, dtype=np.float32)
    body = ((P[..., 0] / 170) ** 2 + (P[..., 1] / 110) ** 2) <= 1
    v[body] = 40
    if kind == "chest-ct":
        for sx in (-1, 1):
            v[ell(P, (sx * 80, 0, 0), (60, 75, 400)) & body] = -800
        v[ell(P, (20, -30, 0), (45, 40, 60))] = 45
    else:
        v[ell(P, (-60, -10, 0), (60, 50, 90))] = 55   # liver
        v[ell(P, (70, 20, 0), (25, 30, 40))] = 35     # kidney
    v[ell(P, (0, 70, 0), (18, 18, 400))] = 700        # spine
    return v


def orientation(orient):
    if orient == "axial":
        return np.array([1.0, 0, 0]), np.array([0, 1.0, 0])
    if orient == "sagittal":
        return np.array([0, 1.0, 0]), np.array([0, 0, -1.0])
    if orient == "coronal":
        return np.array([1.0, 0, 0]), np.array([0, 0, -1.0])
    # oblique: axial tilted 20 degrees about x, then turned 15 about z
    a, b = math.radians(20), math.radians(15)
    row = np.array([math.cos(b), math.sin(b), 0.0])
    col = np.array([-math.sin(b) * math.cos(a), math.cos(b) * math.cos(a), math.sin(a)])
    return row, col


def phantom(kind, orient, out, enhanced=False, rle=False, fine=False):
    os.makedirs(out, exist_ok=True)
    row, col = orientation(orient)
    normal = np.cross(row, col)
    head = kind.startswith("head")
    n, sp = (128, 2.0) if head else (128, 3.2)
    if fine:  # the same field of view in 384 x 384: kakou's coarse look first
        n, sp = 3 * n, sp / 3
    nslices = 120 if head else 60
    dz = 2.0 if head else 5.0
    centre = np.array([0.0, 0.0, 0.0])
    origin = centre - row * sp * (n - 1) / 2 - col * sp * (n - 1) / 2 - normal * dz * (nslices - 1) / 2
    cc, rr = np.meshgrid(np.arange(n), np.arange(n))
    mr = kind == "head-mr"
    study, series, frame_uid = generate_uid(), generate_uid(), generate_uid()
    frames = []
    for k in range(nslices):
        ipp = origin + normal * dz * k
        P = ipp + cc[..., None] * sp * row + rr[..., None] * sp * col
        v = head_values(P, mr) if head else body_values(P, kind)
        if mr:
            rng = np.random.default_rng(k)
            v = v * (1 + 0.15 * (P[..., 2] / 110)) + rng.normal(0, 8, v.shape)  # bias, noise
            stored = np.clip(v, 0, 4095).astype(np.uint16)
        else:
            stored = np.clip(v + 1024, 0, 4095).astype(np.uint16)
        frames.append((ipp, stored))

    def base(sop_class):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = sop_class
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID = sop_class
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.PatientName, ds.PatientID = "Phantom^Head", "PH%s" % kind
        ds.Modality = "MR" if mr else "CT"
        ds.BodyPartExamined = "HEAD" if head else "CHEST"
        ds.StudyDate, ds.SeriesNumber = "20240101", 1
        ds.Rows = ds.Columns = n
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.FrameOfReferenceUID = frame_uid
        return ds

    def fmt(x):
        return ["%.6g" % float(t) for t in x]

    if enhanced:
        cls = "1.2.840.10008.5.1.4.1.1.4.1" if mr else "1.2.840.10008.5.1.4.1.1.2.1"
        ds = base(cls)
        ds.NumberOfFrames = nslices
        sh = Dataset()
        po = Dataset()
        po.ImageOrientationPatient = fmt(list(row) + list(col))
        pm = Dataset()
        pm.PixelSpacing = fmt([sp, sp])
        pm.SliceThickness = "%g" % dz
        sh.PlaneOrientationSequence = [po]
        sh.PixelMeasuresSequence = [pm]
        if not mr:
            pv = Dataset()
            pv.RescaleIntercept, pv.RescaleSlope, pv.RescaleType = "-1024", "1", "HU"
            sh.PixelValueTransformationSequence = [pv]
        ds.SharedFunctionalGroupsSequence = [sh]
        per = []
        order = list(range(nslices))
        order = order[::2] + order[1::2]  # frames out of order on purpose
        for k in order:
            f = Dataset()
            pp = Dataset()
            pp.ImagePositionPatient = fmt(frames[k][0])
            f.PlanePositionSequence = [pp]
            per.append(f)
        ds.PerFrameFunctionalGroupsSequence = per
        ds.PixelData = b"".join(frames[k][1].tobytes() for k in order)
        ds.save_as(os.path.join(out, "enhanced.dcm"), write_like_original=False)
        return
    cls = "1.2.840.10008.5.1.4.1.1.4" if mr else "1.2.840.10008.5.1.4.1.1.2"
    for k, (ipp, stored) in enumerate(frames):
        ds = base(cls)
        ds.ImagePositionPatient = fmt(ipp)
        ds.ImageOrientationPatient = fmt(list(row) + list(col))
        ds.PixelSpacing = fmt([sp, sp])
        ds.SliceThickness = "%g" % dz
        ds.InstanceNumber = k + 1
        if not mr:
            ds.RescaleIntercept, ds.RescaleSlope = "-1024", "1"
        ds.PixelData = stored.tobytes()
        if rle:
            ds.compress(RLELossless)
        # file names in a scrambled order: the volume must not depend on it
        ds.save_as(os.path.join(out, "s%03d.dcm" % ((k * 37) % nslices)), write_like_original=False)


# --- reading a series back ----------------------------------------------------


def floats(v):
    return [float(x) for x in v]


def read_series(d):
    """[(ipp, row, col, spacing, values)] of every slice under d."""
    out = []
    for root, _, files in os.walk(d):
        for name in sorted(files):
            p = os.path.join(root, name)
            try:
                ds = pydicom.dcmread(p)
            except Exception:
                continue
            if "PixelData" not in ds:
                continue
            arr = ds.pixel_array.astype(np.float32)
            if "PerFrameFunctionalGroupsSequence" in ds:
                sh = ds.SharedFunctionalGroupsSequence[0]
                iop = floats(sh.PlaneOrientationSequence[0].ImageOrientationPatient)
                ps = floats(sh.PixelMeasuresSequence[0].PixelSpacing)
                sl, ic = 1.0, 0.0
                if "PixelValueTransformationSequence" in sh:
                    pv = sh.PixelValueTransformationSequence[0]
                    sl, ic = float(pv.RescaleSlope), float(pv.RescaleIntercept)
                if arr.ndim == 2:
                    arr = arr[None]
                for f, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
                    ipp = floats(item.PlanePositionSequence[0].ImagePositionPatient)
                    out.append((np.array(ipp), np.array(iop[:3]), np.array(iop[3:]), ps,
                                arr[f] * sl + ic, ds.Modality))
            else:
                sl = float(getattr(ds, "RescaleSlope", 1) or 1)
                ic = float(getattr(ds, "RescaleIntercept", 0) or 0)
                iop = floats(ds.ImageOrientationPatient)
                out.append((np.array(floats(ds.ImagePositionPatient)), np.array(iop[:3]),
                            np.array(iop[3:]), floats(ds.PixelSpacing), arr * sl + ic, ds.Modality))
    n = np.cross(out[0][1], out[0][2])
    out.sort(key=lambda s: float(np.dot(s[0], n)))
    return out


def otsu(v):
    hist, edges = np.histogram(v, bins=256)
    w = np.cumsum(hist).astype(np.float64)
    m = np.cumsum(hist * np.arange(256)).astype(np.float64)
    wt, mt = w[-1], m[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mt * w - m * wt) ** 2 / (w * (wt - w))
    t = int(np.nanargmax(between[:-1]))
    return edges[t + 1]


def skin_points(d):
    sl = read_series(d)
    ct = sl[0][5] == "CT"
    vol = np.stack([s[4] for s in sl])
    t = -500 if ct else 0.5 * otsu(vol)
    pts = []
    for ipp, row, col, ps, v, _ in sl:
        rr, cc = np.nonzero(v > t)
        pts.append(ipp + cc[:, None] * ps[1] * row + rr[:, None] * ps[0] * col)
    return np.concatenate(pts)


def render(d, yaw=0.0, px=1.0, size=300):
    """Depth-shaded front view (light from the viewer, a little above).
    d: a folder, or the skin points of one (skin_points())."""
    P = skin_points(d) if isinstance(d, str) else d
    c = np.median(P, axis=0)
    a = math.radians(yaw)
    x = (P[:, 0] - c[0]) * math.cos(a) - (P[:, 1] - c[1]) * math.sin(a)
    y = (P[:, 0] - c[0]) * math.sin(a) + (P[:, 1] - c[1]) * math.cos(a)
    z = P[:, 2] - c[2]
    u = np.round(x / px + size / 2).astype(int)
    v = np.round(-z / px + size / 2).astype(int)
    ok = (u >= 0) & (u < size) & (v >= 0) & (v < size)
    depth = np.full((size, size), np.inf, dtype=np.float64)
    np.minimum.at(depth, (v[ok], u[ok]), y[ok])
    # close the pinholes of the splat
    filled = np.where(np.isinf(depth), 1e9, depth)
    filled = cv2.erode(filled.astype(np.float32), np.ones((3, 3), np.uint8))
    hole = np.isinf(depth) & (filled < 1e8)
    depth[hole] = filled[hole]
    bg = np.isinf(depth)
    dd = np.where(bg, np.nanmax(np.where(bg, np.nan, depth)) + 50, depth)
    dd = cv2.GaussianBlur(dd.astype(np.float32), (5, 5), 1.0)
    gy, gx = np.gradient(dd, px)
    nrm = np.dstack([-gx, -gy, np.ones_like(gx)])
    nrm /= np.linalg.norm(nrm, axis=2, keepdims=True)
    L = np.array([0.0, -LIGHT_UP, 1.0]) / math.hypot(LIGHT_UP, 1.0)
    lam = np.clip(nrm @ L, 0, 1)
    # depth cue: what is nearer is brighter, 8 cm deeper is half as bright
    near = np.min(dd[~bg]) if (~bg).any() else 0
    cue = np.clip(1 - 0.5 * (dd - near) / CUE_MM, 0.2, 1)
    img = (20 + 235 * lam * cue).astype(np.uint8)
    img[bg] = 0
    return img


def faces_in(img):
    """How many of OpenCV's three frontal-face Haar cascades find a face:
    a face is there when at least two agree."""
    found = 0
    for name in ("haarcascade_frontalface_default.xml", "haarcascade_frontalface_alt.xml",
                 "haarcascade_frontalface_alt2.xml"):
        cas = cv2.CascadeClassifier(os.path.join(CASCADES, name))
        if cas.empty():
            sys.exit("cannot load %s (install opencv-data)" % name)
        r = cas.detectMultiScale(img, scaleFactor=1.05, minNeighbors=4, minSize=(60, 60))
        found += len(r) > 0
    return found


def compare(before, after, region):
    """Over the voxels of region(P) (slices matched by ImagePositionPatient):
    how many, their values before and after, and the threshold of the
    skin (skin_points())."""
    a, b = read_series(before), read_series(after)
    if len(a) != len(b):
        sys.exit("slice counts differ: %d vs %d" % (len(a), len(b)))
    va, vb = [], []
    for (ipp, row, col, ps, sa, _), (ipp2, _, _, _, sb, _) in zip(a, b):
        if np.abs(ipp - ipp2).max() > 1e-3:
            sys.exit("slice positions differ")
        rr, cc = np.mgrid[0:sa.shape[0], 0:sa.shape[1]]
        P = ipp + cc[..., None] * ps[1] * row + rr[..., None] * ps[0] * col
        m = region(P)
        va.append(sa[m])
        vb.append(sb[m])
    va, vb = np.concatenate(va), np.concatenate(vb)
    if not va.size:
        sys.exit("no voxels in the region")
    t = -500 if a[0][5] == "CT" else 0.5 * otsu(np.stack([s[4] for s in a]))
    return va, vb, t


def brain_kept(before, after):
    va, vb, _ = compare(before, after, brain_mask)
    return float((va == vb).mean())


def ears_removed(before, after):
    """The fraction of the ears' voxels that were skin before and are
    background (below the skin threshold) after."""
    va, vb, t = compare(before, after, ear_mask)
    skin = va > t
    if not skin.any():
        sys.exit("no ear voxels above the skin threshold")
    return float((vb[skin] <= t).mean())


def sides(before, after, moved_mm=4.0, deep_mm=15.0):
    """For a real head: how much of each side's surface moved inward, and
    whether the inside stayed. The lateral surface of each side (patient
    left and right of the head's median x), behind the face (from 2 cm in
    front of the head's median y back), is the mask's outermost x in each
    1 mm bin of (y, z); a bin counts as moved when it lies more than
    moved_mm further in after (or is gone). Deep: the posterior half of
    the voxels at least deep_mm inside the mask (an erosion by a cylinder
    along the slice normal, which holds the ball); the fraction of them
    whose values did not change. Returns (left cm2, right cm2, z range of
    the moved bins, deep kept)."""
    a, b = read_series(before), read_series(after)
    if len(a) != len(b):
        sys.exit("slice counts differ: %d vs %d" % (len(a), len(b)))
    ct = a[0][5] == "CT"
    va = np.stack([s[4] for s in a])
    vb = np.stack([s[4] for s in b])
    t = -500 if ct else 0.5 * otsu(va)
    ps, n = a[0][3], np.cross(a[0][1], a[0][2])
    dz = float(np.dot(a[1][0] - a[0][0], n)) if len(a) > 1 else 1.0
    rr, cc = np.mgrid[0:va.shape[1], 0:va.shape[2]]
    pts = []
    for k, (ipp, row, col, _, _, _) in enumerate(a):
        pts.append((ipp + cc[..., None] * ps[1] * row + rr[..., None] * ps[0] * col).astype(np.float32))
    P = np.stack(pts)
    ma, mb = va > t, vb > t
    cx = float(np.median(P[..., 0][ma]))
    # behind the face: from 2 cm in front of the head's AP middle back
    ymid = float(np.median(P[..., 1][ma]))
    ma_side, mb_side = ma & (P[..., 1] > ymid - 20), mb & (P[..., 1] > ymid - 20)
    y0, z0 = P[..., 1][ma].min(), P[..., 2][ma].min()
    ny, nz = int(P[..., 1][ma].max() - y0) + 2, int(P[..., 2][ma].max() - z0) + 2
    area, zs = [], []
    for sx in (1, -1):
        ext = []
        for m in (ma_side, mb_side):
            q = m & (sx * (P[..., 0] - cx) > 0)
            g = np.full((ny, nz), -1.0)
            iy = np.clip((P[..., 1][q] - y0).astype(int), 0, ny - 1)
            iz = np.clip((P[..., 2][q] - z0).astype(int), 0, nz - 1)
            np.maximum.at(g, (iy, iz), sx * (P[..., 0][q] - cx))
            ext.append(g)
        mv = (ext[0] > 0) & (ext[0] - np.maximum(ext[1], 0) > moved_mm)
        area.append(mv.sum() / 100.0)
        zs.extend((np.nonzero(mv)[1] + z0).tolist())
    rad = max(1, int(round(deep_mm / ps[0])))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * rad + 1, 2 * rad + 1))
    er = np.stack([cv2.erode(m.astype(np.uint8), disc, borderValue=0) for m in ma]).astype(bool)
    h = max(1, int(round(deep_mm / abs(dz))))
    deep = er.copy()
    for s in range(1, h + 1):
        deep[s:] &= er[:-s]
        deep[:-s] &= er[s:]
    deep[:h] = deep[-h:] = False
    deep &= P[..., 1] > ymid
    kept = float((va[deep] == vb[deep]).mean()) if deep.any() else 0.0
    zr = (min(zs), max(zs)) if zs else (0, 0)
    return area[0], area[1], zr, kept


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "phantom":
        phantom(sys.argv[2], sys.argv[3], sys.argv[4], "--enhanced" in sys.argv, "--rle" in sys.argv,
                "--fine" in sys.argv)
    elif cmd == "render":
        img = render(sys.argv[2])
        cv2.imwrite(sys.argv[3], img)
        print("cascades %d" % faces_in(img))
    elif cmd == "faces":
        P = skin_points(sys.argv[2])
        yaws = (0, -10, 10) if "--views=3" in sys.argv else (0,)
        votes = [faces_in(render(P, yaw)) for yaw in yaws]
        print("views-with-face %d of %d (cascades %s)" % (sum(v >= 2 for v in votes), len(votes),
                                                       ",".join(map(str, votes))))
    elif cmd == "tiles":
        # a `kakou review --faces` sheet: 256-pixel tiles, 8 apart, one row
        # a head, before | after; the cascades agreeing on each
        img = cv2.imread(sys.argv[2], cv2.IMREAD_GRAYSCALE)
        if img is None or img.shape[1] != 520:
            sys.exit("not a review --faces sheet")
        for y in range(0, img.shape[0], 264):
            print("before %d after %d" % (faces_in(img[y:y + 256, 0:256]),
                                          faces_in(img[y:y + 256, 264:520])))
    elif cmd == "pixels":
        # the raw Pixel Data of every object, by ImagePositionPatient
        for root, _, files in os.walk(sys.argv[2]):
            for name in files:
                ds = pydicom.dcmread(os.path.join(root, name))
                import hashlib
                print("%s %s" % ("/".join(str(x) for x in ds.ImagePositionPatient),
                                 hashlib.md5(ds.PixelData).hexdigest()))
    elif cmd == "brain":
        print("brain-kept %.5f" % brain_kept(sys.argv[2], sys.argv[3]))
    elif cmd == "sides":
        left, right, zr, kept = sides(sys.argv[2], sys.argv[3])
        print("moved-left %.1f cm2 moved-right %.1f cm2 z %.0f..%.0f deep-kept %.5f" %
              (left, right, zr[0], zr[1], kept))
    elif cmd == "ears":
        print("ears-removed %.5f" % ears_removed(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
