#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0930: opt-out (提供停止, R26, issue 17). Listed patients are left out
# before anything is done: no output, no store row, no audit row, no
# report line; only a count. IDs are matched normalised (full-width
# letters, spaces) and qualified by the issuer when the list gives one.
. "$TESTS/e2e/lib.sh"
"$PYTHON" -c 'import pydicom' 2>/dev/null || skip "no pydicom"

gen="$WORK/gen"; in="$WORK/in"
"$PYTHON" "$TESTS/tools/make_release.py" "$CORPUS/image/pydicom__CT_small.dcm" "$gen" 2>/dev/null
mkdir -p "$in"
# OPT1 (its PatientID is full-width), U1 (2 files), U3 (3 files), P01 (2 files)
cp "$gen"/U1-*.dcm "$gen"/U3-*.dcm "$gen"/P01-*.dcm "$in"/
cp "$gen"/????-1.dcm "$in/opt1.dcm" 2>/dev/null || cp "$(ls "$gen"/*.dcm | grep -v '/[PU][0-9]')" "$in/opt1.dcm"
[ "$(ls "$in" | wc -l)" = 8 ] || fail "set has $(ls "$in" | wc -l) files"
dcmdump -q +P 0010,0020 "$in/opt1.dcm" | grep -q 'ＯＰＴ１' || fail "opt1.dcm lacks its full-width ID"

printf '# 提供停止\n  OPT1^HOSP \nU1\tHOSP\nU3^OTHER\n\n' > "$WORK/optout"
expect_exit 0 "$KAKOU" key new "$WORK/key" >/dev/null
expect_exit 0 "$KAKOU" deid -p jp-pseudonymized -k "$WORK/key" --db "$WORK/s.db" --opt-out "$WORK/optout" \
    --report "$WORK/r.jsonl" --report-paths -o "$WORK/o" "$in" 2>"$WORK/err"
grep -q "opted out 3" "$WORK/err" || fail "summary: $(cat "$WORK/err")"
# U3 (other issuer listed) and P01 are done: 5 files
[ "$(find "$WORK/o" -name '*.dcm' | wc -l)" = 5 ] || fail "$(find "$WORK/o" -name '*.dcm' | wc -l) outputs, wanted 5"
[ "$(wc -l < "$WORK/r.jsonl")" = 5 ] || fail "report has $(wc -l < "$WORK/r.jsonl") lines, wanted 5"
grep -qE 'opt1|U1-' "$WORK/r.jsonl" && fail "report names an opted-out input"
[ "$(sqlite3 "$WORK/s.db" "select count(*) from audit where input_digest is not null")" = 5 ] || fail "audit rows: $(sqlite3 "$WORK/s.db" "select count(*) from audit where input_digest is not null")"
for f in "$in/opt1.dcm" "$in"/U1-*.dcm; do
    d=$(sha256sum "$f" | cut -c1-64)
    [ "$(sqlite3 "$WORK/s.db" "select count(*) from audit where input_digest = '$d'")" = 0 ] || fail "audit names $(basename "$f")"
done
expect_exit 0 "$KAKOU" db export-map --db "$WORK/s.db" -k "$WORK/key" > "$WORK/map.csv"
grep -q "U3" "$WORK/map.csv" || fail "U3 (other issuer) missing from the store"
grep -q "P01" "$WORK/map.csv" || fail "P01 missing from the store"
# whole CSV fields only: a keyed pseudonym such as PNFSV5GU12S19U may hold "U1" by chance
grep -qE '(^|,|\^)(U1|ＯＰＴ１|OPT1)(\^[^,]*)?(,|$)' "$WORK/map.csv" && fail "store holds an opted-out patient"
# no output carries their data (U1 is the only 2.05 m, OPT1 the only 1.70 m/70 kg male... check U1)
for f in $(find "$WORK/o" -name '*.dcm'); do dcmdump -q +P 0010,1020 "$f"; done | grep -qF '[2.05' && fail "U1's height is in an output"

# with a release: the opted-out patients are not counted, only their number
expect_exit 0 "$KAKOU" deid -q --no-journal -p jp-anonymized --k-anonymity 1 --opt-out "$WORK/optout" \
    --release-report "$WORK/rel.json" -o "$WORK/a" "$in"
grep -q '"opted_out_instances":3' "$WORK/rel.json" || fail "release report: $(cat "$WORK/rel.json")"
grep -q '"patients":2,"instances":5' "$WORK/rel.json" || fail "release counted opted-out patients: $(cat "$WORK/rel.json")"
# a missing list is a usage error
expect_exit 2 "$KAKOU" deid -q -p jp-pseudonymized -k "$WORK/key" --db "$WORK/t.db" --opt-out "$WORK/nolist" -o "$WORK/x" "$in" 2>/dev/null
finish
