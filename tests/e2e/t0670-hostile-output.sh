#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0670-hostile-output: the output cannot take the files.
#  - A file size limit (ulimit -f 16 KiB): the 39 KB input fails with
#    "file too large", where SIGXFSZ used to kill the whole batch and
#    leave its temporary file; the small good file is written; exit 1.
#  - A full disk (a 24 KiB tmpfs, when this user may mount one): "no space
#    left on the output device", the same way.
#  - A read-only output folder (as an unprivileged user, since root
#    writes anywhere): exit 2 before any input, the folder named.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
big="$CORPUS/image/pydicom__CT_small.dcm"
[ -f "$big" ] || skip "no $big"

( ulimit -f 16; hostile_batch fsize -- "$big"; exit $fails ) || fails=$((fails + 1))
grep -Fq "cannot write the output of '$big': file too large" "$WORK/fsize.err" \
    && ok "fsize: \"file too large\" names the input" \
    || { fail "fsize: no \"file too large\" message"; sed -n '1,3p' "$WORK/fsize.err" | sed 's/^/    /'; }

if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
    mkdir -p "$WORK/small"
    # a private mount namespace: nothing outlives the test
    unshare -m bash -c '
        mount -t tmpfs -o size=24k tmpfs "$1" || exit 77
        timeout -k 5 "$KK_TIMEOUT" "$KAKOU" deid -o "$1" "$2" "$3" 2>"$4"; rc=$?
        find "$1" -type f >"$5"; exit $rc' _ "$WORK/small" "$big" "$GOOD" "$WORK/full.err" "$WORK/full.files"
    rc=$?
    if [ $rc = 77 ]; then
        echo "note: cannot mount a tmpfs here: disk-full case skipped"
    else
        [ $rc = 1 ] && ok "full disk: exit 1" || fail "full disk: exit $rc, wanted 1"
        grep -Fq "cannot write the output of '$big': no space left on the output device" "$WORK/full.err" \
            && ok "full disk: \"no space left\" names the input" \
            || { fail "full disk: no \"no space left\" message"; sed -n '1,3p' "$WORK/full.err" | sed 's/^/    /'; }
        [ "$(grep -c '\.dcm$' "$WORK/full.files")" = 1 ] && ok "full disk: the good file is written" \
            || fail "full disk: outputs: $(cat "$WORK/full.files")"
        grep -q '/\.kakou-[^/]*tmp[^/]*$\|\.tmp$' "$WORK/full.files" && fail "full disk: temporary file left"
    fi
else
    echo "note: not root: disk-full case covered by ulimit -f only"
fi

# read-only output folder
mkdir -p "$WORK/ro"
chmod 555 "$WORK/ro"
chmod 755 "$WORK" "$H"
run_ro() { "$@"; }
if [ "$(id -u)" = 0 ]; then
    command -v setpriv >/dev/null || skip "root, and no setpriv to drop privileges"
    run_ro() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
fi
expect_exit 2 run_ro "$KAKOU" deid -o "$WORK/ro" "$GOOD" 2>"$WORK/ro.err" \
    && grep -Fq "'$WORK/ro'" "$WORK/ro.err" && ok "read-only folder: $(head -1 "$WORK/ro.err")"
[ -z "$(ls -A "$WORK/ro")" ] || fail "read-only folder: something was written"
expect_exit 2 run_ro "$KAKOU" deid -o "$WORK/ro/sub" "$GOOD" 2>"$WORK/ro2.err" \
    && grep -Fq "'$WORK/ro/sub'" "$WORK/ro2.err" && ok "under a read-only folder: $(head -1 "$WORK/ro2.err")"
finish
