# SPDX-License-Identifier: Apache-2.0
# tests/e2e/lib.sh - helpers for the end-to-end tests. Source it first.
# Each test runs the real CLI ($KAKOU) on real files, asserts exact exit
# codes, and counts death by a signal as a failure (git's test_must_fail).
set -u
: "${KAKOU:?}" "${SHARED:?}" "${PYTHON:=/usr/bin/python3}" "${TESTS:?}"
CORPUS="$SHARED/corpus"
# seconds one kakou run may take before a test calls it a hang: more under
# a sanitizer on a busy machine (make check-asan sets it)
: "${KK_TIMEOUT:=60}"
export KK_TIMEOUT
[ -f "$CORPUS/MANIFEST.tsv" ] || { echo "no corpus at $CORPUS (set SHARED=path/to/shared)"; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kakou-e2e.XXXXXX")
# KEEP_WORK=1 keeps the work folder of a failed test (its path is printed)
trap 'if [ -n "${KEEP_WORK:-}" ] && [ "$fails" != 0 ]; then echo "work kept in $WORK"; else rm -rf "$WORK"; fi' EXIT
fails=0

# KK_FAIL_FAST=1 (set by make check-mutants, where the first failure is
# all a kill needs) ends the test at its first failure
fail() {
    echo "not ok: $*"; fails=$((fails + 1))
    [ -z "${KK_FAIL_FAST:-}" ] || { echo "KK_FAIL_FAST: stopped at the first failure"; exit 1; }
}
ok() { echo "ok: $*"; }

# expect_exit CODE CMD...: run CMD, which must exit with CODE (not a signal).
expect_exit() {
    local want=$1; shift
    "$@"; local rc=$?
    if [ $rc -gt 128 ]; then fail "killed by signal $((rc - 128)): $*"; return 1; fi
    if [ $rc != "$want" ]; then fail "exit $rc, wanted $want: $*"; return 1; fi
    return 0
}

skip() { echo "$*"; exit 77; }
# the defacing tests' tools: deface.py (D) renders skin surfaces and runs
# OpenCV's face cascades
need_deface_tools() {
    D="$TESTS/tools/deface.py"
    "$PYTHON" -c 'import numpy, cv2, pydicom' 2>/dev/null || skip "needs python3-numpy python3-opencv python3-pydicom"
    [ -f /usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml ] || skip "needs opencv-data"
    export PYTHONWARNINGS=ignore
}

finish() {
    if [ $fails != 0 ]; then echo "$fails failure(s)"; exit 1; fi
    exit 0
}
