/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/clean.c - the clean (C) action for text (see clean.h).
 *
 * Marks bytes of the original UTF-8 to remove, in layers:
 *  1. patterns (POSIX regex) over the NFKC-folded text (full-width digits
 *     and letters become ASCII; case kept): dates (Gregorian, era), long
 *     digit runs and ID-like tokens, My Number and other codes, phone
 *     numbers, postal codes, e-mail, Family^Given, titles and roles with
 *     the capitalised words after them, romaji honorifics;
 *  2. Japanese addresses (lib/text/address.c);
 *  3. Japanese names: MeCab person and place names, and the name next to a
 *     cue word (主治医, 長女, 様, 先生...), with or without spaces, colons
 *     or brackets; romaji names whose readings are in the dictionary;
 *  4. the object's own identifiers, folded the same way (case, width,
 *     katakana/hiragana) and by reading key for romaji words.
 * Each folded match maps back to its original bytes; every marked run
 * becomes "***", widened to whole characters. The process stays in the C
 * locale, so regex works on bytes and multibyte literals are byte strings.
 */
#include <ctype.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "deid/clean.h"
#include "deid/clean_cache.h"
#include "profile/profile_internal.h"
#include "text/address.h"
#include "text/morph.h"
#include "text/normalize.h"

/* how many subexpressions of a pattern mark_patterns reads */
#define PATTERN_MATCHES 8

typedef struct pattern {
    const char *re;
    const char *needs; /* a byte the text must hold for the pattern to apply */
    const char *words; /* or, when set: one of these '|'-separated words */
    int group;         /* the subexpression to remove (0: the whole match) */
    bool allowable;    /* an ID-like token the profile's allowlist may keep */
    bool name;         /* the group is a name: not when it starts with a
                        * common word (Patient Position, Ordered by ER) */
} pattern;

#define UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
/* a capitalised word; romaji with macrons (Ōno, Nōmi) is Latin-1/A in UTF-8,
 * matched as whole sequences so a name never starts inside 。 (E3 80 82) */
#define LATIN_UPPER "([A-Z]|\xc3[\x80-\x9e]|[\xc4\xc5][\x80-\xbf])"
#define LATIN_ANY "(\xc3[\x80-\xbf]|[\xc4\xc5][\x80-\xbf])"
#define NAME LATIN_UPPER "([A-Za-z'-]|" LATIN_ANY ")+"
/* small words of a family name before its capital: van den Heuvel, de Souza */
#define PARTICLES "((van|von|de|da|di|du|del|della|der|den|dos|das|le|la|ter|ten|bin|al)[ ]+){0,2}"
/* (the second word starts small after its capital, or with an apostrophe
 * and a capital: O'Sullivan, McDonald; not CT, MRI) */
#define NAME2 NAME "([ ]+" PARTICLES LATIN_UPPER "([a-z-]|'[A-Z]|" LATIN_ANY ")([A-Za-z'-]|" LATIN_ANY ")*)?"
/* with initials before or after: K. Tanaka, Yoshida H. */
#define NAMEC "([A-Z]\\.[ ]*){0,2}" NAME2 "([ ]+[A-Z]\\.)?"
/* the same, small words first, after a title only: Dr. da Silva (after a
 * role with nothing between, "al" would start a name in Internal) */
#define NAMEI "([A-Z]\\.[ ]*){0,2}" PARTICLES NAME2 "([ ]+[A-Z]\\.)?"
#define ROLES "[Dd]aughter-in-law|[Ss]on-in-law|[Mm]other-in-law|[Ff]ather-in-law|" \
              "[Bb]rother-in-law|[Ss]ister-in-law|[Ss]tepson|[Ss]tepdaughter|[Ss]tepmother|" \
              "[Ss]tepfather|[Dd]aughter|[Ss]on|[Ww]ife|[Hh]usband|[Mm]other|[Ff]ather|[Ss]ister|" \
              "[Bb]rother|[Ss]pouse|[Gg]uardian|[Cc]ontact|[Rr]eferred by|" \
              "[Rr]eferring physician|[Rr]eferring doctor|[Oo]rdering provider|[Oo]rdering physician|" \
              "[Oo]rdering doctor|[Pp]rovider|[Pp]hysician|[Tt]echnologist|" \
              "[Rr]adiographer|[Nn]urse|[Aa]ttending|[Rr]adiologist|[Ss]urgeon|" \
              "[Kk]ey person|[Nn]ext of kin|[Pp]atient|[Cc]aregiver|[Rr]eported by|" \
              "[Rr]ead by|[Ss]igned by|[Pp]erformed by|[Dd]ictated by|[Vv]erified by|" \
              "[Aa]pproved by|[Rr]equested by|[Oo]rdered by|[Ii]nterpreted by|" \
              "[Tt]ranscribed by|[Rr]eviewed by|[Ss]igned|[Oo]perator|[Tt]echnician|" \
              "[Rr]esident|[Cc]onsultant|[Tt]echs?|[Ii]nterpreter|[Tt]ranslator|" \
              "[A-Za-z]+ed by|[Ss]een by|[Dd]one by|[Rr]ef\\.? by|[Ss]onographer|" \
              "[Tt]herapist|[Pp]harmacist|[Mm]idwife|[Ii]ntern|[Rr]egistrar|[Dd]octor|" \
              "[Cc]linician|[Gg]randmother|[Gg]randfather|[Gg]randson|[Gg]randdaughter|" \
              "[Aa]unt|[Uu]ncle|[Nn]iece|[Nn]ephew|[Cc]ousin|[Ff]riend|[Pp]artner|" \
              "[Nn]eighbou?r|[Cc]haperone|[Ww]itness|[Cc]arer|[Ss]ibling|[Ff]amily member|" \
              "Pt\\.?"

#define KNUM "(〇|一|二|三|四|五|六|七|八|九|十)"
#define KDIG "(〇|一|二|三|四|五|六|七|八|九)"
/* a month's name as dates write it: the words only ("2 decreased 20" is
 * no date) */
#define MONTH "([Jj]an(uary)?|[Ff]eb(ruary)?|[Mm]ar(ch)?|[Aa]pr(il)?|[Mm]ay|[Jj]une?|[Jj]uly?|" \
              "[Aa]ug(ust)?|[Ss]ep(t|tember)?|[Oo]ct(ober)?|[Nn]ov(ember)?|[Dd]ec(ember)?|" \
              "(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)[A-Z]*)\\.?"
/* separators in a phone number or a digit group, as typed in Japanese
 * text too: ー between digits (０９０ー１２３４ー５６７８), ・ (03・3333・4444) */
#define PSEP "([- ~]|ー|─|〜|～|・)"
#define DSEP "([- .]|ー|・)"
/* between groups of kanji numerals: a dash, a bracket or の */
#define KSEP "([- ~()]|ー|─|〜|～|の|（|）)"
static const pattern patterns[] = {
    /* Gregorian dates in common spellings */
    { "[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}", "0123456789", NULL, 0, false, false },
    { "[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{2,4}", "0123456789", NULL, 0, false, false },
    { "[0-9]{2,4}[ ]*年[ ]*[0-9]{1,2}[ ]*月([ ]*[0-9]{1,2}[ ]*日)?", "0123456789", NULL, 0, false, false },
    /* a month and a day with no year: a visit, an injury, a birthday */
    { "(^|[^0-9])([0-9]{1,2}[ ]*月[ ]*[0-9]{1,2}[ ]*日)", "0123456789", NULL, 2, false, false },
    { "(一|二|三|四|五|六|七|八|九|十|十一|十二)月(" KNUM "+)日", "\xe6", NULL, 0, false, false },
    { "(^|[^0-9A-Za-z])(" MONTH "[ ]+[0-9]{1,2}(st|nd|rd|th)?|[0-9]{1,2}(st|nd|rd|th)?( of)?[ ]+" MONTH ")($|[^0-9A-Za-z])",
      "0123456789", NULL, 2, false, false },
    /* an era's first letter or kanji and its year: 昭23・3・15, 昭23生, R元.5.1 */
    { "(明|昭|平|令)[ ]*(元|[0-9]{1,2})((・|[./-])[0-9]{1,2}((・|[./-])[0-9]{1,2})?|生|年)", "\xe6\xe4\xe5", NULL, 0, false, false },
    { "(^|[^A-Za-z])([MTSHR]元[./-][0-9]{1,2}([./-][0-9]{1,2})?)", "\xe5", NULL, 2, false, false },
    /* whatever date follows a birth cue, even split by an era in
     * brackets: 生年月日：1950年（昭和25年）3月12日, 誕生日 3月12日, Born 1950 */
    { "(生年月日|生年|誕生日|DOB|YOB|D\\.O\\.B\\.?|[Dd]ate of [Bb]irth|[Bb]irth ?[Dd]ate|[Bb]irthday|[Bb]orn( in| on)?)[ :]*"
      "((([-0-9/., ()]|年|月|日|昭和|平成|大正|令和|明治|元|・|十|" KDIG "|[MTSHR]|" MONTH "))*([0-9]|" KDIG ")(日|年|月)?)",
      "0123456789\xe4\xe3", NULL, 3, false, false },
    /* an age of 90 or more (rare enough to identify; PatientAge is
     * generalized from 90 too): 95歳, 95-year-old, 95 y/o, age 95 */
    { "(^|[^0-9])(9[0-9]|1[0-9][0-9])[ ]*(歳|才)", "\xe6", NULL, 2, false, false },
    { "(九十(一|二|三|四|五|六|七|八|九)?|百(一|二|三|四|五|六|七|八|九|十)*)(歳|才)", "\xe6", NULL, 1, false, false },
    { "(^|[^0-9A-Za-z])(0?9[0-9]|1[0-9][0-9])[ ]*([Yy]|[Yy]rs?|[Yy]ears?)($|[^A-Za-z])", "Yy", NULL, 2, false, false },
    { "([Aa]ged)[ ]*(9[0-9]|1[0-9][0-9])($|[^0-9])", "a", NULL, 2, false, false },
    { "(^|[^0-9])(9[0-9]|1[0-9][0-9])[ -]*([Yy]/[Oo]|[Yy][Oo]|[Yy]\\.[Oo]\\.|[Yy](ea)?rs?[ -]*[Oo]ld|[Yy]ear-old)",
      "Yy", NULL, 2, false, false },
    { "([Aa]ge|AGE)[ :]*(9[0-9]|1[0-9][0-9])($|[^0-9])", "Aa", NULL, 2, false, false },
    /* a birth year after b. (b. 1931, widow); an age of 90 or more in
     * words (ninety-three-year-old, aged ninety-one) */
    { "(^|[^A-Za-z])b\\.[ ]*((18|19|20)[0-9]{2})($|[^0-9])", ".", NULL, 2, false, false },
    { "(^|[^A-Za-z])(([Nn]inety|NINETY|[Oo]ne hundred|ONE HUNDRED)([- ]([Oo]ne|[Tt]wo|[Tt]hree|[Ff]our|[Ff]ive|"
      "[Ss]ix|[Ss]even|[Ee]ight|[Nn]ine))?)([- ]+(years?|yrs?)[- ]+old|[- ]+year[- ]old|[ ]+y/?o)",
      "yY", "inety|INETY|ne hundred|NE HUNDRED", 2, false, false },
    { "([Aa]ged|AGED|[Aa]ge)[ :]*(([Nn]inety|[Oo]ne hundred)([- ]([Oo]ne|[Tt]wo|[Tt]hree|[Ff]our|[Ff]ive|[Ss]ix|"
      "[Ss]even|[Ee]ight|[Nn]ine))?)", "a", "inety|ne hundred", 2, false, false },
    /* a pager's number; a trial subject's number (Subject 101-004) */
    { "([Pp]ager|PAGER|[Pp]age|[Bb]eeper|[Bb]leep)[ #:.]*([0-9]{4,6})($|[^0-9])", "0123456789",
      "ager|AGER|age|eeper|leep", 2, false, false },
    { "([Ss]ubject|SUBJECT|[Pp]articipant|PARTICIPANT)([ ]*(No\\.?|ID|#))?[ :#]*([0-9]{2,4}-[0-9]{2,4})",
      "-", "ubject|UBJECT|articipant|ARTICIPANT", 4, false, false },
    /* Japanese era dates: 昭和45年3月12日, 平成元年, S45.3.12, H31/4/30 */
    { "(明治|大正|昭和|平成|令和)[ ]*(元|[0-9]{1,2})年([0-9]{1,2}月([0-9]{1,2}日)?)?", "\xe5\xe6\xe4", NULL, 0, false, false },
    /* the same in kanji numerals: 昭和三十六年四月十二日, 一九六一年四月十二日 */
    { "(明治|大正|昭和|平成|令和)[ ]*(元|" KNUM "+)年(" KNUM "+月(" KNUM "+日)?)?", "\xe5\xe6\xe4", NULL, 0, false, false },
    { "(〇|一|二|三|四|五|六|七|八|九){4}年(" KNUM "+月(" KNUM "+日)?)?", "\xe3\xe4", NULL, 0, false, false },
    { "(^|[^A-Za-z])([MTSHRmtshr][0-9]{1,2}[./-][0-9]{1,2}([./-][0-9]{1,2})?)", "0123456789", NULL, 2, false, false },
    { "(^|[^A-Za-z])([MTSHR][0-9]{1,2}年([0-9]{1,2}月([0-9]{1,2}日)?)?)", "0123456789", NULL, 2, false, false },
    /* era dates in romaji: Showa 25, HEISEI 3.4.1, Reiwa gannen */
    { "(Meiji|Taish(o|ou|oh)|Sh(o|ou|oh)wa|Syowa|Heisei|Reiwa|MEIJI|TAISH(O|OU)|SH(O|OU)WA|HEISEI|REIWA)"
      "[ ]*([0-9]{1,2}|[Gg]annen)([ ]*([Nn]en|[Yy]ear))?([ ./-]*[0-9]{1,2}([ ./-]*[0-9]{1,2})?)?",
      "0123456789Gg", NULL, 0, false, false },
    /* dates with the month in English: 4 March 1950, 04-MAR-1950, March 4, 1950 */
    { "[0-9]{1,2}(st|nd|rd|th)?[ -]" MONTH "[ ,-]*[0-9]{2,4}", "0123456789", NULL, 0, false, false },
    { MONTH "[ ]+[0-9]{1,2}(st|nd|rd|th)?,?[ ]+[0-9]{4}", "0123456789", NULL, 0, false, false },
    /* IDs, My Number, insurance and card numbers: 5+ digits in a token,
     * letters with 4+ digits, digit groups with separators */
    /* (not a count per unit: WBC 12300/μL, ヘパリン 10000単位, 単 being
     * E5 8D 98; 第123456号 is an ID) */
    { "([A-Za-z0-9]*[0-9]{5,}[A-Za-z0-9]*)($|[^/0-9\xe5]|\xe5[^\x8d])", "0123456789", NULL, 1, true, false },
    { "[A-Za-z]+[-_]?[0-9]{4,}[A-Za-z0-9]*", "0123456789", NULL, 0, true, false },
    { "[0-9]{4}" DSEP "[0-9]{4}" DSEP "[0-9]{4}(" DSEP "[0-9]{1,4})?", "0123456789", NULL, 0, false, false },
    { "[0-9]{4}[- ][0-9]{6}", "0123456789", NULL, 0, false, false },
    /* two numbers joined are an ID with letters before them, or with
     * six digits or more, or in three groups; two short numbers are a
     * measurement (BP 142/88, MMSE 24/30, HU 30-40) */
    { "(([A-Za-z]{1,3}[0-9]{2,}[-/][0-9]{2,}|[0-9]{2,}[-/][0-9]{4,}|[0-9]{4,}[-/][0-9]{2,}|[0-9]{2,}[-/][0-9]{2,}[-/][0-9]+)([-/][0-9]+)*)($|[^0-9])",
      "0123456789", NULL, 1, false, false },
    { "(^|[^A-Za-z])([A-Za-z]{2}[- ]?[0-9]{7,8}([A-Za-z]{2})?)", "0123456789", NULL, 2, false, false },
    /* a residence card's number in groups: AB 1234 5678 CD */
    { "(^|[^A-Za-z])([A-Za-z]{2}[- ]?[0-9]{4}[- ][0-9]{4}[- ]?[A-Za-z]{2})", "0123456789", NULL, 2, false, false },
    /* the number after a 記号 or 番号 cue, however short (the 記号・番号
     * of a health insurance card: "記号 12-34 番号 567") */
    { "(記号|番号)[ :：.]*([A-Za-z]{0,3}-?[0-9]+([- ・][0-9]+)*)", "0123456789", NULL, 2, false, false },
    /* an ID after its label, in groups of digits or of four digits or
     * more: ID: 87 654 321, ID 1234 (not ID 3 mm, an inner diameter) */
    { "(^|[^A-Za-z])(ID|Id)[ :：.#]*([0-9]{1,4}([ ・.-][0-9]{2,4})+|[0-9]{4,})", "0123456789", NULL, 3, false, false },
    { "(^|[^A-Za-z])(No\\.|NO\\.)[ :：#]*([0-9]{4,})", "0123456789", NULL, 3, false, false },
    /* international numbers in groups: +81 90 1234 5678, +81-(0)3-1234-5678,
     * the last of three digits or more (S1+2 2-3cm is a lung segment) */
    { "\\+[0-9]{1,3}(" PSEP "?\\(?[0-9]{1,5}\\)?){1,4}" PSEP "?[0-9]{3,5}", "+", NULL, 0, false, false },
    /* phone numbers: 03-1234-5678, (03)1234-5678, 090 1234 5678, +81-3-... */
    { "(\\(0[0-9]{1,4}\\)|0[0-9]{1,4}" PSEP ")" PSEP "?[0-9]{1,4}" PSEP "[0-9]{3,4}", "0123456789", NULL, 0, false, false },
    { "(^|[^0-9])(\\(?[0-9]{3}\\)?" PSEP "?[0-9]{3}" PSEP "[0-9]{4})($|[^0-9])", "0123456789", NULL, 2, false, false },
    /* a post office box: 私書箱 30号, 私書箱第30号, P.O. Box 77 */
    { "(私書箱|[Pp]\\.[ ]?[Oo]\\.[ ]?[Bb][Oo][Xx]|PO [Bb]ox|POB)[ ]*((第)?[0-9]+(号)?)", "0123456789", NULL, 2, false, false },
    /* initials that sign or read (reviewed by H.K., Signed: M.T., 確認 H.K.,
     * Read by T.O./K.S.) */
    { "([Bb]y|BY|[Ss]igned|SIGNED|[Cc]c|CC|確認|読影|記載|承認|入力)[ :]*([A-Z]\\.[ ]?[A-Z]\\.([ ]?[A-Z]\\.)?"
      "([ ]*[/,&][ ]*[A-Z]\\.[ ]?[A-Z]\\.([ ]?[A-Z]\\.)?)*)", ".", NULL, 2, false, false },
    /* an extension or a PHS: 内線 4567, ext 4455, PHS 7721 */
    { "(内線|PHS|[Ee]xt\\.?|EXT)[ :.]*([0-9]{2,6})", "0123456789", NULL, 2, false, false },
    /* a phone number in kanji numerals: 〇九〇ー一二三四ー五六七八 */
    { KDIG "{2,5}" PSEP "?" KDIG "{2,4}" PSEP "?" KDIG "{3,4}", "\xe3\xe4", NULL, 0, false, false },
    /* ...with brackets or の between the groups: 〇三（三八一二）二一一一,
     * 〇八〇の五五五五の一二一二 */
    { KDIG "{2,5}" KSEP "{1,2}" KDIG "{2,4}" KSEP "{1,2}" KDIG "{3,4}", "\xe3\xe4\xe5", NULL, 0, false, false },
    /* a postal code in kanji numerals: 〒〇六〇－〇八〇八 */
    { "〒[ ]*" KDIG "{3}" PSEP "?" KDIG "{0,4}", "\xe3", NULL, 0, false, false },
    { "(^|[^0-9.])([0-9]{2,4}\\.[0-9]{2,4}\\.[0-9]{3,4})($|[^0-9.])", ".", NULL, 2, false, false },
    { "\\(0[0-9]{1,4}\\)[0-9]{1,4}-?[0-9]{3,4}", "(", NULL, 0, false, false },
    { "0[0-9]{1,4}[ ]?\\([0-9]{1,4}\\)[ ]?[0-9]{3,4}", "(", NULL, 0, false, false },
    { "(TEL|Tel|tel|FAX|Fax|fax|電話|携帯|連絡先)[ :.番号]*([-+()0-9 ]{6,})", "0123456789", NULL, 2, false, false },
    /* postal codes */
    { "〒[ ]*[0-9]{3}[- ]?[0-9]{0,4}", "\xe3", NULL, 0, false, false },
    { "(^|[^0-9-])([0-9]{3}-[0-9]{4})($|[^0-9-])", "-", NULL, 2, false, false },
    /* e-mail */
    { "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+", "@", NULL, 0, false, false },
    { "[A-Za-z0-9._%+-]+[ ]*(\\[at\\]|\\(at\\)|<at>| at | @ )[ ]*[A-Za-z0-9-]+(([.]| dot | ?\\[dot\\] ?| ?\\(dot\\) ?)[A-Za-z0-9-]+)+",
      "a@", NULL, 0, false, false },
    /* a web address: its path and host may spell a name (a profile page,
     * kenji.ito@..., /patients/tanaka-hiroshi); ASCII up to a space */
    { "((https?|ftp)://|www\\.)[!-~]+", ":.", "http|ftp|www", 0, false, false },
    /* initials as a name: Y.K. 様, K・M氏, T.S.先生, HN さん, イニシャル H.N.
     * (two capitals without dots only before an honorific that is no
     * word's start: CT 様子 stays) */
    { "(^|[^A-Za-z])(([A-Z](\\.|・)[ ]*){1,3}[A-Z]?)[ ]*(様|さま|さん|殿|氏|君|くん|ちゃん|先生|せんせい|医師|看護師|技師)",
      "ABCDEFGHIJKLMNOPQRSTUVWXYZ", NULL, 2, false, false },
    { "(^|[^A-Za-z])([A-Z]{2})[ ]*(さん|さま|殿|氏|君|くん|ちゃん)", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", NULL, 2, false, false },
    { "(イニシャル|[Ii]nitials?)[ :：]*(([A-Z](\\.|・)?[ ]*){1,3})", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", NULL, 2, false, false },
    /* "per" and a person: per Sarah, per Dr Wilson (not per RECIST: a
     * capital and small letters) */
    { "(^|[^A-Za-z])[Pp]er[ ]+([A-Z][a-z'-]+([ ]+[A-Z][a-z'-]+)?)", "Pp", "per|Per", 2, false, true },
    /* a name after a greeting or a sign-off: Hi Tom, Dear Ms Ito, Thanks Yuki */
    { "(^|[^A-Za-z])(Hi|Hello|Dear|Thanks|Thank you|Regards|Cheers|Sincerely|Best),?[ ]+(" NAME2 ")",
      "HDTRCSB", "Hi|Hello|Dear|Thank|Regards|Cheers|Sincerely|Best", 3, false, true },
    /* a handle: @kenji_ito (not an e-mail: nothing before the @) */
    { "(^|[^A-Za-z0-9._%+-])(@[A-Za-z0-9_]{2,})", "@", NULL, 2, false, false },
    /* a nurse's title before the name: RN Jessica, LPN Smith */
    { "(^|[^A-Za-z])(RN|LPN|NP|CNA|PA-C)[ :.]+(" NAME2 ")", "RLNCP", "RN|LPN|NP|CNA|PA-C", 3, false, true },
    /* a room or bed number: 502号室, 612 号室, Room 1207, rm 418, ベッド 8A-12,
     * マンション 1104号 (where someone lies or lives; not 1号液, 502 HU,
     * room 2 CT, ICU bed 3: after Room or Bed three digits or a ward's) */
    { "(^|[^0-9])([0-9]{2,5}[A-Za-z]?)[ ]*号室", "\xe5", NULL, 2, false, false },
    { "(^|[^A-Za-z])(Room|room|ROOM|Rm|rm|RM|Bed|bed|BED|病室|病床|ベッド)[ #:.]*(No\\.?[ ]*)?"
      "([0-9]{3,4}[A-Za-z]?|[0-9]{1,3}[A-Za-z]?-[0-9]{1,4})($|[^0-9A-Za-z.])", "0123456789", NULL, 4, false, false },
    { "(マンション|アパート|ハイツ|コーポ|レジデンス|荘|寮)[ ]*([0-9]{2,5})[ ]*号", "\xe5", NULL, 2, false, false },
    /* initials after a staff role and a colon, a slash or a space: Tech: AS,
     * RT/KT, read by: T.Y., 技師：KS, 担当技師 Ｙ．Ｔ (not PA/LAT: PA, MD
     * and NP are no roles here) */
    { "(^|[^A-Za-z])(RT|RN|[Tt]echs?|TECH|[Rr]ead by|[Ss]canned by|[Dd]ictated by|技師|技師長|担当技師|撮影者|撮影|読影者|読影医|看護師)"
      "[ ]*[:/]?[ ]*(([A-Z]\\.?){2,3})($|[^A-Za-z])", ":/ ", NULL, 3, false, true },
    /* a care home's, school's or hospital's own name: Sunrise Nursing
     * Home, St. Mary's Hospital, Lincoln Elementary, Maple Grove assisted
     * living (not University Hospital: a common word first) */
    { "(^|[^A-Za-z])(St\\.?[ ]+)?(" NAME "('s)?([ ]+" NAME "('s)?)?)[ ]+(Nursing Home|Care Home|Hospital|Hospice|"
      "Elementary|Middle School|High School|Primary School|Academy|Manor|[Aa]ssisted [Ll]iving|Senior Living|"
      "Care Cent(er|re)|Medical Cent(er|re)|Rehab|General|Medical Clinic|Family Clinic|Univ\\.? Hospital)($|[^A-Za-z])",
      "HEMSACRaG", "Home|Hospital|Hospice|Elementary|School|Academy|Manor|iving|Cent|Rehab|General|Clinic", 3, false, true },
    /* DICOM-style names: Family^Given */
    /* (not a power: Plt 23.4×10^4/μL) */
    { "[^ ^=\\\\,;:()]*[^ ^=\\\\,;:()0-9]\\^[^ ^=\\\\,;:()]*(\\^[^ ^=\\\\,;:()]*)*", "^", NULL, 0, false, false },
    /* a title in lower case and the name after it: dr. tanaka, dr suzuki */
    { "(^|[^A-Za-z])(dr\\.?|Dr\\.)[ ]*([a-z][a-z'-]+)", "dD", NULL, 3, false, true },
    { "(^|[^A-Za-z])([a-z][a-z']{2,})[ -](san|sama|sensei|kun|chan|dono)($|[^A-Za-z])", "-s ",
      "san|sama|sensei|kun|chan|dono", 2, false, true },
    /* a title, with or without a period or space, and the name after it */
    { "(^|[^A-Za-z])(Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor|Sra|Herr|Frau|Mme|Mlle|Sir)\\.?[ ]*(" NAMEI ")",
      "MDPSHFm", "Mr|Ms|Mx|Miss|Dr|Prof|Sra|Herr|Frau|Mme|Mlle|Sir", 3, false, true },
    /* a name, a nurse's or a doctor's credential and what they were told:
     * Dawn Price RN notified, Whitfield RN aware */
    { "(^|[^A-Za-z])(" NAME2 ")[ ]+(RN|NP|PA|MD|RT|Ns)[ ,]+(notified|informed|aware|called|paged|updated|present|"
      "at bedside)", "RNPMDT", "notified|informed|aware|called|paged|updated|present|bedside", 2, false, true },
    /* a RIS's capitals: REF PHYS SMITH JOHN, ORDERING DR: TANAKA KENJI */
    { "(^|[^A-Za-z])(REF PHYS|REF DR|REF[.] PHYS|REFERRING PHYSICIAN|REFERRING DR|REFERRING DOCTOR|"
      "ORDERING PHYSICIAN|ORDERING DR|ORDERING PROVIDER|ATTENDING|REFERRER)[ :.]*"
      "([A-Z][A-Z'-]+([ ,]+[A-Z][A-Z'-]+){1})($|[^A-Za-z])",
      "ROA", "REF|ORDERING|ATTENDING", 3, false, true },
    /* the names after Drs, Messrs or Profs: Drs. Kim and Lee, Drs Hartmann,
     * Rossi and Dubois */
    { "(^|[^A-Za-z])(Drs|DRs|Messrs|Profs)\\.?[ ]*(" NAMEI "([ ]*(,|&|/| and )[ ]*" NAMEI ")*)",
      "DMP", "Drs|DRs|Messrs|Profs", 3, false, true },
    /* a role, and the capitalised name after it: "contact: daughter Hanako",
     * or names after it: "techs: Abe, Ueda", a staff title between them
     * included: "performed by RT J. Smith" */
    { "(^|[^A-Za-z])(" ROLES ")[ :.,(-]*((" ROLES ")[ :.,(-]*)?((RT|RN|NP|PA|MD|PT|OT)\\.?[ ]+)?"
      "(" NAMEC "([ ]*(,|&|/| and )[ ]*" NAMEC ")*)",
      "abcdefghijklmnopqrstuvwxyz",
      "aughter|son|ife|usband|other|ather|ister|pouse|uardian|ontact|eferr|hysician|"
      "echnologist|adiographer|urse|ttending|adiologist|urgeon|ey person|ext of kin|"
      "atient|aregiver|eported|ead by|igned|erformed by|ictated by|erified by|pproved by|"
      "equested by|rdered by|nterpreted by|ranscribed by|eviewed by|perator|echnician|"
      "esident|onsultant|ech|nterpreter|ranslator|ed by|een by|one by|ef by|ef. by|"
      "onographer|herapist|harmacist|idwife|ntern|egistrar|octor|linician|randmother|"
      "randfather|randson|randdaughter|unt|ncle|iece|ephew|ousin|riend|artner|eighbo|"
      "haperone|itness|arer|ibling|amily member|Pt|rovider", 7, false, true },
    /* two capitalised words and a next of kin's label after
     * them: KENNETH BRANAGH, NOK; Hale, Anna (guardian) */
    { "(^|[^A-Za-z])([A-Z][A-Za-z'-]+(,?[ ]+[A-Z][A-Za-z'-]+){1})[ ]*[,(-][ ]*"
      "(NOK|[Nn]ext of [Kk]in|[Gg]uardian|POA|[Ee]mergency [Cc]ontact)($|[^A-Za-z])",
      ",(-", "NOK|ext of|uardian|POA|mergency", 2, false, true },
    /* Family, Given and a credential after them: McDonald, Sarah RN (a
     * family name in small letters after its capital: ENT, Charge RN is a
     * department and a shift) */
    { "(" LATIN_UPPER "([a-z'-]|" LATIN_ANY ")([A-Za-z'-]|" LATIN_ANY ")*,[ ]*" NAME2 ")[ ]+"
      "(RN|MD|M\\.D\\.|PhD|RT|NP|PA|DO|FRCR|MBBS|PharmD|Ns|NS)($|[^A-Za-z])",
      "RMPNDF", NULL, 1, false, true },
    /* a name with the role after it: Hanako Yamada (daughter) */
    { "(" NAME2 ")[ ,]*[(]?(" ROLES "|[Ss]elf|[Gg]randson|[Gg]randdaughter)[)]", "(", NULL, 1, false, true },
    /* a romaji name before a Japanese honorific: Yamada-sama, Sato san
     * (not -shi: in romaji that is a city, Sapporo-shi, more than 氏); the
     * given name before it has small letters or three capitals or more
     * (T2 FLAIR AX Horigami-sama keeps AX) */
    { "(^|[^A-Za-z])(((" LATIN_UPPER "([a-z'-]|" LATIN_ANY ")+|[A-Z]{3,})[ ]+)?" NAME ")[ -](san|sama|sensei|kun|chan|dono|sensee)($|[^A-Za-z])",
      "-s ", "san|sama|sensei|kun|chan|dono", 2, false, false },
};
#define NPATTERNS (sizeof patterns / sizeof patterns[0])

struct kk_cleaner {
    regex_t re[NPATTERNS];
    int ncompiled;
    kk_morph *morph;
    bool keep_city;
    char **allow;
    int nallow;
    kk_clean_cache *cache;
};

/* Sets kept at once: one per series a batch has on the go, with room for
 * every worker's object and the series before it. */
#define CACHE_SETS 32

static void bind_set(void *set, kk_clean_entry *e)
{
    ((kk_idset *)set)->entry = e;
}

static void drop_set(void *set)
{
    if (set) {
        kk_idset__free(set);
        free(set);
    }
}

kk_status kk_clean__new(kk_cleaner **out, kk_ctx *ctx)
{
    return kk_clean__new_for(out, ctx, NULL);
}

kk_status kk_clean__new_for(kk_cleaner **out, kk_ctx *ctx, const kk_profile *profile)
{
    *out = NULL;
    kk_cleaner *cl = kk__calloc(1, sizeof *cl);
    if (!cl)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    for (size_t i = 0; i < NPATTERNS; i++) {
        if (regcomp(&cl->re[i], patterns[i].re, REG_EXTENDED) != 0) {
            kk_clean__free(cl);
            return kk__fail(ctx, KK_EINTERNAL, "cannot compile clean pattern %zu", i);
        }
        /* the part removed must be one of the matches mark_patterns asks for */
        size_t nsub = cl->re[i].re_nsub;
        if (patterns[i].group >= PATTERN_MATCHES || (size_t)patterns[i].group > nsub) {
            regfree(&cl->re[i]);
            kk_clean__free(cl);
            return kk__fail(ctx, KK_EINTERNAL, "clean pattern %zu removes group %d of %zu", i,
                            patterns[i].group, nsub);
        }
        cl->ncompiled++;
    }
    cl->morph = kk_morph__new();
    cl->cache = kk_clean_cache__new(CACHE_SETS, bind_set, drop_set);
    if (!cl->morph || !cl->cache) {
        kk_clean__free(cl);
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    }
    if (profile) {
        const char *a = kk_profile__param(profile, "clean.address", "none");
        cl->keep_city = strcmp(a, "municipality") == 0;
        const char *allow = kk_profile__param(profile, "clean.allow", "");
        for (const char *p = allow; *p;) {
            size_t l = strcspn(p, ", ");
            if (l) {
                char **na = kk__realloc(cl->allow, (size_t)(cl->nallow + 1) * sizeof *na);
                if (!na)
                    break;
                cl->allow = na;
                size_t fl;
                char *f = kk_text__fold_str(p, l, &fl);
                if (f)
                    cl->allow[cl->nallow++] = f;
            }
            p += l;
            while (*p == ',' || *p == ' ')
                p++;
        }
    }
    *out = cl;
    return KK_OK;
}

void kk_clean__free(kk_cleaner *cl)
{
    if (!cl)
        return;
    for (int i = 0; i < cl->ncompiled; i++)
        regfree(&cl->re[i]);
    kk_clean_cache__free(cl->cache);
    kk_morph__free(cl->morph);
    for (int i = 0; i < cl->nallow; i++)
        free(cl->allow[i]);
    free(cl->allow);
    free(cl);
}

double kk_clean__morph_load_ms(const kk_cleaner *cl)
{
    return cl ? kk_morph__load_ms(cl->morph) : 0;
}

/* --- identifier sets ------------------------------------------------ */

/* Values that are clinical words, not identifiers, even when an attribute
 * the object uses as an identifier holds them (a department "CT"). */
static const char *const clinical_words[] = {
    "ct", "mr", "mri", "pet", "us", "cr", "dr", "dx", "mg", "nm", "xa", "rf", "ot", "sc", "sr",
    "rt", "ecg", "spect", "radiology", "radiology department", "imaging", "chest", "head",
    "abdomen", "pelvis", "brain", "spine", "neck", "knee", "heart", "emergency", "er", "icu",
    "surgery", "internal medicine", "cardiology", "neurology", "neurosurgery", "orthopedics",
    "pediatrics", "oncology", "urology", "gynecology", "obstetrics", "dermatology",
    "ophthalmology", "ent", "dentistry", "anonymous", "unknown", "none", "other", "test",
    "放射線科", "放射線部", "画像診断科", "画像診断部", "内科", "外科", "整形外科", "脳神経外科",
    "脳外科", "循環器内科", "循環器科", "消化器内科", "呼吸器内科", "小児科", "産婦人科", "婦人科",
    "泌尿器科", "眼科", "耳鼻科", "耳鼻咽喉科", "皮膚科", "歯科", "救急科", "救急部", "検査部",
    "放射線", "病院", "医院", "診療所", "くりにっく", "こんぴゅーたー",
    /* findings the dictionary also lists as given names (正常: マサツネ) */
    "正常", "良好", "順調", "安定", "軽快", "不変", "改善", "増大", "縮小", "消失", "著変",
    "異常", "所見", "経過", "陰性", "陽性", "明瞭", "正面", "側面", "同様", "著明",
    /* radiology words IPAdic does not know, read before a title (読影技師) */
    "読影", "膵管", "塞栓",
    /* what follows 患者 in a compound (患者番号, 患者情報) */
    "番号", "情報", "本人", "状態", "背景", "属性", "基本情報", "調整", "肝門", "門部",
    /* what follows a family cue (長男来院, 母同伴) */
    "来院", "同伴", "同席", "付添", "面会", "説明", "同意", "希望", "連絡", "不在", "同居",
    "交代", "変更", "確認", "依頼", "診察", "対応",
    "別居", "健在", "死亡", "既往", "病死", "在宅", "帰宅",
    /* words that start with a kanji the dictionary also lists as a
     * name (陳 旧性, 白 質) */
    "陳旧性", "陳旧", "白質", "黄疸", "呂律", "朱色",
    /* anatomy the dictionary reads as a surname (大網: Oami) or starts
     * with one (小殿筋, 上行結腸) */
    "大網", "大殿筋", "中殿筋", "小殿筋", "大殿", "中殿", "小殿", "上行結腸", "下行結腸", "上行",
    "下行",
    /* kinds of home whose short forms end in a kanji read as a name (特養: 養) */
    "特養", "老健", "特別養護老人ホーム", NULL
};

static bool is_clinical_word(const char *s, size_t n)
{
    /* the first byte first: every identifier spelling passes through here */
    for (int i = 0; clinical_words[i]; i++)
        if (clinical_words[i][0] == s[0] && strlen(clinical_words[i]) == n &&
            memcmp(clinical_words[i], s, n) == 0)
            return true;
    return false;
}

/* Whether a clinical word of two characters or more starts the n bytes
 * at s (確認済, 所見なし): a state after a cue, not a name. */
static bool starts_clinical(const char *s, size_t n)
{
    for (int i = 0; clinical_words[i]; i++) {
        size_t l = strlen(clinical_words[i]);
        if (clinical_words[i][0] == s[0] && l < n && l >= 6 && memcmp(clinical_words[i], s, l) == 0)
            return true;
    }
    return false;
}

/* Whether [a, b) lies inside a clinical word of two to five characters
 * that begins at most three kanji before a (陳 in 陳旧性梗塞, 質 in 白質). */
static size_t kanji_run(const char *s, size_t n, size_t i, int max);
static unsigned cp_before(const char *s, size_t n, size_t e, size_t *b);
static bool in_clinical_word(const char *s, size_t n, size_t a, size_t b)
{
    size_t p = a;
    for (int back = 0; back <= 3; back++) {
        size_t q = kanji_run(s, n, p, 5);
        for (size_t e = p, k = 0; e < q && k < 5; k++) {
            e = kanji_run(s, n, e, 1);
            if (e >= b && e - p > 3 && is_clinical_word(s + p, e - p))
                return true;
        }
        size_t pb;
        if (p == 0)
            break;
        cp_before(s, n, p, &pb);
        if (kanji_run(s, n, pb, 1) == pb)
            break;
        p = pb;
    }
    return false;
}

static size_t utf8_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            c++;
    return c;
}

static bool ascii_only(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    return true;
}

/* Push a folded identifier. ASCII ones shorter than 3 characters and
 * non-ASCII ones of one character identify no one by themselves and would
 * cut clinical words (CT, 腹部単純CT); clinical words are never scrub terms. */
/* kk_strindex over strs (lens[i] bytes each; NUL-terminated when lens is
 * NULL) */
static size_t str_len(char *const *strs, const size_t *lens, int i)
{
    return lens ? lens[i] : strlen(strs[i]);
}

static size_t strindex_home(const kk_strindex *x, const char *s, size_t len)
{
    return (size_t)kk__fnv1a(KK_FNV1A_INIT, s, len) & (x->nslots - 1);
}

static void strindex_put(kk_strindex *x, char *const *strs, const size_t *lens, int i)
{
    size_t at = strindex_home(x, strs[i], str_len(strs, lens, i));
    while (x->slots[at])
        at = (at + 1) & (x->nslots - 1);
    x->slots[at] = (uint32_t)i + 1;
}

static bool strindex_has(const kk_strindex *x, char *const *strs, const size_t *lens,
                         const char *s, size_t len)
{
    if (!x->nslots)
        return false;
    for (size_t at = strindex_home(x, s, len); x->slots[at]; at = (at + 1) & (x->nslots - 1)) {
        int i = (int)x->slots[at] - 1;
        if (str_len(strs, lens, i) == len && memcmp(strs[i], s, len) == 0)
            return true;
    }
    return false;
}

/* Room for an n + 1st string. */
static bool strindex_room(kk_strindex *x, char *const *strs, const size_t *lens, int n)
{
    if ((size_t)(n + 1) * 2 <= x->nslots)
        return true;
    size_t ns = x->nslots ? x->nslots * 2 : 64;
    uint32_t *sl = kk__calloc(ns, sizeof *sl);
    if (!sl)
        return false;
    free(x->slots);
    x->slots = sl;
    x->nslots = ns;
    for (int i = 0; i < n; i++)
        strindex_put(x, strs, lens, i);
    return true;
}

static void strindex_free(kk_strindex *x)
{
    free(x->slots);
    x->slots = NULL;
    x->nslots = 0;
}

static void idset_push_folded(kk_idset *ids, const char *s, size_t len)
{
    while (len && (s[0] == ' ' || s[0] == '\0')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\0'))
        len--;
    if (!len)
        return;
    if (ascii_only(s, len) ? len < 3 : utf8_chars(s, len) < 2)
        return;
    if (is_clinical_word(s, len))
        return;
    if (strindex_has(&ids->item_index, ids->items, ids->lens, s, len) ||
        !strindex_room(&ids->item_index, ids->items, ids->lens, ids->n))
        return;
    if (ids->n == ids->cap) {
        int cap = ids->cap ? ids->cap * 2 : 16;
        char **it = kk__realloc(ids->items, (size_t)cap * sizeof *it);
        if (!it)
            return;
        ids->items = it;
        size_t *ln = kk__realloc(ids->lens, (size_t)cap * sizeof *ln);
        if (!ln)
            return;
        ids->lens = ln;
        ids->cap = cap;
    }
    char *c = kk__strndup(s, len);
    if (!c)
        return;
    ids->items[ids->n] = c;
    ids->lens[ids->n] = len;
    ids->n++;
    strindex_put(&ids->item_index, ids->items, ids->lens, ids->n - 1);
}

static void idset_push(kk_idset *ids, const char *s, size_t len)
{
    if (ascii_only(s, len) && len < 256) {
        /* NFKC leaves ASCII as it is: case folding is all there is */
        char low[256];
        for (size_t i = 0; i < len; i++)
            low[i] = (char)tolower((unsigned char)s[i]);
        idset_push_folded(ids, low, len);
        return;
    }
    size_t fl;
    char *f = kk_text__fold_str(s, len, &fl);
    if (!f)
        return;
    idset_push_folded(ids, f, fl);
    free(f);
}

static void key_push(kk_idset *ids, const char *key)
{
    if (strlen(key) < 3)
        return;
    if (strindex_has(&ids->key_index, ids->keys, NULL, key, strlen(key)) ||
        !strindex_room(&ids->key_index, ids->keys, NULL, ids->nkeys))
        return;
    if (ids->nkeys == ids->capkeys) {
        int cap = ids->capkeys ? ids->capkeys * 2 : 8;
        char **k = kk__realloc(ids->keys, (size_t)cap * sizeof *k);
        if (!k)
            return;
        ids->keys = k;
        ids->capkeys = cap;
    }
    char *d = kk__strndup(key, strlen(key));
    if (d) {
        ids->keys[ids->nkeys++] = d;
        strindex_put(&ids->key_index, ids->keys, NULL, ids->nkeys - 1);
    }
}

static bool has_kanji(const char *s, size_t n)
{
    for (size_t i = 0; i + 3 <= n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0xE3 && c <= 0xE9) {
            unsigned cp = ((c & 0x0Fu) << 12) | (((unsigned char)s[i + 1] & 0x3Fu) << 6) |
                          ((unsigned char)s[i + 2] & 0x3Fu);
            if ((cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF))
                return true;
        }
    }
    return false;
}

/* An n after a vowel that a vowel or y follows: romaji that reads as
 * ん too (Shin'ichi). */
static bool n_then_vowel(const char *f, size_t fl, size_t i)
{
    return i > 0 && i + 1 < fl && f[i] == 'n' && strchr("aiueo", f[i - 1]) &&
           strchr("aiueoy", f[i + 1]);
}

/* A name component: itself, and its reading in every script (kana from
 * romaji with and without long vowels; the reading key for romaji words). */
static void add_component(kk_idset *ids, const char *s, size_t len)
{
    idset_push(ids, s, len);
    size_t fl;
    char *f = kk_text__fold_str(s, len, &fl);
    if (!f)
        return;
    if (has_kanji(f, fl) && ids->nkanji < 64 && !ids->no_readings) {
        if (ids->nkanji == ids->capkanji) {
            int cap = ids->capkanji ? ids->capkanji * 2 : 4;
            char **k = kk__realloc(ids->kanji, (size_t)cap * sizeof *k);
            if (k) {
                ids->kanji = k;
                ids->capkanji = cap;
            }
        }
        if (ids->nkanji < ids->capkanji) {
            char *d = kk__strndup(f, fl);
            if (d)
                ids->kanji[ids->nkanji++] = d;
        }
        ids->readings_done = false;
    }
    char key[128], kana[256];
    size_t kl = kk_text__kana_key(f, fl, key, sizeof key);
    bool is_kana = kl > 0;
    if (!kl)
        kl = kk_text__romaji_key(f, fl, key, sizeof key);
    if (kl >= 3)
        key_push(ids, key);
    if (is_kana) {
        /* long vowels written with ー: たろう -> たろー */
        kk_buf v = KK_BUF_INIT;
        for (size_t i = 0; i < fl; i++) {
            if (i > 0 && i + 3 <= fl && !memcmp(f + i, "う", 3)) {
                kk__buf_adds(&v, "ー");
                i += 2;
            } else {
                kk__buf_addc(&v, f[i]);
            }
        }
        if (v.data && (v.len != fl || memcmp(v.data, f, fl)))
            idset_push_folded(ids, v.data, v.len);
        kk__buf_free(&v);
    } else if (kl >= 2 && fl < 40) {
        /* romaji: its kana, with each o or u short or long (Jono for
         * じょうの, Sato for さとう), the long ones as う or ー */
        size_t pos[6];
        int np = 0;
        for (size_t i = 0; i < fl && np < 6; i++)
            if ((f[i] == 'o' || f[i] == 'u') &&
                (i + 1 == fl || (f[i + 1] != 'u' &&
                                 !(f[i + 1] == 'h' && (i + 2 == fl || !strchr("aiueo", f[i + 2]))))))
                pos[np++] = i;
        /* n before y or a vowel: にゃ or んや (Shinya), に or んい
         * (Shinichi, Kenichi, Junichiro) */
        bool ny = false;
        for (size_t i = 1; i + 1 < fl; i++)
            ny |= n_then_vowel(f, fl, i);
        for (int mask = 0; mask < (1 << np) * (ny ? 2 : 1); mask++)
            for (int dash = 0; dash < (mask ? 2 : 1); dash++) {
                char var[96];
                size_t o = 0;
                int pi = 0;
                for (size_t i = 0; i < fl && o + 3 < sizeof var; i++) {
                    var[o++] = f[i];
                    if ((mask >> np) & 1 && n_then_vowel(f, fl, i))
                        var[o++] = '\'';
                    if (pi < np && pos[pi] == i) {
                        if (mask & (1 << pi))
                            var[o++] = dash ? '-' : 'u';
                        pi++;
                    }
                }
                size_t nk = kk_text__romaji_to_kana(var, o, kana, sizeof kana);
                if (nk && utf8_chars(kana, nk) >= 3)
                    idset_push_folded(ids, kana, nk);
            }
    }
    free(f);
}

/* True when a PN value has a group with no kanji: its romaji or kana
 * spelling is given, so the dictionary need not be asked for readings. */
static bool has_spelling_group(const char *s, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++)
        if (i == len || s[i] == '=' || s[i] == '\\') {
            size_t gl = i - start;
            bool letters = false;
            for (size_t j = start; j < i; j++)
                if (s[j] != '^' && s[j] != ' ')
                    letters = true;
            if (letters && !has_kanji(s + start, gl))
                return true;
            start = i + 1;
        }
    return false;
}

