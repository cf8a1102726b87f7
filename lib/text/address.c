/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/text/address.c - Japanese addresses (see address.h).
 *
 * In text, an address is found from its number: N丁目, N番地, N番, N号,
 * N-N(-N), 漢数字+丁目. Backwards from there the town name (町域) runs
 * over kanji and kana to the municipality's last 市/区/郡/町/村 (or the
 * prefecture, or anything that is not part of a name); forwards, the
 * number chain, then a building name and a room (号室, 階, F) up to the
 * next separator.
 */
#include <ctype.h>
#include <string.h>

#include "text/address.h"

static const char *const prefectures[] = {
    "北海道", "青森", "岩手", "宮城", "秋田", "山形", "福島", "茨城", "栃木", "群馬", "埼玉",
    "千葉", "東京", "神奈川", "新潟", "富山", "石川", "福井", "山梨", "長野", "岐阜", "静岡",
    "愛知", "三重", "滋賀", "京都", "大阪", "兵庫", "奈良", "和歌山", "鳥取", "島根", "岡山",
    "広島", "山口", "徳島", "香川", "愛媛", "高知", "福岡", "佐賀", "長崎", "熊本", "大分",
    "宮崎", "鹿児島", "沖縄", NULL
};

static bool at(const char *s, size_t n, size_t i, const char *lit)
{
    size_t l = strlen(lit);
    return i + l <= n && memcmp(s + i, lit, l) == 0;
}

bool kk_text__prefecture_at(const char *s, size_t n, size_t *len)
{
    for (int p = 0; prefectures[p]; p++) {
        size_t l = strlen(prefectures[p]);
        if (l <= n && memcmp(s, prefectures[p], l) == 0) {
            if (strcmp(prefectures[p], "北海道") != 0 &&
                (at(s, n, l, "都") || at(s, n, l, "府") || at(s, n, l, "県")))
                l += 3;
            *len = l;
            return true;
        }
    }
    return false;
}

/* Length of the UTF-8 character before i (i > 0). */
static size_t prev_len(const char *s, size_t i)
{
    size_t k = 1;
    while (k < i && k < 4 && ((unsigned char)s[i - k] & 0xC0) == 0x80)
        k++;
    return k;
}

static size_t char_len(const char *s, size_t n, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    size_t k = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    return i + k <= n ? k : n - i;
}

/* A character that can be part of a place name: kanji, kana, 々, ヶ, ー. */
static bool name_char(const char *s, size_t n, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    if (c != 0xE3 && (c < 0xE4 || c > 0xE9))
        return false;
    if (i + 3 > n)
        return false;
    unsigned cp = ((c & 0x0F) << 12) | (((unsigned char)s[i + 1] & 0x3F) << 6) |
                  ((unsigned char)s[i + 2] & 0x3F);
    return (cp >= 0x3041 && cp <= 0x3096) || (cp >= 0x30A1 && cp <= 0x30FC) || cp == 0x3005 ||
           (cp >= 0x4E00 && cp <= 0x9FFF);
}

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool kanji_numeral(const char *s, size_t n, size_t i)
{
    static const char *const nums[] = { "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", NULL };
    for (int k = 0; nums[k]; k++)
        if (at(s, n, i, nums[k]))
            return true;
    return false;
}

/* A postal code at i: 〒 + NNN-NNNN / NNNNNNN, or NNN-NNNN. Its length. */
static size_t postal_at(const char *s, size_t n, size_t i, char *first3)
{
    size_t j = i;
    bool mark = false;
    if (at(s, n, j, "〒")) {
        j += 3;
        mark = true;
        while (j < n && s[j] == ' ')
            j++;
    }
    if (j + 7 > n || !digit(s[j]) || !digit(s[j + 1]) || !digit(s[j + 2]))
        return 0;
    if (i > 0 && !mark && (digit(s[i - 1]) || s[i - 1] == '-'))
        return 0;
    size_t k = j + 3;
    if (s[k] == '-')
        k++;
    else if (at(s, n, k, "ー") || at(s, n, k, "−") || at(s, n, k, "‐"))
        k += 3; /* a long vowel mark or a minus typed as the hyphen */
    else if (!mark)
        return 0;
    for (int d = 0; d < 4; d++, k++)
        if (k >= n || !digit(s[k]))
            return 0;
    if (k < n && digit(s[k]))
        return 0;
    if (first3)
        memcpy(first3, s + j, 3), first3[3] = '\0';
    return k - i;
}

