#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0520: regression tests of profiles (issue 5): the shipped cases of the
# built-in profiles pass; dicom-basic's agree with an oracle built from
# PS3.15 Table E.1-1 and PS3.3's Types, by action and by output value; a
# changed profile fails with a diff naming the attribute; --update shows
# the diff it accepts; no cases is an error; profile diff lists changes.
. "$TESTS/e2e/lib.sh"
cases="$TESTDATA/profile-cases"
for p in dicom-basic jp-pseudonymized jp-anonymized; do
    [ -d "$cases/$p" ] || { fail "no cases for $p"; continue; }
    if expect_exit 0 "$KAKOU" profile test -q "$p" "$cases/$p" >"$WORK/$p.out"; then
        ok "$p: $(ls "$cases/$p"/*.dcm | wc -l) cases"
    else
        sed -n 1,40p "$WORK/$p.out"
    fi
done

# an oracle that is not kakou: every dicom-basic outcome is one PS3.15
# Table E.1-1 allows for the attribute (with the IOD's Types from PS3.3),
# and the value in the de-identified output is of that outcome's class
REF="$SHARED/reference"
mkdir -p "$WORK/outs"
"$KAKOU" key new "$WORK/key" >/dev/null 2>&1 || fail "kakou key new"
for f in "$cases/dicom-basic"/*.dcm; do
    c=$(basename "$f" .dcm)
    "$KAKOU" deid -q -k "$WORK/key" -o "$WORK/o/$c" "$f" || fail "deid $c"
    o=$(find "$WORK/o/$c" -name '*.dcm' | head -1)
    [ -n "$o" ] && mv "$o" "$WORK/outs/$c.dcm"
done
if "$PYTHON" "$TESTS/tools/profile_oracle.py" "$REF/ps315_annex_e.tsv" "$REF/iod_types.tsv" \
        "$cases/dicom-basic" "$WORK/outs" >"$WORK/oracle" 2>&1; then
    ok "$(tail -1 "$WORK/oracle")"
else
    fail "the oracle disagrees:"; sed -n 1,20p "$WORK/oracle" | sed 's/^/    /'
fi
# the oracle fails on an outcome the table does not allow: PatientName (Z) kept
cp -r "$cases/dicom-basic" "$WORK/bad"
sed -i 's/^\((0010,0010) *PatientName *PN\) empty /\1 keep  /' "$WORK/bad"/*.expected
grep -q '^(0010,0010) *PatientName *PN keep' "$WORK/bad/planted-1.expected" || fail "the mutation did not apply"
"$PYTHON" "$TESTS/tools/profile_oracle.py" "$REF/ps315_annex_e.tsv" "$REF/iod_types.tsv" "$WORK/bad" \
    >"$WORK/oracle.bad" 2>&1 && fail "the oracle accepted PatientName kept"
grep -q 'PatientName: kakou says keep, Table E.1-1 says Z' "$WORK/oracle.bad" ||
    fail "the oracle did not name PatientName: $(head -2 "$WORK/oracle.bad")"
# ... and on a value of the wrong class in an output: an emptied attribute
# that still holds its value
"$PYTHON" - "$cases/dicom-basic/planted-1.dcm" "$WORK/outs/planted-1.dcm" <<'PY' || fail "could not plant the bad value"
import sys, pydicom
src, dst = pydicom.dcmread(sys.argv[1]), pydicom.dcmread(sys.argv[2])
dst.PatientName = src.PatientName
dst.save_as(sys.argv[2])
PY
"$PYTHON" "$TESTS/tools/profile_oracle.py" "$REF/ps315_annex_e.tsv" "$REF/iod_types.tsv" \
    "$cases/dicom-basic" "$WORK/outs" >"$WORK/oracle.bad2" 2>&1 && fail "the oracle accepted a kept PatientName value"
grep -q 'planted-1: (0010,0010): action empty' "$WORK/oracle.bad2" ||
    fail "the oracle did not name the value: $(head -2 "$WORK/oracle.bad2")"

# --update shows what it accepts (a diff), never rewrites silently
cp -r "$cases/dicom-basic" "$WORK/u"
"$KAKOU" profile test --update -O retain-patient-characteristics dicom-basic "$WORK/u" >"$WORK/u.out" 2>"$WORK/u.err"
grep -q '^+(0010,0040) *PatientSex *CS keep' "$WORK/u.out" || fail "--update did not show the diff it accepted"
grep -q 'review the diff' "$WORK/u.err" || fail "--update did not ask for a review"
# a folder without cases is a usage error, not a pass
mkdir -p "$WORK/none"
expect_exit 2 "$KAKOU" profile test -q dicom-basic "$WORK/none"

# a profile that keeps patient characteristics changes PatientSex: a diff
cp -r "$cases/dicom-basic" "$WORK/c"
expect_exit 1 "$KAKOU" profile test -O retain-patient-characteristics dicom-basic "$WORK/c" >"$WORK/d.out" 2>/dev/null
grep -q '^-(0010,0040) *PatientSex *CS empty' "$WORK/d.out" || fail "diff lacks the old PatientSex line"
grep -q '^+(0010,0040) *PatientSex *CS keep' "$WORK/d.out" || fail "diff lacks the new PatientSex line"
grep -q '^@@ ' "$WORK/d.out" || fail "no hunk header"
expect_exit 0 "$KAKOU" profile test -q --update -O retain-patient-characteristics dicom-basic "$WORK/c"
expect_exit 0 "$KAKOU" profile test -q -O retain-patient-characteristics dicom-basic "$WORK/c"
# a new case without its expected outcome fails until accepted
cp "$TESTDATA/sample/ct-2.dcm" "$WORK/c/new.dcm"
expect_exit 1 "$KAKOU" profile test -q -O retain-patient-characteristics dicom-basic "$WORK/c" >/dev/null

# profile diff: what changes between two profiles, by attribute
expect_exit 1 "$KAKOU" profile diff dicom-basic jp-pseudonymized "$TESTDATA"/sample/*.dcm >"$WORK/pd" 2>/dev/null
grep -q '(0010,0020) PatientID LO: empty (.*) -> pseudonym' "$WORK/pd" || fail "profile diff lacks PatientID: $(head -3 "$WORK/pd")"
expect_exit 0 "$KAKOU" profile diff dicom-basic dicom-basic "$TESTDATA"/sample/ct-1.dcm >/dev/null 2>&1
expect_exit 2 "$KAKOU" profile diff dicom-basic no-such-profile "$TESTDATA"/sample/ct-1.dcm 2>/dev/null
finish
