/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/text/address_latin.c - addresses written in Latin script inside free
 * text (R17): "972 Station Road, Lakeside", "Flat 3, 221B Baker Street,
 * London NW1 6XE", "7 Rue de Rivoli, 75001 Paris", "Hauptstrasse 17",
 * "P.O. Box 12", and Japanese addresses in romaji: "3-12-5 Hongo,
 * Bunkyo-ku, Tokyo", "Room 1203, Sunrise Mansion, 2-4-6 Minami-Aoyama".
 *
 * An address is found by its anchor: a house number next to a street word,
 * a chome-ban-go chain next to a town name, a numbered block of a town
 * (2-chome, 5-jo, 3-banchi, "3 Chome-5-12"; Sapporo's grid "Kita 14 Nishi
 * 5", "N5 W2"), an Aza/Oaza village block, or a Kyoto crossing (Karasuma-dori
 * Shijo sagaru, Nijo-agaru, nishi-iru). From the anchor it grows
 * backwards over a room and a building, and forwards over the
 * comma-separated parts that follow while each looks like a place (words
 * in capitals, a state code, a postcode, a ward); a romaji address also
 * grows backwards over its town name, directions and numbers (3-1 Kita
 * 5-jo). With keep_head the prefecture (Kanagawa-ken), a romaji
 * municipality (-shi, -ku, -gun, a designated city, "Naka Ward"), a US
 * state code and a country stay, as the prefecture and municipality do in
 * Japanese text; towns, streets and numbers always go.
 * Works on width-folded UTF-8 (ASCII letters, digits, hyphens). Pure
 * functions; thread-safe.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "text/address.h"

#define MAXTOK 256

typedef struct tok {
    size_t from, to;  /* the word, bytes [from, to) */
    bool comma_after; /* a comma between it and the next word */
    bool stop_after;  /* a clause ends after it: . ; : ( ) newline, end */
} tok;

static bool word_byte(const char *s, size_t n, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    if (isalnum(c) || c == '\'' || c == '-' || c == '/' || c == '#')
        return true;
    /* Latin letters with diacritics (U+00C0-U+017F): Ō in Ōtsuka */
    if (c >= 0xC3 && c <= 0xC5 && i + 1 < n)
        return true;
    return c >= 0x80 && c <= 0xBF && i > 0 && (unsigned char)s[i - 1] >= 0xC3 &&
           (unsigned char)s[i - 1] <= 0xC5;
}

/* Words and what separates them; a period after an abbreviation (St.,
 * Ave., P.O.) does not end the clause. */
static size_t tokenize(const char *s, size_t n, tok *t, size_t max)
{
    size_t nt = 0;
    for (size_t i = 0; i < n && nt < max;) {
        if (!word_byte(s, n, i)) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && word_byte(s, n, j))
            j++;
        while (j > i + 1 && (s[j - 1] == '-' || s[j - 1] == '/'))
            j--;
        t[nt].from = i;
        t[nt].to = j;
        t[nt].comma_after = t[nt].stop_after = false;
        size_t k = j;
        bool abbrev = j - i <= 4 && isupper((unsigned char)s[i]);
        while (k < n && !word_byte(s, n, k)) {
            char c = s[k];
            if (c == ',')
                t[nt].comma_after = true;
            else if (c == ';' || c == ':' || c == '(' || c == ')' || c == '\n' || c == '\r' ||
                     c == '[' || c == ']' || c == '|' || (unsigned char)c >= 0x80)
                t[nt].stop_after = true;
            else if (c == '.' && !(abbrev && k == j))
                t[nt].stop_after = true;
            k++;
        }
        if (k >= n)
            t[nt].stop_after = true;
        nt++;
        i = k;
    }
    return nt;
}

static size_t tlen(const tok *t)
{
    return t->to - t->from;
}

static bool word_is(const char *s, const tok *t, const char *const *list)
{
    size_t l = tlen(t);
    /* the first letter, in either case, before the length (lists are long) */
    unsigned char c = (unsigned char)s[t->from] | 0x20;
    for (; *list; list++)
        if (((unsigned char)**list | 0x20) == c && strlen(*list) == l &&
            strncasecmp(s + t->from, *list, l) == 0)
            return true;
    return false;
}

static bool ends_with(const char *s, const tok *t, const char *const *list)
{
    size_t l = tlen(t);
    for (; *list; list++) {
        size_t m = strlen(*list);
        if (l > m + 2 && strncasecmp(s + t->to - m, *list, m) == 0)
            return true;
    }
    return false;
}

