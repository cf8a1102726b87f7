#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0975-gateway-tls: kakou gateway over TLS on both sides (DCMTK's
# dcmtls), with DCMTK's own storescu and storescp and their TLS options at
# the ends, and certificates made here by openssl req:
#   storescu +tls -> kakou gateway (--tls-*) -> storescp +tls (--forward-*)
#  - instances arrive de-identified (no planted value) over TLS;
#  - a sender without TLS is refused, and so is one whose certificate
#    another CA signed, and one that does not trust the gateway's CA;
#  - forwarding to a destination whose certificate the given CA did not
#    sign delivers nothing (the objects stay queued).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gateway-lib.sh"
T="$TESTS/tools"
command -v openssl >/dev/null || skip "no openssl"
"$PYTHON" "$T/make_planted.py" "$WORK/pl" >/dev/null || { fail "make_planted.py"; finish; }
n=$("$PYTHON" "$T/make_copies.py" "$WORK/pl/dicom" "$WORK/in" 2) || { fail "make_copies.py"; finish; }
"$KAKOU" key new "$WORK/key" >/dev/null 2>&1 || { fail "kakou key new"; finish; }

# two CAs; the gateway, the destination and a sender signed by the first,
# an intruder by the second
C="$WORK/pki"
mkdir -p "$C"
ca() { openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" -keyout "$C/$1.key" -out "$C/$1.pem" 2>/dev/null; }
leaf() {
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$C/$1.key" -out "$C/$1.csr" 2>/dev/null &&
        openssl x509 -req -days 2 -in "$C/$1.csr" -CA "$C/$2.pem" -CAkey "$C/$2.key" -CAcreateserial \
            -out "$C/$1.pem" 2>/dev/null
}
ca ca1 && ca ca2 && leaf gw ca1 && leaf dest ca1 && leaf sender ca1 && leaf intruder ca2 ||
    { fail "openssl could not make the certificates"; finish; }

P_GW=$(free_port) && P_DST=$(free_port) && P_GW2=$(free_port) || { fail "no free port"; finish; }
tls() { echo +tls "$C/$1.key" "$C/$1.pem" -pw +cf "$C/$2.pem"; }
mkdir -p "$WORK/dest"
storescp $(tls dest ca1) -od "$WORK/dest" +uf "$P_DST" >"$WORK/dest.log" 2>&1 &
PIDS="$PIDS $!"
echo_tls() { echoscu -to 2 -ta 2 $(tls sender ca1) -aec ANY 127.0.0.1 "$1"; }
wait_for 10 echo_tls "$P_DST" || { fail "storescp +tls did not start"; cat "$WORK/dest.log"; finish; }
GWTLS=(--tls-key "$C/gw.key" --tls-cert "$C/gw.pem" --tls-ca "$C/ca1.pem")
"$KAKOU" gateway -v --listen "$P_GW" --forward "DEST@127.0.0.1:$P_DST" --spool "$WORK/spool" -k "$WORK/key" \
    "${GWTLS[@]}" --forward-tls --forward-ca "$C/ca1.pem" --forward-key "$C/gw.key" --forward-cert "$C/gw.pem" \
    --report "$WORK/report.json" >"$WORK/gw.log" 2>&1 &
GW=$!
PIDS="$PIDS $GW"
wait_for 20 echo_tls "$P_GW" && ok "the gateway answers C-ECHO over TLS" ||
    { fail "the gateway did not answer C-ECHO over TLS"; cat "$WORK/gw.log"; finish; }

# refused: no TLS; a certificate of another CA; a sender not trusting ca1
one="$(find "$WORK/in" -name '*.dcm' | head -1)"
storescu -to 5 -ta 5 127.0.0.1 "$P_GW" "$one" >"$WORK/plain.log" 2>&1 &&
    fail "a sender without TLS was accepted" || ok "a sender without TLS is refused"
storescu -to 5 -ta 5 $(tls intruder ca1) 127.0.0.1 "$P_GW" "$one" >"$WORK/intruder.log" 2>&1 &&
    fail "a sender with a certificate of another CA was accepted" || ok "a certificate of another CA is refused"
storescu -to 5 -ta 5 $(tls sender ca2) 127.0.0.1 "$P_GW" "$one" >"$WORK/wrongca.log" 2>&1 &&
    fail "a sender that does not trust the gateway's CA went on" || ok "a sender trusting another CA refuses the gateway"
[ "$(files_in "$WORK/spool/queue")" = 0 ] && [ "$(files_in "$WORK/dest")" = 0 ] || fail "a refused sender's object was kept"

storescu -v $(tls sender ca1) +sd +r 127.0.0.1 "$P_GW" "$WORK/in" >"$WORK/send.log" 2>&1 || fail "storescu +tls exited $?"
[ "$(acked "$WORK/send.log")" = "$n" ] && ok "$n instances acknowledged over TLS" ||
    fail "$(acked "$WORK/send.log") acknowledged over TLS, wanted $n"
wait_for 30 sh -c "[ \$(find '$WORK/dest' -type f | wc -l) -ge $n ]" || fail "not everything arrived in 30 s"
[ "$(files_in "$WORK/dest")" = "$n" ] && [ "$(sop_uids "$WORK/dest" | sort -u | wc -l)" = "$n" ] &&
    ok "each arrived once over TLS ($n)" || fail "$(files_in "$WORK/dest") files at the destination, wanted $n"
if "$PYTHON" "$T/scan_phi.py" "$WORK/pl/planted.tsv" "$WORK/dest" >"$WORK/leaks" 2>"$WORK/scan.err"; then
    ok "de-identified: no planted value arrived"
else
    fail "planted values arrived: $(head -3 "$WORK/leaks")"
fi
grep -q "listening on 127.0.0.1:$P_GW (TLS), forwarding to DEST@127.0.0.1:$P_DST (TLS)" "$WORK/gw.log" ||
    fail "the log does not say TLS on both sides"
stop_pid "$GW"
[ "$STOP_RC" = 0 ] || fail "the gateway exited $STOP_RC on SIGTERM"

# forwarding to a destination the given CA did not sign: nothing goes out
"$KAKOU" gateway -v --listen "$P_GW2" --forward "DEST@127.0.0.1:$P_DST" --spool "$WORK/spool2" -k "$WORK/key" \
    "${GWTLS[@]}" --forward-tls --forward-ca "$C/ca2.pem" --forward-key "$C/gw.key" --forward-cert "$C/gw.pem" \
    --retry-delay 0.2 --drain 0 >"$WORK/gw2.log" 2>&1 &
GW2=$!
PIDS="$PIDS $GW2"
wait_for 20 echo_tls "$P_GW2" || { fail "the second gateway did not start"; finish; }
storescu $(tls sender ca1) 127.0.0.1 "$P_GW2" "$one" >/dev/null 2>&1 || fail "storescu to the second gateway"
wait_for 10 grep -q "cannot open an association to the destination" "$WORK/gw2.log" &&
    ok "a destination whose certificate the CA did not sign is not trusted" || fail "no refused association in the log"
[ "$(files_in "$WORK/spool2/queue")" = 1 ] && [ "$(files_in "$WORK/dest")" = "$n" ] &&
    ok "the object stays queued" || fail "queue $(files_in "$WORK/spool2/queue"), destination $(files_in "$WORK/dest")"
stop_pid "$GW2"
# usage: --forward-tls without a CA
expect_exit 2 "$KAKOU" gateway --listen "$P_GW2" --forward "DEST@127.0.0.1:$P_DST" --spool "$WORK/s3" \
    --forward-tls 2>/dev/null && ok "--forward-tls without --forward-ca is a usage error"
finish
