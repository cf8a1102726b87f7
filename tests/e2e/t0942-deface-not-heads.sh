#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0942-deface-not-heads: volumes that are not heads (chest and abdomen CT
# phantoms, axial and coronal) keep their Pixel Data byte for byte and get
# no RecognizableVisualFeatures under `deface remove required`. Fail
# closed: a head series with a gap (slices unevenly spaced: not a volume)
# fails every input under `deface remove required`, and is written as it
# was under `deface remove`.
. "$(dirname "$0")/lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
D="$TESTS/tools/deface.py"
"$PYTHON" -c 'import numpy, cv2, pydicom' 2>/dev/null || skip "needs python3-numpy python3-opencv python3-pydicom"
export PYTHONWARNINGS=ignore

printf 'profile t0942r\nversion 1\ninherit dicom-basic\ndeface remove required\n' >"$WORK/req.kkp"
printf 'profile t0942\nversion 1\ninherit dicom-basic\ndeface remove\n' >"$WORK/rem.kkp"

for c in "chest-ct axial" "abdomen-ct coronal"; do
    set -- $c
    in="$WORK/in-$1-$2"
    "$PYTHON" "$D" phantom "$1" "$2" "$in" || { fail "$1 $2: phantom"; continue; }
    expect_exit 0 "$KAKOU" deid -q -p "$WORK/req.kkp" -o "$WORK/out-$1-$2" "$in" || continue
    "$PYTHON" "$D" pixels "$in" | sort >"$WORK/a"
    "$PYTHON" "$D" pixels "$WORK/out-$1-$2" | sort >"$WORK/b"
    n=$(wc -l <"$WORK/a")
    if [ "$n" -ge 50 ] && cmp -s "$WORK/a" "$WORK/b"; then
        ok "$1 $2: $n slices, Pixel Data byte for byte"
    else
        fail "$1 $2: Pixel Data changed ($n slices)"
    fi
    f=$(find "$WORK/out-$1-$2" -name '*.dcm' | head -1)
    dcmdump -q "$f" | grep -q '(0028,0302)' && fail "$1 $2: RecognizableVisualFeatures set"
done

# a head with a gap: slices 40-49 of 120 left out
in="$WORK/gap"
"$PYTHON" "$D" phantom head-ct axial "$WORK/head" || fail "head phantom"
mkdir -p "$in"
for f in "$WORK"/head/*.dcm; do
    k=$(dcmdump -q +P InstanceNumber "$f" | sed 's/.*IS \[\([0-9]*\)\].*/\1/')
    if [ "$k" -le 40 ] || [ "$k" -gt 50 ]; then cp "$f" "$in/"; fi
done
[ "$(ls "$in" | wc -l)" = 110 ] || fail "gap set has $(ls "$in" | wc -l) files"
expect_exit 1 "$KAKOU" deid -q -p "$WORK/req.kkp" -o "$WORK/out-gap-req" "$in" 2>"$WORK/err"
n=$(find "$WORK/out-gap-req" -name '*.dcm' 2>/dev/null | wc -l)
[ "$n" = 0 ] || fail "required: $n outputs of a head that could not be defaced"
grep -q 'not a volume' "$WORK/err" || fail "required: no reason given: $(head -2 "$WORK/err")"
grep -q 'Phantom' "$WORK/err" && fail "a value in the messages"
expect_exit 0 "$KAKOU" deid -q -p "$WORK/rem.kkp" -o "$WORK/out-gap" "$in"
"$PYTHON" "$D" pixels "$in" | sort >"$WORK/a"
"$PYTHON" "$D" pixels "$WORK/out-gap" | sort >"$WORK/b"
cmp -s "$WORK/a" "$WORK/b" || fail "not required: pixels of a gapped head changed"
ok "gapped head: fails closed when required, untouched otherwise"
finish
