#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0140-deid-malformed: broken inputs never crash or hang kakou deid.
# Each corpus/malformed file alone: no signal, no hang (60 s), exit 0 or 1;
# exit 1 names the file on stderr ("cannot read 'PATH'") and writes
# nothing; exit 0 writes at most one file, which dcmdump must read; no
# temporary file is left behind. Then all malformed files plus one good
# file in one run: the good file is written, the run exits 1, and every
# file that failed alone is named.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/corpus-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
T="$TESTS/tools"

mapfile -t FILES < <(corpus_files malformed)
[ ${#FILES[@]} -gt 10 ] || { fail "only ${#FILES[@]} malformed files found"; finish; }
R="$WORK/each"
deid_each "$R" -- "${FILES[@]}"

leftovers() {
    find "$1" \( -name '*.tmp*' -o -name '.kakou-tmp*' -o -name '*.part' -o -name '*~' \) 2>/dev/null
}

failed=()
while IFS=$'\t' read -r n f rc nout; do
    rel=${f#"$CORPUS/"}
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        fail "$rel: hung (killed after 60 s)"; continue
    elif [ "$rc" -gt 128 ]; then
        fail "$rel: killed by signal $((rc - 128))"; sed -n '1,5p' "$R/$n.err" | sed 's/^/    /'; continue
    fi
    t=$(leftovers "$R/$n")
    [ -z "$t" ] || fail "$rel: temporary files left: $t"
    case "$rc" in
    0)
        if [ "$nout" -gt 1 ]; then
            fail "$rel: exit 0 but $nout outputs"
        elif [ "$nout" = 1 ]; then
            out=$(deid_output "$R" "$n")
            dcmdump -q "$out" >/dev/null 2>"$WORK/dd.err" \
                || { fail "$rel: exit 0 but dcmdump rejects the output"; sed -n '1,3p' "$WORK/dd.err" | sed 's/^/    /'; }
            [ -s "$out" ] || fail "$rel: empty output file"
        fi
        echo "note: $rel: exit 0, $nout output(s)" ;;
    1)
        failed+=("$f")
        grep -qF "cannot read '$f'" "$R/$n.err" \
            || { fail "$rel: exit 1 without \"cannot read '$f'\" on stderr"; sed -n '1,3p' "$R/$n.err" | sed 's/^/    /'; }
        [ "$nout" = 0 ] || fail "$rel: exit 1 but $nout file(s) written"
        echo "note: $rel: exit 1: $(grep -F "cannot read" "$R/$n.err" | head -1 | sed 's/.*: //')" ;;
    *)
        fail "$rel: exit $rc, wanted 0 or 1"; sed -n '1,3p' "$R/$n.err" | sed 's/^/    /' ;;
    esac
done <"$R/index.tsv"
[ ${#failed[@]} -gt 0 ] || fail "no malformed file was refused (dcmtk cannot read several of them)"

# all malformed files and one good file in one run
good="$CORPUS/image/pydicom__CT_small.dcm"
goodmd5=$("$PYTHON" "$T/dcm_check.py" pixmd5 "$good")
B="$WORK/batch"
timeout -k 5 120 "$KAKOU" deid -o "$B" "${FILES[@]}" "$good" 2>"$WORK/batch.err"
rc=$?
if [ $rc -gt 128 ] || [ $rc = 124 ]; then
    fail "batch run killed or hung (exit $rc)"
else
    [ $rc = 1 ] && ok "batch exit 1" || fail "batch exit $rc, wanted 1"
fi
found=0
for o in $(find "$B" -type f -name '*.dcm' 2>/dev/null); do
    [ "$("$PYTHON" "$T/dcm_check.py" pixmd5 "$o")" = "$goodmd5" ] && found=1
done
[ $found = 1 ] && ok "good file written" || fail "the good file was not written by the batch run"
for f in "${failed[@]}"; do
    grep -qF "cannot read '$f'" "$WORK/batch.err" || fail "batch run does not name '${f#"$CORPUS/"}'"
done
t=$(leftovers "$B")
[ -z "$t" ] || fail "batch: temporary files left: $t"
finish
