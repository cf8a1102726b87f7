#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tests/tools/dciodvfy_diff.py - errors dciodvfy finds in an output but not in
its input.

Usage: dciodvfy_diff.py [--show-all] IN OUT [IN OUT]...
       dciodvfy_diff.py --normalize < dciodvfy-output

Runs dciodvfy on each IN and OUT, keeps the lines that report an error,
normalizes them to an error *kind* and prints, per pair,
    NEW <input>: <normalized error>
for every kind the output has and the input did not. Exit 1 if any pair has
a new error, else 0. A pair whose input dciodvfy cannot read (dataset read
failed, giving up) is printed as "SKIP <input>: ..." and not compared,
because its error list is incomplete.

Normalization, so that an error that only mentions a changed value is the
same error:
  * "(0x0010,0x0030)" style tags are kept; attribute names, modules, VRs
    and Types are kept (they say what is wrong);
  * quoted values "..." and values in <...> that follow "= " or "value "
    become <V>; dotted numbers (UIDs, versions) and any number after
    "UID" become <UID>; other hex numbers 0x... (lengths) and numbers of
    3+ digits become <N>;
  * "Value invalid for this VR - (tag) VR Name ..." keeps only up to the
    attribute name (what was invalid, not which character);
  * whitespace is collapsed and duplicate kinds counted once.
"""
import re
import subprocess
import sys

TAG = re.compile(r"\(0x([0-9a-fA-F]{4}),0x([0-9a-fA-F]{4})\)")
VR_INVALID = re.compile(r"Value invalid for this VR - \x01\d+\x01")
READ_FAILED = ("dciodvfy killed by signal", "Dicom dataset read failed", "giving up", "Sequence attribute read failed",
               "Sequence Item dataset read failed", "Tags out of order")


def normalize(line):
    s = line.strip()
    tags = []

    def keep(m):
        tags.append("(%s,%s)" % (m.group(1).lower(), m.group(2).lower()))
        return "\x01%d\x01" % (len(tags) - 1)
    s = TAG.sub(keep, s)
    m = VR_INVALID.search(s)
    if m:
        rest = re.split(r"\s{2,}", s[m.end():].strip())[0]
        s = s[:m.end()] + " " + rest
    s = re.sub(r'"[^"]*"', "<V>", s)
    s = re.sub(r"(= |value )<[^<>]*>", r"\1<V>", s)
    s = re.sub(r"(?<![\w(,])\d+(?:\.\d+)+", "<UID>", s)
    s = re.sub(r"(UID:?) [0-9.]+\b", r"\1 <UID>", s)
    s = re.sub(r"\b0x[0-9a-fA-F]+\b", "<N>", s)
    s = re.sub(r"(?<![\w<])\d{3,}(?![\w>])", "<N>", s)
    s = re.sub(r"\s+", " ", s)
    s = re.sub("\x01(\\d+)\x01", lambda m: tags[int(m.group(1))], s)
    return s


def errors(path):
    try:
        p = subprocess.run(["dciodvfy", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=120)
        text = p.stdout.decode("latin-1")
    except subprocess.TimeoutExpired:
        return None, ["dciodvfy timed out"]
    kinds, raw = set(), []
    if p.returncode < 0:
        raw.append("Error - dciodvfy killed by signal %d" % -p.returncode)
        kinds.add(raw[-1])
    for line in text.splitlines():
        if "Error" not in line:
            continue
        raw.append(line)
        kinds.add(normalize(line))
    return kinds, raw


def main():
    args = sys.argv[1:]
    if args and args[0] == "--normalize":
        for line in sys.stdin:
            if "Error" in line:
                print(normalize(line))
        return 0
    show_all = False
    if args and args[0] == "--show-all":
        show_all, args = True, args[1:]
    if not args or len(args) % 2:
        sys.stderr.write(__doc__)
        return 2
    bad = 0
    for i in range(0, len(args), 2):
        fin, fout = args[i], args[i + 1]
        kin, rin = errors(fin)
        if kin is None or any(any(r in l for r in READ_FAILED) for l in rin):
            print("SKIP %s: dciodvfy cannot read the input completely" % fin)
            continue
        kout, rout = errors(fout)
        if kout is None:
            print("NEW %s: dciodvfy timed out on the output" % fin)
            bad += 1
            continue
        new = sorted(kout - kin)
        for k in new:
            print("NEW %s: %s" % (fin, k))
        if new:
            bad += 1
            if show_all:
                for l in rout:
                    print("  out: %s" % l)
        else:
            print("ok %s (%d input error kinds, %d output)" % (fin, len(kin), len(kout)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
