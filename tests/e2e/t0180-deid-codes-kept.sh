#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0180: coded entries survive de-identification. CodeValue and
# CodingSchemeDesignator name concepts of controlled terminologies (DCM
# 113100, SNOMED 91723000, LOINC 24627-2), not people: every code the
# output still holds keeps the value and scheme the input had, in every
# built-in profile (every code of an output is a code of its input, or one
# kakou adds). Cleaning them as text took numeric codes for IDs ("***"),
# which broke SEG segment categories and dose SRs.
. "$(dirname "$0")/lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
"$PYTHON" -c 'import pydicom' 2>/dev/null || skip "no pydicom"
files=("$CORPUS"/sr_rt/highdicom__seg_image_ct_binary_overlap.dcm "$CORPUS"/sr_rt/openrem__CT-SC-Philips_Brilliance16P.dcm
       "$CORPUS"/image/highdicom__sm_image.dcm "$CORPUS"/sr_rt/openrem__CT-RDSR-Siemens_Flash-TAP-SS.dcm)
for f in "${files[@]}"; do [ -f "$f" ] || { fail "no input '$f'"; finish; }; done
"$KAKOU" key new "$WORK/key" >/dev/null 2>&1 || fail "kakou key new"
for p in dicom-basic jp-pseudonymized jp-anonymized; do
    keys=(-k "$WORK/key")
    [ "$p" = jp-pseudonymized ] && keys+=(--db "$WORK/$p.db")
    [ "$p" = jp-anonymized ] && keys=(--k-anonymity 1) # four inputs: no release suppression
    expect_exit 0 "$KAKOU" deid -q --no-journal -p "$p" "${keys[@]}" --report "$WORK/$p.jsonl" \
        --report-paths -o "$WORK/$p" "${files[@]}" || continue
    "$PYTHON" - "$WORK/$p.jsonl" "$WORK/$p" "$p" "${files[@]}" <<'PY' || fail "$p: codes changed (see above)"
import json, os, sys, pydicom
report, outdir, prof = sys.argv[1:4]
by_name = {os.path.basename(f): f for f in sys.argv[4:]}
def codes(ds, out):
    for el in ds:
        if el.VR == "SQ":
            for it in el.value:
                codes(it, out)
    v, d = ds.get("CodeValue"), ds.get("CodingSchemeDesignator")
    if v is not None or d is not None:
        out.append((str(v or ""), str(d or "")))
    return out
# the codes kakou adds itself (DeidentificationMethodCodeSequence), and
# the dummy of a sequence the profile replaces (D: Content Sequence)
added = lambda c: (c[1] in ("DCM", "99KAKOU") and c[0].startswith("1131")) or c == ("ANONYMIZED", "ANONYMIZED")
bad = compared = 0
for line in open(report, encoding="utf-8"):
    r = json.loads(line)
    if r.get("status") != "done":
        continue
    src = by_name[os.path.basename(r["input"])]
    a = set(codes(pydicom.dcmread(src, force=True), []))
    for c in codes(pydicom.dcmread(os.path.join(outdir, r["output"]), force=True), []):
        if "***" in c[0] or "***" in c[1] or (c not in a and not added(c)):
            print("%s: %s has code %s, which its input has not" % (prof, os.path.basename(src), c))
            bad += 1
        elif c in a:
            compared += 1
print("%s: %d code values compared" % (prof, compared))
sys.exit(1 if bad or compared < 20 else 0)
PY
done
finish
