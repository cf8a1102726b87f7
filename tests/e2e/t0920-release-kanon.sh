#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0920: a release judged on the data set (items ④⑤, R13-R15, issue 17).
# A generated set (common patients, one-offs: 103 years, 2.05 m, 150 kg, a
# one-off clinic and scanner, a rare body part, several studies per
# patient): after jp-anonymized every class holds >= 10 patients, the rare
# values are gone, the report's numbers equal a recount of the outputs,
# kakou verify --k agrees, and jp-pseudonymized keeps the rare value (R15).
. "$TESTS/e2e/lib.sh"
"$PYTHON" -c 'import pydicom' 2>/dev/null || skip "no pydicom"

gen="$WORK/gen"
"$PYTHON" "$TESTS/tools/make_release.py" "$CORPUS/image/pydicom__CT_small.dcm" "$gen" 2>/dev/null
n=$(ls "$gen" | wc -l)
[ "$n" = 79 ] || fail "generated $n files, not 79"

# jp-anonymized with PatientID kept, so the test can tell patients apart
cat > "$WORK/rt.kkp" <<'P'
profile release-test
version 1
inherit jp-anonymized
PatientID K
P
expect_exit 0 "$KAKOU" deid -q --no-journal -p "$WORK/rt.kkp" -o "$WORK/a" --release-report "$WORK/rep.json" "$gen"
"$PYTHON" "$TESTS/tools/make_release.py" --recount "$WORK/a" > "$WORK/recount.json"
"$PYTHON" - "$WORK/rep.json" "$WORK/recount.json" <<'PY' || fail "report and recount differ"
import json, sys
r = json.load(open(sys.argv[1])); c = json.load(open(sys.argv[2]))
bad = []
def eq(what, a, b):
    if a != b: bad.append("%s: report %r, recount %r" % (what, a, b))
eq("patients written", r["patients"] - r["patients_suppressed"], c["patients"])
eq("instances written", r["instances"] - r["instances_suppressed"], c["instances"])
eq("classes", r["classes"], c["classes"])
eq("class sizes", r["class_sizes"], c["class_sizes"])
eq("k reached", r["k_reached"], c["smallest"])
eq("k", r["k"], 10)
if c["smallest"] < 10: bad.append("a class of %d < 10" % c["smallest"])
# the generated set: 63 patients, 79 files; the opted-out one is not here
if r["patients"] != 64 or r["instances"] != 79: bad.append("read %d/%d" % (r["patients"], r["instances"]))
if r["patients_suppressed"] > 3: bad.append("more than 5%% suppressed: %d" % r["patients_suppressed"])
att = {a["attribute"]: a for a in r["attributes"]}
for a in ("PatientSize", "PatientWeight", "ManufacturerModelName", "BodyPartExamined"):
    if att[a]["rare_values_replaced"] < 1: bad.append("no rare %s replaced" % a)
if att["BodyPartExamined"]["rare_instances_replaced"] != 2: bad.append("TOE: %r" % att["BodyPartExamined"])
if att["InstitutionName"]["in_output"]: bad.append("InstitutionName counted though the profile removes it")
for b in bad: print("   ", b)
sys.exit(1 if bad else 0)
PY
# the chart: before (left) every patient is alone, so its bars are those of
# classes below k (hatched, grey 150); after (right) none is below k
expect_exit 0 "$KAKOU" deid -q --no-journal -p "$WORK/rt.kkp" -o "$WORK/a2" --release-chart "$WORK/chart.png" \
    --release-report "$WORK/repc.json" "$gen"
"$PYTHON" - "$WORK/chart.png" "$WORK/repc.json" <<'PY' || fail "release chart"
import json, sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("L")
w, h = im.size
px = im.load()
def count(x0, x1, v):
    return sum(1 for x in range(x0, x1) for y in range(h) if px[x, y] == v)
