#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0943-deface-fine-ct: CT of 384 x 384 and more gets the coarse look
# first, and kakou deid builds it from the slices as it decodes them,
# without the full-size volume (lib/deid/deface.c). A head phantom in
# 384 x 384 must still go on to the full look and be defaced (its face
# slices changed and flagged RecognizableVisualFeatures NO; t0941 shows
# what defacing does to the render); a chest phantom in 384 x 384 is
# rejected there and keeps its Pixel Data byte for byte.
. "$(dirname "$0")/lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
need_deface_tools

printf 'profile t0943\nversion 1\ninherit dicom-basic\ndeface remove required\n' >"$WORK/req.kkp"

"$PYTHON" "$D" phantom head-ct axial "$WORK/head" --fine || fail "head phantom"
expect_exit 0 "$KAKOU" deid -q -p "$WORK/req.kkp" -o "$WORK/out-head" "$WORK/head"
n=$(find "$WORK/out-head" -name '*.dcm' -exec dcmdump -q +P 0028,0302 {} + | grep -c 'NO')
"$PYTHON" "$D" pixels "$WORK/head" | sort >"$WORK/a"
"$PYTHON" "$D" pixels "$WORK/out-head" | sort >"$WORK/b"
c=$(comm -13 "$WORK/a" "$WORK/b" | wc -l)
if [ "$n" -ge 20 ] && [ "$c" = "$n" ]; then
    ok "head 384: defaced ($n slices changed and flagged)"
else
    fail "head 384: $c slices changed, $n flagged as defaced"
fi

"$PYTHON" "$D" phantom chest-ct axial "$WORK/chest" --fine || fail "chest phantom"
expect_exit 0 "$KAKOU" deid -q -p "$WORK/req.kkp" -o "$WORK/out-chest" "$WORK/chest"
"$PYTHON" "$D" pixels "$WORK/chest" | sort >"$WORK/a"
"$PYTHON" "$D" pixels "$WORK/out-chest" | sort >"$WORK/b"
if [ "$(wc -l <"$WORK/a")" -ge 50 ] && cmp -s "$WORK/a" "$WORK/b"; then
    ok "chest 384: Pixel Data byte for byte"
else
    fail "chest 384: Pixel Data changed"
fi
finish
