#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0700-dict-builtin: the compiled-in data dictionary (lib/dicom/
# dict_dcmtk.cc) is DCMTK's text dictionary, and nothing kakou does
# depends on which one is loaded. (1) Entry for entry, and every keyword
# (tests/tools/dict_compare.cc). (2) Keyword lookups print the same with
# DCMDICTPATH naming the text files (kakou's index of the loaded
# dictionary, which dict_compare checks against DCMTK's own scan, and
# against an entry added after the first lookup) as without. (3) check_dict's cases hold with the text files too.
# (4) kakou deid writes the same bytes, and kakou explain prints the same
# lines, on corpus files (implicit VR ones included, whose VRs come from
# the dictionary) with DCMDICTPATH unset and naming the text files.
# (5) With DCMDICTPATH unset, kakou opens no dictionary file; with it
# set, it reads those. (6) A DCMDICTPATH that names no file prints
# nothing and falls back to the compiled-in dictionary.
. "$(dirname "$0")/lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
: "${BUILD:?}"
COMPARE="$BUILD/tests/dict_compare" UNIT="$BUILD/tests/check_dict"
[ -x "$COMPARE" ] && [ -x "$UNIT" ] || skip "build $COMPARE and $UNIT first (make check)"
# DCMTK's default path, as its build configured it
TEXT=$(sed -n 's/^#define DCM_DICT_DEFAULT_PATH "\(.*\)"$/\1/p' /usr/include/dcmtk/config/osconfig.h)
[ -n "$TEXT" ] || skip "no DCM_DICT_DEFAULT_PATH in DCMTK's osconfig.h"

# (1)
expect_exit 0 env -u DCMDICTPATH "$COMPARE" && ok "compiled-in dictionary equals the text one"

# (2)
env -u DCMDICTPATH "$COMPARE" --keywords >"$WORK/kw-unset" || fail "dict_compare --keywords failed"
DCMDICTPATH=/dev/null "$COMPARE" --keywords >"$WORK/kw-null" || fail "dict_compare --keywords failed"
DCMDICTPATH=$TEXT "$COMPARE" --keywords >"$WORK/kw-text" || fail "dict_compare --keywords failed"
[ "$(head -1 "$WORK/kw-null")" = "builtin 1" ] || fail "DCMDICTPATH=/dev/null: compiled-in dictionary not used"
[ "$(head -1 "$WORK/kw-text")" = "builtin 0" ] || fail "DCMDICTPATH=text files: compiled-in dictionary used"
[ "$(head -1 "$WORK/kw-unset")" = "builtin 0" ] || fail "library with DCMDICTPATH unset: compiled-in dictionary used"
[ "$(wc -l <"$WORK/kw-text")" -gt 7000 ] || fail "too few keywords looked up"
if cmp -s <(tail -n +2 "$WORK/kw-null") <(tail -n +2 "$WORK/kw-text") &&
   cmp -s <(tail -n +2 "$WORK/kw-null") <(tail -n +2 "$WORK/kw-unset"); then
    ok "keyword lookups: same answers from the index and from DCMTK"
else
    fail "keyword lookups differ: $(diff <(tail -n +2 "$WORK/kw-null") <(tail -n +2 "$WORK/kw-text") | head -5)"
fi

# (3)
DCMDICTPATH=$TEXT "$UNIT" >"$WORK/unit.log" 2>&1; rc=$?
[ $rc = 0 ] && ok "check_dict with the text files" || { cat "$WORK/unit.log"; fail "check_dict with the text files: exit $rc"; }

# (4) a key makes outputs (and their names) depend on the inputs only
expect_exit 0 "$KAKOU" key new "$WORK/k" >/dev/null
IN="$WORK/in"; mkdir -p "$IN"
for f in ts/pydicom__MR_small_implicit.dcm ts/pydicom__MR_small_bigendian.dcm \
         sr_rt/pydicom__rtplan.dcm sr_rt/pydicom__rtdose.dcm private/pydicom__priv_SQ.dcm \
         private/pydicom__nested_priv_SQ.dcm image/pydicom__CT_small.dcm \
         charset/orthanc__PR000000.dcm; do
    [ -f "$CORPUS/$f" ] || { fail "corpus file $f missing"; continue; }
    cp "$CORPUS/$f" "$IN/"
