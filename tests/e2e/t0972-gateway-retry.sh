#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0972-gateway-retry: the forwarding side of kakou gateway against a
# destination that is down, one that refuses, one that warns.
#  - down: objects are acknowledged (they are safe in the spool), the
#    destination is retried with growing back-off, and everything is
#    delivered once it comes up;
#  - refusing (0xA700 to every C-STORE, tests/tools/status_scp): each object
#    is tried --attempts times with back-off, then moved to dead/ with the
#    reason; the sender loop goes on (a later object is tried too);
#  - warning (0xB007): stored, so delivered once and never retried.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gateway-lib.sh"
T="$TESTS/tools"
SCP="$BUILD/tests/status_scp"
[ -x "$SCP" ] || { fail "no $SCP (make build/tests/status_scp)"; finish; }
"$PYTHON" "$T/make_planted.py" "$WORK/pl" >/dev/null || { fail "make_planted.py"; finish; }
"$PYTHON" "$T/make_copies.py" "$WORK/pl/dicom" "$WORK/in" 2 >/dev/null || { fail "make_copies.py"; finish; }
"$KAKOU" key new "$WORK/key" >/dev/null 2>&1 || { fail "kakou key new"; finish; }

# --- down for a while, then up
P_GW=$(free_port) && P_DST=$(free_port) || { fail "no free port"; finish; }
start_gw "$WORK/down.log" --listen "$P_GW" --forward "DEST@127.0.0.1:$P_DST" --spool "$WORK/s1" \
    -k "$WORK/key" --retry-delay 0.2 --retry-max 1 || { fail "gateway did not start"; finish; }
GW1=$GW_PID
storescu -v +sd +r 127.0.0.1 "$P_GW" "$WORK/in" >"$WORK/send1.log" 2>&1 || fail "storescu to a gateway whose destination is down"
[ "$(acked "$WORK/send1.log")" = 6 ] && ok "6 acknowledged while the destination is down" ||
    fail "$(acked "$WORK/send1.log") acknowledged while the destination is down, wanted 6"
wait_for 10 sh -c "[ \$(grep -c 'next try in' '$WORK/down.log') -ge 4 ]" || fail "no back-off in 10 s"
delays=$(sed -n 's/.*cannot open an association.*next try in \([0-9.]*\) s.*/\1/p' "$WORK/down.log" | head -4 | tr '\n' ' ')
[ "$delays" = "0.2 0.4 0.8 1.0 " ] && ok "back-off 0.2 0.4 0.8 1.0 s" || fail "back-off delays: $delays"
[ "$(files_in "$WORK/s1/queue")" = 6 ] && ok "6 objects wait in the queue" || fail "queue holds $(files_in "$WORK/s1/queue")"
start_storescp "$WORK/dest" "$P_DST" || fail "storescp did not start"
wait_for 15 sh -c "[ \$(find '$WORK/dest' -type f | wc -l) -ge 6 ]" && ok "delivered once the destination is up" ||
    fail "$(files_in "$WORK/dest") of 6 delivered after the destination came up"
wait_for 5 sh -c "[ -z \"\$(ls -A '$WORK/s1/queue')\" ]" || fail "queue not empty"
[ "$(sop_uids "$WORK/dest" | sort -u | wc -l)" = 6 ] || fail "not 6 distinct instances at the destination"
stop_pid "$GW1"

# --- refusing: dead letters after 3 attempts
P_GW=$(free_port) && P_REF=$(free_port) || { fail "no free port"; finish; }
"$SCP" "$P_REF" A700 >"$WORK/refuse.out" 2>&1 &
PIDS="$PIDS $!"
wait_for 10 echo_ok "$P_REF" || fail "status_scp did not start"
start_gw "$WORK/refuse.log" --listen "$P_GW" --forward "DEST@127.0.0.1:$P_REF" --spool "$WORK/s2" \
    -k "$WORK/key" --attempts 3 --retry-delay 0.1 --retry-max 0.4 --report "$WORK/refuse.json" ||
    { fail "gateway did not start"; finish; }
