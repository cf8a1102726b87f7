#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tests/tools/profile_oracle.py - an oracle for dicom-basic's profile cases
that does not come from kakou: PS3.15 Table E.1-1 itself.

Usage: profile_oracle.py TABLE.tsv IOD_TYPES.tsv CASES/ [OUTPUTS/]

TABLE.tsv is the standard's table (../shared/reference/ps315_annex_e.tsv),
IOD_TYPES.tsv the PS3.3 Types per SOP Class (../shared/reference/iod_types.tsv);
CASES/ holds NAME.dcm with NAME.expected (kakou profile test). For every
row of every .expected file whose attribute the table lists, the action
kakou records must be one the Basic Profile code allows:

  X -> remove          Z -> empty or dummy      D -> dummy
  U -> uid             X/Z -> remove or empty   X/D -> remove or dummy
  Z/D -> empty/dummy   X/Z/D -> any of those    X/Z/U* -> remove, empty, uid

(PS3.15 E.1.1: Z may be a dummy "consistent with the VR"; the compound
codes leave the choice to the IOD's Type.) Where the IOD needs the
attribute (Type 1, 1C, 2 or 2C for the case's SOP Class in IOD_TYPES), or
inside a kept sequence item (whose macro may need it), X may also be
emptied: the value goes and the object stays valid. Private attributes (odd group)
must be removed (Basic Profile, no safe-private option). Then the value
class is checked in the de-identified output kakou wrote for the case
(OUTPUTS/, a folder of outputs named like the cases, when given):
remove -> absent, empty -> zero length, dummy -> present and not the
input's value, uid -> a 2.25 UID other than the input's, keep -> the
input's value.

Prints one line per disagreement and a summary; exits 1 on any
disagreement, 2 on usage errors or when no row was checked.
"""
import csv
import os
import re
import sys

ALLOWED = {
    "X": {"remove"}, "Z": {"empty", "dummy"}, "D": {"dummy"}, "U": {"uid"},
    "K": {"keep"}, "C": {"clean"},
    "X/Z": {"remove", "empty"}, "X/D": {"remove", "dummy"},
    "Z/D": {"empty", "dummy"}, "X/Z/D": {"remove", "empty", "dummy"},
    "X/Z/U*": {"remove", "empty", "uid"},
}
ROW = re.compile(r"^(\S+)\s+(\S+)\s+([A-Z]{2})\s+(\S+)\s+(.*)$")
TAG = re.compile(r"\(([0-9A-F]{4}),([0-9A-F]{4})\)")


def load_table(path):
    table, masks = {}, []
    with open(path, encoding="utf-8") as f:
        rows = csv.DictReader((l for l in f if not l.startswith("#")), delimiter="\t")
        for r in rows:
            code = (r.get("basic") or "").strip()
            tag = r["tag"].strip().upper()
            if not code:
                continue
            if "X" in tag[:4] or "X" in tag[5:] or tag.startswith("GGGG"):
                if tag.startswith("GGGG"):
                    continue  # the private-attribute row: checked by group
                masks.append((re.compile("^" + tag.replace("X", "[0-9A-F]") + "$"), code))
            else:
                table[tag] = code
    return table, masks


def load_types(path):
    """{(sop_class_uid, "GGGG,EEEE")} of the attributes an IOD needs."""
    need = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            c = line.rstrip("\n").split("\t")
            if len(c) >= 6 and c[5] in ("1", "1C", "2", "2C"):
                need.add((c[0], c[3].upper()))
    return need


def sop_class(path):
    import pydicom
    try:
        return str(pydicom.dcmread(path, stop_before_pixels=True, force=True).get("SOPClassUID", ""))
    except Exception:
        return ""


def code_of(tag, table, masks):
    if tag in table:
        return table[tag]
    for rx, code in masks:
        if rx.match(tag):
            return code
    return None


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    table, masks = load_table(sys.argv[1])
    need = load_types(sys.argv[2])
    cases = sys.argv[3]
    outs = sys.argv[4] if len(sys.argv) == 5 else None
    checked = bad = 0
    rows_by_case = {}
    for name in sorted(os.listdir(cases)):
        if not name.endswith(".expected"):
            continue
        case = name[:-len(".expected")]
        cls = sop_class(os.path.join(cases, case + ".dcm"))
        with open(os.path.join(cases, name), encoding="utf-8") as f:
            for line in f:
                m = ROW.match(line.rstrip("\n"))
                if not m:
                    continue
                path, keyword, vr, action, source = m.groups()
                tags = TAG.findall(path)
                if not tags:
                    continue
                tag = "%s,%s" % tags[-1]
                # a later row for the same path is a later decision: it wins
                rows_by_case.setdefault(case, {})[path] = (path, tag, vr, action)
                if source.startswith("inside a sequence"):
                    continue  # decided by the enclosing sequence's row
                if int(tag[:4], 16) % 2 == 1:
                    want = {"remove"}
                    code = "private"
                else:
                    code = code_of(tag, table, masks)
                    if code is None:
                        continue
                    want = ALLOWED.get(code)
                    if want is None:
                        continue
                    if "remove" in want and ("[" in path or (cls, tag) in need):
                        want = want | {"empty"}
                checked += 1
                if action not in want:
                    bad += 1
                    print("%s: %s %s: kakou says %s, Table E.1-1 says %s (%s)"
                          % (case, path, keyword, action, code, " or ".join(sorted(want))))
    values = 0
    if outs:
        import pydicom
        for case, rows in rows_by_case.items():
            out = os.path.join(outs, case + ".dcm")
            if not os.path.exists(out):
                print("%s: no output %s" % (case, out))
                bad += 1
                continue
            src = pydicom.dcmread(os.path.join(cases, case + ".dcm"), force=True)
            dst = pydicom.dcmread(out, force=True)
            for path, tag, vr, action in rows.values():
                if "[" in path or vr == "SQ":
                    continue  # top-level values only
                t = int(tag.replace(",", ""), 16)
                a, b = src.get(t), dst.get(t)
                if a is None:
                    continue
                ok = True
                av = a.value if a.VR not in ("OB", "OW", "UN") else bytes(a.value or b"")
                bv = None if b is None else (b.value if b.VR not in ("OB", "OW", "UN") else bytes(b.value or b""))
                if action == "remove":
                    ok = b is None
                elif action == "empty":
                    ok = b is not None and (bv is None or bv == "" or bv == b"" or bv == [])
                elif action == "dummy":
                    ok = b is not None and bv not in (None, "", b"") and (not av or str(bv) != str(av))
                elif action == "uid":
                    ok = b is not None and str(bv).startswith("2.25.") and str(bv) != str(av)
                elif action == "keep":
                    ok = b is not None and str(bv) == str(av)
                else:
                    continue
                values += 1
                if not ok:
                    bad += 1
                    print("%s: %s: action %s, but the output holds %r (input %r)"
                          % (case, path, action, bv, av))
    print("profile_oracle: %d row(s) checked against Table E.1-1, %d value(s) in outputs, "
          "%d disagreement(s)" % (checked, values, bad))
    if checked == 0:
        return 2
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
