#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0680-hostile-store-lock: another process holds the store (an EXCLUSIVE
# SQLite transaction). kakou waits for the busy timeout (10 s), then stops
# with exit 2 and says the store is locked by another process, rather
# than hang or print SQLite's bare "database is locked". Nothing is
# written. Once the lock is gone, the same run succeeds.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
"$KAKOU" key new "$WORK/k.key" >/dev/null 2>&1 || { fail "kakou key new"; finish; }
db="$WORK/s.db"
expect_exit 0 "$KAKOU" deid -p jp-pseudonymized -k "$WORK/k.key" --db "$db" -o "$WORK/o1" "$GOOD" 2>/dev/null \
    || { fail "first run"; finish; }

"$PYTHON" - "$db" "$WORK/locked" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
time.sleep(25)
PY
holder=$!
for _ in $(seq 50); do [ -e "$WORK/locked" ] && break; sleep 0.1; done
start=$(date +%s)
expect_exit 2 timeout -k 5 40 "$KAKOU" deid -p jp-pseudonymized -k "$WORK/k.key" --db "$db" \
    -o "$WORK/o2" "$GOOD" 2>"$WORK/lock.err" && ok "locked store: exit 2 after $(( $(date +%s) - start )) s"
grep -Fq "store '$db' is locked by another process" "$WORK/lock.err" \
    && ok "$(head -1 "$WORK/lock.err")" || { fail "no clear lock message"; sed 's/^/    /' "$WORK/lock.err"; }
[ -z "$(find "$WORK/o2" -type f 2>/dev/null)" ] || fail "locked store: something was written"
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
expect_exit 0 "$KAKOU" deid -p jp-pseudonymized -k "$WORK/k.key" --db "$db" -o "$WORK/o3" "$GOOD" 2>/dev/null \
    && ok "lock released: the run succeeds"
finish