done
# one run per file: two of them share a SOP Instance UID
for opts in "" "-O retain-safe-private -O retain-uids"; do
    for mode in builtin text; do
        out="$WORK/out-$mode"; rm -rf "$out"
        for f in "$IN"/*.dcm; do
            if [ $mode = builtin ]; then
                expect_exit 0 env -u DCMDICTPATH "$KAKOU" deid -q -p dicom-basic $opts -k "$WORK/k" \
                    -o "$out/$(basename "$f")" "$f"
            else
                expect_exit 0 env DCMDICTPATH="$TEXT" "$KAKOU" deid -q -p dicom-basic $opts \
                    -k "$WORK/k" -o "$out/$(basename "$f")" "$f"
            fi
        done
    done
    n=$(find "$WORK/out-builtin" -type f -name '*.dcm' | wc -l)
    [ "$n" = "$(ls "$IN" | wc -l)" ] || fail "deid $opts: $n outputs for $(ls "$IN" | wc -l) inputs"
    if diff -r "$WORK/out-builtin" "$WORK/out-text" >/dev/null; then
        ok "deid $opts: same bytes with either dictionary ($n files)"
    else
        fail "deid $opts: outputs differ between the dictionaries: $(diff -rq "$WORK/out-builtin" "$WORK/out-text" | head -3)"
    fi
done
for f in "$IN"/*.dcm; do
    env -u DCMDICTPATH "$KAKOU" explain "$f" >"$WORK/explain-builtin" 2>&1
    DCMDICTPATH="$TEXT" "$KAKOU" explain "$f" >"$WORK/explain-text" 2>&1
    cmp -s "$WORK/explain-builtin" "$WORK/explain-text" || fail "explain $(basename "$f") differs between the dictionaries"
done
ok "explain: same lines with either dictionary"

# (5)
if command -v strace >/dev/null; then
    # LeakSanitizer cannot run under ptrace (check-asan)
    noleaks="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
    env -u DCMDICTPATH ASAN_OPTIONS="$noleaks" strace -f -e trace=open,openat -o "$WORK/trace-builtin" \
        "$KAKOU" deid -q -k "$WORK/k" -o "$WORK/out-strace1" "$IN/pydicom__CT_small.dcm" || fail "deid under strace failed"
    DCMDICTPATH="$TEXT" ASAN_OPTIONS="$noleaks" strace -f -e trace=open,openat -o "$WORK/trace-text" \
        "$KAKOU" deid -q -k "$WORK/k" -o "$WORK/out-strace2" "$IN/pydicom__CT_small.dcm" || fail "deid under strace failed"
    ! grep -q '\.dic"' "$WORK/trace-builtin" || fail "DCMDICTPATH unset: a dictionary file was opened"
    grep -q "${TEXT%%:*}" "$WORK/trace-text" || fail "DCMDICTPATH set: ${TEXT%%:*} was not opened"
    ok "dictionary files: none read unless named"
else
    echo "(no strace: which files are opened is not checked)"
fi

# (6)
IMPL="$IN/pydicom__MR_small_implicit.dcm"
expect_exit 0 env -u DCMDICTPATH "$KAKOU" deid -q -k "$WORK/k" -o "$WORK/out-ref" "$IMPL"
DCMDICTPATH="$WORK/no-such.dic" "$KAKOU" deid -q -k "$WORK/k" -o "$WORK/out-missing" "$IMPL" \
    >"$WORK/missing.out" 2>&1; rc=$?
if [ $rc != 0 ]; then
    fail "DCMDICTPATH naming no file: exit $rc"
elif [ -s "$WORK/missing.out" ]; then
    fail "DCMDICTPATH naming no file printed: $(head -3 "$WORK/missing.out")"
elif ! diff -r "$WORK/out-ref" "$WORK/out-missing" >/dev/null; then
    fail "DCMDICTPATH naming no file: outputs differ from the compiled-in dictionary's"
else
    ok "DCMDICTPATH naming no file: silent, compiled-in dictionary"
fi
finish
