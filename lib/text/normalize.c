/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/text/normalize.c - folding for matching (see normalize.h).
 *
 * The text is cut where ICU's NFKC_Casefold has a boundary, each piece is
 * normalized on its own (unorm2_normalize), and every UTF-8 byte written
 * records the input span of its piece: the map back is exact at piece
 * granularity (a half-width カ with its ﾞ maps to both). Katakana then
 * become hiragana by code point offset.
 *
 * Reading keys: romaji is parsed syllable by syllable into hiragana with a
 * table that accepts Hepburn, Kunrei and Nihon-shiki spellings; kana are
 * written back in one spelling (Kunrei: si, ti, tu, hu, zi, sya), and long
 * vowels collapse (ou, oo, uu, aa, ii, ee to one vowel).
 */
#include <stdlib.h>
#include <string.h>

#include <unicode/unorm2.h>
#include <unicode/utf8.h>

#include "text/normalize.h"

void kk_text__ftext_free(kk_ftext *t)
{
    free(t->s);
    free(t->from);
    free(t->to);
    t->s = NULL;
    t->from = t->to = NULL;
    t->len = 0;
}

typedef struct fold_out {
    char *s;
    uint32_t *from, *to;
    size_t len, cap;
    bool failed;
} fold_out;

/* Cyrillic and Greek letters drawn like Latin ones (а, о, р, с in
 * "Yamadа"), as case folding leaves them: their Latin twin, so a name
 * spelled with one still matches (the idea of Unicode's confusables,
 * for the letters that pass for Latin in a name). */
static UChar32 latin_twin(UChar32 c)
{
    static const struct { UChar32 from, to; } twin[] = {
        { 0x0430, 'a' }, { 0x0435, 'e' }, { 0x0456, 'i' }, { 0x0458, 'j' }, { 0x043A, 'k' },
        { 0x043E, 'o' }, { 0x0440, 'p' }, { 0x0441, 'c' }, { 0x0443, 'y' }, { 0x0445, 'x' },
        { 0x0455, 's' }, { 0x0501, 'd' }, { 0x04BB, 'h' }, { 0x051B, 'q' }, { 0x051D, 'w' },
        { 0x04CF, 'l' }, { 0x03BF, 'o' }, { 0x03B1, 'a' }, { 0x03BD, 'v' }, { 0x03B9, 'i' },
        { 0x03BA, 'k' }, { 0x03C1, 'p' }, { 0x03C5, 'u' }, { 0x03C7, 'x' },
        /* folded capitals: Т, М, Н, В; Τ, Μ, Η, Β, Ε, Ζ */
        { 0x0442, 't' }, { 0x043C, 'm' }, { 0x043D, 'h' }, { 0x0432, 'b' }, { 0x03C4, 't' },
        { 0x03BC, 'm' }, { 0x03B7, 'h' }, { 0x03B2, 'b' }, { 0x03B5, 'e' }, { 0x03B6, 'z' },
        /* capitals, where case is not folded: Dr. Smіth, ТАRO */
        { 0x0410, 'A' }, { 0x0412, 'B' }, { 0x0415, 'E' }, { 0x041A, 'K' }, { 0x041C, 'M' },
        { 0x041D, 'H' }, { 0x041E, 'O' }, { 0x0420, 'P' }, { 0x0421, 'C' }, { 0x0422, 'T' },
        { 0x0425, 'X' }, { 0x0405, 'S' }, { 0x0406, 'I' }, { 0x0408, 'J' }, { 0x0391, 'A' },
        { 0x0392, 'B' }, { 0x0395, 'E' }, { 0x0396, 'Z' }, { 0x0397, 'H' }, { 0x0399, 'I' },
        { 0x039A, 'K' }, { 0x039C, 'M' }, { 0x039D, 'N' }, { 0x039F, 'O' }, { 0x03A1, 'P' },
        { 0x03A4, 'T' }, { 0x03A5, 'Y' }, { 0x03A7, 'X' },
    };
    if (c < 0x0370 || c > 0x0530)
        return c;
    for (size_t i = 0; i < sizeof twin / sizeof *twin; i++)
        if (twin[i].from == c)
            return twin[i].to;
    return c;
}

