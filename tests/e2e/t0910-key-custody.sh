#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0910: key custody (R23/R24, issue 17). A passphrase-protected key is
# refused without and with a wrong passphrase by every command taking -k,
# works with the right one; rotation gives disjoint pseudonyms, retires
# the old key and leaves the key id of every mapping in the store; db
# shred leaves no file.
. "$TESTS/e2e/lib.sh"

in="$WORK/in"
mkdir -p "$in"
cp "$CORPUS"/image/pydicom__CT_small.dcm "$CORPUS"/image/pydicom__ExplVR_BigEnd.dcm "$in"/

printf 'a long passphrase\n' > "$WORK/pf"; chmod 600 "$WORK/pf"
printf 'not the passphrase\n' > "$WORK/bad"; chmod 600 "$WORK/bad"
expect_exit 0 "$KAKOU" key new --passphrase-file "$WORK/pf" "$WORK/k1" > "$WORK/id1"
[ "$(stat -c %a "$WORK/k1")" = 600 ] || fail "protected key mode $(stat -c %a "$WORK/k1")"
head -1 "$WORK/k1" | grep -qx "KAKOU-PROTECTED-1" || fail "key not stored protected"
grep -q "^key " "$WORK/k1" && fail "protected key file holds a plain key line"
# the id is public: readable without the passphrase, and the same
[ "$("$KAKOU" key id "$WORK/k1")" = "$(cat "$WORK/id1")" ] || fail "key id differs"

# refused without the passphrase (no terminal), and with a wrong one
expect_exit 2 "$KAKOU" deid -q -p jp-pseudonymized -k "$WORK/k1" --db "$WORK/a.db" -o "$WORK/a" "$in" </dev/null 2>"$WORK/err"
grep -q "protected by a passphrase" "$WORK/err" || fail "no clear message: $(cat "$WORK/err")"
[ ! -e "$WORK/a.db" ] || fail "a refused run created a store"
expect_exit 2 "$KAKOU" deid -q -p jp-pseudonymized -k "$WORK/k1" --passphrase-file "$WORK/bad" --db "$WORK/a.db" -o "$WORK/a" "$in" </dev/null 2>"$WORK/err"
grep -q "wrong passphrase" "$WORK/err" || fail "wrong passphrase: $(cat "$WORK/err")"
[ -z "$(ls -A "$WORK/a" 2>/dev/null)" ] || fail "a refused run wrote output"
# a passphrase file others can read is refused
cp "$WORK/pf" "$WORK/pf644"; chmod 644 "$WORK/pf644"
expect_exit 2 "$KAKOU" deid -q -p jp-pseudonymized -k "$WORK/k1" --passphrase-file "$WORK/pf644" --db "$WORK/a.db" -o "$WORK/a" "$in" 2>/dev/null

# with it: the run works, and lookup, verify, explain and export take it too
expect_exit 0 "$KAKOU" deid -q -p jp-pseudonymized -k "$WORK/k1" --passphrase-file "$WORK/pf" --db "$WORK/a.db" -o "$WORK/a" "$in"
pid=$(for f in $(find "$WORK/a" -name '*.dcm' | sort); do dcmdump -q +P 0010,0020 "$f"; done | sed -n 's/.*\[\(.*\)\].*/\1/p' | head -1)
[ -n "$pid" ] || fail "no pseudonym in the output"
expect_exit 2 "$KAKOU" lookup -q --db "$WORK/a.db" -k "$WORK/k1" "$pid" </dev/null >/dev/null 2>&1
expect_exit 0 "$KAKOU" lookup -q --db "$WORK/a.db" -k "$WORK/k1" --passphrase-file "$WORK/pf" "$pid" >/dev/null
expect_exit 2 "$KAKOU" db export-map --db "$WORK/a.db" -k "$WORK/k1" --passphrase-file "$WORK/bad" >/dev/null 2>&1
expect_exit 0 "$KAKOU" db export-map --db "$WORK/a.db" -k "$WORK/k1" --passphrase-file "$WORK/pf" >/dev/null
expect_exit 0 "$KAKOU" verify -q -p jp-pseudonymized --db "$WORK/a.db" -k "$WORK/k1" --passphrase-file "$WORK/pf" "$WORK/a" >/dev/null
expect_exit 2 "$KAKOU" explain -p jp-pseudonymized -k "$WORK/k1" "$in/pydicom__CT_small.dcm" </dev/null >/dev/null 2>&1
expect_exit 0 "$KAKOU" explain -p jp-pseudonymized -k "$WORK/k1" --passphrase-file "$WORK/pf" "$in/pydicom__CT_small.dcm" >/dev/null

# rotation: a new key id, the old one retired and refused, new pseudonyms
expect_exit 0 "$KAKOU" key rotate -k "$WORK/k1" --db "$WORK/a.db" --passphrase-file "$WORK/pf" "$WORK/k2" > "$WORK/id2"
[ "$(cat "$WORK/id1")" != "$(cat "$WORK/id2")" ] || fail "rotation kept the key id"
head -1 "$WORK/k2" | grep -qx "KAKOU-PROTECTED-1" || fail "rotated key not protected"
expect_exit 2 "$KAKOU" deid -q -p jp-pseudonymized -k "$WORK/k1" --passphrase-file "$WORK/pf" --db "$WORK/a.db" -o "$WORK/b" "$in" 2>"$WORK/err"
grep -q "retired" "$WORK/err" || fail "retired key not refused: $(cat "$WORK/err")"
expect_exit 0 "$KAKOU" deid -q -p jp-pseudonymized -k "$WORK/k2" --passphrase-file "$WORK/pf" --db "$WORK/a.db" -o "$WORK/b" "$in"
pids() { for f in $(find "$1" -name '*.dcm' | sort); do dcmdump -q +P 0010,0020 +P 0020,000d "$f"; done | grep -o '\[.*\]' | sort -u; }
pids "$WORK/a" > "$WORK/a.p"; pids "$WORK/b" > "$WORK/b.p"
[ "$(wc -l < "$WORK/a.p")" -ge 2 ] || fail "too few pseudonyms to compare"
[ -z "$(comm -12 "$WORK/a.p" "$WORK/b.p")" ] || fail "rotation kept pseudonyms: $(comm -12 "$WORK/a.p" "$WORK/b.p")"
# every mapping row names its key; both keys have rows; k1 retired
ids=$(sqlite3 "$WORK/a.db" "SELECT DISTINCT key_id FROM pseudonyms UNION SELECT DISTINCT key_id FROM uids ORDER BY 1")
[ "$ids" = "$(sort "$WORK/id1" "$WORK/id2")" ] || fail "store key ids: $ids"
[ "$(sqlite3 "$WORK/a.db" "SELECT key_id FROM keys WHERE retired IS NOT NULL")" = "$(cat "$WORK/id1")" ] || fail "old key not retired in the store"
# the old key still resolves the old rows
expect_exit 0 "$KAKOU" lookup -q --db "$WORK/a.db" -k "$WORK/k1" --passphrase-file "$WORK/pf" "$pid" >/dev/null

# shred: nothing left, and a file that is not a store is refused
ls "$WORK"/a.db* > /dev/null
expect_exit 0 "$KAKOU" db shred --db "$WORK/a.db"
left=$(ls "$WORK" | grep '^a\.db' || true)
[ -z "$left" ] || fail "shred left: $left"
echo "not a store" > "$WORK/plain.db"
expect_exit 2 "$KAKOU" db shred --db "$WORK/plain.db" 2>/dev/null
[ -f "$WORK/plain.db" ] || fail "shred removed a file that is not a store"
finish
