/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/check_text.c - lib/text: DICOM character sets (R21).
 *
 * Every JIS X 0208 character round-trips through ISO 2022 IR 87 (and IR
 * 13\IR 87) byte for byte, whatever its second byte ('=', '\', '~'); the
 * value returns to its initial G0 set; JIS X 0212 under IR 159; mis-declared
 * text (Shift_JIS or UTF-8 under ISO_IR 100 or none) is detected and
 * decoded as what it is; undecodable bytes are reported.
 */
#include <check.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/address.h"
#include "text/charset.h"
#include "text/idnum.h"
#include "text/normalize.h"

#define IR87 "ISO 2022 IR 6\\ISO 2022 IR 87"
#define IR13_87 "ISO 2022 IR 13\\ISO 2022 IR 87"

/* The UTF-8 of a JIS X 0208 character (row, cell as 0x21..0x7E), or 0. */
static size_t jis_char(unsigned row, unsigned cell, char *u8, size_t cap)
{
    static iconv_t cd = (iconv_t)-1;
    if (cd == (iconv_t)-1)
        cd = iconv_open("UTF-8", "EUC-JP");
    char e[2] = { (char)(row | 0x80), (char)(cell | 0x80) };
    char *ip = e, *op = u8;
    size_t il = 2, ol = cap;
    iconv(cd, NULL, NULL, NULL, NULL);
    if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || il)
        return 0;
    return (size_t)(op - u8);
}

static void round_trip_one(const char *cs, const char *g0, const char *u8, size_t ul,
                           unsigned row, unsigned cell)
{
    /* the character between a delimiter and ASCII: "A=<c>^B" */
    char text[32];
    size_t tl = 0;
    memcpy(text, "A=", 2);
    tl = 2;
    memcpy(text + tl, u8, ul);
    tl += ul;
    memcpy(text + tl, "^B", 2);
    tl += 2;
    kk_buf enc = KK_BUF_INIT, dec = KK_BUF_INIT;
    ck_assert_int_eq(kk_text__from_utf8(cs, strlen(cs), text, tl, &enc), KK_OK);
    char want[32];
    int wl = snprintf(want, sizeof want, "A=\x1b$B%c%c%s^B", (char)row, (char)cell, g0);
    ck_assert_msg(enc.len == (size_t)wl && memcmp(enc.data, want, (size_t)wl) == 0,
                  "row %u cell %u: bad ISO 2022 bytes", row, cell);
    ck_assert_int_eq(kk_text__decode(cs, strlen(cs), enc.data, enc.len, &dec), KK_TEXT_AS_DECLARED);
    ck_assert_msg(dec.len == tl && memcmp(dec.data, text, tl) == 0,
                  "row %u cell %u: does not decode back", row, cell);
    kk__buf_free(&enc);
    kk__buf_free(&dec);
}

START_TEST(jisx0208_round_trip_every_character)
{
    int n = 0, with_delim = 0;
    for (unsigned row = 0x21; row <= 0x7E; row++)
        for (unsigned cell = 0x21; cell <= 0x7E; cell++) {
            char u8[8];
            size_t ul = jis_char(row, cell, u8, sizeof u8);
            if (!ul)
                continue; /* unassigned code point */
            round_trip_one(IR87, "\x1b(B", u8, ul, row, cell);
            round_trip_one(IR13_87, "\x1b(J", u8, ul, row, cell);
            n++;
            if (row == 0x3D || row == 0x5C || row == 0x7E || cell == 0x3D || cell == 0x5C ||
                cell == 0x5E || cell == 0x7E)
                with_delim++;
        }
    ck_assert_int_ge(n, 6879); /* JIS X 0208-1990: 6879 characters */
    ck_assert_int_ge(with_delim, 300);
}
END_TEST

START_TEST(decode_keeps_delimiter_bytes_in_pairs)
{
    /* 女 is 0x3D77, 宿 0x3D49: '=' as the first byte of a character */
    kk_buf b = KK_BUF_INIT;
    const char raw[] = "\x1b$B=w=I\x1b(B=x";
    ck_assert_int_eq(kk_text__decode(IR87, strlen(IR87), raw, strlen(raw), &b), KK_TEXT_AS_DECLARED);
    ck_assert_str_eq(b.data, "女宿=x");
    kk__buf_free(&b);
    /* a lenient decode gives the same */
    kk_text__to_utf8(IR87, strlen(IR87), raw, strlen(raw), &b);
    ck_assert_str_eq(b.data, "女宿=x");
    kk__buf_free(&b);
}
END_TEST

