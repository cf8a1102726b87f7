#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tests/run.sh - run the unit test binaries (Check) and the end-to-end
# scripts tests/e2e/tNNNN-*.sh, JOBS at a time (default: the number of
# cores; each test has its own work folder and free ports), then print one
# closing line: "N passed, N failed" (plus ", N skipped").
# Each test's result is printed as it ends, with the tail of its log if it
# failed; the whole log is $BUILD/tests/NAME.log.
# Environment: KAKOU (the CLI), BUILD, SHARED (../shared), PYTHON, JOBS.
# Usage: tests/run.sh [--unit-only|--e2e-only] [UNIT_BINARY...]
# T=pattern runs only the e2e scripts whose name matches.
set -u
here=$(cd "$(dirname "$0")" && pwd)
mode=all
case "${1:-}" in --unit-only|--e2e-only) mode=${1#--}; shift ;; esac
: "${JOBS:=$(nproc 2>/dev/null || echo 1)}"
passed=0 failed=0 skipped=0 failures=""
mkdir -p "$BUILD/tests"
export KAKOU SHARED PYTHON BUILD
export TESTS="$here" TESTDATA="$here/../testdata"

# run_one PATH: run one unit binary or e2e script; its result line (and
# the tail of its log on failure) goes to $BUILD/tests/NAME.result, its
# outcome (pass, fail, skip) to NAME.outcome
run_one() {
    local t=$1 name log start rc secs out e2e=0
    name=$(basename "$t" .sh)
    log="$BUILD/tests/$name.log" out="$BUILD/tests/$name"
    case "$name" in t[0-9]*) e2e=1 ;; esac
    start=$(date +%s)
    if [ $e2e = 1 ]; then bash "$t" >"$log" 2>&1; else "$t" >"$log" 2>&1; fi
    rc=$?
    secs=$(( $(date +%s) - start ))
    if [ $rc = 0 ] && [ $e2e = 1 ]; then
        echo "PASS: $name (${secs}s)" >"$out.result"; echo pass >"$out.outcome"
    elif [ $rc = 0 ]; then
        echo "PASS: $name ($(grep -Eo '[0-9]+%: Checks: [0-9]+' "$log" | tail -1))" >"$out.result"
        echo pass >"$out.outcome"
    elif [ $rc = 77 ] && [ $e2e = 1 ]; then
        echo "SKIP: $name: $(tail -1 "$log")" >"$out.result"; echo skip >"$out.outcome"
    elif [ $e2e = 1 ]; then
        { echo "FAIL: $name (exit $rc)"; tail -30 "$log" | sed 's/^/    /'; } >"$out.result"
        echo fail >"$out.outcome"
    else
        { echo "FAIL: $name"; sed -n '1,40p' "$log" | sed 's/^/    /'; } >"$out.result"
        echo fail >"$out.outcome"
    fi
}

# report PID: print what the test run by PID found, and count it
declare -A running=()
report() {
    local name=${running[$1]} outcome
    unset "running[$1]"
    cat "$BUILD/tests/$name.result"
    outcome=$(cat "$BUILD/tests/$name.outcome" 2>/dev/null || echo fail)
    case "$outcome" in
    pass) passed=$((passed + 1)) ;;
    skip) skipped=$((skipped + 1)) ;;
    *) failed=$((failed + 1)); failures="$failures $name" ;;
    esac
}

queue=()
[ "$mode" = e2e-only ] || queue+=("$@")
if [ "$mode" != unit-only ]; then
    for t in "$here"/e2e/t[0-9]*.sh; do
        [ -e "$t" ] || continue
        case "$(basename "$t" .sh)" in *${T:-}*) queue+=("$t") ;; esac
    done
fi

for t in "${queue[@]}"; do
    while [ ${#running[@]} -ge "$JOBS" ]; do wait -n -p done_pid; report "$done_pid"; done
    name=$(basename "$t" .sh)
    rm -f "$BUILD/tests/$name.result" "$BUILD/tests/$name.outcome"
    run_one "$t" &
    running[$!]=$name
done
while [ ${#running[@]} -gt 0 ]; do wait -n -p done_pid; report "$done_pid"; done

[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed, $skipped skipped"
# a run that ran nothing proves nothing
[ $((passed + failed + skipped)) -gt 0 ] || { echo "no test ran"; exit 1; }
[ "$failed" = 0 ]
