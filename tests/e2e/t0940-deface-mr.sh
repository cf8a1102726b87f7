#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0940-deface-mr: defacing the shared real T1 head MR (176 sagittal
# slices, ../shared/corpus/volumes/mr-t1-head). Rendered skin surface from
# the front and turned 10 degrees either way (tests/tools/deface.py):
# OpenCV's face cascades find a face in every view before and in none
# after. Each output says so: RecognizableVisualFeatures NO, code 113102
# in DeidentificationMethodCodeSequence, "face and ears removed" in
# DeidentificationMethod; the pixels changed, the slice count did not.
# The ears went too: the lateral surface behind the face moved inward on
# both sides at ear level, the inside of the back of the head did not.
# kakou review --faces draws the head before and after; OpenCV finds the
# face in the first tile only. deface off leaves the pixels alone.
. "$(dirname "$0")/lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
MR="$CORPUS/volumes/mr-t1-head"
[ -d "$MR" ] || skip "no $MR"
need_deface_tools

printf 'profile t0940\nversion 1\ninherit dicom-basic\ndeface remove\n' >"$WORK/p.kkp"
expect_exit 0 "$KAKOU" deid -q -p "$WORK/p.kkp" -o "$WORK/out" "$MR"
n=$(find "$WORK/out" -name '*.dcm' | wc -l)
[ "$n" = 176 ] || fail "176 inputs gave $n outputs"

before=$("$PYTHON" "$D" faces "$MR" 2>/dev/null)
after=$("$PYTHON" "$D" faces "$WORK/out" --views=3 2>/dev/null)
case "$before" in "views-with-face 1 of 1"*) ok "before: $before" ;; *) fail "before: $before" ;; esac
case "$after" in "views-with-face 0 of 3"*) ok "after: $after" ;; *) fail "after: $after" ;; esac

one=$(find "$WORK/out" -name '*.dcm' | head -1)
dump=$(dcmdump -q +L "$one")
grep -q '(0028,0302) CS \[NO\]' <<<"$dump" || fail "RecognizableVisualFeatures is not NO"
grep -q '(0008,0100) SH \[113102\]' <<<"$dump" || fail "no code 113102"
grep -q 'face and ears removed (kakou deface)' <<<"$dump" || fail "DeidentificationMethod does not say face and ears removed"
# the ears: on each side, behind the face, at least 6 cm2 of the lateral
# surface moved more than 4 mm inward, all within 12 cm of height (ear
# level); the posterior voxels 15 mm or more inside the head are as they
# were (the brain)
sd=$("$PYTHON" "$D" sides "$MR" "$WORK/out" 2>/dev/null)
if awk '{ split($8, z, /\.\./); exit !($2 >= 6 && $5 >= 6 && z[2] - z[1] <= 120 && $10 >= 0.999) }' <<<"$sd"; then
    ok "ears: $sd"
else
    fail "ears: $sd"
fi
# the slices of the face changed, the others are as they were
"$PYTHON" "$D" pixels "$MR" 2>/dev/null | sort >"$WORK/in.md5"
"$PYTHON" "$D" pixels "$WORK/out" 2>/dev/null | sort >"$WORK/out.md5"
same=$(comm -12 "$WORK/in.md5" "$WORK/out.md5" | wc -l)
[ "$same" -lt 176 ] || fail "no slice changed"
[ "$(wc -l <"$WORK/out.md5")" = 176 ] || fail "positions lost"
ok "$((176 - same)) of 176 slices changed"

# kakou review --faces: kakou's own front render, before and after
expect_exit 0 "$KAKOU" review -q --faces -p "$WORK/p.kkp" -o "$WORK/faces.png" "$MR"
t=$("$PYTHON" "$D" tiles "$WORK/faces.png")
if [ "$(wc -l <<<"$t")" = 1 ] && awk '{ exit !($2 >= 2 && $4 <= 1) }' <<<"$t"; then
    ok "review --faces: $t (cascades)"
else
    fail "review --faces: $t"
fi
# no head among the inputs: exit 1, no sheet
expect_exit 1 "$KAKOU" review -q --faces -p "$WORK/p.kkp" -o "$WORK/none.png" "$CORPUS/volumes/README.md" 2>/dev/null
[ -e "$WORK/none.png" ] && fail "a sheet without heads"

# deface off: Pixel Data byte for byte
printf 'profile t0940off\nversion 1\ninherit dicom-basic\ndeface off\n' >"$WORK/off.kkp"
expect_exit 0 "$KAKOU" deid -q -p "$WORK/off.kkp" -o "$WORK/off" "$MR"
"$PYTHON" "$D" pixels "$WORK/off" 2>/dev/null | sort | cmp -s - "$WORK/in.md5" || fail "deface off changed pixels"
finish
