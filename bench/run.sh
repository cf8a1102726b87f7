#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/run.sh - header-only de-identification benchmark: kakou side by side
# with cp -r, gdcmanon (-e and --dumb), dcmodify and a pydicom script.
# Run it through `make bench`, or directly:
#
#   KAKOU=build/kakou SHARED=../shared bench/run.sh
#
# Environment (all optional):
#   KAKOU               kakou binary (default build/kakou); missing or failing -> n/a rows
#   SHARED              folder holding bench/make_dataset.py (default ../shared)
#   PYTHON              Python with pydicom (default /usr/bin/python3)
#   BENCH_DATA          cache folder for data set and certificate (default bench/data)
#   BENCH_WORK          scratch folder for outputs (default $BENCH_DATA/work; same file
#                       system as the data, emptied at start and removed at the end)
#   BENCH_ROUNDS        counted rounds (default 5; 1 with BENCH_QUICK)
#   BENCH_WARMUP        warm-up rounds, not counted (default 1)
#   BENCH_LATENCY_RUNS  single-file runs per tool (default 30; 5 with BENCH_QUICK)
#   BENCH_QUICK=1       smoke test: 2 patients x 1 study x 1 series x 10 images, 1 round
#   BENCH_ONLY          comma-separated row keys (cp, kakou-basic, kakou-jp, kakou-jp-j1,
#                       kakou-jp-nopix, kakou-jp-noclean (the same without the burned-in
#                       text search, without cleaning free text),
#                       gdcmanon-e, gdcmanon-dumb, dcmodify, pydicom, ..., pixel, gateway,
#                       orthanc, deface)
#   BENCH_KAKOU_KEY     an existing kakou key file (otherwise one is made per run)
#   BENCH_RESULTS       report file (default bench/results/latest.txt, or quick.txt)
#
# Exit status: 0 when the harness ran (slow or failing tools are reported, not
# fatal), 1 on a harness error (no pydicom, no generator, data set failed...).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

die() { echo "bench: error: $*" >&2; exit 1; }

KAKOU=${KAKOU:-$root/build/kakou}
SHARED=${SHARED:-$root/../shared}
PYTHON=${PYTHON:-/usr/bin/python3}
BENCH_DATA=${BENCH_DATA:-$here/data}
BENCH_QUICK=${BENCH_QUICK:-0}
[ "$BENCH_QUICK" = 0 ] && BENCH_QUICK=
if [ -n "$BENCH_QUICK" ]; then
    shape=(2 1 1 10)
    BENCH_ROUNDS=${BENCH_ROUNDS:-1}
    BENCH_LATENCY_RUNS=${BENCH_LATENCY_RUNS:-5}
    BENCH_RESULTS=${BENCH_RESULTS:-$here/results/quick.txt}
else
    shape=(20 2 2 25)
    BENCH_ROUNDS=${BENCH_ROUNDS:-5}
    BENCH_LATENCY_RUNS=${BENCH_LATENCY_RUNS:-30}
    BENCH_RESULTS=${BENCH_RESULTS:-$here/results/latest.txt}
fi
BENCH_WARMUP=${BENCH_WARMUP:-1}
BENCH_ONLY=${BENCH_ONLY:-}
BENCH_KAKOU_KEY=${BENCH_KAKOU_KEY:-}

for v in BENCH_ROUNDS BENCH_WARMUP BENCH_LATENCY_RUNS; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a number (got '${!v}')"
done

# Harness prerequisites: these are errors, not n/a rows.
command -v "$PYTHON" >/dev/null 2>&1 || die "PYTHON=$PYTHON not found"
"$PYTHON" -c 'import pydicom, numpy' 2>/dev/null ||
    die "$PYTHON lacks pydicom/numpy (use /usr/bin/python3 with python3-pydicom, python3-numpy)"
gen=$SHARED/bench/make_dataset.py
[ -f "$gen" ] || die "data set generator not found: $gen (set SHARED)"

mkdir -p "$BENCH_DATA"
BENCH_DATA=$(cd "$BENCH_DATA" && pwd)
BENCH_WORK=${BENCH_WORK:-$BENCH_DATA/work}

