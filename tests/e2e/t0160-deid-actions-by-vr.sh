#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0160: each basic action on each VR. A profile applies one action to every
# attribute of a VR class (default keep); the planted files hold every VR.
# remove: no such attribute left; empty: all zero length; dummy: every value
# is the documented dummy for its VR and valid; uid: every UID is a 2.25 UID
# or a standard one. Group 0012 (what kakou adds) is not judged.
. "$(dirname "$0")/lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
"$PYTHON" "$TESTS/tools/make_planted.py" "$WORK/pl" >/dev/null || { fail "make_planted.py"; finish; }
IN="$WORK/pl/dicom"
nin=$(find "$IN" -name '*.dcm' | wc -l)
[ "$nin" -ge 3 ] || { fail "only $nin planted inputs"; finish; }
VRS="AE,AS,DA,DS,DT,IS,LO,LT,PN,SH,ST,TM,UC,UR,UT"
for action in remove empty dummy; do
    printf 'profile by-vr\ndefault keep\nvr:%s %s\nprivate remove\n' "$VRS" "$action" >"$WORK/$action.kkp"
    expect_exit 0 "$KAKOU" deid -q -p "$WORK/$action.kkp" -o "$WORK/$action" "$IN" || continue
    nout=$(find "$WORK/$action" -name '*.dcm' | wc -l)
    [ "$nout" = "$nin" ] || fail "$action: $nout outputs for $nin inputs"
    "$PYTHON" - "$action" "$VRS" "$WORK/$action" >"$WORK/$action.out" <<'PY'
import os, sys, pydicom
action, vrs, out = sys.argv[1], set(sys.argv[2].split(",")), sys.argv[3]
dummy = {"AE": "ANONYMOUS", "AS": "000Y", "DA": "19000101", "DT": "19000101000000",
         "TM": "000000", "DS": "0", "IS": "0", "UR": "urn:x-kakou:anonymized"}
bad = 0
judged = 0
def walk(ds, where):
    global bad, judged
    for el in ds:
        if el.tag.group in (0x0002, 0x0012):
            continue
        if el.VR == "SQ":
            for i, it in enumerate(el.value):
                walk(it, "%s%s[%d]>" % (where, el.tag, i))
            continue
        if el.VR not in vrs:
            continue
        n = 0 if el.is_empty else 1
        judged += 1
        if action == "remove":
            print("NOT REMOVED", where, el.tag, el.VR); bad += 1
        elif action == "empty" and n:
            print("NOT EMPTY", where, el.tag, el.VR); bad += 1
        elif action == "dummy":
            v = el.value
            txt = v.decode("latin-1") if isinstance(v, bytes) else str(v)
            want = dummy.get(el.VR, "ANONYMIZED")
            if txt.strip(" \0") != want:
                print("NOT DUMMY", where, el.tag, el.VR, repr(txt[:20])); bad += 1
nfiles = 0
for root, _, files in os.walk(out):
    for f in files:
        walk(pydicom.dcmread(os.path.join(root, f)), "")
        nfiles += 1
print("bad", bad, "judged", judged, "files", nfiles)
# remove leaves nothing to judge; empty and dummy must judge many values
if nfiles == 0 or (action != "remove" and judged < 50):
    print("too little checked"); bad += 1
sys.exit(1 if bad else 0)
PY
    if [ $? = 0 ]; then ok "$action on $VRS"; else fail "$action:"; head -15 "$WORK/$action.out" | sed 's/^/    /'; fi
done
# uid: every UI value is replaced by a 2.25 UID, standard UIDs excepted
printf 'profile by-vr\ndefault keep\nvr:UI uid\n' >"$WORK/uid.kkp"
expect_exit 0 "$KAKOU" deid -q -p "$WORK/uid.kkp" -o "$WORK/uid" "$IN"
[ "$(find "$WORK/uid" -name '*.dcm' | wc -l)" = "$nin" ] || fail "uid: not one output per input"
# no instance UID of an input is left anywhere in the outputs
for f in $(find "$IN" -name '*.dcm'); do dcmdump -q "$f" | grep ' UI ' | grep -v '=' | sed -n 's/.*\[\(.*\)\].*/\1/p' | tr '\\' '\n'; done |
    grep -v '^1\.2\.840\.10008\.' | sort -u > "$WORK/uid.in"
[ "$(wc -l < "$WORK/uid.in")" -ge 10 ] || fail "uid: only $(wc -l < "$WORK/uid.in") input UIDs"
for f in $(find "$WORK/uid" -type f); do dcmdump -q "$f" | grep ' UI ' | sed -n 's/.*\[\(.*\)\].*/\1/p' | tr '\\' '\n'; done | sort -u > "$WORK/uid.outv"
[ -z "$(comm -12 "$WORK/uid.in" "$WORK/uid.outv")" ] || fail "uid: $(comm -12 "$WORK/uid.in" "$WORK/uid.outv" | wc -l) input UIDs kept"
for f in $(find "$WORK/uid" -type f); do
    dcmdump -q "$f" | grep ' UI ' | grep -v '=' | sed -n 's/.*\[\(.*\)\].*/\1/p' | tr '\\' '\n' |
        grep -v '^2\.25\.' | grep -v '^1\.2\.840\.10008\.' | sed "s|^|    not remapped: |"
done >"$WORK/uid.out"
[ -s "$WORK/uid.out" ] && { fail "uid"; head "$WORK/uid.out"; } || ok "uid on UI"
finish