void kk_idset__add_name(kk_idset *ids, const char *s, size_t len)
{
    /* groups split by '=', components by '^' and by spaces */
    size_t start = 0;
    ids->no_readings = has_spelling_group(s, len);
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '=' || s[i] == '\\') {
            const char *g = s + start;
            size_t gl = i - start;
            size_t cs = 0;
            for (size_t j = 0; j <= gl; j++) {
                if (j == gl || g[j] == '^' || g[j] == ' ' ||
                    (j + 3 <= gl && memcmp(g + j, "\xe3\x80\x80", 3) == 0)) {
                    if (j > cs)
                        add_component(ids, g + cs, j - cs);
                    if (j < gl && g[j] != '^' && g[j] != ' ')
                        j += 2;
                    cs = j + 1;
                }
            }
            /* the group with its carets read as spaces, and joined up */
            kk_buf b = KK_BUF_INIT, j2 = KK_BUF_INIT;
            for (size_t j = 0; j < gl; j++) {
                kk__buf_addc(&b, g[j] == '^' ? ' ' : g[j]);
                if (g[j] != '^' && g[j] != ' ')
                    kk__buf_addc(&j2, g[j]);
            }
            if (b.data)
                idset_push(ids, b.data, b.len);
            if (j2.data)
                idset_push(ids, j2.data, j2.len);
            kk__buf_free(&b);
            kk__buf_free(&j2);
            start = i + 1;
        }
    }
    ids->no_readings = false;
}

void kk_idset__add_id(kk_idset *ids, const char *s, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++)
        if (i == len || s[i] == '\\') {
            idset_push(ids, s + start, i - start);
            start = i + 1;
        }
}

static const struct { int start; const char *kanji; char letter; } eras[] = {
    { 2019, "令和", 'R' }, { 1989, "平成", 'H' }, { 1926, "昭和", 'S' },
    { 1912, "大正", 'T' }, { 1868, "明治", 'M' },
};

void kk_idset__add_date(kk_idset *ids, const char *s, size_t len)
{
    if (len < 8)
        return;
    for (int i = 0; i < 8; i++)
        if (!isdigit((unsigned char)s[i]))
            return;
    int y = atoi((char[]){ s[0], s[1], s[2], s[3], 0 });
    int m = atoi((char[]){ s[4], s[5], 0 });
    int d = atoi((char[]){ s[6], s[7], 0 });
    int32_t ymd = y * 10000 + m * 100 + d;
    for (int i = 0; i < ids->ndates; i++)
        if (ids->dates[i] == ymd)
            return;
    if (ids->ndates < (int)(sizeof ids->dates / sizeof ids->dates[0]))
        ids->dates[ids->ndates++] = ymd;
    char b[96];
    const char *fmts[] = { "%04d%02d%02d", "%04d-%02d-%02d", "%04d/%02d/%02d", "%04d.%02d.%02d",
                           "%04d/%d/%d", "%04d-%d-%d", "%04d.%d.%d", "%04d年%d月%d日",
                           "%04d年%02d月%02d日" };
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        snprintf(b, sizeof b, fmts[i], y, m, d);
        idset_push(ids, b, strlen(b));
    }
    const char *dmy[] = { "%02d/%02d/%04d", "%02d.%02d.%04d", "%02d-%02d-%04d", "%d/%d/%04d" };
    for (size_t i = 0; i < sizeof dmy / sizeof dmy[0]; i++) {
        snprintf(b, sizeof b, dmy[i], d, m, y);
        idset_push(ids, b, strlen(b));
        snprintf(b, sizeof b, dmy[i], m, d, y);
        idset_push(ids, b, strlen(b));
    }
    for (size_t i = 0; i < sizeof eras / sizeof eras[0]; i++) {
        if (y < eras[i].start)
            continue;
        int ey = y - eras[i].start + 1;
        snprintf(b, sizeof b, "%s%d年%d月%d日", eras[i].kanji, ey, m, d);
        idset_push(ids, b, strlen(b));
        if (ey == 1) {
            snprintf(b, sizeof b, "%s元年%d月%d日", eras[i].kanji, m, d);
            idset_push(ids, b, strlen(b));
        }
        snprintf(b, sizeof b, "%c%d.%d.%d", eras[i].letter, ey, m, d);
        idset_push(ids, b, strlen(b));
        snprintf(b, sizeof b, "%c%d/%d/%d", eras[i].letter, ey, m, d);
        idset_push(ids, b, strlen(b));
        snprintf(b, sizeof b, "%c%02d.%02d.%02d", eras[i].letter, ey, m, d);
        idset_push(ids, b, strlen(b));
        break;
    }
}

void kk_idset__free(kk_idset *ids)
{
    for (int i = 0; i < ids->n; i++)
        free(ids->items[i]);
    for (int i = 0; i < ids->nkeys; i++)
        free(ids->keys[i]);
    for (int i = 0; i < ids->nkanji; i++)
        free(ids->kanji[i]);
    free(ids->kanji);
    ids->kanji = NULL;
    ids->nkanji = ids->capkanji = 0;
    free(ids->items);
    free(ids->lens);
    free(ids->keys);
    strindex_free(&ids->item_index);
    strindex_free(&ids->key_index);
    ids->items = NULL;
    ids->lens = NULL;
    ids->keys = NULL;
    ids->n = ids->cap = ids->nkeys = ids->capkeys = 0;
    ids->ndates = 0;
}

/* --- views of the text ------------------------------------------------ */

/* A folded view with its map to the original (identity for ASCII). */
typedef struct view {
    const char *s;
    size_t len;
    kk_ftext ft;      /* owns s when folded */
    char *low;        /* owns s when an ASCII lower-cased copy */
    bool identity;    /* s[i] came from in[i] */
} view;

static bool make_view(view *v, const char *in, size_t len, bool ascii, unsigned flags)
{
    memset(v, 0, sizeof *v);
    if (ascii) {
        v->identity = true;
        v->len = len;
        if (flags & KK_FOLD_CASE) {
            v->low = malloc(len + 1);
            if (!v->low)
                return false;
            for (size_t i = 0; i < len; i++)
                v->low[i] = (char)tolower((unsigned char)in[i]);
            v->low[len] = '\0';
            v->s = v->low;
        } else {
            v->s = in;
        }
        return true;
    }
    if (kk_text__fold(in, len, flags, &v->ft) != KK_OK)
        return false;
    v->s = v->ft.s;
    v->len = v->ft.len;
    return true;
}

static void free_view(view *v)
{
    free(v->low);
    kk_text__ftext_free(&v->ft);
}

/* Mark the original bytes behind view bytes [a, b). */
static void mark_span(const view *v, size_t a, size_t b, unsigned char *mark, size_t inlen)
{
    if (a >= b || b > v->len)
        return;
    size_t from = v->identity ? a : v->ft.from[a];
    size_t to = v->identity ? b : v->ft.to[b - 1];
    if (to > inlen)
        to = inlen;
    if (from < to)
        memset(mark + from, 1, to - from);
}

/* --- layer 1: patterns -------------------------------------------------- */

