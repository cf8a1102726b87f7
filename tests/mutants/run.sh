#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tests/mutants/run.sh - `make check-mutants`: apply each mutation of
# tests/mutants/mutants.txt to a scratch copy of the tree (never the
# working tree), rebuild incrementally, run the tests named for it, and
# fail if any mutation survives, does not apply or does not build. A
# survivor is run twice more: one killed there is listed as FLAKY (its test
# kills it only sometimes) without failing the run.
#
# The scratch copy keeps the build directory and its mtimes, so each
# mutant recompiles only the mutated file and relinks; the file is put back
# (with a new mtime, so the next build recompiles it clean) before the next
# mutant. First the named tests run once on the unmutated copy: they must
# pass, or no kill would mean anything.
#
# MUTANT_JOBS workers (default: the number of cores) each have their own
# copy and take the next mutation not yet taken (those checked by an
# end-to-end test first, as they take longest), so the run takes about
# 1/MUTANT_JOBS of the time of one worker.
#
# Environment: SHARED, PYTHON (as for make check); MUTANTS=PATTERN runs only
# the mutations whose name contains PATTERN; MUTANT_JOBS; KEEP_SCRATCH=1
# keeps the copies; MUTANT_CHECKED=1 says make check has just passed on
# this build (.ci/run), so the end-to-end tests' baseline is not run again.
# Each test stops at its first failure (KK_FAIL_FAST, tests/e2e/lib.sh).
# Prints one line per mutation and the time taken.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${SHARED:=$(cd "$root/.." && pwd)/shared}"
: "${PYTHON:=/usr/bin/python3}"
: "${MUTANT_JOBS:=$(nproc 2>/dev/null || echo 1)}"
LIST="$here/mutants.txt"
MUTATE="$PYTHON $here/mutate.py"
start=$(date +%s)

top=$(mktemp -d "${TMPDIR:-/tmp}/kakou-mutants.XXXXXX")
[ "${KEEP_SCRATCH:-0}" = 1 ] || trap 'rm -rf "$top"' EXIT
mkdir "$top/claimed"
: >"$top/bad"; : >"$top/flaky"; : >"$top/baseline-failed"

