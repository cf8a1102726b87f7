# SPDX-License-Identifier: Apache-2.0
# tests/e2e/hostile-lib.sh - helpers for the hostile-input tests (t06xx);
# source after lib.sh. Inputs come from tests/tools/make_hostile.py.

H="$WORK/in"
mkdir -p "$H"
"$PYTHON" "$TESTS/tools/make_hostile.py" good "$H" || { fail "make_hostile.py good"; finish; }
GOOD="$H/good.dcm"

# temporary files kakou may have left in a folder
leftovers() {
    find "$1" \( -name '*.tmp*' -o -name '.kakou-*tmp*' -o -name '*.part' -o -name '*~' \) 2>/dev/null
}

# hostile_batch NAME [KAKOU ARGS...] -- FILE...: run kakou deid on the
# FILEs and the good file, in one batch, into $WORK/NAME.out; stderr in
# $WORK/NAME.err. Asserts: exit 1 and no signal, no hang (60 s); the good
# file and only it is written; no temporary file is left.
hostile_batch() {
    local name=$1; shift
    local args=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
    shift
    local out="$WORK/$name.out"
    timeout -k 5 "$KK_TIMEOUT" "$KAKOU" deid ${args[@]+"${args[@]}"} -o "$out" "$@" "$GOOD" \
        >"$WORK/$name.stdout" 2>"$WORK/$name.err"
    local rc=$?
    if [ $rc = 124 ] || [ $rc = 137 ]; then
        fail "$name: hung (killed after 60 s)"
    elif [ $rc -gt 128 ]; then
        fail "$name: killed by signal $((rc - 128))"; sed -n '1,5p' "$WORK/$name.err" | sed 's/^/    /'
    elif [ $rc != 1 ]; then
        fail "$name: exit $rc, wanted 1"; sed -n '1,5p' "$WORK/$name.err" | sed 's/^/    /'
    else
        ok "$name: exit 1"
    fi
    local n
    n=$(find "$out" -type f -name '*.dcm' 2>/dev/null | wc -l)
    [ "$n" = 1 ] && ok "$name: the good file is written, nothing else" \
        || fail "$name: $n outputs, wanted 1 (the good file)"
    local t
    t=$(leftovers "$out")
    [ -z "$t" ] || fail "$name: temporary files left: $t"
}

# names FILE PATTERN NAME: stderr of batch NAME says "cannot read 'FILE':"
# followed by text matching the extended regex PATTERN
names() {
    if grep -F "cannot read '$1':" "$WORK/$3.err" | grep -Eq -- "$2"; then
        ok "$3: $(basename "$1"): $(grep -F "cannot read '$1':" "$WORK/$3.err" | head -1 | sed "s|.*'$1': ||")"
    else
        fail "$3: no \"cannot read '$1': /$2/\" on stderr"; sed -n '1,5p' "$WORK/$3.err" | sed 's/^/    /'
    fi
}