/* Old and variant forms of kanji that names keep (髙橋, 𠮷田, 﨑山, 齋藤,
 * 渡邉) and NFKC leaves alone: their common form, which the dictionary
 * and the object's own identifiers know. */
static UChar32 common_kanji(UChar32 c)
{
    static const struct { UChar32 from, to; } variant[] = {
        { 0x9AD9, 0x9AD8 }, /* 髙 高 */  { 0x20BB7, 0x5409 }, /* 𠮷 吉 */
        { 0xFA11, 0x5D0E }, /* 﨑 崎 */  { 0x5D5C, 0x5D0E }, /* 嵜 崎 */
        { 0x5FB7, 0x5FB3 }, /* 德 徳 */  { 0x908A, 0x8FBA }, /* 邊 辺 */
        { 0x9089, 0x8FBA }, /* 邉 辺 */  { 0x9F4B, 0x658E }, /* 齋 斎 */
        { 0x9F4A, 0x6589 }, /* 齊 斉 */  { 0x6FA4, 0x6CA2 }, /* 澤 沢 */
        { 0x6FF1, 0x6D5C }, /* 濱 浜 */  { 0x5EE3, 0x5E83 }, /* 廣 広 */
        { 0x570B, 0x56FD }, /* 國 国 */  { 0x6AFB, 0x685C }, /* 櫻 桜 */
        { 0x5D8B, 0x5CF6 }, /* 嶋 島 */  { 0x771E, 0x771F }, /* 眞 真 */
        { 0x60E0, 0x6075 }, /* 惠 恵 */  { 0x9E7D, 0x5869 }, /* 鹽 塩 */
        { 0x6A6B, 0x6A2A }, /* 橫 横 */  { 0x8C50, 0x8C4A }, /* 豐 豊 */
        { 0x6B65, 0x6B69 }, /* 步 歩 */  { 0x5BE6, 0x5B9F }, /* 實 実 */
    };
    if (c < 0x5000)
        return c;
    for (size_t i = 0; i < sizeof variant / sizeof *variant; i++)
        if (variant[i].from == c)
            return variant[i].to;
    return c;
}

static void put_cp(fold_out *o, UChar32 c, uint32_t a, uint32_t b, bool kana)
{
    /* variation selectors (辻󠄀 = 辻 + U+E0100, the one-dot form) choose a
     * glyph, not a character: the name is the same without them */
    if ((c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xE0100 && c <= 0xE01EF) || (c >= 0x180B && c <= 0x180D))
        return;
    /* dashes NFKC leaves alone: hyphen, minus sign (JIS X 0208's 0x215D) */
    if ((c >= 0x2010 && c <= 0x2015) || c == 0x2212 || c == 0xFE63)
        c = '-';
    /* katakana to hiragana: ァ..ヶ and ヽヾ */
    if (kana && ((c >= 0x30A1 && c <= 0x30F6) || c == 0x30FD || c == 0x30FE))
        c -= 0x60;
    /* ぢ and づ sound as じ and ず (romaji writes them ji, zu): one spelling */
    if (kana && (c == 0x3062 || c == 0x3065))
        c = c == 0x3062 ? 0x3058 : 0x305A;
    c = common_kanji(latin_twin(c));
    if (o->len + 4 >= o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        char *s = realloc(o->s, cap + 1);
        uint32_t *f = s ? realloc(o->from, cap * sizeof *f) : NULL;
        uint32_t *t = f ? realloc(o->to, cap * sizeof *t) : NULL;
        if (s)
            o->s = s;
        if (f)
            o->from = f;
        if (!s || !f || !t) {
            o->failed = true;
            return;
        }
        o->to = t;
        o->cap = cap;
    }
    size_t at = o->len;
    UBool err = false;
    U8_APPEND((uint8_t *)o->s, o->len, (int32_t)o->cap, c, err);
    if (err) {
        o->len = at;
        return;
    }
    for (size_t k = at; k < o->len; k++) {
        o->from[k] = a;
        o->to[k] = b;
    }
}

