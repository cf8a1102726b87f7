#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0695-deid-no-phi-in-logs: nothing kakou prints or reports carries a
# planted value (R04). The planted-PHI set (tests/tools/make_planted.py)
# plus a truncated copy of one planted file (a failing input) goes through
# dicom-basic, jp-anonymized and jp-pseudonymized with -v -v and --report;
# then `kakou explain -v -v` (no --show-values) of each profile on each
# file. stdout, stderr and the report are searched
# for every planted value with tests/tools/scan_phi.py. Messages name
# input files by path, and the planted file and folder names are markers
# too: each input path is replaced before the search (nothing else is
# allowed). The report names inputs by a keyed digest.
. "$(dirname "$0")/lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
T="$TESTS/tools"
"$PYTHON" "$T/make_planted.py" "$WORK/pl" >/dev/null || { fail "make_planted.py"; finish; }
P="$WORK/pl/planted.tsv"
IN="$WORK/pl/dicom"
mapfile -t files < <(find "$IN" -type f -name '*.dcm' | sort)
[ ${#files[@]} -gt 0 ] || { fail "no planted files"; finish; }
# a failing input: the first planted file cut in half, next to the others
size=$(stat -c %s "${files[0]}")
head -c $((size / 2)) "${files[0]}" >"$(dirname "${files[0]}")/truncated.dcm"
expect_exit 0 "$KAKOU" key new "$WORK/key" >/dev/null 2>&1

# Messages name inputs by path, and the planted file and folder names are
# the patient's name: replace each input path, exactly, before scanning.
unpath() { # DIR
    "$PYTHON" - "$IN" "$1" <<'PY'
import os, sys
root, d = sys.argv[1], sys.argv[2]
paths = sorted((os.path.join(r, n) for r, ds, fs in os.walk(root) for n in ds + fs),
               key=len, reverse=True) + [root]
for f in os.listdir(d):
    p = os.path.join(d, f)
    t = open(p, "rb").read()
    for x in paths:
        t = t.replace(x.encode(), b"<input>")
    open(p, "wb").write(t)
PY
}

scan() { # NAME DIR [ALLOW]: no planted value in the files of DIR
    unpath "$2"
    local allow=${3:+--allow $3}
    # shellcheck disable=SC2086
    if "$PYTHON" "$T/scan_phi.py" --allow-empty $allow "$P" "$2" >"$WORK/$1.leaks" 2>"$WORK/$1.scan"; then
        ok "$1: no planted value"
    else
        fail "$1: planted values printed"; sed -n '1,10p' "$WORK/$1.leaks" | sed 's/^/    /'
    fi
}

for prof in dicom-basic jp-anonymized jp-pseudonymized; do
    extra=()
    [ $prof = jp-pseudonymized ] && extra=(-k "$WORK/key" --db "$WORK/$prof.db")
    L="$WORK/log-$prof"
    R="$WORK/report-$prof"
    mkdir -p "$L" "$R"
    timeout -k 5 120 "$KAKOU" deid -v -v -p $prof "${extra[@]}" --report "$R/report.jsonl" \
        -o "$WORK/out-$prof" "$IN" >"$L/stdout" 2>"$L/stderr"
    rc=$?
    [ $rc = 1 ] && ok "$prof: exit 1 (the truncated input fails)" || fail "$prof: exit $rc, wanted 1"
    grep -q "truncated.dcm" "$L/stderr" || fail "$prof: the failing input is not named"
    [ -s "$R/report.jsonl" ] || fail "$prof: no report"
    scan "$prof-logs" "$L"
    scan "$prof-report" "$R"
    # explain without --show-values, on every input, the failing one too
    E="$WORK/explain-$prof"
    mkdir -p "$E"
    ekey=()
    [ $prof = jp-pseudonymized ] && ekey=(-k "$WORK/key")
    i=0
    for f in "${files[@]}" "$(dirname "${files[0]}")/truncated.dcm"; do
        i=$((i + 1))
        "$KAKOU" explain -v -v -p $prof "${ekey[@]}" "$f" >"$E/$i.stdout" 2>"$E/$i.stderr"
    done
    scan "$prof-explain" "$E"
done
# the search itself works: --show-values does print the values
mkdir -p "$WORK/control"
"$KAKOU" explain --show-values "${files[0]}" >"$WORK/control/stdout" 2>&1
unpath "$WORK/control"
"$PYTHON" "$T/scan_phi.py" "$P" "$WORK/control" >/dev/null 2>&1 \
    && fail "control: explain --show-values printed no planted value (is the search broken?)" \
    || ok "control: explain --show-values prints planted values, and the search finds them"
finish