/* Where the municipality ends in s[from..to): after the last 市 or 区
 * (a ward of a designated city follows its city), else 郡...町/村, else
 * after the prefecture. 0 when none. */
static size_t head_end(const char *s, size_t from, size_t to)
{
    size_t pl = 0, i = from, end = 0;
    if (kk_text__prefecture_at(s + from, to - from, &pl))
        end = from + pl;
    bool gun = false;
    for (i = from + pl; i < to;) {
        size_t k = char_len(s, to, i);
        /* the first character of a name is never its suffix */
        bool first = i == from + pl || i == end;
        if (!first && (at(s, to, i, "市") || at(s, to, i, "区"))) {
            end = i + 3;
        } else if (!first && at(s, to, i, "郡")) {
            end = i + 3;
            gun = true;
        } else if (!first && gun && (at(s, to, i, "町") || at(s, to, i, "村"))) {
            end = i + 3;
            gun = false;
        }
        i += k;
    }
    return end;
}

kk_span kk_text__address_head(const char *s, size_t n, char *postal3)
{
    kk_span r = { 0, 0 };
    size_t i = 0;
    if (postal3)
        postal3[0] = '\0';
    while (i < n && (s[i] == ' ' || s[i] == '^'))
        i++;
    size_t pl = postal_at(s, n, i, postal3);
    i += pl;
    while (i < n && (s[i] == ' ' || s[i] == '^' || s[i] == ','))
        i++;
    size_t j = i;
    while (j < n && name_char(s, n, j))
        j += char_len(s, n, j);
    /* the municipality is found within the first run of name characters;
     * 市 or 町 inside a town name further on never counts */
    size_t lim = j;
    size_t e = head_end(s, i, lim);
    /* the first 市/区 only (plus a ward after a city), not a later 町域 */
    size_t first = 0;
    for (size_t k = i; k < lim; k += char_len(s, lim, k)) {
        size_t pl2 = 0;
        if (k == i && kk_text__prefecture_at(s + i, lim - i, &pl2)) {
            k += pl2;
            first = k;
            if (k >= lim)
                break;
        }
        if (k > (first ? first : i) && (at(s, lim, k, "市") || at(s, lim, k, "区") ||
                                          at(s, lim, k, "町") || at(s, lim, k, "村"))) {
            first = k + 3;
            /* 政令指定都市: the ward after the city */
            if (at(s, lim, k, "市"))
                for (size_t w = first; w < lim && w < first + 18; w += char_len(s, lim, w))
                    if (at(s, lim, w, "区")) {
                        first = w + 3;
                        break;
                    }
            break;
        }
    }
    if (first)
        e = first;
    if (e > i) {
        r.from = i;
        r.to = e;
    }
    return r;
}

/* The number part at i: digits or kanji numerals followed by 丁目, 番地,
 * 番, 号, the の or - joining them. Its end, or i. */
