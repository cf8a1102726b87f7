#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0610-hostile-lengths: value lengths past the end of the file, and
# 0xFFFFFFFF (undefined) lengths where DICOM forbids them (a UT value, an
# OB value that is not Pixel Data, Pixel Data with no fragments, the File
# Meta group length), in one batch with a good file: each is refused with
# a message naming it and the problem, the good file is written, exit 1,
# no temporary file. An undefined-length item inside a defined-length
# sequence is legal (PS3.5 7.5.1) and must de-identify.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
"$PYTHON" "$TESTS/tools/make_hostile.py" lengths "$H" || { fail "make_hostile.py"; finish; }

bad=("$H/len-past-eof.dcm" "$H/len-2gib.dcm" "$H/len-undef-ut.dcm" "$H/len-undef-ob.dcm"
     "$H/len-undef-pixels.dcm" "$H/len-meta.dcm")
hostile_batch lengths -j 2 -- "${bad[@]}"
for f in "${bad[@]}"; do
    names "$f" '.' lengths
done
# no planted value in the messages
grep -q PHIHOSTILE "$WORK/lengths.err" && fail "a value appears in the messages"

expect_exit 0 "$KAKOU" deid -o "$WORK/item" "$H/len-undef-item.dcm" 2>"$WORK/item.err" \
    && ok "undefined-length item in a defined-length sequence: de-identified"
out=$(find "$WORK/item" -type f -name '*.dcm')
[ -n "$out" ] && dcmdump -q "$out" >/dev/null 2>&1 && ok "its output reads back" \
    || fail "undefined-length item: no readable output"
finish
