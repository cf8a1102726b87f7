#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0730-messages: each failure names its input and says what is wrong in
# DICOM terms (which element, what about it), not in DCMTK's internal
# words ("Invalid stream", "I/O suspension or premature end of stream",
# "Illegal call, perhaps wrong parameters", "Tag not found", "no data
# set", a write to '/proc/self/fd/N'); bytes from a file (a transfer
# syntax UID with escape codes) reach the terminal escaped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
M="$TESTS/tools/make_hostile.py"
"$PYTHON" "$M" lengths "$WORK/lengths" || { fail "make_hostile.py lengths"; finish; }
L="$WORK/lengths"
mkdir -p "$WORK/made"
# files made here: DeidentificationMethodCodeSequence with VR LO (kakou
# writes that sequence), and a transfer syntax UID with terminal escapes
"$PYTHON" - "$GOOD" "$WORK/made" <<'EOF' || fail "cannot make the test files"
import struct, sys
import pydicom
good, out = sys.argv[1], sys.argv[2]
ds = pydicom.dcmread(good)
ds.add_new(0x00120064, "LO", "NOT A SEQUENCE")
ds.save_as(out + "/codeseq-lo.dcm")
raw = open(good, "rb").read()
old = b"\x02\x00\x10\x00UI"
i = raw.index(old)
n = struct.unpack("<H", raw[i + 6:i + 8])[0]
uid = b"1.2.840.10008.1.2.4.\x1b]0;owned\x07\x1b[31m9"
if len(uid) % 2:
    uid += b"\0"
new = raw[:i] + old + struct.pack("<H", len(uid)) + uid + raw[i + 8 + n:]
# (0002,0000) group length follows the preamble: fix it for the new length
g = new.index(b"\x02\x00\x00\x00UL\x04\x00")
gl = struct.unpack("<I", new[g + 8:g + 12])[0] + len(uid) - n
new = new[:g + 8] + struct.pack("<I", gl) + new[g + 12:]
open(out + "/ts-escape.dcm", "wb").write(new)
EOF
# a JPEG image without (0028,0103) PixelRepresentation: DCMTK's decoder says "Tag not found"
"$PYTHON" - "$CORPUS/burned_in/orthanc__TS-1.2.840.10008.1.2.4.50.dcm" "$WORK/jpeg/no-pixrep.dcm" <<'EOF' \
    || fail "cannot make the JPEG test file"
import os, sys
import pydicom
ds = pydicom.dcmread(sys.argv[1])
del ds.PixelRepresentation
os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True)
ds.save_as(sys.argv[2])
EOF

# msg NAME FILE TEXT...: deid FILE fails (exit 1); stderr names FILE and holds each TEXT
msg() {
    local name=$1 f=$2; shift 2
    timeout -k 5 "$KK_TIMEOUT" "$KAKOU" deid -o "$WORK/out-$name" "$f" 2>"$WORK/$name.err"
    local rc=$?
    [ $rc = 1 ] || fail "$name: exit $rc, wanted 1"
    grep -Fq "'$f'" "$WORK/$name.err" || { fail "$name: the input is not named"; cat "$WORK/$name.err"; }
    for t in "$@"; do
        grep -Fq -- "$t" "$WORK/$name.err" && ok "$name: \"$t\"" \
            || { fail "$name: no \"$t\""; sed 's/^/    /' "$WORK/$name.err"; }
    done
}
msg past-eof "$L/len-past-eof.dcm" "an element's value length runs past the end of the file" \
    "(the last element read: (0020,4000) ImageComments)"
msg no-dataset "$L/len-meta.dcm" "the file holds no data set (no element after the File Meta Information)"
msg no-delimiter "$L/len-undef-pixels.dcm" "has no Sequence Delimitation Item (FFFE,E0DD)" \
    "(the last element read: (7FE0,0010) PixelData)"
