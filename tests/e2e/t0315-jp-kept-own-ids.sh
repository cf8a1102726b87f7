#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0315: values a profile keeps whole, or "cleans" by keeping (codes and
# numbers), never keep the object's own name or ID: a kept SH
# (EthnicGroup, TimezoneOffsetFromUTC under retain-patient-characteristics
# and retain-longitudinal-full-dates), a CS the clean action keeps
# (ReasonForTheAttributeModification), a kept CS with enumerated values
# (SmokingStatus: emptied, not given a dummy it does not allow); and a
# safe-list private element of an implicit VR file whose creator DCMTK does
# not know (read as an unknown VR) holding the name goes. An instance UID
# made up under the standard's root (1.2.840.10008.99.<ID>) is replaced;
# a standard one (the Talairach frame of reference) is kept. A kept
# binary value (FrameOriginTimestamp, OB) whose bytes are text holding the
# name goes; one of binary bytes stays.
. "$(dirname "$0")/lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
mkdir -p "$WORK/in"
"$PYTHON" - "$TESTDATA/sample/ct-1.dcm" "$WORK/in" <<'PY' || { fail "could not write the inputs"; finish; }
import sys, pydicom
from pydicom.uid import ImplicitVRLittleEndian, ExplicitVRLittleEndian
src, out = sys.argv[1:3]
for n, implicit in (("explicit", False), ("implicit", True)):
    ds = pydicom.dcmread(src)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = "Kurogane^Tsubasa"
    ds.PatientID = "TQ48213377"
    ds.EthnicGroup = "Kurogane"
    ds.TimezoneOffsetFromUTC = "Tsubasa"
    ds.add_new(0x04000565, "CS", "KUROGANE")   # ReasonForTheAttributeModification
    ds.SmokingStatus = "TQ48213377"
    ds.add_new(0x01190010, "LO", "SIEMENS Ultrasound SC2000")
    ds.add_new(0x01191000, "UN", b"Kurogane TQ48213377 ")
    from pydicom.dataset import Dataset
    ref = Dataset()
    ref.ReferencedSOPClassUID = ds.SOPClassUID
    ref.ReferencedSOPInstanceUID = "1.2.840.10008.99.48213377"
    ds.ReferencedImageSequence = [ref]
    ds.FrameOfReferenceUID = "1.2.840.10008.1.4.1.1"
    # a binary value the profile keeps (a date, for the options): text with
    # the name goes, a binary one stays
    ds.add_new(0x00340007, "OB", bytes(range(1, 17)) if implicit else b"Kurogane TQ48213377 20240101")
    ds.SOPInstanceUID = ds.SOPInstanceUID + (".2" if implicit else ".1")
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    ds.is_implicit_VR, ds.is_little_endian = implicit, True
    ds.save_as("%s/%s.dcm" % (out, n), write_like_original=False)
PY
[ "$(ls "$WORK/in" | wc -l)" = 2 ] || { fail "two inputs expected"; finish; }
expect_exit 0 "$KAKOU" key new "$WORK/key" >/dev/null
expect_exit 0 "$KAKOU" deid -q -p jp-pseudonymized -k "$WORK/key" --db "$WORK/p.db" -o "$WORK/p" "$WORK/in"
outs=$(find "$WORK/p" -name '*.dcm' | wc -l)
[ "$outs" = 2 ] || fail "$outs outputs, wanted 2"
for f in $(find "$WORK/p" -name '*.dcm'); do
    for v in Kurogane KUROGANE kurogane Tsubasa TSUBASA 48213377; do
        grep -qa "$v" "$f" && fail "$v survives in $(basename "$f")"
    done
done
# what happened to each, element by element: SmokingStatus is emptied
# (no dummy outside its enumerated values), the others emptied or gone
"$PYTHON" - "$WORK/p" >"$WORK/values" <<'PY'
import os, sys, pydicom
for root, _, files in os.walk(sys.argv[1]):
    for f in sorted(files):
        ds = pydicom.dcmread(os.path.join(root, f))
        for tag in (0x00102160, 0x00080201, 0x04000565, 0x001021A0, 0x01191000, 0x00340007):
            el = ds.get(tag)
            print("%08X %s" % (tag, "absent" if el is None else repr(el.value)))
PY
[ "$(grep -c . "$WORK/values")" = 12 ] || fail "values of 12 elements expected: $(cat "$WORK/values")"
grep -q "^00340007 absent" "$WORK/values" && grep -q "^00340007 b'\\\\x01\\\\x02" "$WORK/values" \
    && ok "a kept binary value holding the name goes; a binary one stays" \
    || fail "(0034,0007): $(grep ^00340007 "$WORK/values")"
grep -q "^001021A0 ''$" "$WORK/values" && ! grep -q "^001021A0 'ANONYMIZED'" "$WORK/values" \
    && ok "SmokingStatus holding the ID is emptied" || fail "SmokingStatus: $(grep ^001021A0 "$WORK/values")"
grep -q "^01191000 absent" "$WORK/values" && [ "$(grep -c '^01191000 absent' "$WORK/values")" = 2 ] \
    && ok "the safe-list private element holding the name goes, implicit VR too" \
    || fail "(0119,1000): $(grep ^01191000 "$WORK/values")"
[ "$(grep -la "1\.2\.840\.10008\.1\.4\.1\.1" $(find "$WORK/p" -name '*.dcm') | wc -l)" = 2 ] \
    && ok "the standard's Talairach frame of reference is kept" || fail "a standard UID was replaced"
[ $fails = 0 ] && ok "no kept value holds the name or the ID"
finish