kk_status kk_text__fold(const char *in, size_t len, unsigned flags, kk_ftext *out)
{
    memset(out, 0, sizeof *out);
    UErrorCode err = U_ZERO_ERROR;
    const UNormalizer2 *nf = (flags & KK_FOLD_CASE) ? unorm2_getNFKCCasefoldInstance(&err)
                                                    : unorm2_getNFKCInstance(&err);
    bool kana = (flags & KK_FOLD_KANA) != 0;
    if (U_FAILURE(err))
        return KK_EINVAL;
    fold_out o = { 0 };
    UChar piece[64], norm[256];
    int32_t pl = 0;
    uint32_t pstart = 0;
    int32_t i = 0, n = (int32_t)len;
    const uint8_t *s = (const uint8_t *)in;
    while (i <= n && !o.failed) {
        UChar32 c = 0;
        int32_t at = i;
        bool end = i == n;
        if (!end)
            U8_NEXT(s, i, n, c);
        if (!end && c < 0)
            c = 0xFFFD;
        /* flush the piece at a boundary, at the end, or when it is full */
        if (pl && (end || unorm2_hasBoundaryBefore(nf, c) || pl > (int32_t)(sizeof piece / sizeof *piece) - 4)) {
            UErrorCode e2 = U_ZERO_ERROR;
            int32_t nl = unorm2_normalize(nf, piece, pl, norm, (int32_t)(sizeof norm / sizeof *norm), &e2);
            if (U_FAILURE(e2)) {
                /* too long after folding (never for real text): keep it */
                memcpy(norm, piece, (size_t)pl * sizeof *piece);
                nl = pl;
            }
            for (int32_t k = 0; k < nl;) {
                UChar32 d;
                U16_NEXT(norm, k, nl, d);
                put_cp(&o, d, pstart, (uint32_t)at, kana);
            }
            pl = 0;
        }
        if (end)
            break;
        if (!pl)
            pstart = (uint32_t)at;
        U16_APPEND_UNSAFE(piece, pl, c);
    }
    if (o.failed || !o.s) {
        if (!o.failed && !o.s) {
            out->s = calloc(1, 1);
            return out->s ? KK_OK : KK_ENOMEM;
        }
        free(o.s);
        free(o.from);
        free(o.to);
        return KK_ENOMEM;
    }
    o.s[o.len] = '\0';
    out->s = o.s;
    out->len = o.len;
    out->from = o.from;
    out->to = o.to;
    return KK_OK;
}

char *kk_text__fold_str(const char *in, size_t len, size_t *outlen)
{
    kk_ftext t;
    if (kk_text__fold(in, len, KK_FOLD_ALL, &t) != KK_OK)
        return NULL;
    free(t.from);
    free(t.to);
    if (outlen)
        *outlen = t.len;
    return t.s;
}

/* --- readings --------------------------------------------------------- */

/* Hiragana and one romaji spelling each (Kunrei), the canonical key. */
/* Kunrei romaji of each hiragana, by code point (U+3040 on): a lookup
 * per character, since the readings of the whole name dictionary go
 * through here when it loads. */