msg undef-ob "$L/len-undef-ob.dcm" "an OB or OW element other than Pixel Data has undefined length"
msg codeseq "$WORK/made/codeseq-lo.dcm" \
    "(0012,0064) DeidentificationMethodCodeSequence: the input has it with VR LO, where PS3.6 says SQ"
msg ts-escape "$WORK/made/ts-escape.dcm" "(0002,0010) TransferSyntaxUID" "is not a UID" '\x1b'
if grep -q $'\x1b\|\x07' "$WORK/ts-escape.err"; then
    fail "ts-escape: a raw ESC or BEL byte reached stderr"
else
    ok "ts-escape: no raw control byte on stderr"
fi
# the pixels cannot be decoded to find burned-in text: which element is missing
timeout -k 5 "$KK_TIMEOUT" "$KAKOU" deid -p jp-anonymized --no-release -o "$WORK/out-jpeg" "$WORK/jpeg/no-pixrep.dcm" 2>"$WORK/jpeg.err"
rc=$?
[ $rc = 1 ] && ok "jpeg without PixelRepresentation: exit 1" || fail "jpeg: exit $rc, wanted 1"
grep -Fq "cannot decode the pixels of '$WORK/jpeg/no-pixrep.dcm': (0028,0103) PixelRepresentation missing" \
    "$WORK/jpeg.err" && ok "jpeg: names (0028,0103) PixelRepresentation" \
    || { fail "jpeg: the missing element is not named"; cat "$WORK/jpeg.err"; }
if grep -Fq "Tag not found" "$WORK/jpeg.err"; then fail "jpeg: DCMTK's 'Tag not found' reaches the user"; fi
# a file name with terminal escapes (names come from folders users are handed)
evil="$WORK/made/"$'\e]0;owned\a\e[31m'"red.dcm"
cp "$L/len-meta.dcm" "$evil"
"$KAKOU" deid -o "$WORK/out-evil" "$WORK/made" 2>"$WORK/evil.err"
grep -Fq 'made/\x1b]0;owned\x07\x1b[31mred.dcm' "$WORK/evil.err" && ok "evil name: escaped on stderr" \
    || { fail "evil name: not escaped"; cat -v "$WORK/evil.err"; }
if grep -q $'\x1b\|\x07' "$WORK/evil.err"; then
    fail "evil name: a raw ESC or BEL byte reached stderr"
else
    ok "evil name: no raw control byte on stderr"
fi
rm -f "$evil"
# explain and verify name the input too
expect_exit 1 "$KAKOU" explain "$WORK/made/codeseq-lo.dcm" >/dev/null 2>"$WORK/explain.err"
grep -Fq "cannot explain '$WORK/made/codeseq-lo.dcm': " "$WORK/explain.err" && ok "explain names the input" \
    || { fail "explain does not name the input"; cat "$WORK/explain.err"; }

# a batch of broken files: none of DCMTK's internal wording reaches the user
"$KAKOU" deid -o "$WORK/out-all" "$L" "$WORK/made" "$CORPUS/malformed" 2>"$WORK/all.err"
nf=$(grep -c "cannot " "$WORK/all.err")
[ "$nf" -ge 8 ] && ok "batch: $nf failures reported" || fail "batch: only $nf failures reported"
for w in "Invalid stream" "I/O suspension" "Illegal call" "Illegal parameter" "Tag not found" \
         "Corrupted data" ": no data set" "/proc/self/fd" "Invalid tag" "Sequence Delimitation Item missing"; do
    if grep -Fq -- "$w" "$WORK/all.err"; then
        fail "batch: DCMTK's words \"$w\" reach the user:"; grep -F -- "$w" "$WORK/all.err" | head -2 | sed 's/^/    /'
    fi
done
# every failure line names a file
grep "cannot " "$WORK/all.err" | grep -v "'/" | grep -q . \
    && { fail "batch: a failure names no file:"; grep "cannot " "$WORK/all.err" | grep -v "'/" | head -3; } \
    || ok "batch: every failure names its file"
finish
