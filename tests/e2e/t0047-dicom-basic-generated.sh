#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0047-dicom-basic-generated: profiles/dicom-basic.kkp is generated from
# PS3.15's tables (profiles/reference/) by scripts/gen_dicom_basic.awk and
# tracked, so `make clean` keeps it. Made again here, it must be the same
# bytes: a table or the script changed without `make regen-profiles` fails.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$TESTS/.." && pwd)
R="$ROOT/profiles/reference"
LC_ALL=C awk -F'\t' -f "$ROOT/scripts/gen_dicom_basic.awk" "$R/ps315_annex_e.tsv" \
    "$R/safe_private.tsv" >"$WORK/dicom-basic.kkp" \
    && ok "generated from profiles/reference/" || fail "scripts/gen_dicom_basic.awk failed"
if cmp -s "$WORK/dicom-basic.kkp" "$ROOT/profiles/dicom-basic.kkp"; then
    ok "profiles/dicom-basic.kkp is what the tables give"
else
    fail "profiles/dicom-basic.kkp differs from what the tables give: run 'make regen-profiles'"
    diff "$ROOT/profiles/dicom-basic.kkp" "$WORK/dicom-basic.kkp" | head -20 | sed 's/^/    /'
fi
if [ -e "$ROOT/.git" ]; then
    git -C "$ROOT" ls-files --error-unmatch profiles/dicom-basic.kkp >/dev/null 2>&1 \
        && ok "tracked in profiles/" || fail "profiles/dicom-basic.kkp is not tracked"
fi
# the built-in dicom-basic is this file
if [ -x "$KAKOU" ]; then
    "$KAKOU" profile show dicom-basic >"$WORK/builtin.txt" 2>&1 \
        && "$KAKOU" profile show "$ROOT/profiles/dicom-basic.kkp" >"$WORK/file.txt" 2>&1 \
        && diff <(grep -v '^#' "$WORK/builtin.txt" | sed 's/    # .*//') \
                <(grep -v '^#' "$WORK/file.txt" | sed 's/    # .*//') >/dev/null \
        && ok "the built-in dicom-basic is profiles/dicom-basic.kkp" \
        || fail "the built-in dicom-basic is not profiles/dicom-basic.kkp"
fi
finish