half = w // 2
bad = []
if (w, h) != (792, 288): bad.append("size %dx%d" % (w, h))
if count(0, half, 150) < 50: bad.append("no hatched (below k) bar before")
if count(half, w, 150) != 0: bad.append("hatched (below k) bars after the release")
if count(half, w, 60) < 50: bad.append("no bar after")
r = json.load(open(sys.argv[2]))
before = sum(int(s) * n for s, n in r["class_sizes_before"].items())
if before != r["patients"]: bad.append("class_sizes_before counts %d patients of %d" % (before, r["patients"]))
if r["class_sizes_before"].get("1", 0) < 10: bad.append("before: %r" % r["class_sizes_before"])
for b in bad: print("   ", b)
sys.exit(1 if bad else 0)
PY
expect_exit 2 "$KAKOU" deid -q --no-journal -p "$WORK/rt.kkp" --no-release --release-chart "$WORK/c2.png" -o "$WORK/a3" "$gen"

# nothing PHI-like in the report: no ID, no value
grep -qE 'P[0-9][0-9]|U[123]|SOMATOM|TOE|103|Tiny' "$WORK/rep.json" && fail "report holds a value: $(cat "$WORK/rep.json")"

# rare and extreme values are gone from every output
dump() { for f in $(find "$1" -name '*.dcm'); do dcmdump -q +P 0010,1010 +P 0010,1020 +P 0010,1030 +P 0008,1090 +P 0008,0070 +P 0018,0015 +P 0008,0080 "$f"; done; }
dump "$WORK/a" > "$WORK/a.dump"
[ -s "$WORK/a.dump" ] || fail "no quasi-identifier in the outputs"
for v in 103Y 2.05 150 X1 ACME TOE Supria Hitachi 'Tiny Clinic' 012Y 1.20; do
    grep -qF "[$v" "$WORK/a.dump" && fail "rare value '$v' survived"
done
expect_exit 0 "$KAKOU" verify -p "$WORK/rt.kkp" --k 10 "$WORK/a" > "$WORK/v"
grep -q ", 0 below k=10" "$WORK/v" || fail "verify --k: $(cat "$WORK/v")"

# without the release the one-offs are alone: verify --k catches it
expect_exit 0 "$KAKOU" deid -q --no-journal -p "$WORK/rt.kkp" --no-release -o "$WORK/b" "$gen" 2>/dev/null
expect_exit 1 "$KAKOU" verify -p "$WORK/rt.kkp" --k 10 "$WORK/b" > "$WORK/v"
grep -q "smallest 1," "$WORK/v" || fail "verify --k on a raw set: $(cat "$WORK/v")"

# --k-anonymity overrides k: k = 2 keeps more (more classes)
expect_exit 0 "$KAKOU" deid -q --no-journal -p "$WORK/rt.kkp" --k-anonymity 2 -o "$WORK/c" --release-report "$WORK/rep2.json" "$gen"
"$PYTHON" - "$WORK/rep.json" "$WORK/rep2.json" <<'PY' || fail "k=2 is not finer than k=10"
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
sys.exit(0 if b["k"] == 2 and b["classes"] > a["classes"] and b["k_reached"] >= 2 else 1)
PY
expect_exit 0 "$KAKOU" verify -p "$WORK/rt.kkp" --k 2 "$WORK/c" >/dev/null

# plain jp-anonymized (PatientID emptied): two passes, no class under k
expect_exit 0 "$KAKOU" deid -q --no-journal -p jp-anonymized -o "$WORK/d" --release-report "$WORK/rep3.json" "$gen"
grep -q '"k":10' "$WORK/rep3.json" || fail "jp-anonymized report: $(cat "$WORK/rep3.json")"
dump "$WORK/d" | grep -qF '[103Y' && fail "jp-anonymized kept 103Y"

# R15: jp-pseudonymized applies none of it: the 2.05 m survives
expect_exit 0 "$KAKOU" key new "$WORK/key" >/dev/null
expect_exit 0 "$KAKOU" deid -q --no-journal -p jp-pseudonymized -k "$WORK/key" --db "$WORK/p.db" -o "$WORK/p" "$gen"/U1-*.dcm
dump "$WORK/p" | grep -qF '[2.05' || fail "jp-pseudonymized lost the rare height (R15)"
finish
