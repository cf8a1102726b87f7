#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# scripts/spdx.sh - put "SPDX-License-Identifier: Apache-2.0" (LICENSE) as a
# comment into every source file that lacks it, in that file's syntax:
#   C, C++, headers, linker maps   /* SPDX-License-Identifier: Apache-2.0 */
#   shell, Python, awk, Makefile,  # SPDX-License-Identifier: Apache-2.0
#   suppressions, pkg-config, any
#   script with a #! line
#   profiles (.kkp)                the same "#" line, at the end: rules are
#                                  cited by line (explain's "jp-anonymized:42")
#   manual pages                   .\" SPDX-License-Identifier: Apache-2.0
# The line goes first, or after a #! line (and a Python coding line).
# Data (DICOM files, tables, corpora, expected outputs, Markdown) is left
# alone.
#
#   scripts/spdx.sh [DIR]          add the line where it is missing
#   scripts/spdx.sh --check [DIR]  list the files without it; exit 1 if any
# DIR defaults to the repository; in a git work tree the files are those
# git tracks, elsewhere all files below DIR (but .git and build).
set -eu
ID="SPDX-License-Identifier: Apache-2.0"
check=
if [ "${1:-}" = --check ]; then check=1; shift; fi
dir=${1:-$(dirname "$0")/..}
cd "$dir"

files() {
    if [ -z "${1:-}" ] && git rev-parse --show-toplevel >/dev/null 2>&1 &&
       [ "$(git rev-parse --show-toplevel)" = "$(pwd -P)" ]; then
        git ls-files
    else
        find . -type f ! -path './.git/*' ! -path './build/*' | sed 's|^\./||' | sort
    fi
}

# the comment style for a file, or nothing when it is not a source file
style() {
    case "$1" in
    build/* | fuzz/corpus/* | fuzz/regress/* | testdata/* | */testdata/*) return ;;
    *.c | *.h | *.cc | *.cpp | *.hpp | *.map) echo c ;;
    *.kkp) echo kkp ;;
    *.1 | *.5 | *.3 | *.7) echo roff ;;
    *.sh | *.py | *.awk | *.supp | *.pc.in | *.mk | Makefile | */Makefile) echo hash ;;
    *) if [ "$(head -c 2 "$1" 2>/dev/null)" = "#!" ]; then echo hash; fi ;;
    esac
}

missing=0
for f in $(files "${1:-}"); do
    [ -f "$f" ] || continue
    s=$(style "$f")
    [ -n "$s" ] || continue
    # any SPDX line counts: plugins/orthanc/ is GPL-3.0-or-later (its LICENSE.md)
    grep -q "SPDX-License-Identifier:" "$f" && continue
    if [ -n "$check" ]; then
        echo "no SPDX line: $f"
        missing=$((missing + 1))
        continue
    fi
    case "$s" in
    c) line="/* $ID */" ;;
    roff) line=".\\\" $ID" ;;
    *) line="# $ID" ;;
    esac
    tmp="$f.spdx.$$"
    if [ "$s" = kkp ]; then
        cat "$f" >"$tmp"
        [ -z "$(tail -c 1 "$f")" ] || echo >>"$tmp"
        printf '%s\n' "$line" >>"$tmp"
    else
        # after a #! line, and after a Python coding line that follows it
        LINE=$line awk '
            BEGIN { line = ENVIRON["LINE"] } # not -v: awk would eat the backslash of .\"
            NR == 1 && /^#!/ { print; after = 1; next }
            NR == 2 && after && /^#.*coding[:=]/ { print; next }
            !done { print line; done = 1 }
            { print }
            END { if (!done) print line }' "$f" >"$tmp"
    fi
    cat "$tmp" >"$f" # keeps the file's mode and owner
    rm -f "$tmp"
    echo "spdx: $f"
done
if [ -n "$check" ]; then
    [ $missing = 0 ] || { echo "spdx: $missing source file(s) without \"$ID\" (run scripts/spdx.sh)"; exit 1; }
    echo "spdx: every source file has \"$ID\""
fi
