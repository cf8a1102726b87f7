#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0422-pixel-more-seeds: misses of make_burned.py seeds 23, 26, 33 and 56,
# which no other test uses, through jp-anonymized (a script of its own,
# not part of t0421, so that a mutant of these fixes generates three sets,
# not five):
#  - seed 23, mr_mosaic (phi mode, a measured picture): a sulcus that OCR
#    read as "id" counted as a label cue and took its row of tissue along
#    (1.3% of the anatomy painted; bound 1%). A label cue is judged like
#    an unread guess there: weak, a few characters, in busy surroundings,
#    it is anatomy.
#  - seed 26, sc04: a dark "検査日 22 JUL 2022 ..." starting on the white page
#    at the edge of a speckle panel. The light piece of page beside its
#    first glyph had more contrast than the dark row and won the place:
#    the row was never read (78.5%). A piece under half as long, with
#    fewer parts, no longer displaces a row laid out like text.
#  - seed 33, mr_mosaic: a column of a brain tile that OCR, turned, read as
#    "id" (45% sure) was taken for a vertical label (2.0% of the anatomy
#    painted). A label cue alone in a column counts only when read as text.
#  - seed 33, ct_capture: Tesseract's word boxes took in rows of the crop's
#    margin, and each line's box grew by a fifth of its glyphs above and
#    below (5.1% of the picture painted outside the text; bound 4%). Across
#    the line, OCR's extent adds an eighth of a glyph at most.
#  - seed 23, us_small: a 6 px "22 JUL 2022 13:36" lying on a bright tissue
#    arc. The detector chains arc and glyphs into one candidate 30 px
#    high, whose box, widened across the line by OCR's word boxes, was over
#    a quarter of the frame and dropped as a texture: nothing of the date
#    was painted and the output claimed clean (96%). With OCR's extent
#    bounded across the line the box is painted.
#  - seed 56, mr_mosaic: three dark sulci of one bright tile, 33 px high,
#    lined up like glyphs and strong, read as "LJ": a 100 x 60 px box on
#    the tile (2.3% of the anatomy painted). Dark blobs that high lying on
#    ground darker still (the air between tiles) are no dark glyphs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/corpus-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
T="$TESTS/tools"
make_seed_sets 23 26 33 56
S="$WORK/set23"
[ -d "$S/dicom" ] && judge_burned seed23 "$S" --only "$S/dicom/mr_mosaic.dcm" "$S/dicom/us_small.dcm"
S="$WORK/set26"
[ -d "$S/dicom" ] && judge_burned seed26 "$S" --only "$S/dicom/sc04.dcm"
S="$WORK/set33"
[ -d "$S/dicom" ] && judge_burned seed33 "$S" --only "$S/dicom/mr_mosaic.dcm" "$S/dicom/ct_capture.dcm"
S="$WORK/set56"
[ -d "$S/dicom" ] && judge_burned seed56 "$S" --only "$S/dicom/mr_mosaic.dcm"
finish