START_TEST(ir13_returns_to_jis_roman)
{
    kk_buf b = KK_BUF_INIT;
    const char *t = "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎 CT";
    ck_assert_int_eq(kk_text__from_utf8(IR13_87, strlen(IR13_87), t, strlen(t), &b), KK_OK);
    ck_assert_ptr_null(memmem(b.data, b.len, "\x1b(B", 3));
    ck_assert_ptr_nonnull(memmem(b.data, b.len, "\x1b(J^", 4));
    ck_assert_ptr_nonnull(memmem(b.data, b.len, "\xd4\xcf\xc0\xde^", 5));
    kk_buf d = KK_BUF_INIT;
    ck_assert_int_eq(kk_text__decode(IR13_87, strlen(IR13_87), b.data, b.len, &d), KK_TEXT_AS_DECLARED);
    ck_assert_str_eq(d.data, t);
    kk__buf_free(&b);
    kk__buf_free(&d);
    /* half-width katakana cannot be written where IR 13 is not declared */
    ck_assert_int_eq(kk_text__from_utf8(IR87, strlen(IR87), "ﾀﾛｳ", strlen("ﾀﾛｳ"), &b), KK_EINVAL);
    ck_assert_uint_eq(b.len, 0);
    /* ISO_IR 13 alone: JIS X 0201 only, no kanji */
    ck_assert_int_eq(kk_text__from_utf8("ISO_IR 13", 9, "ﾀﾛｳ", strlen("ﾀﾛｳ"), &b), KK_OK);
    ck_assert_str_eq(b.data, "\xc0\xdb\xb3");
    kk__buf_free(&b);
    ck_assert_int_eq(kk_text__from_utf8("ISO_IR 13", 9, "山田", strlen("山田"), &b), KK_EINVAL);
    kk__buf_free(&b);
}
END_TEST

START_TEST(jisx0212_under_ir159)
{
    const char *cs = "ISO 2022 IR 6\\ISO 2022 IR 87\\ISO 2022 IR 159";
    kk_buf b = KK_BUF_INIT, d = KK_BUF_INIT;
    /* 丂 U+4E02 is in JIS X 0212 (0x3021), not in JIS X 0208 */
    ck_assert_int_eq(kk_text__from_utf8(cs, strlen(cs), "a丂山", strlen("a丂山"), &b), KK_OK);
    ck_assert_int_eq(b.len, 1 + 4 + 2 + 3 + 2 + 3);
    ck_assert_int_eq(memcmp(b.data, "a\x1b$(D\x30\x21\x1b$B;3\x1b(B", b.len), 0);
    ck_assert_int_eq(kk_text__decode(cs, strlen(cs), b.data, b.len, &d), KK_TEXT_AS_DECLARED);
    ck_assert_str_eq(d.data, "a丂山");
    kk__buf_free(&b);
    kk__buf_free(&d);
    ck_assert_int_eq(kk_text__from_utf8(IR87, strlen(IR87), "丂", strlen("丂"), &b), KK_EINVAL);
    kk__buf_free(&b);
}
END_TEST

START_TEST(misdeclared_text_is_detected)
{
    kk_buf b = KK_BUF_INIT;
    /* 山田太郎 in Shift_JIS, declared ISO_IR 100 and declared nothing */
    const char sjis[] = "\x8eR\x93\x63\x91\xbe\x98Y \x97l";
    ck_assert_int_eq(kk_text__decode("ISO_IR 100", 10, sjis, strlen(sjis), &b), KK_TEXT_AS_SJIS);
    ck_assert_str_eq(b.data, "山田太郎 様");
    kk__buf_free(&b);
    ck_assert_int_eq(kk_text__decode("", 0, sjis, strlen(sjis), &b), KK_TEXT_AS_SJIS);
    ck_assert_str_eq(b.data, "山田太郎 様");
    kk__buf_free(&b);
    /* UTF-8 under ISO_IR 100 */
    ck_assert_int_eq(kk_text__decode("ISO_IR 100", 10, "山田 CT", strlen("山田 CT"), &b), KK_TEXT_AS_UTF8);
    ck_assert_str_eq(b.data, "山田 CT");
    kk__buf_free(&b);
    /* real Latin-1 stays Latin-1 */
    ck_assert_int_eq(kk_text__decode("ISO_IR 100", 10, "J\xe9r\xf4me", 6, &b), KK_TEXT_AS_DECLARED);
    ck_assert_str_eq(b.data, "Jérôme");
    kk__buf_free(&b);
    /* Shift_JIS kanji under ISO_IR 13 (which has none) */
    ck_assert_int_eq(kk_text__decode("ISO_IR 13", 9, sjis, strlen(sjis), &b), KK_TEXT_AS_SJIS);
    kk__buf_free(&b);
    /* raw Shift_JIS inside an ISO 2022 IR 87 object */
    ck_assert_int_eq(kk_text__decode(IR87, strlen(IR87), sjis, strlen(sjis), &b), KK_TEXT_AS_SJIS);
    kk__buf_free(&b);
    /* bytes that are nothing: undecodable, nothing appended */
    ck_assert_int_eq(kk_text__decode("ISO_IR 192", 10, "\xff\xfe\x80", 3, &b), KK_TEXT_UNDECODABLE);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_int_eq(kk_text__decode(IR87, strlen(IR87), "\x1b$B\x7f", 4, &b), KK_TEXT_UNDECODABLE);
    ck_assert_uint_eq(b.len, 0);
    /* UTF-16: NULs inside the value (Smith; 佐藤 主), none at the end only */
    ck_assert(!kk_text__is_ascii("S\0m\0i\0t\0h\0", 10));
    ck_assert_int_eq(kk_text__decode("ISO_IR 100", 10, "S\0m\0i\0t\0h\0", 10, &b), KK_TEXT_UNDECODABLE);
    ck_assert_int_eq(kk_text__decode("ISO_IR 100", 10, "P\xe4r\0", 4, &b), KK_TEXT_AS_DECLARED);
    kk__buf_free(&b);
    ck_assert_int_eq(kk_text__decode("ISO_IR 100", 10, "\x50\x4f\x24\x85\x20\0\x3b\x4e", 8, &b), KK_TEXT_UNDECODABLE);
    ck_assert_uint_eq(b.len, 0);
    ck_assert(kk_text__is_ascii("CT HEAD\0\0", 9));
    kk__buf_free(&b);
}
END_TEST