static bool allowed(const kk_cleaner *cl, const char *s, size_t n)
{
    for (int i = 0; i < cl->nallow; i++) {
        size_t l = strlen(cl->allow[i]);
        if (l != n)
            continue;
        size_t k = 0;
        while (k < n && tolower((unsigned char)s[k]) == (unsigned char)cl->allow[i][k])
            k++;
        if (k == n)
            return true;
    }
    return false;
}

/* n bytes of s are one of list's words (NULL-terminated), ASCII letters
 * in any case. */
static bool one_of(const char *s, size_t n, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (strlen(list[i]) == n && strncasecmp(s, list[i], n) == 0)
            return true;
    return false;
}

/* Whether the name a pattern took starts with a word of English text
 * rather than a name. */
static bool starts_common_word(const char *s, size_t n)
{
    static const char *const common[] = {
        "position", "name", "names", "id", "information", "info", "history", "comment",
        "comments", "orientation", "age", "sex", "weight", "size", "setup", "console", "room",
        "status", "table", "support", "contrast", "report", "note", "notes", "study", "series",
        "image", "images", "protocol", "department", "er", "icu", "or", "radiology", "station",
        "request", "in", "on", "at", "the", "and", "for", "of", "to", "with", "no", "not",
        "same", "unknown", "self", "data", "type", "mode", "list", "number", "code",
        /* what follows "...ed by", "partner", "doctor" in clinical text */
        "mri", "ct", "pet", "spect", "us", "ultrasound", "doppler", "echo", "gadolinium",
        "iodine", "biopsy", "surgery", "pathology", "histology", "cytology", "endoscopy",
        "angiography", "fluoroscopy", "scintigraphy", "ecg", "ekg", "eeg", "lab", "labs",
        "laboratory", "blood", "hospital", "clinic", "center", "centre", "university",
        "medical", "this", "that", "his", "her", "their", "family", "phone",
        "telephone", "email", "mail", "fax", "ambulance", "wheelchair", "stretcher",
        /* scores and classifications named after people, bodies */
        "recist", "bosniak", "gleason", "fleischner", "tnm", "who", "ethics", "committee",
        "board", "team", "staff", "service", "ward",
        /* what follows "patient" in code meanings and headings */
        "height", "state", "left", "right", "condition", "care", "preparation",
        /* and in notes: "Pt Denies pain" */
        "denies", "denied", "reports", "reported", "states", "stated", "complains",
        "presents", "presented", "has", "had", "is", "was", "tolerated", "underwent",
        "refused", "agreed", "consented", "arrived", "returned", "admitted", "discharged",
        "says", "said", "feels", "felt", "received", "given", "seen", "will", "may",
        /* after a Japanese cue: 担当 Ope室, 家族 Mother, 患者 Pt */
        "ope", "pt", "mother", "father", "wife", "husband", "son", "daughter",
        /* departments and shifts before or after a name's place:
         * Discussed with Cardiology, Charge RN notified */
        "cardiology", "neurology", "oncology", "urology", "ir", "ed", "medicine", "nursing",
        "pharmacy", "transport", "charge", "night", "day", "floor", "triage", "primary",
        "bedside", "unit", "him", "them", "patient", "pt's", "attending", "resident",
        "fellow", "tech", "clinic", "office", "reception", "front", "desk", "scheduling",
        /* staff abbreviations: 担当MSW 野口, 岡田 NS */
        "msw", "ns", "rn", "md", "ot", "st", "ce", "mt", "np", "pa", "dr", "ph", "phd",
        /* sides and views after RT/: RT/LT, AP/LAT */
        "rt", "lt", "lat", "ap", "lr", NULL
    };
    /* English nouns by their ending (Patient Verification, Patient
     * Characteristics): no surname ends so; -ance, -ence and -ght do
     * (Lawrence, Constance, Wright) */
    static const char *const noun_end[] = { "tion", "sion", "ity", "ness", "ment", "ics",
                                            "ogy", "ism", NULL };
    size_t w = 0;
    while (w < n && (isalpha((unsigned char)s[w]) || s[w] == '\''))
        w++;
    if (one_of(s, w, common))
        return true;
    for (int i = 0; noun_end[i]; i++) {
        size_t l = strlen(noun_end[i]);
        if (w >= l + 3 && strncasecmp(s + w - l, noun_end[i], l) == 0)
            return true;
    }
    return false;
}

/* True when words is NULL or one of its '|'-separated words is in z: a
 * cheap test before a regular expression with many alternatives. */
static bool has_word(const char *z, const char *words)
{
    if (!words)
        return true;
    for (const char *w = words; *w;) {
        size_t l = strcspn(w, "|");
        for (const char *p = strchr(z, w[0]); p; p = strchr(p + 1, w[0]))
            if (strncmp(p, w, l) == 0)
                return true;
        w += l;
        if (*w == '|')
            w++;
    }
    return false;
}

/* A run of letters and digits longer than any word or identifier (a
 * pasted hash, base64, a key held down) is an opaque token: it goes.
 * glibc's regexec takes time in the square of such a run (30,000 letters:
 * 6 s), so the patterns see it as bytes no pattern takes. */
#define LONG_RUN 64

static void hide_long_runs(const view *v, char *z, unsigned char *mark, size_t inlen)
{
    for (size_t i = 0; i < v->len;) {
        size_t j = i;
        while (j < v->len && isalnum((unsigned char)z[j]))
            j++;
        if (j - i > LONG_RUN) {
            mark_span(v, i, j, mark, inlen);
            memset(z + i, '\x01', j - i);
        }
        i = j > i ? j : i + 1;
    }
}

/* Two numbers joined by a slash right after two labels joined by one,
 * each label's value in its place (TR/TE 4000/90, WW/WL 400/40): a
 * measurement, not an ID. */
static bool paired_measurement(const char *z, size_t a, size_t b)
{
    int slashes = 0;
    for (size_t i = a; i < b; i++) {
        if (z[i] == '/')
            slashes++;
        else if (!isdigit((unsigned char)z[i]) && z[i] != '.')
            return false;
    }
    size_t i = a;
    while (i > 0 && (z[i - 1] == ' ' || z[i - 1] == ':' || z[i - 1] == '='))
        i--;
    if (slashes != 1 || i == a)
        return false;
    for (int label = 0; label < 2; label++) {
        size_t e = i;
        while (i > 0 && e - i < 5 && isalpha((unsigned char)z[i - 1]))
            i--;
        /* (an ID's label makes it an ID: ID/PW 1234/5678) */
        if (i == e || e - i > 4 || (e - i == 2 && strncasecmp(z + i, "id", 2) == 0) ||
            (e - i == 2 && strncasecmp(z + i, "no", 2) == 0))
            return false;
        if (label == 0) {
            if (i == 0 || z[i - 1] != '/')
                return false;
            i--;
        }
    }
    return i == 0 || !isalnum((unsigned char)z[i - 1]);
}

/* S and numbers right after the liver, a lung or a lobe (肝S5-6-8,
 * 右下葉S6/10, segment S2-3): Couinaud's and the lungs' segments, not a
 * Showa date. */
static bool organ_segment(const char *z, size_t a)
{
    static const char *const organs[] = { "肝", "肺", "葉", "segment ", "Segment ", "seg ", "Seg " };
    /* (segments run from 1 to 10) */
    bool ten = z[a + 1] == '1' && z[a + 2] == '0';
    if ((z[a] != 'S' && z[a] != 's') || (isdigit((unsigned char)z[a + 2]) && !ten))
        return false;
    for (size_t i = 0; i < sizeof organs / sizeof organs[0]; i++) {
        size_t k = strlen(organs[i]);
        if (a >= k && memcmp(z + a - k, organs[i], k) == 0)
            return true;
    }
    return false;
}

/* Spine levels joined by hyphens or slashes (T11-12-L1, Th12/L1, C5-6):
 * C, T, Th, L or S and a number up to 12, the letters after the first
 * optional. Not a code of letters and digits; and with T or S alone not
 * a date either (S5-6-8 is Showa 5, T11-12 Taisho 11), so those need
 * another level's letter or Th beside them. */
static bool spine_levels(const char *z, size_t a, size_t b)
{
    if (a > 0 && isalnum((unsigned char)z[a - 1]))
        return false;
    size_t i = a;
    bool not_era = false;
    for (int g = 0; i < b; g++) {
        if (g > 0) {
            if (z[i] != '-' && z[i] != '/')
                return false;
            i++;
        }
        if (i + 1 < b && z[i] == 'T' && z[i + 1] == 'h') {
            i += 2;
            not_era = true;
        } else if (i < b && strchr("CTLS", z[i])) {
            not_era = not_era || z[i] == 'C' || z[i] == 'L' || (g > 0 && (z[i] == 'S' || z[i] == 'T'));
            i++;
        } else if (g == 0) {
            return false;
        }
        int v = 0, d = 0;
        while (i < b && isdigit((unsigned char)z[i]) && d < 3) {
            v = v * 10 + (z[i++] - '0');
            d++;
        }
        if (d == 0 || d > 2 || v < 1 || v > 12)
            return false;
    }
    /* the next level's letter after the match: T11-12-L1 */
    if (!not_era && (z[b] == '-' || z[b] == '/') && z[b + 1] && strchr("CLST", z[b + 1]) &&
        (isdigit((unsigned char)z[b + 2]) || (z[b + 1] == 'T' && z[b + 2] == 'h')))
        not_era = true;
    return not_era;
}

/* A number shaped like an ID that is a code or a setting: a diffusion b
 * value (b1000), or one after a code system's or a lot's label (ICD-10
 * C3490, CPT 71250, DPC 040040, Lot A12345). */
static bool code_not_id(const char *z, size_t a, size_t b)
{
    if (z[a] == 'b' && b - a >= 4 && b - a <= 5) {
        int v = 0;
        size_t i = a + 1;
        while (i < b && isdigit((unsigned char)z[i]))
            v = v * 10 + (z[i++] - '0');
        if (i == b && v <= 5000 && (a == 0 || !isalnum((unsigned char)z[a - 1])))
            return true;
    }
    static const char *const labels[] = { "ICD-10", "ICD10", "ICD-9", "ICD9", "ICD", "ICD-O",
                                          "CPT", "DPC", "SNOMED", "SNOMED CT", "LOINC", "JJ1017",
                                          "RadLex", "Lot", "LOT", "lot", "Lot No.", "Lot no.",
                                          NULL };
    size_t e = a;
    while (e > 0 && (z[e - 1] == ' ' || z[e - 1] == ':' || z[e - 1] == '#'))
        e--;
    if (e == a && a > 0)
        return false;
    for (int i = 0; labels[i]; i++) {
        size_t l = strlen(labels[i]);
        if (e >= l && !memcmp(z + e - l, labels[i], l) &&
            (e == l || !isalnum((unsigned char)z[e - l - 1])))
            return true;
    }
    return false;
}

/* Two years joined by a hyphen or a slash, the second the same or a few
 * later (2024-2025 シーズン, FY2019/2020): a period, not a number. */
static bool year_range(const char *z, size_t a, size_t b)
{
    if (b - a != 9 || (z[a + 4] != '-' && z[a + 4] != '/'))
        return false;
    int y[2];
    for (int k = 0; k < 2; k++) {
        y[k] = 0;
        for (size_t i = a + (size_t)k * 5; i < a + (size_t)k * 5 + 4; i++) {
            if (!isdigit((unsigned char)z[i]))
                return false;
            y[k] = y[k] * 10 + (z[i] - '0');
        }
    }
    if (!(y[0] >= 1900 && y[0] <= 2099 && y[1] >= y[0] && y[1] - y[0] <= 10))
        return false;
    /* (after a phone's label it is a local number: 電話 2024-2025) */
    static const char *const phone[] = { "TEL", "Tel", "tel", "FAX", "Fax", "fax", "電話", "携帯",
                                         "連絡先", "PHS", "内線", NULL };
    size_t e = a;
    while (e > 0 && (z[e - 1] == ' ' || z[e - 1] == ':' || z[e - 1] == '.'))
        e--;
    for (int i = 0; phone[i]; i++) {
        size_t l = strlen(phone[i]);
        if (e >= l && !memcmp(z + e - l, phone[i], l))
            return false;
    }
    return true;
}

static void mark_patterns(const kk_cleaner *cl, const view *v, unsigned char *mark, size_t inlen)
{
    char small[512];
    char *z = v->len < sizeof small ? small : malloc(v->len + 1);
    if (!z)
        return;
    memcpy(z, v->s, v->len);
    z[v->len] = '\0';
    hide_long_runs(v, z, mark, inlen);
    for (size_t p = 0; p < NPATTERNS; p++) {
        if (!strpbrk(z, patterns[p].needs) || !has_word(z, patterns[p].words))
            continue;
        size_t off = 0;
        regmatch_t m[PATTERN_MATCHES];
        int g = patterns[p].group;
        while (off < v->len && regexec(&cl->re[p], z + off, PATTERN_MATCHES, m, off ? REG_NOTBOL : 0) == 0) {
            if (m[0].rm_eo <= m[0].rm_so) {
                off += (size_t)m[0].rm_so + 1;
                continue;
            }
            if (m[g].rm_so >= 0 && m[g].rm_eo > m[g].rm_so) {
                size_t a = off + (size_t)m[g].rm_so, b = off + (size_t)m[g].rm_eo;
                /* trailing spaces and separators a pattern took stay */
                while (b > a && (z[b - 1] == ' ' || z[b - 1] == '-'))
                    b--;
                if (!(patterns[p].allowable && (allowed(cl, z + a, b - a) || code_not_id(z, a, b))) &&
                    !(patterns[p].name && starts_common_word(z + a, b - a)) &&
                    !paired_measurement(z, a, b) && !organ_segment(z, a) && !year_range(z, a, b) &&
                    !spine_levels(z, a, b))
                    mark_span(v, a, b, mark, inlen);
            }
            /* the next search starts after the part removed, so a second
             * match can share the context bytes around it */
            size_t next = g && m[g].rm_eo > m[g].rm_so ? (size_t)m[g].rm_eo : (size_t)m[0].rm_eo;
            off += next > 0 ? next : 1;
        }
    }
    if (z != small)
        free(z);
}

/* --- layer 2 and 3: addresses and Japanese names ----------------------- */

/* Decode the code point at s[i] (valid UTF-8 from ICU). */
static unsigned cp_at(const char *s, size_t n, size_t i, size_t *k)
{
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80 || i + 1 >= n) {
        *k = 1;
        return c;
    }
    if (c < 0xE0) {
        *k = 2;
        return ((c & 0x1Fu) << 6) | ((unsigned char)s[i + 1] & 0x3Fu);
    }
    if (c < 0xF0 && i + 2 < n) {
        *k = 3;
        return ((c & 0x0Fu) << 12) | (((unsigned char)s[i + 1] & 0x3Fu) << 6) |
               ((unsigned char)s[i + 2] & 0x3Fu);
    }
    *k = c < 0xF0 ? 3 : 4;
    if (i + *k > n)
        *k = n - i;
    return 0x10000;
}

/* Characters a Japanese name is written in (after NFKC): kanji, katakana,
 * 々, ヶ, ー; hiragana only within a name that started otherwise. */
static bool is_kana(unsigned cp)
{
    return (cp >= 0x3041 && cp <= 0x3096) || (cp >= 0x30A1 && cp <= 0x30FA) || cp == 0x30FC;
}

static bool kanji_or_kata(unsigned cp)
{
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x30A1 && cp <= 0x30FA) || cp == 0x30FC || cp == 0x3005 || cp == 0x30F6 ||
           (cp >= 0xF900 && cp <= 0xFAFF);
}

/* Cue words before a name, and after one (honorifics, roles). */
static const char *const cues_before[] = {
    "主治医", "依頼医", "担当医", "紹介医", "執刀医", "指示医", "読影医", "検査医", "医師", "Dr",
    "担当者", "担当", "技師", "技師長", "看護師", "師長", "家族", "長男", "長女", "次男", "次女",
    "三男", "三女", "妻", "夫", "息子", "娘", "母", "父", "祖母", "祖父", "兄", "弟", "姉", "妹",
    "孫", "嫁", "配偶者", "キーパーソン", "連絡先", "緊急連絡先", "保護者", "患者", "患者名",
    "氏名", "紹介元", "紹介者", "依頼者", "記載者", "記録者", "入力者", "報告者", "確認者",
    "検者", "術者", "施行者", "名前", "撮影者", "検査者", "実施者", "旧姓", "付き添い", "付添",
    "Nurse", "Doctor", "Prof", "Mrs", "Mr", "Ms", "Ns", "同伴者", "代理人", "申込者", "研修医",
    "専門医", "指導医", "当直医", "麻酔科医", "医員",
    "薬剤師", "保健師", "助産師", "栄養士", "療法士", "ソーシャルワーカー", "ケアマネージャー",
    "ケアマネジャー", "ケアマネ", "受付", "事務", "秘書", "当直", "前医", "オーダー医", "執刀者",
    "助手", "介助者", "麻酔医", "立会者", "後見人", "ドクター ", "ドクター:", "姑", "舅", "叔父", "叔母",
    "伯父", "伯母", "従兄弟", "従姉妹", "義父", "義母", "義兄", "義姉", "義弟", "義妹", "彼氏",
    "彼女", "婚約者", "恋人", "友人", "知人", "隣人", "同僚", "上司", "部下", "大家", "担任",
    "通訳者", "通訳", "医療通訳", "付添い", "付き添い者", "付添者", NULL
};
static const char *const cues_after[] = {
    "様", "さま", "さん", "殿", "氏", "君", "くん", "ちゃん", "先生", "せんせい", "センセイ",
    "医師", "Dr", "Ns", "RN", "技師", "님", "씨", "선생님",
    "看護師", "師長", "副院長", "院長", "部長", "医長", "教授", "准教授", "講師", "課長", "係長",
    "主任", "社長", "所長", "隊長", "理事長", "会長", "看護部長", NULL
};

static size_t cue_at(const char *s, size_t n, size_t i, const char *const *cues)
{
    size_t best = 0;
    if (i >= n)
        return 0;
    for (int c = 0; cues[c]; c++) {
        if (cues[c][0] != s[i]) /* called at every byte: the first one decides most */
            continue;
        size_t l = strlen(cues[c]);
        if (l > best && i + l <= n && memcmp(s + i, cues[c], l) == 0)
            best = l;
    }
    return best;
}

static bool cue_sep(const char *s, size_t n, size_t i, size_t *k)
{
    static const char *const seps[] = { " ", ":", "：", ".", "・", "(", ")", "（", "）", "「", "」",
                                        "【", "】", "[", "]", "〔", "〕", "　", "=", "＝", "/",
                                        "-", NULL };
    for (int c = 0; seps[c]; c++) {
        size_t l = strlen(seps[c]);
        if (i + l <= n && memcmp(s + i, seps[c], l) == 0) {
            *k = l;
            return true;
        }
    }
    return false;
}

static bool namey(kk_tok_kind k)
{
    return k == KK_TOK_SURNAME || k == KK_TOK_GIVEN || k == KK_TOK_UNKNOWN || k == KK_TOK_PLACE;
}

/* The token that starts at byte i, or -1. */
/* The last token starting before i, or -1. Tokens come in text order:
 * a binary search, as a long value holds tens of thousands of them. */
static int tok_before(const kk_token *t, int nt, size_t i)
{
    int lo = 0, hi = nt;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (t[mid].off < i)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo - 1;
}

/* The token starting at i, or -1. */
static int tok_at(const kk_token *t, int nt, size_t i)
{
    int k = tok_before(t, nt, i) + 1;
    return k < nt && t[k].off == i ? k : -1;
}

static bool is_hangul(unsigned cp)
{
    return cp >= 0xAC00 && cp <= 0xD7A3;
}

/* The end of a run of characters in class from i, and how many there are. */
static size_t run_end(const char *s, size_t n, size_t i, bool (*in)(unsigned), int *chars)
{
    size_t k;
    *chars = 0;
    while (i < n && in(cp_at(s, n, i, &k))) {
        i += k;
        (*chars)++;
    }
    return i;
}

/* A name after a Japanese cue in another script: one or two capitalised
 * Latin words (Smith, John Smith, SMITH; not a common word or a modality:
 * 患者 CT), initials before them (S.HARA, J. K. Smith), or one or two runs
 * of Hangul (김철수). Its end, or i. */
static size_t other_script_name(const char *s, size_t n, size_t i)
{
    size_t a = i;
    for (int c = 0; c < 2 && a + 2 < n && isupper((unsigned char)s[a]) && s[a + 1] == '.'; c++) {
        a += 2;
        if (s[a] == ' ')
            a++;
    }
    if (a > i && !(a < n && isupper((unsigned char)s[a])))
        a = i;
    size_t e = a;
    for (int w = 0; w < 2; w++) {
        size_t b = e;
        if (w == 1) {
            if (b >= n || s[b] != ' ')
                break;
            b++;
        }
        size_t k, q = b;
        if (q < n && is_hangul(cp_at(s, n, q, &k))) {
            int chars = 0;
            while (q < n && chars < 5 && is_hangul(cp_at(s, n, q, &k))) {
                q += k;
                chars++;
            }
        } else if (q < n && isupper((unsigned char)s[q])) {
            while (q < n && (isalpha((unsigned char)s[q]) || s[q] == '\'' || s[q] == '-'))
                q++;
            bool caps = true;
            for (size_t c = b; c < q; c++)
                caps = caps && !islower((unsigned char)s[c]);
            if (q - b < 2 || (caps && q - b < 3) || starts_common_word(s + b, q - b) ||
                is_clinical_word(s + b, q - b) || (q < n && isdigit((unsigned char)s[q])))
                break;
        } else {
            break;
        }
        e = q;
    }
    return e > a ? e : i;
}

/* A run of name characters from i (at most max characters; one space
 * inside allowed when more name characters follow). Its end. */
static size_t name_run(const char *s, size_t n, size_t i, int max)
{
    size_t j = i;
    int chars = 0;
    bool spaced = false;
    while (j < n && chars < max) {
        size_t k;
        unsigned cp = cp_at(s, n, j, &k);
        if (kanji_or_kata(cp)) {
            j += k;
            chars++;
            continue;
        }
        if (!spaced && chars && (cp == ' ' || cp == 0x3000)) {
            size_t k2;
            if (j + k < n && kanji_or_kata(cp_at(s, n, j + k, &k2)) &&
                !cue_at(s, n, j + k, cues_after) && !cue_at(s, n, j + k, cues_before)) {
                spaced = true;
                j += k;
                continue;
            }
        }
        break;
    }
    return j;
}

/* The end of the run of at most max kanji from i. */
static bool kanji_proper(unsigned cp)
{
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || cp == 0x3005 ||
           (cp >= 0xF900 && cp <= 0xFAFF);
}

/* ヶ and 〻 before a kanji belong to the word (八ヶ代, 一ヶ谷, 佐〻木; a
 * counter after a digit, 3ヶ月, starts no run of names). */
static bool kanji_joiner(unsigned cp)
{
    return cp == 0x30F6 || cp == 0x303B;
}

static size_t kanji_run(const char *s, size_t n, size_t i, int max)
{
    size_t j = i, k, k2;
    for (int c = 0; j < n && c < max; c++) {
        unsigned cp = cp_at(s, n, j, &k);
        if (!kanji_proper(cp) &&
            !(kanji_joiner(cp) && j + k < n && kanji_proper(cp_at(s, n, j + k, &k2))))
            break;
        j += k;
    }
    return j;
}

/* The start of the run of at most max kanji that ends at e; *chars its
 * length in characters. */
static size_t kanji_run_before(const char *s, size_t n, size_t e, int max, int *chars)
{
    size_t b = e;
    *chars = 0;
    while (b > 0 && *chars < max) {
        size_t q = b - 1;
        while (q > 0 && ((unsigned char)s[q] & 0xC0) == 0x80)
            q--;
        size_t k, pb;
        if (kanji_run(s, n, q, 1) == q &&
            !(*chars > 0 && q > 0 && kanji_joiner(cp_at(s, n, q, &k)) &&
              kanji_proper(cp_before(s, n, q, &pb))))
            break;
        b = q;
        (*chars)++;
    }
    return b;
}

/* Whether the kanji before e ends a role or a place rather than a name:
 * 研修医, 各位, 職員, 事務室. */
static bool role_ending(const char *s, size_t e)
{
    static const char *const ends[] = { "医", "師", "科", "室", "院", "位", "員", "者", "方",
                                        "部", "課", "係", NULL };
    for (int i = 0; ends[i]; i++)
        if (e >= 3 && !memcmp(s + e - 3, ends[i], 3))
            return true;
    return false;
}

/* The start of the run of 2-4 kanji that ends at e and stands alone
 * (a break, の or the text's start before it), or e: a name before an
 * honorific the dictionary reads as a number or a word (二三四先生,
 * お孫さんの陽菜ちゃん). */
static size_t kanji_name_before(const char *s, size_t n, size_t e)
{
    int chars = 0;
    size_t b = kanji_run_before(s, n, e, 5, &chars);
    if (chars < 2 || chars > 4 || is_clinical_word(s + b, e - b) || cue_at(s, n, b, cues_before) ||
        cue_at(s, n, b, cues_after) || role_ending(s, e))
        return e;
    if (b > 0) {
        size_t q = b - 1;
        while (q > 0 && ((unsigned char)s[q] & 0xC0) == 0x80)
            q--;
        size_t k;
        unsigned cp = cp_at(s, n, q, &k);
        if (!(cp == ' ' || cp == 0x3000 || cp == 0x3001 || cp == 0x3002 || cp == ',' ||
              cp == ':' || cp == 0xFF1A || cp == '(' || cp == 0xFF08 || cp == 0x300C ||
              cp == 0x3010 || cp == 0x30FB || cp == 0x306E /* の */))
            return e;
    }
    return b;
}

/* A break after a name: space, punctuation, the end. */
static bool name_break(const char *s, size_t n, size_t i)
{
    if (i >= n)
        return true;
    size_t k;
    unsigned cp = cp_at(s, n, i, &k);
    return cp == ' ' || cp == 0x3000 || cp == 0x3001 || cp == 0x3002 || cp == ',' || cp == '.' ||
           cp == ')' || cp == 0xFF09 || cp == 0x300D || cp == 0x3011 || cp == '\r' ||
           cp == '\n' || cp == ':' || cp == 0xFF1A || cp == '^' || cp == '=' || cp == '\\' ||
           cp == '(' || cp == 0xFF08;
}

/* After a family name and a space, a given name the dictionary reads as
 * a number or splits (菊名　増一) or knows as a name but tags as a word
 * (仲里　公明): 1-3 kanji up to a break, not common nouns (田中 胸部 stays).
 * Its end, or g. */
static size_t given_as_words(const kk_cleaner *cl, const char *s, size_t n, const kk_token *t,
                             int nt, size_t g)
{
    size_t r = kanji_run(s, n, g, 3);
    if (r == g || !name_break(s, n, r) || is_clinical_word(s + g, r - g) ||
        cue_at(s, n, g, cues_after) || cue_at(s, n, g, cues_before) || role_ending(s, r))
        return g;
    /* a name the dictionary knows, whatever MeCab made of it here (裏澤
     * 救済: a verbal noun in a sentence) */
    if (kk_morph__is_name(cl->morph, s + g, r - g))
        return r;
    bool odd = false;
    for (int k = tok_at(t, nt, g); k >= 0 && k < nt && t[k].off < r; k++) {
        if (t[k].off + t[k].len > r || t[k].kind == KK_TOK_VNOUN)
            return g;
        odd |= t[k].kind == KK_TOK_NUMERAL || t[k].kind == KK_TOK_OTHER;
    }
    return odd ? r : g;
}

/* After a cue word, where the name that starts at j ends (within the
 * character run [j, e)): the name-like tokens there (person, place or
 * unknown words), or any nouns that stand alone between breaks (a name
 * the dictionary reads as a common word); then, after one space, the
 * given name when the dictionary knows it as a person's name. */
/* A language (英語, ポルトガル語): what an interpreter is for, not who. */
static bool language(const char *s, size_t len)
{
    return len >= 6 && !memcmp(s + len - 3, "語", 3);
}

