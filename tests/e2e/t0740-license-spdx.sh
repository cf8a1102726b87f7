#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0740-license-spdx: kakou is Apache-2.0. LICENSE holds the license's
# full text, the README says so, and every source file carries
# "SPDX-License-Identifier: Apache-2.0" in a comment of its own syntax
# (scripts/spdx.sh --check). scripts/spdx.sh itself is checked on a
# folder of sample files: each gets the line, in the right place and
# syntax, the files still work, and a second run changes nothing.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$TESTS/.." && pwd)

grep -q "Apache License" "$ROOT/LICENSE" && grep -q "Version 2.0, January 2004" "$ROOT/LICENSE" &&
grep -q "END OF TERMS AND CONDITIONS" "$ROOT/LICENSE" && [ "$(wc -l < "$ROOT/LICENSE")" -ge 200 ] \
    && ok "LICENSE: the Apache License 2.0, in full" || fail "LICENSE: not the full Apache License 2.0"
grep -q "Apache-2.0" "$ROOT/README.md" && ok "README names the license" || fail "README does not name the license"

"$ROOT/scripts/spdx.sh" --check >"$WORK/check.out" 2>&1 \
    && ok "every source file has its SPDX line" \
    || { fail "source files without the SPDX line:"; head -20 "$WORK/check.out" | sed 's/^/    /'; }

# the tool, on samples
S="$WORK/s"
mkdir -p "$S/lib" "$S/testdata" "$S/man"
printf '#!/usr/bin/python3\n# -*- coding: utf-8 -*-\n"""doc"""\nprint("py ok")\n' >"$S/a.py"
printf '#include <stdio.h>\nint main(void) { puts("c ok"); return 0; }\n' >"$S/lib/b.c"
printf '#!/bin/sh\necho sh ok\n' >"$S/run"
printf '. ./x\n' >"$S/lib.sh"
printf 'PatientName remove\nPatientID remove' >"$S/p.kkp"
printf 'all:\n\t@echo make ok\n' >"$S/Makefile"
printf '.TH X 1\n.SH NAME\nx\n' >"$S/man/x.1"
printf 'a\tb\n' >"$S/t.tsv"
printf '#!/bin/sh\n' >"$S/testdata/data.sh"
chmod 755 "$S/run" "$S/a.py"
expect_exit 1 "$ROOT/scripts/spdx.sh" --check "$S" >"$WORK/before" && ok "--check fails on files without it"
[ "$(grep -c '^no SPDX line' "$WORK/before")" = 7 ] && ok "--check names the 7 source files" \
    || { fail "--check named $(grep -c '^no SPDX line' "$WORK/before"), wanted 7"; cat "$WORK/before"; }
"$ROOT/scripts/spdx.sh" "$S" >/dev/null || fail "spdx.sh failed"
line() { sed -n "$2p" "$S/$1"; }
[ "$(line a.py 3)" = "# SPDX-License-Identifier: Apache-2.0" ] && [ "$(line a.py 2)" = "# -*- coding: utf-8 -*-" ] \
    && ok "python: after the #! and coding lines" || fail "python: $(head -3 "$S/a.py")"
[ "$(line lib/b.c 1)" = "/* SPDX-License-Identifier: Apache-2.0 */" ] && ok "C: a /* */ comment first" \
    || fail "C: $(line lib/b.c 1)"
[ "$(line run 2)" = "# SPDX-License-Identifier: Apache-2.0" ] && ok "script without extension: after #!" \
    || fail "script: $(line run 2)"
[ "$(line lib.sh 1)" = "# SPDX-License-Identifier: Apache-2.0" ] && ok "sourced shell: first line" \
    || fail "lib.sh: $(line lib.sh 1)"
[ "$(line p.kkp 2)" = "PatientID remove" ] && [ "$(line p.kkp 3)" = "# SPDX-License-Identifier: Apache-2.0" ] \
    && ok "profile: at the end, rules keep their line numbers" || fail "kkp: $(cat "$S/p.kkp")"
[ "$(line Makefile 1)" = "# SPDX-License-Identifier: Apache-2.0" ] && ok "Makefile: # first" || fail "Makefile"
[ "$(line man/x.1 1)" = '.\" SPDX-License-Identifier: Apache-2.0' ] && ok "man page: a roff comment" \
    || fail "man: $(line man/x.1 1)"
grep -q SPDX "$S/t.tsv" "$S/testdata/data.sh" && fail "data was changed" || ok "data is left alone"
[ -x "$S/run" ] && ok "modes kept" || fail "run lost its mode"
[ "$("$S/a.py")" = "py ok" ] && [ "$(sh "$S/run")" = "sh ok" ] && [ "$(make -s -C "$S")" = "make ok" ] \
    && ok "the files still work" || fail "a file no longer works"
if command -v cc >/dev/null; then
    cc -o "$WORK/b" "$S/lib/b.c" && [ "$("$WORK/b")" = "c ok" ] && ok "C still compiles" || fail "C"
fi
sum1=$(cd "$S" && cat $(find . -type f | sort) | cksum)
"$ROOT/scripts/spdx.sh" "$S" >/dev/null
sum2=$(cd "$S" && cat $(find . -type f | sort) | cksum)
[ "$sum1" = "$sum2" ] && ok "a second run changes nothing" || fail "a second run changed files"
expect_exit 0 "$ROOT/scripts/spdx.sh" --check "$S" >/dev/null && ok "--check passes after"
finish
