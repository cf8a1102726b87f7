#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0500: kakou deid at scale (issue 5): the bounded queue keeps memory flat,
# --report writes one valid JSON line per input with no path and no value,
# progress shows only on a terminal (or with --progress) and never with -q.
. "$TESTS/e2e/lib.sh"

expect_exit 0 "$KAKOU" key new "$WORK/k" >/dev/null
in="$WORK/in"; mkdir -p "$in/sub PHI-NAME"
cp "$TESTDATA"/sample/*.dcm "$in/"
cp "$TESTDATA"/sample/ct-1.dcm "$in/sub PHI-NAME/again.dcm"   # the same object twice
echo "not dicom" > "$in/readme.txt"
cp "$CORPUS"/malformed/pydicom__meta_missing_tsyntax.dcm "$in/" 2>/dev/null
printf 'DICM' > "$in/trunc.dcm"; head -c 200 "$TESTDATA"/sample/ct-2.dcm > "$in/trunc.dcm"

"$KAKOU" deid -j3 -k "$WORK/k" -o "$WORK/out" --report "$WORK/r.jsonl" "$in" 2>"$WORK/err"
rc=$?
[ $rc -le 1 ] || fail "deid exit $rc"
[ -s "$WORK/r.jsonl" ] || fail "no report"
n_in=$(find "$in" -type f | wc -l)
[ "$(wc -l <"$WORK/r.jsonl")" = "$n_in" ] || fail "report has $(wc -l <"$WORK/r.jsonl") lines for $n_in inputs"
"$PYTHON" - "$WORK/r.jsonl" <<'PY' || fail "report lines are not valid or complete"
import json, sys
seen = set()
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    assert r["status"] in ("done", "failed", "skipped", "duplicate", "done-before"), r
    assert isinstance(r["n"], int) and r["n"] not in seen; seen.add(r["n"])
    assert len(r["input_id"]) == 32
    assert "input" not in r
    if r["status"] in ("done", "duplicate"):
        assert r["output"].endswith(".dcm") and sum(r["actions"].values()) > 0
        assert set(r["pixels"]) == {"cleaned", "boxes_rule", "boxes_detected", "boxes_overlay", "residue_frames"}
        assert r["seconds"]["total"] >= 0
    if r["status"] in ("failed", "skipped"):
        assert r["reason"]
st = [json.loads(l)["status"] for l in open(sys.argv[1])]
assert st.count("duplicate") == 1, st
assert st.count("skipped") >= 1, st
PY
# no input name in the report (file names may carry PHI), not even in reasons
if grep -q "PHI-NAME\|$in" "$WORK/r.jsonl"; then fail "the report names an input path"; fi
grep -q '"reason":"[^"]*<input>' "$WORK/r.jsonl" || fail "failure reasons do not stand <input> for the path"
# --report-paths adds the path below the input argument
"$KAKOU" deid -q -k "$WORK/k" -o "$WORK/out2" --report "$WORK/r2.jsonl" --report-paths "$in" 2>/dev/null
grep -q '"input":"sub PHI-NAME/again.dcm"' "$WORK/r2.jsonl" || fail "--report-paths: no relative path"
# a re-run reports what was done before
"$KAKOU" deid -q -k "$WORK/k" -o "$WORK/out" --report "$WORK/r3.jsonl" "$in" 2>/dev/null
want=$(grep -c '"status":"\(done\|duplicate\)"' "$WORK/r.jsonl")
got=$(grep -c '"status":"done-before"' "$WORK/r3.jsonl")
[ "$got" = "$want" ] || fail "re-run: $got done-before, wanted $want"

# progress: none when stderr is not a terminal, some with --progress, none with -q
"$KAKOU" deid -k "$WORK/k" -o "$WORK/p1" "$in" 2>"$WORK/p1.err"
if grep -q $'\r' "$WORK/p1.err"; then fail "progress drawn on a non-terminal"; fi
"$KAKOU" deid --progress -k "$WORK/k" -o "$WORK/p2" "$in" 2>"$WORK/p2.err"
grep -q 'files.*MB/s.*failed' "$WORK/p2.err" || fail "--progress drew nothing"
if command -v script >/dev/null; then
    script -qec "'$KAKOU' deid -q -k '$WORK/k' -o '$WORK/p3' '$in'" /dev/null >"$WORK/p3.tty" 2>&1
    if grep -q 'MB/s' "$WORK/p3.tty"; then fail "progress drawn with -q"; fi
    script -qec "'$KAKOU' deid -k '$WORK/k' -o '$WORK/p4' '$in'" /dev/null >"$WORK/p4.tty" 2>&1
    grep -q 'MB/s' "$WORK/p4.tty" || fail "no progress on a terminal"
fi

# memory stays flat: 40 inputs vs 800 (copies; the walk and queue hold
# only a folder's names and N*4 paths)
big="$WORK/big"; mkdir -p "$big"
for i in $(seq 1 800); do cp "$TESTDATA/sample/ct-2.dcm" "$big/$i.dcm"; done
small="$WORK/small"; mkdir -p "$small"; cp "$big"/1[0-9].dcm "$big"/2[0-9].dcm "$big"/3[0-9].dcm "$big"/4[0-9].dcm "$small"/
rss() { /usr/bin/time -f %M "$KAKOU" deid -q -j2 --no-journal -k "$WORK/k" -o "$1" "$2" 2>&1 >/dev/null | tail -1; }
# (not under ASan, whose quarantine holds freed memory)
if [ -x /usr/bin/time ] && ! grep -q __asan_init "$KAKOU"; then
    a=$(rss "$WORK/m1" "$small"); b=$(rss "$WORK/m2" "$big")
    echo "peak RSS: 40 files ${a} KiB, 800 files ${b} KiB"
    [ $((b - a)) -lt 4096 ] || fail "RSS grew by $((b - a)) KiB from 40 to 800 files"
fi
finish