static size_t cue_name_end(const kk_cleaner *cl, const char *s, size_t n, const kk_token *t,
                           int nt, size_t j, size_t e)
{
    int tk = tok_at(t, nt, j);
    if (tk < 0)
        return j;
    size_t end = j;
    int c = 0, k = tk;
    for (; k < nt && c < 3 && t[k].off == end && t[k].off + t[k].len <= e; k++, c++) {
        if (!namey(t[k].kind) || cue_at(s, n, t[k].off, cues_after))
            break;
        end = t[k].off + t[k].len;
    }
    if (end == j) {
        /* nouns standing alone: 担当技師 好奇 (a surname read as a word) */
        size_t q = j;
        bool nouns = true;
        for (k = tk; k < nt && t[k].off == q && q < e; k++) {
            if (t[k].kind != KK_TOK_NOUN && t[k].kind != KK_TOK_NUMERAL && !namey(t[k].kind) &&
                t[k].kind != KK_TOK_ORG && t[k].kind != KK_TOK_SUFFIX &&
                !(t[k].kind == KK_TOK_VNOUN && k - tk < 2))
                nouns = false;
            /* a job, a state or a loanword verb, not a name: 撮影者：放射線技師,
             * 報告者確認済, 技師コメント */
            size_t kl;
            unsigned first = cp_at(s, n, t[k].off, &kl);
            if (is_clinical_word(s + t[k].off, t[k].len) || language(s + t[k].off, t[k].len) ||
                cue_at(s, n, t[k].off, cues_before) == t[k].len ||
                cue_at(s, n, t[k].off, cues_after) == t[k].len ||
                (t[k].kind == KK_TOK_VNOUN && first >= 0x30A1 && first <= 0x30FA))
                nouns = false;
            q = t[k].off + t[k].len;
        }
        if (nouns && q > j && q <= e && name_break(s, n, q) && utf8_chars(s + j, q - j) <= 5 &&
            !is_clinical_word(s + j, q - j) && !cue_at(s, n, j, cues_after))
            end = q;
        /* a name the dictionary splits into a word and a verb stem
         * (担当技師 兼築): 2-4 kanji standing alone; or one it knows as a
         * name, even one that starts like an honorific (氏家) */
        if (end == j) {
            size_t r = kanji_run(s, n, j, 4);
            if (r > j && r <= e && name_break(s, n, r) && utf8_chars(s + j, r - j) >= 2 &&
                !is_clinical_word(s + j, r - j) && !starts_clinical(s + j, r - j) &&
                !language(s + j, r - j) &&
                (!cue_at(s, n, j, cues_after) || kk_morph__is_name(cl->morph, s + j, r - j)))
                end = r;
        }
        if (end == j)
            return end;
        /* then, after a space, its given name (来島 欠伸) */
    }
    /* a given name the dictionary reads as a word, up to the break:
     * 田島救済 */
    if (!name_break(s, n, end)) {
        size_t q = end;
        bool ok = true;
        for (k = tok_at(t, nt, end); k >= 0 && k < nt && t[k].off == q; k++) {
            kk_tok_kind kd = t[k].kind;
            if ((kd != KK_TOK_NOUN && kd != KK_TOK_VNOUN && kd != KK_TOK_NUMERAL &&
                 kd != KK_TOK_SUFFIX && kd != KK_TOK_ORG && !namey(kd)) ||
                cue_at(s, n, t[k].off, cues_after)) {
                ok = false;
                break;
            }
            q = t[k].off + t[k].len;
            if (name_break(s, n, q))
                break;
        }
        if (ok && q > end && name_break(s, n, q) && utf8_chars(s + end, q - end) <= 3)
            end = q;
    }
    /* family name, a space, given name */
    size_t g = end;
    while (g < n && s[g] == ' ')
        g++;
    if (g + 3 <= n && !memcmp(s + g, "\xe3\x80\x80", 3))
        g += 3;
    if (g > end && g < e) {
        int gk = tok_at(t, nt, g);
        size_t ge = g;
        for (k = gk; k >= 0 && k < nt && t[k].off == ge &&
                     (t[k].kind == KK_TOK_SURNAME || t[k].kind == KK_TOK_GIVEN ||
                      (t[k].kind == KK_TOK_UNKNOWN && name_break(s, n, t[k].off + t[k].len)));
             k++)
            ge = t[k].off + t[k].len;
        if (ge > g && is_clinical_word(s + g, ge - g))
            ge = g; /* 山田 正常: MeCab reads 正常 as a given name there */
        else if (ge == g)
            ge = given_as_words(cl, s, n, t, nt, g);
        if (ge > g)
            end = ge;
    }
    return end;
}

/* One kanji at a word's start, right before an honorific, that the
 * dictionary has as a surname (星先生の外来, 南さんより, 谷看護師が):
 * MeCab reads it as a word there. [a, b): that kanji. */
static bool lone_kanji_before_honorific(const kk_cleaner *cl, const char *s, size_t n, size_t a,
                                        size_t b)
{
    /* a word of its own with the honorific: 奥様, 皆さん, 娘さん, 神様 */
    static const char *const words[] = { "奥", "皆", "各", "娘", "嫁", "婿", "姉", "兄", "母", "父",
                                         "妹", "弟", "孫", "王", "神", "仏", "殿", "客", "姑", "舅",
                                         "坊", "旦", "親", "子", NULL };
    size_t k, q;
    if (a >= b || b > n || !kanji_proper(cp_at(s, n, a, &k)) || a + k != b ||
        one_of(s + a, b - a, words))
        return false;
    if (a > 0) {
        unsigned cp = cp_before(s, n, a, &q);
        if (kanji_or_kata(cp) || is_kana(cp) || isalnum((int)(cp < 0x80 ? cp : 0)))
            return false;
    }
    return kk_morph__is_name(cl->morph, s + a, b - a);
}

/* Kana words before an honorific that are family or everyday words, not
 * names: おとうさん, おばあちゃん, みなさん, ありがとう. */
static bool kana_word_not_name(const char *s, size_t len)
{
    static const char *const words[] = {
        "おとう", "おかあ", "おじい", "おばあ", "おにい", "おねえ", "おじ", "おば", "おっと",
        "おく", "おくさ", "とう", "かあ", "じい", "ばあ", "にい", "ねえ", "あか", "みな",
        "むすこ", "むすめ", "まご", "かぞく", "ごかぞく", "ほんにん", "ごほんにん", "かんじゃ",
        "ありがとう", "おつかれ", "ごくろう", "おじょう", "ぼっちゃん", "おとうと", "いもうと",
        "オトウ", "オカア", "オジイ", "オバア", "ミナ", NULL
    };
    return one_of(s, len, words);
}

/* Hiragana that says something, not who: いない, ところ, ほか. */
static bool kana_function_word(const char *s, size_t len)
{
    static const char *const words[] = { "いない", "います", "いました", "ありません", "あります",
                                         "おります", "おりません", "なかった", "できない", "しない",
                                         "ください", "ございます", "でした", "だった", "ところ",
                                         "ため", "もの", "こと", "すでに", "まだ", "ほか", "など",
                                         "のみ", "まで", "から", "より", "ので", "なし", "あり",
                                         "です", "ます", "らと", "たち", "ども", NULL };
    return one_of(s, len, words);
}

static bool kana_is_name(const kk_cleaner *cl, const char *s, size_t len, bool surname)
{
    if (kana_word_not_name(s, len))
        return false;
    char key[64];
    if (kk_text__kana_key(s, len, key, sizeof key) == 0)
        return false;
    return kk_morph__name_key(cl->morph, key, true) ||
           (!surname && kk_morph__name_key(cl->morph, key, false));
}

/* The kana word ending at e whose reading is a surname's (or, when
 * surname is false, a given name's or a surname's): its start, or e. When
 * surname is false the word may also be a surname and a given name with
 * no space between (わたなべたろう様), each of two kana or more: お + とう
 * in おとうさん is no name. */
static size_t kana_name_at_end(const kk_cleaner *cl, const char *s, size_t n, size_t e, bool surname)
{
    size_t at[9]; /* at[c]: where the c-th kana back from e starts */
    size_t b = e;
    int chars = 0;
    while (b > 0 && chars < 8) {
        size_t q = b - 1, k;
        while (q > 0 && ((unsigned char)s[q] & 0xC0) == 0x80)
            q--;
        unsigned cp = cp_at(s, n, q, &k);
        if (!((cp >= 0x3041 && cp <= 0x3096) || (cp >= 0x30A1 && cp <= 0x30FA) || cp == 0x30FC))
            break;
        b = q;
        at[++chars] = b;
    }
    if (chars < 2 || kana_word_not_name(s + b, e - b))
        return e;
    if (kana_is_name(cl, s + b, e - b, surname))
        return b;
    if (surname || chars < 4)
        return e;
    for (int g = 2; g <= chars - 2; g++)
        if (kana_is_name(cl, s + at[g], e - at[g], false) &&
            kana_is_name(cl, s + b, at[g] - b, true))
            return b;
    return e;
}

/* The 1-3 kanji right before start, when the dictionary has them as a
 * person's name: their start, or start. */
static size_t known_name_before(const kk_cleaner *cl, const char *s, size_t n, size_t start)
{
    int chars = 0;
    size_t b = kanji_run_before(s, n, start, 3, &chars);
    /* the longest known name ending at start */
    for (size_t a = b; a < start; a += 3) {
        while (a < start && ((unsigned char)s[a] & 0xC0) == 0x80)
            a++;
        if (a < start && !is_clinical_word(s + a, start - a) &&
            kk_morph__is_name(cl->morph, s + a, start - a))
            return a;
    }
    return start;
}

/* A name in hiragana right after a cue (夫（たけし）): the hiragana up to a
 * break, when its reading is a name's in the dictionary and it is three
 * kana or more, or the dictionary tags it as a name (あり, なし stay).
 * Its end, or j. */
static size_t kana_name_after(const kk_cleaner *cl, const char *s, size_t n, const kk_token *t,
                              int nt, size_t j)
{
    size_t e = j, k;
    int chars = 0;
    while (e < n && chars < 8) {
        unsigned cp = cp_at(s, n, e, &k);
        if (!(cp >= 0x3041 && cp <= 0x3096) && cp != 0x30FC)
            break;
        e += k;
        chars++;
    }
    if (chars < 2 || !name_break(s, n, e))
        return j;
    int tk = tok_at(t, nt, j);
    bool tagged = tk >= 0 && t[tk].off + t[tk].len == e &&
                  (t[tk].kind == KK_TOK_SURNAME || t[tk].kind == KK_TOK_GIVEN);
    if (kana_function_word(s + j, e - j))
        return j;
    if (chars < 3 && !tagged)
        return j;
    return tagged || kana_name_at_end(cl, s, n, e, false) == j ? e : j;
}

/* Family cues: what follows them is as often a disease (父 胃癌, 姉 SLE,
 * 家族歴) or a word they start (母斑, 母指) as a name. */
static bool is_family_cue(const char *s, size_t len)
{
    static const char *const family[] = { "家族", "長男", "長女", "次男", "次女", "三男", "三女",
                                          "妻", "夫", "息子", "娘", "母", "父", "祖母", "祖父",
                                          "兄", "弟", "姉", "妹", "孫", "嫁", "配偶者", "姑", "舅",
                                          "叔父", "叔母", "伯父", "伯母", "従兄弟", "従姉妹", "義父",
                                          "義母", "義兄", "義姉", "義弟", "義妹", "彼氏", "彼女",
                                          "婚約者", "恋人", "友人", "知人", "隣人", "同僚", "上司",
                                          "部下", "大家", "担任", NULL };
    return one_of(s, len, family);
}

/* Katakana only loanwords write: small vowels (ウィ, ファ), ヴ, the long
 * mark (モーション); names in katakana have none of them. */
static bool loanword_kana(const char *s, size_t off, size_t len)
{
    for (size_t q = off, k; q < off + len; q += k) {
        unsigned cp = cp_at(s, off + len, q, &k);
        if (cp == 0x30FC || cp == 0x30A1 || cp == 0x30A3 || cp == 0x30A5 || cp == 0x30A7 ||
            cp == 0x30A9 || cp == 0x30EE || cp == 0x30F4)
            return true;
    }
    return false;
}

/* A disease, sign or classification named after a person (橋本病,
 * 高安動脈炎, 木村分類): the name right before it is an eponym, not a
 * person in the record; 病院, 病状 and 症例 after a name are a hospital,
 * someone's condition and a case, so those stay names. */
static bool eponym_after(const char *s, size_t n, size_t e)
{
    static const char *const noun[] = { "病", "症候群", "症", "動脈炎", "甲状腺炎", "脳炎",
                                        "分類", "基準", "徴候", "兆候", "法", "病型", "母斑",
                                        "反射", "脳症", "型", "奇形", "窩", "孔", "噴門", "手術",
                                        /* scores, devices, toxins, tests: 長谷川式,
                                         * 井上バルーン, 志賀毒素 */
                                        "式", "毒素", "菌", "バルーン", "カテーテル", "鉗子",
                                        "試験", "スコア", "変法", "細胞", "小体",
                                        /* spots, clips, nephritis, intelligence
                                         * tests: 永山斑, 杉田クリップ, 馬杉腎炎,
                                         * 田中ビネー */
                                        "斑", "クリップ", "腎炎", "ビネー", "腫", "線",
                                        "結節", "膜", "靱帯", "靭帯", "筋",
                                        /* a therapy: 森田療法 */
                                        "療法", NULL };
    static const char *const not_after[] = { "病院", "病棟", "病室", "病床", "病状", "病歴",
                                             "病名", "病理", "症例", "症状", "法人", "法律",
                                             "療法士", NULL };
    for (int i = 0; not_after[i]; i++) {
        size_t l = strlen(not_after[i]);
        if (e + l <= n && !memcmp(s + e, not_after[i], l))
            return false;
    }
    for (int i = 0; noun[i]; i++) {
        size_t l = strlen(noun[i]);
        if (e + l <= n && !memcmp(s + e, noun[i], l))
            return true;
    }
    /* two names joined by a hyphen or ・ before the noun: 中條-西村症候群 */
    size_t j = e, k;
    if (j < n && (s[j] == '-' || s[j] == '=')) {
        j++;
    } else if (j + 3 <= n && (!memcmp(s + j, "・", 3) || !memcmp(s + j, "－", 3) ||
                              !memcmp(s + j, "＝", 3))) {
        j += 3;
    } else {
        return false;
    }
    size_t r = j;
    for (int c = 0; r < n && c < 6 && kanji_or_kata(cp_at(s, n, r, &k)); c++)
        r += k;
    if (r == j)
        return false;
    for (int i = 0; noun[i]; i++) {
        size_t l = strlen(noun[i]);
        for (size_t q = j + 1; q <= r; q++)
            if (q + l <= n && !memcmp(s + q, noun[i], l))
                return true;
    }
    return false;
}

/* A family name in kana, a space before the given name a cue follows
 * (すずき いちろう氏, ｽｽﾞｷ ｲﾁﾛｳ様): kana the dictionary does not tag as a
 * name, taken when its reading is a surname's. Returns the new start. */
static size_t kana_surname_before(const kk_cleaner *cl, const char *s, size_t n, size_t start)
{
    size_t e = start, k;
    unsigned first = cp_at(s, n, start, &k);
    if (e > 0 && s[e - 1] == ' ')
        e--;
    else if (e >= 3 && !memcmp(s + e - 3, "\xe3\x80\x80", 3))
        e -= 3;
    else if (!is_kana(first)) /* たなかひろしさん: kana after kana, no space */
        return start;
    size_t b = kana_name_at_end(cl, s, n, e, true);
    return b < e ? b : start;
}

/* The length of a closing bracket or quote that ends at e right after a
 * kanji or kana (〕 in 〔千葉〕), or 0. */
static size_t closing_bracket_before(const char *s, size_t n, size_t e)
{
    static const char *const close[] = { "〕", "】", "」", "』", "）", "〉", "》", "”", ")", "]",
                                         NULL };
    for (int c = 0; close[c]; c++) {
        size_t l = strlen(close[c]);
        if (e >= l + 3 && !memcmp(s + e - l, close[c], l)) {
            size_t q = e - l - 1, k;
            while (q > 0 && ((unsigned char)s[q] & 0xC0) == 0x80)
                q--;
            unsigned cp = cp_at(s, n, q, &k);
            return kanji_or_kata(cp) || is_kana(cp) ? l : 0;
        }
    }
    return 0;
}

/* Whether the tokens in [a, b) are all common nouns and suffixes (結節,
 * 腫瘤, 索状影): no name, number or unknown word among them. */
static bool nouns_only(const kk_token *t, int nt, size_t a, size_t b)
{
    if (a >= b)
        return false;
    for (int k = 0; k < nt; k++) {
        if (t[k].off + t[k].len <= a || t[k].off >= b)
            continue;
        if (t[k].off < a || t[k].off + t[k].len > b ||
            (t[k].kind != KK_TOK_NOUN && t[k].kind != KK_TOK_SUFFIX && t[k].kind != KK_TOK_VNOUN))
            return false;
    }
    return true;
}

static bool is_katakana(unsigned cp)
{
    return (cp >= 0x30A1 && cp <= 0x30FA) || cp == 0x30FC;
}

/* The code point that ends at e, its start in *b. */
static unsigned cp_before(const char *s, size_t n, size_t e, size_t *b)
{
    size_t q = e - 1, k;
    while (q > 0 && ((unsigned char)s[q] & 0xC0) == 0x80)
        q--;
    *b = q;
    return cp_at(s, n, q, &k);
}

/* A name in katakana before an honorific, whole: the katakana glued
 * before the part the dictionary tagged (ミン in キム・ミンジュン), and
 * the names before a middle dot or an equals sign (ジョン・スミス様). The
 * new start. */
static size_t katakana_name_start(const char *s, size_t n, size_t start)
{
    size_t k, q;
    if (!is_katakana(cp_at(s, n, start, &k)))
        return start;
    for (int parts = 0, chars = 0; start > 0 && parts < 3 && chars < 16;) {
        unsigned cp = cp_before(s, n, start, &q);
        if (is_katakana(cp)) {
            start = q;
            chars++;
            continue;
        }
        /* (the parts of a foreign name: ・, ＝, or a hyphen: ワタナベ－ケンジ) */
        if ((cp == 0x30FB || cp == '=' || cp == 0xFF1D || cp == '-' || cp == 0xFF0D) && q > 0 &&
            is_katakana(cp_before(s, n, q, &k))) {
            start = q;
            parts++;
            continue;
        }
        break;
    }
    return start;
}

/* After a name a cue took, its given name after a middle dot (村田・誠):
 * 1-3 kanji up to a break. The new end. */
static size_t dotted_given_end(const char *s, size_t n, size_t e)
{
    if (e + 3 > n || memcmp(s + e, "・", 3))
        return e;
    size_t r = kanji_run(s, n, e + 3, 3);
    if (r == e + 3 || !name_break(s, n, r) || is_clinical_word(s + e + 3, r - e - 3) ||
        cue_at(s, n, e + 3, cues_after) || cue_at(s, n, e + 3, cues_before))
        return e;
    return r;
}

/* A name in katakana, its parts joined by middle dots (アンナ・コワルスカ,
 * マリア・サントス), at j: the end of the last part when there are two
 * parts or more of two kana or more, else j. After a cue, a foreign name
 * is written so; a loanword of two parts (ポータブル・撮影) is rarely one. */
static size_t katakana_parts_end(const char *s, size_t n, size_t j)
{
    size_t e = j, k;
    int parts = 0;
    for (;;) {
        size_t q = e;
        int chars = 0;
        for (; q < n && is_katakana(cp_at(s, n, q, &k)); q += k)
            chars++;
        if (chars < 2)
            break;
        e = q;
        parts++;
        if (e + 3 > n || memcmp(s + e, "・", 3))
            break;
        size_t after;
        unsigned next = e + 3 < n ? cp_at(s, n, e + 3, &after) : 0;
        if (!(next >= 0x30A1 && next <= 0x30FA))
            break;
        e += 3;
    }
    if (parts < 2)
        return j;
    return e;
}

/* Whether a token names a clinic or a department (内科, 医院, クリニック):
 * the name before it (堀内科) is a person's. */
static bool clinic_token(const char *s, kk_token t)
{
    const char *e = s + t.off + t.len;
    return (t.len >= 3 && (!memcmp(e - 3, "科", 3) || !memcmp(e - 3, "院", 3))) ||
           (t.len == strlen("クリニック") && !memcmp(s + t.off, "クリニック", t.len));
}

/* Whether a kanji ends at a. */
static bool kanji_before(const char *s, size_t n, size_t a)
{
    size_t q;
    if (a == 0)
        return false;
    cp_before(s, n, a, &q);
    return kanji_run(s, n, q, 1) > q;
}

/* Whether what follows a place says it is one: a municipality's or a
 * block's suffix, a station, where someone lives or comes from. */
static bool place_suffix_at(const char *s, size_t n, size_t e)
{
    static const char *const after[] = { "市", "区", "町", "村", "郡", "都", "道", "府", "県",
                                         "島", "駅", "港", "線", "通", "丁目", "在住", "出身",
                                         "在", "方面", "地区", NULL };
    return cue_at(s, n, e, after) != 0;
}

/* Whether a place the dictionary tagged is part of a longer word: one
 * kanji glued to the kanji after it (細 in 心房細動, 立 in 立位) that
 * makes it no place, or a place glued to a vessel or a nerve (上大静脈). */
/* A region larger than a prefecture (西日本, 関東, 九州, アフリカ): where a
 * disease is endemic or someone travelled, identifying no one. */
static bool broad_region(const char *s, size_t len)
{
    static const char *const regions[] = {
        "日本", "東日本", "西日本", "北日本", "東北", "関東", "北関東", "南関東", "甲信越", "信越",
        "北陸", "東海", "中部", "近畿", "関西", "山陰", "山陽", "四国", "九州", "南九州",
        "アジア", "東南アジア", "東アジア", "南アジア", "中東", "アフリカ", "ヨーロッパ", "欧州",
        "北米", "南米", "中南米", "オセアニア", NULL
    };
    return one_of(s, len, regions);
}

static bool inside_word(const char *s, size_t n, kk_token t, bool suffixed)
{
    static const char *const anatomy[] = { "静脈", "動脈", "神経", NULL };
    size_t a = t.off, e = t.off + t.len;
    if (cue_at(s, n, e, anatomy))
        return true;
    if (suffixed || kanji_run(s, n, a, 1) == a)
        return false;
    bool glued_after = e < n && kanji_run(s, n, e, 1) > e && !cue_at(s, n, e, cues_after) &&
                       !cue_at(s, n, e, cues_before) && !place_suffix_at(s, n, e);
    if (utf8_chars(s + a, t.len) == 1)
        return glued_after;
    /* two kanji with kanji on both sides, none of them a place's suffix:
     * the middle of a word (肺野条件) */
    static const char *const suffixes[] = { "市", "区", "町", "村", "郡", "都", "道", "府", "県", NULL };
    size_t q;
    return utf8_chars(s + a, t.len) == 2 && glued_after && kanji_before(s, n, a) &&
           (cp_before(s, n, a, &q), !cue_at(s, n, q, suffixes));
}

/* After a family name the dictionary knows and a space, a given name of
 * one kanji standing alone (張 偉 様, 小沢 花 80歳): the end of that
 * kanji, or 0. Not a side, a count or a word one kanji writes. */
static size_t one_kanji_given(const char *s, size_t n, size_t e)
{
    static const char *const words[] = {
        "左", "右", "両", "上", "下", "前", "後", "内", "外", "中", "他", "済", "可", "否", "無",
        "有", "要", "不", "等", "計", "高", "低", "大", "小", "多", "少", "新", "旧", "全", "半",
        "初", "再", "様", "殿", "氏", "君", "一", "二", "三", "四", "五", "六", "七", "八", "九",
        "十", "百", "千", "〇", "妻", "夫", "父", "母", "兄", "弟", "姉", "妹", "娘", "孫", "嫁",
        "宅", "方", "家", "院", "科", "室", "棟", "階", "号", "歳", "才", "回", "日", "月", "年",
        "時", "分", "秒", "例", "名", "人", "頃", "朝", "昼", "夜", "今", "昨", "明", "本", "当",
        "同", "別", "着", "発", "入", "退", "来", "帰", "済", "未", "要", "了", "否", "是", "非",
        "良", "悪", "軽", "重", "急", "死", "生", "病", "痛", "熱", "咳", "癌", "薬", "血", "第",
        "約", "各", "毎", "翌", "次", "数", "計", "超", "副", "主", "準", "総", NULL
    };
    size_t g = e;
    while (g < n && s[g] == ' ')
        g++;
    while (g + 3 <= n && !memcmp(s + g, "\xe3\x80\x80", 3))
        g += 3;
    if (g == e)
        return 0;
    size_t r = kanji_run(s, n, g, 2);
    if (r != kanji_run(s, n, g, 1) || r == g || cue_at(s, n, g, words) == r - g)
        return 0;
    size_t k;
    if (!(name_break(s, n, r) || cue_at(s, n, r, cues_after) || (r < n && isdigit((unsigned char)s[r])) ||
          (r < n && cp_at(s, n, r, &k) == ' ')))
        return 0;
    return r;
}

/* Before a Latin name a Japanese honorific follows (Hassan 様), its
 * first name after a space (Ali Hassan 様). The new start. */
static size_t latin_name_start(const char *s, size_t start)
{
    if (!isupper((unsigned char)s[start]) || start < 3 || s[start - 1] != ' ')
        return start;
    size_t q = start - 1;
    while (q > 0 && isalpha((unsigned char)s[q - 1]))
        q--;
    if (q + 2 > start - 1 || !isupper((unsigned char)s[q]) || (q > 0 && isalnum((unsigned char)s[q - 1])) ||
        starts_common_word(s + q, start - 1 - q))
        return start;
    for (size_t c = q + 1; c < start - 1; c++)
        if (!islower((unsigned char)s[c]))
            return start;
    return q;
}

static bool is_kanji_cp(unsigned cp)
{
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || cp == 0x3005;
}

/* The length of a separator between the kanji of a split name ending at
 * e: spaces, a hyphen, a dash or a middle dot. */
static size_t split_sep_before(const char *s, size_t e)
{
    size_t b = e;
    for (;;) {
        if (b > 0 && (s[b - 1] == ' ' || s[b - 1] == '-'))
            b--;
        else if (b >= 3 && (!memcmp(s + b - 3, "\xe3\x80\x80", 3) || !memcmp(s + b - 3, "\xe2\x80\x90", 3) ||
                            !memcmp(s + b - 3, "\xe3\x83\xbb", 3)))
            b -= 3;
        else
            return e - b;
    }
}

/* The start of two to four single kanji, each apart from the next, that
 * end at e; e when there are none. */
static size_t spaced_kanji_name(const char *s, size_t n, size_t e)
{
    size_t a = e, first = e;
    int units = 0;
    while (units < 4) {
        size_t q;
        if (a == 0 || !is_kanji_cp(cp_before(s, n, a, &q)))
            break;
        units++;
        first = q;
        size_t sl = split_sep_before(s, q);
        if (!sl || q - sl == 0)
            break;
        a = q - sl;
    }
    if (units < 2 || (first > 0 && is_kanji_cp(cp_before(s, n, first, &a))))
        return e;
    /* a side or both: 左 肺 様, 両 側 */
    if (!memcmp(s + first, "左", 3) || !memcmp(s + first, "右", 3) || !memcmp(s + first, "両", 3))
        return e;
    return first;
}

/* Is cp one of the characters of set (n bytes of UTF-8)? */
static bool cp_in(const char *set, size_t n, unsigned cp)
{
    for (size_t i = 0; i < n;) {
        size_t k;
        if (cp_at(set, n, i, &k) == cp)
            return true;
        i += k;
    }
    return false;
}

