#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""bench/dataset.py - generate the benchmark data set once and reuse it.

    dataset.py MAKE_DATASET_PY CACHE_DIR PATIENTS STUDIES SERIES IMAGES SEED

Prints the data set folder on stdout. The folder is
CACHE_DIR/ct-pP-sS-rR-iI-seedN and holds a stamp file (.bench-dataset) that
names the generator's SHA-256 and its arguments: when both match, the folder
is reused; otherwise it is generated again into a temporary folder that is
renamed into place only when complete, so an interrupted run never leaves a
half-written set behind that a later run would trust.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys

STAMP = ".bench-dataset"


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def main(argv: list[str]) -> int:
    if len(argv) != 7:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    gen, cache, patients, studies, series, images, seed = argv
    gen_args = ["--kind", "ct", "--patients", patients, "--studies-per-patient", studies,
                "--series-per-study", series, "--images-per-series", images, "--seed", seed]
    stamp_text = f"generator-sha256 {sha256_of(gen)}\nargs {' '.join(gen_args)}\n"
    name = f"ct-p{patients}-s{studies}-r{series}-i{images}-seed{seed}"
    final = os.path.join(cache, name)
    stamp = os.path.join(final, STAMP)
    try:
        with open(stamp, encoding="utf-8") as f:
            if f.read() == stamp_text:
                print(final)
                return 0
    except OSError:
        pass
    os.makedirs(cache, exist_ok=True)
    tmp = final + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"bench: generating data set {name} (once; cached in {cache})", file=sys.stderr)
    rc = subprocess.call([sys.executable, gen, "--out", tmp, *gen_args], stdout=sys.stderr)
    if rc != 0:
        print(f"bench: make_dataset.py failed (exit {rc})", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
        return 1
    with open(os.path.join(tmp, STAMP), "w", encoding="utf-8") as f:
        f.write(stamp_text)
    shutil.rmtree(final, ignore_errors=True)
    os.rename(tmp, final)
    print(final)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
