#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0110-deid-corpus-valid: every corpus file dcmtk can read is de-identified
# (dicom-basic) into exactly one output that dcmdump, gdcmdump and pydicom
# read without error; one batch run over all folders agrees with the
# per-file runs. Files dcmtk cannot read must fail with exit 1 and be named.
# DICOMDIR files may be de-identified or skipped (exit 0) or refused (1).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/corpus-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
T="$TESTS/tools"
DIRS="ts image charset private sr_rt burned_in dicomdir"

mapfile -t FILES < <(corpus_files $DIRS)
[ ${#FILES[@]} -gt 100 ] || { fail "only ${#FILES[@]} corpus files found under $CORPUS"; finish; }

# 1. one file at a time, so each output maps to its input
R="$WORK/each"
deid_each "$R" -q -- "${FILES[@]}"
want_total=0 want_rc=0
: >"$WORK/outputs"
while IFS=$'\t' read -r n f rc nout; do
    rel=${f#"$CORPUS/"}
    dcmtk=$(manifest "$rel" parses_dcmtk)
    gdcm=$(manifest "$rel" parses_gdcm)
    if [ "$rc" -gt 128 ] || [ "$rc" = 124 ]; then
        fail "$rel: killed or hung (exit $rc)"; continue
    fi
    case "$rel" in
    dicomdir/*)
        if [ "$rc" = 0 ] && [ "$nout" -le 1 ]; then
            echo "note: $rel: exit 0, $nout output(s)"
        elif [ "$rc" = 1 ] && grep -qF "cannot read '$f'" "$R/$n.err"; then
            echo "note: $rel: refused: $(head -1 "$R/$n.err")"
        else
            fail "$rel: exit $rc, $nout outputs"; sed -n '1,3p' "$R/$n.err" | sed 's/^/    /'
        fi ;;
    *)
        if [ "$dcmtk" = N ]; then
            [ "$rc" = 1 ] || fail "$rel: dcmtk cannot read it, yet exit $rc"
            grep -qF "cannot read '$f'" "$R/$n.err" || fail "$rel: not named on stderr"
        elif [ "$rc" != 0 ] || [ "$nout" != 1 ]; then
            fail "$rel: exit $rc, $nout output(s), wanted exit 0 and 1 output"
            sed -n '1,3p' "$R/$n.err" | sed 's/^/    /'
        fi ;;
    esac
    [ "$rc" = 1 ] && want_rc=1
    want_total=$((want_total + nout))
    [ "$nout" = 1 ] || continue
    out=$(deid_output "$R" "$n")
    printf '%s\n' "$out" >>"$WORK/outputs"
    # 2. each output reads in dcmtk and gdcm
    if ! dcmdump -q "$out" >/dev/null 2>"$WORK/dd.err"; then
        fail "$rel: dcmdump rejects the output"; sed -n '1,3p' "$WORK/dd.err" | sed 's/^/    /'
    fi
    if [ "$gdcm" = Y ] && ! gdcmdump "$out" >/dev/null 2>"$WORK/gd.err"; then
        fail "$rel: gdcmdump rejects the output"; sed -n '1,3p' "$WORK/gd.err" | sed 's/^/    /'
    fi
done <"$R/index.tsv"
echo "per-file runs: ${#FILES[@]} inputs, $want_total outputs"

# 3. pydicom reads every output fully (meta, all elements, pixel bytes)
if [ -s "$WORK/outputs" ]; then
    if "$PYTHON" "$T/dcm_check.py" parse $(cat "$WORK/outputs") >"$WORK/parse"; then
        ok "pydicom parses all $(wc -l <"$WORK/outputs") outputs"
    else
        while read -r line; do
            o=$(printf '%s' "$line" | sed -n 's/^FAIL parse \([^:]*\):.*/\1/p')
            n=$(basename "$(dirname "$(dirname "$(dirname "$o")")")")
            fail "pydicom: $(awk -F'\t' -v n="$n" '$1 == n { print $2 }' "$R/index.tsv" | sed "s|$CORPUS/||"): ${line#*: }"
        done < <(grep '^FAIL' "$WORK/parse")
    fi
fi

# 4. one batch run over the folders does what the single runs did. Inputs
# that share a SOP Instance UID (the same instance in several transfer
# syntaxes) map to one output path; all but one of each group must then be
# reported, not silently overwritten.
awk -F'\t' '$4 == 1 { print $2 }' "$R/index.tsv" >"$WORK/written-inputs"
"$PYTHON" "$T/dcm_check.py" sopuid $(cat "$WORK/written-inputs") | sort >"$WORK/relpaths"
awk -F'\t' '$1 != ""' "$WORK/relpaths" | cut -f1 | uniq -d >"$WORK/dups"
args=()
for d in $DIRS; do args+=("$CORPUS/$d"); done
timeout -k 5 300 "$KAKOU" deid -o "$WORK/batch" "${args[@]}" 2>"$WORK/batch.err"
rc=$?
nb=$(find "$WORK/batch" -type f 2>/dev/null | wc -l)
# inputs that share a SOP Instance UID but differ cannot all be written:
# the batch then fails them (exit 1), each named
if [ -s "$WORK/dups" ] && [ "$want_rc" = 0 ]; then want_rc=1; fi
[ "$rc" = "$want_rc" ] && ok "batch exit $rc" || fail "batch run exit $rc, expected $want_rc"
claimed=$(sed -n 's/.*written \([0-9][0-9]*\).*/\1/p' "$WORK/batch.err" | tail -1)
[ -z "$claimed" ] || [ "$claimed" = "$nb" ] \
    || fail "batch summary says $claimed written, but $nb files are in OUTDIR"
if [ "$nb" = "$want_total" ]; then
    ok "batch wrote $nb files"
else
    echo "note: batch run wrote $nb files, the single runs $want_total"
    while read -r dup; do
        grp=$(awk -F'\t' -v d="$dup" '$1 == d { print $2 }' "$WORK/relpaths")
        named=0 size=0
        while read -r g; do
            size=$((size + 1))
            grep -qF "'$g'" "$WORK/batch.err" && named=$((named + 1))
        done <<<"$grp"
        if [ $named -lt $((size - 1)) ]; then
            fail "inputs with one SOP Instance UID silently share one output ($named of $size named on stderr):"
            printf '%s\n' "$grp" | sed "s|$CORPUS/||; s/^/    /"
        fi
    done <"$WORK/dups"
    [ -s "$WORK/dups" ] || fail "batch run wrote $nb files, the single runs $want_total"
fi
finish
