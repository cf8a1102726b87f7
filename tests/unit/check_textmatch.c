/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/check_textmatch.c - lib/pixel/textmatch.c: classifying OCR'd
 * lines against an object's identifiers, label cues and technical tokens.
 *
 * The readings below are the kind Tesseract gives on burned-in text:
 * names in any order and case, kanji half wrong (山田 太郎 -> 山曰 太民),
 * kana in the other script, digits misread or split by a gap, dates in
 * every spelling including Japanese eras with OCR's spaces.
 */
#include <check.h>
#include <stdlib.h>

#include "pixel/textmatch.h"

static const char *names[] = { "Yamada^Taro=山田^太郎=やまだ^たろう" };
static const char *idv[] = { "MRN4471902" };
static const char *dates[] = { "19700312", "20190430" };
static const char *accs[] = { "190430-77" };
static const char *insts[] = { "Sakura General Hospital", "東京中央病院" };

static kk_textmatch *matcher(const char *const *allow, size_t nallow)
{
    kk_text_ids ids = { names, 1, idv, 1, dates, 2, accs, 1, insts, 2 };
    kk_textmatch *m = NULL;
    ck_assert_int_eq(kk_textmatch__new(&m, NULL, &ids, allow, nallow), KK_OK);
    return m;
}

static void expect(const kk_textmatch *m, const char *line, kk_text_class want)
{
    kk_text_class got = kk_textmatch__identifier(m, line);
    ck_assert_msg(got == want, "'%s': got %s, want %s", line, kk_text_class__name(got),
                  kk_text_class__name(want));
}

START_TEST(names_romaji_kanji_kana)
{
    kk_textmatch *m = matcher(NULL, 0);
    expect(m, "YAMADA TARO", KK_TEXT_NAME);
    expect(m, "Taro Yamada", KK_TEXT_NAME);
    expect(m, "Name:Yamada^Taro", KK_TEXT_NAME);
    expect(m, "YAMADO", KK_TEXT_NAME);        /* one letter misread */
    expect(m, "山曰 太民", KK_TEXT_NAME);      /* OCR's kanji */
    expect(m, "氏名 山 田 太 郎", KK_TEXT_NAME); /* jpn's spaces */
    expect(m, "ヤマダ タロウ", KK_TEXT_NAME);  /* katakana for hiragana */
    expect(m, "ＹＡＭＡＤＡ", KK_TEXT_NAME);    /* full-width */
    expect(m, "SUZUKI HANAKO", KK_TEXT_OTHER);
    expect(m, "鈴木 花子", KK_TEXT_OTHER);
    expect(m, "LIVER", KK_TEXT_OTHER);
    expect(m, "", KK_TEXT_OTHER);
    kk_textmatch__free(m);
}
END_TEST

/* A name written in one script in the header and another on the screen:
 * matched by its reading (Hepburn, Kunrei, long vowels, kana widths). */
START_TEST(names_by_reading)
{
    static const char *kana[] = { "山田^太郎=ﾔﾏﾀﾞ^ﾀﾛｳ", "SATOH^ICHIROU", "伊藤^=イトウ^" };
    kk_text_ids ids = { kana, 3, NULL, 0, NULL, 0, NULL, 0, NULL, 0 };
    kk_textmatch *m = NULL;
    ck_assert_int_eq(kk_textmatch__new(&m, NULL, &ids, NULL, 0), KK_OK);
    expect(m, "YAMADA TARO", KK_TEXT_NAME);   /* half-width kana in the header */
    expect(m, "Tarou", KK_TEXT_NAME);         /* a long vowel written out */
    expect(m, "YAMADATARO", KK_TEXT_NAME);    /* OCR ran the words together */
    expect(m, "YAMA DA", KK_TEXT_NAME);       /* ... or split one */
    expect(m, "サトウ イチロウ", KK_TEXT_NAME); /* romaji in the header */
    expect(m, "ｻﾄｳ", KK_TEXT_NAME);
    expect(m, "Sato", KK_TEXT_NAME);
    expect(m, "ITO", KK_TEXT_NAME);           /* 3 letters, a whole word */
    expect(m, "ITOH", KK_TEXT_NAME);
    expect(m, "TAKAHASHI", KK_TEXT_OTHER);
    expect(m, "AXIAL T2 TSE", KK_TEXT_OTHER);
    expect(m, "DATE 2024", KK_TEXT_OTHER);
    expect(m, "MONITOR", KK_TEXT_OTHER);      /* holds "ito" inside a word */
    kk_textmatch__free(m);
}
END_TEST

