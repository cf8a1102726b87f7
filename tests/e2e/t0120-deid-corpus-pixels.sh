#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0120-deid-corpus-pixels: dicom-basic does not touch pixels. For every
# corpus input with Pixel Data (or Float/Double Float Pixel Data), the raw
# value in the output equals the input's (md5 of the value as stored,
# encapsulated items included; the only tolerated differences are a pad
# byte on an odd length and big- to little-endian byte order).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/corpus-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
T="$TESTS/tools"

mapfile -t FILES < <(corpus_files ts image charset private sr_rt burned_in)
[ ${#FILES[@]} -gt 100 ] || { fail "only ${#FILES[@]} corpus files found"; finish; }
R="$WORK/each"
deid_each "$R" -q -- "${FILES[@]}"

pairs=()
while IFS=$'\t' read -r n f rc nout; do
    rel=${f#"$CORPUS/"}
    if [ "$rc" != 0 ] || [ "$nout" != 1 ]; then
        # t0110 judges whether the file had to fail; here it cannot be compared
        echo "note: $rel: exit $rc, $nout output(s): not compared"
        continue
    fi
    pairs+=("$f" "$(deid_output "$R" "$n")")
done <"$R/index.tsv"

"$PYTHON" "$T/dcm_check.py" pixcmp "${pairs[@]}" >"$WORK/pix"
same=$(grep -c '^ok' "$WORK/pix")
nopix=$(grep -c '^nopix' "$WORK/pix")
while read -r line; do
    fail "${line#FAIL }"
done < <(grep '^FAIL' "$WORK/pix")
grep -q '^ok' "$WORK/pix" || fail "no input with pixel data was compared"
echo "pixel data: $same identical, $nopix inputs without pixel data"
grep 'identical after' "$WORK/pix" | sed 's/^/note: /'
finish
