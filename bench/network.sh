#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/network.sh - the network rows: kakou gateway with 4 senders, and
# Orthanc's ingest rate with and without the kakou plugin. Called by
# bench/run.sh (rows `gateway`, `orthanc`), or directly:
#
#   bench/network.sh KAKOU DATA_DIR WORK_DIR [FILES]
#
# DATA_DIR: DICOM files (the bench CT set); the first FILES of them (default
# all) are sent, split over 4 storescu processes, each one association.
#  - gateway: storescu x4 -> kakou gateway (dicom-basic, a key) -> storescp
#    --ignore (receives, stores nothing, so the destination's disk is not
#    measured). Instances/s = FILES / (first association .. last object
#    forwarded); latency = from the object safe in the spool to the
#    destination's answer (median and 95th percentile, the gateway's report),
#    and the senders' own time to get every object acknowledged.
#  - orthanc: Debian's Orthanc on its own ports and storage, storescu x4;
#    instances/s until /statistics counts them all; with the plugin
#    (build/kakou-orthanc.so, dicom-basic, a key) and without.
# Runs in a network namespace of its own when it can (root), so nothing
# listens off-box. Prints one line per row. BENCH_ONLY (as bench/run.sh
# takes it: gateway, orthanc, comma-separated) picks rows.
set -uo pipefail
KAKOU=$1 DATA=$2 WORK=$3 FILES=${4:-0}
: "${PYTHON:=/usr/bin/python3}"
row() { [ -z "${BENCH_ONLY:-}" ] || [[ ",$BENCH_ONLY," == *,$1,* ]]; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
PLUGIN=${PLUGIN:-$root/build/kakou-orthanc.so}
if [ -z "${KK_IN_NETNS:-}" ] && unshare -n true 2>/dev/null; then
    KK_IN_NETNS=1 exec unshare -n bash "$0" "$@"
fi
[ -n "${KK_IN_NETNS:-}" ] && ip link set lo up
PIDS=""
cleanup() { for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
now() { date +%s.%N; }
port() { echo $((20000 + (RANDOM * 32768 + RANDOM) % 40000)); }
waitfor() { # SECONDS CMD...
    local t=$1 i; shift
    for i in $(seq 1 $((t * 20))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; done
    return 1
}
mkdir -p "$WORK"
find "$DATA" -type f -name '*.dcm' | sort >"$WORK/all.txt"
[ "$FILES" -gt 0 ] 2>/dev/null && head -n "$FILES" "$WORK/all.txt" >"$WORK/files.txt" || cp "$WORK/all.txt" "$WORK/files.txt"
N=$(wc -l <"$WORK/files.txt")
[ "$N" -gt 0 ] || { echo "network: no DICOM files in $DATA"; exit 1; }
split -n r/4 -d "$WORK/files.txt" "$WORK/part."
send4() { # PORT AEC: 4 storescu at once, each one association; waits for them
    local p=$1 aec=$2 i pids=""
    for i in 0 1 2 3; do
        env ${SEND_ENV:-} xargs -a "$WORK/part.0$i" storescu -aet "SEND$i" -aec "$aec" 127.0.0.1 "$p" \
            >"$WORK/send$i.log" 2>&1 &
        pids="$pids $!"
    done
    for i in $pids; do wait "$i"; done
}

# --- kakou gateway
# gateway_row LABEL PEER_ENV: the peers (storescu, storescp) run with
# PEER_ENV (e.g. TCP_NODELAY=1, which Debian's DCMTK reads: with Nagle's
# algorithm on, each of their PDUs waits for a delayed ACK); the gateway
# sets its own sockets and never gets PEER_ENV.
gateway_row() { # LABEL PEER_ENV [FORWARD_ASSOCIATIONS: with it, storescp --fork]
    local label=$1 peer_env=$2 nfwd=${3:-1} PG PD GW t0 t1 t2 ticks fork=""
    [ "$nfwd" -gt 1 ] && fork=--fork
    PG=$(port) PD=$(port)
    env $peer_env storescp $fork --ignore "$PD" >/dev/null 2>&1 &
    local SP=$!
    PIDS="$PIDS $SP"
    rm -rf "$WORK/spool"
    env -u TCP_NODELAY "$KAKOU" gateway -q --listen "GW@$PG" --forward "DEST@127.0.0.1:$PD" \
        --spool "$WORK/spool" -k "$WORK/key" -j 4 --forward-associations "$nfwd" \
        --report "$WORK/gw.json" &
    GW=$!
    PIDS="$PIDS $GW"
    if ! waitfor 20 echoscu -aec GW 127.0.0.1 "$PG"; then
        echo "gateway   n/a: the gateway did not start"; return
    fi
    t0=$(now)
    SEND_ENV=$peer_env send4 "$PG" GW
    t1=$(now)
    waitfor 600 sh -c "[ \$(ls '$WORK/spool/sent' | wc -l) -ge $N ]"
    t2=$(now)
    # the gateway's CPU time (user + system, clock ticks) and peak RSS
    ticks=$(awk '{print $14 + $15}' "/proc/$GW/stat")
    local hwm
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$GW/status")
    kill -TERM "$GW"; wait "$GW"
    kill "$SP" 2>/dev/null; wait "$SP" 2>/dev/null
    [ -n "$fork" ] && pkill -f "storescp $fork --ignore $PD" 2>/dev/null
    "$PYTHON" - "$WORK/gw.json" "$N" "$t0" "$t1" "$t2" "$ticks" "$(getconf CLK_TCK)" "$hwm" "$label" <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1])); n = int(sys.argv[2]); t0, t1, t2 = map(float, sys.argv[3:6])
cpu = int(sys.argv[6]) / int(sys.argv[7])
lat = r.get("latency_seconds", {})
print("gateway   kakou gateway dicom-basic, 4 senders, %d CT instances, peers %s: %.0f instances/s "
      "end to end (%.1f s); acknowledged at %.0f/s; spool->destination latency median %.0f ms, "
      "p95 %.0f ms; gateway CPU %.1f ms per instance (%.0f instances/s per core), peak RSS "
      "%.1f MiB; load average %.1f; forwarded %d, refused %d" % (n, sys.argv[9], n / (t2 - t0),
      t2 - t0, n / (t1 - t0), 1000 * lat.get("median", 0), 1000 * lat.get("p95", 0),
      1000 * cpu / n, n / cpu, int(sys.argv[8]) / 1024, os.getloadavg()[0], r["forwarded"],
      r["refused_resources"] + r["refused_deid"]))
PY
}
if ! row gateway; then
    :
