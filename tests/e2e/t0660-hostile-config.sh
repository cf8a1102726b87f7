#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0660-hostile-config: configuration that cannot work stops the run
# before any input is read, with exit 2 and a message naming the file and
# the problem: a profile that includes itself (directly, and through a
# second file), a key file of the wrong size, a key file that group or
# others can read. Nothing is written and no store is created.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"

check2() { # NAME PATTERN KAKOU-ARGS...: exit 2, PATTERN on stderr, no output
    local name=$1 pat=$2; shift 2
    if expect_exit 2 "$KAKOU" "$@" 2>"$WORK/$name.err"; then
        grep -Eq -- "$pat" "$WORK/$name.err" && ok "$name: $(head -1 "$WORK/$name.err")" \
            || { fail "$name: no /$pat/ on stderr"; sed -n '1,3p' "$WORK/$name.err" | sed 's/^/    /'; }
    fi
    [ -z "$(find "$WORK/out" -type f 2>/dev/null)" ] || fail "$name: something was written"
}

printf 'profile loop\nversion 1\ninherit dicom-basic\ninclude loop.kkp\n' >"$WORK/loop.kkp"
check2 self-include "loop.kkp:4:9: 'loop.kkp' includes itself" deid -p "$WORK/loop.kkp" -o "$WORK/out" "$GOOD"
printf 'profile a\ninclude b.kkp\n' >"$WORK/a.kkp"
printf 'profile b\ninclude a.kkp\n' >"$WORK/b.kkp"
check2 mutual-include "b.kkp:2:9: 'a.kkp' includes itself" deid -p "$WORK/a.kkp" -o "$WORK/out" "$GOOD"
check2 lint-self-include "includes itself" profile lint "$WORK/loop.kkp"

head -c 10 /dev/urandom >"$WORK/short.key"
chmod 600 "$WORK/short.key"
check2 key-size "'$WORK/short.key' is not a kakou key file \(size 10" \
    deid -p jp-pseudonymized -k "$WORK/short.key" --db "$WORK/s.db" -o "$WORK/out" "$GOOD"
"$KAKOU" key new "$WORK/open.key" >/dev/null 2>&1 || fail "kakou key new"
chmod 644 "$WORK/open.key"
check2 key-mode "key file '$WORK/open.key' has mode 0644.*chmod 600" \
    deid -p jp-pseudonymized -k "$WORK/open.key" --db "$WORK/s.db" -o "$WORK/out" "$GOOD"
[ -e "$WORK/s.db" ] && fail "a store was created for a run that could not start"
finish
