#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0800: the audit chain is keyed (R25). A real run writes rows; then every
# column of a row is altered alone, a row is deleted, inserted, two rows
# are swapped, and the chain is recomputed without the key (plain SHA-256,
# as a forger would): `kakou db verify -k` must exit 1 and name the row each
# time, and exit 0 again once the store is restored. Without -k, or with
# another key, verify refuses (exit 2).
. "$(dirname "$0")/lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
command -v sqlite3 >/dev/null || skip "no sqlite3"
"$PYTHON" "$TESTS/tools/make_planted.py" "$WORK/pl" >/dev/null || { fail "make_planted.py"; finish; }
"$KAKOU" key new "$WORK/k" >/dev/null 2>&1 || { fail "key new"; finish; }
"$KAKOU" key new "$WORK/k2" >/dev/null 2>&1 || { fail "key new"; finish; }
expect_exit 0 "$KAKOU" deid -q -p jp-pseudonymized -k "$WORK/k" --db "$WORK/s.db" -o "$WORK/out" "$WORK/pl/dicom" || finish
# a second run (all done before) and a lookup add rows of other kinds
expect_exit 0 "$KAKOU" deid -q -p jp-pseudonymized -k "$WORK/k" --db "$WORK/s.db" -o "$WORK/out2" "$WORK/pl/dicom"
n=$(sqlite3 "$WORK/s.db" "select count(*) from audit")
[ "$n" -ge 3 ] || { fail "only $n audit rows"; finish; }
ok=$(sqlite3 "$WORK/s.db" "select count(*) from audit where status='ok' and input_digest is not null and output_digest is not null and sop_instance_uid is not null")
[ "$ok" -ge 3 ] || fail "$ok rows with status ok and digests (wanted 3)"
cp "$WORK/s.db" "$WORK/keep.db"
rm -f "$WORK/s.db-wal" "$WORK/s.db-shm"
restore() { cp "$WORK/keep.db" "$WORK/s.db"; rm -f "$WORK/s.db-wal" "$WORK/s.db-shm"; }
# verify_bad ROW WHAT: verify must exit 1 naming ROW
verify_bad() {
    "$KAKOU" db verify --db "$WORK/s.db" -k "$WORK/k" >"$WORK/v.out" 2>"$WORK/v.err"
    rc=$?
    if [ $rc != 1 ]; then fail "$2: verify exit $rc, wanted 1"; return; fi
    grep -q "first bad row $1\$" "$WORK/v.out" || fail "$2: verify named '$(cat "$WORK/v.out")', wanted row $1"
}
expect_exit 0 "$KAKOU" db verify --db "$WORK/s.db" -k "$WORK/k" >/dev/null
"$KAKOU" db verify --db "$WORK/s.db" >"$WORK/v.out" 2>&1 || fail "verify without -k on a sound store: exit $?"
grep -q "MACs not checked" "$WORK/v.out" || fail "verify without -k does not say the MACs were not checked"
# structure_bad ROW WHAT: verify without the key must exit 1 naming ROW
structure_bad() {
    "$KAKOU" db verify --db "$WORK/s.db" >"$WORK/v.out" 2>"$WORK/v.err"
    rc=$?
    if [ $rc != 1 ]; then fail "$2 (no key): verify exit $rc, wanted 1"; return; fi
    grep -q "first bad row $1\$" "$WORK/v.out" || fail "$2 (no key): verify named '$(cat "$WORK/v.out")', wanted row $1"
}
expect_exit 2 "$KAKOU" db verify --db "$WORK/s.db" -k "$WORK/k2" >/dev/null 2>&1
"$KAKOU" db verify --db "$WORK/s.db" -k "$WORK/k2" 2>&1 | grep -q "keyed under key id" || fail "another key: no message naming the chain's key id"
# a row with every column set
r=$(sqlite3 "$WORK/s.db" "select min(id) from audit where status='ok' and output_digest is not null")
for col in run_id time operator profile_name profile_version profile_digest input_digest output_digest sop_instance_uid status subject origin; do
    sqlite3 "$WORK/s.db" "update audit set $col = coalesce($col, '') || '0' where id = $r"
    verify_bad "$r" "column $col altered"
    restore
