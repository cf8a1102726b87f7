/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/check_clean.c - character sets and the clean action.
 *
 * Cases: ISO 2022 IR 87 / IR 13 and ISO_IR 192 decode to the same UTF-8;
 * text written back is valid in the declared set; the cleaner removes the
 * object's own identifiers in any encoding and name/ID/date/phone/e-mail
 * patterns (Gregorian and Japanese era), and leaves technical text alone.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "deid/actions.h"
#include "deid/clean.h"
#include "text/charset.h"

#define IR87 "ISO 2022 IR 6\\ISO 2022 IR 87"

static char *utf8_of(const char *cs, const char *in)
{
    kk_buf b = KK_BUF_INIT;
    kk_text__to_utf8(cs, strlen(cs), in, strlen(in), &b);
    return kk__buf_detach(&b);
}

START_TEST(decode_iso2022_ir87)
{
    /* Yamada^Tarou=山田^太郎=やまだ^たろう as PS3.5 H.3.1 encodes it */
    const char *raw = "Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B";
    char *u = utf8_of(IR87, raw);
    ck_assert_str_eq(u, "Yamada^Tarou=山田^太郎=やまだ^たろう");
    free(u);
}
END_TEST

START_TEST(decode_iso2022_ir13_katakana)
{
    /* half-width katakana in G1 after ESC ) I, as chrH31 does */
    const char *raw = "\x1b)I\xd4\xcf\xc0\xde^\xc0\xdb\xb3";
    char *u = utf8_of("ISO 2022 IR 13\\ISO 2022 IR 87", raw);
    ck_assert_str_eq(u, "ﾔﾏﾀﾞ^ﾀﾛｳ");
    free(u);
}
END_TEST

START_TEST(decode_single_byte_sets)
{
    char *u = utf8_of("ISO_IR 100", "Buc^J\xe9r\xf4me");
    ck_assert_str_eq(u, "Buc^Jérôme");
    free(u);
    u = utf8_of("ISO_IR 192", "山田^太郎");
    ck_assert_str_eq(u, "山田^太郎");
    free(u);
    u = utf8_of("", "plain");
    ck_assert_str_eq(u, "plain");
    free(u);
    /* a broken escape never crashes and never stops the decode */
    u = utf8_of(IR87, "a\x1b$");
    ck_assert_ptr_nonnull(u);
    free(u);
}
END_TEST

START_TEST(encode_back)
{
    kk_buf b = KK_BUF_INIT;
    ck_assert_int_eq(kk_text__from_utf8(IR87, strlen(IR87), "山田 ***", strlen("山田 ***"), &b), KK_OK);
    char *u = utf8_of(IR87, b.data);
    ck_assert_str_eq(u, "山田 ***");
    free(u);
    kk__buf_free(&b);
    /* ASCII is valid everywhere */
    ck_assert_int_eq(kk_text__from_utf8("ISO_IR 100", 10, "*** ok", 6, &b), KK_OK);
    ck_assert_str_eq(b.data, "*** ok");
    kk__buf_free(&b);
    /* no declared set: only ASCII can be written */
    ck_assert_int_eq(kk_text__from_utf8("", 0, "山田", strlen("山田"), &b), KK_EINVAL);
    kk__buf_free(&b);
}
END_TEST

static char *clean(const kk_idset *ids, const char *text)
{
    kk_cleaner *cl = NULL;
    ck_assert_int_eq(kk_clean__new(&cl, NULL), KK_OK);
    kk_buf b = KK_BUF_INIT;
    kk_clean__text(cl, ids, text, strlen(text), &b);
    kk_clean__free(cl);
    return kk__buf_detach(&b);
}

START_TEST(clean_own_identifiers)
{
    kk_idset ids = KK_IDSET_INIT;
    const char *pn = "Yamada^Tarou=山田^太郎=やまだ^たろう";
    kk_idset__add_name(&ids, pn, strlen(pn));
    kk_idset__add_id(&ids, "PID778812", 9);
    kk_idset__add_date(&ids, "19700312", 8);
    char *c = clean(&ids, "Pt YAMADA tarou, ID PID778812, born 1970/03/12 (昭和45年3月12日), 山田太郎 seen");
    ck_assert_ptr_null(strstr(c, "YAMADA"));
    ck_assert_ptr_null(strstr(c, "tarou"));
    ck_assert_ptr_null(strstr(c, "PID778812"));
    ck_assert_ptr_null(strstr(c, "1970"));
    ck_assert_ptr_null(strstr(c, "昭和45"));
    ck_assert_ptr_null(strstr(c, "山田"));
    ck_assert_ptr_null(strstr(c, "太郎"));
    ck_assert_ptr_nonnull(strstr(c, "seen"));
    free(c);
    /* word boundaries for ASCII: "Tarou" is not in "Taroudant", a
     * different word, kept (no romaji either: "Taroumaru" is a name the
     * dictionary knows, and goes as one) */
    c = clean(&ids, "Taroudant scan");
    ck_assert_str_eq(c, "Taroudant scan");
    free(c);
    kk_idset__free(&ids);
}
END_TEST

/* kk_clean__holds_ids: the object's own identifiers in a kept code (CS,
 * AE, a code value), and only those: no pattern of the cleaner. */
