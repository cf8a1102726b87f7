#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tests/run.sh - run the unit test binaries (Check) and the end-to-end
# scripts tests/e2e/tNNNN-*.sh, then print one closing line:
#   "N passed, N failed" (plus ", N skipped").
# Environment: KAKOU (the CLI), BUILD, SHARED (../shared), PYTHON.
# Usage: tests/run.sh [--unit-only|--e2e-only] [UNIT_BINARY...]
# T=pattern runs only the e2e scripts whose name matches.
set -u
here=$(cd "$(dirname "$0")" && pwd)
mode=all
case "${1:-}" in --unit-only|--e2e-only) mode=${1#--}; shift ;; esac
passed=0 failed=0 skipped=0 failures=""

if [ "$mode" != e2e-only ]; then
    for bin in "$@"; do
        name=$(basename "$bin")
        log="$BUILD/tests/$name.log"
        if "$bin" >"$log" 2>&1; then
            echo "PASS: $name ($(grep -Eo '[0-9]+%: Checks: [0-9]+' "$log" | tail -1))"
            passed=$((passed + 1))
        else
            echo "FAIL: $name"; sed -n '1,40p' "$log" | sed 's/^/    /'
            failed=$((failed + 1)); failures="$failures $name"
        fi
    done
fi

if [ "$mode" != unit-only ]; then
    export KAKOU SHARED PYTHON BUILD
    export TESTS="$here" TESTDATA="$here/../testdata"
    for t in "$here"/e2e/t[0-9]*.sh; do
        [ -e "$t" ] || continue
        name=$(basename "$t" .sh)
        case "$name" in *${T:-}*) ;; *) continue ;; esac
        log="$BUILD/tests/$name.log"
        mkdir -p "$BUILD/tests"
        start=$(date +%s)
        bash "$t" >"$log" 2>&1
        rc=$?
        secs=$(( $(date +%s) - start ))
        if [ $rc = 0 ]; then
            echo "PASS: $name (${secs}s)"; passed=$((passed + 1))
        elif [ $rc = 77 ]; then
            echo "SKIP: $name: $(tail -1 "$log")"; skipped=$((skipped + 1))
        else
            echo "FAIL: $name (exit $rc)"; tail -30 "$log" | sed 's/^/    /'
            failed=$((failed + 1)); failures="$failures $name"
        fi
    done
fi

[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
