#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0421-pixel-form-vertical: a form whose name, ID and era birth date are
# written top to bottom (make_burned.py seed 21, doc_vertical), and a
# small ultrasound of the same seed, through jp-anonymized: its columns
# and the rows the detector finds across them merged into one box over a
# quarter of the page, which was dropped as a texture (nothing but the
# title painted). Boxes merge only up to that size now.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/corpus-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
T="$TESTS/tools"
SET="$WORK/set21"
"$PYTHON" "$T/make_burned.py" --seed 21 "$SET" >/dev/null || { fail "make_burned.py --seed 21"; finish; }
judge_burned seed21-form "$SET" --only "$SET/dicom/doc_vertical.dcm" "$SET/dicom/us_small.dcm"
finish