static size_t number_chain(const char *s, size_t n, size_t i, bool *strong)
{
    size_t j = i, parts = 0;
    *strong = false;
    for (;;) {
        size_t d = j;
        while (d < n && (digit(s[d]) || kanji_numeral(s, n, d)))
            d += digit(s[d]) ? 1 : 3;
        if (d == j)
            break;
        /* 一番町, 四番丁, 八丁堀: a number in kanji whose 番 or 丁 runs on
         * into a name is part of a town's name, not its number */
        if (!digit(s[j]) && (at(s, n, d, "番") || at(s, n, d, "丁")) && name_char(s, n, d + 3) &&
            !kanji_numeral(s, n, d + 3) && !at(s, n, d + 3, "目") && !at(s, n, d + 3, "地") &&
            !at(s, n, d + 3, "の") && !at(s, n, d + 3, "寧")) {
            if (parts == 0)
                return i;
            break;
        }
        size_t e = d;
        if (at(s, n, e, "丁目")) {
            e += 6;
            *strong = true;
        } else if (at(s, n, e, "丁") && !at(s, n, e, "丁寧")) {
            e += 3; /* 中百舌鳥町2丁65番地: 丁 without 目 (堺市, 京都) */
            *strong = true;
        } else if (at(s, n, e, "番地")) {
            e += 6;
            *strong = true;
        } else if (at(s, n, e, "番")) {
            e += 3;
            *strong = true;
        } else if (at(s, n, e, "号室")) {
            e += 6;
            *strong = true;
        } else if (at(s, n, e, "号")) {
            e += 3;
            *strong = true;
        } else if (at(s, n, e, "地割")) {
            e += 6;
            *strong = true;
        }
        parts++;
        j = e;
        if (j < n && s[j] == '-' && j + 1 < n && digit(s[j + 1])) {
            j++;
            continue;
        }
        if (at(s, n, j, "の") && j + 3 < n && digit(s[j + 3])) {
            j += 3;
            continue;
        }
        if (d == e && parts == 1)
            return i; /* a bare number */
        if (d != e && j < n && (digit(s[j]) || kanji_numeral(s, n, j)))
            continue;
        break;
    }
    if (parts >= 3)
        *strong = true; /* 1-2-3 */
    return j > i ? j : i;
}

static bool separator(const char *s, size_t n, size_t i)
{
    return s[i] == ',' || s[i] == '\n' || s[i] == '\r' || s[i] == ';' || s[i] == '(' ||
           s[i] == ')' || at(s, n, i, "、") || at(s, n, i, "。") || at(s, n, i, "，") ||
           at(s, n, i, "　") || at(s, n, i, "（") || at(s, n, i, "）") || s[i] == '^' ||
           s[i] == '\\' || s[i] == '=';
}

/* A word of a building's name: where people live (the first row), or
 * any building an address names. */
static size_t building_word_at(const char *s, size_t n, size_t q, bool home)
{
    static const char *const homes[] = { "マンション", "ハイツ", "コーポ", "アパート", "レジデンス",
                                         "メゾン", "ハイム", "ヴィラ", "ヒルズ", "パレス", "荘",
                                         "寮", "団地", NULL };
    static const char *const others[] = { "ビルディング", "ビル", "タワー", "コート", "プラザ",
                                          "ハウス", "棟", "住宅", "庁舎", "会館", "センター", "館",
                                          NULL };
    for (int w = 0; homes[w]; w++)
        if (at(s, n, q, homes[w]))
            return strlen(homes[w]);
    for (int w = 0; !home && others[w]; w++)
        if (at(s, n, q, others[w]))
            return strlen(others[w]);
    return 0;
}

/* A room's number at q and its 号室 (203号室, 二〇三号室), or three or
 * four digits and 号 (204号: a drug's or a form's number is shorter):
 * its end, or q. */
static size_t room_at(const char *s, size_t n, size_t q)
{
    size_t d = q;
    int chars = 0;
    while (d < n && (digit(s[d]) || kanji_numeral(s, n, d) || at(s, n, d, "〇"))) {
        d += digit(s[d]) ? 1 : 3;
        chars++;
    }
    if (chars >= 1 && chars <= 5 && at(s, n, d, "号室"))
        return d + 6;
    return chars >= 3 && chars <= 4 && at(s, n, d, "号") ? d + 3 : q;
}

static bool hiragana_at(const char *s, size_t n, size_t i);

/* The end of a building and its room from f (a space may stand before
 * them and between them): space-separated words while each holds a
 * building's word, a room (号室), a floor (3階, 2F) or is the room's
 * number after the building (青葉荘 203), cut before a particle
 * (青葉荘203号室にて). With home, a residential building's word and its
 * room must both be there. f when none. */