done
# prev_hash and row_hash themselves
sqlite3 "$WORK/s.db" "update audit set prev_hash = printf('%064d', 1) where id = $r"; verify_bad "$r" "prev_hash altered"; restore
sqlite3 "$WORK/s.db" "update audit set row_hash = printf('%064d', 1) where id = $r"; verify_bad "$r" "row_hash altered"; restore
# delete a middle row, the last row
sqlite3 "$WORK/s.db" "delete from audit where id = 2"; verify_bad 2 "row 2 deleted"; structure_bad 2 "row 2 deleted"; restore
sqlite3 "$WORK/s.db" "delete from audit where id = $n"; verify_bad "$n" "last row deleted"; structure_bad "$n" "last row deleted"; restore
# insert a row at the end (copy of row 1 with a fresh hash, head moved along)
sqlite3 "$WORK/s.db" "insert into audit select $n + 1, run_id, time, operator, profile_name, profile_version, profile_digest, input_digest, output_digest, sop_instance_uid, status, subject, origin, (select row_hash from audit where id = $n), printf('%064d', 5) from audit where id = 1; update meta set value = '$((n + 1)):' || printf('%064d', 5) where name = 'audit_head'"
verify_bad $((n + 1)) "row inserted"; restore
# reorder: swap rows 1 and 2 by id
sqlite3 "$WORK/s.db" "update audit set id = -1 where id = 1; update audit set id = 1 where id = 2; update audit set id = 2 where id = -1"
verify_bad 1 "rows 1 and 2 swapped"; structure_bad 1 "rows 1 and 2 swapped"; restore
# re-chain without the key: alter row r, recompute plain SHA-256 from there
"$PYTHON" - "$WORK/s.db" "$r" <<'PY' || fail "re-chain script"
import hashlib, sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1]); r = int(sys.argv[2])
cols = ["run_id", "time", "operator", "profile_name", "profile_version", "profile_digest",
        "input_digest", "output_digest", "sop_instance_uid", "status", "subject", "origin"]
db.execute("update audit set output_digest = ? where id = ?", ("0" * 64, r))
prev = bytes.fromhex(db.execute("select prev_hash from audit where id = ?", (r,)).fetchone()[0])
last = None
for row in db.execute("select id, %s from audit where id >= ? order by id" % ",".join(cols), (r,)).fetchall():
    h = hashlib.sha256(prev + b"kakou-audit-v1\0" + struct.pack("<Q", row[0]))
    for v in row[1:]:
        if v is None:
            h.update(b"\0")
        else:
            b = v.encode()
            h.update(b"\1" + struct.pack("<Q", len(b)) + b)
    d = h.hexdigest()
    db.execute("update audit set prev_hash = ?, row_hash = ? where id = ?", (prev.hex(), d, row[0]))
    prev, last = bytes.fromhex(d), row[0]
db.execute("update meta set value = ? where name = 'audit_head'", ("%d:%s" % (last, prev.hex()),))
db.commit()
PY
verify_bad "$r" "re-chained without the key"
# the structure holds: only the key tells a forged chain
expect_exit 0 "$KAKOU" db verify --db "$WORK/s.db" >/dev/null
# ... and dressed up as an old unkeyed store: refused, not upgraded silently
sqlite3 "$WORK/s.db" "update meta set value = 'sha256-chain-v1' where name = 'audit_hash'"
mkdir -p "$WORK/new"; cp "$CORPUS/image/pydicom__CT_small.dcm" "$WORK/new/" || fail "no corpus CT"
"$KAKOU" deid -q -p jp-pseudonymized -k "$WORK/k" --db "$WORK/s.db" -o "$WORK/out3" "$WORK/new" 2>"$WORK/d.err"
grep -q "kakou db upgrade" "$WORK/d.err" || fail "deid on an old-scheme store: no message naming 'kakou db upgrade'"
"$KAKOU" db verify --db "$WORK/s.db" -k "$WORK/k" 2>&1 | grep -q "kakou db upgrade" || fail "old-scheme store: no message naming 'kakou db upgrade'"
[ "$(sqlite3 "$WORK/s.db" "select value from meta where name='audit_hash'")" = sha256-chain-v1 ] || fail "store re-chained silently"
restore
expect_exit 0 "$KAKOU" db verify --db "$WORK/s.db" -k "$WORK/k" >/dev/null
# rotation hands the chain to the new key: both verify, the new key
# writes rows that join the chain, a key never handed it is still refused
expect_exit 0 "$KAKOU" key rotate -q -k "$WORK/k" --db "$WORK/s.db" "$WORK/k3" >/dev/null
expect_exit 0 "$KAKOU" db verify --db "$WORK/s.db" -k "$WORK/k3" >/dev/null
expect_exit 0 "$KAKOU" deid -q -p jp-pseudonymized -k "$WORK/k3" --db "$WORK/s.db" -o "$WORK/out4" "$WORK/pl/dicom"
expect_exit 0 "$KAKOU" db verify --db "$WORK/s.db" -k "$WORK/k3" >/dev/null
expect_exit 0 "$KAKOU" db verify --db "$WORK/s.db" -k "$WORK/k" >/dev/null
expect_exit 2 "$KAKOU" db verify --db "$WORK/s.db" -k "$WORK/k2" >/dev/null 2>&1
[ "$(sqlite3 "$WORK/s.db" "select count(*) from audit where status = 'audit-key-granted'")" = 1 ] || fail "the hand-over is not in the log"
finish