/* The common Chinese and Korean family names of one kanji. */
static bool cjk_surname(unsigned cp)
{
    static const char fam[] = "王李張劉陳楊黄趙周呉徐孫朱馬胡郭林何高羅鄭梁謝宋唐許韓馮鄧曹彭曾蕭田董"
                              "潘袁蔡蒋余于杜葉程魏蘇呂丁任沈姚盧姜崔鍾譚陸汪范金石廖賈夏韋付方白鄒孟"
                              "熊秦邱江尹薛閻段雷侯龍史陶黎賀顧毛郝龔邵萬錢厳覃武戴莫孔向湯朴申権安柳"
                              "洪全文裵南河成車具禹辛閔兪池元千玄咸卞廉卓都魯魚秋慎";
    return cp_in(fam, sizeof fam - 1, cp);
}

/* After a name, a verb that says a person came, called or was told:
 * と面談, が来院, に説明, から電話, 同席. Its length, or 0. */
static size_t person_verb_at(const char *s, size_t n, size_t i)
{
    static const char *const particles[] = { "から", "より", "と", "が", "に", "へ", "は", "も", "、",
                                             NULL };
    static const char *const verbs[] = { "面談", "来院", "説明", "電話", "同席", "同伴", "面会",
                                         "連絡", "相談", "来所", "付き添", "付添", "来棟", NULL };
    size_t j = i;
    for (int p = 0; particles[p]; p++) {
        size_t l = strlen(particles[p]);
        if (j + l <= n && !memcmp(s + j, particles[p], l)) {
            j += l;
            break;
        }
    }
    for (int w = 0; verbs[w]; w++) {
        size_t l = strlen(verbs[w]);
        if (j + l <= n && !memcmp(s + j, verbs[w], l))
            return j + l - i;
    }
    return 0;
}

/* After a word, a particle and a verb that only a person does there: the
 * word did it, was asked or told (黒田が対応, 大橋から受けた, 本田の判断,
 * 安藤へ報告). Its length, or 0. For the names MeCab reads as a common
 * word or a company (黒田, 清水, 本田) where nothing else says person. */
static size_t agent_verb_at(const char *s, size_t n, size_t i)
{
    static const struct {
        const char *particle;
        const char *const verbs[24];
    } forms[] = {
        { "が", { "対応", "担当", "施行", "実施", "確認", "判断", "説明", "報告", "記載", "指示",
                  "読影", "執刀", "穿刺", "行", "承認", "付き添", "付添", "同伴", "同席", "来院",
                  "面会", NULL } },
        { "から", { "受け", "報告", "連絡", "指示", "申し送", "依頼", "説明", "電話", NULL } },
        { "より", { "報告", "連絡", "指示", "申し送", "依頼", "説明", "電話", NULL } },
        { "の", { "判断", "指示", "判定", "確認", "記載", "報告", "依頼", "指摘", "見解", "意見",
                  "読影", "執刀", "許可", "承認", NULL } },
        { "に", { "報告", "連絡", "確認", "依頼", "相談", "説明", "申し送", NULL } },
        { "へ", { "報告", "連絡", "確認", "依頼", "相談", "説明", "申し送", NULL } },
        { "と", { "面談", "相談", "協議", "同席", NULL } },
    };
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        size_t l = strlen(forms[f].particle);
        if (i + l > n || memcmp(s + i, forms[f].particle, l) != 0)
            continue;
        size_t v = cue_at(s, n, i + l, forms[f].verbs);
        if (v)
            return l + v;
    }
    return 0;
}

/* Whether a company MeCab knows is where someone works: after a label of
 * work (職業：ヤマト運輸, 勤務先 トヨタ自動車) or before a word of it
 * (佐川急便勤務, ヤマト運輸の社員, トヨタ自動車を退職). */
static bool employer_at(const char *s, size_t n, size_t a, size_t e)
{
    static const char *const after[] = { "勤務", "に勤務", "で勤務", "勤め", "に勤め", "で勤め", "在籍",
                                         "社員", "の社員", "従業員", "の従業員", "を退職", "退職",
                                         "に就職", "入社", "に入社", "に勤", NULL };
    static const char *const labels[] = { "職業", "勤務先", "勤め先", "会社", "所属", "就労先", "職場",
                                          "元職", "前職", "雇用主", NULL };
    if (cue_at(s, n, e, after))
        return true;
    size_t b = a;
    while (b > 0 && (s[b - 1] == ' ' || s[b - 1] == ':'))
        b--;
    if (b >= 3 && !memcmp(s + b - 3, "：", 3))
        b -= 3;
    while (b > 0 && s[b - 1] == ' ')
        b--;
    for (int i = 0; labels[i]; i++) {
        size_t l = strlen(labels[i]);
        if (b >= l && !memcmp(s + b - l, labels[i], l))
            return true;
    }
    return false;
}

/* A Chinese or Korean name in kanji (王 小明 さん, 黄志強と面談, 周杰が
 *来院): a common one-kanji family name, no kanji before it, then one to
 * three kanji (after a space too) that the dictionary does not read as a
 * word of two kanji or more, then an honorific or a person verb. The
 * name's end, or a. */
static size_t cjk_kanji_name(const char *s, size_t n, const kk_token *t, int nt, size_t a)
{
    size_t k;
    if (nt <= 0 || !cjk_surname(cp_at(s, n, a, &k)))
        return a;
    if (kanji_before(s, n, a)) {
        /* after a word of two kanji or more (本日黄志強と面談), not
         * inside one */
        int p = tok_before(t, nt, a);
        if (p < 0 || t[p].off + t[p].len != a || tok_at(t, nt, a) < 0 || namey(t[p].kind) ||
            utf8_chars(s + t[p].off, t[p].len) < 2)
            return a;
    }
    size_t g = a + k;
    if (g < n && s[g] == ' ')
        g++;
    else if (g + 3 <= n && !memcmp(s + g, "\xe3\x80\x80", 3))
        g += 3;
    size_t e = g;
    for (int c = 0; c < 3; c++) {
        size_t r = kanji_run(s, n, e, 1);
        if (r == e || (c > 0 && cue_at(s, n, e, cues_after)))
            break;
        e = r;
        size_t q = e;
        if (q < n && s[q] == ' ')
            q++;
        if (!cue_at(s, n, q, cues_after) && !person_verb_at(s, n, q))
            continue;
        /* 林宅へ連絡, 張医師: a household or a role after the family name */
        static const char *const household[] = { "宅", "家", "邸", NULL };
        if (e - g >= 3 && (cue_at(s, n, e - 3, household) || role_ending(s, e)))
            return a;
        /* a word of the dictionary is no name: 高血圧, 周囲, 全身 */
        if (is_clinical_word(s + a, e - a) || is_clinical_word(s + g, e - g))
            return a;
        for (int m = tok_before(t, nt, a) + 1; m < nt && t[m].off < e; m++) {
            if (t[m].off < a)
                continue;
            size_t in = (t[m].off + t[m].len < e ? t[m].off + t[m].len : e) - t[m].off;
            if (utf8_chars(s + t[m].off, in) > 1 && !namey(t[m].kind) &&
                t[m].kind != KK_TOK_SYMBOL)
                return a;
        }
        return e;
    }
    return a;
}

static void mark_japanese(const kk_cleaner *cl, const view *v, unsigned char *mark, size_t inlen)
{
    const char *s = v->s;
    size_t n = v->len;
    kk_token stack[256];
    kk_token *t = stack;
    int maxt = (int)(sizeof stack / sizeof stack[0]);
    if (n / 2 + 8 > (size_t)maxt) {
        maxt = (int)(n / 2 + 8);
        t = malloc((size_t)maxt * sizeof *t);
        if (!t)
            return;
    }
    int nt = kk_morph__tokens(cl->morph, s, n, t, maxt);
    /* names and places the dictionary knows */
    for (int k = 0; k < nt; k++) {
        if (t[k].kind == KK_TOK_SURNAME || t[k].kind == KK_TOK_GIVEN) {
            /* a kana-only name token alone (マイ in マイナンバー) is a name
             * only next to another name token */
            bool kanji = false;
            for (size_t q = t[k].off; q < t[k].off + t[k].len;) {
                size_t kl;
                unsigned cp = cp_at(s, n, q, &kl);
                if ((cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF))
                    kanji = true;
                q += kl;
            }
            bool next_name = (k > 0 && (t[k - 1].kind == KK_TOK_SURNAME || t[k - 1].kind == KK_TOK_GIVEN)) ||
                             (k + 1 < nt && (t[k + 1].kind == KK_TOK_SURNAME || t[k + 1].kind == KK_TOK_GIVEN));
            /* モー + ション: a loanword MeCab splits into names */
            if (!kanji && next_name &&
                (loanword_kana(s, t[k].off, t[k].len) ||
                 (k > 0 && loanword_kana(s, t[k - 1].off, t[k - 1].len)) ||
                 (k + 1 < nt && loanword_kana(s, t[k + 1].off, t[k + 1].len))))
                next_name = false;
            /* 山田 正常: MeCab reads a finding after a surname as a given name */
            /* 木村竹本分類: two names, one eponym */
            size_t end = t[k].off + t[k].len;
            if (k + 1 < nt && t[k + 1].off == end &&
                (t[k + 1].kind == KK_TOK_SURNAME || t[k + 1].kind == KK_TOK_GIVEN) &&
                eponym_after(s, n, t[k + 1].off + t[k + 1].len))
                end = t[k + 1].off + t[k + 1].len;
            /* 寛骨臼, 陳旧性, 起始異常: one kanji the dictionary also
             * lists as a name, glued to a noun, is part of a word */
            static const char *const household[] = { "宅", "家", "方", "邸", "夫妻", "夫婦", NULL };
            bool glued = k + 1 < nt && t[k + 1].off == end && utf8_chars(s + t[k].off, t[k].len) == 1 &&
                         kanji_run(s, n, end, 1) > end && !cue_at(s, n, end, cues_after) &&
                         !cue_at(s, n, end, household) && !clinic_token(s, t[k + 1]) &&
                         (t[k + 1].kind == KK_TOK_NOUN || t[k + 1].kind == KK_TOK_SUFFIX ||
                          kanji_before(s, n, t[k].off));
            if ((kanji || next_name) && !glued && !is_clinical_word(s + t[k].off, t[k].len) &&
                !in_clinical_word(s, n, t[k].off, t[k].off + t[k].len) &&
                !eponym_after(s, n, end))
                mark_span(v, t[k].off, t[k].off + t[k].len, mark, inlen);
            continue;
        }
        /* a family name MeCab reads as a word, a company or a place,
         * doing what a person does: 黒田が対応, 本田の判断 */
        size_t e = t[k].off + t[k].len;
        if (t[k].kind != KK_TOK_SYMBOL && t[k].kind != KK_TOK_OTHER && utf8_chars(s + t[k].off, t[k].len) >= 2 &&
            kanji_run(s, n, t[k].off, 4) == e && !kanji_before(s, n, t[k].off) &&
            agent_verb_at(s, n, e) && !is_clinical_word(s + t[k].off, t[k].len) &&
            kk_morph__is_name(cl->morph, s + t[k].off, t[k].len)) {
            mark_span(v, t[k].off, e, mark, inlen);
            continue;
        }
        if (t[k].kind == KK_TOK_ORG && employer_at(s, n, t[k].off, e)) {
            mark_span(v, t[k].off, e, mark, inlen);
            continue;
        }
        if (t[k].kind == KK_TOK_PLACE) {
            size_t pl;
            bool pref = kk_text__prefecture_at(s + t[k].off, t[k].len, &pl) && pl >= t[k].len;
            bool municipality = false;
            if (k + 1 < nt && t[k + 1].kind == KK_TOK_SUFFIX && t[k + 1].off == t[k].off + t[k].len) {
                const char *x = s + t[k + 1].off;
                municipality = t[k + 1].len == 3 &&
                               (!memcmp(x, "市", 3) || !memcmp(x, "区", 3) || !memcmp(x, "町", 3) ||
                                !memcmp(x, "村", 3) || !memcmp(x, "郡", 3) || !memcmp(x, "都", 3) ||
                                !memcmp(x, "府", 3) || !memcmp(x, "県", 3));
            }
            if ((cl->keep_city && (pref || municipality)) || inside_word(s, n, t[k], municipality) ||
                broad_region(s + t[k].off, t[k].len) ||
                eponym_after(s, n, t[k].off + t[k].len) ||
                is_clinical_word(s + t[k].off, t[k].len))
                continue;
            mark_span(v, t[k].off, t[k].off + t[k].len, mark, inlen);
        }
    }
    /* Chinese and Korean names in kanji before an honorific or a verb */
    for (size_t i = 0; i < n;) {
        size_t k, e = cjk_kanji_name(s, n, t, nt, i);
        if (e > i) {
            mark_span(v, i, e, mark, inlen);
            i = e;
        } else {
            cp_at(s, n, i, &k);
            i += k;
        }
    }
    for (size_t i = 0; i < n;) {
        size_t cl_len = cue_at(s, n, i, cues_before);
        bool titled = false;
        if (!cl_len) {
            /* a title and a colon label the name after them: （院長：野村） */
            size_t tl = cue_at(s, n, i, cues_after);
            if (tl >= 6 && i + tl < n && s[i + tl] == ':') {
                cl_len = tl;
                titled = true;
            }
        }
        if (cl_len && cue_at(s, n, i, cues_after) == cl_len && i > 0 && s[i + cl_len] != ':') {
            /* 医師 after a name is its title (井口 医師), not a cue before one */
            size_t b = i, k;
            while (b > 0 && s[b - 1] == ' ')
                b--;
            if (b > 0) {
                size_t q = b - 1;
                while (q > 0 && ((unsigned char)s[q] & 0xC0) == 0x80)
                    q--;
                if (kanji_or_kata(cp_at(s, n, q, &k)))
                    cl_len = 0;
            }
        }
        if (cl_len) {
            /* skip separators and further cues: 担当技師：, キーパーソン（長女）,
             * 娘さん（ゆうこ） */
            size_t j = i + cl_len, k;
            bool apart = false; /* an honorific right after the cue only:
                                 * 娘さん, not 技師 氏家 */
            for (;;) {
                size_t c2;
                if (cue_sep(s, n, j, &k)) {
                    j += k;
                    apart = true;
                } else if ((c2 = cue_at(s, n, j, cues_before)) != 0 ||
                           (!apart && (c2 = cue_at(s, n, j, cues_after)) != 0)) {
                    j += c2;
                } else {
                    break;
                }
            }
            if (is_family_cue(s + i, cl_len) && j + 3 < n && !memcmp(s + j, "の", 3)) {
                /* 姉の千秋より, お孫さんの陽菜ちゃん: a name the dictionary
                 * knows after the particle */
                size_t g = j + 3, r = kanji_run(s, n, g, 4), k3;
                if (r > g && (r >= n || name_break(s, n, r) || is_kana(cp_at(s, n, r, &k3)) ||
                              cue_at(s, n, r, cues_after)) &&
                    kk_morph__is_name(cl->morph, s + g, r - g) && !is_clinical_word(s + g, r - g))
                    mark_span(v, g, r, mark, inlen);
                i += cl_len;
                continue;
            }
            size_t e = name_run(s, n, j, 8);
            /* after a family cue only a name: a word (父 胃癌), a suffix
             * (家族歴) or the rest of a word (母斑) is none */
            bool family = is_family_cue(s + i, cl_len) || titled;
            if (family && nt > 0) {
                int tk = tok_at(t, nt, j);
                size_t k2;
                size_t r = kanji_run(s, n, j, 4);
                if (tk >= 0 && !namey(t[tk].kind) && !is_kana(cp_at(s, n, j, &k2)) &&
                    (s[j] & 0x80) &&
                    !(r > j && name_break(s, n, r) && kk_morph__is_name(cl->morph, s + j, r - j)))
                    e = j;
            }
            if (e == j && !(family && j + 1 < n && isupper((unsigned char)s[j]) &&
                            isupper((unsigned char)s[j + 1])))
                e = other_script_name(s, n, j); /* 主治医 Smith, 主治医 김철수 */
            if (e > j && (s[j] & 0x80) == 0)
                ; /* a Latin name: whole words, no dictionary to ask */
            else if (e == j && nt > 0)
                e = kana_name_after(cl, s, n, t, nt, j); /* 夫（たけし）, 撮影者:たかはし */
            else if (e > j && nt > 0 && !is_hangul(cp_at(s, n, j, &k))) {
                e = cue_name_end(cl, s, n, t, nt, j, e);
            } else if (e > j && !is_hangul(cp_at(s, n, j, &k))) {
                /* no dictionary: the run, less an honorific at its end */
                for (size_t q = j; q < e; q++)
                    if (cue_at(s, n, q, cues_after)) {
                        e = q;
                        break;
                    }
            }
            if (e > j)
                e = dotted_given_end(s, n, e);
            size_t kp = katakana_parts_end(s, n, j);
            if (kp > e)
                e = kp;
            if (e > j)
                mark_span(v, j, e, mark, inlen);
            i += cl_len;
            continue;
        }
        size_t al = cue_at(s, n, i, cues_after);
        if (al && i > 0) {
            /* the name just before: skip spaces back, then name tokens */
            size_t b = i;
            while (b > 0 && (s[b - 1] == ' '))
                b--;
            if (b >= 3 && !memcmp(s + b - 3, "\xe3\x80\x80", 3))
                b -= 3;
            /* the name in brackets before it: 〔千葉〕先生, 「上野」さん */
            b -= closing_bracket_before(s, n, b);
            size_t start = b;
            bool verb_noun = false; /* 撮影技師, 読影技師: a task before the title */
            if (nt > 0) {
                int c = 0;
                for (int k = tok_before(t, nt, start); k >= 0 && c < 3; k--) {
                    if (t[k].off + t[k].len < start)
                        break; /* none ends there: the ones before end sooner */
                    if (t[k].off + t[k].len != start)
                        continue;
                    bool word = t[k].kind == KK_TOK_VNOUN ||
                                is_clinical_word(s + t[k].off, t[k].len);
                    verb_noun = c == 0 && word;
                    if (!namey(t[k].kind) || word)
                        break;
                    if (cue_at(s, n, t[k].off, cues_before) == t[k].len)
                        break;
                    start = t[k].off;
                    c++;
                    /* a space between family and given name */
                    while (start > 0 && s[start - 1] == ' ')
                        start--;
                    if (start >= 3 && !memcmp(s + start - 3, "\xe3\x80\x80", 3))
                        start -= 3;
                }
                for (;;) {
                    if (start < b && s[start] == ' ')
                        start++;
                    else if (start + 3 <= b && !memcmp(s + start, "\xe3\x80\x80", 3))
                        start += 3;
                    else
                        break;
                }
            } else {
                int chars = 0;
                while (start > 0 && chars < 6) {
                    size_t q = start - 1;
                    while (q > 0 && ((unsigned char)s[q] & 0xC0) == 0x80)
                        q--;
                    size_t k;
                    if (!kanji_or_kata(cp_at(s, n, q, &k)))
                        break;
                    start = q;
                    chars++;
                }
                /* a cue word is not a name: 担当医師, 患者様 */
                for (size_t q = start; q < b; q++)
                    if (cue_at(s, n, q, cues_before) && q + cue_at(s, n, q, cues_before) >= b) {
                        start = b;
                        break;
                    }
            }
            /* a family name the dictionary knows but MeCab read as a word,
             * right before the given name it tagged (夜叉茶茶さん) */
            if (start < b && nt > 0)
                start = known_name_before(cl, s, n, start);
            /* a name in kana the dictionary does not tag: by its reading */
            if (start == b && nt > 0)
                start = kana_name_at_end(cl, s, n, b, false);
            if (start == b && nt > 0 && !verb_noun) {
                size_t kb = kanji_name_before(s, n, b);
                /* 結節様, 腫瘤様の: 様 after common nouns is "-like" */
                if (!(al == 3 && !memcmp(s + i, "様", 3) && nouns_only(t, nt, kb, b)))
                    start = kb;
            }
            if (start < b && nt > 0)
                start = kana_surname_before(cl, s, n, start);
            if (start == b && b > 0) {
                size_t q = b - 1;
                while (q > 0 && ((unsigned char)s[q] & 0xC0) == 0x80)
                    q--;
                if (lone_kanji_before_honorific(cl, s, n, q, b))
                    start = q;
            }
            /* a name split into single kanji by spaces or hyphens before
             * the honorific: 高 橋　花 子 様, 鈴‐木 さん, 田-中 様 (not a
             * side: 左 肺 様) */
            if (start == b)
                start = spaced_kanji_name(s, n, b);
            /* a Korean name before 님, 씨 or a Japanese honorific: 김민준 님 */
            for (int chars = 0; start > 0 && chars < 5 && (start == b || chars); chars++) {
                size_t q;
                if (!is_hangul(cp_before(s, n, start, &q)))
                    break;
                start = q;
            }
            if (start < b)
                start = katakana_name_start(s, n, start);
            if (start < b)
                start = latin_name_start(s, start);
            if (start < b && is_clinical_word(s + start, b - start))
                start = b; /* 白質様: a finding "-like" */
            if (start < b)
                mark_span(v, start, b, mark, inlen);
            i += al;
            continue;
        }
        i++;
    }
    /* addresses */
    kk_span sp[32];
    size_t ns = kk_text__address_spans(s, n, cl->keep_city, sp, 32);
    for (size_t k = 0; k < ns; k++)
        mark_span(v, sp[k].from, sp[k].to, mark, inlen);
    if (t != stack)
        free(t);
}

#define ROMAJI_ALONE_MIN 4
#define ROMAJI_CAPS_ALONE_MIN 6

/* Words whose romaji reading is a Japanese name in IPAdic but that are
 * not a person in clinical text: the lower-case words of four letters or
 * more in Debian's wamerican that read as a name (less the ones wamerican
 * also lists as a first name: John, Mason, Maria, and taro, a vegetable
 * no report names), medical words (hila, tomo,
 * sono) and makers and models (日立, 富士通, MAGNETOM Sola). */
static const char *const not_names[] = {
    "amino", "area", "arise", "bale", "bare", "been", "chile", "chili", "chin",
    "china", "chino", "date", "done", "fade", "fare", "folio", "fuji", "fujitsu",
    "fuse", "genii", "goose", "hale", "hare", "hide", "hila", "hitachi", "hobo",
    "hoodoo", "hose", "house", "hula", "kazoo", "keen", "koan", "lama", "life",
    "liken", "loan", "loon", "lounge", "lumina", "male", "mane", "manna", "mare",
    "mayo", "maze", "mine", "module", "momma", "mono", "moon", "nihon", "noose",
    "nose", "note", "piano", "pita", "rife", "rise", "roan", "saga", "sago",
    "sake", "samba", "sari", "seen", "semi", "senna", "sera", "sheen", "shin",
    "shoo", "shoon", "shun", "silo", "soda", "sola", "solo", "some", "sono",
    "soon", "soya", "taboo", "take", "tame", "tango", "teen", "tile",
    "tire", "toga", "token", "tomato", "tomo", "tome", "tone", "tote", "toyota", "tuna",
    "tune", "unpin", "unto", "wake", "waken", "wooden", "woolen", "woolie",
    "yahoo", "yoga", "zebu", NULL
};

/* asked only of words the dictionary reads as names: a scan is enough */
static bool is_not_name(const char *s, size_t n)
{
    return one_of(s, n, not_names);
}

/* The letters from b on are one of list's words, in any case. */
static bool word_in(const char *s, size_t n, size_t b, const char *const *list)
{
    size_t w = b;
    while (w < n && isalpha((unsigned char)s[w]))
        w++;
    return one_of(s + b, w - b, list);
}

/* A place, not a person: the word has a municipality's or block's suffix
 * after it (Minami-ku, Naka Ward, Kita 5-jo is left to address_latin.c). */
static bool before_place_suffix(const char *s, size_t n, size_t end)
{
    static const char *const suffix[] = { "ku", "shi", "cho", "chou", "machi", "mura", "gun",
                                          "ken", "fu", "jo", "dori", "ward", "city", "town",
                                          "village", "prefecture", NULL };
    if (end >= n || (s[end] != '-' && s[end] != ' '))
        return false;
    return word_in(s, n, end + 1, suffix);
}

/* A name in an eponym: Hashimoto thyroiditis, Kawasaki's disease,
 * Kimura-Takemoto classification, Fukuoka guidelines. */
static bool before_eponym_noun(const char *s, size_t n, size_t end)
{
    static const char *const noun[] = {
        "disease", "syndrome", "sign", "classification", "criteria", "criterion", "score",
        "grade", "stage", "procedure", "operation", "method", "technique", "balloon", "clip",
        "type", "guideline", "guidelines", "nevus", "naevus", "thyroiditis", "arteritis",
        "encephalitis", "disorder", "phenomenon", "test", "maneuver", "manoeuvre", "line",
        "angle", "index", "scale", "system", "ring", "fracture", "approach", "incision",
        "catheter", "stent", "shunt", "pouch", "reflex", "cell", "cells", "law", "rule",
        "protocol", "tumor", "tumour", "lesion", "body", "bodies", "node", "nodes",
        "encephalopathy", "malformation", "portoenterostomy", "fundoplication", "fossa",
        "foramen", "space", "canal", "duct", "hernia", "anomaly", "palsy", "triad", "ulcer",
        "sarcoma", "lymphoma", "muscular", "dystrophy", "murmur", "nodule", NULL
    };
    size_t e = end;
    if (e + 1 < n && s[e] == '\'' && (s[e + 1] == 's' || s[e + 1] == 'S'))
        e += 2;
    /* more names joined by hyphens: Vogt-Koyanagi-Harada */
    while (e + 1 < n && s[e] == '-' && isupper((unsigned char)s[e + 1])) {
        e++;
        while (e < n && isalpha((unsigned char)s[e]))
            e++;
    }
    /* a Japanese noun right after it, or after a space: Morison窩,
     * Chiari奇形, Suzuki分類, Hashimoto 甲状腺炎 */
    if (e < n && ((unsigned char)s[e] & 0x80) && eponym_after(s, n, e))
        return true;
    if (e + 1 < n && s[e] == ' ' && ((unsigned char)s[e + 1] & 0x80) && eponym_after(s, n, e + 1))
        return true;
    if (e >= n || s[e] != ' ')
        return false;
    /* a grade in Roman numerals after a word alone: Mason II, Garden III,
     * Forrest IIa (not a name of two words: Suzuki Ichiro IV) */
    size_t ws = end, pw, r = e + 1;
    while (ws > 0 && isalpha((unsigned char)s[ws - 1]))
        ws--;
    pw = ws >= 1 && s[ws - 1] == ' ' ? ws - 1 : ws;
    while (pw > 0 && pw < ws && isalpha((unsigned char)s[pw - 1]))
        pw--;
    bool pair = pw < ws && isupper((unsigned char)s[pw]);
    while (r < n && (s[r] == 'I' || s[r] == 'V' || s[r] == 'X'))
        r++;
    if (!pair && r > e + 1 && r - e - 1 <= 4) {
        if (r < n && (s[r] == 'a' || s[r] == 'b' || s[r] == 'A' || s[r] == 'B'))
            r++;
        if (r >= n || !isalnum((unsigned char)s[r]))
            return true;
    }
    return word_in(s, n, e + 1, noun);
}

/* Common English given names (the US census's most frequent, less those
 * that are words a report uses: Mark, Grace, Ray, Iris, May, Will) and
 * some of other countries: alone in English text they are a person
 * ("Patricia called back", "Message left for Barbara"). */