GW2=$GW_PID
storescu -v +sd +r 127.0.0.1 "$P_GW" "$WORK/in/1" >"$WORK/send2.log" 2>&1 || fail "storescu (refusing destination)"
[ "$(acked "$WORK/send2.log")" = 3 ] || fail "$(acked "$WORK/send2.log") acknowledged, wanted 3"
wait_for 20 sh -c "[ \$(find '$WORK/s2/dead' -name '*.dcm' | wc -l) -ge 3 ]" && ok "3 objects in dead/" ||
    fail "$(find "$WORK/s2/dead" -name '*.dcm' | wc -l) objects in dead/ after 20 s"
sleep 0.5
tries=$(grep -c '^STORE' "$WORK/refuse.out")
[ "$tries" = 9 ] && ok "each object tried 3 times (9 C-STORE)" || fail "$tries C-STORE at the refusing destination, wanted 9"
n=$(grep -l 'attempts: 3' "$WORK"/s2/dead/*.txt 2>/dev/null | xargs -r grep -l 'answered 0xA700' | wc -l)
[ "$n" = 3 ] && ok "each dead letter says why (3 attempts, 0xA700)" || fail "$n reasons name 3 attempts and 0xA700"
grep -q 'attempt 2 of 3 failed.*next in 0.2 s' "$WORK/refuse.log" && ok "per-object back-off doubles" ||
    fail "no 'attempt 2 of 3 ... next in 0.2 s' in the log"
[ -z "$(ls -A "$WORK/s2/queue")" ] || fail "objects left in the queue after dead-lettering"
# the sender goes on: a later object is tried too
storescu +sd +r 127.0.0.1 "$P_GW" "$WORK/in/2/0.dcm" >/dev/null 2>&1 || fail "storescu after dead letters"
wait_for 10 sh -c "[ \$(grep -c '^STORE' '$WORK/refuse.out') -ge 12 ]" && ok "the sender goes on after dead letters" ||
    fail "a later object was not tried"
stop_pid "$GW2"
"$PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["dead_letters"]==4 and r["destination_statuses"]=={"0xA700":12} else 1)' \
    "$WORK/refuse.json" && ok "report: 4 dead letters, 12 x 0xA700" || fail "report: $(cat "$WORK/refuse.json")"

# --- warning: stored, delivered once
P_GW=$(free_port) && P_WARN=$(free_port) || { fail "no free port"; finish; }
"$SCP" "$P_WARN" B007 >"$WORK/warn.out" 2>&1 &
PIDS="$PIDS $!"
wait_for 10 echo_ok "$P_WARN" || fail "status_scp did not start"
start_gw "$WORK/warn.log" --listen "$P_GW" --forward "DEST@127.0.0.1:$P_WARN" --spool "$WORK/s3" \
    -k "$WORK/key" --retry-delay 0.1 --report "$WORK/warn.json" || { fail "gateway did not start"; finish; }
storescu +sd +r 127.0.0.1 "$P_GW" "$WORK/in/1" >/dev/null 2>&1 || fail "storescu (warning destination)"
wait_for 10 sh -c "[ \$(ls '$WORK/s3/sent' | wc -l) -ge 3 ]" || fail "3 objects not delivered"
sleep 0.5
[ "$(grep -c '^STORE' "$WORK/warn.out")" = 3 ] && ok "0xB007 counts as stored: 3 C-STORE, no retry" ||
    fail "$(grep -c '^STORE' "$WORK/warn.out") C-STORE at the warning destination, wanted 3"
[ -z "$(ls -A "$WORK/s3/dead")" ] || fail "a warning sent an object to dead/"
stop_pid "$GW_PID"
"$PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["forwarded_with_warning"]==3 and r["retries"]==0 else 1)' \
    "$WORK/warn.json" && ok "report: 3 forwarded with warning, no retry" || fail "report: $(cat "$WORK/warn.json")"
finish
