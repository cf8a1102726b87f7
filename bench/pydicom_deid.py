#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""bench/pydicom_deid.py - a minimal pydicom de-identifier, the baseline a
user would write in an afternoon.

    pydicom_deid.py OUT IN...      (IN: files or folders, walked recursively)

Reads each file, replaces/empties/removes the usual PHI tags (bench/
phi_tags.py, top level only), removes all private elements, and writes the
file under OUT at the same path relative to its input folder (a file given
directly goes to OUT/<name>). Exit 1 if any file failed, 0 otherwise.
Run with Debian's Python (/usr/bin/python3), which has pydicom.
"""

import os
import sys

import pydicom

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from phi_tags import PHI_TAGS  # noqa: E402


def deid(ds: pydicom.Dataset) -> None:
    for g, e, _kw, action in PHI_TAGS:
        tag = (g << 16) | e
        if tag not in ds:
            continue
        if action[0] == "remove":
            del ds[tag]
        else:
            ds[tag].value = action[1] if action[0] == "replace" else ""
    ds.remove_private_tags()
    ds.PatientIdentityRemoved = "YES"


def inputs(args):
    for arg in args:
        if os.path.isdir(arg):
            for root, dirs, files in os.walk(arg):
                dirs.sort()
                for name in sorted(files):
                    if name.startswith("."):
                        continue
                    path = os.path.join(root, name)
                    yield path, os.path.relpath(path, arg)
        else:
            yield arg, os.path.basename(arg)


def main(argv):
    if len(argv) < 2:
        print("usage: pydicom_deid.py OUT IN...", file=sys.stderr)
        return 2
    out, failed = argv[0], 0
    made = set()
    for src, rel in inputs(argv[1:]):
        dst = os.path.join(out, rel)
        try:
            ds = pydicom.dcmread(src)
            deid(ds)
            d = os.path.dirname(dst)
            if d not in made:
                os.makedirs(d, exist_ok=True)
                made.add(d)
            ds.save_as(dst)
        except Exception as exc:  # keep going, as the other tools do
            print(f"pydicom_deid: {src}: {exc}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
