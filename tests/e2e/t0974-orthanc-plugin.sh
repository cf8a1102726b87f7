#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0974-orthanc-plugin: Debian 12's Orthanc, started by the test on its own
# ports in a private network namespace (loopback only; the package's own
# Orthanc on 4242/8042 is not touched), with build/kakou-orthanc.so and a
# "Kakou" section (dicom-basic, a key, a store):
#  - storescu a planted set (make_planted.py): every instance fetched back
#    over REST holds no planted value, and the store has their audit rows;
#  - the same study sent again to a fresh Orthanc (restarted, empty) gets
#    the same UIDs;
#  - an instance that cannot be de-identified is refused to the C-STORE
#    sender (0xC000) and is not stored; over REST it is not stored either;
#  - without a "Kakou" section Orthanc does not start (fail closed).
. "$(dirname "$0")/lib.sh"
ORTHANC=/usr/sbin/Orthanc
PLUGIN="$BUILD/kakou-orthanc.so"
[ -x "$ORTHANC" ] || skip "no Orthanc (apt-get install orthanc)"
[ -f "$PLUGIN" ] || skip "no $PLUGIN (make orthanc-plugin; needs orthanc-dev)"
command -v curl >/dev/null || skip "no curl"
# Orthanc is not built with the sanitizers: it cannot load a plugin that is
ldd "$PLUGIN" 2>/dev/null | grep -Eq 'lib(asan|ubsan|tsan)' &&
    skip "sanitizer build: Orthanc cannot load an instrumented plugin"
# a network namespace of our own: nothing listens off-box
if [ -z "${KK_IN_NETNS:-}" ]; then
    if unshare -n true 2>/dev/null; then
        rm -rf "$WORK"
        KK_IN_NETNS=1 exec unshare -n bash "$0" "$@"
    fi
    echo "no network namespace (not root?): Orthanc listens on 127.0.0.1 ports only by its config"
else
    ip link set lo up || { fail "cannot bring up lo in the namespace"; finish; }
fi
. "$(dirname "$0")/gateway-lib.sh"
T="$TESTS/tools"
"$PYTHON" "$T/make_planted.py" "$WORK/pl" >/dev/null || { fail "make_planted.py"; finish; }
"$KAKOU" key new "$WORK/key" >/dev/null 2>&1 || { fail "kakou key new"; finish; }

# start_orthanc NAME [KAKOU_JSON]: an Orthanc with its own storage; sets
# OR_PID, HTTP, DICOM
start_orthanc() {
    local name=$1 section=${2-} extra=""
    [ -n "$section" ] && extra=", \"Kakou\": $section"
    HTTP=$(free_port) && DICOM=$(free_port) || return 1
    mkdir -p "$WORK/$name"
    cat >"$WORK/$name/orthanc.json" <<JSON
{
  "Name": "kakou-test-$name",
  "StorageDirectory": "$WORK/$name/storage",
  "IndexDirectory": "$WORK/$name/index",
  "HttpPort": $HTTP,
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false,
  "DicomServerEnabled": true,
  "DicomAet": "ORTHANC",
  "DicomPort": $DICOM,
  "DicomThreadsCount": 4,
  "DicomAlwaysAllowStore": true,
  "DicomCheckCalledAet": false,
  "SaveJobs": false,
  "StableAge": 2,
  "Plugins": [ "$PLUGIN" ]$extra
}
JSON
    "$ORTHANC" --logdir="$WORK/$name" "$WORK/$name/orthanc.json" >"$WORK/$name/stdout" 2>&1 &
    OR_PID=$!
    PIDS="$PIDS $OR_PID"
    local i
    for i in $(seq 1 300); do
        curl -sf "http://127.0.0.1:$HTTP/system" >/dev/null 2>&1 && return 0
        kill -0 "$OR_PID" 2>/dev/null || return 1 # it gave up
        sleep 0.1
    done
    return 1
}
rest() { curl -sf "http://127.0.0.1:$HTTP$1"; }
instance_ids() { rest /instances | "$PYTHON" -c 'import json,sys; print("\n".join(json.load(sys.stdin)))'; }
sop_of() { rest "/instances/$1/simplified-tags" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["SOPInstanceUID"])'; }

