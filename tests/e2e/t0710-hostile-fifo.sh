#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0710-hostile-fifo: only regular files are read. A FIFO (named pipe)
# nobody writes to would block open() for ever; a socket or a device is
# no file either. Given as an input, met in a walked folder (directly, or
# through a symlink) or given as the key file, each is refused at once
# with a message that names it and says what it is: exit 1 for an input
# (the rest of the batch is done), 2 for a key. Every run has a timeout,
# so a hang fails the test instead of stalling it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
command -v mkfifo >/dev/null || skip "no mkfifo"

S="$WORK/special"
mkdir -p "$S" "$WORK/batch"
mkfifo "$S/pipe.dcm"
"$PYTHON" -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$S/sock.dcm" \
    || fail "cannot make a socket"
cp "$GOOD" "$WORK/batch/a.dcm"
ln -s "$S/pipe.dcm" "$WORK/batch/b-link-to-fifo.dcm"
mkfifo "$WORK/batch/c-fifo.dcm"
cp "$TESTDATA/sample/ct-2.dcm" "$WORK/batch/d.dcm"

# run NAME WANT CMD...: CMD must end within 20 s with exit WANT; stderr in $WORK/NAME.err
run() {
    local name=$1 want=$2; shift 2
    timeout -k 2 20 "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    local rc=$?
    if [ $rc = 124 ] || [ $rc = 137 ]; then
        fail "$name: hung (killed after 20 s)"
    elif [ $rc != "$want" ]; then
        fail "$name: exit $rc, wanted $want"; sed -n '1,5p' "$WORK/$name.err" | sed 's/^/    /'
    else
        ok "$name: exit $want"
    fi
}
# says NAME TEXT: stderr of NAME holds TEXT (fixed string)
says() {
    if grep -Fq -- "$2" "$WORK/$1.err"; then ok "$1: says \"$2\""
    else fail "$1: no \"$2\" on stderr:"; sed -n '1,5p' "$WORK/$1.err" | sed 's/^/    /'; fi
}

# 1. a FIFO, a socket and a character device as inputs
run fifo-arg 1 "$KAKOU" deid -o "$WORK/o1" "$S/pipe.dcm" "$GOOD"
says fifo-arg "cannot read '$S/pipe.dcm': not a regular file but a FIFO (named pipe)"
n=$(find "$WORK/o1" -name '*.dcm' -type f | wc -l)
[ "$n" = 1 ] && ok "fifo-arg: the good input is written" || fail "fifo-arg: $n outputs, wanted 1"
run sock-arg 1 "$KAKOU" deid -o "$WORK/o2" "$S/sock.dcm"
says sock-arg "cannot read '$S/sock.dcm': not a regular file but a socket"
run dev-arg 1 "$KAKOU" deid -o "$WORK/o3" /dev/zero
says dev-arg "cannot read '/dev/zero': not a regular file but a character device"

# 2. in a walked folder: a symlink to a FIFO, and a FIFO; the files around them are done
run fifo-walk 1 "$KAKOU" deid -o "$WORK/o4" "$WORK/batch"
says fifo-walk "cannot read '$WORK/batch/b-link-to-fifo.dcm': not a regular file but a FIFO"
says fifo-walk "cannot read '$WORK/batch/c-fifo.dcm': not a regular file but a FIFO"
grep -q 'read 2, written 2, skipped 0, failed 2' "$WORK/fifo-walk.err" \
    && ok "fifo-walk: 2 written, 2 failed" \
    || { fail "fifo-walk: summary is not 'read 2, written 2, skipped 0, failed 2'"; tail -1 "$WORK/fifo-walk.err"; }

# 3. verify, explain and review, which read through the library
run fifo-verify 1 "$KAKOU" verify "$S/pipe.dcm"
says fifo-verify "'$S/pipe.dcm': not a regular file but a FIFO"
run fifo-explain 1 "$KAKOU" explain "$S/pipe.dcm"
says fifo-explain "'$S/pipe.dcm': not a regular file but a FIFO"
run fifo-explain-link 1 "$KAKOU" explain "$WORK/batch/b-link-to-fifo.dcm"
says fifo-explain-link "not a regular file but a FIFO"

# 4. the key file: exit 2 before any input is read
run fifo-key 2 "$KAKOU" deid -k "$S/pipe.dcm" -o "$WORK/o5" "$GOOD"
says fifo-key "key file '$S/pipe.dcm' is not a regular file"
run sock-key 2 "$KAKOU" deid -k "$S/sock.dcm" -o "$WORK/o6" "$GOOD"
says sock-key "key file '$S/sock.dcm' is not a regular file"
[ ! -e "$WORK/o5" ] || [ -z "$(find "$WORK/o5" -name '*.dcm')" ] && ok "fifo-key: nothing written" \
    || fail "fifo-key: outputs written with a FIFO as key"
finish