static bool is_given_alone(const char *s, size_t n)
{
    static const char *const given[] = {
        "aaron", "abigail", "adam", "alan", "albert", "alexander", "alexis", "alice", "amanda",
        "amber", "amy", "andrea", "andrew", "angela", "ann", "anna", "anthony", "arthur",
        "ashley", "austin", "barbara", "benjamin", "betty", "beverly", "billy", "bobby",
        "bradley", "brandon", "brenda", "brian", "brittany", "bruce", "bryan", "carl", "carol",
        "carolyn", "catherine", "charles", "charlotte", "cheryl", "christian", "christina",
        "christine", "christopher", "cynthia", "daniel", "danielle", "david", "deborah", "debra",
        "denise", "dennis", "diana", "diane", "donald", "donna", "douglas", "dylan", "edward",
        "elizabeth", "emily", "emma", "eric", "ethan", "eugene", "evelyn", "frances", "gabriel",
        "gary", "george", "gerald", "gloria", "gregory", "hannah", "harold", "heather", "helen",
        "henry", "jacob", "jacqueline", "james", "janet", "janice", "jason", "jean", "jeffrey",
        "jennifer", "jeremy", "jerry", "jesse", "jessica", "joan", "joe", "john", "johnny",
        "jonathan", "jordan", "joseph", "joshua", "joyce", "juan", "judith", "judy", "julie",
        "justin", "karen", "katherine", "kathleen", "kathryn", "kayla", "keith", "kelly",
        "kenneth", "kevin", "kimberly", "kyle", "larry", "laura", "lauren", "lawrence", "linda",
        "lisa", "logan", "lori", "louis", "madison", "margaret", "maria", "marie", "marilyn",
        "martha", "mary", "matthew", "megan", "melissa", "michael", "michelle", "nancy",
        "natalie", "nathan", "nicholas", "nicole", "noah", "olivia", "pamela", "patricia",
        "patrick", "paul", "peter", "philip", "rachel", "ralph", "randy", "rebecca", "richard",
        "robert", "roger", "ronald", "roy", "russell", "ruth", "ryan", "samantha", "samuel",
        "sandra", "sara", "sarah", "scott", "sean", "sharon", "shirley", "sophia", "stephanie",
        "stephen", "steven", "susan", "teresa", "terry", "theresa", "thomas", "timothy", "tyler",
        "victoria", "vincent", "virginia", "walter", "wayne", "william", "willie", "zachary",
        /* and common given names elsewhere */
        "priya", "wei", "olga", "rosa", "elena", "ivan", "fatima", "omar", "sofia", "lucas",
        "mateo", "isabella", "oliver", "amelia", "rebecca", "carmen", "pedro", "antonio",
        "marco", "giulia", "hans", "klaus", "pierre", "sergei", "natasha", "rahul", "anjali",
        "jose", "carlos", "luis", "miguel", "ana", "mohammed", "muhammad", "ahmed", NULL
    };
    return one_of(s, n, given);
}

static bool is_western_given(const char *s, size_t n)
{
    static const char *const family_first[] = {
        /* and names written family name first in Vietnam, Korea and China
         * (Nguyen Van An, Park Ji-yeon, Zhang Wei), less the short ones
         * that are English words (Do, Ho, He, Ma, Lin) */
        "nguyen", "tran", "pham", "hoang", "huynh", "phan", "dang", "bui", "duong", "ngo",
        "kim", "lee", "park", "choi", "jung", "kang", "yoon", "jang", "lim", "han", "shin",
        "wang", "zhang", "liu", "chen", "yang", "huang", "zhao", "zhou", "xu", "sun", "zhu",
        "guo", "luo", NULL
    };
    /* with a capitalised word after them the given names and these
     * family names written first are a person, as in "John Smith
     * called", where no title or role says so */
    return is_given_alone(s, n) || one_of(s, n, family_first);
}

/* Romaji names known to the dictionary: two capitalised words in a row
 * that are a surname and a given name reading (Hanako Yamada, YAMADA
 * Hanako, SUZUKI ICHIRO), or one word alone (below); neither in
 * not_names (TAKE NOTE, AREA, Module read as a given name and a surname). */
/* A romaji letter at i: an ASCII letter (1), or a long vowel with a
 * macron or a circumflex (2: Ō in Ōta, ū in Yūko); 0 for anything else.
 * *upper: whether it is a capital. */
static size_t romaji_letter(const char *s, size_t n, size_t i, bool *upper)
{
    if (i >= n)
        return 0;
    unsigned char c = (unsigned char)s[i];
    if (isalpha(c)) {
        *upper = isupper(c) != 0;
        return 1;
    }
    if (i + 1 >= n)
        return 0;
    unsigned cp = ((c & 0x1Fu) << 6) | ((unsigned char)s[i + 1] & 0x3Fu);
    if ((c & 0xE0) != 0xC0 || ((unsigned char)s[i + 1] & 0xC0) != 0x80)
        return 0;
    /* Ā ā Ē ē Ī ī Ō ō Ū ū, and Â Ê Î Ô Û â ê î ô û */
    static const unsigned long_vowels[] = { 0x100, 0x101, 0x112, 0x113, 0x12A, 0x12B, 0x14C, 0x14D,
                                            0x16A, 0x16B, 0xC2,  0xCA,  0xCE,  0xD4,  0xDB,  0xE2,
                                            0xEA,  0xEE,  0xF4,  0xFB };
    for (size_t k = 0; k < sizeof long_vowels / sizeof long_vowels[0]; k++)
        if (cp == long_vowels[k]) {
            *upper = cp < 0x100 ? cp < 0xE0 : (cp & 1) == 0;
            return 2;
        }
    return 0;
}

/* A word starting at i with a capital (Ōta), and with a small letter
 * after it (Yūko, not YŪKO). */
static bool capital_at(const char *s, size_t n, size_t i)
{
    bool up = false;
    return romaji_letter(s, n, i, &up) && up;
}

static bool small_second(const char *s, size_t n, size_t i)
{
    bool up = true;
    size_t k = romaji_letter(s, n, i, &up);
    return k && romaji_letter(s, n, i + k, &up) && !up;
}

/* A hospital's department or service, by its name or its short form
 * (Neurosurgery, Pediatrics, Ortho, Onc). */
static bool department(const char *s, size_t n)
{
    static const char *const ends[] = { "surgery", "ology", "iatrics", "iatry", "ics", "medicine",
                                        "therapy", "care", NULL };
    static const char *const names[] = {
        "ortho", "neuro", "cardio", "onc", "renal", "rheum", "derm", "gyn", "ob", "obgyn", "peds",
        "uro", "hem", "endo", "pulm", "pulmonary", "nephro", "vascular", "transplant", "trauma",
        "anesthesia", "anaesthesia", "hospitalist", "hospice", "palliative", "security",
        "billing", "admissions", "infectious", "interventional", "emergency", "stroke", "tumor",
        "tumour", "rapid", "code", "ent", "gi", "id", "mri", "lab", "nuclear", "physics", NULL
    };
    if (one_of(s, n, names))
        return true;
    for (int i = 0; ends[i]; i++) {
        size_t l = strlen(ends[i]);
        if (n > l && strncasecmp(s + n - l, ends[i], l) == 0)
            return true;
    }
    return false;
}

/* Who was told, called or paged, by name: Discussed with Whitfield,
 * Message left for Hunter, Spoke with Mark Hunter, Callback: Bill Cook. One
 * capitalised word not in capitals (not ENT, IR), or a common given name
 * and the word after it, or any two after a title (Dr, Nurse); two other
 * capitalised words are a team or a department (Tumor Board, Vascular
 * Surgery, Stroke Team), as is a common word (Radiology, Charge). */
static void mark_told_names(const view *v, unsigned char *mark, size_t inlen)
{
    static const char *const verbs[] = {
        "Discussed with", "discussed with", "Spoke to", "spoke to", "Spoke with", "spoke with",
        "Talked to", "talked to", "Talked with", "talked with", "Message left for",
        "message left for", "Left message for", "left message for", "Left a message for",
        "left a message for", "Callback:", "Call back:", "Callback", "Paged", "paged",
        "Contacted", "contacted", "Notified", "notified", "Informed", "informed",
        "Confirmed with", "confirmed with", "Relayed to", "relayed to", "Reported to",
        "reported to", "Handed over to", "handed over to", "Signed out to", "signed out to", NULL
    };
    static const char *const titles[] = { "Dr.", "Dr", "Nurse", "RN", "Mr.", "Mrs.", "Ms.", NULL };
    const char *s = v->s;
    size_t n = v->len;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && isalpha((unsigned char)s[i - 1]))
            continue;
        size_t l = cue_at(s, n, i, verbs);
        if (!l)
            continue;
        size_t a = i + l;
        while (a < n && (s[a] == ' ' || s[a] == ':'))
            a++;
        bool titled = false;
        for (int k = 0; titles[k]; k++) {
            size_t tl = strlen(titles[k]);
            if (a + tl < n && !memcmp(s + a, titles[k], tl) && s[a + tl] == ' ') {
                a += tl + 1;
                titled = true;
                break;
            }
        }
        size_t e1 = a;
        while (e1 < n && (isalpha((unsigned char)s[e1]) || s[e1] == '\'' || s[e1] == '-'))
            e1++;
        if (e1 - a < 2 || !isupper((unsigned char)s[a]) || !islower((unsigned char)s[a + 1]) ||
            starts_common_word(s + a, e1 - a) || department(s + a, e1 - a))
            continue;
        size_t e2 = e1;
        if (e1 + 1 < n && s[e1] == ' ' && isupper((unsigned char)s[e1 + 1])) {
            e2 = e1 + 1;
            while (e2 < n && (isalpha((unsigned char)s[e2]) || s[e2] == '\'' || s[e2] == '-'))
                e2++;
            if (!(titled || is_western_given(s + a, e1 - a)) || starts_common_word(s + e1 + 1, e2 - e1 - 1))
                continue; /* a team or a department */
        }
        if (before_eponym_noun(s, n, e2))
            continue;
        mark_span(v, a, e2, mark, inlen);
        i = e2 > i ? e2 - 1 : i;
    }
}

/* A name after "of" and a part of the body: an eponym (pouch of Douglas,
 * foramen of Monro, circle of Willis). */
static bool after_anatomy_of(const char *s, size_t a)
{
    static const char *const parts[] = {
        "pouch", "foramen", "foramina", "circle", "vein", "veins", "ligament", "space", "canal",
        "duct", "ampulla", "sphincter", "loop", "islets", "tetralogy", "triangle", "line", "angle",
        "crypts", "glands", "organ", "node", "bundle", "nucleus", "area", "gyrus", "fissure",
        "valve", "membrane", "artery", "tubercle", "fossa", "recess", "sinus", "column",
        "columns", "capsule", "layer", "plexus", "ganglion", "aqueduct", "cells", "corpuscles",
        "disease", "syndrome", "law", "sign", "pyramids", "ring", "tract", "septum", NULL
    };
    if (a < 5 || strncmp(s + a - 4, " of ", 4) != 0)
        return false;
    size_t e = a - 4, b = e;
    while (b > 0 && isalpha((unsigned char)s[b - 1]))
        b--;
    return word_in(s, e, b, parts);
}

static void mark_romaji_names(const kk_cleaner *cl, const view *v, unsigned char *mark,
                              size_t inlen)
{
    const char *s = v->s;
    size_t n = v->len;
    size_t ws[64], we[64];
    int nw = 0;
    for (size_t i = 0; i < n && nw < 64;) {
        bool up, up2;
        size_t pl = 0;
        if (i >= 2)
            pl = romaji_letter(s, n, i - 2, &up2) == 2 ? 2 : 0;
        if (romaji_letter(s, n, i, &up) &&
            (i == 0 || (!isalnum((unsigned char)s[i - 1]) && pl == 0))) {
            size_t j = i, k;
            while (j < n && ((k = romaji_letter(s, n, j, &up2)) != 0 || s[j] == '\''))
                j += k ? k : 1;
            if (j < n && isdigit((unsigned char)s[j])) {
                i = j;
                continue;
            }
            /* a possessive: Nakagawa's office */
            if (j - i > 3 && s[j - 2] == '\'' && (s[j - 1] == 's' || s[j - 1] == 'S'))
                j -= 2;
            ws[nw] = i;
            we[nw] = j;
            nw++;
            i = j;
            continue;
        }
        i++;
    }
    for (int w = 0; w + 1 < nw; w++) {
        size_t a0 = ws[w], a1 = we[w], b0 = ws[w + 1], b1 = we[w + 1];
        /* adjacent: one space or a comma and space */
        size_t gap = b0 - a1;
        if (gap < 1 || gap > 2 || (gap == 2 && s[a1] != ',') || (gap == 1 && s[a1] != ' '))
            continue;
        if (!capital_at(s, n, a0) || !capital_at(s, n, b0))
            continue;
        bool mixed = small_second(s, n, a0) || small_second(s, n, b0);
        size_t least = mixed ? 2 : 3;
        if (a1 - a0 < least || b1 - b0 < least || is_not_name(s + a0, a1 - a0) ||
            is_not_name(s + b0, b1 - b0))
            continue;
        /* John Smith: a common given name and a capitalised word */
        if (mixed && gap == 1 && is_western_given(s + a0, a1 - a0) &&
            islower((unsigned char)s[b0 + 1]) && !starts_common_word(s + b0, b1 - b0) &&
            !before_eponym_noun(s, n, b1)) {
            /* and the rest: Ji-yeon, Nguyen Van An */
            size_t end = b1;
            while (end + 1 < n && s[end] == '-' && isalpha((unsigned char)s[end + 1]))
                for (end++; end < n && isalpha((unsigned char)s[end]); end++)
                    ;
            if (w + 2 < nw && ws[w + 2] == end + 1 && s[end] == ' ' &&
                isupper((unsigned char)s[ws[w + 2]]) && islower((unsigned char)s[ws[w + 2] + 1]) &&
                !starts_common_word(s + ws[w + 2], we[w + 2] - ws[w + 2]))
                end = we[w + 2];
            mark_span(v, a0, end, mark, inlen);
            continue;
        }
        char ka[64], kb[64];
        if (!kk_text__romaji_key(s + a0, a1 - a0, ka, sizeof ka) ||
            !kk_text__romaji_key(s + b0, b1 - b0, kb, sizeof kb))
            continue;
        bool hit = (kk_morph__name_key(cl->morph, ka, true) && kk_morph__name_key(cl->morph, kb, false)) ||
                   (kk_morph__name_key(cl->morph, ka, false) && kk_morph__name_key(cl->morph, kb, true));
        if (hit && !before_place_suffix(s, n, b1) && !before_eponym_noun(s, n, b1)) {
            mark_span(v, a0, a1, mark, inlen);
            mark_span(v, b0, b1, mark, inlen);
        }
    }
    /* a common given name alone, in English text (a small letter or the
     * end on one side): "Patricia called back", "for Barbara", "James and
     * Mary"; with the capitalised word after it, whatever its spelling
     * (Sarah O'Brien, Thomas Müller); not before an eponym's noun or a
     * hyphen (Arnold-Chiari), not after St. (St. Louis) */
    for (int w = 0; w < nw; w++) {
        size_t a0 = ws[w], a1 = we[w];
        if (!isupper((unsigned char)s[a0]) || a1 - a0 < 3 || !islower((unsigned char)s[a0 + 1]) ||
            !is_given_alone(s + a0, a1 - a0) || before_eponym_noun(s, n, a1) ||
            (a1 < n && s[a1] == '-') || after_anatomy_of(s, a0) ||
            (a0 >= 4 && strncmp(s + a0 - 4, "St. ", 4) == 0))
            continue;
        size_t end = a1;
        if (a1 + 1 < n && s[a1] == ' ' &&
            (isupper((unsigned char)s[a1 + 1]) || ((unsigned char)s[a1 + 1] == 0xc3 && a1 + 2 < n &&
                                                     (unsigned char)s[a1 + 2] <= 0x9e))) {
            size_t b = a1 + 1;
            /* a middle initial first: Robert J. Fitzgerald (then no eponym,
             * even before a numeral: William H. Thornton III) */
            bool middle = b + 3 < n && isupper((unsigned char)s[b]) && s[b + 1] == '.' &&
                          s[b + 2] == ' ' && isupper((unsigned char)s[b + 3]);
            if (middle)
                b += 3;
            while (b < n && (isalpha((unsigned char)s[b]) || s[b] == '\'' || s[b] == '-' ||
                             ((unsigned char)s[b] >= 0x80 && (unsigned char)s[b] < 0xc6)))
                b++;
            /* a possessive stays: Mary Smith's */
            if (b - a1 > 3 && s[b - 2] == '\'' && s[b - 1] == 's')
                b -= 2;
            if ((!middle && before_eponym_noun(s, n, b)) || starts_common_word(s + a1 + 1, b - a1 - 1))
                continue;
            end = b;
        }
        /* the family name first, with a comma: Whitaker, Samuel (not a
         * greeting: Thanks, Rebecca) */
        static const char *const greetings[] = { "thanks", "thank", "hi", "hello", "dear",
                                                 "regards", "cheers", "sincerely", "yes", "no",
                                                 "ok", "okay", "sorry", "please", "best", "attn",
                                                 "bye", "morning", "evening", "welcome", NULL };
        size_t start = a0;
        if (w > 0 && we[w - 1] + 2 == a0 && s[a0 - 2] == ',' && s[a0 - 1] == ' ' &&
            capital_at(s, n, ws[w - 1]) && we[w - 1] - ws[w - 1] >= 2 &&
            !starts_common_word(s + ws[w - 1], we[w - 1] - ws[w - 1]) &&
            !is_not_name(s + ws[w - 1], we[w - 1] - ws[w - 1]) &&
            !word_in(s + ws[w - 1], we[w - 1] - ws[w - 1], 0, greetings))
            start = ws[w - 1];
        mark_span(v, start, end, mark, inlen);
    }
    /* and one capitalised word of ROMAJI_ALONE_MIN letters or more that
     * is a surname or given name reading outside not_names ("by tech
     * Ikeda", "Kobayashi called"); in upper case ROMAJI_CAPS_ALONE_MIN,
     * as shorter ones are protocol and model names (SOLA, VIBE) */
    for (int w = 0; w < nw; w++) {
        size_t a0 = ws[w], a1 = we[w];
        bool caps = true;
        for (size_t k = a0; k < a1; k++)
            caps = caps && !islower((unsigned char)s[k]);
        /* (the second of two names joined by a hyphen is an eponym's:
         * Arnold-Chiari, Osgood-Schlatter) */
        if (!isupper((unsigned char)s[a0]) || (!caps && !islower((unsigned char)s[a0 + 1])) ||
            a1 - a0 < (caps ? ROMAJI_CAPS_ALONE_MIN : ROMAJI_ALONE_MIN) ||
            (a0 >= 2 && s[a0 - 1] == '-' && isalpha((unsigned char)s[a0 - 2])) ||
            (a1 + 1 < n && s[a1] == '-' && isupper((unsigned char)s[a1 + 1])) ||
            after_anatomy_of(s, a0))
            continue;
        char ka[64];
        if (kk_text__romaji_key(s + a0, a1 - a0, ka, sizeof ka) &&
            (kk_morph__name_key(cl->morph, ka, true) || kk_morph__name_key(cl->morph, ka, false)) &&
            !is_not_name(s + a0, a1 - a0) && !before_place_suffix(s, n, a1) &&
            !before_eponym_noun(s, n, a1) &&
            !(w + 1 < nw && ws[w + 1] == a1 + 1 && before_eponym_noun(s, n, we[w + 1]))) {
            mark_span(v, a0, a1, mark, inlen);
            /* the rest of the name, whatever its origin: John Smith */
            if (w + 1 < nw && ws[w + 1] == a1 + 1 && s[a1] == ' ' &&
                isupper((unsigned char)s[ws[w + 1]]) && islower((unsigned char)s[ws[w + 1] + 1]) &&
                !starts_common_word(s + ws[w + 1], we[w + 1] - ws[w + 1]) &&
                !is_not_name(s + ws[w + 1], we[w + 1] - ws[w + 1]))
                mark_span(v, ws[w + 1], we[w + 1], mark, inlen);
        }
    }
}

/* Korean names in Hangul with no honorific: a run of two to four
 * syllables, the first a common family name, with a word beside it that
 * says a person came, called or consented (김민수 방문, 통역 이서연,
 * 김민수が来院). Hangul in a Japanese or English report is hardly ever
 * anything but a name; the cue keeps Korean words out (고혈압, 전이성). */
static bool hangul_surname(unsigned cp)
{
    static const char fam[] = "김이박최정강조윤장임한오서신권황안송류유전홍고문양손배백허남심노하곽성차주우구"
                              "민진지엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국은편용";
    return cp_in(fam, sizeof fam - 1, cp);
}

static void mark_hangul_names(const view *v, unsigned char *mark, size_t inlen)
{
    static const char *const after[] = {
        "방문", "전화", "내원", "보호자", "동의", "통역", "면담", "설명", "연락", "입원", "퇴원",
        "씨", "님", "が", "と", "に", "より", "から", "は", "さん", "様", "来院", "面談", NULL
    };
    static const char *const before[] = {
        "통역", "보호자", "환자", "담당", "가족", "通訳", "付き添い", "付添", "家族", "同伴", NULL
    };
    const char *s = v->s;
    size_t n = v->len;
    for (size_t i = 0; i < n;) {
        size_t k;
        unsigned cp = cp_at(s, n, i, &k);
        if (!is_hangul(cp)) {
            i += k;
            continue;
        }
        size_t a = i;
        int syl;
        i = run_end(s, n, i, is_hangul, &syl);
        /* (a cue word is no name, though it may start like one: 연락) */
        if (syl < 2 || syl > 4 || !hangul_surname(cp) || one_of(s + a, i - a, after) ||
            one_of(s + a, i - a, before))
            continue;
        size_t j = i;
        while (j < n && s[j] == ' ')
            j++;
        bool cue = false;
        for (int c = 0; after[c] && !cue; c++)
            cue = strncmp(s + j, after[c], strlen(after[c])) == 0 &&
                  (j > i || !is_hangul(cp_at(s, n, j, &k)) || syl == 3);
        size_t b = a;
        while (b > 0 && (s[b - 1] == ' ' || s[b - 1] == ':'))
            b--;
        for (int c = 0; before[c] && !cue; c++) {
            size_t l = strlen(before[c]);
            cue = b >= l && b < a && strncmp(s + b - l, before[c], l) == 0;
        }
        if (cue)
            mark_span(v, a, i, mark, inlen);
    }
}

/* Whether s[0..n) is one romanised Korean syllable (ji, woo, yeon, min,
 * seong): an initial, a vowel, a final consonant, in lower case. */
static bool korean_syllable(const char *s, size_t n)
{
    static const char *const ini[] = { "kk", "tt", "pp", "ss", "jj", "ch", "sh", "g", "k", "n", "d",
                                       "t", "r", "l", "m", "b", "p", "s", "j", "h", "", NULL };
    static const char *const vow[] = { "yeo", "yae", "wae", "yoo", "woo", "eo", "ae", "ya", "ye",
                                       "wa", "oe", "yo", "wo", "we", "wi", "yu", "eu", "ui", "oo",
                                       "ee", "a", "e", "o", "u", "i", NULL };
    static const char *const fin[] = { "", "k", "n", "t", "l", "m", "p", "ng", "g", NULL };
    for (int a = 0; ini[a]; a++) {
        size_t la = strlen(ini[a]);
        if (la > n || memcmp(s, ini[a], la))
            continue;
        for (int b = 0; vow[b]; b++) {
            size_t lb = strlen(vow[b]);
            if (la + lb > n || memcmp(s + la, vow[b], lb))
                continue;
            for (int c = 0; fin[c]; c++)
                if (strlen(fin[c]) == n - la - lb && !memcmp(s + la + lb, fin[c], n - la - lb))
                    return true;
        }
    }
    return false;
}

static bool korean_family_romaji(const char *s, size_t n)
{
    static const char *const fam[] = {
        "kim", "lee", "park", "choi", "jung", "jeong", "kang", "cho", "yoon", "yun", "jang", "lim",
        "han", "oh", "seo", "shin", "kwon", "hwang", "ahn", "song", "yoo", "hong", "jeon", "moon",
        "yang", "son", "bae", "baek", "heo", "nam", "noh", "kwak", "sung", "cha", "joo", "min",
        "ryu", "jin", "ko", "chung", "byun", "chae", "won", NULL
    };
    return n >= 2 && isupper((unsigned char)s[0]) && one_of(s, n, fam);
}

/* A hyphenated Korean given name in romaji beside a Korean family name:
 * Ji-woo Park, Park Min-jun, KIM Seo-yeon. Both syllables must be
 * Korean ones and the family name common, so Follow-up, X-ray and
 * Non-contrast stay. */
static void mark_korean_romaji(const view *v, unsigned char *mark, size_t inlen)
{
    const char *s = v->s;
    size_t n = v->len;
    for (size_t i = 0; i < n; i++) {
        if (!isupper((unsigned char)s[i]) || (i > 0 && isalnum((unsigned char)s[i - 1])))
            continue;
        size_t h = i;
        while (h < n && isalpha((unsigned char)s[h]))
            h++;
        char low[8];
        if (h >= n || s[h] != '-' || h - i >= sizeof low)
            continue;
        for (size_t q = i; q < h; q++)
            low[q - i] = (char)tolower((unsigned char)s[q]);
        /* English prefixes: re-do, de-, non-, un- */
        static const char *const prefixes[] = { "re", "de", "non", "un", NULL };
        if (!korean_syllable(low, h - i) || one_of(low, h - i, prefixes))
            continue;
        size_t e = h + 1;
        while (e < n && isalpha((unsigned char)s[e]))
            e++;
        if (e == h + 1 || (e < n && (isalnum((unsigned char)s[e]) || s[e] == '-')))
            continue;
        size_t l2 = e - h - 1;
        if (l2 >= sizeof low)
            continue;
        for (size_t q = 0; q < l2; q++)
            low[q] = (char)tolower((unsigned char)s[h + 1 + q]);
        if (!korean_syllable(low, l2))
            continue;
        size_t a = i, b = e;
        /* the family name after it (Ji-woo Park) or before it (Park Ji-woo) */
        if (e + 1 < n && s[e] == ' ') {
            size_t f = e + 1;
            while (f < n && isalpha((unsigned char)s[f]))
                f++;
            if (korean_family_romaji(s + e + 1, f - e - 1))
                b = f;
        }
        if (b == e && i >= 3 && s[i - 1] == ' ') {
            size_t f = i - 1;
            while (f > 0 && isalpha((unsigned char)s[f - 1]))
                f--;
            if (korean_family_romaji(s + f, i - 1 - f))
                a = f;
        }
        if (a < i || b > e)
            mark_span(v, a, b, mark, inlen);
        i = e;
    }
}

/* Digits spelled in kana, as a phone number is read out (ぜろきゅうぜろ
 * いちにさんよん, ゼロキュウゼロ): a run of kana that is nothing but
 * digits' readings, four of them or more, or three after ぜろ, is a group
 * of a phone number or an address's numbers. Words that read as digits
 * are short (ごご, にし, しちごさん is three). */
static size_t kana_digit(const char *s, size_t n, size_t i)
{
    static const char *const d[] = { "きゅう", "ぜろ", "れい", "まる", "いち", "さん", "よん",
                                     "ろく", "なな", "しち", "はち", "に", "し", "ご", "く", NULL };
    char h[16];
    for (int w = 0; d[w]; w++) {
        size_t l = strlen(d[w]), o = 0;
        if (i + l > n)
            continue;
        /* katakana read as hiragana: the same but 0x60 lower */
        for (size_t q = 0; q < l && q < sizeof h; q += 3) {
            unsigned char b1 = (unsigned char)s[i + q], b2 = (unsigned char)s[i + q + 1],
                          b3 = (unsigned char)s[i + q + 2];
            unsigned cp = ((b1 & 0x0Fu) << 12) | ((b2 & 0x3Fu) << 6) | (b3 & 0x3Fu);
            if (b1 != 0xe3)
                break;
            if (cp >= 0x30A1 && cp <= 0x30F6)
                cp -= 0x60;
            h[q] = (char)(0xE0 | (cp >> 12));
            h[q + 1] = (char)(0x80 | ((cp >> 6) & 0x3F));
            h[q + 2] = (char)(0x80 | (cp & 0x3F));
            o = q + 3;
        }
        if (o == l && memcmp(h, d[w], l) == 0)
            return l;
    }
    return 0;
}

static void mark_kana_digits(const view *v, unsigned char *mark, size_t inlen)
{
    const char *s = v->s;
    size_t n = v->len;
    for (size_t i = 0; i < n;) {
        size_t k;
        if (!is_kana(cp_at(s, n, i, &k))) {
            i += k;
            continue;
        }
        size_t a = i, e = i;
        int digits = 0;
        bool zero = kana_digit(s, n, i) == strlen("ぜろ") &&
                    (memcmp(s + i, "ぜろ", 6) == 0 || memcmp(s + i, "ゼロ", 6) == 0);
        for (size_t l; e < n && (l = kana_digit(s, n, e)) > 0; e += l)
            digits++;
        int nkana;
        i = run_end(s, n, i, is_kana, &nkana);
        if (e == i && (digits >= 4 || (zero && digits >= 3)))
            mark_span(v, a, i, mark, inlen);
    }
}

