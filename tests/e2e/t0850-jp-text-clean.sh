#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0850: Japanese and English free text through jp-pseudonymized and
# dicom-basic -O clean-descriptors (issue 13). The planted set is generated
# (tests/tools/jp_text_planted.py: names from the dictionary's readings in
# every script, addresses, My Numbers and insurer numbers with valid check
# digits, phones, era dates) in ISO_IR 192, ISO 2022 IR 13\IR 87, IR 87
# alone, ISO_IR 13, Shift_JIS declared ISO_IR 100 and undeclared, with
# must-keep clinical phrases in the same values. No identifier may survive
# whole or in part in any encoding; >= 95% of the phrases stay; every text
# value is valid in its declared set and DCMTK decodes it as pydicom does;
# no My Number makes a store row.
. "$(dirname "$0")/lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
"$PYTHON" -c 'import pydicom' 2>/dev/null || skip "no pydicom"
[ -f /usr/share/mecab/dic/ipadic/Noun.name.csv ] || skip "no IPAdic source (mecab-ipadic)"
T="$TESTS/tools"
seed=${KAKOU_SEED:-1313}
echo "seed $seed (KAKOU_SEED=$seed repeats this run)"
"$PYTHON" -W ignore "$T/jp_text_planted.py" make "$WORK/pl" --seed "$seed" >/dev/null \
    || { fail "jp_text_planted.py make"; finish; }
n=$(find "$WORK/pl/dicom" -name '*.dcm' | wc -l)
[ "$n" -ge 24 ] || { fail "only $n planted files"; finish; }
expect_exit 0 "$KAKOU" key new "$WORK/key" >/dev/null

expect_exit 0 "$KAKOU" deid -q -p jp-pseudonymized -k "$WORK/key" --db "$WORK/p.db" -o "$WORK/p" "$WORK/pl/dicom"
if "$PYTHON" -W ignore "$T/jp_text_planted.py" check "$WORK/pl/planted.json" "$WORK/p" --store "$WORK/p.db" >"$WORK/p.out"; then
    ok "jp-pseudonymized: $(tail -1 "$WORK/p.out")"
else
    fail "jp-pseudonymized:"
    grep -v '^lost' "$WORK/p.out" | head -30 | sed 's/^/    /'
fi

expect_exit 0 "$KAKOU" deid -q -p dicom-basic -O clean-descriptors -o "$WORK/b" "$WORK/pl/dicom"
if "$PYTHON" -W ignore "$T/jp_text_planted.py" check "$WORK/pl/planted.json" "$WORK/b" >"$WORK/b.out"; then
    ok "dicom-basic -O clean-descriptors: $(tail -1 "$WORK/b.out")"
else
    fail "dicom-basic -O clean-descriptors:"
    grep -v '^lost' "$WORK/b.out" | head -30 | sed 's/^/    /'
fi

# the check itself finds what it looks for: the inputs leak everything
if "$PYTHON" -W ignore "$T/jp_text_planted.py" check "$WORK/pl/planted.json" "$WORK/pl/dicom" >"$WORK/in.out"; then
    fail "the check finds nothing in the planted inputs"
else
    leaks=$(grep -c '^LEAK' "$WORK/in.out")
    bad=$(grep -c '^CHARSET' "$WORK/in.out")
    [ "$leaks" -ge 100 ] && [ "$bad" -ge 8 ] && ok "the check sees $leaks planted identifiers and $bad mis-declared values in the inputs" \
        || fail "the check sees only $leaks leaks and $bad charset errors in the inputs"
fi

# mis-declared objects come out as ISO_IR 192 and say so
grep -rlaq "mis-declared text re-encoded as ISO_IR 192" "$WORK/p" \
    && ok "DeidentificationMethod records the re-encoding" || fail "no record of the re-encoding"
finish
