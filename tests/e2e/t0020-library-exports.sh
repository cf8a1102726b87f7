#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0020: libkakou.so exports exactly the functions the public headers
# declare (KK_API), nothing internal and nothing missing. The pixel module
# exports its entry table only, and neither libkakou.so nor the kakou
# command loads OpenCV or Tesseract until burned-in text asks for them.
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
mod="$BUILD/kakou-pixel.so"
[ -f "$mod" ] || fail "no $mod"
got=$(nm -D --defined-only "$mod" | awk '$2 != "A" { print $3 }' | sort | tr '\n' ' ')
[ "$got" = "kk_pixel_module_v1 " ] || fail "the pixel module exports: $got"
for bin in "$so" "$KAKOU"; do
    if ldd "$bin" | grep -Eq 'libtesseract|libopencv|libdcmjpeg|libopenjp2'; then
        fail "$(basename "$bin") links the pixel libraries itself"
    fi
done
finish