#define HIRA0 0x3040
static const char *const roma_of_hira[0x60] = {
    [0x3042 - HIRA0] = "a", /* あ */
    [0x3044 - HIRA0] = "i", /* い */
    [0x3046 - HIRA0] = "u", /* う */
    [0x3048 - HIRA0] = "e", /* え */
    [0x304A - HIRA0] = "o", /* お */
    [0x304B - HIRA0] = "ka", /* か */
    [0x304D - HIRA0] = "ki", /* き */
    [0x304F - HIRA0] = "ku", /* く */
    [0x3051 - HIRA0] = "ke", /* け */
    [0x3053 - HIRA0] = "ko", /* こ */
    [0x304C - HIRA0] = "ga", /* が */
    [0x304E - HIRA0] = "gi", /* ぎ */
    [0x3050 - HIRA0] = "gu", /* ぐ */
    [0x3052 - HIRA0] = "ge", /* げ */
    [0x3054 - HIRA0] = "go", /* ご */
    [0x3055 - HIRA0] = "sa", /* さ */
    [0x3057 - HIRA0] = "si", /* し */
    [0x3059 - HIRA0] = "su", /* す */
    [0x305B - HIRA0] = "se", /* せ */
    [0x305D - HIRA0] = "so", /* そ */
    [0x3056 - HIRA0] = "za", /* ざ */
    [0x3058 - HIRA0] = "zi", /* じ */
    [0x305A - HIRA0] = "zu", /* ず */
    [0x305C - HIRA0] = "ze", /* ぜ */
    [0x305E - HIRA0] = "zo", /* ぞ */
    [0x305F - HIRA0] = "ta", /* た */
    [0x3061 - HIRA0] = "ti", /* ち */
    [0x3064 - HIRA0] = "tu", /* つ */
    [0x3066 - HIRA0] = "te", /* て */
    [0x3068 - HIRA0] = "to", /* と */
    [0x3060 - HIRA0] = "da", /* だ */
    [0x3062 - HIRA0] = "zi", /* ぢ */
    [0x3065 - HIRA0] = "zu", /* づ */
    [0x3067 - HIRA0] = "de", /* で */
    [0x3069 - HIRA0] = "do", /* ど */
    [0x306A - HIRA0] = "na", /* な */
    [0x306B - HIRA0] = "ni", /* に */
    [0x306C - HIRA0] = "nu", /* ぬ */
    [0x306D - HIRA0] = "ne", /* ね */
    [0x306E - HIRA0] = "no", /* の */
    [0x306F - HIRA0] = "ha", /* は */
    [0x3072 - HIRA0] = "hi", /* ひ */
    [0x3075 - HIRA0] = "hu", /* ふ */
    [0x3078 - HIRA0] = "he", /* へ */
    [0x307B - HIRA0] = "ho", /* ほ */
    [0x3070 - HIRA0] = "ba", /* ば */
    [0x3073 - HIRA0] = "bi", /* び */
    [0x3076 - HIRA0] = "bu", /* ぶ */
    [0x3079 - HIRA0] = "be", /* べ */
    [0x307C - HIRA0] = "bo", /* ぼ */
    [0x3071 - HIRA0] = "pa", /* ぱ */
    [0x3074 - HIRA0] = "pi", /* ぴ */
    [0x3077 - HIRA0] = "pu", /* ぷ */
    [0x307A - HIRA0] = "pe", /* ぺ */
    [0x307D - HIRA0] = "po", /* ぽ */
    [0x307E - HIRA0] = "ma", /* ま */
    [0x307F - HIRA0] = "mi", /* み */
    [0x3080 - HIRA0] = "mu", /* む */
    [0x3081 - HIRA0] = "me", /* め */
    [0x3082 - HIRA0] = "mo", /* も */
    [0x3084 - HIRA0] = "ya", /* や */
    [0x3086 - HIRA0] = "yu", /* ゆ */
    [0x3088 - HIRA0] = "yo", /* よ */
    [0x3089 - HIRA0] = "ra", /* ら */
    [0x308A - HIRA0] = "ri", /* り */
    [0x308B - HIRA0] = "ru", /* る */
    [0x308C - HIRA0] = "re", /* れ */
    [0x308D - HIRA0] = "ro", /* ろ */
    [0x308F - HIRA0] = "wa", /* わ */
    [0x3090 - HIRA0] = "i", /* ゐ */
    [0x3091 - HIRA0] = "e", /* ゑ */
    [0x3092 - HIRA0] = "o", /* を */
    [0x3093 - HIRA0] = "n", /* ん */
    [0x3094 - HIRA0] = "bu", /* ゔ */
};