static size_t building_end(const char *s, size_t n, size_t f, bool home)
{
    size_t end = f, k = f;
    bool building = false, room = false;
    for (int w = 0; w < 3 && k < n; w++) {
        size_t a = k;
        if (s[a] == ' ')
            a++;
        size_t z = a;
        while (z < n && z < a + 60 && s[z] != ' ' && !separator(s, n, z))
            z += char_len(s, n, z);
        size_t last = a; /* the end of the last part of an address */
        bool digits = true;
        for (size_t q = a; q < z;) {
            size_t l = building_word_at(s, z, q, home), r = room_at(s, z, q);
            if (l) {
                building = true;
                last = q + l;
                q += l;
            } else if (r > q) {
                room = true;
                last = q = r;
            } else if (digit(s[q]) && (at(s, z, q + 1, "階") || at(s, z, q + 1, "F") || at(s, z, q + 1, "号"))) {
                room = room || !home;
                q += 1;
                last = q += at(s, z, q, "F") ? 1 : 3;
            } else {
                digits = digits && digit(s[q]);
                q += char_len(s, z, q);
            }
        }
        /* the room's number alone after the building: 青葉荘 203 */
        if (last == a && digits && building && z > a && z - a <= 5) {
            room = true;
            last = z;
        }
        if (last == a)
            break;
        /* the rest of the word, up to a particle (hiragana but の) */
        size_t e = last;
        while (e < z && !(hiragana_at(s, z, e) && !at(s, z, e, "の")))
            e += char_len(s, z, e);
        if (!building && !room)
            break;
        end = e;
        if (e < z)
            break;
        k = z;
    }
    if (home && !(building && room))
        return f;
    return end;
}

/* Where the town name before i starts: kanji and kana, and the numbered
 * blocks of Hokkaido's grid towns (北1条西, 東3線). */
static size_t town_start(const char *s, size_t n, size_t i)
{
    size_t b = i;
    for (;;) {
        while (b > 0 && name_char(s, n, b - prev_len(s, b)))
            b -= prev_len(s, b);
        size_t d = b;
        while (d > 0 && digit(s[d - 1]))
            d--;
        if (d < b && d > 0 && b < i && (at(s, n, b, "条") || at(s, n, b, "線")) &&
            name_char(s, n, d - prev_len(s, d))) {
            b = d;
            continue;
        }
        return b;
    }
}

/* True when s[b..i) is a municipality and then a town name of 1-8
 * characters (〜区千代田), 1-20 in Kyoto, where the streets of the crossing
 * come first (〜区河原町通二条上ル清水町), or holds 大字/字 (an old village
 * block). */
static bool town_before(const char *s, size_t b, size_t i)
{
    if (b >= i)
        return false;
    for (size_t q = b; q < i; q += char_len(s, i, q))
        if (at(s, i, q, "字"))
            return q + 3 < i;
    size_t he = head_end(s, b, i);
    size_t max = 8;
    for (size_t q = he; q < i; q += char_len(s, i, q))
        if (at(s, i, q, "上ル") || at(s, i, q, "下ル") || at(s, i, q, "入ル") || at(s, i, q, "上る") ||
            at(s, i, q, "下る") || at(s, i, q, "入る"))
            max = 20;
    return he > b && he < i && i - he <= max * 3;
}

/* A number with 号, 号室 or 番 alone (3号, 21番) that is no address: a
 * drug, a room, a chromosome, a category (2号液, 2号室, 21番染色体,
 * ソリタT3号, フィジオゾール3号, 維持液3号, 第3号) with no town before it.
 * A town (三軒茶屋3番) or a building's room (グランハイツ201号室) before
 * it keeps it an address. */
