#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0970-gateway-stream: storescu x4 -> kakou gateway -> storescp, real DCMTK
# tools on 127.0.0.1. Four senders at once, 12 planted instances each
# (make_planted.py, copied with their own UIDs by make_copies.py): four
# associations are served at the same time; every instance acknowledged
# arrives exactly once, de-identified (no planted value: scan_phi.py), with
# references resolving among the outputs, under the UIDs `kakou deid` gives
# with the same key; an AE title not in --allow is refused; the log and the
# report carry no planted value and the right counts; SIGTERM ends it with 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gateway-lib.sh"
T="$TESTS/tools"
"$PYTHON" "$T/make_planted.py" "$WORK/pl" >/dev/null || { fail "make_planted.py"; finish; }
n=$("$PYTHON" "$T/make_copies.py" "$WORK/pl/dicom" "$WORK/in" 16) || { fail "make_copies.py"; finish; }
[ "$n" = 48 ] || { fail "make_copies wrote $n instances, wanted 48"; finish; }
for s in 1 2 3 4; do
    mkdir -p "$WORK/send$s"
    for k in $(seq $s 4 16); do mv "$WORK/in/$k" "$WORK/send$s/"; done
done
"$KAKOU" key new "$WORK/key" >/dev/null 2>&1 || { fail "kakou key new"; finish; }
P_GW=$(free_port) && P_DST=$(free_port) || { fail "no free port"; finish; }
mkdir -p "$WORK/log"
start_storescp "$WORK/dest" "$P_DST" || { fail "storescp did not start"; finish; }
start_gw "$WORK/log/gw.log" --listen "GW@$P_GW" --forward "DEST@127.0.0.1:$P_DST" \
    --spool "$WORK/spool" -k "$WORK/key" -j 4 --allow S1,S2,S3,S4,ECHOSCU \
    --report "$WORK/report.json" || { fail "gateway did not answer C-ECHO"; cat "$WORK/log/gw.log"; finish; }
ok "gateway answers C-ECHO"

# a sender not in --allow, and one calling another AE title, are refused
storescu -aet INTRUDER -aec GW 127.0.0.1 "$P_GW" "$WORK/send1/1/0.dcm" >"$WORK/intruder.log" 2>&1 &&
    fail "an association from INTRUDER was accepted" || ok "INTRUDER refused"
storescu -aet S1 -aec OTHER 127.0.0.1 "$P_GW" "$WORK/send1/1/0.dcm" >"$WORK/other.log" 2>&1 &&
    fail "an association called OTHER was accepted" || ok "called AE title OTHER refused"

for s in 1 2 3 4; do
    storescu -v -aet "S$s" -aec GW +sd +r 127.0.0.1 "$P_GW" "$WORK/send$s" >"$WORK/send$s.log" 2>&1 &
    eval "SND$s=\$!"
done
for s in 1 2 3 4; do
    eval "p=\$SND$s"
    wait "$p" || fail "storescu S$s exited $?"
done
a=0
for s in 1 2 3 4; do a=$((a + $(acked "$WORK/send$s.log"))); done
[ "$a" = 48 ] && ok "48 instances acknowledged" || fail "$a instances acknowledged, wanted 48"
# four associations open at once (accepted/ended lines of the log)
max=$(awk '/ accepted /{n++; if (n > m) m = n} / released after | ended after /{n--} END{print m+0}' \
    "$WORK/log/gw.log")
[ "$max" -ge 4 ] && ok "$max associations served at once" || fail "at most $max associations at once"

wait_for 60 sh -c "[ \$(find '$WORK/dest' -type f | wc -l) -ge $a ] && [ -z \"\$(ls -A '$WORK/spool/queue')\" ]" ||
    fail "the spool did not drain in 60 s"
got=$(files_in "$WORK/dest")
uniq=$(sop_uids "$WORK/dest" | sort -u | wc -l)
[ "$got" = "$a" ] && [ "$uniq" = "$a" ] && ok "each acknowledged instance arrived once ($got)" ||
    fail "$got files, $uniq distinct SOP Instance UIDs at the destination, wanted $a"
if "$PYTHON" "$T/scan_phi.py" "$WORK/pl/planted.tsv" "$WORK/dest" >"$WORK/leaks" 2>"$WORK/scan.err"; then
    ok "no planted value arrived ($(cat "$WORK/scan.err"))"
else
    fail "planted values arrived: $(grep -c '^LEAK' "$WORK/leaks")"; sed -n 1,20p "$WORK/leaks" | sed 's/^/    /'
fi
mkdir -p "$WORK/allin" && cp -r "$WORK"/send*/* "$WORK/allin/"
if "$PYTHON" "$T/dcm_check.py" refcheck "$WORK/dest" --inputs "$WORK/allin" --min 32 >"$WORK/ref"; then
    ok "references: $(tail -1 "$WORK/ref")"
else
    fail "refcheck"; sed -n 1,20p "$WORK/ref" | sed 's/^/    /'
fi
# the UIDs are the keyed ones kakou deid gives under the same key
"$KAKOU" deid -q -k "$WORK/key" -o "$WORK/deid" "$WORK/allin" 2>"$WORK/deid.err" || fail "kakou deid"
if [ "$(sop_uids "$WORK/deid" | sort)" = "$(sop_uids "$WORK/dest" | sort)" ]; then
    ok "the same SOP Instance UIDs as kakou deid with the same key"
else
    fail "the gateway's UIDs differ from kakou deid's"
fi

stop_pid "$GW_PID"
[ "$STOP_RC" = 0 ] && ok "SIGTERM: exit 0" || fail "the gateway did not exit 0 on SIGTERM"
"$PYTHON" - "$WORK/report.json" >"$WORK/rep.check" 2>&1 <<'PY' && ok "report counts" || { fail "report"; sed 's/^/    /' "$WORK/rep.check"; }
import json, sys
r = json.load(open(sys.argv[1]))
want = {"received": 48, "stored": 48, "forwarded": 48, "dead_letters": 0, "refused_deid": 0,
        "refused_resources": 0}
bad = {k: r.get(k) for k, v in want.items() if r.get(k) != v}
ae = r["calling_ae_titles"]
for s in ("S1", "S2", "S3", "S4"):
    if ae.get(s, {}).get("stored") != 12:
        bad["ae " + s] = ae.get(s)
if r["associations_refused"] < 2:
    bad["associations_refused"] = r["associations_refused"]
if r["sop_classes"].get("CTImageStorage", {}).get("forwarded") != 32:
    bad["CT"] = r["sop_classes"].get("CTImageStorage")
if r["destination_statuses"] != {"0x0000": 48}:
    bad["statuses"] = r["destination_statuses"]
print(bad or "ok")
sys.exit(1 if bad else 0)
PY
cp "$WORK/report.json" "$WORK/log/"
if "$PYTHON" "$T/scan_phi.py" --allow filename,dirname "$WORK/pl/planted.tsv" "$WORK/log" >"$WORK/logleaks" 2>/dev/null; then
    ok "log and report carry no planted value"
else
    fail "log or report carry planted values"; sed -n 1,10p "$WORK/logleaks" | sed 's/^/    /'
fi
finish