/* Bytes a Latin set allows (no C1) that are Japanese: EUC-JP pairs and
 * half-width katakana under ISO_IR 100 or no name, told apart where they
 * could be both (山田 in EUC-JP decodes as ｻｳﾅﾄ too); Latin text with
 * accented letters, a degree and a plus-minus sign stays Latin. */
START_TEST(japanese_under_a_latin_name)
{
    static const struct {
        const char *cs, *in, *want;
        kk_text_src src;
    } t[] = {
        { "ISO_IR 100", "\xbb\xb3\xc5\xc4 \xcd\xe8\xb1\xa1", "山田 来院", KK_TEXT_AS_EUCJP },
        { "ISO_IR 100", "\xba\xb4\xc6\xa3 \xb2\xd6\xbb\xd2", "佐藤 花子", KK_TEXT_AS_EUCJP },
        { "", "\xba\xb4\xc6\xa3 \xb2\xd6\xbb\xd2", "佐藤 花子", KK_TEXT_AS_EUCJP },
        /* one symbol of EUC-JP's first row (・) between Latin letters */
        { "ISO_IR 100", "DLP 612.4 mGy\xa1\xa6" "cm", "DLP 612.4 mGy・cm", KK_TEXT_AS_EUCJP },
        { "", "DLP 612.4 mGy\xa1\xa6" "cm", "DLP 612.4 mGy・cm", KK_TEXT_AS_EUCJP },
        /* with no name, one pair beside Latin letters */
        { "", "Hirschsprung\xc9\xc2", "Hirschsprung病", KK_TEXT_AS_EUCJP },
        { "", "CT\xc3\xcd -20", "CT値 -20", KK_TEXT_AS_EUCJP },
        { "", "\xbb\xc4\xb3 \xca\xc5\xba", "ｻﾄｳ ﾊﾅｺ", KK_TEXT_AS_SJIS },
        { "ISO_IR 100", "\xbb\xc4\xb3 \xca\xc5\xba", "ｻﾄｳ ﾊﾅｺ", KK_TEXT_AS_SJIS },
        { "ISO_IR 100", "\xd4\xcf\xc0\xde \xc0\xdb\xb3", "ﾔﾏﾀﾞ ﾀﾛｳ", KK_TEXT_AS_SJIS },
        { "ISO_IR 100", "\xbd\xbd\xde\xb7 \xb2\xc1\xdb\xb3", "ｽｽﾞｷ ｲﾁﾛｳ", KK_TEXT_AS_SJIS },
        { "", "\xbd\xbd\xde\xb7 \xb2\xc1\xdb\xb3", "ｽｽﾞｷ ｲﾁﾛｳ", KK_TEXT_AS_SJIS },
        { "ISO_IR 100", "patient \xbb\xc4\xb3 seen", "patient ｻﾄｳ seen", KK_TEXT_AS_SJIS },
        /* one kanji alone could be two half-width kana (林 as ﾎﾓ): pairs
         * that are all common kanji or kana are EUC-JP; ﾔﾏ (a level-2
         * row there) stays half-width katakana */
        { "ISO_IR 100", "CT by \xce\xd3", "CT by 林", KK_TEXT_AS_EUCJP },
        { "", "per \xbf\xb9 Ns", "per 森 Ns", KK_TEXT_AS_EUCJP },
        { "ISO_IR 100", "NIHSS 12\xc5\xc0", "NIHSS 12点", KK_TEXT_AS_EUCJP },
        { "ISO_IR 100", "\xd4\xcf CT", "ﾔﾏ CT", KK_TEXT_AS_SJIS },
        { "ISO_IR 100", "M\xfcller Jos\xe9 37.5\xb0" "C \xb1" "2, \xc5ngstr\xf6m",
          "Müller José 37.5°C ±2, Ångström", KK_TEXT_AS_DECLARED },
        { "ISO_IR 100", "5\xb1" "2, 3\xb1" "1 \xab" "a\xbb", "5±2, 3±1 «a»", KK_TEXT_AS_DECLARED },
        /* Cyrillic words are all high bytes: no guess under ISO_IR 144 */
        { "ISO_IR 144", "\xb8\xd2\xd0\xdd\xde\xd2", "Иванов", KK_TEXT_AS_DECLARED },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        kk_buf b = KK_BUF_INIT;
        kk_text_src r = kk_text__decode(t[i].cs, strlen(t[i].cs), t[i].in, strlen(t[i].in), &b);
        ck_assert_msg(r == t[i].src && b.data && strcmp(b.data, t[i].want) == 0,
                      "case %zu: %d '%s', want %d '%s'", i, (int)r, b.data ? b.data : "",
                      (int)t[i].src, t[i].want);
        kk__buf_free(&b);
    }
}
END_TEST

