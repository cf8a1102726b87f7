#!/bin/bash
# t0630-hostile-many-elements: 1,000,000 private elements in one data set
# (8 MB). Removing them one by one used to search DCMTK's element list
# from the start each time (and each private creator lookup did the
# same): quadratic, hours for one file. Now the walk is linear. The file
# must de-identify within the test's time (60 s, a few seconds in fact)
# and in bounded memory; with --max-object-size below its size it is
# refused with a message that says how to raise the limit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
"$PYTHON" "$TESTS/tools/make_hostile.py" many "$H" 1000000 || { fail "make_hostile.py"; finish; }
rm -f "$H/many-public.dcm" # the same size; the private one is the harder case
f="$H/many-private.dcm"

start=$(date +%s)
expect_exit 0 timeout -k 5 60 "$KAKOU" deid -j 1 -o "$WORK/many" "$f" 2>"$WORK/many.err" \
    && ok "1,000,000 private elements: de-identified in $(( $(date +%s) - start )) s"
out=$(find "$WORK/many" -type f -name '*.dcm')
if [ -n "$out" ]; then
    # every private element and creator is gone
    n=$(dcmdump -q "$out" 2>/dev/null | grep -c '^(0021,' || true)
    [ "$n" = 0 ] && ok "no private element left" || fail "$n private elements left"
fi

# 8 MB of file is above a 1 MiB limit: refused, with the way out
hostile_batch many-limit --max-object-size 1 -- "$f"
names "$f" 'raise it with --max-object-size' many-limit
finish
