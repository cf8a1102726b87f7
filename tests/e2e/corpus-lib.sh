# SPDX-License-Identifier: Apache-2.0
# tests/e2e/corpus-lib.sh - helpers for the corpus tests; source after lib.sh.

MANIFEST="$CORPUS/MANIFEST.tsv"

# manifest PATH COLUMN: a MANIFEST.tsv field of a corpus file (path relative
# to the corpus, e.g. image/pydicom__CT_small.dcm).
manifest() {
    awk -F'\t' -v p="$1" -v c="$2" '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        $1 == p { print $col[c]; exit }' "$MANIFEST"
}

# corpus_files DIR...: the .dcm files of corpus folders, sorted, one a line.
corpus_files() {
    local d
    for d in "$@"; do find "$CORPUS/$d" -type f -name '*.dcm'; done | sort
}

# deid_each OUTROOT ARGS... -- FILE...: run kakou deid on each FILE alone,
# into OUTROOT/N (N = 1, 2, ...), with the extra ARGS. Writes
# OUTROOT/index.tsv: N, input, exit status, number of files written, and
# OUTROOT/N.err (stderr). A run is killed after 60 s (status 124).
# Maps outputs back to inputs without relying on file names.
deid_each() {
    local root=$1; shift
    local args=() f n=0 rc
    while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
    shift
    mkdir -p "$root"
    : >"$root/index.tsv"
    for f in "$@"; do
        n=$((n + 1))
        timeout -k 5 "$KK_TIMEOUT" "$KAKOU" deid ${args[@]+"${args[@]}"} -o "$root/$n" "$f" 2>"$root/$n.err" >/dev/null
        rc=$?
        printf '%s\t%s\t%s\t%s\n' "$n" "$f" "$rc" \
            "$(find "$root/$n" -type f 2>/dev/null | wc -l)" >>"$root/index.tsv"
    done
}

# the only output file of run N (empty if none or several)
deid_output() {
    local files
    files=$(find "$1/$2" -type f 2>/dev/null)
    [ "$(printf '%s' "$files" | grep -c .)" = 1 ] && printf '%s\n' "$files"
}

# make_seed_sets SEED...: make_burned.py's set of each SEED in $WORK/setSEED
# (T: the tests/tools folder)
make_seed_sets() {
    local seed
    for seed in "$@"; do
        "$PYTHON" "$T/make_burned.py" --seed "$seed" "$WORK/set$seed" >/dev/null ||
            fail "make_burned.py --seed $seed"
    done
}

# judge_burned NAME SETDIR [--only] FILE...: each file of a make_burned.py
# set through jp-anonymized on its own, then synthetic_recall.py on the
# outputs (T: the tests/tools folder)
judge_burned() {
    local name=$1 set=$2 only=
    shift 2
    [ "$1" = --only ] && { only=--only; shift; }
    local out="$WORK/out-$name" map="$WORK/map-$name.tsv"
    deid_each "$out" -q -p jp-anonymized --no-release -- "$@"
    : >"$map"
    while IFS=$'\t' read -r n f rc nout; do
        [ "$rc" = 0 ] && [ "$nout" = 1 ] || fail "$name $(basename "$f"): exit $rc, $nout output(s)"
        printf '%s\t%s\n' "$(basename "$f")" "$(deid_output "$out" "$n")" >>"$map"
    done <"$out/index.tsv"
    [ "$(wc -l <"$map")" = $# ] || fail "$name: $(wc -l <"$map") of $# outputs"
    if "$PYTHON" "$T/synthetic_recall.py" $only "$set" "$map" >"$WORK/recall-$name"; then
        ok "$name: $(tr '\n' ';' <"$WORK/recall-$name")"
    else
        fail "$name: $(tr '\n' ';' <"$WORK/recall-$name")"
    fi
}
