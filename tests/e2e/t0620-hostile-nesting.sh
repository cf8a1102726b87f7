#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0620-hostile-nesting: sequences nested 10,000 deep (320 KB) used to
# overflow the stack inside DCMTK's recursive reader (SIGSEGV, the whole
# batch lost). kakou now measures the nesting from the element headers
# before DCMTK reads the file and refuses anything deeper than 200 levels:
# exit 1 for the batch, the file named with the reason, the good file
# written. 200 levels still de-identify; 201 do not.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
M="$TESTS/tools/make_hostile.py"
"$PYTHON" "$M" deep "$H" 10000 || { fail "make_hostile.py"; finish; }
hostile_batch deep -- "$H/deep.dcm"
names "$H/deep.dcm" 'sequences nested deeper than 200' deep

"$PYTHON" "$M" deep "$WORK/d200" 199 && "$PYTHON" "$M" deep "$WORK/d201" 201 || fail "make_hostile.py"
# 199 content sequences below the top level: 200 levels of items
expect_exit 0 "$KAKOU" deid -o "$WORK/o200" "$WORK/d200/deep.dcm" 2>"$WORK/d200.err" \
    && ok "200 levels: de-identified"
expect_exit 1 "$KAKOU" deid -o "$WORK/o201" "$WORK/d201/deep.dcm" 2>"$WORK/d201.err" \
    && grep -q "nested deeper than 200" "$WORK/d201.err" && ok "201 levels: refused"
finish
