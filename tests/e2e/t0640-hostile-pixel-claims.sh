#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0640-hostile-pixel-claims: Rows x Columns x frames far larger than the
# data (a 650-byte file claiming 8 PB of pixels; a claim that overflows 64
# bits; encapsulated frames). Nothing may decode or allocate on the
# claim's word: native Pixel Data shorter than the claim is refused; a
# claim above the per-object limit (--max-object-size, else half of the
# machine's memory) is refused with a message saying how to raise it.
# Pixels with Rows or Columns 0 are refused where the profile searches
# pixels for text (they would otherwise pass unexamined); an empty Pixel
# Data, or a few bytes, has nothing to search and passes. Bytes or
# fragments past NumberOfFrames's frames are not kept unsearched. Pixels
# that cannot be decoded, or two pixel elements, are refused there too.
# Outside ASan, the batch also runs under `ulimit -v` (1.5 GiB) to prove
# that memory stays bounded.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
"$PYTHON" "$TESTS/tools/make_hostile.py" pixels "$H" || { fail "make_hostile.py"; finish; }
files=("$H/pix-native-huge.dcm" "$H/pix-native-4g.dcm" "$H/pix-encaps-huge.dcm" "$H/pix-overflow.dcm")

hostile_batch pixels -- "${files[@]}"
names "$H/pix-native-huge.dcm" 'claim .* MiB of pixels.*--max-object-size' pixels
names "$H/pix-overflow.dcm" 'claim .* MiB of pixels.*--max-object-size' pixels
names "$H/pix-encaps-huge.dcm" 'claim .* MiB of pixels.*--max-object-size' pixels
names "$H/pix-native-4g.dcm" 'Pixel Data holds 128 bytes, fewer than' pixels

hostile_batch pixels-limit --max-object-size 100 -- "${files[@]}"
for f in "${files[@]}"; do
    names "$f" 'above the per-object limit of 100 MiB \(raise it with --max-object-size\)' pixels-limit
done

# pixels with no frame size cannot be searched for burned-in text: a
# profile that searches them refuses the object (its bytes are there for
# any reader that guesses a size); one that does not keeps it
# refused_search NAME FILE REASON: stderr of batch NAME says FILE's pixels
# cannot be searched for burned-in text because of REASON
refused_search() {
    if grep -F "'$2'" "$WORK/$1.err" | grep -q "cannot search the pixels of .* for burned-in text: $3"; then
        ok "$1: $(basename "$2") refused: $3"
    else
        fail "$1: $(basename "$2"): no refusal saying '$3'"; sed -n '1,5p' "$WORK/$1.err" | sed 's/^/    /'
    fi
}
# searched_or_kept NAME REASON FILE...: a profile that searches pixels
# refuses each FILE, naming REASON (or the FILE's own after a colon in
# REASON's place: FILE:REASON); dicom-basic keeps them all
searched_or_kept() {
    local name=$1 reason=$2 f files=()
    shift 2
    for f in "$@"; do files+=("${f%%:*}"); done
    hostile_batch "$name" -p jp-anonymized --no-release -- "${files[@]}"
    for f in "$@"; do
        case "$f" in *:*) refused_search "$name" "${f%%:*}" "${f#*:}" ;; *) refused_search "$name" "$f" "$reason" ;; esac
    done
    local n
    n=$(timeout "$KK_TIMEOUT" "$KAKOU" deid -q -p dicom-basic -o "$WORK/$name-basic" "${files[@]}" 2>/dev/null; find "$WORK/$name-basic" -name '*.dcm' | wc -l)
    [ "$n" = ${#files[@]} ] && ok "$name: dicom-basic (no pixel search) keeps all ${#files[@]}" ||
        fail "$name: dicom-basic wrote $n of ${#files[@]}"
}
searched_or_kept pixels-unsized 'Rows or Columns missing or zero' "$H/pix-rows-zero.dcm" "$H/pix-columns-zero.dcm"
# pixels that cannot be decoded (deflated image frames, newer than
# DCMTK) or a second pixel element beside Pixel Data cannot be searched
# either
searched_or_kept pixels-odd '' "$H/pix-deflated-frames.dcm:transfer syntax 1.2.840.10008.1.2.8.1 cannot be decoded" \
    "$H/pix-float-beside.dcm:it holds 2 pixel elements"
# nothing to search is no reason to refuse: an empty Pixel Data, and 2
# bytes with no frame size
for f in "$H/pix-empty.dcm" "$H/pix-tiny-unsized.dcm"; do
    rm -rf "$WORK/nothing"
    expect_exit 0 timeout "$KK_TIMEOUT" "$KAKOU" deid -q -p jp-anonymized --no-release -o "$WORK/nothing" "$f" &&
        [ "$(find "$WORK/nothing" -name '*.dcm' | wc -l)" = 1 ] &&
        ok "jp-anonymized keeps $(basename "$f") (nothing to search)"
done

# a frame NumberOfFrames hides (the bytes after the frames; a fragment
# of a second frame) is searched by no look: the pixels are written
# again from the frames alone, and the hidden bytes are gone
for f in "$H/pix-hidden-native.dcm" "$H/pix-hidden-rle.dcm"; do
    rm -rf "$WORK/hidden"
    expect_exit 0 timeout "$KK_TIMEOUT" "$KAKOU" deid -q -p jp-anonymized --no-release -o "$WORK/hidden" "$f"
    out=$(find "$WORK/hidden" -name '*.dcm' | head -1)
    if [ -n "$out" ] && "$PYTHON" - "$out" 2>/dev/null <<'PY'; then
import sys
import pydicom
d = open(sys.argv[1], "rb").read()
a = pydicom.dcmread(sys.argv[1]).pixel_array
sys.exit(1 if b"\xab" * 16 in d or a.shape != (16, 16) or (a != 0x10).any() else 0)
PY
        ok "$(basename "$f"): the hidden frame is gone, the frame kept"
    else
        fail "$(basename "$f"): the hidden frame's bytes are still in the output (or no frame)"
    fi
done

# bounded memory: sanitizers reserve terabytes of address space, so only
# without them
if ldd "$KAKOU" 2>/dev/null | grep -q 'libasan\|libtsan' || nm "$KAKOU" 2>/dev/null | grep -q __asan_init; then
    echo "note: ASan build: no ulimit -v check"
else
    ( ulimit -v 1572864; hostile_batch pixels-ulimit -- "${files[@]}"; exit $fails ) || fails=$((fails + 1))
fi
finish
