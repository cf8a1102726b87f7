#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0100-deid-planted-basic: dicom-basic leaves no planted identifier.
# tests/tools/make_planted.py writes a CT series (ISO_IR 192 and
# \ISO 2022 IR 87) and an SR (ISO 2022 IR 13\ISO 2022 IR 87) whose every
# Table E.1-1 attribute, nested sequence, private block, overlay, SR content
# item, file meta element, preamble, directory and file name holds a unique
# marker. After `kakou deid -p dicom-basic` no marker may be found in the
# output bytes, in their decoded text, in output paths or in kakou's own
# messages; references must resolve to the new UIDs; the de-identification
# attributes and a fresh file meta must be present.
. "$(dirname "$0")/lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
T="$TESTS/tools"
ROOT=1.2.999.7731

"$PYTHON" "$T/make_planted.py" "$WORK/pl" >/dev/null || { fail "make_planted.py"; finish; }
IN="$WORK/pl/dicom"
OUT="$WORK/out"
mkdir -p "$WORK/log"

if expect_exit 0 "$KAKOU" deid -v -p dicom-basic -o "$OUT" "$IN" 2>"$WORK/log/stderr"; then
    ok "kakou deid exit 0"
else
    sed -n '1,20p' "$WORK/log/stderr" | sed 's/^/    /'
fi
n=$(find "$OUT" -type f 2>/dev/null | wc -l)
[ "$n" = 3 ] && ok "3 outputs" || fail "wrote $n files, wanted 3"
[ "$n" = 0 ] && finish

# 1. no planted value in output bytes, decoded text or paths
if "$PYTHON" "$T/scan_phi.py" "$WORK/pl/planted.tsv" "$OUT" >"$WORK/leaks" 2>"$WORK/scan.err"; then
    ok "scan_phi: no leak ($(cat "$WORK/scan.err"))"
else
    fail "scan_phi: $(grep -c '^LEAK' "$WORK/leaks") leak(s); $(cat "$WORK/scan.err")"
    sed -n '1,60p' "$WORK/leaks" | sed 's/^/    /'
    echo "leaks by kind and top-level element:"
    sed -n 's/^LEAK [^ ]* \(([0-9A-F,]*)\).*\[\([^;]*\);.*/\2 \1/p' "$WORK/leaks" | sort | uniq -c | sed 's/^/    /'
fi
# 2. nor in what kakou printed (-v): messages never carry values (R04)
if "$PYTHON" "$T/scan_phi.py" --allow filename,dirname "$WORK/pl/planted.tsv" "$WORK/log" \
        >"$WORK/logleaks" 2>/dev/null; then
    ok "stderr carries no planted value"
else
    fail "kakou's messages carry planted values"
    sed -n '1,20p' "$WORK/logleaks" | sed 's/^/    /'
fi
# 3. layout OUTDIR/<study>/<series>/<sop>.dcm; the two CTs share a series
"$PYTHON" "$T/dcm_check.py" layout "$OUT" >"$WORK/layout" || { fail "layout"; sed 's/^/    /' "$WORK/layout"; }
ns=$(find "$OUT" -mindepth 1 -maxdepth 1 -type d | wc -l)
nse=$(find "$OUT" -mindepth 2 -maxdepth 2 -type d | wc -l)
[ "$ns" = 1 ] && [ "$nse" = 2 ] && ok "one study, two series" \
    || fail "outputs in $ns study and $nse series folders, wanted 1 and 2"
# 4. the outputs are complete DICOM files
"$PYTHON" "$T/dcm_check.py" parse $(find "$OUT" -type f) >"$WORK/parse" \
    && ok "pydicom parses every output" || { fail "pydicom parse"; grep FAIL "$WORK/parse" | sed 's/^/    /'; }
for f in $(find "$OUT" -type f); do
    dcmdump -q "$f" >/dev/null 2>"$WORK/dcmdump.err" || { fail "dcmdump rejects $f"; sed 's/^/    /' "$WORK/dcmdump.err"; }
done
# 5. references name the new instances; no reference keeps an original UID
if "$PYTHON" "$T/dcm_check.py" refcheck "$OUT" --inputs "$IN" --min 2 >"$WORK/ref"; then
    ok "$(tail -1 "$WORK/ref")"
else
    fail "refcheck"; sed 's/^/    /' "$WORK/ref"
fi
# 6. no original UID anywhere (also covered by scan_phi's uid rows)
if grep -rlaF "$ROOT." "$OUT" >/dev/null; then
    fail "an original UID (root $ROOT) survives in $(grep -rlaF "$ROOT." "$OUT" | head -3)"
else
    ok "no original UID survives"
fi
# 7. PatientIdentityRemoved, method, LTIM, file meta rewritten
if "$PYTHON" "$T/dcm_check.py" deidcheck --input-icuid "$ROOT.0.1" --ltim REMOVED \
        $(find "$OUT" -type f) >"$WORK/deid"; then
    ok "de-identification attributes and file meta"
else
    fail "deidcheck"; grep FAIL "$WORK/deid" | sed 's/^/    /'
fi
# 8. the preamble is not the input's
for f in $(find "$OUT" -type f); do
    if head -c 128 "$f" | grep -qa PREAMBLE; then fail "input preamble kept in $f"; fi
done
finish
