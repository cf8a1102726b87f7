#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0976-gateway-unknown-outcome: the one object whose C-STORE was under
# way when kakou gateway died (spool/sending names it, no sent/ mark) is
# settled before it goes out again, deterministically: the spool is put
# in the state a kill -9 leaves between the destination storing the
# object and the gateway learning it. The restarted gateway asks the
# destination (C-FIND at IMAGE level):
#  - the destination has it: not sent again (it arrives exactly once);
#  - a destination that does not have it: sent, once;
#  - a destination that answers no C-FIND (storescp): sent again with a
#    warning, the window kakou-gateway(1) documents.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gateway-lib.sh"
T="$TESTS/tools"
command -v dcmqrscp >/dev/null || skip "no dcmqrscp"
"$PYTHON" "$T/make_planted.py" "$WORK/pl" >/dev/null || { fail "make_planted.py"; finish; }
n=$("$PYTHON" "$T/make_copies.py" "$WORK/pl/dicom" "$WORK/in" 1) || { fail "make_copies.py"; finish; }
"$KAKOU" key new "$WORK/key" >/dev/null 2>&1 || { fail "kakou key new"; finish; }
S="$WORK/spool"
P_GW=$(free_port) && P_A=$(free_port) && P_B=$(free_port) && P_C=$(free_port) || { fail "no free port"; finish; }
start_qrscp "$WORK/a" "$P_A" || { fail "dcmqrscp did not start"; finish; }
gw_args() { echo --listen "$P_GW" --forward "DEST@127.0.0.1:$1" --spool "$S" -k "$WORK/key" --db "$WORK/map.db" --retry-delay 0.2; }
queue_empty() { [ -z "$(ls -A "$S/queue")" ]; }
report() { "$PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["unknown_outcomes"], r["unknown_found"], r["unknown_resent"], r["forwarded"])' "$1"; }

# a first run delivers the set to A
start_gw "$WORK/gw1.log" $(gw_args "$P_A") || { fail "gateway did not start"; cat "$WORK/gw1.log"; finish; }
storescu +sd +r 127.0.0.1 "$P_GW" "$WORK/in" >/dev/null 2>&1 || fail "storescu"
wait_for 30 sh -c "[ \$(find '$WORK/a' -maxdepth 1 -name '*.dcm' | wc -l) -ge $n ]" && wait_for 10 queue_empty ||
    fail "the set did not reach the destination"
stop_pid "$GW_PID"
F=$(find "$WORK/a" -maxdepth 1 -name '*.dcm' | head -1)
U=$(qr_uids "$WORK/a" | head -1)
[ -n "$U" ] && [ -e "$S/sent/$U" ] || { fail "no delivered instance to play with"; finish; }
# what a kill -9 leaves when it comes after the destination stored U and
# before the gateway marked it sent
in_flight() { cp "$F" "$S/queue/$U.dcm" && rm -f "$S/sent/$U" && printf '%s\n' "$U.dcm" >"$S/sending"; }

# --- the destination has it
in_flight
start_gw "$WORK/gw2.log" $(gw_args "$P_A") --report "$WORK/r2.json" || { fail "gateway did not restart"; finish; }
wait_for 20 queue_empty || fail "the in-flight object is still queued after 20 s"
stop_pid "$GW_PID"
[ "$(qr_stored "$WORK/a")" = "$n" ] && [ "$(qr_dups "$WORK/a")" = 0 ] && ok "the destination had it: not sent again" ||
    fail "destination holds $(qr_stored "$WORK/a"), second copies $(qr_dups "$WORK/a"); wanted $n, 0"
[ "$(report "$WORK/r2.json")" = "1 1 0 1" ] || fail "report: $(report "$WORK/r2.json"), wanted 1 1 0 1"
grep -q "destination has it: not sent again" "$WORK/gw2.log" || fail "no log line for the settled object"
[ -e "$S/sent/$U" ] && ok "marked sent" || fail "not marked sent"

# --- a destination that does not have it
start_qrscp "$WORK/b" "$P_B" || { fail "dcmqrscp did not start"; finish; }
in_flight
start_gw "$WORK/gw3.log" $(gw_args "$P_B") --report "$WORK/r3.json" || { fail "gateway did not restart"; finish; }
wait_for 20 queue_empty || fail "the in-flight object is still queued after 20 s"
stop_pid "$GW_PID"
[ "$(qr_stored "$WORK/b")" = 1 ] && [ "$(qr_uids "$WORK/b")" = "$U" ] && [ "$(qr_dups "$WORK/b")" = 0 ] &&
    ok "the destination did not have it: sent once" || fail "second destination holds $(qr_stored "$WORK/b")"
[ "$(report "$WORK/r3.json")" = "1 0 0 1" ] || fail "report: $(report "$WORK/r3.json"), wanted 1 0 0 1"

# --- a destination that cannot be asked (storescp answers no C-FIND)
start_storescp "$WORK/c" "$P_C" || { fail "storescp did not start"; finish; }
in_flight
start_gw "$WORK/gw4.log" $(gw_args "$P_C") --report "$WORK/r4.json" || { fail "gateway did not restart"; finish; }
wait_for 20 queue_empty || fail "the in-flight object is still queued after 20 s"
stop_pid "$GW_PID"
[ "$(files_in "$WORK/c")" = 1 ] && ok "no C-FIND at the destination: sent again (the documented window)" ||
    fail "storescp got $(files_in "$WORK/c")"
[ "$(report "$WORK/r4.json")" = "1 0 1 1" ] || fail "report: $(report "$WORK/r4.json"), wanted 1 0 1 1"
grep -q "cannot be asked.*it may arrive twice" "$WORK/gw4.log" && ok "and says so" || fail "no warning for the resend"
finish
