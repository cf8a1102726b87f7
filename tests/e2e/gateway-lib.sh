# SPDX-License-Identifier: Apache-2.0
# tests/e2e/gateway-lib.sh - helpers for the network tests (kakou gateway,
# the Orthanc plugin); source after lib.sh. Everything listens on
# 127.0.0.1 only; every process started here is killed on exit (by its
# PID), and every wait is bounded.
command -v storescu >/dev/null && command -v storescp >/dev/null && command -v echoscu >/dev/null ||
    skip "no DCMTK network tools (storescu, storescp, echoscu)"
PIDS=""
MOUNTS=""
gw_cleanup() {
    local p m
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    for m in $MOUNTS; do umount "$m" 2>/dev/null; done
    if [ -n "${KEEP_WORK:-}" ] && [ "$fails" != 0 ]; then echo "work kept in $WORK"; else rm -rf "$WORK"; fi
}
trap gw_cleanup EXIT

# free_port: a port nothing listens on, from a high random range.
free_port() {
    local p i
    for i in $(seq 1 50); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        if ! ss -Htln "sport = :$p" 2>/dev/null | grep -q . &&
           "$PYTHON" -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1',$p))" 2>/dev/null; then
            echo "$p"; return 0
        fi
    done
    return 1
}

# wait_for SECONDS CMD...: run CMD every 0.1 s until it succeeds; 1 on timeout.
wait_for() {
    local t=$1 i; shift
    for i in $(seq 1 $((t * 10))); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# echo_ok PORT [CALLED_AE]: a C-ECHO is answered on PORT.
echo_ok() { echoscu -to 2 -ta 2 -aec "${2:-ANY-SCP}" 127.0.0.1 "$1"; }

# start_storescp DIR PORT: a destination writing each object it gets to a
# file of its own (+uf), so a second copy is a second file. Sets SCP_PID.
start_storescp() {
    mkdir -p "$1"
    storescp -od "$1" +uf "$2" >"$1.log" 2>&1 &
    SCP_PID=$!
    PIDS="$PIDS $SCP_PID"
    wait_for 10 echo_ok "$2"
}

# start_qrscp DIR PORT: a destination that also answers C-FIND at IMAGE
# level (DCMTK's dcmqrscp, AE title DEST, storage and index in DIR; it
# forks per association: with --single-process, DCMTK 3.6.7 crashed
# after the first association when run from a script), so a gateway can
# ask it what it holds. Each stored instance is a file DIR/*.dcm; a
# second copy of an instance is logged "duplicate SOP instance UID" in
# DIR.log. Sets QR_PID.
start_qrscp() {
    mkdir -p "$1"
    printf '%s\n' "NetworkTCPPort = $2" "MaxPDUSize = 16384" "MaxAssociations = 4" \
        "HostTable BEGIN" "HostTable END" "VendorTable BEGIN" "VendorTable END" \
        "AETable BEGIN" "DEST $1 RW (100, 1024mb) ANY" "AETable END" >"$1.cfg"
    dcmqrscp -v -c "$1.cfg" "$2" >"$1.log" 2>&1 &
    QR_PID=$!
    PIDS="$PIDS $QR_PID"
    wait_for 10 echo_ok "$2" DEST
}

# qr_stored DIR: instances a dcmqrscp holds; qr_uids DIR: their SOP
# Instance UIDs; qr_dups DIR: second copies it received (it keeps one,
# and says so).
qr_stored() { find "$1" -maxdepth 1 -name '*.dcm' | wc -l; }
qr_uids() {
    find "$1" -maxdepth 1 -name '*.dcm' -print0 | xargs -0 -r "$PYTHON" "$TESTS/tools/dcm_check.py" sopuid |
        cut -f1
}
qr_dups() { grep -c 'duplicate SOP instance UID' "$1.log"; }

# start_gw LOG ARGS...: kakou gateway in the background; waits until it
# answers C-ECHO. Sets GW_PID.
start_gw() {
    local log=$1 listen="" prev="" a; shift
    for a in "$@"; do [ "$prev" = --listen ] && listen=$a; prev=$a; done
    "$KAKOU" gateway -v "$@" >"$log" 2>&1 &
    GW_PID=$!
    PIDS="$PIDS $GW_PID"
    case "$listen" in
    *@*) wait_for 20 echo_ok "${listen#*@}" "${listen%%@*}" ;;
    *) wait_for 20 echo_ok "$listen" ;;
    esac
}

# stop_pid PID [SECONDS]: SIGTERM, wait up to SECONDS (10), then SIGKILL;
# the exit status goes to STOP_RC (not a subshell: only the parent can wait).
stop_pid() {
    local pid=$1 t=${2:-10} i
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 $((t * 10))); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
    wait "$pid" 2>/dev/null
    STOP_RC=$?
}

# sop_uids DIR: the SOP Instance UIDs of every file under DIR, one a line.
sop_uids() {
    find "$1" -type f ! -name '*.log' ! -name '.*' -print0 | xargs -0 -r "$PYTHON" "$TESTS/tools/dcm_check.py" sopuid |
        cut -f1
}

# files_in DIR: how many files (not logs) DIR holds.
files_in() { find "$1" -type f ! -name '*.log' 2>/dev/null | wc -l; }

# acked LOG: how many C-STORE storescu -v saw answered Success or Warning.
acked() { grep -cE 'Received Store Response \((Success|Warning)' "$1"; }
