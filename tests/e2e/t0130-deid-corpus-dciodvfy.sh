#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0130-deid-corpus-dciodvfy: de-identification does not break IOD
# conformance. dciodvfy runs on each corpus input and its dicom-basic
# output; the output may not have an error kind the input did not have
# (tests/tools/dciodvfy_diff.py normalizes messages so that an error that
# only names a changed value is the same error). Inputs dciodvfy cannot read
# completely are skipped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/corpus-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
command -v dciodvfy >/dev/null || skip "no dciodvfy"
T="$TESTS/tools"

mapfile -t FILES < <(corpus_files ts image charset private sr_rt burned_in dicomdir)
[ ${#FILES[@]} -gt 100 ] || { fail "only ${#FILES[@]} corpus files found"; finish; }
R="$WORK/each"
deid_each "$R" -q -- "${FILES[@]}"

pairs=()
while IFS=$'\t' read -r n f rc nout; do
    [ "$rc" = 0 ] && [ "$nout" = 1 ] || continue   # t0110 judges these
    pairs+=("$f" "$(deid_output "$R" "$n")")
done <"$R/index.tsv"
[ ${#pairs[@]} -gt 0 ] || { fail "no output to check"; finish; }

"$PYTHON" "$T/dciodvfy_diff.py" "${pairs[@]}" >"$WORK/diff.all"
# accepted, explained residue (t0130-known.tsv)
grep -v '^#' "$TESTS/e2e/t0130-known.tsv" | while IFS=$'\t' read -r kf ke _; do
    printf 'NEW %s: %s\n' "$CORPUS/$kf" "$ke"
done >"$WORK/known"
grep -vxF -f "$WORK/known" "$WORK/diff.all" >"$WORK/diff" || true
grep -xF -f "$WORK/known" "$WORK/diff.all" | sed "s|$CORPUS/||; s/^NEW /note: known: /"
echo "$(grep -c '^ok' "$WORK/diff") file(s) without new errors, $(grep -c '^SKIP' "$WORK/diff") skipped"
grep '^SKIP' "$WORK/diff" | sed "s|$CORPUS/||; s/^/note: /"
nfiles=$(grep '^NEW' "$WORK/diff" | cut -d: -f1 | sort -u | wc -l)
if [ "$nfiles" != 0 ]; then
    fail "$nfiles output(s) have dciodvfy errors their input did not have:"
    grep '^NEW' "$WORK/diff" | sed "s|$CORPUS/||; s/^NEW /    /"
    echo "new error kinds, by number of files:"
    grep '^NEW' "$WORK/diff" | sed 's/^NEW [^:]*: //' | sort | uniq -c | sort -rn | sed 's/^/    /'
fi
finish