START_TEST(gr_bytes_without_escape)
{
    kk_buf b = KK_BUF_INIT;
    /* 胸部 in GB2312 with no ESC $ ) A (as pydicom writes it): GB2312 */
    const char *gb = "\\ISO 2022 IR 58";
    ck_assert_int_eq(kk_text__decode(gb, strlen(gb), "CT \xd0\xd8\xb2\xbf", 7, &b),
                     KK_TEXT_AS_DECLARED);
    ck_assert_str_eq(b.data, "CT 胸部");
    kk__buf_free(&b);
    /* 한국 in KS X 1001 with no ESC $ ) C */
    const char *ks = "\\ISO 2022 IR 149";
    ck_assert_int_eq(kk_text__decode(ks, strlen(ks), "\xc7\xd1\xb1\xb9", 4, &b),
                     KK_TEXT_AS_DECLARED);
    ck_assert_str_eq(b.data, "한국");
    kk__buf_free(&b);
    /* both declared: the bytes are ambiguous, so not taken as either */
    const char *both = "\\ISO 2022 IR 58\\ISO 2022 IR 149";
    ck_assert_int_ne(kk_text__decode(both, strlen(both), "\xd0\xd8\xb2\xbf", 4, &b),
                     KK_TEXT_AS_DECLARED);
    kk__buf_free(&b);
}
END_TEST

START_TEST(fold_width_case_kana)
{
    kk_ftext t;
    const char *in = "ＡＢＣ１２３ ﾔﾏﾀﾞ ヤマダ Dr.SMITH";
    ck_assert_int_eq(kk_text__fold(in, strlen(in), KK_FOLD_ALL, &t), KK_OK);
    ck_assert_str_eq(t.s, "abc123 やまだ やまだ dr.smith");
    /* "a" came from the three bytes of Ａ */
    ck_assert_uint_eq(t.from[0], 0);
    ck_assert_uint_eq(t.to[0], 3);
    /* だ came from ﾀﾞ: two half-width characters, six bytes */
    const char *da = strstr(t.s, "だ");
    size_t k = (size_t)(da - t.s);
    ck_assert_int_eq(memcmp(in + t.from[k], "ﾀﾞ", 6), 0);
    ck_assert_uint_eq(t.to[k] - t.from[k], 6);
    kk_text__ftext_free(&t);
    size_t n;
    char *f = kk_text__fold_str("０３－１２３４－５６７８", strlen("０３－１２３４－５６７８"), &n);
    ck_assert_str_eq(f, "03-1234-5678");
    free(f);
    /* Cyrillic and Greek letters drawn like Latin ones: Yаmаdа, ΤΑRΟ */
    f = kk_text__fold_str("Y\xd0\xb0" "m\xd0\xb0" "d\xd0\xb0" " \xce\xa4\xce\x91" "R\xce\x9f", 17, &n);
    ck_assert_str_eq(f, "yamada taro");
    free(f);
    /* old and variant kanji of names: 髙橋 𠮷田 渡邉 */
    f = kk_text__fold_str("髙橋 𠮷田 渡邉", strlen("髙橋 𠮷田 渡邉"), &n);
    ck_assert_str_eq(f, "高橋 吉田 渡辺");
    free(f);
}
END_TEST

static const struct { const char *a, *b; } same_reading[] = {
    { "Satou", "Sato" }, { "Satoh", "SATŌ" }, { "Satō", "さとう" }, { "Shinji", "Sinzi" },
    { "Tsuchiya", "Tutiya" }, { "Ōno", "Ohno" }, { "Oono", "オオノ" }, { "Honma", "Homma" },
    { "Yuuki", "ゆうき" }, { "Yūki", "Yuki" }, { "Jun'ichi", "じゅんいち" }, { "Kyouko", "キョウコ" },
    { "Shōta", "しょうた" }, { "Hattori", "はっとり" }, { "Fujita", "Huzita" }, { "Chiba", "ちば" },
    { "Matchida", "まっちだ" }, { "Tarō", "タロー" },
};

static size_t key_of(const char *w, char *out, size_t cap)
{
    if ((unsigned char)w[0] >= 0xE3)
        return kk_text__kana_key(w, strlen(w), out, cap);
    return kk_text__romaji_key(w, strlen(w), out, cap);
}

START_TEST(readings_have_one_key)
{
    char ka[64], kb[64];
    size_t la = key_of(same_reading[_i].a, ka, sizeof ka);
    size_t lb = key_of(same_reading[_i].b, kb, sizeof kb);
    ck_assert_msg(la && lb && strcmp(ka, kb) == 0, "%s -> '%s', %s -> '%s'", same_reading[_i].a,
                  la ? ka : "", same_reading[_i].b, lb ? kb : "");
}
END_TEST

START_TEST(readings_differ_and_fail)
{
    char ka[64], kb[64];
    ck_assert_uint_gt(kk_text__romaji_key("Sato", 4, ka, sizeof ka), 0);
    ck_assert_uint_gt(kk_text__romaji_key("Saito", 5, kb, sizeof kb), 0);
    ck_assert_str_ne(ka, kb);
    /* not romaji: no key */
    ck_assert_uint_eq(kk_text__romaji_key("CT", 2, ka, sizeof ka), 0);
    ck_assert_uint_eq(kk_text__romaji_key("scan", 4, ka, sizeof ka), 0);
    ck_assert_uint_eq(kk_text__kana_key("山田", strlen("山田"), ka, sizeof ka), 0);
    char kana[64];
    ck_assert_uint_gt(kk_text__romaji_to_kana("Yamada", 6, kana, sizeof kana), 0);
    ck_assert_str_eq(kana, "やまだ");
}
END_TEST

