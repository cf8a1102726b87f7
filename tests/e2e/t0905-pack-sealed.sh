#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# t0905: sealed delivery (issue 17). A recipient key pair; a signed output
# folder packed into one archive that holds none of its plain bytes, and
# unpacked to the same files; a wrong key, a flipped byte, a cut archive,
# an unsafe folder and a used destination refused, with nothing left
# behind. (A hostile path inside an archive: check_pack.)
. "$TESTS/e2e/lib.sh"

# an output folder with folders in it, signed
out="$WORK/out"
mkdir -p "$WORK/in/a" "$WORK/in/b/c"
cp "$CORPUS"/image/pydicom__CT_small.dcm "$WORK/in/a/"
cp "$CORPUS"/image/pydicom__ExplVR_BigEnd.dcm "$WORK/in/b/c/"
expect_exit 0 "$KAKOU" deid -q -p dicom-basic -o "$out" "$WORK/in"
n=$(find "$out" -type f | wc -l)
[ "$n" = 2 ] && [ "$(find "$out" -mindepth 2 -type f | wc -l)" -ge 1 ] ||
    fail "deid wrote $n files: $(cd "$out" && find . -type f)"
expect_exit 0 "$KAKOU" key new --sign "$WORK/sk" >/dev/null
expect_exit 0 "$KAKOU" manifest sign --key "$WORK/sk" "$out"

# the recipient's key pair
expect_exit 0 "$KAKOU" key new --box "$WORK/rk" > "$WORK/id"
[ "$(stat -c %a "$WORK/rk")" = 600 ] || fail "secret key mode $(stat -c %a "$WORK/rk")"
[ "$(head -1 "$WORK/rk.pub")" = KAKOU-BOX-PUB-1 ] || fail "public key header: $(head -1 "$WORK/rk.pub")"
grep -q "^id $(cat "$WORK/id")\$" "$WORK/rk.pub" || fail "public key does not carry the printed id"
expect_exit 2 "$KAKOU" key new --box "$WORK/rk" 2>/dev/null >/dev/null
expect_exit 2 "$KAKOU" key new --box --sign "$WORK/rk3" 2>/dev/null >/dev/null

