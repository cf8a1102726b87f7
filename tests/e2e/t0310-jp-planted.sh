#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0310: the planted-PHI set through both Japanese profiles (issue 3).
# jp-pseudonymized: every identifier goes (names in all PN groups, IDs,
# UIDs, private blocks, file meta, file names); dates, descriptions and
# patient characteristics may stay (R12, R15, R16). jp-anonymized: the same,
# and exact dates and times go too (R11). Both: references point to the new
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
if grep -q '^LEAK' "$WORK/a.leaks"; then
    fail "jp-anonymized leaks $(grep -c '^LEAK' "$WORK/a.leaks") value(s):"
    grep '^LEAK' "$WORK/a.leaks" | head -20 | sed 's/^/    /'
else
    ok "jp-anonymized: no planted value survives, exact dates included"
fi
"$PYTHON" "$T/dcm_check.py" refcheck "$WORK/a" --inputs "$IN" --min 2 >"$WORK/a.ref" \
    && ok "anonymized references resolve" || { fail "refcheck (anonymized)"; sed 's/^/    /' "$WORK/a.ref"; }
# exact dates are gone: each output's dates differ from its input's (R11)
for f in "$IN"/*/*.dcm "$IN"/*.dcm; do
    [ -f "$f" ] || continue
    sop=$(dcmdump -q +P 0008,0018 "$f" 2>/dev/null | sed -n 's/.*\[\(.*\)\].*/\1/p')
    for tag in 0008,0020 0008,0021 0008,0023 0010,0030; do
        v=$(dcmdump -q +P "$tag" "$f" 2>/dev/null | sed -n 's/.*\[\(.*\)\].*/\1/p')
        [ -n "$v" ] || continue
        if grep -rlaF -- "$v" "$WORK/a" | xargs -r dcmdump -q +P "$tag" 2>/dev/null | grep -qF "[$v]"; then
            fail "($tag) of $(basename "$f") keeps its exact value"
        fi
    done
done
# nothing can be restored: a second run gives other UIDs (R09)
expect_exit 0 "$KAKOU" deid -q -p jp-anonymized --no-release -o "$WORK/a2" "$IN"
la=$(cd "$WORK/a" && find . -type f | sort); lb=$(cd "$WORK/a2" && find . -type f | sort)
[ -n "$la" ] && [ -n "$lb" ] || fail "anonymized runs wrote nothing"
[ -z "$(comm -12 <(echo "$la") <(echo "$lb"))" ] \
    && ok "anonymized runs share no UID" || fail "two anonymized runs share UIDs"
finish
