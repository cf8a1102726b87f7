#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0690-hostile-vanish: an input is deleted after the batch has started
# (after kakou has listed it, while it works on a slow file before it).
# kakou names it ("cannot read '...': No such file or directory"), goes
# on with the rest of the batch, and exits 1; nothing partial is written.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
M="$TESTS/tools/make_hostile.py"
# a slow input: 300,000 private elements (a second or so)
"$PYTHON" "$M" many "$WORK/slow" 300000 || { fail "make_hostile.py"; finish; }
slow="$WORK/slow/many-private.dcm"
mkdir -p "$WORK/batch"
cp "$GOOD" "$WORK/batch/victim.dcm"
victim="$WORK/batch/victim.dcm"

timeout -k 5 "$KK_TIMEOUT" "$KAKOU" deid -j 1 -o "$WORK/out" "$slow" "$victim" "$GOOD" 2>"$WORK/vanish.err" &
pid=$!
# delete the victim once kakou has the slow file open
for _ in $(seq 200); do
    ls -l "/proc/$pid/fd" 2>/dev/null | grep -q many-private && break
    pgrep -P "$pid" >/dev/null && ls -l /proc/"$(pgrep -P "$pid" | head -1)"/fd 2>/dev/null | grep -q many-private && break
    sleep 0.02
done
rm -f "$victim"
wait "$pid"
rc=$?
if [ $rc -gt 128 ] || [ $rc = 124 ]; then
    fail "killed or hung (exit $rc)"
else
    [ $rc = 1 ] && ok "exit 1" || fail "exit $rc, wanted 1"
fi
grep -Fq "cannot read '$victim': No such file or directory" "$WORK/vanish.err" \
    && ok "the vanished input is named: $(grep -F "'$victim'" "$WORK/vanish.err" | head -1)" \
    || { fail "the vanished input is not named"; sed 's/^/    /' "$WORK/vanish.err"; }
n=$(find "$WORK/out" -type f -name '*.dcm' | wc -l)
[ "$n" = 2 ] && ok "the other two inputs are written" || fail "$n outputs, wanted 2"
t=$(leftovers "$WORK/out")
[ -z "$t" ] || fail "temporary files left: $t"
finish