static bool lone_number(const char *s, size_t b, size_t i, size_t e)
{
    size_t d = i;
    while (d < e && (digit(s[d]) || kanji_numeral(s, e, d)))
        d += digit(s[d]) ? 1 : 3;
    bool room = d + 6 == e && at(s, e, d, "号室");
    if (!room && !(d + 3 == e && (at(s, e, d, "号") || at(s, e, d, "番"))))
        return false;
    if (b == i)
        return true;
    if (room || town_before(s, b, i))
        return false;
    size_t p = i - prev_len(s, i);
    unsigned cp = (((unsigned char)s[p] & 0x0F) << 12) | (((unsigned char)s[p + 1] & 0x3F) << 6) |
                  ((unsigned char)s[p + 2] & 0x3F);
    return (cp >= 0x30A1 && cp <= 0x30FC) || at(s, i, p, "液") || at(s, i, p, "第");
}

static bool hiragana_at(const char *s, size_t n, size_t i)
{
    if (i + 3 > n || (unsigned char)s[i] != 0xE3)
        return false;
    unsigned cp = (((unsigned char)s[i + 1] & 0x3F) << 6) | ((unsigned char)s[i + 2] & 0x3F);
    cp |= 0x3000;
    return cp >= 0x3041 && cp <= 0x3096;
}

/* A town named with no number after it, right after a prefecture and its
 * municipality (東京都港区六本木, 京都市中京区河原町通二条上る清水町): the
 * run of name characters after the municipality, less a hiragana tail
 * (〜区三軒茶屋にある), unless it says where someone lives or comes from
 * (在住, 出身) rather than naming a town. Its span in *sp; false when none.
 * After a word for home (自宅は平塚市八重咲町) the prefecture may be
 * left out: home says the town is someone's. */
static bool bare_town(const char *s, size_t n, size_t i, kk_span *sp, bool home)
{
    static const char *const not_towns[] = { "在住", "出身", "在", "内", "方面", "近郊", "周辺",
                                             "所在", "生まれ", "居住", "出生", "の", NULL };
    size_t pl = 0;
    if (!kk_text__prefecture_at(s + i, n - i, &pl) && !home)
        return false;
    size_t lim = i;
    while (lim < n && name_char(s, n, lim))
        lim += char_len(s, n, lim);
    size_t he = head_end(s, i, lim);
    if (he <= i + pl || he >= lim || hiragana_at(s, n, he))
        return false;
    for (int k = 0; not_towns[k]; k++)
        if (at(s, lim, he, not_towns[k]))
            return false;
    size_t e = lim;
    while (e > he && hiragana_at(s, n, e - 3))
        e -= 3;
    if (e <= he || e - he > 16 * 3)
        return false;
    sp->from = he;
    sp->to = e;
    return true;
}

/* A word for someone's home and what joins it to the place (自宅は,
 * 実家：, 住所 ): the end of both, or i. */
static size_t home_cue_end(const char *s, size_t n, size_t i)
{
    static const char *const cues[] = { "現住所", "住所", "自宅", "実家", "居住地", "住まい", "転居先",
                                        NULL };
    static const char *const joins[] = { "は", "が", "の", "：", ":", " ", "　", NULL };
    for (int c = 0; cues[c]; c++) {
        if (!at(s, n, i, cues[c]))
            continue;
        size_t e = i + strlen(cues[c]), e0 = e;
        for (bool more = true; more;) {
            more = false;
            for (int j = 0; joins[j]; j++)
                if (at(s, n, e, joins[j])) {
                    e += strlen(joins[j]);
                    more = true;
                    break;
                }
        }
        return e > e0 ? e : i;
    }
    return i;
}

