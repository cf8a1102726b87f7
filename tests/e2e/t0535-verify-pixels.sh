#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0535-verify-pixels: `kakou verify --pixels` searches the pixels with
# deid's last look (issue 14 item 7). jp-anonymized outputs of burned-in
# synthetic images (a single frame and a cine) are clean (exit 0), with or
# without --pixels (without, the profile's pixel rules' boxes are judged by
# the same last look); the
# same outputs with their original pixels put back (clean header,
# BurnedInAnnotation NO, code 113101: nothing else gives them away) are
# flagged, one PixelData finding per file, exit 1, no text printed; a
# text-free image is clean; without the pixel module --pixels is a
# configuration error (exit 2).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/corpus-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
T="$TESTS/tools"
SET="$WORK/set"
"$PYTHON" "$T/make_burned.py" "$SET" >/dev/null || { fail "make_burned.py failed"; finish; }

names=(us00 cine_static)
ins=() outs=()
for n in "${names[@]}"; do
    expect_exit 0 "$KAKOU" deid -q -p jp-anonymized --no-release -o "$WORK/o/$n" "$SET/dicom/$n.dcm"
    o=$(find "$WORK/o/$n" -name '*.dcm')
    [ -f "$o" ] || { fail "$n: no output"; continue; }
    ins+=("$SET/dicom/$n.dcm")
    outs+=("$o")
done
[ ${#outs[@]} = 2 ] || { finish; }

# painted outputs: clean, with or without --pixels (without, what the
# first look still boxes, technical text deid keeps, is judged by the last
# look as deid judged it, not reported box by box)
expect_exit 0 "$KAKOU" verify -q -p jp-anonymized --pixels "${outs[@]}" >"$WORK/v-painted"
[ -s "$WORK/v-painted" ] && fail "painted outputs: $(head -c 400 "$WORK/v-painted")"
expect_exit 0 "$KAKOU" verify -q -p jp-anonymized "${outs[@]}" >"$WORK/v-painted-default"
[ -s "$WORK/v-painted-default" ] && fail "painted outputs, no --pixels: $(head -c 400 "$WORK/v-painted-default")"

# the original pixels back into the cleaned outputs
"$PYTHON" - "${ins[@]}" "${outs[@]}" "$WORK/back" <<'PY' || fail "cannot put the pixels back"
import os, sys, pydicom
a = sys.argv[1:]
n = (len(a) - 1) // 2
os.makedirs(a[-1], exist_ok=True)
for i in range(n):
    src, out = pydicom.dcmread(a[i]), pydicom.dcmread(a[n + i])
    assert src.file_meta.TransferSyntaxUID == out.file_meta.TransferSyntaxUID
    out.PixelData = src.PixelData
    out.save_as(os.path.join(a[-1], "%d.dcm" % i))
PY
expect_exit 1 "$KAKOU" verify -q -p jp-anonymized --pixels "$WORK/back" >"$WORK/v-back"
n=$(grep -c ': (7FE0,0010) PixelData O[BW]: text that looks identifying is found in the pixels: ' "$WORK/v-back")
[ "$n" = 2 ] || fail "text put back: $n PixelData findings, wanted 2: $(head -c 600 "$WORK/v-back")"
[ "$(wc -l <"$WORK/v-back")" = 2 ] || fail "text put back: other findings: $(head -c 600 "$WORK/v-back")"
grep -q 'frame(s)' "$WORK/v-back" && ok "text put back is found ($(cut -d: -f4- "$WORK/v-back" | tr '\n' ';'))"
# no text from the pixels in what verify prints (R04)
"$PYTHON" - "$SET/truth.json" "$WORK/v-back" <<'PY' || fail "verify printed text read from the pixels"
import json, sys
truth = json.load(open(sys.argv[1]))
out = open(sys.argv[2], encoding="utf-8").read()
for name in ("us00.dcm", "cine_static.dcm"):
    for fr in truth[name].get("frames", []):
        for b in fr.get("boxes", []):
            t = b.get("text", "")
            if len(t) >= 4 and t in out:
                sys.exit(1)
PY
# without --pixels, the profile's pixel rules find the same, one finding a file
expect_exit 1 "$KAKOU" verify -q -p jp-anonymized "$WORK/back" >"$WORK/v-back-default"
n=$(grep -c ': (7FE0,0010) PixelData O[BW]: text that looks identifying is found in the pixels: ' "$WORK/v-back-default")
[ "$n" = 2 ] && [ "$(wc -l <"$WORK/v-back-default")" = 2 ] && ok "without --pixels, text put back is found too" ||
    fail "text put back, no --pixels: $n PixelData findings, wanted 2: $(head -c 600 "$WORK/v-back-default")"
# any profile: dicom-basic has no pixel rules, --pixels searches anyway
expect_exit 1 "$KAKOU" verify -q --pixels "$WORK/back/0.dcm" >"$WORK/v-basic"
grep -q 'PixelData O[BW]: text that looks identifying' "$WORK/v-basic" ||
    fail "dicom-basic --pixels: $(head -c 400 "$WORK/v-basic")"

# a text-free image has nothing in its pixels
expect_exit 0 "$KAKOU" deid -q -p jp-anonymized --no-release -o "$WORK/nt" "$SET/dicom/notext_us01.dcm"
nt=$(find "$WORK/nt" -name '*.dcm')
"$KAKOU" verify -q -p jp-anonymized --pixels "$nt" >"$WORK/v-nt"
grep -q PixelData "$WORK/v-nt" && fail "text-free image flagged: $(cat "$WORK/v-nt")"

# no pixel module: a configuration error, nothing checked
KAKOU_PIXEL_MODULE=$WORK/none.so expect_exit 2 "$KAKOU" verify -q --pixels "$WORK/back/0.dcm" \
    >/dev/null 2>"$WORK/err"
grep -q 'pixel module' "$WORK/err" || fail "no pixel module: $(cat "$WORK/err")"
finish