/* Romaji spellings read back to kana: every Hepburn and Kunrei form. */
static const struct { const char *roma, *kana; } roma_tab[] = {
    { "shi", "し" }, { "chi", "ち" }, { "tsu", "つ" }, { "sha", "しゃ" }, { "shu", "しゅ" },
    { "sho", "しょ" }, { "she", "しぇ" }, { "cha", "ちゃ" }, { "chu", "ちゅ" }, { "cho", "ちょ" },
    { "che", "ちぇ" }, { "jya", "じゃ" }, { "jyu", "じゅ" }, { "jyo", "じょ" },
    { "kya", "きゃ" }, { "kyu", "きゅ" }, { "kyo", "きょ" }, { "gya", "ぎゃ" }, { "gyu", "ぎゅ" },
    { "gyo", "ぎょ" }, { "sya", "しゃ" }, { "syu", "しゅ" }, { "syo", "しょ" }, { "zya", "じゃ" },
    { "zyu", "じゅ" }, { "zyo", "じょ" }, { "tya", "ちゃ" }, { "tyu", "ちゅ" }, { "tyo", "ちょ" },
    { "dya", "ぢゃ" }, { "dyu", "ぢゅ" }, { "dyo", "ぢょ" }, { "nya", "にゃ" }, { "nyu", "にゅ" },
    { "nyo", "にょ" }, { "hya", "ひゃ" }, { "hyu", "ひゅ" }, { "hyo", "ひょ" }, { "bya", "びゃ" },
    { "byu", "びゅ" }, { "byo", "びょ" }, { "pya", "ぴゃ" }, { "pyu", "ぴゅ" }, { "pyo", "ぴょ" },
    { "mya", "みゃ" }, { "myu", "みゅ" }, { "myo", "みょ" }, { "rya", "りゃ" }, { "ryu", "りゅ" },
    { "ryo", "りょ" },
    { "ja", "じゃ" }, { "ju", "じゅ" }, { "jo", "じょ" }, { "je", "じぇ" }, { "ji", "じ" },
    { "fu", "ふ" }, { "fa", "ふぁ" }, { "fi", "ふぃ" }, { "fe", "ふぇ" }, { "fo", "ふぉ" },
    { "ka", "か" }, { "ki", "き" }, { "ku", "く" }, { "ke", "け" }, { "ko", "こ" },
    { "ga", "が" }, { "gi", "ぎ" }, { "gu", "ぐ" }, { "ge", "げ" }, { "go", "ご" },
    { "sa", "さ" }, { "si", "し" }, { "su", "す" }, { "se", "せ" }, { "so", "そ" },
    { "za", "ざ" }, { "zi", "じ" }, { "zu", "ず" }, { "ze", "ぜ" }, { "zo", "ぞ" },
    { "ta", "た" }, { "ti", "ち" }, { "tu", "つ" }, { "te", "て" }, { "to", "と" },
    { "da", "だ" }, { "di", "ぢ" }, { "du", "づ" }, { "de", "で" }, { "do", "ど" },
    { "na", "な" }, { "ni", "に" }, { "nu", "ぬ" }, { "ne", "ね" }, { "no", "の" },
    { "ha", "は" }, { "hi", "ひ" }, { "hu", "ふ" }, { "he", "へ" }, { "ho", "ほ" },
    { "ba", "ば" }, { "bi", "び" }, { "bu", "ぶ" }, { "be", "べ" }, { "bo", "ぼ" },
    { "pa", "ぱ" }, { "pi", "ぴ" }, { "pu", "ぷ" }, { "pe", "ぺ" }, { "po", "ぽ" },
    { "ma", "ま" }, { "mi", "み" }, { "mu", "む" }, { "me", "め" }, { "mo", "も" },
    { "ya", "や" }, { "yu", "ゆ" }, { "yo", "よ" },
    { "ra", "ら" }, { "ri", "り" }, { "ru", "る" }, { "re", "れ" }, { "ro", "ろ" },
    { "la", "ら" }, { "li", "り" }, { "lu", "る" }, { "le", "れ" }, { "lo", "ろ" },
    { "wa", "わ" }, { "wo", "を" }, { "vu", "ゔ" },
    { "a", "あ" }, { "i", "い" }, { "u", "う" }, { "e", "え" }, { "o", "お" },
    { NULL, NULL }
};