/* A valid My Number from 11 digits. */
static void my_number(const char *d11, char out[13])
{
    memcpy(out, d11, 11);
    int sum = 0;
    for (int k = 1; k <= 11; k++)
        sum += (out[11 - k] - '0') * (k <= 6 ? k + 1 : k - 5);
    int r = sum % 11;
    out[11] = (char)('0' + (r <= 1 ? 0 : 11 - r));
    out[12] = '\0';
}

START_TEST(my_number_check_digit)
{
    char mn[13];
    srand(13);
    for (int i = 0; i < 200; i++) {
        char d[12];
        for (int k = 0; k < 11; k++)
            d[k] = (char)('0' + rand() % 10);
        my_number(d, mn);
        ck_assert(kk_text__my_number_ok(mn));
        char bad[13];
        memcpy(bad, mn, 13);
        bad[11] = (char)('0' + (mn[11] - '0' + 1) % 10);
        ck_assert(!kk_text__my_number_ok(bad));
        /* any width and separators */
        char spaced[64];
        snprintf(spaced, sizeof spaced, "%.4s %.4s-%.4s", mn, mn + 4, mn + 8);
        ck_assert_int_eq(kk_text__idcode(spaced, strlen(spaced)), KK_IDCODE_MY_NUMBER);
    }
    /* 123456789018 is valid; in full-width with ideographic spaces too */
    ck_assert(kk_text__my_number_ok("123456789018"));
    const char *fw = "１２３４　５６７８　９０１８";
    ck_assert_int_eq(kk_text__idcode(fw, strlen(fw)), KK_IDCODE_MY_NUMBER);
    ck_assert_int_eq(kk_text__idcode("123456789017", 12), KK_IDCODE_LICENSE);
}
END_TEST

START_TEST(other_codes)
{
    /* an insurer number: 法別番号 06, then the check digit computed */
    char ins[9] = "0613201";
    int sum = 0;
    for (int k = 0; k < 7; k++) {
        int dd = ins[6 - k] - '0';
        int pp = k % 2 == 0 ? dd * 2 : dd;
        sum += pp / 10 + pp % 10;
    }
    ins[7] = (char)('0' + (10 - sum % 10) % 10);
    ins[8] = '\0';
    ck_assert(kk_text__insurer_number_ok(ins, 8));
    ck_assert_int_eq(kk_text__idcode(ins, 8), KK_IDCODE_INSURER);
    ins[7] = (char)('0' + (ins[7] - '0' + 1) % 10);
    ck_assert(!kk_text__insurer_number_ok(ins, 8));
    ck_assert_int_eq(kk_text__idcode(ins, 8), KK_IDCODE_NONE);
    ck_assert_int_eq(kk_text__idcode("TK1234567", 9), KK_IDCODE_PASSPORT);
    ck_assert_int_eq(kk_text__idcode("ｔｋ１２３４５６７", strlen("ｔｋ１２３４５６７")), KK_IDCODE_PASSPORT);
    ck_assert_int_eq(kk_text__idcode("AB12345678CD", 12), KK_IDCODE_RESIDENCE_CARD);
    ck_assert_int_eq(kk_text__idcode("1234-567890", 11), KK_IDCODE_PENSION);
    ck_assert_int_eq(kk_text__idcode("PID12345", 8), KK_IDCODE_NONE);
    ck_assert_int_eq(kk_text__idcode("12345", 5), KK_IDCODE_NONE);
}
END_TEST

static char *head_of(const char *a, char *postal3)
{
    kk_span h = kk_text__address_head(a, strlen(a), postal3);
    return strndup(a + h.from, h.to - h.from);
}

START_TEST(address_head)
{
    char p3[4];
    char *h = head_of("〒154-0024 東京都世田谷区三軒茶屋1-2-3 グランハイツ201号室", p3);
    ck_assert_str_eq(h, "東京都世田谷区");
    ck_assert_str_eq(p3, "154");
    free(h);
    h = head_of("大阪府大阪市北区梅田2丁目4番9号", NULL);
    ck_assert_str_eq(h, "大阪府大阪市北区");
    free(h);
    h = head_of("154-0024 神奈川県横浜市中区本町1丁目", p3);
    ck_assert_str_eq(h, "神奈川県横浜市中区");
    free(h);
    h = head_of("北海道札幌市中央区北1条西2丁目", NULL);
    ck_assert_str_eq(h, "北海道札幌市中央区");
    free(h);
    h = head_of("長野県松本市本町3-4", NULL);
    ck_assert_str_eq(h, "長野県松本市");
    free(h);
    h = head_of("123 Main Street", NULL);
    ck_assert_str_eq(h, "");
    free(h);
}
END_TEST

typedef size_t (*spans_fn)(const char *, size_t, bool, kk_span *, size_t);

static char *cut_with(spans_fn fn, const char *t, bool keep)
{
    kk_span sp[8];
    size_t n = fn(t, strlen(t), keep, sp, 8);
    kk_buf b = KK_BUF_INIT;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        kk__buf_add(&b, t + at, sp[i].from - at);
        kk__buf_adds(&b, "*");
        at = sp[i].to;
    }
    kk__buf_adds(&b, t + at);
    return kk__buf_detach(&b);
}

static char *cut(const char *t, bool keep)
{
    return cut_with(kk_text__address_spans, t, keep);
}

