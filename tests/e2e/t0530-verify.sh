#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0530: kakou verify (R22, issue 5): passes on kakou's own output of the
# corpus and the planted set; fails, naming file and attribute but never
# the value, on the raw planted input, on an output where a value was put
# back, and (with the store) on an original pseudonymized value put back.
. "$TESTS/e2e/lib.sh"
command -v dcmodify >/dev/null || skip "no dcmodify"
"$PYTHON" "$TESTS/tools/make_planted.py" "$WORK/planted" >/dev/null || { fail "make_planted.py failed"; finish; }
planted="$WORK/planted/dicom"
expect_exit 0 "$KAKOU" key new "$WORK/k" >/dev/null

# kakou's own output is clean; each run must have written every input
# (verify on nothing proves nothing: it refuses an empty folder, exit 2)
nin=$(find "$planted" -name '*.dcm' | wc -l)
[ "$nin" -ge 3 ] || fail "only $nin planted inputs"
wrote() { local n; n=$(find "$1" -name '*.dcm' | wc -l); [ "$n" = "$2" ] || fail "$1: $n outputs, wanted $2"; }
mkdir -p "$WORK/empty"
expect_exit 2 "$KAKOU" verify -q "$WORK/empty" 2>/dev/null
expect_exit 0 "$KAKOU" deid -q -k "$WORK/k" -o "$WORK/po" "$planted" 2>/dev/null
wrote "$WORK/po" "$nin"
expect_exit 0 "$KAKOU" verify -q "$WORK/po" >"$WORK/v1" || sed -n 1,20p "$WORK/v1"
expect_exit 0 "$KAKOU" deid -q -p jp-pseudonymized -k "$WORK/k" --db "$WORK/j.db" -o "$WORK/pj" "$planted" 2>/dev/null
wrote "$WORK/pj" "$nin"
expect_exit 0 "$KAKOU" verify -q -p jp-pseudonymized --db "$WORK/j.db" -k "$WORK/k" "$WORK/pj" >"$WORK/v2" || sed -n 1,20p "$WORK/v2"
expect_exit 0 "$KAKOU" deid -q -p jp-anonymized --no-release -o "$WORK/pa" "$planted" 2>/dev/null
wrote "$WORK/pa" "$nin"
expect_exit 0 "$KAKOU" verify -q -p jp-anonymized "$WORK/pa" >"$WORK/v3" || sed -n 1,20p "$WORK/v3"

# the corpus: everything but burned-in pixels dicom-basic does not clean
"$KAKOU" deid -q -k "$WORK/k" -o "$WORK/co" "$CORPUS" 2>/dev/null
nco=$(find "$WORK/co" -name '*.dcm' | wc -l)
[ "$nco" -ge 100 ] || fail "the corpus run wrote only $nco files"
"$KAKOU" verify -q "$WORK/co" >"$WORK/vc"
rc=$?
[ $rc -le 1 ] || fail "verify on the corpus output: exit $rc"
if grep -v 'BurnedInAnnotation CS: YES without code 113101' "$WORK/vc" | grep -q .; then
    fail "findings on kakou's output of the corpus:"; grep -v BurnedInAnnotation "$WORK/vc" | head -20
fi

# the raw planted input fails, naming attributes, never a planted value
expect_exit 1 "$KAKOU" verify -q "$planted" >"$WORK/raw"
grep -q ': (0010,0010) PatientName PN: ' "$WORK/raw" || fail "raw input: PatientName not named"
grep -q 'private element outside the safe list' "$WORK/raw" || fail "raw input: private elements not named"
# (file and folder names are markers too, and name the files: leave them out)
awk -F'\t' 'NR > 1 && ($2 == "filename" || $2 == "dirname") { print $1 }' "$WORK/planted/planted.tsv" | sort -u > "$WORK/names"
awk -F'\t' 'NR > 1 && length($1) >= 6 { print $1 }' "$WORK/planted/planted.tsv" | sort -u | comm -23 - "$WORK/names" > "$WORK/values"
if grep -qFf "$WORK/values" "$WORK/raw"; then fail "verify printed a planted value: $(grep -oFf "$WORK/values" "$WORK/raw" | head -1)"; fi

# a value put back is found
f=$(find "$WORK/po" -name '*.dcm' | sort | head -1)
cp "$f" "$WORK/back.dcm"
dcmodify -nb -q -i "(0010,0010)=Yamada^Taro" "$WORK/back.dcm" 2>/dev/null || dcmodify -nb -q -m "(0010,0010)=Yamada^Taro" "$WORK/back.dcm"
expect_exit 1 "$KAKOU" verify -q "$WORK/back.dcm" >"$WORK/vb"
grep -q '(0010,0010) PatientName PN: has a value; the profile empties it' "$WORK/vb" || fail "put-back PatientName not found: $(cat "$WORK/vb")"
if grep -q Yamada "$WORK/vb"; then fail "verify printed the value"; fi
# free text with a date is found where the profile keeps text
printf 'profile keep-maker\nversion 1\ninherit dicom-basic\nManufacturer keep\n' > "$WORK/keep.kkp"
cp "$f" "$WORK/text.dcm"
dcmodify -nb -q -i "(0008,0070)=Seen 2024-03-05 by Dr. Suzuki" "$WORK/text.dcm" 2>/dev/null
expect_exit 1 "$KAKOU" verify -q -p "$WORK/keep.kkp" "$WORK/text.dcm" >"$WORK/vt"
grep -q '(0008,0070) Manufacturer LO: kept text that looks like a name, ID or date' "$WORK/vt" || fail "pattern in kept text not found: $(cat "$WORK/vt")"

# with the store: an original value put back is named as such
g=$(find "$WORK/pj" -name '*.dcm' | sort | head -1)
orig=$(awk -F'\t' '$3 == "0010,0020" && $5 == "(0010,0020) PatientID" { print $1; exit }' "$WORK/planted/planted.tsv")
if [ -n "$orig" ]; then
    cp "$g" "$WORK/orig.dcm"
    dcmodify -nb -q -m "(0010,0020)=$orig" "$WORK/orig.dcm"
    expect_exit 1 "$KAKOU" verify -q -p jp-pseudonymized --db "$WORK/j.db" -k "$WORK/k" "$WORK/orig.dcm" >"$WORK/vo"
    grep -q '(0010,0020) PatientID LO: a value equals an original recorded in the store' "$WORK/vo" || fail "original PatientID not found: $(cat "$WORK/vo")"
    grep -q '(0010,0020) PatientID LO: not a pseudonym the store knows' "$WORK/vo" || fail "unknown pseudonym not named"
    if grep -qF -- "$orig" "$WORK/vo"; then fail "verify printed the original"; fi
else
    fail "no planted PatientID in planted.tsv"
fi
# BurnedInAnnotation YES without 113101
cp "$f" "$WORK/bia.dcm"
dcmodify -nb -q -i "(0028,0301)=YES" "$WORK/bia.dcm"
expect_exit 1 "$KAKOU" verify -q "$WORK/bia.dcm" >"$WORK/vbi"
grep -q 'BurnedInAnnotation CS: YES without code 113101' "$WORK/vbi" || fail "BurnedInAnnotation YES not found"
# usage
expect_exit 2 "$KAKOU" verify --db "$WORK/j.db" "$WORK/po" 2>/dev/null
finish
