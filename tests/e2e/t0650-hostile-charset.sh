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
for p in "dicom-basic -O clean-descriptors" "jp-anonymized --no-release"; do
    tag=${p%% *}
    # shellcheck disable=SC2086
    expect_exit 0 timeout -k 5 60 "$KAKOU" deid -p $p -o "$WORK/$tag" "${files[@]}" "$GOOD" \
        2>"$WORK/$tag.err" && ok "$p: exit 0"
    n=$(find "$WORK/$tag" -type f -name '*.dcm' | wc -l)
    [ "$n" = $(( ${#files[@]} + 1 )) ] && ok "$p: $n outputs" || fail "$p: $n outputs"
    grep -q PHIHOSTILE "$WORK/$tag.err" && fail "$p: a value appears in the messages"
    for o in $(find "$WORK/$tag" -type f -name '*.dcm'); do
        dcmdump -q "$o" >/dev/null 2>&1 || fail "$p: dcmdump rejects $o"
    done
    "$PYTHON" - "$WORK/$tag" <<'PY' || fail "$p: an output value is not valid in its character set"
import glob, sys
import pydicom
from pydicom.charset import python_encoding
bad = 0
for f in glob.glob(sys.argv[1] + "/**/*.dcm", recursive=True):
    ds = pydicom.dcmread(f)
    cs = ds.get("SpecificCharacterSet", "")
    cs = [cs] if isinstance(cs, str) else list(cs)
    for el in ds.iterall():
        if el.VR not in ("PN", "LO", "SH", "ST", "LT", "UT", "UC"):
            continue
        raw = ds.get_item(el.tag).value if el.tag in ds else None
        if isinstance(raw, (bytes, bytearray)) and cs == ["ISO_IR 192"]:
            try:
                raw.decode("utf-8", errors="strict")
            except UnicodeDecodeError:
                print("invalid UTF-8 in %s %s" % (f, el.tag)); bad += 1
        if isinstance(raw, (bytes, bytearray)) and b"PHIHOSTILE" in raw:
            print("value kept in %s %s" % (f, el.tag)); bad += 1
sys.exit(1 if bad else 0)
PY
done
finish