static bool is_vowel(char c)
{
    return c == 'a' || c == 'i' || c == 'u' || c == 'e' || c == 'o';
}

/* Lower-case ASCII for a romaji word: macrons and circumflexes become a
 * doubled vowel (ō -> ou). 0 when another character is present. */
static size_t roma_ascii(const char *w, size_t n, char *out, size_t cap)
{
    static const struct { const char *u8; const char *a; } marks[] = {
        { "ā", "aa" }, { "ī", "ii" }, { "ū", "uu" }, { "ē", "ee" }, { "ō", "ou" },
        { "â", "aa" }, { "î", "ii" }, { "û", "uu" }, { "ê", "ee" }, { "ô", "ou" },
        { "Ā", "aa" }, { "Ī", "ii" }, { "Ū", "uu" }, { "Ē", "ee" }, { "Ō", "ou" },
        { "Â", "aa" }, { "Î", "ii" }, { "Û", "uu" }, { "Ê", "ee" }, { "Ô", "ou" },
    };
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)w[i];
        if (o + 3 >= cap)
            return 0;
        if (c < 0x80) {
            if (c >= 'A' && c <= 'Z')
                c = (unsigned char)(c - 'A' + 'a');
            if ((c < 'a' || c > 'z') && c != '\'' && c != '-')
                return 0;
            out[o++] = (char)c;
            i++;
            continue;
        }
        size_t k = 0;
        for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++)
            if (i + 2 <= n && memcmp(w + i, marks[m].u8, 2) == 0) {
                memcpy(out + o, marks[m].a, 2);
                o += 2;
                k = 2;
                break;
            }
        if (!k)
            return 0;
        i += k;
    }
    out[o] = '\0';
    return o;
}

size_t kk_text__romaji_to_kana(const char *word, size_t len, char *out, size_t cap)
{
    char a[128];
    size_t n = roma_ascii(word, len, a, sizeof a);
    if (!n || n > 60)
        return 0;
    size_t o = 0;
#define PUT(str)                              \
    do {                                      \
        size_t l_ = strlen(str);              \
        if (o + l_ + 1 > cap)                 \
            return 0;                         \
        memcpy(out + o, str, l_);             \
        o += l_;                              \
    } while (0)
    for (size_t i = 0; i < n;) {
        char c = a[i];
        if (c == '\'' || c == '-') {
            if (c == '-' && i > 0)
                PUT("ー");
            i++;
            continue;
        }
        /* oh before a consonant or at the end: a long o (Ohno, Satoh) */
        if (c == 'o' && i + 1 < n && a[i + 1] == 'h' && (i + 2 == n || !is_vowel(a[i + 2]))) {
            PUT("おう");
            i += 2;
            continue;
        }
        if (c == 'n' && (i + 1 == n || (!is_vowel(a[i + 1]) && a[i + 1] != 'y'))) {
            PUT("ん");
            i++;
            continue;
        }
        if (c == 'm' && i + 1 < n && (a[i + 1] == 'b' || a[i + 1] == 'p' || a[i + 1] == 'm')) {
            PUT("ん");
            i++;
            continue;
        }
        if (!is_vowel(c) && i + 1 < n && (a[i + 1] == c || (c == 't' && a[i + 1] == 'c'))) {
            PUT("っ");
            i++;
            continue;
        }
        bool hit = false;
        for (size_t L = 3; L >= 1 && !hit; L--) {
            if (i + L > n)
                continue;
            for (int t = 0; roma_tab[t].roma; t++)
                /* the entry's length first: memcmp must not read past a
                 * shorter entry */
                if (roma_tab[t].roma[0] == c && strlen(roma_tab[t].roma) == L &&
                    memcmp(a + i, roma_tab[t].roma, L) == 0) {
                    PUT(roma_tab[t].kana);
                    i += L;
                    hit = true;
                    break;
                }
        }
        if (!hit)
            return 0;
        /* ...oh before a consonant or at the end: a long o (Satoh, Kohno) */
        if (a[i - 1] == 'o' && i < n && a[i] == 'h' && (i + 1 == n || !is_vowel(a[i + 1]))) {
            PUT("う");
            i++;
        }
    }
#undef PUT
    out[o] = '\0';
    return o;
}