START_TEST(address_in_text)
{
    char *c = cut("住所 東京都世田谷区三軒茶屋1-2-3 グランハイツ201号室、電話", true);
    ck_assert_str_eq(c, "住所 東京都世田谷区*、電話");
    free(c);
    c = cut("住所 東京都世田谷区三軒茶屋1-2-3 グランハイツ201号室、電話", false);
    ck_assert_str_eq(c, "住所 *、電話");
    free(c);
    c = cut("〒530-0001 大阪市北区梅田二丁目4番9号", true);
    ck_assert_str_eq(c, "* 大阪市北区*");
    free(c);
    /* digits alone after a town that follows its municipality; grid towns */
    c = cut("〒100-0001 東京都千代田区千代田1-1", true);
    ck_assert_str_eq(c, "* 東京都千代田区*");
    free(c);
    c = cut("福岡県糟屋郡粕屋町大字仲原2500", true);
    ck_assert_str_eq(c, "福岡県糟屋郡粕屋町*");
    free(c);
    c = cut("北海道札幌市中央区北1条西2丁目", true);
    ck_assert_str_eq(c, "北海道札幌市中央区*");
    free(c);
    c = cut("大阪市立病院3階 市販薬2錠 横浜市青葉区の患者 3名", true);
    ck_assert_str_eq(c, "大阪市立病院3階 市販薬2錠 横浜市青葉区の患者 3名");
    free(c);
    /* a number in kanji that is part of a town's name: the municipality
     * before it stays */
    c = cut("東京都千代田区二番町5-6、仙台市青葉区一番町四丁目7-17、東京都中央区八丁堀3-1-1", true);
    ck_assert_str_eq(c, "東京都千代田区*、仙台市青葉区*、東京都中央区*");
    free(c);
    /* Kyoto: the crossing's streets come before the town, its 番地 after */
    c = cut("京都市中京区河原町通二条上ル清水町123", true);
    ck_assert_str_eq(c, "京都市中京区*");
    free(c);
    /* clinical numbers are no address */
    c = cut("腹部単純CT 5mm 120kV 第3腰椎 2-3cm", true);
    ck_assert_str_eq(c, "腹部単純CT 5mm 120kV 第3腰椎 2-3cm");
    free(c);
    /* 号, 号室 and 番 alone: drugs, rooms, chromosomes, categories; but
     * after a town or a building they are its number and room */
    const char *lone[] = {
        "2号液 500mL 点滴、ソリタT3号 500mL、フィジオゾール3号輸液、維持液3号",
        "東3病棟 2号室 入院中、21番染色体トリソミー、第3号被保険者",
    };
    for (size_t i = 0; i < sizeof lone / sizeof lone[0]; i++) {
        c = cut(lone[i], true);
        ck_assert_str_eq(c, lone[i]);
        free(c);
    }
    c = cut("三軒茶屋3番、グランハイツ201号室、旭川市東3線北2号", true);
    ck_assert_str_eq(c, "*、*、旭川市*");
    free(c);
    /* a room after a building no home's word names (タワー) */
    c = cut("グランタワー201号室、CT", true);
    ck_assert_str_eq(c, "*、CT");
    free(c);
    /* the building and room end the address: what follows stays */
    c = cut("練馬区豊玉北5-1-2 青葉荘203号室 腹部CT施行、練馬区豊玉北5-1-2 青葉荘 腹部CT", true);
    ck_assert_str_eq(c, "練馬区* 腹部CT施行、練馬区* 腹部CT");
    free(c);
    c = cut("練馬区豊玉北5-1-2 青葉荘203号室にて転倒", true);
    ck_assert_str_eq(c, "練馬区*にて転倒");
    free(c);
    /* a home's building and room with no town, or after a town with no
     * number; a ward's room and a floor of the hospital stay */
    c = cut("青葉荘 二〇三号室（練馬区）、グランメゾン新宿 305号室", true);
    ck_assert_str_eq(c, "*（練馬区）、*");
    free(c);
    c = cut("グランメゾン新宿 305号室（新宿区百人町）", true);
    ck_assert_str_eq(c, "*（新宿区*）");
    free(c);
    c = cut("レオパレス白金 204号 在住、〒150ー0043 渋谷区", true);
    ck_assert_str_eq(c, "* 在住、* 渋谷区");
    free(c);
    c = cut("実家：松山市道後湯之町 湯月荘 2F", true);
    ck_assert_str_eq(c, "実家：松山市*");
    free(c);
    c = cut("西病棟 305号室に入院、救命救急センター 3階、山荘で療養、寮生活", true);
    ck_assert_str_eq(c, "西病棟 305号室に入院、救命救急センター 3階、山荘で療養、寮生活");
    free(c);
}
END_TEST

static void latin_is(const char *in, bool keep, const char *want)
{
    char *c = cut_with(kk_text__address_latin_spans, in, keep);
    ck_assert_msg(strcmp(c, want) == 0, "'%s' -> '%s', wanted '%s'", in, c, want);
    free(c);
}