static bool capital(const char *s, const tok *t)
{
    unsigned char c = (unsigned char)s[t->from];
    if (tlen(t) < 2)
        return false;
    if (isupper(c))
        return true;
    /* À-Þ, Ā Ē Ī Ō Ū (even code points of Latin Extended-A) */
    unsigned char c2 = (unsigned char)s[t->from + 1];
    return (c == 0xC3 && c2 >= 0x80 && c2 <= 0x9E) || (c == 0xC4 && !(c2 & 1)) ||
           (c == 0xC5 && !(c2 & 1));
}

static bool all_digits(const char *s, size_t a, size_t b)
{
    if (a >= b)
        return false;
    for (size_t i = a; i < b; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* 12, 221B, 12-14, 12/3, #4 */
static bool house_number(const char *s, const tok *t)
{
    size_t a = t->from, b = t->to;
    if (s[a] == '#')
        a++;
    size_t d = a;
    while (d < b && isdigit((unsigned char)s[d]))
        d++;
    if (d == a || d - a > 5)
        return false;
    if (d == b)
        return true;
    if (d + 1 == b && isalpha((unsigned char)s[d]))
        return true;
    if ((s[d] == '-' || s[d] == '/') && d + 1 < b) {
        size_t e = d + 1;
        while (e < b && isdigit((unsigned char)s[e]))
            e++;
        return e > d + 1 && e - d - 1 <= 5 && (e == b || (e + 1 == b && isalpha((unsigned char)s[e])));
    }
    return false;
}

/* 3-12-5 (parts 1-4 digits); *parts receives how many */
static bool chome_chain(const char *s, const tok *t, int *parts)
{
    int p = 0;
    size_t i = t->from;
    while (i < t->to) {
        size_t d = i;
        while (d < t->to && isdigit((unsigned char)s[d]))
            d++;
        if (d == i || d - i > 4)
            return false;
        p++;
        if (d == t->to)
            break;
        if (s[d] != '-' || d + 1 == t->to)
            return false;
        i = d + 1;
    }
    *parts = p;
    return p >= 2;
}

static const char *const street_words[] = {
    "Street", "St", "Road", "Rd", "Avenue", "Ave", "Av", "Lane", "Ln", "Drive", "Dr",
    "Boulevard", "Blvd", "Court", "Ct", "Place", "Pl", "Way", "Terrace", "Tce", "Close",
    "Crescent", "Cres", "Square", "Sq", "Highway", "Hwy", "Parkway", "Pkwy", "Circle", "Cir",
    "Trail", "Trl", "Row", "Gardens", "Gdns", "Grove", "Mews", "Walk", "Hill", "Parade", "Pde",
    "Esplanade", "Broadway", "Alley", "Expressway", "Pike", "Turnpike", "Causeway", "Wharf",
    "Quay", "Strasse", "Straße", "Str", "Weg", "Gasse", "Allee", "Platz", "Dori", "Doori",
    "Kaido", "Street.", NULL
};
/* a street word written first: 7 Rue de Rivoli, Via Roma 12 */
static const char *const street_first[] = {
    "Rue", "Avenida", "Calle", "Via", "Viale", "Piazza", "Rua", "Paseo", "Carrer", "Chemin",
    "Route", "Plaza", "Boulevard", "Avenue", "Place", "Corso", "Largo", "Travessa", NULL
};
/* German and Dutch compounds: Hauptstrasse 17, Kerkstraat 5 */
static const char *const street_endings[] = {
    "strasse", "straße", "str", "weg", "gasse", "allee", "platz", "straat", "laan", "gracht",
    "plein", "vej", "gatan", "vägen", "-ro", "-gil", NULL
};
/* small words inside a street name: Rue de la Paix, Avenue of the Americas */
static const char *const particles[] = {
    "de", "la", "le", "les", "du", "des", "del", "della", "di", "da", "do", "dos", "van", "von",
    "der", "den", "of", "the", "on", "upon", "y", "e", "am", "an", "St", "Saint", NULL
};
static const char *const unit_words[] = {
    "Apt", "Apartment", "Flat", "Unit", "Suite", "Ste", "Room", "Rm", "Floor", "Fl", "Level",
    "Building", "Bldg", "Block", "Blk", "Lot", "House", NULL
};
static const char *const building_words[] = {
    "Mansion", "Mansions", "House", "Building", "Bldg", "Tower", "Towers", "Court", "Heights",
    "Residence", "Residences", "Apartments", "Hall", "Lodge", "Manor", "Plaza", "Heim",
    "Haitsu", "Kopo", "Corpo", "Villa", "Palace", "Hills", "Estate", "Maison", "Coop", NULL
};
/* Japanese municipalities in romaji: Bunkyo-ku, Yokohama-shi, Aiko-gun */
static const char *const municipal_endings[] = { "-ku", "-shi", "-gun", " ku", "-ken", NULL };
/* the designated cities (政令指定都市), municipalities without a suffix */
static const char *const cities[] = {
    "Sapporo", "Sendai", "Saitama", "Chiba", "Yokohama", "Kawasaki", "Sagamihara", "Niigata",
    "Shizuoka", "Hamamatsu", "Nagoya", "Kyoto", "Osaka", "Sakai", "Kobe", "Okayama",
    "Hiroshima", "Kitakyushu", "Fukuoka", "Kumamoto", NULL
};
/* a municipality's kind after its name, as map services write it: Naka Ward */
static const char *const municipal_kinds[] = { "Ward", "City", NULL };
/* the numbered blocks of a town: 2-chome (丁目), 5-jo (条), 3-sen (線),
 * 4-banchi (番地), 2-chiwari (地割); ban (番) and go (号) are blocks only
 * beside one of these, being English words or drug numbers (5-FU 2 go) */
static const char *const blocks[] = {
    "chome", "choume", "choome", "chōme", "jo", "jō", "jou", "joh", "sen", "banchi", "chiwari",
    "jonishi", "johigashi", "jōnishi", "jōhigashi", NULL
};
static const char *const minor_blocks[] = { "ban", "go", "gō", "gou", "goh", NULL };
/* Sapporo's grid and the parts of Hokkaido towns: Kita 5-jo Nishi 2-chome */
static const char *const directions[] = { "Kita", "Minami", "Higashi", "Nishi", NULL };
/* Kyoto: 上ル, 下ル, 西入ル, 東入ル after the crossing street */
static const char *const kyoto_words[] = { "agaru", "sagaru", "nishi-iru", "higashi-iru",
                                           "nishiiru", "higashiiru", NULL };
static const char *const kyoto_endings[] = { "-agaru", "-sagaru", "-iru", NULL };
/* a village block (字, 大字) before its name; never AZA, azathioprine */
static const char *const aza_words[] = { "Aza", "aza", "Oaza", "oaza", "Ōaza", "Ooaza", NULL };
/* towns and villages, which go like any town: Sample-cho, Kita-machi */
static const char *const town_endings[] = { "-cho", "-machi", "-mura", "-son", "-chome", "-cyo", NULL };
/* the same written in one word: Kioicho, Honmachi, Sakuragicho */
static const char *const town_suffixes[] = { "cho", "chou", "machi", "mura", NULL };
static const char *const prefectures[] = {
    "Hokkaido", "Aomori", "Iwate", "Miyagi", "Akita", "Yamagata", "Fukushima", "Ibaraki",
    "Tochigi", "Gunma", "Saitama", "Chiba", "Tokyo", "Kanagawa", "Niigata", "Toyama",
    "Ishikawa", "Fukui", "Yamanashi", "Nagano", "Gifu", "Shizuoka", "Aichi", "Mie", "Shiga",
    "Kyoto", "Osaka", "Hyogo", "Nara", "Wakayama", "Tottori", "Shimane", "Okayama",
    "Hiroshima", "Yamaguchi", "Tokushima", "Kagawa", "Ehime", "Kochi", "Fukuoka", "Saga",
    "Nagasaki", "Kumamoto", "Oita", "Miyazaki", "Kagoshima", "Okinawa", "Tokyo-to",
    "Osaka-fu", "Kyoto-fu", "Hokkaidō", "Tōkyō", "Ōsaka", "Kyōto", "Hyōgo", "Kōchi",
    "Ōita", NULL
};
static const char *const countries[] = {
    "Japan", "USA", "US", "U.S.A", "UK", "England", "Scotland", "Wales", "Ireland", "Canada",
    "Australia", "Germany", "France", "Italy", "Spain", "Netherlands", "Korea", "China",
    "Taiwan", NULL
};
/* words before a number that make it a measure, not an address */
static const char *const not_towns[] = {
    "Grade", "Stage", "Type", "Level", "Score", "Phase", "Series", "Image", "Images", "Slice",
    "Slices", "Figure", "Fig", "Table", "Day", "Days", "Week", "Weeks", "Cycle", "Cycles",
    "Segment", "Segments", "Lines", "Line", "Frame", "Frames", "Run", "Runs", "Bed", "Dose",
    "Vol", "No", "Ref", "Page", "Step", "Class", "Zone", "Lead", "Leads", "Ribs", "Rib",
    "Vertebrae", "Levels", "Bi-RADS", "BIRADS", "TNM", "Gleason", "PI-RADS", "NYHA", NULL
};
static const char *const us_states[] = {
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN",
    "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH",
    "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
    "VT", "VA", "WA", "WV", "WI", "WY", NULL
};

static bool street_word(const char *s, const tok *t)
{
    return word_is(s, t, street_words);
}

static bool compound_street(const char *s, const tok *t)
{
    return capital(s, t) && ends_with(s, t, street_endings);
}

static bool name_word(const char *s, const tok *t)
{
    return capital(s, t) || word_is(s, t, particles);
}

/* [a, b) is one of list, ignoring case */
static bool bytes_are(const char *s, size_t a, size_t b, const char *const *list)
{
    tok w = { a, b, false, false };
    return a < b && word_is(s, &w, list);
}

/* A town block inside one word: 2-chome, 5-jo, 5jo, Kita-5-jo-Nishi-2-chome,
 * and map services' Chome-5-12 (3 Chome-5-12 Sakae). *major: a block of
 * blocks[] in it, not only ban or go. */
static bool block_in(const char *s, const tok *t, bool *major)
{
    bool any = false;
    *major = false;
    for (const char *const *w = blocks; *w; w++) {
        size_t l = strlen(*w);
        if (tlen(t) > l + 1 && strncasecmp(s + t->from, *w, l) == 0 && s[t->from + l] == '-' &&
            isdigit((unsigned char)s[t->from + l + 1]))
            any = *major = true;
    }
    for (size_t i = t->from; i < t->to;) {
        if (!isdigit((unsigned char)s[i])) {
            i++;
            continue;
        }
        size_t d = i;
        while (d < t->to && isdigit((unsigned char)s[d]))
            d++;
        size_t w = d < t->to && s[d] == '-' ? d + 1 : d;
        size_t e = w;
        while (e < t->to && s[e] != '-' && !isdigit((unsigned char)s[e]))
            e++;
        if (bytes_are(s, w, e, blocks))
            any = *major = true;
        else if (bytes_are(s, w, e, minor_blocks))
            any = true;
        i = d;
    }
    return any;
}

/* A town block at word i: one word (2-chome) or a number and its word
 * (2 chome, 5 Jo, 5 ban); how many words, 0 when none. */
static size_t block_at(const char *s, const tok *t, size_t nt, size_t i, bool *major)
{
    if (block_in(s, &t[i], major))
        return 1;
    if (i + 1 < nt && tlen(&t[i]) <= 3 && all_digits(s, t[i].from, t[i].to) && !t[i].comma_after &&
        !t[i].stop_after) {
        *major = word_is(s, &t[i + 1], blocks);
        if (*major || word_is(s, &t[i + 1], minor_blocks))
            return 2;
    }
    return 0;
}

/* A Kyoto crossing's direction: agaru, Nijo-agaru, nishi-iru */
static bool kyoto_word(const char *s, const tok *t)
{
    size_t l = tlen(t);
    for (const char *const *w = kyoto_endings; *w; w++) {
        size_t m = strlen(*w);
        if (l > m && strncasecmp(s + t->to - m, *w, m) == 0)
            return true;
    }
    return word_is(s, t, kyoto_words);
}

/* Aza, Oaza as written (AZA is azathioprine) */
static bool aza_word(const char *s, const tok *t)
{
    for (const char *const *w = aza_words; *w; w++)
        if (strlen(*w) == tlen(t) && strncmp(s + t->from, *w, tlen(t)) == 0)
            return true;
    return false;
}

/* Aza and the block's name in one word: Oaza-Shimo, Aza-Asato */
static bool aza_joined(const char *s, const tok *t)
{
    for (const char *const *w = aza_words; *w; w++) {
        size_t l = strlen(*w);
        if (tlen(t) > l + 2 && strncmp(s + t->from, *w, l) == 0 && s[t->from + l] == '-' &&
            isupper((unsigned char)s[t->from + l + 1]))
            return true;
    }
    return false;
}

/* A word that stays with keep_head: prefecture, municipality, country */
static bool head_word(const char *s, const tok *t)
{
    return word_is(s, t, prefectures) || word_is(s, t, countries) || word_is(s, t, cities) ||
           ends_with(s, t, municipal_endings);
}

/* A capitalised word that can name a town: not a measure's word, a unit,
 * a head word, or an abbreviation in capitals (CT 2-3-4, MRI). */
static bool town_word(const char *s, const tok *t)
{
    if (!capital(s, t) || word_is(s, t, not_towns) || word_is(s, t, unit_words) ||
        word_is(s, t, municipal_kinds) || head_word(s, t))
        return false;
    if (tlen(t) > 3)
        return true;
    for (size_t i = t->from; i < t->to; i++)
        if (!isupper((unsigned char)s[i]))
            return true;
    return false;
}

/* Part of a romaji address's number: 3-1, 12, 5-jo, "5 Jo", Kita, agaru */
static bool romaji_part(const char *s, const tok *t, size_t p)
{
    bool major;
    int parts;
    return house_number(s, &t[p]) || chome_chain(s, &t[p], &parts) || block_in(s, &t[p], &major) ||
           word_is(s, &t[p], directions) || kyoto_word(s, &t[p]) || aza_word(s, &t[p]) ||
           (p > 0 && all_digits(s, t[p - 1].from, t[p - 1].to) &&
            (word_is(s, &t[p], blocks) || word_is(s, &t[p], minor_blocks)));
}

/* Where a romaji address that starts at word a really starts: over its
 * numbers, blocks and directions (3-1 Kita 5-jo, "5-3, Shibaura 3-chome")
 * and up to two town names (Kichijoji Honcho 1-2-3) in the same clause; the municipality and
 * prefecture before them (Setagaya-ku Sangenjaya 1-2-3) only without
 * keep_head. */
static size_t romaji_start(const char *s, const tok *t, size_t a, bool keep_head)
{
    int towns = 0, parts;
    /* a comma ends it, but for the numbers before it (5-3, Shibaura
     * 3-chome) */
    while (a > 0 && !t[a - 1].stop_after &&
           (!t[a - 1].comma_after || chome_chain(s, &t[a - 1], &parts))) {
        if (head_word(s, &t[a - 1])) {
            if (keep_head)
                break;
        } else if (!romaji_part(s, t, a - 1)) {
            if (!town_word(s, &t[a - 1]) || ++towns > 2)
                break;
        }
        a--;
    }
    return a;
}

/* A ward, city or prefecture within the clause around word i: three words
 * back, four on */
static bool ward_near(const char *s, const tok *t, size_t nt, size_t i)
{
    for (size_t j = i + 1; j < nt && j <= i + 4 && !t[j - 1].stop_after; j++)
        if (ends_with(s, &t[j], municipal_endings) || ends_with(s, &t[j], town_endings) ||
            word_is(s, &t[j], prefectures) || word_is(s, &t[j], cities) ||
            word_is(s, &t[j], municipal_kinds))
            return true;
    for (size_t j = i; j > 0 && j + 3 > i && !t[j - 1].stop_after; j--)
        if (ends_with(s, &t[j - 1], town_endings) || ends_with(s, &t[j - 1], municipal_endings))
            return true;
    return false;
}

/* NW1 6XE, SW1A 1AA (two words), K1A 0B1 */
static bool postcode_pair(const char *s, const tok *a, const tok *b)
{
    size_t la = tlen(a), lb = tlen(b);
    const char *p = s + a->from, *q = s + b->from;
    if (la >= 2 && la <= 4 && lb == 3 && isupper((unsigned char)p[0]) && isdigit((unsigned char)q[0]) &&
        isupper((unsigned char)q[1]) && isupper((unsigned char)q[2])) {
        bool digit = false;
        for (size_t i = 1; i < la; i++) {
            if (!isalnum((unsigned char)p[i]) || islower((unsigned char)p[i]))
                return false;
            digit |= isdigit((unsigned char)p[i]) != 0;
        }
        return digit;
    }
    /* Canada: A1A 1A1 */
    return la == 3 && lb == 3 && isupper((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
           isupper((unsigned char)p[2]) && isdigit((unsigned char)q[0]) && isupper((unsigned char)q[1]) &&
           isdigit((unsigned char)q[2]);
}

/* What a word after an address's anchor may be, and still be part of it. */
enum { PART_NO, PART_PLACE, PART_KEEP };

static int place_word(const char *s, const tok *t, size_t nt, size_t k, bool keep_head)
{
    const tok *w = &t[k];
    /* Naka Ward, Shinjuku City: the municipality as map services write it */
    bool kind_after = k + 1 < nt && !w->comma_after && !w->stop_after &&
                      word_is(s, &t[k + 1], municipal_kinds) && capital(s, w);
    if (head_word(s, w) || word_is(s, w, municipal_kinds) || kind_after)
        return keep_head ? PART_KEEP : PART_PLACE;
    if (tlen(w) == 2 && word_is(s, w, us_states))
        return keep_head ? PART_KEEP : PART_PLACE;
    if (capital(s, w) || word_is(s, w, particles) || word_is(s, w, unit_words))
        return PART_PLACE;
    /* postcodes and unit numbers: 12345, 75001, 113-0033, 4B; blocks:
     * 5-go, "2 chome 5 ban 1 go"; Kyoto's agaru */
    if (house_number(s, w) || all_digits(s, w->from, w->to) || romaji_part(s, t, k))
        return PART_PLACE;
    return PART_NO;
}

static size_t add_span(kk_span *spans, size_t ns, size_t max, size_t from, size_t to)
{
    if (from >= to || ns >= max)
        return ns;
    if (ns && spans[ns - 1].to >= from && spans[ns - 1].from <= from) {
        if (to > spans[ns - 1].to)
            spans[ns - 1].to = to;
        return ns;
    }
    spans[ns].from = from;
    spans[ns].to = to;
    return ns + 1;
}

/* A building's name ending at word p: up to 4 capitalised words in a
 * row, one of them its kind (Sunrise Mansion, Maison Ikebukuro, Lions
 * Mansion Shinjuku); before a room number (room), any town-like words
 * (Leopalace Sakura 205). Its first word, or SIZE_MAX when p ends none. */
static size_t building_start(const char *s, const tok *t, size_t p, bool room)
{
    size_t q = p + 1;
    bool kind = false, towns = true;
    while (q > 0 && q + 4 > p + 1 && capital(s, &t[q - 1]) &&
           (q == p + 1 || (!t[q - 1].stop_after && !t[q - 1].comma_after))) {
        q--;
        kind |= word_is(s, &t[q], building_words);
        towns &= town_word(s, &t[q]);
    }
    return q <= p && (kind || (room && towns)) ? q : SIZE_MAX;
}

/* N5, W12: a letter of the compass and a block number (北5条, 西12丁目) */
static bool compass(const char *s, const tok *t, const char *letters)
{
    return tlen(t) >= 2 && tlen(t) <= 3 && strchr(letters, s[t->from]) &&
           all_digits(s, t->from + 1, t->to);
}

/* The first word of the anchor [a, b] (inclusive) when one is there:
 * *b receives its last word. */
static bool anchor_at(const char *s, const tok *t, size_t nt, size_t i, bool keep_head, size_t *a,
                      size_t *b)
{
    /* 12 Elm Street; 221B Baker St.; 7 Rue de Rivoli; 17 Hauptstrasse */
    if (house_number(s, &t[i]) && !t[i].stop_after && !t[i].comma_after && i + 1 < nt) {
        if (compound_street(s, &t[i + 1]) || (word_is(s, &t[i + 1], street_first) && capital(s, &t[i + 1]))) {
            size_t j = i + 1;
            while (j + 1 < nt && j < i + 5 && !t[j].stop_after && !t[j].comma_after &&
                   name_word(s, &t[j + 1]))
                j++;
            *a = i;
            *b = j;
            return true;
        }
        for (size_t j = i + 1; j < nt && j <= i + 5; j++) {
            if (j > i + 1 && street_word(s, &t[j]) && capital(s, &t[j])) {
                *a = i;
                *b = j;
                return true;
            }
            if (!name_word(s, &t[j]) || t[j].stop_after || t[j].comma_after)
                break;
        }
    }
    /* Hauptstrasse 17; Via Roma 12; Calle Mayor 5 */
    if (capital(s, &t[i]) && (compound_street(s, &t[i]) || word_is(s, &t[i], street_first))) {
        size_t j = i;
        while (j + 1 < nt && j < i + 4 && !t[j].stop_after && !t[j].comma_after &&
               !house_number(s, &t[j + 1]) && name_word(s, &t[j + 1]))
            j++;
        if (j + 1 < nt && !t[j].stop_after && house_number(s, &t[j + 1]) &&
            (j > i || compound_street(s, &t[i]))) {
            *a = i;
            *b = j + 1;
            return true;
        }
    }
    /* PO Box 123, P.O. Box 123 */
    if (i + 2 < nt && (word_is(s, &t[i], (const char *const[]){ "PO", "P.O", "POB", NULL })) &&
        word_is(s, &t[i + 1], (const char *const[]){ "Box", NULL }) && all_digits(s, t[i + 2].from, t[i + 2].to)) {
        *a = i;
        *b = i + 2;
        return true;
    }
    /* romaji: 3-12-5 Hongo; Minami-Aoyama 2-4-6; 1-2 Sample-cho */
    int parts;
    if (chome_chain(s, &t[i], &parts)) {
        bool town_before = i > 0 && !t[i - 1].stop_after && town_word(s, &t[i - 1]);
        bool town_after = i + 1 < nt && !t[i].stop_after && town_word(s, &t[i + 1]);
        bool ward = ward_near(s, t, nt, i);
        /* a town that says it is one: Kioicho 4-1, 2-1 Sakuragicho */
        bool named = (town_before && ends_with(s, &t[i - 1], town_suffixes)) ||
                     (town_after && ends_with(s, &t[i + 1], town_suffixes));
        /* two numbers (3-4, 12-1) are a measure unless a town and a ward
         * or city stand by them, or the town is named as one */
        if ((parts >= 3 && (town_before || town_after || ward)) ||
            (parts == 2 && (named || (ward && (town_before || town_after))))) {
            *a = town_before && !t[i - 1].comma_after ? romaji_start(s, t, i, keep_head) : i;
            *b = town_after && !t[i].comma_after ? i + 1 : i;
            return true;
        }
    }
    /* a town block: Kita 5-jo Nishi 2-chome 3-1, Umeda 1-chome, 5 ban 1 go
     * after 2 chome (ban and go alone are no address) */
    bool major;
    size_t nb = block_at(s, t, nt, i, &major);
    if (nb && major) {
        *a = romaji_start(s, t, i, keep_head);
        *b = i + nb - 1;
        return true;
    }
    /* Sapporo's grid: Kita 14 Nishi 5; N5 W2 by a ward or city */
    if (i + 3 < nt && word_is(s, &t[i], (const char *const[]){ "Kita", "Minami", NULL }) &&
        word_is(s, &t[i + 2], (const char *const[]){ "Nishi", "Higashi", NULL }) &&
        tlen(&t[i + 1]) <= 2 && all_digits(s, t[i + 1].from, t[i + 1].to) && tlen(&t[i + 3]) <= 2 &&
        all_digits(s, t[i + 3].from, t[i + 3].to) && !t[i].comma_after && !t[i].stop_after &&
        !t[i + 1].comma_after && !t[i + 1].stop_after && !t[i + 2].comma_after && !t[i + 2].stop_after) {
        *a = romaji_start(s, t, i, keep_head);
        *b = i + 3;
        return true;
    }
    if (i + 1 < nt && compass(s, &t[i], "NS") && compass(s, &t[i + 1], "EW") && !t[i].comma_after &&
        !t[i].stop_after && ward_near(s, t, nt, i + 1)) {
        *a = i;
        *b = i + 1;
        return true;
    }
    /* Aza Asato 123, Oaza Nakahara 1234-5, Oaza-Shimo 123 */
    if (aza_joined(s, &t[i]) || (i + 1 < nt && aza_word(s, &t[i]) && capital(s, &t[i + 1]) &&
                                 !t[i].comma_after && !t[i].stop_after)) {
        *a = romaji_start(s, t, i, keep_head);
        *b = aza_joined(s, &t[i]) ? i : i + 1;
        return true;
    }
    /* a town with no number before its ward: Yoshida-Konoe-cho, Sakyo-ku */
    if (i + 1 < nt && capital(s, &t[i]) && ends_with(s, &t[i], town_endings) && !t[i].stop_after &&
        ends_with(s, &t[i + 1], municipal_endings)) {
        *a = romaji_start(s, t, i, keep_head);
        *b = i;
        return true;
    }
    /* Kyoto: Karasuma-dori Shijo sagaru, Nijo-agaru, Karasuma nishi-iru */
    if (kyoto_word(s, &t[i]) && (capital(s, &t[i]) || (i > 0 && capital(s, &t[i - 1]) &&
                                                       !t[i - 1].comma_after && !t[i - 1].stop_after))) {
        *a = romaji_start(s, t, i, keep_head);
        *b = i;
        return true;
    }
    return false;
}

size_t kk_text__address_latin_spans(const char *s, size_t n, bool keep_head, kk_span *spans,
                                    size_t max)
{
    /* cheap refusal: an address has a digit, or a Kyoto crossing, and a
     * capital letter (Ō in Ōtsuka is one too) */
    bool digit = false, upper = false;
    for (size_t i = 0; i < n && !(digit && upper); i++) {
        unsigned char c = (unsigned char)s[i];
        digit |= isdigit(c) ||
                 ((c | 0x20) == 'a' && n - i >= 4 && strncasecmp(s + i, "agar", 4) == 0) ||
                 ((c == '-' || (c | 0x20) == 'i') && n - i >= 4 &&
                  strncasecmp(s + i + 1, "iru", 3) == 0);
        upper |= isupper(c) || (c >= 0xC3 && c <= 0xC5);
    }
    if (!digit || !upper)
        return 0;
    tok t[MAXTOK];
    size_t nt = tokenize(s, n, t, MAXTOK);
    size_t ns = 0;
    for (size_t i = 0; i < nt && ns < max; i++) {
        size_t a, b;
        if (!anchor_at(s, t, nt, i, keep_head, &a, &b))
            continue;
        /* backwards: "Flat 3, " "Room 1203, Sunrise Mansion, " "Apt 4B "
         * "Sunny Heights 201, " "Villa Kamiuma #203, " */
        for (int guard = 0; guard < 4 && a > 0; guard++) {
            size_t p = a - 1;
            if (t[p].stop_after)
                break;
            size_t q = building_start(s, t, p, false);
            if (q != SIZE_MAX) {
                a = q;
                continue;
            }
            /* a room: Room 1203, Apt 4B, Flat 3, #12, Sunny Heights 201 */
            if (p > 0 && (house_number(s, &t[p]) || (tlen(&t[p]) <= 4 && isupper((unsigned char)s[t[p].from]))) &&
                !t[p - 1].stop_after) {
                if (word_is(s, &t[p - 1], unit_words)) {
                    a = p - 1;
                    continue;
                }
                if (!t[p - 1].comma_after && house_number(s, &t[p]) &&
                    (q = building_start(s, t, p - 1, true)) != SIZE_MAX) {
                    a = q;
                    continue;
                }
            }
            if (s[t[p].from] == '#' && house_number(s, &t[p])) {
                a = p;
                continue;
            }
            /* a building of any name after its room: Room 1002 Park Axis, */
            q = p;
            while (q > 0 && q + 3 > p && town_word(s, &t[q - 1]) && !t[q - 1].stop_after &&
                   !t[q - 1].comma_after)
                q--;
            if (town_word(s, &t[p]) && q >= 2 && house_number(s, &t[q - 1]) &&
                word_is(s, &t[q - 2], unit_words) && !t[q - 1].stop_after && !t[q - 1].comma_after &&
                !t[q - 2].stop_after) {
                a = q - 2;
                continue;
            }
            break;
        }
        size_t from = t[a].from, to = t[b].to;
        bool open = true; /* [from, to) is a removal not yet added */
        /* forwards: the places after it, part by part; a part that turns
         * into prose ("Lakeside with wife") gives only its place words */
        size_t j = b + 1;
        for (int nparts = 0; j < nt && !t[j - 1].stop_after && nparts < 6; nparts++) {
            size_t e = j;
            bool whole = true;
            for (;; e++) {
                if (e >= nt || e >= j + 5 || place_word(s, t, nt, e, keep_head) == PART_NO ||
                    word_is(s, &t[e], not_towns)) {
                    whole = false;
                    break;
                }
                if (t[e].comma_after || t[e].stop_after)
                    break;
            }
            size_t last = e; /* exclusive when the part is not whole */
            if (whole)
                last = e + 1;
            for (size_t k = j; k < last; k++) {
                if (place_word(s, t, nt, k, keep_head) == PART_KEEP) {
                    if (open)
                        ns = add_span(spans, ns, max, from, to);
                    open = false;
                    continue;
                }
                if (!open)
                    from = t[k].from;
                to = t[k].to;
                open = true;
            }
            if (!whole)
                break;
            j = e + 1;
        }
        if (open)
            ns = add_span(spans, ns, max, from, to);
        if (j - 1 > i)
            i = j - 1; /* the words taken are no anchor of another address */
    }
    /* postcodes anywhere: UK and Canadian forms (numeric ones are numbers) */
    for (size_t i = 0; i + 1 < nt && ns < max; i++)
        if (!t[i].comma_after && !t[i].stop_after && postcode_pair(s, &t[i], &t[i + 1])) {
            ns = add_span(spans, ns, max, t[i].from, t[i + 1].to);
            i++;
        }
    /* in order and apart, as kk_text__address_spans gives them */
    for (size_t i = 1; i < ns; i++)
        for (size_t k = i; k > 0 && spans[k].from < spans[k - 1].from; k--) {
            kk_span x = spans[k];
            spans[k] = spans[k - 1];
            spans[k - 1] = x;
        }
    size_t m = 0;
    for (size_t i = 0; i < ns; i++) {
        if (m && spans[i].from <= spans[m - 1].to) {
            if (spans[i].to > spans[m - 1].to)
                spans[m - 1].to = spans[i].to;
            continue;
        }
        spans[m++] = spans[i];
    }
    return m;
}
