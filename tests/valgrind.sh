#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tests/valgrind.sh - make check-valgrind: the real CLI under valgrind's
# memcheck, on real and hostile files. Each run fails on any memcheck
# report (invalid read or write, use of an uninitialised value, a bad
# free, a definite or indirect leak: --error-exitcode), on a signal, and
# on an exit status it does not expect. tests/valgrind.supp holds the
# only suppressions, all for third-party code (it says why for each).
#
# What runs (a few minutes on 2 cores):
#   deid   the whole shared corpus (dicom-basic, 2 threads); the planted
#          set (tests/tools/make_planted.py) with jp-pseudonymized, a key
#          and a store; the hostile files (tests/tools/make_hostile.py:
#          lengths, pixel claims, character sets, deep nesting, many
#          elements); burned-in text found and painted out (jp-anonymized:
#          OpenCV, Tesseract, the codecs) on a sample of images
#   verify the outputs of each
#   explain a sample of corpus files, a planted and a hostile one
#   lookup and db verify on the store
# Environment: KAKOU, SHARED, PYTHON, TESTS (tests/), as for tests/run.sh;
# T=pattern runs only the runs whose name matches (e.g. T=deid-corpus).
set -u
: "${KAKOU:?}" "${SHARED:?}" "${PYTHON:=/usr/bin/python3}"
TESTS=${TESTS:-$(cd "$(dirname "$0")" && pwd)}
command -v valgrind >/dev/null || { echo "check-valgrind: valgrind is not installed (scripts/deps.sh)"; exit 1; }
CORPUS="$SHARED/corpus"
[ -f "$CORPUS/MANIFEST.tsv" ] || { echo "check-valgrind: no corpus at $CORPUS"; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/kakou-valgrind.XXXXXX")
trap 'rm -rf "$W"' EXIT

VG=(valgrind -q --error-exitcode=99 --leak-check=full
    --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect
    --trace-children=yes --num-callers=40 --suppressions="$TESTS/valgrind.supp")
passed=0 failed=0 start=$(date +%s)

# vg NAME "WANT..." CMD...: CMD under memcheck must exit with one of WANT
# and leave no report.
vg() {
    local name=$1 want=$2; shift 2
    case "$name" in *${T:-}*) ;; *) return 0 ;; esac
    local t0 rc
    t0=$(date +%s)
    "${VG[@]}" --log-file="$W/$name.vg.%p" "$@" >"$W/$name.out" 2>"$W/$name.err"
    rc=$?
    local report
    report=$(cat "$W/$name".vg.* 2>/dev/null)
    if [ -n "$report" ] || [ $rc = 99 ]; then
        echo "FAIL: $name: memcheck reports:"; printf '%s\n' "$report" | head -80 | sed 's/^/    /'
        failed=$((failed + 1))
    elif [ $rc -gt 128 ]; then
        echo "FAIL: $name: killed by signal $((rc - 128))"; tail -5 "$W/$name.err" | sed 's/^/    /'
        failed=$((failed + 1))
    elif ! printf ' %s ' $want | grep -q " $rc "; then
        echo "FAIL: $name: exit $rc, wanted $want"; tail -5 "$W/$name.err" | sed 's/^/    /'
        failed=$((failed + 1))
    else
        echo "PASS: $name (exit $rc, $(( $(date +%s) - t0 ))s)"
        passed=$((passed + 1))
    fi
}
# count DIR: the number of .dcm files below DIR (a run that wrote nothing proves nothing)
count() { find "$1" -type f -name '*.dcm' 2>/dev/null | wc -l; }
need() { # need WHAT N MIN
    case "$1" in *${T:-}*) ;; *) return 0 ;; esac
    if [ "$2" -lt "$3" ]; then echo "FAIL: $1: $2 files, wanted at least $3"; failed=$((failed + 1)); fi
}

"$KAKOU" key new "$W/key" >/dev/null || { echo "check-valgrind: kakou key new failed"; exit 1; }

