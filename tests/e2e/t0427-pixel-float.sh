#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0427-pixel-float: Float and Double Float Pixel Data (parametric maps)
# are searched for burned-in text like any image. Before, a profile that
# searches every image passed them unexamined: the pixel plan looked for
# (7FE0,0010) only. The values are seen as 16 bits over their finite
# range; a painted sample is written back at the value of its new place
# (black: the lowest value), every other value exactly as it was.
. "$(dirname "$0")/lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
"$PYTHON" -c 'import numpy, pydicom, PIL' 2>/dev/null || skip "no numpy, pydicom or PIL"
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
[ -f "$FONT" ] || skip "no DejaVu font"

"$PYTHON" - "$WORK" "$FONT" <<'PY' || fail "could not write the parametric maps"
import sys, warnings
import numpy as np
import pydicom
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
warnings.simplefilter("ignore")
work, font = sys.argv[1], sys.argv[2]
yy, xx = np.mgrid[0:256, 0:256]
a = np.where((xx - 128) ** 2 + (yy - 140) ** 2 < 80 ** 2, 0.8 + 0.001 * xx, 0.0)
g = Image.new("L", (256, 256), 0)
ImageDraw.Draw(g).text((8, 8), "NAKAMURA KENJI S7730021", font=ImageFont.truetype(font, 14), fill=255)
text = np.array(g) > 128
a[text] = 3.0
np.save(work + "/text.npy", text)
np.save(work + "/values.npy", a)
for vr in ("OF", "OD"):
    fm = FileMetaDataset()
    fm.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.30"
    fm.MediaStorageSOPInstanceUID = generate_uid()
    fm.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(None, {}, file_meta=fm, preamble=b"\0" * 128)
    ds.SOPClassUID = fm.MediaStorageSOPClassUID
    ds.SOPInstanceUID = fm.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID, ds.Modality = "NAKAMURA^KENJI", "S7730021", "MR"
    ds.Rows = ds.Columns = 256
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated = 32 if vr == "OF" else 64
    if vr == "OF":
        ds.FloatPixelData = a.astype(np.float32).tobytes()
    else:
        ds.DoubleFloatPixelData = a.tobytes()
    ds.save_as("%s/pm-%s.dcm" % (work, vr), write_like_original=False)
PY

for vr in OF OD; do
    expect_exit 0 "$KAKOU" deid -q -p jp-anonymized --no-release -o "$WORK/out-$vr" "$WORK/pm-$vr.dcm" || continue
    out=$(find "$WORK/out-$vr" -name '*.dcm' | head -1)
    if r=$("$PYTHON" - "$out" "$vr" "$WORK" <<'PY'
import sys, warnings
import numpy as np
import pydicom
warnings.simplefilter("ignore")
out, vr, work = sys.argv[1:4]
d = pydicom.dcmread(out)
text, a = np.load(work + "/text.npy"), np.load(work + "/values.npy")
raw = d.FloatPixelData if vr == "OF" else d.DoubleFloatPixelData
v = np.frombuffer(raw, np.float32 if vr == "OF" else np.float64).reshape(256, 256)
left = int((v[text] > 2.0).sum())
moved = int((np.abs(v[~text] - a[~text]) > 1e-6).sum())
print("%d of %d text values left, %d other values changed, BurnedInAnnotation %s"
      % (left, int(text.sum()), moved, d.get("BurnedInAnnotation")))
sys.exit(1 if left or moved or d.get("BurnedInAnnotation") != "NO" else 0)
PY
    ); then ok "$vr: $r"; else fail "$vr: $r"; fi
done
finish
