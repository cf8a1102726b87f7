#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0900: signed delivery (R27, issue 17). A signing key pair, a manifest
# that sha256sum -c reads, and kakou manifest verify catching a flipped
# byte, a missing file, an extra file and a forged manifest.
. "$TESTS/e2e/lib.sh"

in="$WORK/in"; out="$WORK/out"
mkdir -p "$in"
cp "$CORPUS"/image/pydicom__CT_small.dcm "$CORPUS"/image/pydicom__ExplVR_BigEnd.dcm "$in"/
expect_exit 0 "$KAKOU" deid -q -p dicom-basic -o "$out" "$in"
n=$(find "$out" -type f | wc -l)
[ "$n" -ge 2 ] || fail "deid wrote $n files"

expect_exit 0 "$KAKOU" key new --sign "$WORK/sk" > "$WORK/id"
[ "$(stat -c %a "$WORK/sk")" = 600 ] || fail "secret key mode $(stat -c %a "$WORK/sk")"
[ -f "$WORK/sk.pub" ] || fail "no public key"
grep -q "^id $(cat "$WORK/id")\$" "$WORK/sk.pub" || fail "public key does not carry the printed id"
# never overwritten
expect_exit 2 "$KAKOU" key new --sign "$WORK/sk" 2>/dev/null >/dev/null

expect_exit 0 "$KAKOU" manifest sign --key "$WORK/sk" "$out"
[ "$(wc -l < "$out/SHA256SUMS")" = "$n" ] || fail "manifest lists $(wc -l < "$out/SHA256SUMS") files, folder has $n"
# sorted, relative, the manifest and its signature left out
sort -c -k2 "$out/SHA256SUMS" 2>/dev/null || LC_ALL=C sort -c -k2 "$out/SHA256SUMS" || fail "manifest not sorted"
grep -q " /" "$out/SHA256SUMS" && fail "absolute path in manifest"
grep -q "SHA256SUMS" "$out/SHA256SUMS" && fail "manifest lists itself"
# the same digests as sha256sum computes
(cd "$out" && sha256sum -c --quiet SHA256SUMS) || fail "sha256sum -c rejects the manifest"
first=$(head -1 "$out/SHA256SUMS" | cut -c67-)
[ "$(head -1 "$out/SHA256SUMS" | cut -c1-64)" = "$(sha256sum "$out/$first" | cut -c1-64)" ] || fail "digest of $first differs from sha256sum"

expect_exit 0 "$KAKOU" manifest verify --pub "$WORK/sk.pub" "$out" > "$WORK/v" || cat "$WORK/v"
[ ! -s "$WORK/v" ] || fail "clean verify printed: $(cat "$WORK/v")"

# a flipped byte in one file
cp -a "$out" "$WORK/o1"
f=$(find "$WORK/o1" -name '*.dcm' | sort | head -1); rel=${f#"$WORK/o1/"}
printf '\xff' | dd of="$f" bs=1 seek=200 conv=notrunc status=none
expect_exit 1 "$KAKOU" manifest verify --pub "$WORK/sk.pub" "$WORK/o1" > "$WORK/v" 2>/dev/null
[ "$(cat "$WORK/v")" = "changed: $rel" ] || fail "flipped byte: $(cat "$WORK/v")"
(cd "$WORK/o1" && sha256sum -c --quiet SHA256SUMS >/dev/null 2>&1) && fail "sha256sum missed the flipped byte"

# a missing file and an extra file, both named
cp -a "$out" "$WORK/o2"
f=$(find "$WORK/o2" -name '*.dcm' | sort | tail -1); rel=${f#"$WORK/o2/"}
rm "$f"; echo extra > "$WORK/o2/notes.txt"
expect_exit 1 "$KAKOU" manifest verify --pub "$WORK/sk.pub" "$WORK/o2" > "$WORK/v" 2>/dev/null
grep -qx "missing: $rel" "$WORK/v" || fail "missing file not named: $(cat "$WORK/v")"
grep -qx "extra: notes.txt" "$WORK/v" || fail "extra file not named: $(cat "$WORK/v")"
[ "$(wc -l < "$WORK/v")" = 2 ] || fail "more than two problems: $(cat "$WORK/v")"

# a manifest edited to match a changed file: the signature catches it
cp -a "$out" "$WORK/o3"
f=$(find "$WORK/o3" -name '*.dcm' | sort | head -1); rel=${f#"$WORK/o3/"}
echo tampered >> "$f"
(cd "$WORK/o3" && sha256sum "$rel") > "$WORK/line"
grep -v "  $rel\$" "$WORK/o3/SHA256SUMS" | cat - "$WORK/line" | LC_ALL=C sort -k2 > "$WORK/sums"
cp "$WORK/sums" "$WORK/o3/SHA256SUMS"
(cd "$WORK/o3" && sha256sum -c --quiet SHA256SUMS) || fail "forged manifest should fool sha256sum"
expect_exit 1 "$KAKOU" manifest verify --pub "$WORK/sk.pub" "$WORK/o3" >/dev/null 2>"$WORK/err"
grep -q "signature" "$WORK/err" || fail "bad signature not said: $(cat "$WORK/err")"

# another signer's public key does not verify the delivery
expect_exit 0 "$KAKOU" key new --sign "$WORK/other" >/dev/null
expect_exit 1 "$KAKOU" manifest verify --pub "$WORK/other.pub" "$out" >/dev/null 2>&1
# a protected signing key: refused without its passphrase, signs with it
printf 'correct horse\n' > "$WORK/pf"; chmod 600 "$WORK/pf"
expect_exit 0 "$KAKOU" key new --sign --passphrase-file "$WORK/pf" "$WORK/psk" >/dev/null
expect_exit 2 "$KAKOU" manifest sign --key "$WORK/psk" "$out" </dev/null 2>"$WORK/err"
grep -q "passphrase" "$WORK/err" || fail "protected signing key: $(cat "$WORK/err")"
expect_exit 0 "$KAKOU" manifest sign --key "$WORK/psk" --passphrase-file "$WORK/pf" "$out"
expect_exit 0 "$KAKOU" manifest verify --pub "$WORK/psk.pub" "$out"
finish