# The first copy: everything but .git and the other build trees (build/asan,
# build/oom: a folder of build/ with its own CFLAGS stamp), with exact
# (nanosecond) mtimes, so the copied build stays up to date.
first="$top/w1"
mkdir "$first" "$first/build"
for f in "$root"/* "$root"/.[!.]*; do
    [ -e "$f" ] || continue
    case "$(basename "$f")" in .git|build) continue ;; esac
    cp -a "$f" "$first/" || { echo "check-mutants: cannot copy the tree"; exit 2; }
done
for f in "$root"/build/* "$root"/build/.[!.]*; do
    [ -e "$f" ] || continue
    [ -d "$f" ] && [ -f "$f/CFLAGS" ] && continue
    cp -a "$f" "$first/build/" || { echo "check-mutants: cannot copy the build"; exit 2; }
done
# a test stops at its first failure: that is all a kill needs (lib.sh)
export SHARED PYTHON KK_FAIL_FAST=1

$MUTATE list "$LIST" > "$top/all" || exit 2
[ -s "$top/all" ] || { echo "check-mutants: no mutation in $LIST"; exit 2; }
if [ -n "${MUTANTS:-}" ]; then
    grep -F -- "$MUTANTS" "$top/all" > "$top/sel" || true
    mv "$top/sel" "$top/all"
fi
# numbered, those whose first test is end-to-end (tNNNN) first
awk -F'\t' '{ split($3, t, " "); print (t[1] ~ /^t[0-9]/ ? 0 : 1) "\t" NR "\t" $0 }' "$top/all" |
    sort -t "$(printf '\t')" -k1,1n -k2,2n | cut -f2- > "$top/queue"

# build what the selected tests need: a unit test links the static
# library alone, so the programs and modules (four links) are built only
# for an end-to-end test
targets() {
    local t
    for t in "$@"; do
        case "$t" in
        check_*) echo "build/tests/${t%%:*}" ;;
        *) echo all ;;
        esac
    done | sort -u
}
# (BUILD is exported for the tests; make gets its own relative default, as
# in the tree, or the CFLAGS stamp would differ and everything rebuild)
build() { env -u BUILD nice make -s -j2 $(targets "$@") >"$scratch/.build.log" 2>&1; }
build_alone() { env -u BUILD nice make -s -j1 $(targets "$@") >"$scratch/.build.log" 2>&1; }

# use_copy DIR: this shell works in copy DIR
use_copy() {
    scratch=$1
    cd "$scratch" || exit 2
    BUILD="$scratch/build"
    export KAKOU="$BUILD/kakou" BUILD TESTS="$scratch/tests" TESTDATA="$scratch/testdata"
}

# run_test NAME: 0 passes, else fails; output in $scratch/.test.log
# (check_NAME:CASE runs one test case of a unit binary: CK_RUN_CASE)
run_test() {
    case "$1" in
    check_*:*)
        CK_RUN_CASE="${1#*:}" "$BUILD/tests/${1%%:*}" >"$scratch/.test.log" 2>&1 || return 1
        # a case name no test case has runs nothing, and nothing passes
        ! grep -q 'Checks: 0,' "$scratch/.test.log" ||
            { echo "no test case ${1#*:} in ${1%%:*}" >>"$scratch/.test.log"; return 3; } ;;
    check_*) "$BUILD/tests/$1" >"$scratch/.test.log" 2>&1 ;;
    t[0-9]*)
        local s
        s=$(ls "$scratch"/tests/e2e/"$1"-*.sh 2>/dev/null | head -1)
        [ -n "$s" ] || { echo "no e2e script $1" >"$scratch/.test.log"; return 3; }
        bash "$s" >"$scratch/.test.log" 2>&1
        local rc=$?
        [ $rc = 77 ] && { echo "skipped" >>"$scratch/.test.log"; return 3; }
        return $rc ;;
    *) echo "unknown test $1" >"$scratch/.test.log"; return 3 ;;
    esac
}

# baseline W: worker W runs its share (every MUTANT_JOBS-th) of the named
# tests on its unmutated copy
baseline() {
    local w=$1 i=0 t t0
    use_copy "$top/w$w"
    for t in $all_tests; do
        # (make check passed the end-to-end tests on this build just before)
        case "$t" in t[0-9]*) [ "${MUTANT_CHECKED:-0}" = 1 ] && continue ;; esac
        i=$((i + 1))
        [ $(( (i - 1) % MUTANT_JOBS + 1 )) = "$w" ] || continue
        t0=$(date +%s)
        if ! run_test "$t"; then
            { echo "check-mutants: $t fails (or is skipped) on the unmutated tree:"; tail -20 "$scratch/.test.log"; } >>"$top/baseline-failed"
            return 1
        fi
        echo "  baseline $t passes ($(( $(date +%s) - t0 )) s)"
    done
}

# mutate W: worker W takes each mutation no other worker has taken
# (mkdir is atomic) and reports it in one line
mutate() {
    local w=$1 n name file tests why t0 killer rc t flaky round
    use_copy "$top/w$w"
    while IFS=$'\t' read -r n name file tests why; do
        mkdir "$top/claimed/$n" 2>/dev/null || continue
        t0=$(date +%s)
        cp -p "$file" "$scratch/.orig"
        if ! $MUTATE apply "$LIST" "$name" "$scratch" >"$scratch/.apply.log" 2>&1; then
            echo "NOT APPLIED $name: $(cat "$scratch/.apply.log")" | tee -a "$top/bad"; continue
        fi
        # shellcheck disable=SC2086
        # (a failed build is tried once more alone: a mutation that does not
        # compile fails again, a transient failure of the machine does not)
        if ! build $tests && ! build_alone $tests; then
            { echo "NO BUILD    $name ($file):"; grep -m5 -E 'error' "$scratch/.build.log" | sed 's/^/    /'; } | tee -a "$top/bad"
        else
            killer=""
            for t in $tests; do
                run_test "$t"; rc=$?
                if [ $rc = 3 ]; then echo "NO TEST     $name: $t: $(tail -1 "$scratch/.test.log")" | tee -a "$top/bad"; killer="?"; break; fi
                if [ $rc != 0 ]; then killer=$t; break; fi
            done
            if [ "$killer" = "?" ]; then
                :
            elif [ -n "$killer" ]; then
                echo "killed      $name by $killer ($(( $(date +%s) - t0 )) s): $(grep -m1 -E 'not ok|F:|FAIL|Failures' "$scratch/.test.log" | cut -c1-110)"
            else
                # twice more, to tell a test that kills it only sometimes (a
                # race, the machine's load) from one that never does: the
                # first is listed as FLAKY, to be made certain, and only the
                # second fails the run
                flaky=""
                for round in 2 3; do
                    for t in $tests; do
                        run_test "$t" || { flaky="$t in run $round"; break; }
                    done
                    [ -n "$flaky" ] && break
                done
                if [ -n "$flaky" ]; then
                    echo "FLAKY       $name ($file): $why; killed by $flaky only, after surviving the first: make the test certain" | tee -a "$top/flaky"
                else
                    echo "SURVIVED    $name ($file): $why; tests $tests all pass, three times" | tee -a "$top/bad"
                fi
            fi
        fi
        # put the file back, newer than its object, so the next build compiles it clean
        cp "$scratch/.orig" "$file"; touch "$file"
    done < "$top/queue"
}

all_tests=$(cut -f3 "$top/all" | tr ' ' '\n' | grep -v '^$' | sort -u)
use_copy "$first"
# shellcheck disable=SC2086
if ! build $all_tests; then
    echo "check-mutants: the unmutated tree does not build:"; tail -20 "$scratch/.build.log"; exit 2
fi
for w in $(seq 2 "$MUTANT_JOBS"); do
    cp -a "$first" "$top/w$w" || { echo "check-mutants: cannot copy the tree"; exit 2; }
done
echo "check-mutants: $(wc -l < "$top/queue") mutations, $MUTANT_JOBS workers; baseline: $(echo $all_tests)"
for w in $(seq 1 "$MUTANT_JOBS"); do baseline "$w" & done
wait
[ -s "$top/baseline-failed" ] && { cat "$top/baseline-failed"; exit 2; }

for w in $(seq 1 "$MUTANT_JOBS"); do mutate "$w" & done
wait
# the ones not killed again, last, where a log's tail shows them
[ -s "$top/flaky" ] && { echo "check-mutants: killed only sometimes (not failing the run):"; sed 's/^/  /' "$top/flaky"; }
[ -s "$top/bad" ] && { echo "check-mutants: not killed:"; sed 's/^/  /' "$top/bad"; }
bad=$(grep -c -E '^(NOT APPLIED|NO BUILD|NO TEST|SURVIVED)' "$top/bad")
echo "check-mutants: $(wc -l < "$top/queue") mutations, $bad not killed, $(( $(date +%s) - start )) s"
[ "$bad" = 0 ]