START_TEST(address_latin_in_text)
{
    latin_is("Lives at 972 Station Road, Lakeside with wife.", true, "Lives at * with wife.");
    latin_is("Address: 12 Elm Street, Springfield, IL 62704", true, "Address: *, IL *");
    latin_is("Address: 12 Elm Street, Springfield, IL 62704", false, "Address: *");
    latin_is("resides at 45 Baker St, Marylebone, London NW1 6XE", true, "resides at *");
    latin_is("Home: Flat 3, 221B Baker Street, London", true, "Home: *");
    latin_is("c/o 7 Rue de Rivoli, 75001 Paris", true, "c/o *");
    latin_is("Klinik, Hauptstrasse 17, 12345 Mittelstadt", false, "Klinik, *");
    latin_is("write to PO Box 1234 please", true, "write to * please");
    /* romaji: the town and its numbers go; ward and prefecture stay only
     * with keep */
    latin_is("Sent from 3-12-5 Hongo, Bunkyo-ku, Tokyo", true, "Sent from *, Bunkyo-ku, Tokyo");
    latin_is("Sent from 3-12-5 Hongo, Bunkyo-ku, Tokyo", false, "Sent from *");
    latin_is("1-2-3 Nishi-Shinjuku, Shinjuku-ku, Tokyo", true, "*, Shinjuku-ku, Tokyo");
    latin_is("Room 1203, Sunrise Mansion, 2-4-6 Minami-Aoyama, Minato-ku", true, "*, Minato-ku");
    latin_is("Kita-machi 4-5, Sapporo-shi", true, "*, Sapporo-shi");
    latin_is("Postcode K1A 0B1 on file", true, "Postcode * on file");
    /* clinical text is no address */
    const char *keep[] = {
        "CT chest follow-up for nodule in right upper lobe, 5 mm.",
        "Grade 2-3 stenosis at L4-5, Series 3-4-5 reviewed",
        "3 Lesions seen in segments 2-3 of the liver",
        "T2 FLAIR 5 mm, 120 kV, 250 mAs",
        "Follow-up in 3 months; BI-RADS 3",
        "12 Hounsfield units at the 4th level",
        /* go (号) and ban (番) alone are drug numbers and English */
        "5-FU 2 go; Solita-T3 go 500 mL IV; Go 2 cycles more",
        /* wards and beds of the hospital, grids that are no grid */
        "Kita 2 ward patient, ICU 3 bed; Ward 5 Nishi, bed 12",
        "Tumor 2-3 cm in Kita segment; S1 S2 normal, N1 M0",
        /* two numbers need a town and a ward beside them; a prefecture
         * or a city a few words on is not enough */
        "Stent 7 Fr 5 cm placed, 2-3 passes with 22G Chiba needle",
        "Pt lives in Sapporo, 3-4 cigarettes/day",
        "Chuo-ku Clinic, follow-up 3-6 months",
        "Zone 2-3, Sapporo protocol; T2 3-1 mm",
        /* an abbreviation or a city is no town before three numbers */
        "Kita hospital, CT 2-3-4 series",
        "Osaka 3-2-1 protocol",
        /* azathioprine */
        "AZA 50 mg/day, PSL 10 mg; Drugs: AZA MMF PSL",
    };
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        latin_is(keep[i], true, keep[i]);
        latin_is(keep[i], false, keep[i]);
    }
}
END_TEST

/* Japanese addresses in romaji as hospital staff write them: Hokkaido's
 * numbered blocks (jo, sen) and grid, chome/banchi/go in either order,
 * map services' "3 Chome-5-12", Japanese order, Aza, Kyoto's crossings,
 * buildings and rooms. With keep the prefecture and municipality (a
 * designated city, "Naka Ward") stay; without, nothing does. */
START_TEST(address_latin_romaji)
{
    static const struct {
        const char *in, *keep, *none;
    } t[] = {
        { "Kita 5-jo Nishi 2-chome 3-1, Sapporo", "*, Sapporo", "*" },
        { "3-1 Kita 5-jo Nishi 2-chome, Chuo-ku, Sapporo", "*, Chuo-ku, Sapporo", "*" },
        { "Pt resides in Kita 3-jo Nishi 7-chome, Sapporo, lives alone.",
          "Pt resides in *, Sapporo, lives alone.", "Pt resides in *, lives alone." },
        { "Kita 5 Jo Nishi 2 Chome 3-1, Sapporo", "*, Sapporo", "*" },
        { "Kita-5-jo-Nishi-2-chome, Chuo-ku, Sapporo", "*, Chuo-ku, Sapporo", "*" },
        { "Kita 5-jō Nishi 2-chōme, Chūō-ku", "*, Chūō-ku", "*" },
        { "Higashi 3-sen Kita 2-go, Asahikawa", "*", "*" },
        { "N5 W2, Chuo-ku, Sapporo", "*, Chuo-ku, Sapporo", "*" },
        { "Kita 14 Nishi 5, Kita-ku, Sapporo", "*, Kita-ku, Sapporo", "*" },
        { "Umeda 1-chome 3-banchi 1-go, Kita-ku, Osaka", "*, Kita-ku, Osaka", "*" },
        { "2 chome 5 ban 1 go, Shikata-honmachi, Kita-ku", "*, Kita-ku", "*" },
        { "Yurakucho 2-chome 3-banchi", "*", "*" },
        { "Kichijoji Honcho 1-2-3", "*", "*" },
        { "3 Chome-5-12 Sakae, Naka Ward, Nagoya, Aichi 460-0008",
          "*, Naka Ward, Nagoya, Aichi *", "*" },
        { "Kanagawa-ken Yokohama-shi Naka-ku Honcho 1-1", "Kanagawa-ken Yokohama-shi Naka-ku *", "*" },
        { "Yokohama-shi Naka-ku Yamate 2-3", "Yokohama-shi Naka-ku *", "*" },
        { "Tokyo-to Setagaya-ku Sangenjaya 1-2-3 Grand Heights 201", "Tokyo-to Setagaya-ku *", "*" },
        { "Naha-shi Aza Asato 123", "Naha-shi *", "*" },
        { "Karasuma-dori Shijo sagaru, Shimogyo-ku, Kyoto-shi", "*, Shimogyo-ku, Kyoto-shi", "*" },
        { "Kawaramachi Nijo-agaru, Nakagyo-ku", "*, Nakagyo-ku", "*" },
        { "Yoshida-Konoe-cho, Sakyo-ku, Kyoto 606-8501", "*, Sakyo-ku, Kyoto *", "*" },
        { "Sunny Heights 201, 2-3-4 Kamimeguro, Meguro-ku", "*, Meguro-ku", "*" },
        { "Leopalace Sakura 205, 1-3 Sakura-machi, Koganei-shi", "*, Koganei-shi", "*" },
        { "Apt. 502, Lions Mansion Shinjuku, 3-4-5 Nishi-Shinjuku", "*", "*" },
        { "Room 1002 Park Axis, Shinjuku 5-2-3", "*", "*" },
        { "Kioicho 4-1; 2-1 Sakuragicho", "*; *", "*; *" },
        { "Oaza-Shimo 123, Ogawa-mura", "*", "*" },
        { "No. 5-3, Shibaura 3-chome", "No. *", "No. *" },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        latin_is(t[i].in, true, t[i].keep);
        latin_is(t[i].in, false, t[i].none);
    }
}
END_TEST

