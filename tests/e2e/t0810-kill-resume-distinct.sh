#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0810: kill -9 that lands, on distinct inputs (issue 19 item 4).
# 400 inputs that are distinct objects (own SOP Instance UIDs, 40 patients:
# tests/tools/make_distinct.py), so lost or doubled work shows in counts.
#  - journal (-k, no store): kill -9 once >= 40 outputs exist (polled),
#    check the kill landed (fewer than 400 outputs), resume: "done before"
#    equals the inputs the journal held, then 400 outputs, every input in
#    the journal, none doubled;
#  - store (--db): kill -9 once >= 1 "ok" audit row is committed (polled),
#    check it landed (fewer than 400 rows), resume: "done before" equals
#    the outputs there (each committed; a row whose output the kill kept
#    from appearing is done again, without a second row), then exactly
#    400 "ok" rows with 400 distinct input digests, 400 outputs, and the
#    keyed chain verifies;
#  - a changed mtime, size or profile is not "done before" (journal and
#    store; the store also over a copy of the outputs, where only the
#    claim's profile digest tells them apart).
. "$(dirname "$0")/lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
command -v sqlite3 >/dev/null || skip "no sqlite3"
N=400
IN="$WORK/in"
"$PYTHON" "$TESTS/tools/make_distinct.py" "$CORPUS/image/pydicom__CT_small.dcm" "$IN" $N || { fail "make_distinct.py"; finish; }
[ "$(ls "$IN" | wc -l)" = $N ] || { fail "wanted $N inputs"; finish; }
"$KAKOU" key new "$WORK/k" >/dev/null 2>&1 || { fail "key new"; finish; }
nout() { find "$1" -name '*.dcm' 2>/dev/null | wc -l; }
summary_before() { sed -n 's/.*done before \([0-9]*\).*/\1/p' "$1" | tail -1; }

# wait_then_kill PID CMD MIN: poll CMD (prints a count) until >= MIN, then
# kill -9 PID; fails when the run ended first.
wait_then_kill() {
    local pid=$1 cmd=$2 min=$3 c=0
    while kill -0 "$pid" 2>/dev/null; do
        c=$(eval "$cmd" 2>/dev/null || echo 0)
        [ "${c:-0}" -ge "$min" ] && break
        sleep 0.01
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    [ "${c:-0}" -ge "$min" ] || fail "the run ended before $min ($cmd gave $c): the kill did not land"
}

# --- journal -----------------------------------------------------------
J="$WORK/j"
"$KAKOU" deid -q -j2 -k "$WORK/k" -o "$J" "$IN" 2>/dev/null &
wait_then_kill $! "nout '$J'" 40
o1=$(nout "$J")
[ "$o1" -lt $N ] || fail "journal: all $o1 outputs written before the kill landed"
# whole journal lines (id, space, output) before the resume
jl=$(grep -cE '^[0-9a-f]+ [^ ]+$' "$J/.kakou-journal" 2>/dev/null || echo 0)
jids=$(grep -E '^[0-9a-f]+ [^ ]+$' "$J/.kakou-journal" | cut -d' ' -f1 | sort -u | wc -l)
echo "journal: killed with $o1 outputs, $jl journal lines"
"$KAKOU" deid -j2 -k "$WORK/k" -o "$J" "$IN" 2>"$WORK/j.err"
b=$(summary_before "$WORK/j.err")
[ "${b:-0}" = "$jids" ] || fail "journal: resume skipped ${b:-0} as done before, the journal held $jids"
[ "$(nout "$J")" = $N ] || fail "journal: $(nout "$J") outputs after resume, wanted $N"
ids=$(grep -v '^#' "$J/.kakou-journal" | cut -d' ' -f1 | sort -u | wc -l)
[ "$ids" = $N ] || fail "journal: $ids inputs in the journal, wanted $N"
outs=$(grep -v '^#' "$J/.kakou-journal" | cut -d' ' -f2 | sort -u | wc -l)
[ "$outs" = $N ] || fail "journal: $outs distinct outputs journaled, wanted $N"
[ -z "$(find "$J" -name '*.tmp')" ] || fail "journal: temp files left"
# changed mtime, size, profile: not done before
touch -d '2001-01-01' "$IN/f000007.dcm"
printf '\0\0\0\0' >> "$IN/f000008.dcm"   # DICOM trailing padding: still valid
"$KAKOU" deid -j2 -k "$WORK/k" -o "$J" "$IN" 2>"$WORK/j2.err"
b=$(summary_before "$WORK/j2.err")
[ "${b:-0}" = $((N - 2)) ] || fail "journal: changed mtime and size: done before ${b:-0}, wanted $((N - 2))"
"$KAKOU" deid -j2 -O retain-uids -k "$WORK/k" -o "$J" "$IN" 2>"$WORK/j3.err"
grep -q "read $N," "$WORK/j3.err" || fail "journal: the run with another profile did not run: $(tail -1 "$WORK/j3.err")"
b=$(summary_before "$WORK/j3.err")
[ -z "$b" ] || fail "journal: another profile: $b inputs counted as done before"

