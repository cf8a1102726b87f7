#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0977-gateway-parallel-forward: kakou gateway --forward-associations N.
# A backlog of 90 instances, queued while the destination was down, is
# forwarded over 3 associations at once to a destination that serves
# several (storescp --fork, a file per object received): each instance
# arrives exactly once, the report counts each association's share and
# more than one association forwarded some. Then a restart with 1 association
# finds the C-STORE a third sender of the larger run left in flight
# (spool/sending.2 names it, no sent/ mark): its outcome is unknown, and
# storescp cannot be asked (no C-FIND), so it is sent again and counted
# as such. (Kill -9 with several senders against a destination that
# answers C-FIND: t0971's logic, per sending file; dcmqrscp lost objects
# it had answered Success for when stored to in parallel, so it is not
# the destination here.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gateway-lib.sh"
T="$TESTS/tools"
"$PYTHON" "$T/make_planted.py" "$WORK/pl" >/dev/null || { fail "make_planted.py"; finish; }
n=$("$PYTHON" "$T/make_copies.py" "$WORK/pl/dicom" "$WORK/in" 30) || { fail "make_copies.py"; finish; }
[ "$n" = 90 ] || { fail "make_copies wrote $n instances, wanted 90"; finish; }
"$KAKOU" key new "$WORK/key" >/dev/null 2>&1 || { fail "kakou key new"; finish; }
P_GW=$(free_port) && P_DST=$(free_port) || { fail "no free port"; finish; }
GWARGS=(--listen "$P_GW" --forward "DEST@127.0.0.1:$P_DST" --spool "$WORK/spool" -k "$WORK/key"
        --retry-delay 0.2 --retry-max 0.2)
expect_exit 2 "$KAKOU" gateway "${GWARGS[@]}" --forward-associations 17 2>"$WORK/err17"
grep -q 'forward-associations' "$WORK/err17" || fail "no message naming --forward-associations"

# the backlog: everything queued while the destination is down
start_gw "$WORK/gw1.log" "${GWARGS[@]}" --forward-associations 3 --report "$WORK/report1.json" ||
    { fail "gateway did not start"; cat "$WORK/gw1.log"; finish; }
storescu -aet SENDER +sd +r 127.0.0.1 "$P_GW" "$WORK/in" >/dev/null 2>&1 || fail "storescu to the gateway"
ns=$(find "$WORK/spool" -maxdepth 1 -name 'sending*' | wc -l)
[ "$ns" = 3 ] && ok "one sending file per sender (3)" || fail "$ns sending files, wanted 3"
mkdir -p "$WORK/dest"
storescp --fork -od "$WORK/dest" +uf "$P_DST" >"$WORK/dest.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 60 sh -c "[ \$(find '$WORK/dest' -type f | wc -l) -ge 90 ] && [ -z \"\$(ls -A '$WORK/spool/queue')\" ]" ||
    fail "not everything arrived within 60 s"
stop_pid "$GW_PID"
[ "$STOP_RC" = 0 ] || fail "the gateway exited $STOP_RC on SIGTERM"
got=$(files_in "$WORK/dest")
uniq=$(sop_uids "$WORK/dest" | sort -u | wc -l)
[ "$got" = 90 ] && [ "$uniq" = 90 ] && ok "each instance arrived exactly once (90)" ||
    fail "$got files, $uniq distinct SOP Instance UIDs at the destination, wanted 90"
"$PYTHON" - "$WORK/report1.json" >"$WORK/rep1.check" 2>&1 <<'PY' && ok "report: $(cat "$WORK/rep1.check")" || { fail "report"; sed 's/^/    /' "$WORK/rep1.check"; }
import json, sys
r = json.load(open(sys.argv[1]))
by = r["forwarded_by_association"]
assert len(by) == 3, "forwarded_by_association %r: wanted 3 entries" % by
assert r["forwarded"] == 90 and sum(by) == 90, "forwarded %d as %r, wanted 90" % (r["forwarded"], by)
# (which sender wakes first after the destination comes up is the
# scheduler's call: on a loaded machine one of three once took all 90, so
# what is asked is that the work was shared, not shared by all)
assert sum(1 for b in by if b > 0) >= 2, "one association forwarded everything: %r" % by
print("forwarded 90 as %r" % by)
PY

# a C-STORE the third sender had under way when the gateway died: its
# object back in queue/, no sent/ mark, its name in spool/sending.2
one=$(find "$WORK/dest" -type f | head -1)
uid=$(sop_uids "$one" 2>/dev/null | head -1)
[ -z "$uid" ] && uid=$("$PYTHON" "$T/dcm_check.py" sopuid "$one" | cut -f1)
cp "$one" "$WORK/spool/queue/$uid.dcm" && rm -f "$WORK/spool/sent/$uid" &&
    printf '%s.dcm\n' "$uid" >"$WORK/spool/sending.2" || fail "cannot set up the in-flight object"
: >"$WORK/spool/sending"
start_gw "$WORK/gw2.log" "${GWARGS[@]}" --report "$WORK/report2.json" ||
    { fail "gateway did not restart"; cat "$WORK/gw2.log"; finish; }
wait_for 30 sh -c "[ -z \"\$(ls -A '$WORK/spool/queue')\" ]" || fail "the resumed object was not forwarded"
stop_pid "$GW_PID"
"$PYTHON" - "$WORK/report2.json" >"$WORK/rep2.check" 2>&1 <<'PY' && ok "resumed: $(cat "$WORK/rep2.check")" || { fail "resume report"; sed 's/^/    /' "$WORK/rep2.check"; }
import json, sys
r = json.load(open(sys.argv[1]))
assert r["resumed"] == 1, "resumed %d, wanted 1" % r["resumed"]
assert r["unknown_outcomes"] == 1 and r["unknown_resent"] == 1, \
    "unknown outcomes %d, sent again %d: wanted 1 and 1 (sending.2 read)" % (r["unknown_outcomes"], r["unknown_resent"])
assert r["forwarded_by_association"] == [1], "shares %r" % r["forwarded_by_association"]
print("the object named by sending.2 settled as an unknown outcome and sent again")
PY
grep -q "may arrive twice" "$WORK/gw2.log" && ok "the log says it may arrive twice" ||
    fail "no warning that it may arrive twice"
[ "$(files_in "$WORK/dest")" = 91 ] && ok "it arrived again (91 files)" || fail "$(files_in "$WORK/dest") files at the destination, wanted 91"
finish
