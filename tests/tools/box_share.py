#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""box_share.py KAKOU FILE [EXPLAIN-ARGS...]: the largest share of one
frame that `kakou explain` says it paints as burned-in text (the union of
its boxes on that frame; frame=all boxes count on every frame). Prints
"SHARE NBOXES"; exits 2 when explain fails or the file has no Rows or
Columns. No text is read or printed.
"""
import re
import subprocess
import sys

import pydicom

BOX = re.compile(r" box frame=(\w+) x=(-?\d+) y=(-?\d+) w=(\d+) h=(\d+)")


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    kakou, path, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
    ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
    rows, cols = int(ds.get("Rows", 0) or 0), int(ds.get("Columns", 0) or 0)
    if rows <= 0 or cols <= 0:
        print("no Rows or Columns in %s" % path, file=sys.stderr)
        return 2
    r = subprocess.run([kakou, "explain"] + extra + [path], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True, errors="replace")
    if r.returncode != 0:
        print("kakou explain exited %d on %s" % (r.returncode, path), file=sys.stderr)
        return 2
    frames = {}
    n = 0
    for line in r.stdout.splitlines():
        m = BOX.search(line)
        if m:
            frames.setdefault(m.group(1), []).append(tuple(int(v) for v in m.groups()[1:]))
            n += 1
    every = frames.pop("all", [])
    worst = 0.0
    for boxes in (list(frames.values()) or [[]]):
        mask = bytearray(rows * cols)
        for x, y, w, h in boxes + every:
            x0, x1 = max(0, x), min(cols, x + w)
            if x1 <= x0:
                continue
            for yy in range(max(0, y), min(rows, y + h)):
                mask[yy * cols + x0:yy * cols + x1] = b"\1" * (x1 - x0)
        worst = max(worst, sum(mask) / float(rows * cols))
    print("%.4f %d" % (worst, n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
