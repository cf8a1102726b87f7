#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0424-pixel-anatomy-seeds: pictures painted as text (issue 14, "anatomy
# is not text"), make_burned.py seeds no other test uses, through
# jp-anonymized:
#  - seed 62, notext_us00: the dark speckle under an arc, a weak row of
#    "gaps" lighter than what surrounds them, read as "| ET": 1.8%. Weak
#    gaps with no contrast of their own are the picture's unless their
#    row is text.
#  - seed 71, mr_mosaic: one dark blob of a tile read as "id" (80% sure)
#    was taken for a label cue and painted with its row of tissue (1.2%
#    of the mosaic; bound 1%). A label read from one blob is judged as
#    unread.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/corpus-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
T="$TESTS/tools"
make_seed_sets 62 71
S="$WORK/set62"
[ -d "$S/dicom" ] && judge_burned seed62 "$S" --only "$S/dicom/notext_us00.dcm" "$S/dicom/us00.dcm"
S="$WORK/set71"
[ -d "$S/dicom" ] && judge_burned seed71 "$S" --only "$S/dicom/mr_mosaic.dcm"
finish
