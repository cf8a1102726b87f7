#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0830: burned-in text is painted where it is, not far beyond: a 3-frame
# US with a name and ID burned into frames 0 and 2 (known boxes) through
# jp-anonymized; >= 95% of glyph pixels painted, <= 5% of each frame
# painted away from the text (a box painting its whole frame fails), the
# text-free frame untouched away from the text boxes. The checks are in
# tests/tools/check_paint_extent.py.
. "$(dirname "$0")/lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
"$PYTHON" "$TESTS/tools/check_paint_extent.py" "$KAKOU" "$WORK"
rc=$?
[ $rc = 77 ] && skip "no font for the synthetic image"
[ $rc = 0 ] || fail "paint extent"
finish
