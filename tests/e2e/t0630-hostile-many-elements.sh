#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0630-hostile-many-elements: 1,000,000 private elements in one data set
# (8 MB). Removing them one by one used to search DCMTK's element list
# from the start each time (and each private creator lookup did the
# same): quadratic, hours for one file. Now the walk is linear. The file
# must de-identify within the test's time (60 s, a few seconds in fact)
# and in bounded memory; with --max-object-size below its size it is
# refused with a message that says how to raise the limit; and a file with
# more elements than half of the memory kakou may use can hold (here
# 3,000,000 under ulimit -v 1 GiB) is refused before it is read.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
"$PYTHON" "$TESTS/tools/make_hostile.py" many "$H" 1000000 || { fail "make_hostile.py"; finish; }
rm -f "$H/many-public.dcm" # the same size; the private one is the harder case
f="$H/many-private.dcm"

start=$(date +%s)
expect_exit 0 timeout -k 5 "$KK_TIMEOUT" "$KAKOU" deid -j 1 -o "$WORK/many" "$f" 2>"$WORK/many.err" \
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

# memory stays bounded by default: in 1 GiB of address space, 1,000,000
# elements (about 200 MB once read) de-identify, and 3,000,000 (600 MB)
# are refused before DCMTK reads them. Not under the sanitizers, which
# reserve terabytes of address space.
if nm "$KAKOU" 2>/dev/null | grep -q __asan_init || ldd "$KAKOU" 2>/dev/null | grep -q libasan; then
    echo "note: ASan build: no ulimit -v check"
else
    (ulimit -v 1048576; exec "$KAKOU" deid -j 1 -o "$WORK/many-v" "$f") 2>"$WORK/many-v.err"
    rc=$?
    [ $rc = 0 ] && ok "1,000,000 elements in 1 GiB: de-identified" \
        || { fail "1,000,000 elements in 1 GiB: exit $rc"; sed -n '1,3p' "$WORK/many-v.err" | sed 's/^/    /'; }
    "$PYTHON" "$TESTS/tools/make_hostile.py" many "$WORK/m3" 3000000 || fail "make_hostile.py"
    rm -f "$WORK/m3/many-private.dcm"
    ( ulimit -v 1048576; hostile_batch many-3m -j 1 -- "$WORK/m3/many-public.dcm"; exit $fails ) \
        || fails=$((fails + 1))
    names "$WORK/m3/many-public.dcm" '3000007 elements would take about [0-9]+ MiB of memory' many-3m
fi
finish