KAKOU_JSON="{ \"Profile\": \"dicom-basic\", \"Options\": [ ], \"Key\": \"$WORK/key\", \"Store\": \"$WORK/map.db\" }"
start_orthanc o1 "$KAKOU_JSON" || { fail "Orthanc with the plugin did not start"; tail -20 "$WORK"/o1/*.log 2>/dev/null; finish; }
ok "Orthanc $(rest /system | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["Version"])') with the plugin"
grep -q "kakou: profile dicom-basic, keyed, store" "$WORK"/o1/*.log && ok "the plugin says what it runs" ||
    fail "no plugin start line in Orthanc's log"

storescu -v -aec ORTHANC +sd +r 127.0.0.1 "$DICOM" "$WORK/pl/dicom" >"$WORK/send1.log" 2>&1 || fail "storescu to Orthanc"
[ "$(acked "$WORK/send1.log")" = 3 ] || fail "$(acked "$WORK/send1.log") of 3 acknowledged"
mkdir -p "$WORK/fetched"
for id in $(instance_ids); do rest "/instances/$id/file" >"$WORK/fetched/$id.dcm"; done
[ "$(files_in "$WORK/fetched")" = 3 ] && ok "3 instances fetched over REST" || fail "$(files_in "$WORK/fetched") instances in Orthanc"
if "$PYTHON" "$T/scan_phi.py" "$WORK/pl/planted.tsv" "$WORK/fetched" >"$WORK/leaks" 2>"$WORK/scan.err"; then
    ok "no planted value in what Orthanc stored ($(cat "$WORK/scan.err"))"
else
    fail "planted values in Orthanc: $(grep -c '^LEAK' "$WORK/leaks")"; sed -n 1,10p "$WORK/leaks" | sed 's/^/    /'
fi
"$PYTHON" "$T/dcm_check.py" refcheck "$WORK/fetched" --inputs "$WORK/pl/dicom" --min 2 >"$WORK/ref" &&
    ok "references resolve" || { fail "refcheck"; sed 's/^/    /' "$WORK/ref"; }
uids1=$(for id in $(instance_ids); do sop_of "$id"; done | sort)
rows=$(sqlite3 "$WORK/map.db" "SELECT count(*) FROM audit WHERE status='ok'")
[ "$rows" = 3 ] && ok "3 audit rows committed" || fail "$rows audit rows"
# the plugin's rows are in the keyed chain (issue 19)
"$KAKOU" db verify --db "$WORK/map.db" -k "$WORK/key" >/dev/null 2>&1 && ok "the keyed audit chain verifies" ||
    fail "db verify -k: exit $?"

# an instance that cannot be de-identified: refused to the sender, not stored
"$PYTHON" - "$(find "$WORK/pl/dicom" -name '*.dcm' | sort | head -1)" "$WORK/bad.dcm" <<'PY' || fail "cannot make the bad object"
import sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
ds.Rows, ds.Columns = 4096, 4096
ds.SOPInstanceUID = ds.SOPInstanceUID + ".99"
ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
ds.save_as(sys.argv[2], write_like_original=True)
PY
storescu -v -aec ORTHANC 127.0.0.1 "$DICOM" "$WORK/bad.dcm" >"$WORK/bad.log" 2>&1 &&
    fail "storescu exit 0 for an instance the plugin cannot de-identify"
grep -q 'Received Store Response (Error: CannotUnderstand)' "$WORK/bad.log" &&
    ok "the sender is told 0xC000" || { fail "not refused with 0xC000"; grep -i response "$WORK/bad.log" | sed 's/^/    /'; }
code=$(curl -s -o "$WORK/rest.out" -w '%{http_code}' --data-binary @"$WORK/bad.dcm" "http://127.0.0.1:$HTTP/instances")
[ "$(instance_ids | wc -l)" = 3 ] && ok "neither stored (C-STORE, REST answered $code)" ||
    fail "Orthanc holds $(instance_ids | wc -l) instances after the bad ones"
grep -q "kakou: an instance cannot be de-identified and is not stored: .*Pixel Data holds" "$WORK"/o1/*.log &&
    ok "Orthanc's log says why" || fail "no reason in Orthanc's log"
stop_pid "$OR_PID" 20

# the same study again, to an Orthanc started afresh: the same UIDs
start_orthanc o2 "$KAKOU_JSON" || { fail "second Orthanc did not start"; finish; }
storescu -aec ORTHANC +sd +r 127.0.0.1 "$DICOM" "$WORK/pl/dicom" >/dev/null 2>&1 || fail "storescu to the second Orthanc"
uids2=$(for id in $(instance_ids); do sop_of "$id"; done | sort)
[ -n "$uids1" ] && [ "$uids1" = "$uids2" ] && ok "the same study sent again gets the same UIDs" ||
    fail "UIDs differ: $uids1 / $uids2"
case "$uids1" in *1.2.999.7731*) fail "an original UID was stored" ;; esac
stop_pid "$OR_PID" 20

# no "Kakou" section: Orthanc does not start
start_orthanc o3 "" && fail "Orthanc started with the plugin and no Kakou section" ||
    ok "no Kakou section: Orthanc does not start"
grep -q 'no "Kakou" section' "$WORK"/o3/*.log "$WORK/o3/stdout" 2>/dev/null || fail "no message about the missing section"
finish
