#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/deface.sh - time defacing the shared 176-slice T1 head MR
# ($SHARED/corpus/volumes/mr-t1-head) with one worker thread (-j 1), 5
# rounds; prints the time kakou reports for finding and removing the face
# (decoding excluded) and the wall time of the whole run (header pass,
# decoding twice, re-encoding, writing 176 files).
#   KAKOU=build/kakou SHARED=../shared bench/deface.sh
set -eu
KAKOU=${KAKOU:-build/kakou}
SHARED=${SHARED:-../shared}
MR="$SHARED/corpus/volumes/mr-t1-head"
ROUNDS=${BENCH_ROUNDS:-5}
W=$(mktemp -d "${TMPDIR:-/tmp}/kakou-deface-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
printf 'profile bench-deface\nversion 1\ninherit dicom-basic\ndeface remove\n' >"$W/p.kkp"
echo "round  deface_s  wall_s  (176-slice MR, -j 1)"
for r in $(seq "$ROUNDS"); do
    rm -rf "$W/out"
    t0=$(date +%s.%N)
    line=$("$KAKOU" deid -j 1 -v -p "$W/p.kkp" -o "$W/out" "$MR" 2>&1 | grep 'deface:')
    t1=$(date +%s.%N)
    s=$(sed 's/.*voxels, \([0-9.]*\) s).*/\1/' <<<"$line")
    printf '%5d  %8s  %6.2f\n' "$r" "$s" "$(echo "$t1 - $t0" | bc)"
done
