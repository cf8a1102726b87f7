#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0745-build-bare: the Makefile asks pkg-config for flags only when it
# builds, never when it is read, so on a bare machine `make run` and
# `make check` can install the packages (scripts/deps.sh) first and build
# after (issue 12: the first `make run` failed with "openjpeg.h: No such
# file or directory"). A build without the packages stops at once with
# what to do. (.ci/run proves the whole of it on a bare Debian 12 root.)
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$TESTS/.." && pwd)
command -v make >/dev/null || skip "no make"

# a pkg-config that notes each call, then answers as the real one
cat >"$WORK/pc" <<EOF
#!/bin/sh
echo "\$*" >>"$WORK/pc.log"
exec pkg-config "\$@"
EOF
chmod +x "$WORK/pc"
: >"$WORK/pc.log"

# reading the Makefile asks nothing: a target that needs no flags
make -s -C "$ROOT" PKG_CONFIG="$WORK/pc" BUILD="$WORK/b1" deps-if-missing >/dev/null 2>&1 \
    || fail "make deps-if-missing failed"
[ ! -s "$WORK/pc.log" ] && ok "pkg-config is not asked when the Makefile is read" \
    || { fail "pkg-config asked at parse time:"; sed 's/^/    /' "$WORK/pc.log"; }

# run and check install first, then build in a second make
make -n -C "$ROOT" BUILD="$WORK/b2" run 2>/dev/null | grep -Ev '^make(\[|:)' | head -2 >"$WORK/run.n"
head -1 "$WORK/run.n" | grep -q 'scripts/deps.sh' && sed -n 2p "$WORK/run.n" | grep -q 'all' \
    && ok "make run: deps first, then a make of 'all'" \
    || { fail "make run does not install before it builds:"; cat "$WORK/run.n"; }

# without the packages (pkg-config finds none): a clear stop, nothing compiled
make -C "$ROOT" PKG_CONFIG=false BUILD="$WORK/b3" all >"$WORK/none.out" 2>&1
rc=$?
[ $rc = 2 ] && ok "missing packages: make stops (exit 2)" || fail "missing packages: exit $rc"
grep -q "run 'make deps' as root" "$WORK/none.out" && ok "missing packages: says to run make deps" \
    || { fail "missing packages: no advice"; tail -3 "$WORK/none.out"; }
[ -z "$(find "$WORK/b3" -name '*.o' 2>/dev/null)" ] && ok "missing packages: nothing compiled" \
    || fail "missing packages: objects were compiled"
finish
