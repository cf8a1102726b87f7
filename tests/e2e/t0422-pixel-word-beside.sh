#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0422-pixel-word-beside: an ultrasound (make_burned.py seed 25, us01)
# with a 9 px institution name in kanji on speckle 30 px beside an "MI 1.2"
# on its baseline, through jp-anonymized: the presence stage finds "MI
# 1.2" but loses the kanji in the speckle, and its region reached 24 px
# along the line. In all-text mode regions reach twice as far, and the
# detector finds the name there.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/corpus-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
T="$TESTS/tools"
SET="$WORK/set25"
"$PYTHON" "$T/make_burned.py" --seed 25 "$SET" >/dev/null || { fail "make_burned.py --seed 25"; finish; }
judge_burned seed25-us "$SET" --only "$SET/dicom/us01.dcm"
finish
