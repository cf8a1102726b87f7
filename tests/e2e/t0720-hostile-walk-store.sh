#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0720-hostile-walk-store: folder structure and where things go.
#  - Folders nested deeper than the walk's limit (64 below the input) are
#    failures named with their path (exit 1), not dropped with exit 0.
#  - A symlinked folder is followed (its files are written, exit 0); a
#    symlink back to a folder above (a loop) is a warning, not a failure.
#  - -o naming a regular file: exit 2 before any input is read.
#  - A store on read-only media (a read-only bind mount, in a private
#    mount namespace): deid and lookup say it is read-only and stop with
#    exit 2; 'kakou db verify' opens it read-only and verifies it (its structure; with -k every MAC).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
A="$TESTDATA/sample/ct-1.dcm"
B="$TESTDATA/sample/ct-2.dcm"

# --- 1. deeper than 64 folders --------------------------------------------
deep="$WORK/deep"
d="$deep"
for i in $(seq 66); do d="$d/d$i"; done
mkdir -p "$d"
cp "$A" "$deep/top.dcm"
cp "$B" "$d/bottom.dcm"
too_deep="$deep$(for i in $(seq 65); do printf '/d%s' "$i"; done)"
expect_exit 1 "$KAKOU" deid -o "$WORK/o1" "$deep" 2>"$WORK/deep.err" && ok "deep: exit 1"
grep -Fq "cannot read folder '$too_deep': nested more than 64 folders deep" "$WORK/deep.err" \
    && ok "deep: the folder not read is named" \
    || { fail "deep: folder not named"; sed -n 1,3p "$WORK/deep.err" | cut -c1-300; }
grep -q 'read 1, written 1, skipped 0, failed 1' "$WORK/deep.err" && ok "deep: counted as failed" \
    || { fail "deep: summary"; tail -1 "$WORK/deep.err"; }
# 64 deep is still read
d64="$WORK/d64"; d="$d64"
for i in $(seq 64); do d="$d/d$i"; done
mkdir -p "$d"; cp "$B" "$d/bottom.dcm"
expect_exit 0 "$KAKOU" deid -q -o "$WORK/o1b" "$d64" && ok "64 folders deep: read, exit 0"
[ "$(find "$WORK/o1b" -name '*.dcm' | wc -l)" = 1 ] || fail "64 deep: no output"

# --- 2. symlinked folders, and a loop --------------------------------------
mkdir -p "$WORK/elsewhere/sub" "$WORK/tree/real"
cp "$A" "$WORK/tree/real/a.dcm"
cp "$B" "$WORK/elsewhere/sub/b.dcm"
ln -s "$WORK/elsewhere" "$WORK/tree/linked"
ln -s .. "$WORK/tree/real/loop"
expect_exit 0 "$KAKOU" deid -o "$WORK/o2" "$WORK/tree" 2>"$WORK/link.err" && ok "links: exit 0"
grep -q 'read 2, written 2, skipped 0, failed 0' "$WORK/link.err" \
    && ok "links: the file in the symlinked folder is written, the loop is not failed" \
    || { fail "links: summary"; cat "$WORK/link.err"; }
grep -Fq "'$WORK/tree/real/loop' links to a folder it is in" "$WORK/link.err" \
    && ok "links: the loop is noted" || fail "links: the loop is not noted"

# --- 3. -o names a file ------------------------------------------------------
: > "$WORK/not-a-folder"
expect_exit 2 "$KAKOU" deid -o "$WORK/not-a-folder" "$A" "$B" 2>"$WORK/o.err" && ok "-o file: exit 2"
grep -Fq "output folder '$WORK/not-a-folder' is not a folder" "$WORK/o.err" \
    && ok "-o file: says so" || { fail "-o file: message"; cat "$WORK/o.err"; }
grep -q 'read [0-9]' "$WORK/o.err" && fail "-o file: inputs were read" || ok "-o file: no input read"
[ -s "$WORK/not-a-folder" ] && fail "-o file: the file was written to" || true

