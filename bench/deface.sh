#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/deface.sh - time defacing the shared 176-slice T1 head MR
# ($SHARED/corpus/volumes/mr-t1-head) with one worker thread (-j 1), 5
# rounds; prints the CPU time kakou reports for finding and removing the
# face and the ears (decoding excluded), and the CPU time (user + system)
# and wall time of the whole run (header pass, decoding twice, re-encoding,
# writing 176 files). CPU times are what one core does, however loaded the machine.
#   KAKOU=build/kakou SHARED=../shared bench/deface.sh
set -eu
[ -x /usr/bin/time ] || { echo "bench/deface.sh needs /usr/bin/time (Debian: time)"; exit 1; }
KAKOU=${KAKOU:-build/kakou}
SHARED=${SHARED:-../shared}
MR="$SHARED/corpus/volumes/mr-t1-head"
ROUNDS=${BENCH_ROUNDS:-5}
W=$(mktemp -d "${TMPDIR:-/tmp}/kakou-deface-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
printf 'profile bench-deface\nversion 1\ninherit dicom-basic\ndeface remove\n' >"$W/p.kkp"
echo "round  deface_cpu_s  run_cpu_s  run_wall_s  (176-slice MR, -j 1)"
for r in $(seq "$ROUNDS"); do
    rm -rf "$W/out"
    /usr/bin/time -f '%U %S %e' -o "$W/time" "$KAKOU" deid -j 1 -v -p "$W/p.kkp" -o "$W/out" "$MR" \
        2>"$W/err"
    s=$(grep 'deface:' "$W/err" | sed 's/.*voxels, \([0-9.]*\) s).*/\1/')
    read -r u sy e <"$W/time"
    printf '%5d  %12s  %9.2f  %10.2f\n' "$r" "$s" "$(awk -v a="$u" -v b="$sy" 'BEGIN { print a + b }')" "$e"
done
