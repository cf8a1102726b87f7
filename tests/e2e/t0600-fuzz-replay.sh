#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0600-fuzz-replay: every fuzzing harness (fuzz/fuzz_*.c), linked with
# fuzz/replay_main.c instead of libFuzzer, replays its committed corpus
# (fuzz/corpus/<harness>/) and every crasher found so far
# (fuzz/regress/<harness>/). A crash, an abort (a harness's own check),
# or, under check-asan, any sanitizer report (leaks too) fails the test;
# so a bug the fuzzer found once stays found. Binaries:
# $BUILD/fuzz/replay_<harness>.
. "$(dirname "$0")/lib.sh"
src="$TESTS/../fuzz"
[ -d "$src" ] || skip "no fuzz/ folder"
# Outside the sanitizers (which reserve terabytes of address space) the
# replay runs in 2 GiB of address space: a small input that makes kakou
# allocate a value at its declared length (up to 4 GiB) then fails with
# out of memory, which fuzz_deid treats as a crash.
vlimit=unlimited
if ! nm "$BUILD/fuzz/replay_fuzz_deid" 2>/dev/null | grep -q __asan_init; then
    vlimit=2097152
fi
# leaks inside third-party libraries (Tesseract) are not kakou's
export LSAN_OPTIONS="suppressions=$TESTS/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
n=0
for h in "$src"/fuzz_*.c; do
    h=$(basename "$h" .c)
    bin="$BUILD/fuzz/replay_$h"
    if [ ! -x "$bin" ]; then
        fail "$h: no replay binary $bin (make check builds it)"
        continue
    fi
    dirs=()
    for d in "$src/corpus/$h" "$src/regress/$h"; do [ -d "$d" ] && dirs+=("$d"); done
    [ ${#dirs[@]} -gt 0 ] || { fail "$h: no corpus"; continue; }
    if (ulimit -v $vlimit; timeout -k 5 300 "$bin" "${dirs[@]}") >"$WORK/$h.out" 2>"$WORK/$h.err"; then
        ok "$h: $(cat "$WORK/$h.out")"
        n=$((n + 1))
    else
        fail "$h: replay failed (exit $?)"; tail -20 "$WORK/$h.err" | sed 's/^/    /'
    fi
done
[ $n -gt 0 ] || fail "no harness replayed"
finish
