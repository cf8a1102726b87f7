#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0750-hostile-nesting-kinds: sequences nested in every construction DCMTK
# reads as a sequence (explicit SQ with undefined and defined lengths,
# inside a deflated data set, a standard sequence written as UN with
# explicit lengths, an implicit VR private sequence known by its creator,
# and a mix of these), at several depths made by make_hostile.py. Up to
# 200 levels de-identify; deeper ones (201, 250, 6000: DCMTK's stack
# overflowed from about 5,500) fail alone in deid, explain, verify and
# review: exit 1, each file named with the reason, no signal, and in a
# batch with a store every other output is written and recorded.
. "$(dirname "$0")/lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
command -v sqlite3 >/dev/null || skip "no sqlite3"
M="$TESTS/tools/make_hostile.py"
IN="$WORK/in"
KINDS="sq-undef sq-defined deflated un-defined private mixed"
"$PYTHON" "$M" nest "$IN" 150,201,250,6000 && "$PYTHON" "$M" goods "$IN" 5 \
    || { fail "make_hostile.py"; finish; }
deep=()
for k in $KINDS; do for n in 201 250 6000; do deep+=("$IN/nest-$k-$n.dcm"); done; done
[ "$(ls "$IN" | wc -l)" = 29 ] || fail "make_hostile.py made $(ls "$IN" | wc -l) files, wanted 29"

# runs CMD...: exit code 1, no signal, no hang
runs1() {
    local what=$1; shift
    timeout -k 5 120 "$@"; local rc=$?
    if [ $rc -gt 128 ] || [ $rc = 124 ]; then fail "$what: killed (exit $rc)"; return 1; fi
    [ $rc = 1 ] && ok "$what: exit 1" || { fail "$what: exit $rc, wanted 1"; return 1; }
}

# --- deid: one batch with a store ---
"$KAKOU" key new "$WORK/k.key" >/dev/null 2>&1 || { fail "kakou key new"; finish; }
db="$WORK/s.db"
runs1 "deid batch" "$KAKOU" deid -j 2 -p jp-pseudonymized -k "$WORK/k.key" --db "$db" \
    -o "$WORK/out" "$IN" >/dev/null 2>"$WORK/deid.err"
missing=0
for f in "${deep[@]}"; do
    grep -Fq "cannot read '$f': sequences nested deeper than 200" "$WORK/deid.err" \
        || { missing=$((missing + 1)); fail "deid: $(basename "$f") not named"; }
done
[ $missing = 0 ] && ok "deid: all ${#deep[@]} deep files named 'sequences nested deeper than 200'"
n=$(find "$WORK/out" -name '*.dcm' | wc -l)
[ "$n" = 11 ] && ok "deid: 11 outputs (5 plain, 6 kinds at 150 levels)" || fail "deid: $n outputs, wanted 11"
okrows=$(sqlite3 "$db" "SELECT count(*) FROM audit WHERE status='ok'")
failrows=$(sqlite3 "$db" "SELECT count(*) FROM audit WHERE status='failed'")
[ "$okrows" = 11 ] && [ "$failrows" = 18 ] && ok "store: 11 ok rows, 18 failed rows" \
    || fail "store: $okrows ok rows, $failrows failed rows; wanted 11 and 18"
# every output's SOP Instance UID maps back in the store
unmapped=0
for f in $(find "$WORK/out" -name '*.dcm'); do
    uid=$(basename "$f" .dcm)
    [ "$(sqlite3 "$db" "SELECT count(*) FROM uids WHERE new_uid='$uid'")" = 1 ] || unmapped=$((unmapped + 1))
done
[ $unmapped = 0 ] && ok "store: every output's SOP Instance UID is mapped" || fail "store: $unmapped outputs unmapped"
expect_exit 0 "$KAKOU" db verify --db "$db" >/dev/null 2>&1 && ok "store: audit chain verifies"
# no output anywhere is deeper than the limit: 150 levels came through whole
for k in $KINDS; do
    grep -q "nest-$k-150" "$WORK/deid.err" && fail "deid: nest-$k-150 refused"
done

# --- explain, one file at a time ---
bad=0
for f in "${deep[@]}"; do
    timeout -k 5 60 "$KAKOU" explain "$f" >/dev/null 2>"$WORK/explain.err"; rc=$?
    if [ $rc != 1 ] || ! grep -Fq "'$f': sequences nested deeper than 200" "$WORK/explain.err"; then
        bad=$((bad + 1)); fail "explain $(basename "$f"): exit $rc: $(head -c 200 "$WORK/explain.err")"
    fi
done
[ $bad = 0 ] && ok "explain: exit 1 and the file named, for all ${#deep[@]}"
expect_exit 0 "$KAKOU" explain "$IN/nest-mixed-150.dcm" >"$WORK/explain.out" 2>/dev/null \
    && grep -q "PatientName" "$WORK/explain.out" && ok "explain: 150 levels explained"

# --- verify, all inputs at once ---
timeout -k 5 120 "$KAKOU" verify "$IN" >/dev/null 2>"$WORK/verify.err"; rc=$?
[ $rc -le 2 ] || fail "verify: killed or hung (exit $rc)"
[ $rc = 1 ] && ok "verify: exit 1" || fail "verify: exit $rc, wanted 1"
missing=0
for f in "${deep[@]}"; do
    grep -F "'$f'" "$WORK/verify.err" | grep -q "nested deeper than 200" || missing=$((missing + 1))
done
[ $missing = 0 ] && ok "verify: every deep file named" || fail "verify: $missing deep files not named"

# --- review, the deep files and the good ones ---
runs1 "review" "$KAKOU" review -o "$WORK/sheet.png" "$IN"/g-*.dcm "${deep[@]}" 2>"$WORK/review.err"
missing=0
for f in "${deep[@]}"; do
    grep -F "'$f'" "$WORK/review.err" | grep -q "nested deeper than 200" || missing=$((missing + 1))
done
[ $missing = 0 ] && ok "review: every deep file named" || fail "review: $missing deep files not named"
[ -s "$WORK/sheet.png" ] && ok "review: the sheet of the good files is written" || fail "review: no sheet"
finish
