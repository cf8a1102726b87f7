#!/bin/bash
# t0020: libkakou.so exports exactly the functions the public headers
# declare (KK_API), nothing internal and nothing missing.
. "$(dirname "$0")/lib.sh"
so="$BUILD/libkakou.so.0"
[ -f "$so" ] || { fail "no $so"; finish; }
nm -D --defined-only "$so" | awk '$2 == "T" { print $3 }' | grep '^kk_' | sort >"$WORK/exported"
sed -n 's/^KK_API [^(]*[ *]\(kk_[a-z0-9_]*\)(.*/\1/p' "$TESTS"/../include/kakou/*.h | sort -u >"$WORK/declared"
[ -s "$WORK/declared" ] || fail "no KK_API declaration found"
if ! diff "$WORK/declared" "$WORK/exported" >"$WORK/diff"; then
    fail "exports differ from the headers (< declared only, > exported only):"
    sed 's/^/    /' "$WORK/diff"
else
    ok "$(wc -l <"$WORK/exported") functions, as declared"
fi
finish
