#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0420-pixel-synthetic: burned-in text end to end on the synthetic set
# (tests/tools/make_burned.py: Latin and Japanese names, IDs, era dates,
# both polarities, banners and scattered labels over speckle, colour text
# as light as the speckle under it, a static and a moving cine, images
# with no text; radiographs, CT and MR captures, a mosaic, names turned on
# their side; the anatomy ones at seeds 5 and 7 too; t0421 has a form
# written top to bottom). Through
# jp-anonymized: identifier
# glyph pixels painted out >= 99% in every frame, no-text frames changed
# <= 2%. Then explain lists the boxes without the text (unless
# --show-values), and review draws a sheet.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/corpus-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
T="$TESTS/tools"
SET="$WORK/set"
"$PYTHON" "$T/make_burned.py" "$SET" >/dev/null || { fail "make_burned.py failed"; finish; }

mapfile -t FILES < <(find "$SET/dicom" -name '*.dcm' | sort)
judge_burned seed4 "$SET" "${FILES[@]}"

# the anatomy images at two more seeds: other fonts, sizes and slices
# (painting outside the text of a mosaic, 7 px text OCR reads as nothing)
for seed in 5 7; do
    S2="$WORK/set$seed"
    "$PYTHON" "$T/make_burned.py" --seed "$seed" "$S2" >/dev/null || { fail "make_burned.py --seed $seed"; continue; }
    A=()
    for n in ct_capture mr_noflag notext_ct dx_label dx_sideways mr_mosaic; do A+=("$S2/dicom/$n.dcm"); done
    judge_burned "seed$seed-anatomy" "$S2" --only "${A[@]}"
done

# explain: boxes, classes, no text unless asked
one="$SET/dicom/us00.dcm"
"$KAKOU" explain -p jp-anonymized "$one" >"$WORK/explain" || fail "explain failed"
grep -q ' box frame=all .* source=detected class=' "$WORK/explain" || fail "explain lists no detected box"
grep ' box ' "$WORK/explain" | grep -q ' = ' && fail "explain printed OCR text without --show-values"
"$KAKOU" explain -p jp-anonymized --show-values "$one" | grep ' box ' | grep -q ' = ' ||
    fail "explain --show-values printed no OCR text"

# review: a PNG, exit 1 and the file named when one cannot be read
expect_exit 0 "$KAKOU" review -q -p jp-anonymized -o "$WORK/sheet.png" "$one" "$SET/dicom/cine_static.dcm"
head -c 8 "$WORK/sheet.png" | od -An -tx1 | grep -q '89 50 4e 47 0d 0a 1a 0a' || fail "review wrote no PNG"
expect_exit 1 "$KAKOU" review -p jp-anonymized -o "$WORK/sheet2.png" "$one" "$WORK/missing.dcm" 2>"$WORK/err"
grep -q "missing.dcm" "$WORK/err" || fail "review did not name the missing file"
[ -s "$WORK/sheet2.png" ] || fail "review wrote no sheet beside a missing file"
expect_exit 2 "$KAKOU" review "$one" 2>/dev/null
ls "$WORK"/sheet*.tmp* >/dev/null 2>&1 && fail "review left a temp file"
finish
