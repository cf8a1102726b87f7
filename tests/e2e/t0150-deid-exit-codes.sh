#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0150-deid-exit-codes: kakou deid's exit status contract (issue 2) and
# its manners with inputs: 2 for usage and profile errors (and nothing
# written), 1 when an input cannot be read (named on stderr, the others
# still done), 0 when all is done, non-DICOM files in a folder skipped;
# inputs are never modified and nothing is written next to them.
. "$(dirname "$0")/lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"

IN="$WORK/in"
mkdir -p "$IN/sub"
cp "$CORPUS/image/pydicom__CT_small.dcm" "$IN/a.dcm"
cp "$CORPUS/charset/pydicom__chrH31.dcm" "$IN/sub/b.dcm"
cp "$CORPUS/sr_rt/pydicom__reportsi.dcm" "$IN/sub/c"          # DICOM without suffix
printf 'not a DICOM file\nPatient: nobody\n' >"$IN/sub/notes.txt"
chmod -R a-w "$IN" 2>/dev/null || true
snapshot() { (cd "$IN" && find . -printf '%p %s %T@ %m\n' | sort && find . -type f -exec sha256sum {} + | sort); }
snapshot >"$WORK/before"

nfiles() { find "$1" -type f 2>/dev/null | wc -l; }

# usage and profile errors: 2, nothing written
U="$WORK/usage"
expect_exit 2 "$KAKOU" deid --no-such-option -o "$U/1" "$IN" 2>/dev/null && ok "unknown option: 2"
expect_exit 2 "$KAKOU" deid -p no-such-profile -o "$U/2" "$IN" 2>/dev/null && ok "unknown profile: 2"
expect_exit 2 "$KAKOU" deid -p "$WORK/missing-profile.kkp" -o "$U/3" "$IN" 2>/dev/null && ok "missing profile file: 2"
expect_exit 2 "$KAKOU" deid -O no-such-profile-option -o "$U/4" "$IN" 2>/dev/null && ok "unknown profile option: 2"
expect_exit 2 "$KAKOU" deid "$IN" 2>/dev/null && ok "missing -o: 2"
expect_exit 2 "$KAKOU" deid -o "$U/5" 2>/dev/null && ok "no input: 2"
expect_exit 2 "$KAKOU" deid -o 2>/dev/null && ok "-o without argument: 2"
n=$(nfiles "$U")
[ "$n" = 0 ] && ok "usage errors write nothing" || fail "usage errors wrote $n file(s)"

# a nonexistent input: 1, named on stderr
expect_exit 1 "$KAKOU" deid -o "$WORK/o1" "$WORK/does-not-exist.dcm" 2>"$WORK/e1" && ok "nonexistent input: 1"
grep -qF "cannot read '$WORK/does-not-exist.dcm'" "$WORK/e1" \
    && ok "nonexistent input named" || { fail "stderr does not name the missing input"; sed 's/^/    /' "$WORK/e1"; }

# a nonexistent input among good ones: 1, the good ones still written
expect_exit 1 "$KAKOU" deid -o "$WORK/o2" "$IN/a.dcm" "$WORK/nope.dcm" "$IN/sub" 2>"$WORK/e2" && ok "mixed inputs: 1"
n=$(nfiles "$WORK/o2")
[ "$n" = 3 ] && ok "mixed inputs: 3 written" || fail "mixed inputs: $n written, wanted 3"
grep -qF "cannot read '$WORK/nope.dcm'" "$WORK/e2" || fail "stderr does not name '$WORK/nope.dcm'"

# a folder with non-DICOM files: skipped, exit 0, summary on stderr
expect_exit 0 "$KAKOU" deid -o "$WORK/o3" "$IN" 2>"$WORK/e3" && ok "folder with non-DICOM files: 0" \
    || sed 's/^/    /' "$WORK/e3"
n=$(nfiles "$WORK/o3")
[ "$n" = 3 ] && ok "3 DICOM files written" || fail "$n file(s) written from a folder of 3 DICOM files"
last=$(tail -n 1 "$WORK/e3")
case "$last" in
"kakou deid: "*) ok "summary line: $last" ;;
*) fail "no summary line on stderr (last line: '$last')" ;;
esac
if grep -rqa 'not a DICOM file' "$WORK/o3" 2>/dev/null; then fail "notes.txt copied to the output"; fi
# -q and -v are accepted
expect_exit 0 "$KAKOU" deid -q -o "$WORK/o4" "$IN" 2>"$WORK/e4" && ok "-q: 0"
expect_exit 0 "$KAKOU" deid -v -o "$WORK/o5" "$IN" 2>/dev/null && ok "-v: 0"
[ ! -s "$WORK/e4" ] || echo "note: -q still printed: $(head -1 "$WORK/e4")"
# outputs are named by UID, not after the inputs
if find "$WORK/o3" | grep -qE 'a\.dcm|b\.dcm|/c$|sub'; then fail "output named after an input"; fi

# inputs untouched, nothing written next to them
snapshot >"$WORK/after"
if cmp -s "$WORK/before" "$WORK/after"; then
    ok "inputs unchanged and nothing written beside them"
else
    fail "the input folder changed:"; diff "$WORK/before" "$WORK/after" | sed 's/^/    /'
fi
chmod -R u+w "$IN" 2>/dev/null
finish