# --- the corpus --------------------------------------------------------
# exit 1: the corpus holds malformed files, which fail (named)
vg deid-corpus "1" "$KAKOU" deid -j 2 -o "$W/corpus.out" "$CORPUS"
need deid-corpus "$(count "$W/corpus.out")" 250
vg verify-corpus "0 1" "$KAKOU" verify "$W/corpus.out"
n=0
for f in $(cut -f1 "$CORPUS/MANIFEST.tsv" | grep '\.dcm$' | awk 'NR % 25 == 1'); do
    n=$((n + 1))
    vg "explain-corpus-$n" "0 1" "$KAKOU" explain "$CORPUS/$f"
done
need explain-corpus $n 5

# --- the planted set, pseudonymized with a key and a store ---------------
"$PYTHON" "$TESTS/tools/make_planted.py" "$W/planted" >/dev/null || { echo "FAIL: make_planted.py"; exit 1; }
vg deid-planted "0" "$KAKOU" deid -p jp-pseudonymized -k "$W/key" --db "$W/store.db" \
    -o "$W/planted.out" "$W/planted/dicom"
need deid-planted "$(count "$W/planted.out")" 3
vg verify-planted "0" "$KAKOU" verify -p jp-pseudonymized -k "$W/key" --db "$W/store.db" "$W/planted.out"
vg explain-planted "0" "$KAKOU" explain -p jp-pseudonymized -k "$W/key" \
    "$(find "$W/planted/dicom" -name '*.dcm' | sort | head -1)"
uid=$(dcmdump -q +P 0008,0018 "$(find "$W/planted.out" -name '*.dcm' | sort | head -1)" 2>/dev/null |
      sed -n 's/.*\[\(.*\)\].*/\1/p')
vg lookup-planted "0" "$KAKOU" lookup --db "$W/store.db" -k "$W/key" --uid "$uid"
vg db-verify "0" "$KAKOU" db verify --db "$W/store.db"

# --- the hostile files -----------------------------------------------------
M="$TESTS/tools/make_hostile.py"
"$PYTHON" "$M" good "$W/hostile" && "$PYTHON" "$M" lengths "$W/hostile/lengths" &&
"$PYTHON" "$M" pixels "$W/hostile/pixels" && "$PYTHON" "$M" charset "$W/hostile/charset" &&
"$PYTHON" "$M" deep "$W/hostile/deep" 10000 && "$PYTHON" "$M" deep "$W/hostile/deep150" 150 &&
"$PYTHON" "$M" many "$W/hostile/many" 20000 || { echo "FAIL: make_hostile.py"; exit 1; }
vg deid-hostile "1" "$KAKOU" deid -j 2 -o "$W/hostile.out" "$W/hostile"
need deid-hostile "$(count "$W/hostile.out")" 1
vg verify-hostile "0 1" "$KAKOU" verify "$W/hostile.out" "$W/hostile/lengths" "$W/hostile/pixels" \
    "$W/hostile/charset" "$W/hostile/deep"
n=0
for f in $(find "$W/hostile" -name '*.dcm' | sort | awk 'NR % 4 == 1'); do
    n=$((n + 1))
    vg "explain-hostile-$n" "0 1" "$KAKOU" explain "$f"
done
need explain-hostile $n 3

# --- burned-in text: detection, OCR, painting, re-encoding ---------------
mkdir -p "$W/burned"
for f in $(cut -f1,15 "$CORPUS/MANIFEST.tsv" | awk -F'\t' '$2 == "Y" { print $1 }' | head -2); do
    ln -s "$CORPUS/$f" "$W/burned/$(echo "$f" | tr / _)"
done
need burned-sample "$(find "$W/burned" -name '*.dcm' | wc -l)" 2
# two files are two patients: k = 1, or the release suppresses both
vg deid-burned "0 1" "$KAKOU" deid -p jp-anonymized --k-anonymity 1 -o "$W/burned.out" "$W/burned"
need deid-burned "$(count "$W/burned.out")" 2

echo "check-valgrind: $passed passed, $failed failed ($(( $(date +%s) - start )) s)"
[ $failed = 0 ]