/* utf8 under cs is written as exactly want (n bytes) and reads back. */
static void expect_written(const char *cs, const char *utf8, const char *want, size_t n)
{
    kk_buf b = KK_BUF_INIT, r = KK_BUF_INIT;
    ck_assert_int_eq(kk_text__from_utf8(cs, strlen(cs), utf8, strlen(utf8), &b), KK_OK);
    ck_assert_uint_eq(b.len, n);
    ck_assert(memcmp(b.data, want, n) == 0);
    ck_assert_int_eq(kk_text__decode(cs, strlen(cs), b.data, b.len, &r), KK_TEXT_AS_DECLARED);
    ck_assert_str_eq(r.data, utf8);
    kk__buf_free(&b);
    kk__buf_free(&r);
}

/* Korean and Chinese are written back as PS3.5 H.3.1 and J.3 write them:
 * each run after a delimiter starts with its G1 designation. Before, a
 * cleaned value in these sets could not be written and was dropped. */
START_TEST(korean_chinese_written_back)
{
    static const char h31[] = "Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7="
                              "\x1b$)C\xc8\xab^\x1b$)C\xb1\xe6\xb5\xbf";
    expect_written("\\ISO 2022 IR 149", "Hong^Gildong=洪^吉洞=홍^길동", h31, sizeof h31 - 1);
    static const char j3[] = "Wang^XiaoDong=\x1b$)A\xcd\xf5^\x1b$)A\xd0\xa1\xb6\xab=";
    expect_written("\\ISO 2022 IR 58", "Wang^XiaoDong=王^小东=", j3, sizeof j3 - 1);
    /* the 96-character sets: the first value's set needs no escape, another
     * declared one is designated where its run starts */
    static const char g96[] = "M\xfcller^J\xf6rg \x1b-L\xb8\xd2\xd0\xdd\xde\xd2";
    expect_written("ISO 2022 IR 100\\ISO 2022 IR 144", "Müller^Jörg Иванов", g96, sizeof g96 - 1);
    /* a character neither set has: no bytes that lie */
    kk_buf b = KK_BUF_INIT;
    const char *ks = "\\ISO 2022 IR 149";
    ck_assert_int_eq(kk_text__from_utf8(ks, strlen(ks), "東京 ﾃｽﾄ", strlen("東京 ﾃｽﾄ"), &b),
                     KK_EINVAL);
    kk__buf_free(&b);
}
END_TEST

Suite *text_suite(void)
{
    Suite *s = suite_create("text");
    TCase *tc = tcase_create("charset");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, jisx0208_round_trip_every_character);
    tcase_add_test(tc, decode_keeps_delimiter_bytes_in_pairs);
    tcase_add_test(tc, ir13_returns_to_jis_roman);
    tcase_add_test(tc, jisx0212_under_ir159);
    tcase_add_test(tc, misdeclared_text_is_detected);
    tcase_add_test(tc, japanese_under_a_latin_name);
    tcase_add_test(tc, gr_bytes_without_escape);
    tcase_add_test(tc, korean_chinese_written_back);
    suite_add_tcase(s, tc);
    tc = tcase_create("normalize");
    tcase_add_test(tc, fold_width_case_kana);
    tcase_add_loop_test(tc, readings_have_one_key, 0, (int)(sizeof same_reading / sizeof same_reading[0]));
    tcase_add_test(tc, readings_differ_and_fail);
    suite_add_tcase(s, tc);
    tc = tcase_create("codes");
    tcase_add_test(tc, my_number_check_digit);
    tcase_add_test(tc, other_codes);
    suite_add_tcase(s, tc);
    tc = tcase_create("address");
    tcase_add_test(tc, address_head);
    tcase_add_test(tc, address_in_text);
    tcase_add_test(tc, address_latin_in_text);
    tcase_add_test(tc, address_latin_romaji);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(text_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