/* Collapse long vowels in a romaji key in place. */
static size_t collapse(char *k, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (o && is_vowel(c)) {
            char p = k[o - 1];
            if (c == p || (p == 'o' && c == 'u'))
                continue;
        }
        k[o++] = c;
    }
    k[o] = '\0';
    return o;
}

size_t kk_text__kana_key(const char *kana, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    bool sokuon = false;
    const uint8_t *s = (const uint8_t *)kana;
    int32_t i = 0, n = (int32_t)len;
    while (i < n) {
        UChar32 c;
        U8_NEXT(s, i, n, c);
        if ((c >= 0x30A1 && c <= 0x30F6))
            c -= 0x60;
        if (c == 0x30FC || c == 0xFF70) { /* ー: the previous vowel again */
            if (o && o + 1 < cap && is_vowel(out[o - 1])) {
                out[o] = out[o - 1];
                o++;
            }
            continue;
        }
        if (c == 0x3063) { /* っ */
            sokuon = true;
            continue;
        }
        if (c == 0x3083 || c == 0x3085 || c == 0x3087) { /* ゃゅょ */
            const char *y = c == 0x3083 ? "ya" : c == 0x3085 ? "yu" : "yo";
            if (o >= 2 && out[o - 1] == 'i')
                o--; /* き+ゃ: ki -> kya, し+ゃ: si -> sya */
            if (o + 3 >= cap)
                return 0;
            memcpy(out + o, y, 2);
            o += 2;
            continue;
        }
        if (c == 0x3041 || c == 0x3043 || c == 0x3045 || c == 0x3047 || c == 0x3049) {
            /* small vowels: ふぁ fa, てぃ ti */
            char v = "aiueo"[(c - 0x3041) / 2];
            if (o && is_vowel(out[o - 1]))
                o--;
            if (o + 2 >= cap)
                return 0;
            out[o++] = v;
            continue;
        }
        const char *r = c >= HIRA0 && c < HIRA0 + 0x60 ? roma_of_hira[c - HIRA0] : NULL;
        if (!r)
            return 0;
        size_t rl = strlen(r);
        if (o + rl + 2 >= cap)
            return 0;
        if (sokuon && !is_vowel(r[0]))
            out[o++] = r[0];
        sokuon = false;
        memcpy(out + o, r, rl);
        o += rl;
    }
    if (!o)
        return 0;
    out[o] = '\0';
    return collapse(out, o);
}

size_t kk_text__romaji_key(const char *word, size_t len, char *out, size_t cap)
{
    char kana[256];
    size_t kl = kk_text__romaji_to_kana(word, len, kana, sizeof kana);
    if (!kl)
        return 0;
    return kk_text__kana_key(kana, kl, out, cap);
}
