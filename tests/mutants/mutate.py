#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tests/mutants/mutate.py - read tests/mutants/mutants.txt and apply one
mutation to a scratch tree.

  mutate.py list LIST                 one line per mutation: NAME<TAB>FILE<TAB>TESTS
  mutate.py apply LIST NAME ROOT      apply NAME to ROOT/FILE; exit 1 unless
                                      its 'find' text occurs exactly once

The list holds blocks:
  ## name: NAME
  ## file: PATH (relative to the tree)
  ## tests: TEST... (unit binaries check_*, one case of one as
           check_NAME:CASE, or e2e scripts tNNNN)
  ## why: one line
  @@ find
  exact text, one or more lines
  @@ replace
  the text it becomes
  @@ end
Lines starting with '#' outside blocks are comments.
"""
import sys


def parse(path):
    muts, cur, mode, buf = [], None, None, []
    for line in open(path, encoding="utf-8").read().split("\n"):
        if mode in ("find", "replace"):
            if line.startswith("@@ "):
                cur[mode] = "\n".join(buf)
                buf = []
                mode = line[3:].strip()
                if mode == "end":
                    muts.append(cur)
                    cur, mode = None, None
                continue
            if line.startswith("## name:"):
                # a block left open would swallow the next one whole
                sys.exit("mutants: %s: no '@@ end' before '%s'" % (cur["name"], line))
            buf.append(line)
            continue
        if line.startswith("## "):
            k, _, v = line[3:].partition(":")
            if k.strip() == "name":
                cur = {"name": v.strip()}
            elif cur is not None:
                cur[k.strip()] = v.strip()
        elif line.startswith("@@ find") and cur is not None:
            mode, buf = "find", []
    if mode is not None:
        sys.exit("mutants: %s: no '@@ end' at the end of the list" % cur["name"])
    for m in muts:
        for k in ("name", "file", "tests", "find", "replace"):
            if k not in m:
                sys.exit("mutants: %s: no %s" % (m.get("name", "?"), k))
    names = [m["name"] for m in muts]
    if len(set(names)) != len(names):
        sys.exit("mutants: duplicate names")
    return muts


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "list":
        for m in parse(sys.argv[2]):
            print("%s\t%s\t%s\t%s" % (m["name"], m["file"], m["tests"], m.get("why", "")))
        return
    if len(sys.argv) == 5 and sys.argv[1] == "apply":
        m = {x["name"]: x for x in parse(sys.argv[2])}.get(sys.argv[3])
        if not m:
            sys.exit("mutants: no mutation %s" % sys.argv[3])
        path = sys.argv[4] + "/" + m["file"]
        text = open(path, encoding="utf-8").read()
        n = text.count(m["find"])
        if n != 1:
            print("mutants: %s: the text to mutate occurs %d times in %s (wanted once): "
                  "update tests/mutants/mutants.txt" % (m["name"], n, m["file"]))
            sys.exit(1)
        new = text.replace(m["find"], m["replace"])
        if new == text:
            sys.exit("mutants: %s changes nothing" % m["name"])
        open(path, "w", encoding="utf-8").write(new)
        return
    sys.exit(__doc__)


main()
