#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0045-architecture: calls go one way, down the rooms (README,
# "Architecture"):
#   tools/ -> include/kakou (the public API) -> lib/net -> lib/deid
#     -> lib/{profile,pixel,store,crypto,volume} -> lib/dicom
#     -> lib/{dict,text} -> lib/core
# (1) No lib/ file includes a header of a room above its own; within a
#     rank only the edges listed in SIBLINGS below (so a new one is a
#     decision, not an accident); and the pure-C rooms in NO_DCMTK do not
#     include lib/dicom. In particular lib/profile includes nothing of
#     lib/dicom (loading a profile starts no DCMTK) and lib/pixel nothing
#     of lib/deid.
# (2) The same for symbols, which a local prototype could reach without an
#     include: no object of a room uses a kk_ symbol defined only in a room
#     it may not include (the library objects under $BUILD/lib).
# (3) include/kakou/ includes nothing of lib/.
# (4) tools/ build on the public API only, as any host: they include no
#     lib/ header, they compile with -Iinclude alone, and every kk_ symbol
#     their objects use is declared KK_API.
# (5) The pixel module (kakou-pixel.so) carries no copy of the core it does
#     not need: no code of lib/deid, lib/store, lib/crypto or lib/net.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$TESTS/.." && pwd)
cd "$ROOT" || exit 1

# the rank of each room: a room includes rooms of lower rank, its own, and
# the siblings listed; kakou is include/kakou/, which every room may use
declare -A RANK=(
    [kakou]=0
    [core]=1
    [dict]=2 [text]=2
    [dicom]=3
    [profile]=4 [pixel]=4 [store]=4 [crypto]=4 [volume]=4
    [deid]=5
    [net]=6
)
# within a rank: lib/pixel reads the profile's compiled pixel rules;
# lib/store encrypts and keys its rows with lib/crypto
SIBLINGS=" pixel>profile store>crypto "
# rooms in plain C that must not reach DCMTK's adapter even where the rank
# would let them: a profile loads, a key opens, a store writes without it
NO_DCMTK=" core dict text profile crypto store volume "

allowed() { # FROM TO; sets why when FROM has no rank
    why=
    [ "$1" = "$2" ] && return 0
    [ "$2" = dicom ] && case "$NO_DCMTK" in *" $1 "*) why="lib/$1 stays free of DCMTK"; return 1 ;; esac
    local rf=${RANK[$1]:-} rt=${RANK[$2]:-}
    [ -n "$rf" ] || { why="room lib/$1 has no rank: add it to RANK in $0"; return 1; }
    [ -n "$rt" ] || return 0 # not a room (a system or generated header)
    [ "$rt" -lt "$rf" ] && return 0
    [ "$rt" = "$rf" ] && case "$SIBLINGS" in *" $1>$2 "*) return 0 ;; esac
    return 1
}

