#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0760-store-promises: what a store promises about outputs, under faults.
#  1. No output without its correspondence: the store on a 400 KiB tmpfs
#     fills up after a few objects. Exit 1; every failed input is named;
#     every output on disk has its SOP Instance UID mapped, an "ok" audit
#     row with its digest and its place in the inputs table; nothing else
#     is recorded as written. With room again, the rerun finishes the
#     batch: 200 outputs, 200 "ok" rows, none twice.
#  2. Two runs at once on one store and one output folder, on the same 200
#     inputs (distinct UIDs): each input is recorded once, 200 outputs.
#  3. "done before" only when the output is in this run's folder, intact:
#     the same store with a new output folder writes all 200 again (the
#     same bytes); one output damaged or removed is written again.
. "$(dirname "$0")/lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
command -v sqlite3 >/dev/null || skip "no sqlite3"
IN="$WORK/in"
"$PYTHON" "$TESTS/tools/make_hostile.py" goods "$IN" 200 || { fail "make_hostile.py goods"; finish; }
[ "$(ls "$IN" | wc -l)" = 200 ] || { fail "200 inputs wanted"; finish; }
"$KAKOU" key new "$WORK/k.key" >/dev/null 2>&1 || { fail "kakou key new"; finish; }
deid() { "$KAKOU" deid -j 2 -p jp-pseudonymized -k "$WORK/k.key" "$@"; }
count_dcm() { find "$1" -name '*.dcm' 2>/dev/null | wc -l; }
q() { sqlite3 "$1" "$2"; }

# every output on disk is in the store: UID mapped, "ok" row with its
# digest, inputs row with its path; and no "ok" row without an output
all_recorded() {
    local res
    res=$("$PYTHON" - "$1" "$2" <<'PY'
import hashlib, os, sqlite3, sys
db, out = sys.argv[1], sys.argv[2]
c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
bad = n = 0
for d, _, files in os.walk(out):
    for f in files:
        if not f.endswith(".dcm"):
            continue
        n += 1
        p = os.path.join(d, f)
        rel = os.path.relpath(p, out)
        dg = hashlib.sha256(open(p, "rb").read()).hexdigest()
        one = lambda sql, *a: c.execute(sql, a).fetchone()[0] == 1
        if not (one("SELECT count(*) FROM uids WHERE new_uid=?", f[:-4])
                and one("SELECT count(*) FROM audit WHERE status='ok' AND output_digest=?", dg)
                and one("SELECT count(*) FROM inputs WHERE output_path=? AND output_digest=?", rel, dg)):
            bad += 1
okrows = c.execute("SELECT count(*) FROM audit WHERE status='ok'").fetchone()[0]
print(bad, n, okrows)
PY
)
    local bad n okrows
    read -r bad n okrows <<<"$res"
    if [ "$bad" = 0 ] && [ "$okrows" = "$n" ]; then
        ok "$3: all $n outputs recorded (UID, audit digest, inputs row), $okrows ok rows"
    else
        fail "$3: ${bad:-?} of ${n:-?} outputs not fully recorded; ${okrows:-?} ok rows"
    fi
}

# --- 1. the store's file system fills up ---
TFS="$WORK/tfs"
mkdir -p "$TFS"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=400k tmpfs "$TFS" 2>/dev/null; then
    trap 'umount "$TFS" 2>/dev/null; rm -rf "$WORK"' EXIT
    db="$TFS/s.db"
    deid --db "$db" -o "$WORK/full" "$IN" >/dev/null 2>"$WORK/full.err"; rc=$?
    [ $rc = 1 ] && ok "store full: exit 1" || fail "store full: exit $rc, wanted 1"
    n=$(count_dcm "$WORK/full")
    failed=$(sed -n 's/.*failed \([0-9]*\),.*/\1/p' "$WORK/full.err")
    [ "$n" -gt 0 ] && [ "$n" -lt 200 ] && ok "store full: $n written before it filled up" \
        || fail "store full: $n outputs; the store should fill up mid-run"
    named=$(grep -Ec "cannot (claim|write the output of) '$IN/g-[0-9]{4}\.dcm'" "$WORK/full.err")
    # the failed count adds one for the store that cannot be closed
    closing=$(grep -c "cannot close the store" "$WORK/full.err")
    [ "$named" = $((200 - n)) ] && [ "$failed" = $((named + closing)) ] \
        && ok "store full: each of the $named failed inputs named" \
        || fail "store full: $failed failed, $named named, $n written"
    grep -q "database or disk is full" "$WORK/full.err" && ok "store full: the reason is given" \
        || fail "store full: no reason"
    # rows pending at close are only those of failed inputs (each object's
    # rows are committed before its output appears): when the close fails
    # too it is said, and the exit code is 1 either way
    grep -q "cannot close the store" "$WORK/full.err" && ok "store full at close: reported"
    [ -z "$(find "$WORK/full" -name '.kakou-*' -o -name '*.tmp')" ] || fail "store full: temp files left"
    all_recorded "$db" "$WORK/full" "store full"
    mount -o remount,size=16m "$TFS" || fail "remount"
    deid --db "$db" -o "$WORK/full" "$IN" >/dev/null 2>"$WORK/full2.err"; rc=$?
    [ $rc = 0 ] && ok "room again: exit 0" || { fail "room again: exit $rc"; head -3 "$WORK/full2.err"; }
    [ "$(count_dcm "$WORK/full")" = 200 ] && ok "room again: 200 outputs" \
        || fail "room again: $(count_dcm "$WORK/full") outputs"
    all_recorded "$db" "$WORK/full" "room again"
    twice=$(q "$db" "SELECT count(*) FROM (SELECT input_digest FROM audit WHERE status='ok' GROUP BY 1 HAVING count(*) > 1)")
    [ "$twice" = 0 ] && ok "room again: no input recorded twice" || fail "room again: $twice inputs recorded twice"