# --- store ------------------------------------------------------------
IN2="$WORK/in2"
"$PYTHON" "$TESTS/tools/make_distinct.py" "$CORPUS/image/pydicom__CT_small.dcm" "$IN2" $N || fail "make_distinct.py"
S="$WORK/s"; DB="$WORK/s.db"
okrows() { sqlite3 -cmd '.timeout 2000' "$DB" "select count(*) from audit where status='ok'"; }
"$KAKOU" deid -q -j2 -p jp-pseudonymized -k "$WORK/k" --db "$DB" -o "$S" "$IN2" 2>/dev/null &
wait_then_kill $! okrows 1
c=$(okrows)
o2=$(nout "$S")
echo "store: killed with $c committed rows, $o2 outputs"
[ "$c" -ge 1 ] && [ "$c" -lt $N ] || fail "store: $c rows committed at the kill (wanted 1..$((N - 1)))"
# rows are committed before their output is linked (main's promise): a
# kill in between leaves a row whose output is not there yet, at most
# one per worker; every output there has its row
[ "$o2" -le "$c" ] && [ $((c - o2)) -le 2 ] || fail "store: $c rows and $o2 outputs at the kill"
"$KAKOU" deid -j2 -p jp-pseudonymized -k "$WORK/k" --db "$DB" -o "$S" "$IN2" 2>"$WORK/s.err"
b=$(summary_before "$WORK/s.err")
[ "${b:-0}" = "$o2" ] || fail "store: resume skipped ${b:-0} as done before, the folder held $o2 committed outputs"
[ "$(okrows)" = $N ] || fail "store: $(okrows) ok rows after resume, wanted $N (duplicates or gaps)"
d=$(sqlite3 "$DB" "select count(distinct input_digest) from audit where status='ok'")
[ "$d" = $N ] || fail "store: $d distinct inputs done, wanted $N"
u=$(sqlite3 "$DB" "select count(distinct sop_instance_uid) from audit where status='ok'")
[ "$u" = $N ] || fail "store: $u distinct new SOP Instance UIDs, wanted $N"
[ "$(nout "$S")" = $N ] || fail "store: $(nout "$S") outputs after resume, wanted $N"
expect_exit 0 "$KAKOU" db verify --db "$DB" -k "$WORK/k" >/dev/null
# another profile into a copy of the same outputs, first (while the
# store holds this profile's outputs only): the files the store
# recorded are there with their digests, but they are the other profile's
# (the claim is under input, profile digest and key: issue 19)
cp -a "$S" "$WORK/s4"
"$KAKOU" deid -j2 -p jp-pseudonymized -O shift-dates -k "$WORK/k" --db "$DB" -o "$WORK/s4" "$IN2" 2>"$WORK/s4.err"
b=$(summary_before "$WORK/s4.err")
[ -z "$b" ] || fail "store: another profile over the same outputs: $b inputs counted as done before"
# another profile on the same store: nothing is done before
"$KAKOU" deid -j2 -p jp-pseudonymized -O shift-dates -k "$WORK/k" --db "$DB" -o "$WORK/s2" "$IN2" 2>"$WORK/s2.err"
grep -q "read $N," "$WORK/s2.err" || fail "store: the run with another profile did not run: $(tail -1 "$WORK/s2.err")"
b=$(summary_before "$WORK/s2.err")
[ -z "$b" ] || fail "store: another profile: $b inputs counted as done before"
# the same profile over that copy: all done before
cp -a "$S" "$WORK/s5"
"$KAKOU" deid -j2 -p jp-pseudonymized -k "$WORK/k" --db "$DB" -o "$WORK/s5" "$IN2" 2>"$WORK/s5.err"
b=$(summary_before "$WORK/s5.err")
[ "${b:-0}" = $N ] || fail "store: same profile over a copy: done before ${b:-0}, wanted $N"
# and the same profile again, with one input's bytes changed: only that one
# is not done before
printf '\0\0\0\0' >> "$IN2/f000011.dcm"
"$KAKOU" deid -j2 -p jp-pseudonymized -k "$WORK/k" --db "$DB" -o "$S" "$IN2" 2>"$WORK/s3.err"
b=$(summary_before "$WORK/s3.err")
[ "${b:-0}" = $((N - 1)) ] || fail "store: one input changed: done before ${b:-0}, wanted $((N - 1))"
finish
