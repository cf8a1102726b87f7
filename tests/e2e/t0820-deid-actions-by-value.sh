#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0820: every action checked by value, in every character set the corpus
# has (issue 19 item 1): remove, empty, dummy, uid, pseudonym, shift-date on
# DA, DT with and without time and TM (date-shift.time keep and remove),
# clean of DA and of text (identifiers gone, other words kept),
# generalize-age, truncate-date, generalize-address; raw bytes of every
# text value decode under the object's character set, 7-bit for IR 87.
# The checks are in tests/tools/check_actions.py.
. "$(dirname "$0")/lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
# the checker covers every character set of the corpus
"$PYTHON" "$TESTS/tools/check_actions.py" --list > "$WORK/have" || { fail "check_actions.py --list"; finish; }
col=$(head -1 "$CORPUS/MANIFEST.tsv" | tr '\t' '\n' | grep -nx charset | cut -d: -f1)
[ -n "$col" ] || { fail "no charset column in MANIFEST.tsv"; finish; }
tail -n +2 "$CORPUS/MANIFEST.tsv" | cut -f"$col" | grep -v '^$' | sort -u > "$WORK/corpus"
[ -s "$WORK/corpus" ] || fail "no character set in the corpus MANIFEST"
while IFS= read -r cs; do
    grep -qxF -- "$cs" "$WORK/have" || fail "character set '$cs' of the corpus is not checked"
done < "$WORK/corpus"
"$PYTHON" "$TESTS/tools/check_actions.py" "$KAKOU" "$WORK" "$CORPUS/image/pydicom__CT_small.dcm" || fail "actions by value"
finish
