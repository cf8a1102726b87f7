#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0425: a region rule (a vendor's banner) keeps the technical tokens in it
# that read clearly and stand alone on their row, and paints the rest; a
# token with a name on its row shelters nothing (issue 14, item 5). The
# checks are in tests/tools/check_region_allow.py.
. "$(dirname "$0")/lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
"$PYTHON" "$TESTS/tools/check_region_allow.py" "$KAKOU" "$WORK" >"$WORK/out"
rc=$?
cat "$WORK/out"
[ $rc = 77 ] && skip "no font for the synthetic images"
[ $rc = 0 ] || fail "region allowlist: $(grep -c 'not ok' "$WORK/out") check(s) failed"
grep -q '^ok: apart: .* technical tokens' "$WORK/out" || fail "the token check did not run"
finish
