#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0941-deface-phantoms: synthetic CT and MR head phantoms (an ellipsoid
# head with brow, nose, eye sockets, lips, chin, ears, skull and brain;
# tests/tools/deface.py) in axial, sagittal, coronal and oblique slices,
# single-frame and enhanced multi-frame (frames out of order), native and
# RLE. After `deface remove` (and `deface blur` once): the face cascades
# find a face in the front render before and none after; >= 99% of the
# brain's voxels keep their values; under `deface remove`, >= 95% of the
# ears' voxels (two flaps out of the sides of the head) are background;
# an RLE input is written as RLE again.
. "$(dirname "$0")/lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
need_deface_tools

printf 'profile t0941\nversion 1\ninherit dicom-basic\ndeface remove\n' >"$WORK/remove.kkp"
printf 'profile t0941b\nversion 1\ninherit dicom-basic\ndeface blur\n' >"$WORK/blur.kkp"

one_case() { # KIND ORIENT PROFILE [phantom options]
    local kind=$1 orient=$2 prof=$3; shift 3
    local name="$kind-$orient-$prof${1:+$1}" in out
    in="$WORK/in-$name"
    out="$WORK/out-$name"
    "$PYTHON" "$D" phantom "$kind" "$orient" "$in" "$@" || { fail "$name: phantom"; return; }
    expect_exit 0 "$KAKOU" deid -q -p "$WORK/$prof.kkp" -o "$out" "$in" || return
    local b a k e
    b=$("$PYTHON" "$D" faces "$in")
    a=$("$PYTHON" "$D" faces "$out")
    k=$("$PYTHON" "$D" brain "$in" "$out")
    case "$b" in "views-with-face 1 of 1"*) ;; *) fail "$name: no face before ($b)"; return ;; esac
    case "$a" in "views-with-face 0 of 1"*) ;; *) fail "$name: a face after ($a)"; return ;; esac
    awk -v k="${k#brain-kept }" 'BEGIN { exit !(k >= 0.99) }' || { fail "$name: $k"; return; }
    if [ "$prof" = remove ]; then
        e=$("$PYTHON" "$D" ears "$in" "$out")
        awk -v e="${e#ears-removed }" 'BEGIN { exit !(e >= 0.95) }' || { fail "$name: $e"; return; }
        k="$k, $e"
    fi
    ok "$name: $b -> $a, $k"
}

one_case head-ct axial remove
one_case head-ct coronal remove
one_case head-ct oblique remove
one_case head-mr sagittal remove --enhanced
one_case head-mr axial remove --rle
one_case head-ct sagittal blur

# the RLE input stays RLE (lossless re-encode in its own syntax)
f=$(find "$WORK/out-head-mr-axial-remove--rle" -name '*.dcm' | head -1)
dcmdump -q "$f" | grep -q '(0002,0010) UI =RLELossless' || fail "RLE input not written as RLE"
finish
