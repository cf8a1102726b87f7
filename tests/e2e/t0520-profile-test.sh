#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0520: regression tests of profiles (issue 5): the shipped cases of the
# built-in profiles pass; a changed profile fails with a diff naming the
# attribute; --update accepts; profile diff lists changed outcomes.
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