size_t kk_text__address_spans(const char *s, size_t n, bool keep_head, kk_span *spans,
                              size_t max)
{
    size_t ns = 0;
    for (size_t i = 0; i < n && ns < max;) {
        size_t pl = postal_at(s, n, i, NULL);
        if (pl) {
            spans[ns].from = i;
            spans[ns].to = i + pl;
            ns++;
            i += pl;
            continue;
        }
        bool strong = false;
        bool start_ok = i == 0 || !digit(s[i - 1]);
        bool numeral = start_ok && (digit(s[i]) || kanji_numeral(s, n, i));
        size_t e = numeral ? number_chain(s, n, i, &strong) : i;
        /* backwards: the town name, to the municipality; none before an
         * ordinal or a letter's number (右第2-3-4肋骨, 肝S5-6-8, C3-4-5) */
        size_t b = numeral ? town_start(s, n, i) : i;
        if (b < i && ((i - b >= 3 && at(s, i, i - 3, "第")) || isalpha((unsigned char)s[i - 1])))
            b = i;
        if (numeral && !strong && digit(s[i]) && town_before(s, b, i)) {
            /* 千代田区千代田1-1, 大字仲原2500: digits alone after a town that
             * follows its municipality are its 番地 */
            size_t j = i;
            while (j < n && (digit(s[j]) || (s[j] == '-' && j + 1 < n && digit(s[j + 1]))))
                j++;
            if (j == n || s[j] == ' ' || separator(s, n, j) || at(s, n, j, "の")) {
                e = j;
                strong = true;
            }
        }
        if (e == i || !strong || lone_number(s, b, i, e)) {
            i += char_len(s, n, i);
            continue;
        }
        bool marker = false; /* 丁目, 番地, 番, 号 in the chain */
        for (size_t q = i; q < e; q++)
            if ((unsigned char)s[q] >= 0x80)
                marker = true;
        if (b == i && !marker) {
            /* digits and hyphens with no town name before them: a number
             * (My Number, a phone), not an address */
            i = e;
            continue;
        }
        size_t keep_to = b;
        if (keep_head && b < i) {
            size_t he = head_end(s, b, i);
            /* the town name must be left to remove: 〜市本町1-2 */
            if (he && he < i)
                keep_to = he;
        }
        /* forwards: a building and room */
        size_t f = building_end(s, n, e, false);
        spans[ns].from = keep_to;
        spans[ns].to = f;
        ns++;
        i = f > i ? f : i + 1;
    }
    /* a home's building and room with no town before them (青葉荘
     * 二〇三号室, グランメゾン新宿 305号室): residential words only, as
     * a hospital's ward has rooms too (西病棟 305号室) */
    for (size_t i = 0; i < n && ns < max;) {
        size_t f = i;
        if (i == 0 || !(name_char(s, n, i - prev_len(s, i)) || digit(s[i - 1])))
            f = building_end(s, n, i, true);
        bool covered = false;
        for (size_t k = 0; k < ns && !covered; k++)
            covered = spans[k].from < f && i < spans[k].to;
        if (f > i && !covered) {
            spans[ns].from = i;
            spans[ns].to = f;
            ns++;
            /* and its town in brackets after it: （新宿区百人町） */
            size_t bl = at(s, n, f, "（") ? 3 : f < n && s[f] == '(' ? 1 : 0;
            kk_span t;
            if (bl && ns < max && bare_town(s, n, f + bl, &t, true)) {
                if (!keep_head)
                    t.from = f + bl;
                spans[ns++] = t;
                f = t.to;
            }
            i = f;
        } else {
            i += char_len(s, n, i);
        }
    }
    /* towns with no number, where no span above covers them */
    for (size_t i = 0; i < n && ns < max; i += char_len(s, n, i)) {
        if (i > 0 && name_char(s, n, i - prev_len(s, i)))
            continue;
        kk_span t;
        size_t h = home_cue_end(s, n, i);
        if (!bare_town(s, n, h, &t, h > i))
            continue;
        bool covered = false;
        for (size_t k = 0; k < ns && !covered; k++)
            covered = spans[k].from < t.to && t.from < spans[k].to;
        if (!covered) {
            if (!keep_head)
                t.from = h;
            t.to = building_end(s, n, t.to, false);
            spans[ns++] = t;
        }
    }
    /* in the order of the text (the later passes append) */
    for (size_t a = 1; a < ns; a++)
        for (size_t b = a; b > 0 && spans[b - 1].from > spans[b].from; b--) {
            kk_span t = spans[b];
            spans[b] = spans[b - 1];
            spans[b - 1] = t;
        }
    return ns;
}
