#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0410-pixel-codecs: the files lib/pixel/image* writes are valid for other
# readers. check_image's corpus case paints a box in every decodable object
# and keeps what it writes (KK_IMAGE_KEEP); each output must parse with
# dcmdump, and where pydicom has the codec its pixel_array must show the
# box black (one value) and, outside the box, the pixels pydicom reads from
# the original: exactly for lossless inputs, within 2% mean difference for
# lossy ones.
. "$(dirname "$0")/lib.sh"
BIN="$BUILD/tests/check_image"
[ -x "$BIN" ] || skip "no $BIN (make check builds it)"
# under the sanitizers check_image's corpus case has just run as a unit
# test, and what other readers make of its files is the same either way
# (300 s of make check-asan's time)
ldd "$BIN" 2>/dev/null | grep -Eq 'lib(asan|ubsan|tsan)' &&
    skip "sanitizer build: check_image's corpus case ran as a unit test; other readers are checked by make check"
OUT="$WORK/out"
mkdir -p "$OUT"
KK_IMAGE_KEEP="$OUT" CK_RUN_CASE=corpus SHARED="$SHARED" "$BIN" >"$WORK/unit.log" 2>&1
rc=$?
[ $rc -gt 128 ] && fail "check_image killed by signal $((rc - 128))"
[ $rc = 0 ] || { tail -20 "$WORK/unit.log"; fail "check_image corpus case failed"; }
n=$(ls "$OUT" | wc -l)
[ "$n" -gt 60 ] || fail "only $n files written"

for f in "$OUT"/*.dcm; do
    if ! dcmdump -q "$f" >/dev/null 2>"$WORK/err" || [ -s "$WORK/err" ]; then
        fail "dcmdump: $(basename "$f"): $(head -1 "$WORK/err")"
    fi
done

"$PYTHON" - "$CORPUS" "$OUT" >"$WORK/py" 2>&1 <<'PY'
import os, sys, warnings
import numpy as np
import pydicom
from pydicom.pixel_data_handlers.util import convert_color_space
warnings.simplefilter("ignore")
corpus, out = sys.argv[1], sys.argv[2]
LOSSY = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.81",
         "1.2.840.10008.1.2.4.91"}

def pixels(ds):
    try:
        return ds.pixel_array, None
    except Exception as e:  # no handler for this syntax, or a broken input
        return None, "%s: %s" % (type(e).__name__, str(e).splitlines()[0][:80])

for name in sorted(os.listdir(out)):
    rel = name.rsplit(".", 2)[0].replace("+", "/")
    o = pydicom.dcmread(os.path.join(out, name))
    ts = str(o.file_meta.TransferSyntaxUID)
    a, err = pixels(o)
    if a is None:
        no_codec = "handler" in err.lower() or "plugin" in err.lower() or "NotImplemented" in err
        if not no_codec:  # a header fault kept from the input is not ours
            try:
                no_codec = pixels(pydicom.dcmread(os.path.join(corpus, rel), force=True))[0] is None
            except Exception:
                no_codec = True
        print("%s %s: %s: pydicom cannot read it: %s" % ("note" if no_codec else "FAIL", name, ts, err))
        continue
    try:
        i = pydicom.dcmread(os.path.join(corpus, rel), force=True)
        b, err = pixels(i)
    except Exception:  # pydicom cannot parse the original (malformed/)
        b = None
    if b is None:
        print("ok %s: %s: read (original unreadable by pydicom)" % (name, ts)); continue
    if a.shape != b.shape:
        print("FAIL %s: shape %s, original %s" % (name, a.shape, b.shape)); continue
    pi_o, pi_i = str(o.PhotometricInterpretation), str(i.PhotometricInterpretation)
    if pi_i != pi_o and pi_i.startswith("YBR_FULL"):  # JPEG through Pillow stays YBR
        b = convert_color_space(b, "YBR_FULL", "RGB")
    if pi_i != pi_o and pi_o.startswith("YBR_FULL"):
        a = convert_color_space(a, "YBR_FULL", "RGB")
    frames = int(getattr(o, "NumberOfFrames", 1) or 1)
    a4 = a.reshape((frames, o.Rows, o.Columns, -1)).astype(np.int64)
    b4 = b.reshape((frames, o.Rows, o.Columns, -1)).astype(np.int64)
    x, y = o.Columns // 4, o.Rows // 4
    w, h = max(o.Columns // 2, 1), max(o.Rows // 4, 1)
    mask = np.zeros((o.Rows, o.Columns), bool)
    mask[y:y + h, x:x + w] = True
    its = str(i.file_meta.TransferSyntaxUID) if "TransferSyntaxUID" in i.file_meta else ""
    lossy = its in LOSSY or ts in LOSSY
    inner = a4[:, y + 8:y + h - 8, x + 8:x + w - 8, :] if lossy else a4[:, mask, :]
    if not lossy and inner.size and len(np.unique(inner.reshape(-1, a4.shape[3]), axis=0)) != 1:
        print("FAIL %s: box not uniform" % name); continue
    diff = np.abs(a4[:, ~mask, :] - b4[:, ~mask, :])
    rng = max(int(b4.max() - b4.min()), 1)
    if not lossy and diff.max() != 0:
        print("FAIL %s: %d samples differ outside the box" % (name, int((diff != 0).sum()))); continue
    if lossy and diff.mean() > 0.02 * rng:
        print("FAIL %s: mean difference %.1f outside the box" % (name, diff.mean())); continue
    print("ok %s: %s" % (name, ts))
PY
cat "$WORK/py"
grep -q '^ok' "$WORK/py" || fail "pydicom compared nothing"
while read -r line; do fail "${line#FAIL }"; done < <(grep '^FAIL\|Traceback' "$WORK/py")
echo "pydicom: $(grep -c '^ok' "$WORK/py") read, $(grep -c '^note' "$WORK/py") without a pydicom codec"
finish