# pack: the archive holds none of the plain bytes
A="$WORK/delivery.kpk"
expect_exit 0 "$KAKOU" pack --to "$WORK/rk.pub" -o "$A" "$out"
[ -s "$A" ] || fail "no archive"
ls "$WORK" | grep -q 'delivery.kpk.tmp' && fail "temporary archive left behind"
first=$(cd "$out" && find . -name '*.dcm' | sort | head -1); first=${first#./}
[ "$(head -c 13 "$A")" = "KAKOU-PACK-1" ] || fail "archive magic: $(head -c 13 "$A" | od -c | head -2)"
for s in DICM SHA256SUMS "$(basename "$first")" ORIGINAL; do
    c=$(grep -c -a -F -- "$s" "$A")
    [ "$c" = 0 ] || fail "archive holds '$s' in clear ($c lines)"
done
grep -c -a DICM "$out/$first" >/dev/null || fail "the plain file should hold DICM (the check above means nothing)"

# unpack: the same files, the manifest verifies
D="$WORK/dest"
expect_exit 0 "$KAKOU" unpack --key "$WORK/rk" -o "$D" "$A"
diff -r "$out" "$D" >"$WORK/diff" || fail "unpacked folder differs: $(head -5 "$WORK/diff")"
[ "$(find "$D" -type f | wc -l)" = "$((n + 2))" ] || fail "unpacked $(find "$D" -type f | wc -l) files, wanted $((n + 2))"
expect_exit 0 "$KAKOU" manifest verify --pub "$WORK/sk.pub" "$D"
# through a pipe, into an empty folder
mkdir "$WORK/empty"
"$KAKOU" pack --to "$WORK/rk.pub" "$out" | "$KAKOU" unpack --key "$WORK/rk" -o "$WORK/empty" -
diff -r "$out" "$WORK/empty" >/dev/null || fail "pipe: unpacked folder differs"
# a protected recipient key: refused without its passphrase, opens with it
printf 'correct horse\n' > "$WORK/pf"; chmod 600 "$WORK/pf"
expect_exit 0 "$KAKOU" key new --box --passphrase-file "$WORK/pf" "$WORK/prk" >/dev/null
head -1 "$WORK/prk" | grep -q KAKOU-PROTECTED-1 || fail "protected key not protected"
expect_exit 0 "$KAKOU" pack --to "$WORK/prk.pub" -o "$WORK/p.kpk" "$out"
expect_exit 2 "$KAKOU" unpack --key "$WORK/prk" -o "$WORK/pd" "$WORK/p.kpk" </dev/null 2>"$WORK/err"
grep -q passphrase "$WORK/err" || fail "protected key: $(cat "$WORK/err")"
expect_exit 0 "$KAKOU" unpack --key "$WORK/prk" --passphrase-file "$WORK/pf" -o "$WORK/pd" "$WORK/p.kpk"
diff -r "$out" "$WORK/pd" >/dev/null || fail "protected key: unpacked folder differs"

# another recipient's key: refused, nothing written
expect_exit 0 "$KAKOU" key new --box "$WORK/other" >/dev/null
expect_exit 1 "$KAKOU" unpack --key "$WORK/other" -o "$WORK/d1" "$A" 2>"$WORK/err"
grep -q "sealed to key $(cat "$WORK/id")" "$WORK/err" || fail "wrong key: $(cat "$WORK/err")"
[ -e "$WORK/d1" ] && fail "wrong key: DESTDIR created"

# one flipped byte in the middle: refused, nothing written, nothing beside it
size=$(stat -c %s "$A")
cp "$A" "$WORK/flip.kpk"
printf '\xff' | dd of="$WORK/flip.kpk" bs=1 seek=$((size / 2)) conv=notrunc status=none
cmp -s "$A" "$WORK/flip.kpk" && { printf '\x00' | dd of="$WORK/flip.kpk" bs=1 seek=$((size / 2)) conv=notrunc status=none; }
expect_exit 1 "$KAKOU" unpack --key "$WORK/rk" -o "$WORK/d2" "$WORK/flip.kpk" 2>"$WORK/err"
grep -q "is damaged: chunk [0-9]* does not verify" "$WORK/err" || fail "flipped byte: $(cat "$WORK/err")"
[ -e "$WORK/d2" ] && fail "flipped byte: DESTDIR created"
ls -a "$WORK" | grep -q unpack && fail "flipped byte: a temporary folder was left: $(ls -a "$WORK")"

# cut: in the middle, and after whole chunks (the final one missing)
head -c $((size / 2)) "$A" > "$WORK/cut.kpk"
expect_exit 1 "$KAKOU" unpack --key "$WORK/rk" -o "$WORK/d3" "$WORK/cut.kpk" 2>"$WORK/err"
grep -q "is truncated" "$WORK/err" || fail "cut archive: $(cat "$WORK/err")"
chunk=$((65536 + 17))
head -c $((size - chunk)) "$A" > "$WORK/cut2.kpk"
expect_exit 1 "$KAKOU" unpack --key "$WORK/rk" -o "$WORK/d3" "$WORK/cut2.kpk" 2>"$WORK/err"
grep -q "is truncated: it ends before chunk" "$WORK/err" || fail "final chunk missing: $(cat "$WORK/err")"
[ -e "$WORK/d3" ] && fail "cut archive: DESTDIR created"
# bytes after the final chunk
cat "$A" "$A" > "$WORK/twice.kpk"
expect_exit 1 "$KAKOU" unpack --key "$WORK/rk" -o "$WORK/d3" "$WORK/twice.kpk" 2>/dev/null
[ -e "$WORK/d3" ] && fail "archive twice: DESTDIR created"

# a destination that holds files: refused, left as it was
expect_exit 2 "$KAKOU" unpack --key "$WORK/rk" -o "$out" "$A" 2>"$WORK/err"
grep -q "not an empty folder" "$WORK/err" || fail "used destination: $(cat "$WORK/err")"
expect_exit 0 "$KAKOU" manifest verify --pub "$WORK/sk.pub" "$out"

# pack refuses a symbolic link (and says so), and an archive inside OUTDIR
cp -a "$out" "$WORK/linked"
ln -s /etc/passwd "$WORK/linked/passwd"
expect_exit 1 "$KAKOU" pack --to "$WORK/rk.pub" -o "$WORK/l.kpk" "$WORK/linked" 2>"$WORK/err"
grep -q "symbolic link" "$WORK/err" || fail "link: $(cat "$WORK/err")"
[ -e "$WORK/l.kpk" ] && fail "link: an archive was written"
ls "$WORK" | grep -q 'l.kpk.tmp' && fail "link: temporary archive left behind"
expect_exit 1 "$KAKOU" pack --to "$WORK/rk.pub" -o "$out/self.kpk" "$out" 2>/dev/null
[ -e "$out/self.kpk" ] && fail "archive written inside the folder it packs"

# usage
expect_exit 2 "$KAKOU" pack -o "$WORK/u.kpk" "$out" 2>/dev/null
expect_exit 2 "$KAKOU" pack --to "$WORK/rk.pub" -o "$WORK/u.kpk" 2>/dev/null
expect_exit 2 "$KAKOU" unpack -o "$WORK/u" "$A" 2>/dev/null
expect_exit 2 "$KAKOU" unpack --key "$WORK/rk" "$A" 2>/dev/null
expect_exit 2 "$KAKOU" pack --to "$WORK/rk" -o "$WORK/u.kpk" "$out" 2>/dev/null # a secret key is no public key
expect_exit 0 "$KAKOU" pack --help >/dev/null
expect_exit 0 "$KAKOU" unpack --help >/dev/null
finish
