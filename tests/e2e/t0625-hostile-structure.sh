#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0625-hostile-structure: shapes an outside audit found passing as valid.
# File Meta elements inside the data set (a transfer syntax that
# contradicts the file's, a Source AE title) are removed, not copied into
# the output's data set; binary values of a length no reader can split
# are removed; an Item Delimitation Item outside any item (where DCMTK
# would end the data set) fails, named; zeros (a truncated copy, a sparse
# file) are not DICOM, named as such, and no output is written for them,
# nor for an image whose SOP Class UID says DICOMDIR (skipped, it would
# drop out of a release unseen); an output folder inside an input folder
# is refused (exit 2): its outputs would be read as inputs on every run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
"$PYTHON" "$TESTS/tools/make_hostile.py" structure "$H" || { fail "make_hostile.py structure"; finish; }

# group 0002 inside the data set: removed, the rest de-identified
for p in dicom-basic jp-anonymized; do
    rm -rf "$WORK/meta"
    args=(-p "$p"); [ "$p" = jp-anonymized ] && args+=(--no-release)
    expect_exit 0 timeout "$KK_TIMEOUT" "$KAKOU" deid -q "${args[@]}" -o "$WORK/meta" "$H/meta-in-body.dcm" || continue
    out=$(find "$WORK/meta" -name '*.dcm' | head -1)
    [ -n "$out" ] || { fail "$p: no output for meta-in-body.dcm"; continue; }
    if grep -q PHIHOSTILEAE "$out"; then fail "$p: the Source AE title inside the data set is kept"
    else ok "$p: the Source AE title inside the data set is gone"; fi
    # after the File Meta Information, no element of group 0002 is left
    if "$PYTHON" - "$out" <<'PY'
import sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
bad = [str(e.tag) for e in ds if e.tag.group == 2]
bad and print(" ".join(bad))
sys.exit(1 if bad else 0)
PY
    then ok "$p: no group 0002 element in the data set"
    else fail "$p: group 0002 elements left in the data set"; fi
done

# zeros: not DICOM, named, nothing written; the batch goes on
hostile_batch zeros -- "$H/zeros.dcm"
grep -F "'$H/zeros.dcm'" "$WORK/zeros.err" | grep -q 'no data element.*not DICOM' &&
    ok "zeros: named as not DICOM" || { fail "zeros: no message naming it not DICOM"; sed -n 1,3p "$WORK/zeros.err"; }

# binary values no reader can split (an FD of 5 bytes, an AT of 2) are
# removed: the output parses in pydicom, every value read
rm -rf "$WORK/bin"
expect_exit 0 timeout "$KK_TIMEOUT" "$KAKOU" deid -q -o "$WORK/bin" "$H/binary-lengths.dcm" &&
    if "$PYTHON" - "$(find "$WORK/bin" -name '*.dcm' | head -1)" <<'PY'
import sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
for e in ds.iterall():
    e.value
left = [t for t in (0x00181050, 0x00209165) if t in ds]
left and print("left:", ["%08X" % t for t in left])
sys.exit(1 if left else 0)
PY
    then ok "binary values of broken length removed, output read by pydicom"
    else fail "binary values of broken length kept, or output unreadable"; fi

# an Item Delimitation Item outside any item: DCMTK would end the data
# set there and the rest be lost; a failure, named
hostile_batch stray -- "$H/stray-item-end.dcm"
names "$H/stray-item-end.dcm" 'Item Delimitation Item \(FFFE,E00D\) at byte [0-9]+ stands outside any item' stray

# an image whose SOP Class UID says DICOMDIR: a failure, not skipped
hostile_batch dirclass -- "$H/dir-class-image.dcm"
grep -F "'$H/dir-class-image.dcm'" "$WORK/dirclass.err" | grep -q 'DICOMDIR.*holds pixel data' &&
    ok "dirclass: named as a DICOMDIR holding pixel data" || { fail "dirclass: no message"; sed -n 1,3p "$WORK/dirclass.err"; }

# the output folder inside an input folder: refused before anything is read
mkdir -p "$WORK/tree"
cp "$GOOD" "$WORK/tree/"
for o in "$WORK/tree" "$WORK/tree/out"; do
    expect_exit 2 timeout "$KK_TIMEOUT" "$KAKOU" deid -q -o "$o" "$WORK/tree" 2>"$WORK/inside.err" &&
        grep -q 'is inside the input folder' "$WORK/inside.err" &&
        ok "output folder $(basename "$o") inside the input: refused, exit 2"
done
n=$(find "$WORK/tree" -name '*.dcm' | wc -l)
[ "$n" = 1 ] && ok "the input folder holds only its one file" || fail "the input folder holds $n files, wanted 1"
expect_exit 0 timeout "$KK_TIMEOUT" "$KAKOU" deid -q -o "$WORK/beside" "$WORK/tree" &&
    ok "an output folder beside the input is taken"
finish