else
    echo "# not root or no tmpfs: the full-store part is left out"
fi

# --- 2. two runs at once ---
db="$WORK/c.db"
deid --db "$db" -o "$WORK/conc" "$IN" >/dev/null 2>"$WORK/c1.err" &
p1=$!
deid --db "$db" -o "$WORK/conc" "$IN" >/dev/null 2>"$WORK/c2.err"; rc2=$?
wait $p1; rc1=$?
[ $rc1 = 0 ] && [ $rc2 = 0 ] && ok "two runs: both exit 0" || fail "two runs: exit $rc1 and $rc2"
okrows=$(q "$db" "SELECT count(*) FROM audit WHERE status='ok'")
distinct=$(q "$db" "SELECT count(DISTINCT input_digest) FROM audit WHERE status='ok'")
[ "$okrows" = 200 ] && [ "$distinct" = 200 ] && ok "two runs: 200 ok rows for 200 inputs" \
    || fail "two runs: $okrows ok rows for $distinct inputs"
[ "$(count_dcm "$WORK/conc")" = 200 ] && ok "two runs: 200 outputs" || fail "two runs: $(count_dcm "$WORK/conc") outputs"
w1=$(sed -n 's/.*written \([0-9]*\),.*/\1/p' "$WORK/c1.err"); w2=$(sed -n 's/.*written \([0-9]*\),.*/\1/p' "$WORK/c2.err")
[ $((w1 + w2)) = 200 ] && ok "two runs: $w1 + $w2 written" || fail "two runs: $w1 + $w2 written, wanted 200 in all"
all_recorded "$db" "$WORK/conc" "two runs"

# --- 3. the same store, a new output folder ---
deid --db "$db" -o "$WORK/conc" "$IN" >/dev/null 2>"$WORK/again.err"
grep -q "written 0, .*done before 200" "$WORK/again.err" && ok "same folder: done before 200" \
    || fail "same folder: $(tail -1 "$WORK/again.err")"
deid --db "$db" -o "$WORK/new" "$IN" >/dev/null 2>"$WORK/new.err"; rc=$?
[ $rc = 0 ] && grep -q "written 200," "$WORK/new.err" && ok "new folder: written 200" \
    || fail "new folder: exit $rc: $(tail -1 "$WORK/new.err")"
diff -r "$WORK/conc" "$WORK/new" >/dev/null && ok "new folder: the same 200 files" || fail "new folder: outputs differ"
# one output damaged, one removed: both written again
f1=$(find "$WORK/new" -name '*.dcm' | sort | head -1); f2=$(find "$WORK/new" -name '*.dcm' | sort | tail -1)
printf 'X' | dd of="$f1" bs=1 seek=200 conv=notrunc 2>/dev/null
rm -f "$f2"
deid --db "$db" -o "$WORK/new" "$IN" >/dev/null 2>"$WORK/fix.err"; rc=$?
[ $rc = 0 ] && grep -q "written 2, .*done before 198" "$WORK/fix.err" && ok "damaged and removed: written again" \
    || fail "damaged and removed: exit $rc: $(tail -2 "$WORK/fix.err")"
diff -r "$WORK/conc" "$WORK/new" >/dev/null && ok "damaged and removed: restored" || fail "damaged and removed: outputs differ"
finish