/* Kana names of anyone: two runs of kana side by side, one space or a
 * middle dot apart, that read as a surname and a given name in the
 * dictionary (わたなべ　たろう, ﾜﾀﾅﾍﾞ ﾀﾛｳ after NFKC): MeCab tags names
 * written in kanji, not in kana, and no cue need stand beside them. Each
 * run at least two kana, the two at least five (せき たん is a cough and
 * sputum, not Mr Seki); the prolonged sound mark counts as kana. */
#define KANA_NAME_MIN 5

static void mark_kana_names(const kk_cleaner *cl, const view *v, unsigned char *mark, size_t inlen)
{
    const char *s = v->s;
    size_t n = v->len;
    size_t rs[32], re[32];
    int nr = 0, nk = 0, cnt[32];
    for (size_t i = 0; i < n && nr < 32;) {
        size_t k;
        unsigned cp = cp_at(s, n, i, &k);
        if (!is_kana(cp)) {
            i += k;
            continue;
        }
        size_t a = i;
        i = run_end(s, n, i, is_kana, &nk);
        if (nk >= 2) {
            rs[nr] = a;
            re[nr] = i;
            cnt[nr++] = nk;
        }
    }
    for (int r = 0; r + 1 < nr; r++) {
        size_t gap = rs[r + 1] - re[r];
        if (cnt[r] + cnt[r + 1] < KANA_NAME_MIN)
            continue;
        /* one space (U+3000 is one after NFKC) or ・ (E3 83 BB) */
        if (!(gap == 1 && s[re[r]] == ' ') &&
            !(gap == 3 && memcmp(s + re[r], "\xe3\x83\xbb", 3) == 0))
            continue;
        char ka[96], kb[96];
        if (!kk_text__kana_key(s + rs[r], re[r] - rs[r], ka, sizeof ka) ||
            !kk_text__kana_key(s + rs[r + 1], re[r + 1] - rs[r + 1], kb, sizeof kb))
            continue;
        if (kk_morph__name_key(cl->morph, ka, true) && kk_morph__name_key(cl->morph, kb, false)) {
            mark_span(v, rs[r], re[r], mark, inlen);
            mark_span(v, rs[r + 1], re[r + 1], mark, inlen);
        }
    }
    /* a name in katakana with no space, as forms write them (ヤマダハナコ):
     * one run of katakana that is a surname and a given name, each two
     * kana or more, with no mark of a loanword (loanword_kana: ウィンドウ,
     * ファントム, モーション), the given name starting with no small kana
     * or ン (スキ|ャン). Of a few hundred medical loanwords only クリニック
     * splits so otherwise. */
    for (int r = 0; r < nr; r++) {
        if (cnt[r] < KANA_NAME_MIN || cnt[r] > 10 ||
            (re[r] - rs[r] == 15 && !memcmp(s + rs[r], "クリニック", 15)))
            continue;
        size_t at[11];
        unsigned cps[11];
        int c = 0;
        bool kata = true;
        for (size_t q = rs[r], k; q < re[r]; q += k) {
            unsigned cp = cp_at(s, n, q, &k);
            kata = kata && cp >= 0x30A1 && cp <= 0x30FA;
            cps[c] = cp;
            at[c++] = q;
        }
        if (!kata || loanword_kana(s, rs[r], re[r] - rs[r]))
            continue;
        for (int g = 2; g <= c - 2; g++) {
            unsigned first = cps[g];
            if (first == 0x30E3 || first == 0x30E5 || first == 0x30E7 || first == 0x30C3 ||
                first == 0x30F3)
                continue;
            char ka[96], kb[96];
            if (kk_text__kana_key(s + rs[r], at[g] - rs[r], ka, sizeof ka) &&
                kk_text__kana_key(s + at[g], re[r] - at[g], kb, sizeof kb) &&
                kk_morph__name_key(cl->morph, ka, true) && kk_morph__name_key(cl->morph, kb, false)) {
                mark_span(v, rs[r], re[r], mark, inlen);
                break;
            }
        }
    }
}

/* --- layer 4: the object's own identifiers ---------------------------- */

static bool is_hira(unsigned cp)
{
    return cp >= 0x3041 && cp <= 0x309F;
}

static void mark_identifiers(const kk_idset *ids, const view *v, unsigned char *mark, size_t inlen)
{
    const char *hay = v->s;
    size_t len = v->len;
    for (int k = 0; k < ids->n; k++) {
        const char *id = ids->items[k];
        size_t il = ids->lens[k];
        if (il == 0 || il > len)
            continue;
        bool ascii = ascii_only(id, il);
        size_t k1;
        bool short_kana = !ascii && utf8_chars(id, il) < 3 && is_hira(cp_at(id, il, 0, &k1));
        const char *end = hay + len - il + 1;
        for (const char *p = hay; p < end; p++) {
            p = memchr(p, id[0], (size_t)(end - p));
            if (!p)
                break;
            if (memcmp(p + 1, id + 1, il - 1) != 0)
                continue;
            size_t i = (size_t)(p - hay);
            if (ascii && ((i > 0 && isalnum((unsigned char)hay[i - 1]) && isalnum((unsigned char)id[0])) ||
                          (i + il < len && isalnum((unsigned char)hay[i + il]) &&
                           isalnum((unsigned char)id[il - 1]))))
                continue;
            if (short_kana) {
                /* a two-kana name inside a hiragana word is not the name */
                size_t kk;
                bool before = false;
                if (i > 0) {
                    size_t b = i - 1;
                    while (b > 0 && ((unsigned char)hay[b] & 0xC0) == 0x80)
                        b--;
                    before = is_hira(cp_at(hay, len, b, &kk));
                }
                bool after = i + il < len && is_hira(cp_at(hay, len, i + il, &kk));
                if (before || after)
                    continue;
            }
            mark_span(v, i, i + il, mark, inlen);
        }
    }
    /* romaji words by reading key: Satoh, SATŌ, Satou for さとう */
    if (!ids->nkeys)
        return;
    for (size_t i = 0; i < len;) {
        size_t k;
        unsigned cp = cp_at(hay, len, i, &k);
        bool letter = (cp >= 'a' && cp <= 'z') || (cp >= 0xC0 && cp <= 0x17F);
        if (!letter || (i > 0 && isalnum((unsigned char)hay[i - 1]))) {
            i += k;
            continue;
        }
        size_t j = i;
        while (j < len) {
            unsigned c2 = cp_at(hay, len, j, &k);
            if (!((c2 >= 'a' && c2 <= 'z') || (c2 >= 0xC0 && c2 <= 0x17F) || c2 == '\''))
                break;
            j += k;
        }
        char key[128];
        if (!(j < len && isdigit((unsigned char)hay[j])) &&
            kk_text__romaji_key(hay + i, j - i, key, sizeof key)) {
            for (int q = 0; q < ids->nkeys; q++)
                if (strcmp(ids->keys[q], key) == 0) {
                    mark_span(v, i, j, mark, inlen);
                    break;
                }
        }
        i = j > i ? j : i + 1;
    }
}

/* Identifiers written one character at a time with a space between
 * (山 田 太 郎, Y A M A D A): each run of three or more single characters
 * is joined and searched again. Words stay apart: a run ends at two
 * spaces or at a word of two characters. */
static void mark_spaced_identifiers(const kk_idset *ids, const view *v, unsigned char *mark,
                                    size_t inlen)
{
    const char *s = v->s;
    size_t n = v->len;
    for (size_t i = 0; i < n;) {
        size_t k, j = i;
        int chars = 0;
        /* one character, then one space, and again */
        while (j < n && s[j] != ' ') {
            cp_at(s, n, j, &k);
            size_t after = j + k;
            if (after < n && s[after] != ' ')
                break; /* a word, not a lone character */
            if (j > 0 && j == i && s[j - 1] != ' ' && i > 0)
                break;
            chars++;
            j = after;
            if (j + 1 < n && s[j] == ' ' && s[j + 1] != ' ')
                j++;
            else
                break;
        }
        if (chars < 3) {
            cp_at(s, n, i, &k);
            i += k;
            continue;
        }
        /* [i, j) is the run, single spaces included: join it */
        size_t cap = j - i;
        char *buf = malloc(cap + 1);
        uint32_t *from = malloc(cap * sizeof *from), *to = malloc(cap * sizeof *to);
        if (buf && from && to) {
            size_t m = 0;
            for (size_t q = i; q < j && q < n; q++) {
                if (s[q] == ' ')
                    continue;
                buf[m] = s[q];
                from[m] = v->identity ? (uint32_t)q : v->ft.from[q];
                to[m] = v->identity ? (uint32_t)q + 1 : v->ft.to[q];
                m++;
            }
            buf[m] = '\0';
            view cv = { buf, m, { buf, m, from, to }, NULL, false };
            mark_identifiers(ids, &cv, mark, inlen);
        }
        free(buf);
        free(from);
        free(to);
        i = j > i ? j : i + 1;
    }
}

/* --- layer 5: readings of what was removed ---------------------------- */

/* The reading of a name in brackets right after it: 一郎（ｲﾁﾛｳ）, 山田（やまだ）.
 * Whatever the name was removed for, its reading goes too. */
static bool view_marked(const view *v, const unsigned char *mark, size_t a)
{
    return mark[v->identity ? a : v->ft.from[a]] != 0;
}

/* A name in katakana right before who they are, in brackets: メアリー・
 * ジョーンズ（妻）, ジョン（夫）. A word in katakana there is a name: a
 * loanword is no one's wife. */
static void mark_name_before_family_bracket(const kk_cleaner *cl, const view *v, unsigned char *mark,
                                            size_t inlen)
{
    const char *s = v->s;
    size_t n = v->len;
    for (size_t i = 1; i < n; i++) {
        size_t bl = !strncmp(s + i, "（", 3) ? 3 : s[i] == '(' ? 1 : 0;
        if (!bl)
            continue;
        size_t j = i + bl, c = cue_at(s, n, j, cues_before), q;
        if (!c || !is_family_cue(s + j, c) ||
            !(!strncmp(s + j + c, "）", 3) || (j + c < n && s[j + c] == ')')))
            continue;
        /* (not a group: ケア（家族）; not a role: ヘルパー（長女）) */
        static const char *const roles[] = { "ヘルパー", "ケア", "ケアマネ", "ケアマネジャー",
                                             "ケアマネージャー", "キーパーソン", "スタッフ", "ナース",
                                             "ドクター", "サポート", "フォロー", "ボランティア",
                                             "ソーシャルワーカー", "マネージャー", "リハビリ",
                                             "サービス", "ショートステイ", "デイサービス", NULL };
        if (c == 6 && !strncmp(s + j, "家族", 6))
            continue;
        if (!is_katakana(cp_before(s, n, i, &q))) {
            /* a family name in kanji, a space and a given name the
             * dictionary knows, in kana or kanji: 齋 まゆみ（叔母）, 齋 真弓（叔母） */
            size_t g = kana_name_at_end(cl, s, n, i, false);
            int chars;
            if (g == i) {
                g = kanji_run_before(s, n, i, 3, &chars);
                if (chars < 1 || !kk_morph__is_name(cl->morph, s + g, i - g))
                    g = i;
            }
            if (g == i || cue_at(s, n, g, cues_after))
                continue;
            size_t a = g, f = g;
            while (f > 0 && s[f - 1] == ' ')
                f--;
            if (f < g) {
                size_t b = kanji_run_before(s, n, f, 3, &chars);
                if (chars >= 1 && (b == 0 || !kanji_or_kata(cp_before(s, n, b, &q))) &&
                    !is_clinical_word(s + b, f - b))
                    a = b;
            }
            mark_span(v, a, i, mark, inlen);
            continue;
        }
        size_t a = katakana_name_start(s, n, q);
        int chars = 0;
        for (size_t k = a, l; k < i; k += l)
            chars += is_katakana(cp_at(s, n, k, &l));
        if (chars >= 2 && !one_of(s + a, i - a, roles))
            mark_span(v, a, i, mark, inlen);
    }
}

/* The family name before a maiden name in brackets: 松原（旧姓 浜口）恵美子
 * (the maiden name and the given name go with the cue 旧姓). */
static void mark_name_before_maiden(const view *v, unsigned char *mark, size_t inlen)
{
    const char *s = v->s;
    size_t n = v->len;
    static const char *const opens[] = { "（旧姓", "(旧姓", "【旧姓", "［旧姓", "[旧姓", NULL };
    for (size_t i = 0; i < n; i++) {
        size_t l = cue_at(s, n, i, opens);
        if (!l)
            continue;
        size_t e = i;
        while (e > 0 && s[e - 1] == ' ')
            e--;
        int chars;
        size_t b = kanji_run_before(s, n, e, 5, &chars);
        if (chars >= 1 && chars <= 4 && !is_clinical_word(s + b, e - b))
            mark_span(v, b, e, mark, inlen);
        i += l - 1;
    }
}

static void mark_bracket_readings(const view *v, unsigned char *mark, size_t inlen)
{
    const char *s = v->s;
    size_t n = v->len;
    for (size_t i = 0; i < n;) {
        size_t k;
        unsigned cp = cp_at(s, n, i, &k);
        if (cp != '(' && cp != 0xFF08) {
            i += k;
            continue;
        }
        /* the byte before the bracket, past spaces, was removed */
        size_t b = i;
        while (b > 0 && s[b - 1] == ' ')
            b--;
        size_t from = i + k, j = from;
        if (b == 0 || !view_marked(v, mark, b - 1)) {
            i = from;
            continue;
        }
        int chars = 0;
        while (j < n) {
            unsigned c = cp_at(s, n, j, &k);
            if (!is_kana(c) && c != 0x30FB && c != ' ' && c != 0x3000)
                break;
            j += k;
            chars++;
        }
        size_t kc;
        if (chars > 0 && chars <= 16 && j < n &&
            (cp_at(s, n, j, &kc) == ')' || cp_at(s, n, j, &kc) == 0xFF09))
            mark_span(v, from, j, mark, inlen);
        i = from;
    }
}

/* Names in a list: a kanji name the dictionary knows, beside a name
 * already removed across ・, 、, a comma or a slash (井上・清水・山口,
 * Staff: 菅原, 千葉, 久保), even one it would keep as a place. */
static bool list_sep(const char *s, size_t n, size_t i, size_t *k)
{
    static const char *const seps[] = { "・", "、", ",", "/", "／", "，", NULL };
    for (int c = 0; seps[c]; c++) {
        size_t l = strlen(seps[c]);
        if (i + l <= n && !memcmp(s + i, seps[c], l)) {
            *k = l;
            return true;
        }
    }
    return false;
}

/* A colon at i, full or half width, or an arrow (承認→石田, 確定 -> 石田),
 * spaces before it skipped: true, and *after past it. */
static bool label_colon(const char *s, size_t n, size_t i, size_t *after)
{
    while (i < n && s[i] == ' ')
        i++;
    if (i < n && s[i] == ':') {
        *after = i + 1;
        return true;
    }
    static const char *const marks[] = { "：", "→", "->", "⇒", NULL };
    for (int c = 0; marks[c]; c++) {
        size_t l = strlen(marks[c]);
        if (i + l <= n && !memcmp(s + i, marks[c], l)) {
            *after = i + l;
            return true;
        }
    }
    return false;
}

/* A task's label and a colon, then the name of who did it (撮影：イトウ,
 * 監修：大川, 入力：ｻﾄｳ): a name the dictionary knows, in kanji or by its
 * kana reading, or katakana parts, up to a break. What is no name stays
 * (撮影：ポータブル, 確認：済, 依頼：頭部). */
static void mark_label_names(const kk_cleaner *cl, const view *v, unsigned char *mark,
                             size_t inlen)
{
    static const char *const labels[] = { "撮影", "作成", "監修", "入力", "承認", "確認", "記載",
                                          "記録", "報告", "読影", "依頼", "検査", "実施", "施行",
                                          "担当", "説明", "立会", "署名", "送信", "受付", "診察",
                                          "処置", "介助", "問診", "麻酔", "確定", "執刀", "助手",
                                          "外回り", "器械出し", "指導", NULL };
    const char *s = v->s;
    size_t n = v->len;
    for (size_t i = 0; i < n; i++) {
        size_t l = 0, a;
        for (int c = 0; labels[c] && !l; c++)
            if (i + strlen(labels[c]) <= n && !memcmp(s + i, labels[c], strlen(labels[c])))
                l = strlen(labels[c]);
        if (!l || !label_colon(s, n, i + l, &a))
            continue;
        while (a < n && s[a] == ' ')
            a++;
        if (a >= n || view_marked(v, mark, a))
            continue;
        size_t e = katakana_parts_end(s, n, a);
        if (e == a) {
            size_t r = kanji_run(s, n, a, 4);
            if (r > a && name_break(s, n, r) && utf8_chars(s + a, r - a) >= 2 &&
                !is_clinical_word(s + a, r - a) && kk_morph__is_name(cl->morph, s + a, r - a))
                e = r;
        }
        if (e == a) {
            size_t k, r = a;
            while (r < n && is_kana(cp_at(s, n, r, &k)))
                r += k;
            if (r > a && name_break(s, n, r) && kana_name_at_end(cl, s, n, r, false) == a)
                e = r;
        }
        if (e > a)
            mark_span(v, a, e, mark, inlen);
    }
}

/* A given name in kana after a family name already removed and a space
 * (関口 さくら, 佐々木 さくら子 様): kana whose reading is a name, with a
 * kanji of a given name's ending (子, 美, 代, 江), up to a break or an
 * honorific. */
static void mark_kana_given(const kk_cleaner *cl, const view *v, unsigned char *mark, size_t inlen)
{
    const char *s = v->s;
    size_t n = v->len;
    for (size_t i = 1; i < n; i++) {
        if (!view_marked(v, mark, i - 1) || view_marked(v, mark, i))
            continue;
        size_t q, k;
        unsigned before = cp_before(s, n, i, &q);
        if (!kanji_or_kata(before) && !is_kana(before))
            continue;
        size_t a = i;
        while (a < n && (s[a] == ' ' || (a + 3 <= n && !memcmp(s + a, "\xe3\x80\x80", 3))))
            a += s[a] == ' ' ? 1 : 3;
        if (a == i || a >= n || cue_at(s, n, a, cues_after))
            continue;
        /* hiragana after any family name; katakana after one in katakana
         * only (ヤマダ タロウ: not 田中 フォロー, a loanword) */
        bool kata_ok = before >= 0x30A1 && before <= 0x30FC;
        size_t r = a;
        int chars = 0;
        for (unsigned cp; r < n && chars < 6; r += k) {
            cp = cp_at(s, n, r, &k);
            if (!((cp >= 0x3041 && cp <= 0x3096) || (kata_ok && cp >= 0x30A1 && cp <= 0x30FC)))
                break;
            chars++;
        }
        if (chars < 2 || kana_function_word(s + a, r - a) ||
            kana_name_at_end(cl, s, n, r, false) != a)
            continue;
        static const char *const endings[] = { "子", "美", "代", "江", "枝", "恵", "乃", NULL };
        for (int c = 0; endings[c]; c++)
            if (r + 3 <= n && !memcmp(s + r, endings[c], 3)) {
                r += 3;
                break;
            }
        if (name_break(s, n, r) || cue_at(s, n, r, cues_after))
            mark_span(v, a, r, mark, inlen);
    }
}

/* Whose number a removed phone number or extension is: a name right after
 * it and a space (PHS：６７８９ 森下, TEL 090-1111-2222 ｺﾊﾞﾔｼ), in kanji the
 * dictionary knows or in kana that reads as a name, up to a break. */
/* A name the dictionary knows after a therapist's or staff member's
 * abbreviation (PT 安藤、OT 川端, MSW大森): no cue of their own, as PT
 * 開始 and OT 評価 are what the therapy does. */
static void mark_staff_abbrev_names(const kk_cleaner *cl, const view *v, unsigned char *mark,
                                    size_t inlen)
{
    static const char *const abbrevs[] = { "PT", "OT", "ST", "MSW", "CW", "RT", "NS", "Ns", NULL };
    const char *s = v->s;
    size_t n = v->len;
    for (size_t i = 0; i + 2 < n; i++) {
        if (!isupper((unsigned char)s[i]) || (i > 0 && isalnum((unsigned char)s[i - 1])))
            continue;
        size_t l = cue_at(s, n, i, abbrevs);
        if (!l)
            continue;
        size_t a = i + l, k;
        while (a < n && (s[a] == ' ' || s[a] == ':' || s[a] == '.'))
            a++;
        size_t r = kanji_run(s, n, a, 4);
        if (r > a && (name_break(s, n, r) || is_kana(cp_at(s, n, r, &k))) &&
            !is_clinical_word(s + a, r - a) && kk_morph__is_name(cl->morph, s + a, r - a))
            mark_span(v, a, r, mark, inlen);
        i = a > i ? a - 1 : i;
    }
}

static void mark_name_after_number(const kk_cleaner *cl, const view *v, unsigned char *mark,
                                   size_t inlen)
{
    const char *s = v->s;
    size_t n = v->len;
    for (size_t i = 1; i < n; i++) {
        if (s[i] != ' ' || !view_marked(v, mark, i - 1) || !isdigit((unsigned char)s[i - 1]))
            continue;
        size_t a = i;
        while (a < n && s[a] == ' ')
            a++;
        if (a >= n || view_marked(v, mark, a))
            continue;
        size_t r = kanji_run(s, n, a, 4), k;
        if (r > a && name_break(s, n, r) && !is_clinical_word(s + a, r - a) &&
            kk_morph__is_name(cl->morph, s + a, r - a)) {
            mark_span(v, a, r, mark, inlen);
            continue;
        }
        for (r = a; r < n && (is_kana(cp_at(s, n, r, &k)) || cp_at(s, n, r, &k) == 0x30FC); r += k)
            ;
        if (r > a && name_break(s, n, r) && !kana_function_word(s + a, r - a) &&
            kana_name_at_end(cl, s, n, r, false) == a)
            mark_span(v, a, r, mark, inlen);
    }
}

/* A clinic named after a name removed elsewhere in the text (泉 正之 先生
 * of 泉クリニック, はやし せんせい of はやし内科): the doctor's family
 * name before the clinic's word goes too, however short, in any script
 * (the dictionary cannot tell a one-kanji or kana name there). */
static void mark_clinics_of_names(const view *v, unsigned char *mark, size_t inlen)
{
    static const char *const clinic[] = { "クリニック", "内科", "外科", "医院", "病院", "診療所",
                                          "歯科", "眼科", "小児科", "皮膚科", "耳鼻科", "整形外科",
                                          "産婦人科", "レディースクリニック", NULL };
    const char *s = v->s;
    size_t n = v->len;
    int tried = 0;
    /* from each clinic's word back to its name: a bounded number of them,
     * each searched for once, so a long text stays linear */
    for (size_t i = 1; i < n && tried < 64; i++) {
        bool at_clinic = false;
        for (int c = 0; clinic[c] && !at_clinic; c++)
            at_clinic = i + strlen(clinic[c]) <= n && !memcmp(s + i, clinic[c], strlen(clinic[c]));
        if (!at_clinic || view_marked(v, mark, i - 1))
            continue;
        size_t e = i, a, k;
        if (s[e - 1] == ' ')
            e--;
        /* the whole run of kanji and kana before it, one to four of them */
        int chars = 0;
        for (a = e; a > 0 && chars <= 4;) {
            unsigned cp = cp_before(s, n, a, &k);
            if (!kanji_or_kata(cp) && !is_kana(cp))
                break;
            a = k;
            chars++;
        }
        if (chars < 1 || chars > 4 || view_marked(v, mark, a))
            continue;
        tried++;
        for (const char *p = s; (p = memmem(p, n - (size_t)(p - s), s + a, e - a)) != NULL; p++) {
            size_t q = (size_t)(p - s);
            if (view_marked(v, mark, q) && view_marked(v, mark, q + (e - a) - 1)) {
                mark_span(v, a, e, mark, inlen);
                break;
            }
        }
    }
}

static void mark_name_lists(const kk_cleaner *cl, const view *v, unsigned char *mark, size_t inlen)
{
    const char *s = v->s;
    size_t n = v->len;
    for (int pass = 0; pass < 8; pass++) {
        bool more = false;
        for (size_t i = 1; i < n; i++) {
            size_t k;
            if (!list_sep(s, n, i, &k))
                continue;
            size_t b = i, a = i + k;
            while (a < n && s[a] == ' ')
                a++;
            while (b > 0 && s[b - 1] == ' ')
                b--;
            /* a role's label between: 作成：矢島、監修：大川 */
            size_t lr = kanji_run(s, n, a, 4);
            if (lr > a && b > 0 && view_marked(v, mark, b - 1) && label_colon(s, n, lr, &lr))
                for (a = lr; a < n && s[a] == ' ';)
                    a++;
            /* marked before the separator, a name after it */
            size_t e = kanji_run(s, n, a, 4);
            if (b > 0 && view_marked(v, mark, b - 1) && e > a && !view_marked(v, mark, a) &&
                utf8_chars(s + a, e - a) >= 2 && kk_morph__is_name(cl->morph, s + a, e - a)) {
                mark_span(v, a, e, mark, inlen);
                more = true;
            }
            /* a name before it, marked after it */
            size_t st = b;
            for (int c = 0; c < 4 && st > 0; c++) {
                size_t q = st - 1;
                while (q > 0 && ((unsigned char)s[q] & 0xC0) == 0x80)
                    q--;
                if (kanji_run(s, n, q, 1) == q)
                    break;
                st = q;
            }
            if (a < n && view_marked(v, mark, a) && st < b && !view_marked(v, mark, st) &&
                utf8_chars(s + st, b - st) >= 2 && kk_morph__is_name(cl->morph, s + st, b - st)) {
                mark_span(v, st, b, mark, inlen);
                more = true;
            }
        }
        if (!more)
            break;
    }
}

/* --- the detector ----------------------------------------------------- */

/* A capitalised word (Sato, Ōta, Yūko), or a word of three capitals or
 * more (SATO): only then can mark_romaji_names find a name. */
static bool has_capitalised_word(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (!capital_at(s, n, i) || (i > 0 && isalpha((unsigned char)s[i - 1])))
            continue;
        if (small_second(s, n, i) ||
            (i + 2 < n && isupper((unsigned char)s[i + 1]) && isupper((unsigned char)s[i + 2])))
            return true;
    }
    return false;
}

static void take_reading(const char *kana, size_t len, void *payload)
{
    add_component(payload, kana, len);
}

static void add_readings(const kk_cleaner *cl, kk_idset *ids)
{
    ids->readings_done = true;
    int n = ids->nkanji;
    for (int i = 0; i < n && i < ids->nkanji; i++)
        kk_morph__readings(cl->morph, ids->kanji[i], strlen(ids->kanji[i]), take_reading, ids);
    ids->readings_done = true;
}

/* Readings of the object's kanji names, once per object, when a text that
 * may spell them in kana or romaji first comes: only then is the
 * dictionary asked (it loads once per cleaner). */
static void need_readings(const kk_cleaner *cl, const kk_idset *cids, const char *in, size_t len,
                          bool ascii)
{
    if (!cids || cids->readings_done || !cids->nkanji)
        return;
    if (ascii) {
        /* a word of romaji letters, or nothing to spell a name with */
        bool word = false;
        for (size_t i = 0; i + 2 < len && !word; i++)
            word = isalpha((unsigned char)in[i]) && isalpha((unsigned char)in[i + 1]) &&
                   isalpha((unsigned char)in[i + 2]);
        if (!word)
            return;
    }
    add_readings(cl, (kk_idset *)cids); /* the caller's own set, one thread */
}

/* Fill mark[0..len) with the bytes to remove. false when the text could
 * not be read (the caller then keeps nothing). */
/* Where someone works or studies, after a cue and a separator (勤務先：
 * トヨタ自動車, 学校 大橋小学校, Employer: Toyota Motor Corp, works at
 * Sony): the run up to a break, or the capitalised words. 職場復帰 (no
 * separator) stays. */
