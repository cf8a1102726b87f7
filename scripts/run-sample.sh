#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# scripts/run-sample.sh - `make run`: de-identify the bundled sample with
# the built-in dicom-basic profile and say what happened.
set -eu
kakou=${1:-build/kakou}
out=build/run-output
rm -rf "$out"
echo "== kakou deid -p dicom-basic -o $out testdata/sample"
"$kakou" deid -v -p dicom-basic -o "$out" testdata/sample
echo
echo "== outputs (named from the new UIDs, never from input names)"
(cd "$out" && find . -name '*.dcm' | sort)
first=$(find "$out" -name '*.dcm' | sort | head -1)
if [ -n "$first" ]; then
    echo
    echo "== what dicom-basic did to the first input (kakou explain, values hidden)"
    "$kakou" explain -p dicom-basic "$(find testdata/sample -type f | sort | head -1)" | head -40
    echo "   ..."
    echo
    echo "== patient module of the first output (dcmdump)"
    if command -v dcmdump >/dev/null 2>&1; then
        dcmdump -q "$first" | grep -E '\((0010|0012),' || true
    fi
fi
