#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0426-pixel-codes: barcodes and QR codes burned into images (a label
# page, a radiograph's plate label, a photograph, ultrasound) carry the
# patient's ID and name; after jp-anonymized zbarimg reads none of them
# (make_codes.py draws them with zint; code_residue.py checks that every
# code is read in the input first, so the test cannot pass on nothing);
# kakou verify --pixels flags every input and no output.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/corpus-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
T="$TESTS/tools"
command -v zint >/dev/null && command -v zbarimg >/dev/null ||
    fail "zint and zbarimg are needed (scripts/deps.sh installs them)"
"$PYTHON" "$T/make_codes.py" "$WORK/set" || fail "make_codes.py"
files=("$WORK/set"/*.dcm)
[ ${#files[@]} -ge 4 ] || fail "make_codes.py wrote ${#files[@]} files"
deid_each "$WORK/out" -q -p jp-anonymized --no-release -- "${files[@]}"
: >"$WORK/map.tsv"
while IFS=$'\t' read -r n f rc nout; do
    [ "$rc" = 0 ] && [ "$nout" = 1 ] || fail "$(basename "$f"): exit $rc, $nout output(s)"
    printf '%s\t%s\n' "$(basename "$f")" "$(deid_output "$WORK/out" "$n")" >>"$WORK/map.tsv"
done <"$WORK/out/index.tsv"
if "$PYTHON" "$T/code_residue.py" "$WORK/set" "$WORK/map.tsv" >"$WORK/residue"; then
    ok "no code read in ${#files[@]} outputs: $(tr '\n' ';' <"$WORK/residue")"
else
    fail "$(tr '\n' ';' <"$WORK/residue")"
fi
# kakou verify --pixels flags a code in every input, none in the outputs
n_in=$("$KAKOU" verify --pixels -p jp-anonymized "${files[@]}" 2>&1 | grep -c '(7FE0,0010) PixelData')
[ "$n_in" = ${#files[@]} ] && ok "verify --pixels flags the pixels of all ${#files[@]} inputs" ||
    fail "verify --pixels flags the pixels of $n_in of ${#files[@]} inputs"
outs=$(cut -f2 "$WORK/map.tsv")
n_out=$("$KAKOU" verify --pixels -p jp-anonymized $outs 2>&1 | grep -c '(7FE0,0010) PixelData')
[ "$n_out" = 0 ] && ok "verify --pixels finds nothing in the outputs" ||
    fail "verify --pixels flags $n_out outputs"
finish