# 1. The data set, generated once and reused.
data=$("$PYTHON" "$here/dataset.py" "$gen" "$BENCH_DATA" "${shape[@]}" 1) ||
    die "could not make the data set"

# 2. A throwaway self-signed certificate for gdcmanon -e (CMS needs one).
cert=
if command -v openssl >/dev/null 2>&1; then
    cert=$BENCH_DATA/gdcmanon-cert.pem
    if [ ! -s "$cert" ] || [ ! -s "$BENCH_DATA/gdcmanon-key.pem" ]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=kakou-bench throwaway" \
            -keyout "$BENCH_DATA/gdcmanon-key.pem" -out "$cert" >/dev/null 2>&1 ||
            { echo "bench: openssl could not make a certificate; gdcmanon -e is n/a" >&2; cert=; }
    fi
else
    echo "bench: openssl not found; gdcmanon -e is n/a" >&2
fi

# 3. Scratch space, removed however we leave.
rm -rf "$BENCH_WORK"
mkdir -p "$BENCH_WORK"
trap 'rm -rf "$BENCH_WORK"' EXIT

# 4. The measuring runner (bench/rusage.c): a small process to spawn tools
#    from, so peak RSS is the tool's own and not the harness's.
runner=$BENCH_WORK/rusage
cc=${CC:-cc}
if ! "$cc" -O2 -static -o "$runner" "$here/rusage.c" 2>/dev/null &&
   ! "$cc" -O2 -o "$runner" "$here/rusage.c" 2>/dev/null; then
    echo "bench: could not compile bench/rusage.c with $cc; peak RSS will be an upper bound" >&2
    runner=
fi

args=(--data "$data" --work "$BENCH_WORK" --kakou "$KAKOU" --python "$PYTHON"
      --rounds "$BENCH_ROUNDS" --warmup "$BENCH_WARMUP" --latency-runs "$BENCH_LATENCY_RUNS"
      --results "$BENCH_RESULTS")
[ -n "$runner" ] && args+=(--runner "$runner")
[ -n "$cert" ] && args+=(--cert "$cert")
[ -n "$BENCH_ONLY" ] && args+=(--only "$BENCH_ONLY")
[ -n "$BENCH_KAKOU_KEY" ] && args+=(--kakou-key "$BENCH_KAKOU_KEY")
[ -n "$BENCH_QUICK" ] && args+=(--quick)

echo "bench: $(basename "$data"): ${BENCH_WARMUP} warm-up + ${BENCH_ROUNDS} round(s), " \
     "${BENCH_LATENCY_RUNS} single-file runs per tool" >&2
"$PYTHON" "$here/bench.py" "${args[@]}"

# 5. Burned-in text (issue 4): frames per second with the pixel rules on.
if [ -z "$BENCH_ONLY" ] || [[ ",$BENCH_ONLY," == *,pixel,* ]]; then
    "$PYTHON" "$here/pixel.py" "$KAKOU" "$BENCH_WORK/pixel" "$([ -n "$BENCH_QUICK" ] && echo 1 || echo 3)" |
        tee -a "$BENCH_RESULTS"
fi

# 6. The network rows (issue 16): kakou gateway with 4 senders, and
#    Orthanc's ingest rate with and without the kakou plugin.
if [ -z "$BENCH_ONLY" ] || [[ ",$BENCH_ONLY," == *,gateway,* || ",$BENCH_ONLY," == *,orthanc,* ]]; then
    PYTHON=$PYTHON bash "$here/network.sh" "$KAKOU" "$data" "$BENCH_WORK/network" \
        "${BENCH_NET_FILES:-0}" | tee -a "$BENCH_RESULTS"
fi

# 7. Defacing (issue 18): the shared 176-slice head MR on one core; the
#    goal is 2 s of CPU for finding and removing the face.
if [ -z "$BENCH_ONLY" ] || [[ ",$BENCH_ONLY," == *,deface,* ]]; then
    BENCH_ROUNDS=$([ -n "$BENCH_QUICK" ] && echo 1 || echo 3) KAKOU=$KAKOU SHARED=$SHARED \
        bash "$here/deface.sh" | tee -a "$BENCH_RESULTS"
fi
