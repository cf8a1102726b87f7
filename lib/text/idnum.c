/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/text/idnum.c - individual identification codes (see idnum.h).
 */
#include <stdlib.h>
#include <string.h>

#include "text/idnum.h"
#include "text/normalize.h"

bool kk_text__my_number_ok(const char *s)
{
    for (int i = 0; i < 12; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    /* P_n = digit n places left of the check digit, Q_n = n+1 (n<=6), n-5 */
    int sum = 0;
    for (int k = 1; k <= 11; k++) {
        int digit = s[11 - k] - '0';
        int q = k <= 6 ? k + 1 : k - 5;
        sum += digit * q;
    }
    int r = sum % 11;
    int check = r <= 1 ? 0 : 11 - r;
    return check == s[11] - '0';
}

bool kk_text__insurer_number_ok(const char *s, size_t n)
{
    if (n != 8 && n != 6)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    /* from the digit before the check digit leftwards: x2, x1, x2...;
     * the digits of the products are summed; check = 10 - last digit */
    int sum = 0;
    for (size_t k = 0; k + 1 < n; k++) {
        int d = s[n - 2 - k] - '0';
        int p = (k % 2 == 0) ? d * 2 : d;
        sum += p / 10 + p % 10;
    }
    int check = (10 - sum % 10) % 10;
    return check == s[n - 1] - '0';
}

/* 法別番号 of health insurers (社保・国保組合・共済・後期高齢者) */
static bool known_houbetsu(const char *s)
{
    static const char *const known[] = { "01", "02", "03", "04", "06", "07", "31", "32",
                                         "33", "34", "39", "63", "67", "72", "73", "74", "75" };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (memcmp(s, known[i], 2) == 0)
            return true;
    return false;
}

static bool sep(char c)
{
    return c == ' ' || c == '-' || c == '.' || c == '/' || c == '_' || c == ',';
}

kk_idcode kk_text__idcode(const char *utf8, size_t len)
{
    size_t fl;
    char *f = kk_text__fold_str(utf8, len, &fl);
    if (!f)
        return KK_IDCODE_NONE;
    /* the value without separators, and where the groups were */
    char c[64];
    size_t n = 0, groups = 0, first_group = 0;
    bool in_group = false;
    kk_idcode r = KK_IDCODE_NONE;
    for (size_t i = 0; i < fl; i++) {
        char ch = f[i];
        if (sep(ch)) {
            in_group = false;
            continue;
        }
        if (n + 1 >= sizeof c)
            goto done;
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z')))
            goto done;
        if (!in_group) {
            groups++;
            in_group = true;
            if (groups == 2)
                first_group = n;
        }
        c[n++] = ch;
    }
    c[n] = '\0';
    size_t digits = strspn(c, "0123456789");
    if (n == 12 && digits == 12) {
        r = kk_text__my_number_ok(c) ? KK_IDCODE_MY_NUMBER : KK_IDCODE_LICENSE;
    } else if (n == 9 && strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 2 &&
               strspn(c + 2, "0123456789") == 7) {
        r = KK_IDCODE_PASSPORT;
    } else if (n == 12 && strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 2 &&
               strspn(c + 2, "0123456789") == 8 &&
               strspn(c + 10, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 2) {
        r = KK_IDCODE_RESIDENCE_CARD;
    } else if (n == 10 && digits == 10 && groups == 2 && first_group == 4) {
        r = KK_IDCODE_PENSION;
    } else if (n == 8 && digits == 8 && known_houbetsu(c) && kk_text__insurer_number_ok(c, 8)) {
        r = KK_IDCODE_INSURER;
    }
done:
    free(f);
    return r;
}
