#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0310: the planted-PHI set through both Japanese profiles (issue 3).
# jp-pseudonymized: every identifier goes (names in all PN groups, IDs,
# UIDs, private blocks, file meta, file names); dates, descriptions and
# patient characteristics may stay (R12, R15, R16). jp-anonymized: the same,
# and exact dates and times go too (R11: every DA, DT and TM at any depth).
# The PHI scanner's exit status counts (a scan that fails is no "no leak"). Both: references point to the new
# UIDs, and the store holds no planted identifier in its bytes.
. "$(dirname "$0")/lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
T="$TESTS/tools"
"$PYTHON" "$T/make_planted.py" "$WORK/pl" >/dev/null || { fail "make_planted.py"; finish; }
IN="$WORK/pl/dicom"
P="$WORK/pl/planted.tsv"
expect_exit 0 "$KAKOU" key new "$WORK/key" >/dev/null

# --- pseudonymized ---------------------------------------------------------
expect_exit 0 "$KAKOU" deid -q -p jp-pseudonymized -k "$WORK/key" --db "$WORK/p.db" -o "$WORK/p" "$IN"
# descriptions are cleaned, not removed (R16): planted free text that is not
# an identifier may stay, and so may dates (R12) and characteristics (R15)
"$PYTHON" "$T/scan_phi.py" -q --allow text,date,time,datetime,age,code,code-in-D-seq,sr-text,number \
    --option retain-patient-characteristics --option retain-longitudinal-full-dates \
    --option retain-safe-private "$P" "$WORK/p" >"$WORK/p.leaks"
rc=$?
# 0 nothing leaked, 1 leaks (judged below); anything else: the scan failed
[ $rc -le 1 ] || fail "scan_phi.py (pseudonymized) exit $rc: $(tail -3 "$WORK/p.leaks")"
grep '^LEAK' "$WORK/p.leaks" | grep -v ') TextValue ' >"$WORK/p.real" || true
if [ -s "$WORK/p.real" ]; then
    fail "jp-pseudonymized leaks $(wc -l <"$WORK/p.real") identifier(s):"
    head -20 "$WORK/p.real" | sed 's/^/    /'
else
    ok "jp-pseudonymized: no identifier survives"
fi
"$PYTHON" "$T/dcm_check.py" refcheck "$WORK/p" --inputs "$IN" --min 2 >"$WORK/p.ref" \
    && ok "pseudonymized references resolve" || { fail "refcheck (pseudonymized)"; sed 's/^/    /' "$WORK/p.ref"; }
"$PYTHON" "$T/dcm_check.py" deidcheck --input-icuid "1.2.999.7731.0.1" --ltim UNMODIFIED \
    $(find "$WORK/p" -type f) >"$WORK/p.deid" || { fail "deidcheck (pseudonymized)"; grep FAIL "$WORK/p.deid" | sed 's/^/    /'; }
grep -rqa "jp-pseudonymized" "$WORK/p" || fail "DeidentificationMethod does not name the profile"
# the store's bytes hold no name, ID or UID that was planted (R23, R24)
mkdir -p "$WORK/dbonly"
cat "$WORK/p.db" "$WORK/p.db-wal" 2>/dev/null > "$WORK/dbonly/store.bin"
"$PYTHON" "$T/scan_phi.py" -q --allow-empty --allow text,date,time,datetime,age,code,code-in-D-seq,sr-text,number,filename,dirname \
    "$P" "$WORK/dbonly" >"$WORK/db.leaks" && ok "the store holds no planted identifier" \
    || { fail "the store holds planted identifiers"; head -10 "$WORK/db.leaks" | sed 's/^/    /'; }
# the same key gives the same pseudonyms in a second run (R06)
expect_exit 0 "$KAKOU" deid -q -p jp-pseudonymized -k "$WORK/key" --db "$WORK/p2.db" -o "$WORK/p2" "$IN"
diff <(cd "$WORK/p" && find . -type f | sort) <(cd "$WORK/p2" && find . -type f | sort) >/dev/null \
    && ok "second run: same UIDs" || fail "second run gives other UIDs"

# --- anonymized -------------------------------------------------------------
expect_exit 0 "$KAKOU" deid -q -p jp-anonymized --no-release -o "$WORK/a" "$IN"
# dates are shifted by up to three years: a shifted date may land on another
# planted date by chance, so exact dates are checked one by one below
"$PYTHON" "$T/scan_phi.py" -q --allow age,date,datetime,time --option retain-patient-characteristics \
    "$P" "$WORK/a" >"$WORK/a.leaks"
rc=$?
[ $rc -le 1 ] || fail "scan_phi.py (anonymized) exit $rc: $(tail -3 "$WORK/a.leaks")"
if [ $rc = 1 ] && ! grep -q '^LEAK' "$WORK/a.leaks"; then fail "scan_phi.py (anonymized) exit 1 without a LEAK line"; fi
if grep -q '^LEAK' "$WORK/a.leaks"; then
    fail "jp-anonymized leaks $(grep -c '^LEAK' "$WORK/a.leaks") value(s):"
    grep '^LEAK' "$WORK/a.leaks" | head -20 | sed 's/^/    /'
else
    ok "jp-anonymized: no planted value survives, exact dates included"
fi
"$PYTHON" "$T/dcm_check.py" refcheck "$WORK/a" --inputs "$IN" --min 2 >"$WORK/a.ref" \
    && ok "anonymized references resolve" || { fail "refcheck (anonymized)"; sed 's/^/    /' "$WORK/a.ref"; }
# exact dates and times are gone (R11): no DA, DT or TM value of any input,
# at any depth, is in any output at the same tag (TM emptied, DA and DT
# shifted); and the check saw values of each VR
"$PYTHON" - "$IN" "$WORK/a" >"$WORK/a.dates" <<'PY'
import os, sys, pydicom
def values(top):
    out = {}
    for root, _, files in os.walk(top):
        for f in files:
            if not f.endswith(".dcm"):
                continue
            ds = pydicom.dcmread(os.path.join(root, f))
            for el in ds.iterall():
                if el.VR in ("DA", "DT", "TM") and el.value not in (None, "", b""):
                    for v in (el.value if isinstance(el.value, pydicom.multival.MultiValue) else [el.value]):
                        v = str(v).strip()
                        if v:
                            out.setdefault((el.tag, el.VR, v), f)
    return out
inp, outp = values(sys.argv[1]), values(sys.argv[2])
seen = {vr: 0 for vr in ("DA", "DT", "TM")}
bad = 0
for (tag, vr, v), f in sorted(inp.items()):
    seen[vr] += 1
    if (tag, vr, v) in outp:
        print("KEPT %s %s of %s" % (tag, vr, f)); bad += 1
print("checked", seen)
sys.exit(1 if bad or min(seen.values()) < 3 else 0)
PY
[ $? = 0 ] && ok "no exact DA/DT/TM survives: $(tail -1 "$WORK/a.dates")" || { fail "exact dates or times kept:"; head -20 "$WORK/a.dates" | sed 's/^/    /'; }
# nothing can be restored: a second run gives other UIDs (R09)
expect_exit 0 "$KAKOU" deid -q -p jp-anonymized --no-release -o "$WORK/a2" "$IN"
la=$(cd "$WORK/a" && find . -type f | sort); lb=$(cd "$WORK/a2" && find . -type f | sort)
[ -n "$la" ] && [ -n "$lb" ] || fail "anonymized runs wrote nothing"
[ -z "$(comm -12 <(echo "$la") <(echo "$lb"))" ] \
    && ok "anonymized runs share no UID" || fail "two anonymized runs share UIDs"
finish