# (1) includes
n=0 bad=0
for f in $(git ls-files 'lib/*.c' 'lib/*.cc' 'lib/*.h' 2>/dev/null || find lib -name '*.[ch]' -o -name '*.cc'); do
    from=${f#lib/}; from=${from%%/*}
    while IFS=: read -r line inc; do
        to=${inc%%/*}
        [ -d "lib/$to" ] || [ "$to" = kakou ] || continue
        n=$((n + 1))
        if ! allowed "$from" "$to"; then
            fail "$f:$line includes \"$inc\": lib/$from may not include lib/$to${why:+ ($why)}"
            bad=$((bad + 1))
        fi
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[a-z_0-9]*/' "$f" |
             sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1:\2/')
done
[ $n -gt 100 ] || fail "only $n room includes found: is the scan broken?"
[ $bad = 0 ] && ok "includes: $n between rooms, all downward or listed"

# the two the issue names, spelt out
grep -ln '#include "dicom/' lib/profile/* >/dev/null 2>&1 && fail "lib/profile includes lib/dicom"
grep -ln '#include "deid/' lib/pixel/* >/dev/null 2>&1 && fail "lib/pixel includes lib/deid"

# (2) symbols (objects whose source is gone are left out)
objs=()
for o in "$BUILD"/lib/*/*.o; do
    [ -e "$o" ] || continue
    src=${o#"$BUILD"/}; src=${src%.o}
    [ -e "$src.c" ] || [ -e "$src.cc" ] && objs+=("$o")
done
if [ ${#objs[@]} -gt 0 ]; then
    for o in "${objs[@]}"; do
        room=${o%/*}; room=${room##*/}
        nm --defined-only "$o" | awk -v r="$room" '$2 ~ /^[TDBRV]$/ && $3 ~ /^kk_/ { print $3, r }'
        nm -u "$o" | awk -v r="$room" -v o="${o#"$BUILD"/}" '$2 ~ /^kk_/ { print $2, r, o }' >>"$WORK/uses"
    done | sort -u >"$WORK/defs"
    # symbol, using room, object, then every room that defines it
    awk 'NR == FNR { d[$1] = d[$1] " " $2; next } ($1 in d) { print $0 d[$1] }' \
        "$WORK/defs" "$WORK/uses" >"$WORK/pairs"
    nsym=0 bad=0
    while read -r s from o rooms; do
        nsym=$((nsym + 1))
        okay=0
        for to in $rooms; do allowed "$from" "$to" && okay=1; done
        if [ $okay = 0 ]; then
            fail "$o uses $s, defined in lib/$(echo $rooms | tr ' ' ',') only"
            bad=$((bad + 1))
        fi
    done <"$WORK/pairs"
    [ $nsym -gt 100 ] || fail "only $nsym cross-object symbols found: is the scan broken?"
    [ $bad = 0 ] && ok "symbols: $nsym uses across objects, none upward"
else
    fail "no objects under $BUILD/lib (build first)"
fi

# (5) the pixel module's own copy of the core: what lib/pixel calls only
mod="$BUILD/kakou-pixel.so"
if [ ! -f "$mod" ]; then
    fail "no $mod"
elif ! nm "$mod" >"$WORK/modsyms" 2>/dev/null || [ ! -s "$WORK/modsyms" ]; then
    echo "(kakou-pixel.so has no symbol table: its contents are not checked)"
else
    awk '$2 ~ /^(deid|store|crypto|net)$/ { print $1 }' "$WORK/defs" | sort -u >"$WORK/upper"
    awk '$2 ~ /^[tTdDbBrR]$/ { print $3 }' "$WORK/modsyms" | sort -u | comm -12 - "$WORK/upper" >"$WORK/modupper"
    if [ -s "$WORK/modupper" ]; then
        fail "kakou-pixel.so carries $(wc -l <"$WORK/modupper") functions of lib/deid, store, crypto or net: $(head -5 "$WORK/modupper" | tr '\n' ' ')"
    else
        ok "kakou-pixel.so: no copy of lib/deid, store, crypto or net"
    fi
fi

# (3) the public headers stand alone
if grep -n '#include "' include/kakou/*.h | grep -v '#include "[a-z_]*\.h"' >"$WORK/pub"; then
    fail "include/kakou includes a lib/ header: $(head -3 "$WORK/pub")"
else
    ok "include/kakou: includes only its own headers"
fi

# (4) tools: includes, compiling with -Iinclude alone, public symbols only
if grep -n '#include "' tools/*.c tools/*.h | grep -v '#include "\(kakou/[a-z_]*\|[a-z_]*\)\.h"' >"$WORK/tinc"; then
    fail "tools include a lib/ header: $(head -3 "$WORK/tinc")"
fi
flags=$(pkg-config --cflags libsodium sqlite3 icu-uc 2>/dev/null)
for c in tools/*.c; do
    # shellcheck disable=SC2086
    ${CC:-cc} -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude $flags -fsyntax-only "$c" \
        2>"$WORK/cc.err" || { fail "$c does not compile with -Iinclude alone:"; head -5 "$WORK/cc.err"; }
done
sed -n 's/^KK_API [^(]*[ *]\(kk_[a-z0-9_]*\)(.*/\1/p' include/kakou/*.h | sort -u >"$WORK/declared"
if ls "$BUILD"/tools/*.o >/dev/null 2>&1; then
    nm --defined-only "$BUILD"/tools/*.o | awk '{ print $3 }' | sort -u >"$WORK/tooldefs"
    nm -u "$BUILD"/tools/*.o | awk '$2 ~ /^kk_/ { print $2 }' | sort -u |
        comm -23 - "$WORK/tooldefs" | comm -23 - "$WORK/declared" >"$WORK/private"
    if [ -s "$WORK/private" ]; then
        fail "tools use functions that are not public: $(tr '\n' ' ' <"$WORK/private")"
    else
        ok "tools: -Iinclude alone, public symbols only"
    fi
else
    fail "no objects under $BUILD/tools (build first)"
fi
finish
