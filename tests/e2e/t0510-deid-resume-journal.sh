#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0510: resume without a store (issue 5): the journal in OUTDIR lets a
# re-run of the same command skip inputs done; a run killed with kill -9
# and run again ends with the same output as a clean run, nothing
# duplicated and no temp files; a torn last journal line is tolerated.
. "$TESTS/e2e/lib.sh"

expect_exit 0 "$KAKOU" key new "$WORK/k" >/dev/null
big="$WORK/big"; mkdir -p "$big"
for i in $(seq 1 12); do mkdir -p "$big/$i"; cp "$CORPUS"/image/*.dcm "$big/$i/" 2>/dev/null; done
run() { "$KAKOU" deid -q -k "$WORK/k" "$@" "$big" 2>/dev/null; }

# the reference: one clean run
run -j2 -o "$WORK/ref"; ref_rc=$?
(cd "$WORK/ref" && find . -name '*.dcm' | sort) > "$WORK/ref.list"
[ -s "$WORK/ref.list" ] || fail "no output"
[ -s "$WORK/ref/.kakou-journal" ] || fail "no journal"
# the journal holds ids and output names only: no input path
if grep -q "$big" "$WORK/ref/.kakou-journal"; then fail "journal names an input"; fi

# a second run does nothing new
"$KAKOU" deid -k "$WORK/k" -o "$WORK/ref" "$big" 2>"$WORK/again.err"
grep -q "written 0," "$WORK/again.err" || fail "re-run wrote again: $(tail -1 "$WORK/again.err")"
grep -q "done before" "$WORK/again.err" || fail "re-run did not skip: $(tail -1 "$WORK/again.err")"

# kill -9 at several points, then finish
for delay in 0.2 0.5 0.9; do
    "$KAKOU" deid -q -j2 -k "$WORK/k" -o "$WORK/r" "$big" 2>/dev/null &
    pid=$!
    sleep $delay
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
done
# outputs are written as unnamed files (O_TMPFILE) where the file system
# has them: a killed run leaves no temporary file even before a re-run
if "$PYTHON" -c 'import os,sys; os.close(os.open(sys.argv[1], os.O_TMPFILE | os.O_WRONLY, 0o600))' \
        "$WORK/r" 2>/dev/null; then
    [ -z "$(find "$WORK/r" -name '*.tmp')" ] || fail "a killed run left temporary files"
fi
run -j2 -o "$WORK/r"; rc=$?
[ $rc = $ref_rc ] || fail "resumed run exit $rc, clean run $ref_rc"
(cd "$WORK/r" && find . -name '*.dcm' | sort) > "$WORK/r.list"
cmp -s "$WORK/r.list" "$WORK/ref.list" || fail "resumed output differs from a clean run"
[ -z "$(find "$WORK/r" -name '*.tmp')" ] || fail "temp files left after kill -9"
for f in $(cat "$WORK/r.list"); do cmp -s "$WORK/r/$f" "$WORK/ref/$f" || fail "$f differs from the clean run"; done
# each input is in the journal once or (after a lost line) twice, never more
dups=$(cut -d' ' -f1 "$WORK/r/.kakou-journal" | grep -v '^#' | sort | uniq -c | awk '$1 > 2' | wc -l)
[ "$dups" = 0 ] || fail "$dups inputs journaled more than twice"

# a torn last line (power loss) is ignored, and the next line is whole
printf '0123456789abcdef0123' >> "$WORK/r/.kakou-journal"
run -o "$WORK/r"
tail -c 1 "$WORK/r/.kakou-journal" | od -c | grep -q '\\n' || fail "journal does not end with a newline"
"$KAKOU" deid -k "$WORK/k" -o "$WORK/r" "$big" 2>"$WORK/torn.err"
grep -q "written 0," "$WORK/torn.err" || fail "after a torn line: $(tail -1 "$WORK/torn.err")"

# without a key file there is no journal (UIDs change every run)
"$KAKOU" deid -q -o "$WORK/nokey" "$CORPUS"/image/pydicom__CT_small.dcm 2>/dev/null
[ ! -e "$WORK/nokey/.kakou-journal" ] || fail "journal written without a key"
finish
