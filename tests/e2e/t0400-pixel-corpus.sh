#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0400-pixel-corpus: burned-in text in real files. Through jp-anonymized
# (Clean Pixel Data on), every line of PHI written down in
# testdata/burned_in/phi_lines.tsv is painted out of the real files of
# corpus/burned_in, whatever their transfer syntax; the outputs parse,
# say BurnedInAnnotation NO with code 113101, and dciodvfy finds no new
# errors. Objects the pixel rules leave alone (CT, MR, ...) keep their
# Pixel Data byte for byte with the option on; a CT or MR it paints loses
# at most 10% of a frame (tests/tools/box_share.py).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/corpus-lib.sh"
[ -x "$KAKOU" ] || skip "no kakou binary at $KAKOU"
T="$TESTS/tools"
TRUTH="$TESTS/../testdata/burned_in/phi_lines.tsv"

mapfile -t FILES < <(corpus_files burned_in)
[ ${#FILES[@]} -ge 10 ] || { fail "only ${#FILES[@]} burned-in files found"; finish; }
R="$WORK/bi"
deid_each "$R" -q -p jp-anonymized --no-release -- "${FILES[@]}"

: >"$WORK/map.tsv"
outs=() pairs=()
while IFS=$'\t' read -r n f rc nout; do
    name=$(basename "$f")
    if [ "$rc" != 0 ] || [ "$nout" != 1 ]; then
        fail "$name: exit $rc, $nout output(s): $(head -c 300 "$R/$n.err")"
        continue
    fi
    out=$(deid_output "$R" "$n")
    printf '%s\t%s\n' "$name" "$out" >>"$WORK/map.tsv"
    outs+=("$out")
    pairs+=("$f" "$out")
done <"$R/index.tsv"

if "$PYTHON" "$T/pixel_residue.py" "$TRUTH" "$CORPUS/burned_in" "$WORK/map.tsv" >"$WORK/residue"; then
    ok "every written-down PHI line is painted out ($(grep -c '^ok' "$WORK/residue") lines)"
else
    while read -r line; do fail "${line#not ok: }"; done < <(grep '^not ok' "$WORK/residue")
fi

if "$PYTHON" "$T/dcm_check.py" parse "${outs[@]}" >"$WORK/parse" 2>&1; then
    ok "pydicom reads every output"
else
    fail "pydicom: $(head -5 "$WORK/parse")"
fi
for o in "${outs[@]}"; do
    dcmdump -q "$o" >/dev/null 2>&1 || fail "dcmdump cannot read $(basename "$o")"
    gdcmdump "$o" >/dev/null 2>&1 || fail "gdcmdump cannot read $(basename "$o")"
done

# BurnedInAnnotation NO and the Clean Pixel Data code, on each cleaned object
"$PYTHON" - "${outs[@]}" <<'PY' >"$WORK/flags" || fail "$(cat "$WORK/flags")"
import sys, pydicom
bad = 0
for p in sys.argv[1:]:
    ds = pydicom.dcmread(p)
    codes = [i.CodeValue for i in ds.get("DeidentificationMethodCodeSequence", [])]
    if ds.get("BurnedInAnnotation") != "NO" or "113101" not in codes:
        print("%s: BurnedInAnnotation %s, codes %s" % (p, ds.get("BurnedInAnnotation"), codes))
        bad = 1
sys.exit(bad)
PY

if "$PYTHON" "$T/dciodvfy_diff.py" "${pairs[@]}" >"$WORK/iod"; then
    ok "dciodvfy: no new errors"
else
    while read -r line; do fail "dciodvfy: $line"; done < <(grep '^NEW' "$WORK/iod")
fi

# an object with nothing painted out (no code 113101) keeps its Pixel Data
# byte for byte, with the option on
mapfile -t PLAIN < <(corpus_files image ts | head -60)
P="$WORK/plain"
deid_each "$P" -q -O clean-pixel-data -- "${PLAIN[@]}"
ppairs=()
cleaned=0 measured=0
while IFS=$'\t' read -r n f rc nout; do
    [ "$rc" = 0 ] && [ "$nout" = 1 ] || continue
    o=$(deid_output "$P" "$n")
    if "$PYTHON" -c 'import sys, pydicom; ds = pydicom.dcmread(sys.argv[1], stop_before_pixels=True); sys.exit(0 if any(i.CodeValue == "113101" for i in ds.get("DeidentificationMethodCodeSequence", [])) else 1)' "$o"; then
        cleaned=$((cleaned + 1))
        # a CT or MR (more than 8 bits) of these has at most a line or two
        # of text: anatomy painted as text (a real MR mosaic of a phantom
        # lost 49% of its tiles to "unread lines") fails
        if "$PYTHON" -c 'import sys, pydicom; ds = pydicom.dcmread(sys.argv[1], stop_before_pixels=True); sys.exit(0 if ds.get("Modality") in ("CT", "MR") and int(ds.get("BitsStored", 8) or 8) > 8 else 1)' "$f"; then
            measured=$((measured + 1))
            read -r share nb < <("$PYTHON" "$T/box_share.py" "$KAKOU" "$f" -O clean-pixel-data)
            if [ -z "$share" ] || "$PYTHON" -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0.10 else 1)' "$share"; then
                fail "$(basename "$f"): ${share:-?} of a frame painted as text ($nb boxes), over 10%"
            fi
        fi
        continue
    fi
    ppairs+=("$f" "$o")
done <"$P/index.tsv"
"$PYTHON" "$T/dcm_check.py" pixcmp "${ppairs[@]}" >"$WORK/pix"
n_ok=$(grep -c '^ok' "$WORK/pix")
while read -r line; do fail "${line#FAIL }"; done < <(grep '^FAIL' "$WORK/pix")
[ "$n_ok" -gt 20 ] || fail "only $n_ok objects compared byte for byte"
[ "$measured" -ge 2 ] || fail "only $measured cleaned CT or MR objects measured for painted anatomy"
echo "with -O clean-pixel-data: $n_ok objects byte for byte, $cleaned cleaned ($measured CT or MR under 10% painted)"
finish