START_TEST(ids_and_accessions)
{
    kk_textmatch *m = matcher(NULL, 0);
    expect(m, "ID: MRN4471902", KK_TEXT_ID);
    expect(m, "MRN 447 1902", KK_TEXT_ID);    /* split into words */
    expect(m, "MRN44719O2", KK_TEXT_ID);      /* O read for 0 */
    expect(m, "MRN4471982", KK_TEXT_ID);      /* one digit wrong */
    expect(m, "ACC# 190430-77", KK_TEXT_ACCESSION);
    expect(m, "190430", KK_TEXT_ACCESSION);   /* the piece before a wide gap */
    expect(m, "4471902", KK_TEXT_ID);        /* the number without its prefix */
    expect(m, "12345678", KK_TEXT_OTHER);
    expect(m, "1.2", KK_TEXT_OTHER);
    kk_textmatch__free(m);
}
END_TEST

START_TEST(dates_all_spellings)
{
    kk_textmatch *m = matcher(NULL, 0);
    expect(m, "DOB 1970/03/12", KK_TEXT_DATE);
    expect(m, "1970-3-12", KK_TEXT_DATE);
    expect(m, "12.03.1970", KK_TEXT_DATE);
    expect(m, "03/12/1970", KK_TEXT_DATE);
    expect(m, "12 MAR 1970", KK_TEXT_DATE);
    expect(m, "19700312", KK_TEXT_DATE);
    expect(m, "S45.3.12", KK_TEXT_DATE);
    expect(m, "s45/03/12", KK_TEXT_DATE);
    expect(m, "昭和45年3月12日", KK_TEXT_DATE);
    expect(m, "生年 月 日 昭 和 45 年 3 月 12 日", KK_TEXT_DATE);
    expect(m, "昭和４５年３月１２日", KK_TEXT_DATE);
    expect(m, "H31/4/30", KK_TEXT_DATE);
    expect(m, "平成31年4月30日", KK_TEXT_DATE);
    expect(m, "2019/04/30 10:32", KK_TEXT_DATE);
    expect(m, "1970/03/13", KK_TEXT_DATE);   /* one digit off: OCR */
    expect(m, "S46.3.12", KK_TEXT_OTHER);    /* another era year */
    expect(m, "2024/04/01", KK_TEXT_OTHER);
    expect(m, "H45.3.12", KK_TEXT_OTHER);    /* Heisei 45 never was */
    kk_textmatch__free(m);
}
END_TEST

START_TEST(era_change_day)
{
    /* 2019-05-01 is both H31.5.1 and R1.5.1 (令和元年) */
    static const char *d[] = { "20190501" };
    kk_text_ids ids = { NULL, 0, NULL, 0, d, 1, NULL, 0, NULL, 0 };
    kk_textmatch *m = NULL;
    ck_assert_int_eq(kk_textmatch__new(&m, NULL, &ids, NULL, 0), KK_OK);
    expect(m, "R1.5.1", KK_TEXT_DATE);
    expect(m, "令和元年5月1日", KK_TEXT_DATE);
    expect(m, "H31.5.1", KK_TEXT_DATE);
    kk_textmatch__free(m);
}
END_TEST

START_TEST(institutions)
{
    kk_textmatch *m = matcher(NULL, 0);
    expect(m, "Sakura General Hospital", KK_TEXT_INSTITUTION);
    expect(m, "SAKURA GENERAL HOSPITAI", KK_TEXT_INSTITUTION);
    expect(m, "Sakura", KK_TEXT_INSTITUTION);
    expect(m, "東京中央病院", KK_TEXT_INSTITUTION);
    expect(m, "東京 中 央 病 陣", KK_TEXT_INSTITUTION);
    expect(m, "General Hospital", KK_TEXT_OTHER); /* generic words alone */
    kk_textmatch__free(m);
}
END_TEST

START_TEST(label_cues)
{
    kk_text_class c = KK_TEXT_OTHER;
    ck_assert(kk_textmatch__label("Name: XXXX", &c));
    ck_assert_int_eq(c, KK_TEXT_NAME);
    ck_assert(kk_textmatch__label("ID:", &c));
    ck_assert_int_eq(c, KK_TEXT_ID);
    ck_assert(kk_textmatch__label("DOB", &c));
    ck_assert_int_eq(c, KK_TEXT_DATE);
    ck_assert(kk_textmatch__label("氏名", &c));
    ck_assert_int_eq(c, KK_TEXT_NAME);
    ck_assert(kk_textmatch__label("患者ID 0000", NULL));
    ck_assert(kk_textmatch__label("カルテ番号", &c));
    ck_assert_int_eq(c, KK_TEXT_ID);
    ck_assert(kk_textmatch__label("生年月日", &c));
    ck_assert_int_eq(c, KK_TEXT_DATE);
    /* jpn OCR puts spaces between characters */
    ck_assert(kk_textmatch__label("検査 日 2024-04-", &c));
    ck_assert_int_eq(c, KK_TEXT_DATE);
    ck_assert(kk_textmatch__label("氏 名", &c));
    ck_assert_int_eq(c, KK_TEXT_NAME);
    ck_assert(!kk_textmatch__label(" 検査", NULL));
    /* digits, full-width ones too */
    ck_assert_int_eq(kk_textmatch__digits("#6250110"), 7);
    ck_assert_int_eq(kk_textmatch__digits("S33/11\xef\xbc\x92"), 5);
    ck_assert_int_eq(kk_textmatch__digits(NULL), 0);
    /* any date-shaped text */
    ck_assert(kk_textmatch__label("2021/7/9", &c));
    ck_assert_int_eq(c, KK_TEXT_DATE);
    ck_assert(kk_textmatch__label("3年 4月", NULL));
    ck_assert(!kk_textmatch__label("IDEAL", NULL));
    ck_assert(!kk_textmatch__label("MI 1.2", NULL));
    ck_assert(!kk_textmatch__label("14.5cm", NULL));
    ck_assert(!kk_textmatch__label(NULL, NULL));
}
END_TEST

