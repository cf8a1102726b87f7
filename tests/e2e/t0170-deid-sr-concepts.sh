#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0170: Clean Structured Content (PS3.15 E.3.4). With the option, SR
# content items are judged by concept name against Table E.3.4-1: no item
# whose concept the table removes (X) is left, at any depth, and values the
# table replaces (D) no longer equal the input's. Without the option the
# Content Sequence is replaced (D): no TEXT value survives.
. "$(dirname "$0")/lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
TABLE="$TESTS/../profiles/reference/sr_clean_concepts.tsv"
files=("$CORPUS"/sr_rt/openrem__*RDSR*.dcm "$CORPUS"/sr_rt/highdicom__sr_document.dcm)
for f in "${files[@]}"; do [ -f "$f" ] || { fail "no SR input '$f'"; finish; }; done
[ ${#files[@]} -ge 2 ] || { fail "only ${#files[@]} SR inputs"; finish; }
for f in "${files[@]}"; do
    n=$(basename "$f" .dcm)
    expect_exit 0 "$KAKOU" deid -q -O clean-structured-content -o "$WORK/c/$n" "$f" || continue
    expect_exit 0 "$KAKOU" deid -q -o "$WORK/b/$n" "$f" || continue
done
"$PYTHON" - "$TABLE" "$WORK" "${files[@]}" <<'PY' || fail "content items (see above)"
import os, sys, csv, pydicom
table, work, inputs = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = [r for r in csv.reader((l for l in open(table, encoding="utf-8") if not l.startswith("#")), delimiter="\t")]
head, rows = rows[0], rows[1:]
basic = {}
for r in rows:
    basic.setdefault((r[0], r[1]), set()).add(r[6])
def items(seq):
    for it in seq or []:
        yield it
        for sub in ("ContentSequence", "AcquisitionContextSequence"):
            if sub in it:
                yield from items(it.get(sub))
def item_values(it):
    out = []
    for kw in ("TextValue", "DateTime", "Date", "Time", "PersonName", "UID"):
        if kw in it and str(it.get(kw)).strip():
            out.append((kw, str(it.get(kw)).strip()))
    return out
def by_concept(ds):
    vals = {}
    for it in items(ds.get("ContentSequence")):
        cn = it.get("ConceptNameCodeSequence")
        if cn:
            key = (str(cn[0].get("CodingSchemeDesignator", "")), str(cn[0].get("CodeValue", "")))
            vals.setdefault(key, set()).update(item_values(it))
    return vals
bad = 0
dchecked = 0
for f in inputs:
    n = os.path.splitext(os.path.basename(f))[0]
    outs = [os.path.join(r, x) for r, _, xs in os.walk(os.path.join(work, "c", n)) for x in xs]
    if len(outs) != 1:
        print("no output for", n); bad += 1; continue
    ds = pydicom.dcmread(outs[0])
    seen = 0
    for it in items(ds.get("ContentSequence")):
        cn = it.get("ConceptNameCodeSequence")
        if not cn:
            continue
        key = (str(cn[0].get("CodingSchemeDesignator", "")), str(cn[0].get("CodeValue", "")))
        if basic.get(key) == {"X"}:
            print("%s: item %s %s left, the table removes it" % (n, key, cn[0].get("CodeMeaning", "")))
            bad += 1
        seen += 1
    if not seen:
        print("%s: no content item left at all" % n); bad += 1
    # D concepts: no value of the input survives under that concept
    vin, vout = by_concept(pydicom.dcmread(f)), by_concept(ds)
    for key, vals in vin.items():
        if basic.get(key) != {"D"} or not vals:
            continue
        dchecked += len(vals)
        same = vals & vout.get(key, set())
        if same:
            print("%s: item %s keeps %d value(s) the table replaces (D)" % (n, key, len(same)))
            bad += 1
    # without the option: TEXT values are all dummies
    outs = [os.path.join(r, x) for r, _, xs in os.walk(os.path.join(work, "b", n)) for x in xs]
    ds = pydicom.dcmread(outs[0])
    for it in items(ds.get("ContentSequence")):
        if "TextValue" in it and str(it.TextValue) not in ("ANONYMIZED", ""):
            print("%s: TEXT value kept without the option" % n); bad += 1
print("checked", len(inputs), "documents,", dchecked, "values of D concepts")
if dchecked == 0:
    print("no D concept value in the inputs: the D check checked nothing"); bad += 1
sys.exit(1 if bad else 0)
PY
finish