/* A company's or a corporation's name by its legal form, before or after
 * it: (株)サンライズ物流, ㈱丸紅テック, サンライズ物流株式会社, 医療法人白鷺会. */
static void mark_company_forms(const view *v, unsigned char *mark, size_t inlen)
{
    static const char *const forms[] = {
        "(株)", "（株）", "㈱", "株式会社", "(有)", "（有）", "㈲", "有限会社", "合同会社",
        "医療法人社団", "医療法人財団", "医療法人", "社会福祉法人", "学校法人", "一般社団法人",
        "一般財団法人", "公益社団法人", "公益財団法人", "(医)", "（医）", "(社福)", "（社福）", NULL
    };
    const char *s = v->s;
    size_t n = v->len;
    for (size_t i = 0; i < n; i++) {
        size_t fl = cue_at(s, n, i, forms), k, q;
        if (!fl)
            continue;
        /* the name after the form: kanji, katakana, letters and digits */
        size_t j = i + fl;
        while (j < n && s[j] == ' ')
            j++;
        size_t e = j;
        for (int c = 0; e < n && c < 16; c++) {
            unsigned cp = cp_at(s, n, e, &k);
            if (!(kanji_or_kata(cp) || cp == 0x30FB || (cp < 0x80 && isalnum((int)cp))))
                break;
            e += k;
        }
        /* or the name glued before it (サンライズ物流株式会社 勤務): then
         * what follows after a space is no name */
        size_t a = i;
        for (int c = 0; a > 0 && c < 16; c++) {
            unsigned cp = cp_before(s, n, a, &q);
            if (!(kanji_or_kata(cp) || cp == 0x30FB || (cp < 0x80 && isalnum((int)cp))))
                break;
            a = q;
        }
        if (a < i && (j > i + fl || e == j)) {
            if (!is_clinical_word(s + a, i - a))
                mark_span(v, a, i, mark, inlen);
        } else if (e > j && !is_clinical_word(s + j, e - j)) {
            mark_span(v, j, e, mark, inlen);
        }
        i = (e > i + fl ? e : i + fl) - 1;
    }
}

static void mark_org_cues(const view *v, unsigned char *mark, size_t inlen)
{
    static const char *const cues[] = {
        "勤務先", "勤め先", "職場", "会社名", "会社", "所属", "学校名", "学校", "就労先", "雇用主",
        "勤務", "通学先", "Employer", "employer", "Employed by", "employed by", "Works at",
        "works at", "Works for", "works for", "Works in", "works in", "Working at", "working at",
        "Working for", "working for", "Employed at", "employed at", "Company", "company", "School",
        "school", "Workplace", "workplace", NULL
    };
    const char *s = v->s;
    size_t n = v->len;
    for (size_t i = 0; i < n; i++) {
        size_t cl = cue_at(s, n, i, cues), q;
        if (!cl || (i > 0 && isalpha((unsigned char)s[i - 1])) ||
            (i + cl < n && isalpha((unsigned char)s[i + cl])))
            continue;
        /* (会社 and 学校 ending a longer word name no company: 株式会社 勤務) */
        if ((!strncmp(s + i, "会社", cl) || !strncmp(s + i, "学校", cl)) && i > 0 &&
            kanji_or_kata(cp_before(s, n, i, &q)))
            continue;
        size_t j = i + cl, k;
        bool sep = false;
        while (j < n) {
            if (s[j] == ' ' || s[j] == ':' || s[j] == '-' || s[j] == '=') {
                j++;
            } else if (j + 3 <= n && (!memcmp(s + j, "：", 3) || !memcmp(s + j, "\xe3\x80\x80", 3))) {
                j += 3;
            } else {
                break;
            }
            sep = true;
        }
        if (!sep || j >= n)
            continue;
        size_t e = j;
        if (isupper((unsigned char)s[j])) {
            /* capitalised words: Toyota Motor Corp, Sony, Acme & Co. */
            for (int w = 0; w < 5 && e < n && (isupper((unsigned char)s[e]) || s[e] == '&'); w++) {
                size_t q = e;
                while (q < n && (isalnum((unsigned char)s[q]) || s[q] == '&' || s[q] == '.' ||
                                 s[q] == '-' || s[q] == '\''))
                    q++;
                e = q;
                if (e + 1 < n && s[e] == ' ' && (isupper((unsigned char)s[e + 1]) || s[e + 1] == '&'))
                    e++;
                else
                    break;
            }
        } else if ((unsigned char)s[j] >= 0x80) {
            for (int c = 0; e < n && c < 20; c++) {
                unsigned cp = cp_at(s, n, e, &k);
                /* ○○建設: a name written over with circles too */
                if (!(kanji_or_kata(cp) || is_kana(cp) || isalnum((int)cp) || cp == 0x30FB ||
                      cp == 0x25CB || cp == 0x3007 || cp == 0x25EF))
                    break;
                e += k;
            }
        }
        while (e > j && (s[e - 1] == '.' || s[e - 1] == ' '))
            e--;
        if (e > j)
            mark_span(v, j, e, mark, inlen);
        i = e > i ? e - 1 : i;
    }
}

/* Whether the kana from i on start with a particle or a word that is no
 * name (デイサービスでは, かかりつけ内科, 施設からの). */
static bool kana_not_facility(const char *s, size_t n, size_t i)
{
    static const char *const w[] = { "では", "には", "から", "まで", "より", "での", "への", "にて",
                                     "かかりつけ", "もより", "ちかく", "ほかの", "べつの", "まえの",
                                     "この", "その", "あの", "どこ", "ここ", "そこ", "など", "なし",
                                     "あり", "へ", "に", "を", "で", "は", "が", "と", "の", "も", NULL };
    for (int k = 0; w[k]; k++)
        if (i + strlen(w[k]) <= n && strncmp(s + i, w[k], strlen(w[k])) == 0)
            return true;
    return false;
}


/* Care homes, schools and clinics by their own names, which kana spell
 * (さくら苑, ひまわり荘, やすらぎの里, こばやし整形外科) or one kanji
 * (緑小学校): a kana name before a home's suffix or a clinic's word, kana
 * after the kind of home (グループホーム たんぽぽ, デイサービスあおぞら,
 * 老健 かがやき), one to four kanji or kana before a school. */
static void mark_facilities(const view *v, unsigned char *mark, size_t inlen)
{
    static const char *const kinds[] = {
        "デイサービス", "デイケア", "グループホーム", "ショートステイ", "有料老人ホーム", "老人ホーム",
        "特養", "老健", "入所先", "通所先", "入居先", "施設", "小規模多機能", "サービス付き高齢者住宅",
        "サ高住", "ケアハウス", "訪問看護ステーション", "訪問介護ステーション", "ヘルパーステーション",
        "居宅介護支援事業所", "居宅介護支援", "通所リハビリ", "通所リハ", "通所介護", "訪問介護",
        "訪問看護", "事業所", NULL
    };
    static const char *const homes[] = { "苑", "荘", "園", "里", "寮", "ハウス", "ホーム", "居宅",
                                         NULL };
    static const char *const clinics[] = { "整形外科", "内科", "外科", "クリニック", "医院", "病院",
                                           "診療所", "歯科", "眼科", "皮膚科", "小児科", "耳鼻科",
                                           "耳鼻咽喉科", "泌尿器科", "産婦人科", NULL };
    static const char *const schools[] = { "小学校", "中学校", "高等学校", "高校", "幼稚園", "保育園",
                                           "支援学校", NULL };
    static const char *const owners[] = { "市立", "県立", "区立", "町立", "村立", "私立", "国立", "都立",
                                          "府立", "道立", "公立", "通信制", "定時制", "全日制",
                                          "女子", "男子", NULL };
    const char *s = v->s;
    size_t n = v->len;
    for (size_t i = 0; i < n;) {
        size_t k, cl;
        unsigned cp = cp_at(s, n, i, &k);
        /* after the kind of home */
        if ((cl = cue_at(s, n, i, kinds)) > 0) {
            size_t j = i + cl;
            while (j < n && (s[j] == ' ' || s[j] == ':'))
                j++;
            /* its name in brackets: 通所リハ「かがやき」 */
            if (j + 3 <= n && !memcmp(s + j, "「", 3))
                j += 3;
            int chars;
            size_t e = run_end(s, n, j, is_kana, &chars);
            bool other = j > i + cl || !is_katakana(cp_at(s, n, j, &k));
            if (chars >= 2 && other && !kana_not_facility(s, n, j)) {
                size_t h = cue_at(s, n, e, homes);
                mark_span(v, j, e + h, mark, inlen);
                i = e + h;
                continue;
            }
            /* or in kanji, with the home's suffix: 老人ホーム 松風苑 */
            size_t r = kanji_run(s, n, j, 5), h = r > j ? cue_at(s, n, r, homes) : 0, q;
            if (r > j && !h) {
                cp_before(s, n, r, &q);
                if (q > j && cue_at(s, n, q, homes) == r - q)
                    h = 0; /* the suffix ends the run: 松風苑 */
                else
                    r = j;
            }
            if (r > j) {
                mark_span(v, j, r + h, mark, inlen);
                i = r + h;
                continue;
            }
            i += cl;
            continue;
        }
        if (!is_kana(cp)) {
            /* a school's name: 1-4 kanji or kana right before it */
            size_t sl = cue_at(s, n, i, schools);
            if (sl > 0 && i > 0) {
                size_t a = i, b;
                int c = 0;
                /* (up to eight with 女子 or 男子 before it: 聖マリア女子高等学校) */
                static const char *const sexes[] = { "女子", "男子", NULL };
                size_t sx = i >= 6 ? cue_at(s, n, i - 6, sexes) : 0;
                while (a > 0 && c < (sx ? 8 : 4)) {
                    unsigned p = cp_before(s, n, a, &b);
                    if (!(kanji_or_kata(p) || is_kana(p)) || p == 0x306E /* の */)
                        break;
                    a = b;
                    c++;
                }
                bool owner = false;
                for (int o = 0; owners[o]; o++)
                    owner = owner || (i - a == strlen(owners[o]) && !strncmp(s + a, owners[o], i - a));
                if (c > 0 && c <= (sx ? 8 : 4) && !owner && (a == 0 || !(kanji_or_kata(cp_before(s, n, a, &b)))))
                    mark_span(v, a, i + sl, mark, inlen);
                i += sl;
                continue;
            }
            i += k;
            continue;
        }
        /* a kana name glued to a home's suffix or a clinic's word */
        size_t a = i;
        int chars;
        size_t e = run_end(s, n, i, is_kana, &chars);
        size_t h = cue_at(s, n, e, homes), c = h ? 0 : cue_at(s, n, e, clinics);
        /* hiragana only before a clinic (ながの内科; not カテーテル内科) */
        bool hira = cp >= 0x3041 && cp <= 0x309F;
        if (chars >= 2 && (h || (c && hira && chars >= 3)) && !kana_not_facility(s, n, a) &&
            (a == 0 || !is_kana(cp_before(s, n, a, &k))))
            mark_span(v, a, e + h, mark, inlen);
        i = e;
    }
}

/* Whether the kana word [a, e) ends with suffix. */
static bool kana_ends(const char *s, size_t a, size_t e, const char *suffix)
{
    size_t l = strlen(suffix);
    return e - a > l && memcmp(s + e - l, suffix, l) == 0;
}

/* An address spelled in hiragana, words apart: after a city (four kana or
 * more ending in し) its ward or town and all after it (ふくおかし はかたく
 * はかたえき), and after an address cue all but the prefecture and the
 * city (住所：さいたまし うらわく たかさご); すこし つよく stays. */
static void mark_kana_address(const view *v, unsigned char *mark, size_t inlen)
{
    static const char *const cues[] = { "じゅうしょ", "住所", "現住所", "すまい", "すんでいる", NULL };
    static const char *const adverbs[] = { "よく", "つよく", "はやく", "おおく", "ながく", "ひろく",
                                           "ふかく", "たかく", "うすく", "ちかく", "とおく", NULL };
    const char *s = v->s;
    size_t n = v->len;
    size_t ws[32], we[32];
    int wc[32], nw = 0;
    /* kana words and the cues, in order */
    for (size_t i = 0; i < n && nw < 32;) {
        size_t k, cl = cue_at(s, n, i, cues);
        if (cl) {
            ws[nw] = i, we[nw] = i + cl, wc[nw] = -1, nw++;
            i += cl;
            continue;
        }
        if (!is_kana(cp_at(s, n, i, &k))) {
            i += k;
            continue;
        }
        int chars;
        size_t e = run_end(s, n, i, is_kana, &chars);
        ws[nw] = i, we[nw] = e, wc[nw] = chars, nw++;
        i = e;
    }
    for (int w = 0; w < nw; w++) {
        /* words that follow each other with spaces, a colon or は between */
        int from = -1;
        if (wc[w] < 0) {
            int x = w + 1;
            if (x < nw && wc[x] == 1 && !memcmp(s + ws[x], "は", 3))
                x++;
            /* the prefecture and the city stay */
            if (x < nw && wc[x] > 0 && (kana_ends(s, ws[x], we[x], "けん") || kana_ends(s, ws[x], we[x], "と") ||
                                        kana_ends(s, ws[x], we[x], "ふ") || kana_ends(s, ws[x], we[x], "どう")))
                x++;
            if (x < nw && wc[x] > 0 && kana_ends(s, ws[x], we[x], "し"))
                x++;
            from = x;
        } else if (wc[w] >= 4 && kana_ends(s, ws[w], we[w], "し") && w + 1 < nw && wc[w + 1] >= 3 &&
                   (kana_ends(s, ws[w + 1], we[w + 1], "く") || kana_ends(s, ws[w + 1], we[w + 1], "ちょう") ||
                    kana_ends(s, ws[w + 1], we[w + 1], "まち") || kana_ends(s, ws[w + 1], we[w + 1], "むら")) &&
                   !one_of(s + ws[w + 1], we[w + 1] - ws[w + 1], adverbs)) {
            from = w + 1;
        }
        if (from < 0 || from >= nw)
            continue;
        /* the words after, as long as only spaces, colons or の join them */
        size_t prev = we[from - 1 >= w ? from - 1 : w];
        int x = from;
        for (; x < nw && wc[x] > 0; x++) {
            size_t g = prev;
            while (g < ws[x] && (s[g] == ' ' || s[g] == ':'))
                g++;
            if (g != ws[x])
                break;
            mark_span(v, ws[x], we[x], mark, inlen);
            prev = we[x];
        }
        w = x > w ? x - 1 : w;
    }
}

/* A kanji name the dictionary knows after an English cue: Performed by
 * 山岸, per 森下, cc 井上, attn 大橋. */
static void mark_latin_cue_names(const kk_cleaner *cl, const view *v, unsigned char *mark, size_t inlen)
{
    static const char *const cues[] = { "by", "By", "BY", "per", "Per", "via", "attn", "Attn", "ATTN",
                                        "cc", "CC", "from", "From", "with", "w/", "to", "Dr.", "Dr",
                                        "Prof.", NULL };
    const char *s = v->s;
    size_t n = v->len;
    for (size_t i = 0; i + 2 < n; i++) {
        if (!isalpha((unsigned char)s[i]) || (i > 0 && isalpha((unsigned char)s[i - 1])))
            continue;
        size_t l = cue_at(s, n, i, cues), k;
        if (!l || (isalpha((unsigned char)s[i + l - 1]) && i + l < n && isalpha((unsigned char)s[i + l])))
            continue;
        size_t a = i + l;
        while (a < n && (s[a] == ' ' || s[a] == ':'))
            a++;
        size_t r = kanji_run(s, n, a, 4);
        if (r > a && utf8_chars(s + a, r - a) >= 2 && (name_break(s, n, r) || is_kana(cp_at(s, n, r, &k))) &&
            !is_clinical_word(s + a, r - a) && kk_morph__is_name(cl->morph, s + a, r - a))
            mark_span(v, a, r, mark, inlen);
    }
}

/* The numbers of a house left after its town was removed (幕張町４ー６０２
 * ー１, 大原口町２２１, 茶花1234): digits glued to the removed kanji, with
 * hyphens, ー or の between groups, and 番地, 番 or 号 after them. */
static void mark_numbers_after_place(const view *v, unsigned char *mark, size_t inlen)
{
    const char *s = v->s;
    size_t n = v->len;
    for (size_t i = 1; i < n; i++) {
        if (!isdigit((unsigned char)s[i]) || view_marked(v, mark, i) || !view_marked(v, mark, i - 1) ||
            !kanji_before(s, n, i))
            continue;
        size_t e = i;
        for (;;) {
            while (e < n && isdigit((unsigned char)s[e]))
                e++;
            static const char *const seps[] = { "-", "ー", "の", NULL };
            size_t l = cue_at(s, n, e, seps);
            if (!l || e + l >= n || !isdigit((unsigned char)s[e + l]))
                break;
            e += l;
        }
        static const char *const ends[] = { "番地", "番", "号", NULL };
        e += cue_at(s, n, e, ends);
        mark_span(v, i, e, mark, inlen);
        i = e;
    }
}

/* One kanji before an honorific is a given name (春さん, 空ちゃん, 真（まこと）
 * ちゃん), unless it says who the person is to the patient (奥さん, 娘さん)
 * or it ends a word (患者さん). */
static void mark_one_kanji_honored(const view *v, unsigned char *mark, size_t inlen)
{
    static const char *const honorifics[] = { "さん", "ちゃん", "くん", "君", "様", "さま", NULL };
    static const char *const not_names[] = { "奥", "娘", "嫁", "婿", "孫", "姪", "甥", "兄", "姉",
                                             "妹", "弟", "父", "母", "夫", "妻", "子", "皆", "客",
                                             "主", "親", "叔", "伯", "祖", "彼", "私", "神", "仏",
                                             "殿", "王", "方", "各", "貴", "奥様", NULL };
    const char *s = v->s;
    size_t n = v->len;
    for (size_t i = 0; i < n;) {
        size_t k;
        cp_at(s, n, i, &k);
        size_t r = kanji_run(s, n, i, 1);
        if (r == i || kanji_run(s, n, i, 2) != r) {
            i += k;
            continue;
        }
        size_t q;
        unsigned before = i ? cp_before(s, n, i, &q) : 0;
        if (before && (kanji_or_kata(before) || before == 0x304A /* お */ || before == 0x3054 /* ご */ ||
                       isalnum(before < 0x80 ? (int)before : 0))) {
            i = r;
            continue;
        }
        size_t e = r;
        /* a reading in brackets between: 真（まこと）ちゃん */
        /* (NFKC makes the brackets ASCII) */
        if (e < n && s[e] == '(') {
            size_t j = e + 1;
            while (j < n && is_kana(cp_at(s, n, j, &k)))
                j += k;
            if (j > e + 1 && j < n && s[j] == ')')
                e = j + 1;
        }
        if (cue_at(s, n, e, honorifics) && cue_at(s, n, i, not_names) != r - i)
            mark_span(v, i, e, mark, inlen);
        i = r;
    }
}

/* A given name of one kanji after a name already removed and a space
 * (林 春 と同居, 担当：南野 空). */
static void mark_given_after_removed(const view *v, unsigned char *mark, size_t inlen)
{
    const char *s = v->s;
    size_t n = v->len;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] != ' ' && (i + 3 > n || memcmp(s + i, "\xe3\x80\x80", 3))) || !view_marked(v, mark, i - 1) ||
            !kanji_before(s, n, i) || (i + 1 < n && view_marked(v, mark, i + 1)))
            continue;
        size_t q, g = one_kanji_given(s, n, i);
        if (g) {
            cp_before(s, n, g, &q);
            mark_span(v, q, g, mark, inlen);
        }
    }
}

static bool detect(const kk_cleaner *cl, const kk_idset *ids, const char *in, size_t len,
                   unsigned char *mark)
{
    bool ascii = ascii_only(in, len);
    need_readings(cl, ids, in, len, ascii);
    view v1;
    if (!make_view(&v1, in, len, ascii, 0))
        return false;
    mark_patterns(cl, &v1, mark, len);
    mark_org_cues(&v1, mark, len);
    if (!ascii)
        mark_company_forms(&v1, mark, len);
    kk_span sp[32];
    size_t ns = kk_text__address_latin_spans(v1.s, v1.len, cl->keep_city, sp, 32);
    for (size_t k = 0; k < ns; k++)
        mark_span(&v1, sp[k].from, sp[k].to, mark, len);
    if (!ascii) {
        mark_japanese(cl, &v1, mark, len);
        mark_kana_names(cl, &v1, mark, len);
        mark_hangul_names(&v1, mark, len);
        mark_kana_digits(&v1, mark, len);
        mark_facilities(&v1, mark, len);
        mark_kana_address(&v1, mark, len);
    }
    /* a capitalised word: maybe a name, alone or beside another */
    if (has_capitalised_word(v1.s, v1.len)) {
        mark_romaji_names(cl, &v1, mark, len);
        mark_told_names(&v1, mark, len);
        mark_korean_romaji(&v1, mark, len);
    }
    if (ids && (ids->n || ids->nkeys)) {
        view v2;
        if (!make_view(&v2, in, len, ascii, KK_FOLD_ALL)) {
            free_view(&v1);
            return false;
        }
        mark_identifiers(ids, &v2, mark, len);
        mark_spaced_identifiers(ids, &v2, mark, len);
        free_view(&v2);
    }
    if (!ascii) {
        mark_bracket_readings(&v1, mark, len);
        mark_name_before_maiden(&v1, mark, len);
        mark_name_before_family_bracket(cl, &v1, mark, len);
        mark_label_names(cl, &v1, mark, len);
        mark_name_lists(cl, &v1, mark, len);
        mark_kana_given(cl, &v1, mark, len);
        mark_clinics_of_names(&v1, mark, len);
        mark_name_after_number(cl, &v1, mark, len);
        mark_staff_abbrev_names(cl, &v1, mark, len);
        mark_latin_cue_names(cl, &v1, mark, len);
        mark_one_kanji_honored(&v1, mark, len);
        mark_given_after_removed(&v1, mark, len);
        mark_numbers_after_place(&v1, mark, len);
    }
    free_view(&v1);
    return true;
}

bool kk_clean__finds(const kk_cleaner *cl, const kk_idset *ids, const char *in, size_t len)
{
    unsigned char *mark = kk__calloc(len ? len : 1, 1);
    if (!mark)
        return true;
    bool found = !detect(cl, ids, in, len, mark);
    for (size_t i = 0; i < len && !found; i++)
        found = mark[i] != 0;
    free(mark);
    return found;
}

bool kk_clean__number_is_id(const kk_idset *ids, const char *in, size_t len)
{
    if (!ids)
        return false;
    for (size_t a = 0; a < len;) {
        size_t b = a;
        while (b < len && in[b] != '\\')
            b++;
        size_t x = a, y = b;
        while (x < y && (in[x] == ' ' || in[x] == '+'))
            x++;
        while (y > x && (in[y - 1] == ' ' || in[y - 1] == '\0'))
            y--;
        if (y - x >= KK_ID_NUMBER_MIN &&
            strindex_has(&ids->item_index, ids->items, ids->lens, in + x, y - x))
            return true;
        a = b + 1;
    }
    return false;
}

bool kk_clean__holds_ids(const kk_idset *ids, const char *in, size_t len)
{
    if (!ids || (!ids->n && !ids->nkeys) || len == 0)
        return false;
    unsigned char *mark = kk__calloc(len, 1);
    if (!mark)
        return true;
    view v;
    bool found = true; /* cannot look: say so, the caller drops the value */
    if (make_view(&v, in, len, ascii_only(in, len), KK_FOLD_ALL)) {
        mark_identifiers(ids, &v, mark, len);
        free_view(&v);
        found = false;
        for (size_t i = 0; i < len && !found; i++)
            found = mark[i] != 0;
    }
    free(mark);
    return found;
}

/* kk_clean__text without the cache. */
static bool clean_text(const kk_cleaner *cl, const kk_idset *ids, const char *in, size_t len,
                       kk_buf *out)
{
    unsigned char small[512];
    unsigned char *mark = len <= sizeof small ? small : kk__calloc(len, 1);
    if (!mark)
        return true; /* cannot clean: report a change so the caller drops it */
    memset(mark, 0, len);
    if (!detect(cl, ids, in, len, mark)) {
        if (mark != small)
            free(mark);
        out->failed = true;
        return true;
    }
    /* whole characters only: a run never starts or ends inside one */
    for (size_t i = 0; i < len; i++) {
        if (!mark[i])
            continue;
        size_t a = i;
        while (a > 0 && ((unsigned char)in[a] & 0xC0) == 0x80)
            mark[--a] = 1;
        while (i + 1 < len && mark[i + 1])
            i++;
        while (i + 1 < len && ((unsigned char)in[i + 1] & 0xC0) == 0x80)
            mark[++i] = 1;
    }
    bool changed = false;
    for (size_t i = 0; i < len;) {
        if (!mark[i]) {
            kk__buf_addc(out, in[i++]);
            continue;
        }
        changed = true;
        while (i < len && mark[i])
            i++;
        kk__buf_adds(out, "***");
    }
    if (mark != small)
        free(mark);
    return changed;
}

bool kk_clean__text(const kk_cleaner *cl, const kk_idset *ids, const char *in, size_t len,
                    kk_buf *out)
{
    bool changed;
    if (ids && ids->entry && kk_clean_cache__text(cl->cache, ids->entry, in, len, out, &changed))
        return changed;
    size_t at = out->len;
    changed = clean_text(cl, ids, in, len, out);
    if (ids && ids->entry && !out->failed)
        kk_clean_cache__put_text(cl->cache, ids->entry, in, len, out->data + at, out->len - at,
                                 changed);
    return changed;
}

/* --- identifier lists and the sets made from them ---------------------- */

void kk_idlist__add(kk_buf *list, char kind, const char *s, size_t len)
{
    if (kind == 'D') {
        if (len < 8)
            return; /* no date in it (kk_idset__add_date) */
        len = 8;    /* DT: the time of day names no one */
    }
    uint32_t n = (uint32_t)len;
    kk__buf_addc(list, kind);
    kk__buf_add(list, &n, sizeof n);
    kk__buf_add(list, s, len);
}

/* The set of a list, made whole: readings too, since a shared set is
 * never written again. */
static kk_idset *make_set(const kk_cleaner *cl, const char *list, size_t len)
{
    kk_idset *ids = kk__malloc(sizeof *ids);
    if (!ids)
        return NULL;
    *ids = (kk_idset)KK_IDSET_INIT;
    for (size_t i = 0; i + 1 + sizeof(uint32_t) <= len;) {
        char kind = list[i];
        uint32_t n;
        memcpy(&n, list + i + 1, sizeof n);
        const char *v = list + i + 1 + sizeof n;
        if (n > len - i - 1 - sizeof n)
            break;
        if (kind == 'N')
            kk_idset__add_name(ids, v, n);
        else if (kind == 'I')
            kk_idset__add_id(ids, v, n);
        else
            kk_idset__add_date(ids, v, n);
        i += 1 + sizeof n + n;
    }
    if (ids->nkanji)
        add_readings(cl, ids);
    return ids;
}

const kk_idset *kk_clean__ids(const kk_cleaner *cl, const char *list, size_t len)
{
    kk_clean_entry *e = kk_clean_cache__find(cl->cache, list, len);
    if (e)
        return kk_clean_cache__set(e);
    kk_idset *ids = make_set(cl, list, len);
    if (!ids)
        return NULL;
    e = kk_clean_cache__add(cl->cache, list, len, ids);
    /* the entry's set (ids, or an equal one another thread kept first),
     * or, not kept, the caller's alone */
    return e ? kk_clean_cache__set(e) : ids;
}

void kk_clean__release_ids(const kk_cleaner *cl, const kk_idset *ids)
{
    if (!ids)
        return;
    if (ids->entry) {
        kk_clean_cache__release(cl->cache, ids->entry);
        return;
    }
    kk_idset *own = (kk_idset *)ids;
    kk_idset__free(own);
    free(own);
}

void kk_clean__cached(const kk_cleaner *cl, int *lists, int *texts)
{
    kk_clean_cache__count(cl->cache, lists, texts);
}