START_TEST(kept_code_holds_own_ids)
{
    kk_idset ids = KK_IDSET_INIT;
    const char *pn = "Yamada^Tarou=山田^太郎=やまだ^たろう";
    kk_idset__add_name(&ids, pn, strlen(pn));
    kk_idset__add_id(&ids, "97000131", 8);
    ck_assert(kk_clean__holds_ids(&ids, "YAMADA", 6));
    ck_assert(kk_clean__holds_ids(&ids, "HELICAL\\97000131", strlen("HELICAL\\97000131")));
    ck_assert(kk_clean__holds_ids(&ids, "PR_TAROU", 8)); /* '_' parts words */
    ck_assert(kk_clean__holds_ids(&ids, "TAROUDANT", 9) == false); /* not a word of its own */
    ck_assert(kk_clean__holds_ids(&ids, "HELICAL\\970001310", strlen("HELICAL\\970001310")) == false);
    ck_assert(kk_clean__holds_ids(&ids, "HELICAL\\AXIAL", strlen("HELICAL\\AXIAL")) == false);
    /* no cue, no pattern: a name the patient does not have stays */
    ck_assert(kk_clean__holds_ids(&ids, "SUZUKI", 6) == false);
    ck_assert(kk_clean__holds_ids(&ids, "山田", strlen("山田")));
    ck_assert(kk_clean__holds_ids(NULL, "YAMADA", 6) == false);
    /* numbers (IS, DS): an own ID of 6 digits or more, whole, is the ID */
    ck_assert(kk_clean__number_is_id(&ids, "97000131", 8));
    ck_assert(kk_clean__number_is_id(&ids, "1\\ 97000131 ", strlen("1\\ 97000131 ")));
    ck_assert(!kk_clean__number_is_id(&ids, "970001310", 9));
    ck_assert(!kk_clean__number_is_id(&ids, "9700013", 7));
    kk_idset__add_id(&ids, "123", 3); /* StudyID 123: a count, not an ID */
    ck_assert(!kk_clean__number_is_id(&ids, "123", 3));
    ck_assert(!kk_clean__number_is_id(NULL, "97000131", 8));
    kk_idset__free(&ids);
}
END_TEST

static const struct {
    const char *in;
    const char *gone;
} patterns[] = {
    { "seen on 2024-04-01 by", "2024-04-01" },
    { "seen 12/03/1970", "12/03/1970" },
    { "DOB S45.3.12 noted", "S45.3.12" },
    { "令和6年4月1日 受診", "令和6年4月1日" },
    { "H31/4/30 follow-up", "H31/4/30" },
    { "MRN 00123456 ok", "00123456" },
    { "My Number 1234 5678 9012", "1234 5678 9012" },
    { "call 03-1234-5678", "03-1234-5678" },
    { "mail taro@example.jp now", "taro@example.jp" },
    { "ref by Smith^John", "Smith^John" },
    { "seen by Dr. Watson today", "Watson" },
    { "山田太郎様 TEL 03-1234-5678", "山田太郎" },
    { "Lives at 972 Station Road, Lakeside with wife", "Station Road" },
    { "Sent from 3-12-5 Hongo, Bunkyo-ku", "Hongo" },
    { "〒100-0001 東京都千代田区千代田1-1", "1-1" },
};

START_TEST(clean_patterns)
{
    char *c = clean(NULL, patterns[_i].in);
    ck_assert_msg(strstr(c, patterns[_i].gone) == NULL, "'%s' still in '%s'", patterns[_i].gone, c);
    ck_assert_ptr_nonnull(strstr(c, "***"));
    free(c);
}
END_TEST

START_TEST(clean_leaves_technical_text)
{
    const char *keep[] = { "CHEST PA", "T2 FLAIR AX", "MI 1.2 TIs 0.4", "120 kVp", "V3.51*P25",
                           "Head 5mm STND", "DERIVED" };
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        char *c = clean(NULL, keep[i]);
        ck_assert_str_eq(c, keep[i]);
        free(c);
    }
}
END_TEST

START_TEST(dummy_values_fit_their_vr)
{
    ck_assert_str_eq(kk_action__dummy(KK_VR('D', 'A')), "19000101");
    ck_assert_str_eq(kk_action__dummy(KK_VR('T', 'M')), "000000");
    ck_assert_int_le(strlen(kk_action__dummy(KK_VR('C', 'S'))), 16);
    ck_assert_int_le(strlen(kk_action__dummy(KK_VR('A', 'E'))), 16);
    ck_assert_int_eq(strlen(kk_action__dummy(KK_VR('A', 'S'))), 4);
    ck_assert_ptr_null(kk_action__dummy(KK_VR('S', 'Q')));
}
END_TEST

Suite *clean_suite(void)
{
    Suite *s = suite_create("clean");
    TCase *tc = tcase_create("charset");
    tcase_add_test(tc, decode_iso2022_ir87);
    tcase_add_test(tc, decode_iso2022_ir13_katakana);
    tcase_add_test(tc, decode_single_byte_sets);
    tcase_add_test(tc, encode_back);
    suite_add_tcase(s, tc);
    tc = tcase_create("clean");
    tcase_add_test(tc, clean_own_identifiers);
    tcase_add_test(tc, kept_code_holds_own_ids);
    tcase_add_loop_test(tc, clean_patterns, 0, (int)(sizeof patterns / sizeof patterns[0]));
    tcase_add_test(tc, clean_leaves_technical_text);
    tcase_add_test(tc, dummy_values_fit_their_vr);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(clean_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
