#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0540: shards (issue 5): three processes with the same key and profile
# and separate stores agree on every pseudonym and UID; their stores merge
# without conflict, and the merged audit chain verifies.
. "$TESTS/e2e/lib.sh"
"$PYTHON" "$TESTS/tools/make_planted.py" "$WORK/planted" >/dev/null || { fail "make_planted.py failed"; finish; }
expect_exit 0 "$KAKOU" key new "$WORK/k" >/dev/null
# three shards: the planted study (one patient, three files) is split
# across all of them, plus the sample and a few corpus files
all="$WORK/all"; mkdir -p "$all"
i=0
for f in $(find "$WORK/planted/dicom" "$TESTDATA/sample" -name '*.dcm' | sort) "$CORPUS"/image/pydicom__CT_small.dcm "$CORPUS"/charset/pydicom__chrH31.dcm; do
    i=$((i + 1)); cp "$f" "$all/$i.dcm"
done
for s in 0 1 2; do mkdir -p "$WORK/shard$s"; done
i=0
for f in $(ls "$all" | sort -n); do cp "$all/$f" "$WORK/shard$((i % 3))/"; i=$((i + 1)); done
pids=""
for s in 0 1 2; do
    "$KAKOU" deid -q -j1 -p jp-pseudonymized -k "$WORK/k" --db "$WORK/s$s.db" -o "$WORK/out" "$WORK/shard$s" 2>"$WORK/s$s.err" &
    pids="$pids $!"
done
for p in $pids; do wait $p || fail "a shard failed: $(cat "$WORK"/s*.err)"; done
# one process over everything, for reference
expect_exit 0 "$KAKOU" deid -q -p jp-pseudonymized -k "$WORK/k" --db "$WORK/one.db" -o "$WORK/one" "$all" 2>/dev/null
(cd "$WORK/out" && find . -name '*.dcm' | sort) > "$WORK/shards.list"
(cd "$WORK/one" && find . -name '*.dcm' | sort) > "$WORK/one.list"
cmp -s "$WORK/shards.list" "$WORK/one.list" || fail "shards named outputs differently from one run"
for f in $(cat "$WORK/one.list"); do
    cmp -s "$WORK/out/$f" "$WORK/one/$f" || fail "shard output $f differs from one run"
done
# the planted patient's files landed in all three shards: one pseudonym
n=$(for f in $(find "$WORK/out" -name '*.dcm'); do dcmdump -q +P 0010,0020 "$f"; done | sort -u | wc -l)
[ "$n" -ge 1 ] || fail "no PatientID in the outputs"
expect_exit 0 "$KAKOU" db merge -q -o "$WORK/m.db" -k "$WORK/k" "$WORK/s0.db" "$WORK/s1.db" "$WORK/s2.db"
expect_exit 0 "$KAKOU" db verify --db "$WORK/m.db" -k "$WORK/k" >/dev/null
# the merged store maps exactly what the single run's store maps
"$KAKOU" db export-map --db "$WORK/m.db" -k "$WORK/k" --format csv | sort > "$WORK/m.map"
"$KAKOU" db export-map --db "$WORK/one.db" -k "$WORK/k" --format csv | sort > "$WORK/one.map"
cmp -s "$WORK/m.map" "$WORK/one.map" || fail "merged store and single-run store map differently"
expect_exit 0 "$KAKOU" verify -q -p jp-pseudonymized --db "$WORK/m.db" -k "$WORK/k" "$WORK/out" >/dev/null
finish
