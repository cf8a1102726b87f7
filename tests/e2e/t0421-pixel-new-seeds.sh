#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0421-pixel-new-seeds: two misses of make_burned.py seeds no other test
# uses, through jp-anonymized:
#  - seed 21, doc_vertical (and the small ultrasound): a form whose name,
#    ID and era birth date are written top to bottom. Its columns and the
#    rows the detector finds across them merged into one box over a
#    quarter of the page, which was dropped as a texture (only the title
#    was painted). Boxes merge only up to that size now.
#  - seed 25, us01: a 9 px institution name in kanji on speckle 30 px
#    beside an "MI 1.2" on its baseline. The presence stage finds "MI 1.2"
#    but loses the kanji in the speckle, and its region reached 24 px along
#    the line; in all-text mode regions reach twice as far now.
#  - seed 25, sc01: a dark "Date 平成31年..." that starts on speckle and runs
#    onto a white panel. The line grew along its baseline only where its
#    glyphs stood out from the panel's white: the "Da" on the speckle
#    stayed, and the output claimed clean (96.4%). Growing now measures
#    each column against the background just above and below it.
#  - seed 25, doc_vertical: "Birth: 1945-08-15" written top to bottom. The
#    hyphens are slivers the column detector skips, so "08" and "15" were
#    two-glyph pieces, too short to be columns (87%); pieces of one column
#    are chained now.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/corpus-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
T="$TESTS/tools"
make_seed_sets 21 25
S="$WORK/set21"
[ -d "$S/dicom" ] && judge_burned seed21-form "$S" --only "$S/dicom/doc_vertical.dcm" "$S/dicom/us_small.dcm"
S="$WORK/set25"
[ -d "$S/dicom" ] && judge_burned seed25 "$S" --only "$S/dicom/us01.dcm" "$S/dicom/sc01.dcm" \
    "$S/dicom/doc_vertical.dcm"
finish