# --- 4. a store on read-only media -------------------------------------------
mkdir -p "$WORK/ro"
"$KAKOU" key new "$WORK/k" >/dev/null || fail "key new"
expect_exit 0 "$KAKOU" deid -q -p jp-pseudonymized -k "$WORK/k" --db "$WORK/ro/s.db" -o "$WORK/o4" "$A" \
    || { finish; }
uid=$(dcmdump -q +P 0008,0018 "$(find "$WORK/o4" -name '*.dcm' | head -1)" | sed -n 's/.*\[\(.*\)\].*/\1/p')
[ -n "$uid" ] || fail "no SOP Instance UID in the output"
rm -f "$WORK/ro/s.db-wal" "$WORK/ro/s.db-shm"

if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
    unshare -m --propagation private bash -c '
        mount --bind "$1/ro" "$1/ro" && mount -o remount,bind,ro "$1/ro" || exit 77
        K=$2
        touch "$1/ro/probe" 2>/dev/null && { echo "not read-only"; exit 77; }
        $K db verify --db "$1/ro/s.db" >"$1/v.out" 2>"$1/v.err"; echo "verify $?"
        $K db verify --db "$1/ro/s.db" -k "$1/k" >"$1/vk.out" 2>"$1/vk.err"; echo "verifyk $?"
        $K lookup --db "$1/ro/s.db" -k "$1/k" --uid "$3" >"$1/l.out" 2>"$1/l.err"; echo "lookup $?"
        $K deid -q -p jp-pseudonymized -k "$1/k" --db "$1/ro/s.db" -o "$1/o5" "$4" 2>"$1/d.err"; echo "deid $?"
        ls "$1/ro" | tr "\n" " " >"$1/ls.after"
    ' ro "$WORK" "$KAKOU" "$uid" "$B" >"$WORK/ro.rc"
    rc=$?
    if [ $rc = 77 ]; then
        echo "note: cannot make a read-only bind mount here: read-only store not checked"
    else
        grep -qx 'verify 0' "$WORK/ro.rc" && ok "read-only store: db verify exits 0" \
            || { fail "read-only store: db verify: $(grep verify "$WORK/ro.rc")"; cat "$WORK/v.err"; }
        grep -Fq "audit log structure verifies" "$WORK/v.out" && ok "read-only store: audit log structure verifies" \
            || fail "read-only store: verify did not say the log's structure verifies"
        # with the key: every row's MAC, read-only too (issue 19)
        grep -qx 'verifyk 0' "$WORK/ro.rc" && grep -Fq "audit log verifies" "$WORK/vk.out" \
            && ok "read-only store: keyed db verify exits 0" \
            || { fail "read-only store: keyed db verify: $(grep verifyk "$WORK/ro.rc")"; cat "$WORK/vk.err"; }
        grep -qx 'deid 2' "$WORK/ro.rc" && ok "read-only store: deid exits 2" \
            || fail "read-only store: deid: $(grep deid "$WORK/ro.rc")"
        grep -Fq "store '$WORK/ro/s.db' is read-only: the file is read-only (Read-only file system)" "$WORK/d.err" \
            && ok "read-only store: deid says it is read-only" \
            || { fail "read-only store: deid message"; cat "$WORK/d.err"; }
        grep -qx 'lookup 2' "$WORK/ro.rc" && ok "read-only store: lookup exits 2 (it must log, R07)" \
            || fail "read-only store: lookup: $(grep lookup "$WORK/ro.rc")"
        grep -Fq "is read-only" "$WORK/l.err" && ok "read-only store: lookup says it is read-only" \
            || { fail "read-only store: lookup message"; cat "$WORK/l.err"; }
        [ "$(cat "$WORK/ls.after")" = "s.db " ] && ok "read-only store: nothing created beside it" \
            || fail "read-only store: files beside it: $(cat "$WORK/ls.after")"
    fi
else
    echo "note: not root, or no mount namespace: read-only store not checked"
fi
# writable again: db verify still reads the same store (read-only open, WAL on)
expect_exit 0 "$KAKOU" db verify --db "$WORK/ro/s.db" >/dev/null && ok "writable store: db verify exits 0"
expect_exit 0 "$KAKOU" db verify --db "$WORK/ro/s.db" -k "$WORK/k" >/dev/null && ok "writable store: keyed db verify exits 0"
finish
