#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0650-hostile-charset: broken ISO 2022 escapes (an escape cut short, an
# unknown one, a two-byte set never closed, a Korean designation under a
# Japanese set), invalid UTF-8 (bad continuations, surrogates, overlongs,
# a truncated sequence) and an unknown character set term, in person
# names and free text that dicom-basic -O clean-descriptors empties,
# dummies and cleans. They must not crash: every file de-identifies (exit
# 0), every output reads back, and every text value kakou wrote is valid
# in the output's declared character set (UTF-8 outputs decode strictly).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
"$PYTHON" "$TESTS/tools/make_hostile.py" charset "$H" || { fail "make_hostile.py"; finish; }
files=("$H"/cs-*.dcm)
# the check can fail: the hostile inputs themselves are not valid
"$PYTHON" "$TESTS/tools/dcm_check.py" charset "${files[@]}" >"$WORK/raw.cs" &&
    fail "dcm_check.py charset passes the raw hostile inputs"
[ "$(grep -c 'does not decode\|8-bit byte' "$WORK/raw.cs")" -ge 8 ] ||
    fail "dcm_check.py charset finds only $(grep -c 'does not decode\|8-bit byte' "$WORK/raw.cs") bad raw values"
for p in "dicom-basic -O clean-descriptors" "jp-anonymized --no-release"; do
    tag=${p%% *}
    # shellcheck disable=SC2086
    expect_exit 0 timeout -k 5 "$KK_TIMEOUT" "$KAKOU" deid -p $p -o "$WORK/$tag" "${files[@]}" "$GOOD" \
        2>"$WORK/$tag.err" && ok "$p: exit 0"
    n=$(find "$WORK/$tag" -type f -name '*.dcm' | wc -l)
    [ "$n" = $(( ${#files[@]} + 1 )) ] && ok "$p: $n outputs" || fail "$p: $n outputs"
    grep -q PHIHOSTILE "$WORK/$tag.err" && fail "$p: a value appears in the messages"
    for o in $(find "$WORK/$tag" -type f -name '*.dcm'); do
        dcmdump -q "$o" >/dev/null 2>&1 || fail "$p: dcmdump rejects $o"
    done
    # raw bytes of every text value, at every depth, strictly under the
    # declared character set (dcm_check.py charset reads them undecoded)
    mapfile -t outs < <(find "$WORK/$tag" -type f -name '*.dcm')
    if "$PYTHON" "$TESTS/tools/dcm_check.py" charset --min 20 "${outs[@]}" >"$WORK/$tag.cs"; then
        ok "$p: every text value valid in its declared character set ($(tail -1 "$WORK/$tag.cs"))"
    else
        fail "$p: an output value is not valid in its character set"; sed 's/^/    /' "$WORK/$tag.cs" | head -10
    fi
    grep -l PHIHOSTILE "${outs[@]}" && fail "$p: a hostile value is kept in an output"
done
finish