elif command -v storescu >/dev/null && [ -x "$KAKOU" ]; then
    "$KAKOU" key new "$WORK/key" >/dev/null 2>&1
    gateway_row "as installed" ""
    gateway_row "with TCP_NODELAY=1" "TCP_NODELAY=1"
    gateway_row "as installed, storescp --fork, 4 forwarding associations" "" 4
else
    echo "gateway   n/a: no storescu or no kakou"
fi

# --- Orthanc, with and without the plugin
orthanc_row() { # LABEL PLUGIN_JSON
    local label=$1 plugins=$2 kakou=$3 H D o
    H=$(port) D=$(port) o="$WORK/orthanc-$label"
    rm -rf "$o"; mkdir -p "$o"
    cat >"$o/orthanc.json" <<JSON
{ "Name": "bench", "StorageDirectory": "$o/storage", "IndexDirectory": "$o/index",
  "HttpPort": $H, "RemoteAccessAllowed": false, "AuthenticationEnabled": false,
  "DicomServerEnabled": true, "DicomAet": "ORTHANC", "DicomPort": $D, "DicomThreadsCount": 4,
  "DicomAlwaysAllowStore": true, "DicomCheckCalledAet": false, "SaveJobs": false,
  "Plugins": [ $plugins ] $kakou }
JSON
    /usr/sbin/Orthanc --logdir="$o" "$o/orthanc.json" >/dev/null 2>&1 &
    local pid=$!
    PIDS="$PIDS $pid"
    if ! waitfor 30 curl -sf "http://127.0.0.1:$H/system"; then
        echo "orthanc   $label: n/a (Orthanc did not start)"; kill -9 "$pid"; return
    fi
    local t0 t1
    t0=$(now)
    send4 "$D" ORTHANC
    waitfor 600 sh -c "curl -sf http://127.0.0.1:$H/statistics | grep -q '\"CountInstances\" : $N'"
    t1=$(now)
    local ticks
    ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    "$PYTHON" -c 'import os, sys; n=int(sys.argv[1]); d=float(sys.argv[3])-float(sys.argv[2]); cpu=int(sys.argv[5])/int(sys.argv[6]); print("orthanc   Orthanc %s, 4 senders, %d CT instances: %.0f instances/s (%.1f s, %.1f ms wall per instance); Orthanc CPU %.1f ms per instance; load average %.1f" % (sys.argv[4], n, n/d, d, 1000*d/n, 1000*cpu/n, os.getloadavg()[0]))' \
        "$N" "$t0" "$t1" "$label" "$ticks" "$(getconf CLK_TCK)"
    kill -TERM "$pid"; wait "$pid" 2>/dev/null
}
if ! row orthanc; then
    :
elif [ -x /usr/sbin/Orthanc ] && command -v curl >/dev/null; then
    orthanc_row "without plugin" "" ""
    if [ -f "$PLUGIN" ]; then
        "$KAKOU" key new "$WORK/okey" >/dev/null 2>&1
        orthanc_row "with kakou plugin (dicom-basic, keyed)" "\"$PLUGIN\"" \
            ", \"Kakou\": { \"Profile\": \"dicom-basic\", \"Key\": \"$WORK/okey\" }"
    else
        echo "orthanc   with kakou plugin: n/a (no $PLUGIN: make orthanc-plugin)"
    fi
else
    echo "orthanc   n/a: no Orthanc (apt-get install orthanc) or no curl"
fi
