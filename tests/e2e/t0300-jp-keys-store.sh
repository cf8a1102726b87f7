#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0300: keyed pseudonyms, key custody and the store (issue 3).
# Determinism across runs and processes, key separation, key file mode,
# lookup with audit, audit-chain tampering, store bytes free of originals,
# the anonymized profile refusing keys, and resume after kill -9.
. "$TESTS/e2e/lib.sh"

in="$WORK/in"
mkdir -p "$in"
cp "$CORPUS"/charset/*.dcm "$CORPUS"/image/pydicom__CT_small.dcm "$CORPUS"/image/pydicom__ExplVR_BigEnd.dcm "$in"/
# chrFrenMulti is chrFren again under the same SOP Instance UID
rm -f "$in"/pydicom__chrFrenMulti.dcm

# keys: created at 0600; a readable key is refused
expect_exit 0 "$KAKOU" key new "$WORK/k1" >/dev/null
expect_exit 0 "$KAKOU" key new "$WORK/k2" >/dev/null
[ "$(stat -c %a "$WORK/k1")" = 600 ] || fail "key file mode is $(stat -c %a "$WORK/k1")"
cp "$WORK/k1" "$WORK/k644"; chmod 644 "$WORK/k644"
expect_exit 2 "$KAKOU" deid -q -p jp-pseudonymized -k "$WORK/k644" --db "$WORK/x.db" -o "$WORK/x" "$in" 2>"$WORK/err"
grep -q "chmod 600" "$WORK/err" || fail "no advice on a 0644 key: $(cat "$WORK/err")"

# a keyed profile without a key says how to make one
expect_exit 2 "$KAKOU" deid -q -p jp-pseudonymized -o "$WORK/x" "$in" 2>"$WORK/err"
grep -q "kakou key new" "$WORK/err" || fail "no advice without -k: $(cat "$WORK/err")"
# the anonymized profile refuses keys and stores (R09)
expect_exit 2 "$KAKOU" deid -q -p jp-anonymized -k "$WORK/k1" -o "$WORK/x" "$in" 2>/dev/null
[ ! -e "$WORK/x.db" ] || fail "a refused run created a store"

# the store may not sit inside the output folder (R24)
expect_exit 2 "$KAKOU" deid -q -p jp-pseudonymized -k "$WORK/k1" --db "$WORK/x/inside.db" -o "$WORK/x" "$in" 2>/dev/null
[ ! -e "$WORK/x/inside.db" ] || fail "a store was created inside the output folder"

# two runs, same key, separate stores: identical names and pseudonyms
run() { "$KAKOU" deid -q -p jp-pseudonymized -k "$1" --db "$2" -o "$3" "$in"; }
expect_exit 0 run "$WORK/k1" "$WORK/a.db" "$WORK/a"
expect_exit 0 run "$WORK/k1" "$WORK/b.db" "$WORK/b"
expect_exit 0 run "$WORK/k2" "$WORK/c.db" "$WORK/c"
(cd "$WORK/a" && find . -name '*.dcm' | sort) > "$WORK/a.list"
(cd "$WORK/b" && find . -name '*.dcm' | sort) > "$WORK/b.list"
(cd "$WORK/c" && find . -name '*.dcm' | sort) > "$WORK/c.list"
[ -s "$WORK/a.list" ] || fail "no output"
cmp -s "$WORK/a.list" "$WORK/b.list" || fail "same key, different output names"
pids() { for f in $(find "$1" -name '*.dcm' | sort); do dcmdump -q +P 0010,0020 "$f"; done | sort; }
[ "$(pids "$WORK/a")" = "$(pids "$WORK/b")" ] || fail "same key, different pseudonyms"
# another key shares no UID and no pseudonym
tr '/' '\n' < "$WORK/a.list" | grep '^2\.25' | sed 's/\.dcm$//' | sort -u > "$WORK/a.uids"
tr '/' '\n' < "$WORK/c.list" | grep '^2\.25' | sed 's/\.dcm$//' | sort -u > "$WORK/c.uids"
[ -z "$(comm -12 "$WORK/a.uids" "$WORK/c.uids")" ] || fail "two keys share UIDs"
pids "$WORK/a" | grep -o '\[.*\]' | sort -u > "$WORK/a.p"
pids "$WORK/c" | grep -o '\[.*\]' | sort -u > "$WORK/c.p"
[ -z "$(comm -12 "$WORK/a.p" "$WORK/c.p")" ] || fail "two keys share pseudonyms"

# the store file holds none of the original IDs or names in clear
for f in "$in"/*.dcm; do
    v=$(dcmdump -q +P 0010,0020 "$f" 2>/dev/null | sed -n 's/.*\[\(.*\)\].*/\1/p' | head -1)
    [ ${#v} -ge 4 ] || continue
    if grep -aqF -- "$v" "$WORK/a.db" "$WORK/a.db-wal" 2>/dev/null; then fail "store holds PatientID of $(basename "$f") in clear"; fi
done

# lookup gives back the original and is audited; verify passes
f=$(grep -l "" "$in"/pydicom__CT_small.dcm)
orig=$(dcmdump -q +P 0010,0020 "$f" | sed -n 's/.*\[\(.*\)\].*/\1/p')
out=$(for o in $(find "$WORK/a" -name '*.dcm'); do dcmdump -q +P 0008,0016 +P 0010,0020 "$o" | tr '\n' ' '; echo; done | grep CTImageStorage | sed -n 's/.*LO \[\([^]]*\)\].*/\1/p' | head -1)
[ -n "$out" ] || fail "no pseudonym found for the CT"
got=$("$KAKOU" lookup --db "$WORK/a.db" -k "$WORK/k1" "$out" 2>/dev/null)
echo "$got" | grep -qF -- "$orig" || fail "lookup did not return the original PatientID"
sqlite3 "$WORK/a.db" "select count(*) from audit where status like 'lookup%'" | grep -qv '^0$' || fail "lookup not audited"
expect_exit 0 "$KAKOU" db verify --db "$WORK/a.db" -k "$WORK/k1" >/dev/null
# alter one audit row: verify must fail
sqlite3 "$WORK/a.db" "update audit set status='failed' where id=(select min(id) from audit)"
expect_exit 1 "$KAKOU" db verify --db "$WORK/a.db" -k "$WORK/k1" >/dev/null 2>&1

# export-map writes id_old,id_new
"$KAKOU" db export-map --db "$WORK/b.db" -k "$WORK/k1" --format csv > "$WORK/map.csv" || fail "export-map failed"
head -1 "$WORK/map.csv" | grep -q '^id_old,id_new' || fail "export-map header: $(head -1 "$WORK/map.csv")"

# kill -9 midway, run again: complete, no duplicates, no temp files
big="$WORK/big"; mkdir -p "$big"
for i in $(seq 1 12); do mkdir -p "$big/$i"; cp "$CORPUS"/image/*.dcm "$big/$i/" 2>/dev/null; done
"$KAKOU" deid -q -j1 -p jp-pseudonymized -k "$WORK/k1" --db "$WORK/r.db" -o "$WORK/r" "$big" 2>/dev/null &
pid=$!
sleep 0.3
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
"$KAKOU" deid -q -j2 -p jp-pseudonymized -k "$WORK/k1" --db "$WORK/r.db" -o "$WORK/r" "$big" 2>/dev/null
"$KAKOU" deid -q -j2 -p jp-pseudonymized -k "$WORK/k1" --db "$WORK/ref.db" -o "$WORK/ref" "$big" 2>/dev/null
(cd "$WORK/r" && find . -name '*.dcm' | sort) > "$WORK/r.list"
(cd "$WORK/ref" && find . -name '*.dcm' | sort) > "$WORK/ref.list"
cmp -s "$WORK/r.list" "$WORK/ref.list" || fail "resumed run differs from a clean run"
[ -z "$(find "$WORK/r" -name '*.tmp')" ] || fail "temp files left after kill -9"
dups=$(sqlite3 "$WORK/r.db" "select count(*) from (select input_digest from audit where status='ok' group by input_digest having count(*) > 1)")
[ "$dups" = 0 ] || fail "$dups inputs audited twice as done"
expect_exit 0 "$KAKOU" db verify --db "$WORK/r.db" -k "$WORK/k1" >/dev/null
finish