START_TEST(technical_tokens)
{
    kk_textmatch *m = matcher(NULL, 0);
    const char *tech[] = { "MI 1.2", "TIs 0.4", "TIb", "Tls 0.4", "FR 30Hz", "FR 24 Hz",
                           "G 50", "Gn 62", "C5-1", "L12-5", "R", "L", "cm", "10",
                           "14.5cm", "D 14.5cm", "Depth 16cm", "5.0MHz", "PWR 100%",
                           "MI 1.2 TIs 0.4", "2D", "THI", "Z 1.0", "-", "ＭＩ １．２" };
    for (size_t i = 0; i < sizeof tech / sizeof tech[0]; i++)
        ck_assert_msg(kk_textmatch__technical(m, tech[i]), "'%s' not technical", tech[i]);
    const char *not_tech[] = { "", "YAMADA", "MI 1.2 YAMADA", "12345678", "2024", "LIVER",
                               "山田", "1970/03/12", "ID 12" };
    for (size_t i = 0; i < sizeof not_tech / sizeof not_tech[0]; i++)
        ck_assert_msg(!kk_textmatch__technical(m, not_tech[i]), "'%s' technical", not_tech[i]);
    kk_textmatch__free(m);
}
END_TEST

START_TEST(profile_allowlist)
{
    const char *allow[] = { "^ABD[0-9]+$", "^腹部$" };
    kk_textmatch *m = matcher(allow, 2);
    ck_assert(kk_textmatch__technical(m, "ABD12"));
    ck_assert(kk_textmatch__technical(m, "abd3 MI 0.8"));
    ck_assert(kk_textmatch__technical(m, "腹部"));
    ck_assert(!kk_textmatch__technical(m, "ABD"));
    kk_textmatch__free(m);

    const char *bad[] = { "ok", "([" };
    kk_text_ids none = { 0 };
    kk_ctx *ctx = kk_ctx_new();
    ck_assert_int_eq(kk_textmatch__new(&m, ctx, &none, bad, 2), KK_EINVAL);
    ck_assert_ptr_null(m);
    ck_assert_str_eq(kk_error_message(ctx), "cannot compile allow pattern 1");
    kk_ctx_free(ctx);
}
END_TEST

START_TEST(no_identifiers)
{
    kk_textmatch *m = NULL;
    ck_assert_int_eq(kk_textmatch__new(&m, NULL, NULL, NULL, 0), KK_OK);
    expect(m, "YAMADA TARO 1970/03/12", KK_TEXT_OTHER);
    ck_assert(kk_textmatch__technical(m, "MI 1.2"));
    kk_textmatch__free(m);
    kk_textmatch__free(NULL);
}
END_TEST

START_TEST(malformed_utf8)
{
    kk_textmatch *m = matcher(NULL, 0);
    const char *junk[] = { "\xff\xfe", "\xe5\xb1", "abc\xe5", "\xc0\x80", "\xf0\x9f\x98" };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        kk_textmatch__identifier(m, junk[i]);
        kk_textmatch__technical(m, junk[i]);
        kk_textmatch__label(junk[i], NULL);
    }
    kk_textmatch__free(m);
}
END_TEST

Suite *textmatch_suite(void)
{
    Suite *s = suite_create("textmatch");
    TCase *tc = tcase_create("identifiers");
    tcase_add_test(tc, names_romaji_kanji_kana);
    tcase_add_test(tc, names_by_reading);
    tcase_add_test(tc, ids_and_accessions);
    tcase_add_test(tc, dates_all_spellings);
    tcase_add_test(tc, era_change_day);
    tcase_add_test(tc, institutions);
    tcase_add_test(tc, no_identifiers);
    tcase_add_test(tc, malformed_utf8);
    suite_add_tcase(s, tc);
    tc = tcase_create("labels");
    tcase_add_test(tc, label_cues);
    suite_add_tcase(s, tc);
    tc = tcase_create("technical");
    tcase_add_test(tc, technical_tokens);
    tcase_add_test(tc, profile_allowlist);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(textmatch_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
