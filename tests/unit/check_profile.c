/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/check_profile.c - the profile language and the built-in
 * dicom-basic profile.
 *
 * Cases: the parser on good and bad profiles with their exact messages;
 * inheritance, includes and self-inclusion; masks and private matching;
 * `profile show` and the digest, pinned;
 * compound codes resolved by IOD Type; and conformance: for every row of
 * PS3.15 Table E.1-1 and every option, the action the engine resolves is
 * the table's. The conformance cases are generated from the table file
 * (REFDATA/ps315_annex_e.tsv), not listed by hand.
 */
#include <check.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dicom/dicom.h"
#include "kakou/kakou.h"
#include "profile/profile_internal.h"

static char tmpdir[256];

static const char *write_profile(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/kk-check-profile.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Load text as a profile file; return status, message in msg. */
static kk_status load_text(const char *text, char *msg, size_t msgsz, kk_profile **out)
{
    const char *path = write_profile("p.kkp", text);
    kk_ctx *ctx = kk_ctx_new();
    kk_profile *p = NULL;
    kk_status st = kk_profile_load(&p, ctx, path, NULL);
    const char *m = kk_error_message(ctx);
    /* messages start with the path as given: keep the part after it */
    const char *tail = strstr(m, "p.kkp");
    snprintf(msg, msgsz, "%s", tail ? tail : m);
    kk_ctx_free(ctx);
    if (out)
        *out = p;
    else
        kk_profile_free(p);
    return st;
}

START_TEST(parse_good_profile)
{
    char msg[512];
    kk_profile *p = NULL;
    kk_status st = load_text("# a comment\n"
                             "profile site-a\nversion 3\n"
                             "default remove\n"
                             "PatientName dummy   # trailing comment\n"
                             "(0010,0020) keep\n"
                             "(60xx,3000) X\n"
                             "(0029,xx10,\"SIEMENS CSA HEADER\") K\n"
                             "vr:DA,DT,TM Z\n"
                             "private remove\n"
                             "StudyDescription set \"CT CHEST\"\n",
                             msg, sizeof msg, &p);
    ck_assert_msg(st == KK_OK, "%s", msg);
    ck_assert_str_eq(kk_profile_name(p), "site-a");
    ck_assert_str_eq(kk_profile_version(p), "3");
    ck_assert_int_eq(strlen(kk_profile_digest(p)), 64);
    kk_match_level lv;
    const kk_rule *r = kk_profile__match(p, KK_TAG(0x0010, 0x0010), KK_VR('P', 'N'), NULL, &lv);
    ck_assert_int_eq(r->action, KK_ACTION_DUMMY);
    ck_assert_int_eq(lv, KK_MATCH_EXACT);
    ck_assert_str_eq(r->origin + strlen(r->origin) - 7, "p.kkp:5");
    r = kk_profile__match(p, KK_TAG(0x0010, 0x0020), KK_VR('L', 'O'), NULL, &lv);
    ck_assert_int_eq(r->action, KK_ACTION_KEEP);
    /* a mask reaches every overlay group */
    r = kk_profile__match(p, KK_TAG(0x601E, 0x3000), KK_VR('O', 'W'), NULL, &lv);
    ck_assert_int_eq(r->action, KK_ACTION_REMOVE);
    ck_assert_int_eq(lv, KK_MATCH_MASK);
    /* private: creator and low byte, any block */
    r = kk_profile__match(p, KK_TAG(0x0029, 0x1110), KK_VR('O', 'B'), "SIEMENS CSA HEADER", &lv);
    ck_assert_int_eq(r->action, KK_ACTION_KEEP);
    ck_assert_int_eq(lv, KK_MATCH_PRIVATE);
    r = kk_profile__match(p, KK_TAG(0x0029, 0x1110), KK_VR('O', 'B'), "OTHER", &lv);
    ck_assert_int_eq(r->action, KK_ACTION_REMOVE);
    ck_assert_int_eq(lv, KK_MATCH_PRIVATE_CLASS);
    r = kk_profile__match(p, KK_TAG(0x0029, 0x1111), KK_VR('O', 'B'), "SIEMENS CSA HEADER", &lv);
    ck_assert_int_eq(lv, KK_MATCH_PRIVATE_CLASS);
    /* VR class, then default */
    r = kk_profile__match(p, KK_TAG(0x0008, 0x0021), KK_VR('D', 'A'), NULL, &lv);
    ck_assert_int_eq(r->action, KK_ACTION_EMPTY);
    ck_assert_int_eq(lv, KK_MATCH_VR);
    r = kk_profile__match(p, KK_TAG(0x0018, 0x0050), KK_VR('D', 'S'), NULL, &lv);
    ck_assert_int_eq(r->action, KK_ACTION_REMOVE);
    ck_assert_int_eq(lv, KK_MATCH_DEFAULT);
    r = kk_profile__match(p, KK_TAG(0x0008, 0x1030), KK_VR('L', 'O'), NULL, &lv);
    ck_assert_int_eq(r->action, KK_ACTION_SET);
    ck_assert_str_eq(kk_rule__arg(r, NULL), "CT CHEST");
    kk_profile_free(p);
}
END_TEST

static const struct {
    const char *text;
    const char *message;
} bad_profiles[] = {
    { "PatientName rmove\n", "p.kkp:1:13: unknown action 'rmove'" },
    { "\n\nNotAKeyword X\n", "p.kkp:3:1: unknown keyword 'NotAKeyword'" },
    { "PatientName\n", "p.kkp:1:12: missing action after 'PatientName'" },
    { "(0010,001G) X\n", "p.kkp:1:1: bad tag '(0010,001G)': write (gggg,eeee)" },
    { "(0010,0010 X\n", "p.kkp:1:1: missing ')'" },
    { "description \"open\n", "p.kkp:1:13: unterminated string" },
    { "PatientName X when no-such\n", "p.kkp:1:20: unknown option 'no-such' (declare it with 'option no-such')" },
    { "default maybe\n", "p.kkp:1:9: default must be 'keep' or 'remove', not 'maybe'" },
    { "(0010,xx10,\"X\") K\n", "p.kkp:1:1: group 0010 is not private (odd groups are)" },
    { "vr:pn X\n", "p.kkp:1:1: bad VR list 'pn': write vr:PN or vr:DA,DT,TM" },
    { "PatientName set\n", "p.kkp:1:13: 'set' needs a value, e.g. set \"ANONYMOUS\"" },
    { "PatientName X\ninherit dicom-basic\n", "p.kkp:2:1: 'inherit' must come before the rules" },
    { "include p.kkp\n", "p.kkp:1:9: 'p.kkp' includes itself" },
    { "include missing.kkp\n", "p.kkp:1:9: cannot open 'missing.kkp': No such file or directory" },
    { "pixel mode some\n", "p.kkp:1:12: pixel mode is off, phi or all-text, not 'some'" },
    { "pixel region 0,0,10\n", "p.kkp:1:14: a region is X,Y,W,H in pixels or percent (W and H positive), not '0,0,10'" },
    { "pixel region 0,0,-5,10\n", "p.kkp:1:14: a region is X,Y,W,H in pixels or percent (W and H positive), not '0,0,-5,10'" },
    { "pixel region 0,0,200%,10\n", "p.kkp:1:14: a region is X,Y,W,H in pixels or percent (W and H positive), not '0,0,200%,10'" },
    { "pixel mode phi if NoSuchThing=1\n", "p.kkp:1:19: unknown attribute 'NoSuchThing'" },
    { "pixel mode phi if Modality\n", "p.kkp:1:19: a condition is KEYWORD=VALUE, KEYWORD!=VALUE or KEYWORD~TEXT, not 'Modality'" },
    { "pixel mode phi if\n", "p.kkp:1:16: 'if' needs a condition" },
    { "pixel mode phi when no-such\n", "p.kkp:1:21: unknown option 'no-such' (declare it with 'option no-such')" },
    { "pixel allow \"([\"\n", "p.kkp:1:13: not a valid regular expression" },
    { "pixel frame 1\n", "p.kkp:1:7: expected mode, region or allow after 'pixel', not 'frame'" },
};

START_TEST(parse_bad_profile)
{
    char msg[512];
    kk_status st = load_text(bad_profiles[_i].text, msg, sizeof msg, NULL);
    ck_assert_int_eq(st, KK_ESYNTAX);
    ck_assert_str_eq(msg, bad_profiles[_i].message);
}
END_TEST

START_TEST(inherit_and_override)
{
    char msg[512];
    kk_profile *p = NULL;
    kk_status st = load_text("profile mine\nversion 1\ninherit dicom-basic\n"
                             "enable retain-patient-characteristics\n"
                             "PatientAge generalize-age threshold=90\n"
                             "StudyDescription clean\n",
                             msg, sizeof msg, &p);
    ck_assert_msg(st == KK_OK, "%s", msg);
    ck_assert_str_eq(kk_profile_name(p), "mine");
    const kk_rule *r = kk_profile__match(p, KK_TAG(0x0010, 0x1010), KK_VR('A', 'S'), NULL, NULL);
    ck_assert_int_eq(r->action, KK_ACTION_GENERALIZE_AGE);
    ck_assert_str_eq(kk_rule__arg(r, "threshold"), "90");
    /* from the base, with the enabled option: PatientSex K */
    r = kk_profile__match(p, KK_TAG(0x0010, 0x0040), KK_VR('C', 'S'), NULL, NULL);
    ck_assert_int_eq(r->action, KK_ACTION_KEEP);
    r = kk_profile__match(p, KK_TAG(0x0008, 0x1030), KK_VR('L', 'O'), NULL, NULL);
    ck_assert_int_eq(r->action, KK_ACTION_CLEAN);
    r = kk_profile__match(p, KK_TAG(0x0010, 0x0010), KK_VR('P', 'N'), NULL, NULL);
    ck_assert_int_eq(r->action, KK_ACTION_EMPTY);
    int n;
    const kk_profile_code *codes = kk_profile__codes(p, &n);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(codes[0].value, "113100");
    ck_assert_str_eq(codes[1].value, "113108");
    kk_profile_free(p);
}
END_TEST

START_TEST(options_unknown_and_conflicting)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_profile *p = NULL;
    const char *bad[] = { "retain-everything", NULL };
    ck_assert_int_eq(kk_profile_load(&p, ctx, "dicom-basic", bad), KK_EINVAL);
    ck_assert_ptr_null(p);
    ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), "unknown option 'retain-everything'"));
    const char *both[] = { "retain-longitudinal-full-dates", "retain-longitudinal-modified-dates", NULL };
    ck_assert_int_eq(kk_profile_load(&p, ctx, "dicom-basic", both), KK_EINVAL);
    ck_assert_str_eq(kk_error_message(ctx), "options 'retain-longitudinal-full-dates' and "
                                            "'retain-longitudinal-modified-dates' cannot be used together");
    ck_assert_int_eq(kk_profile_load(&p, ctx, "no-such-profile", NULL), KK_ENOTFOUND);
    kk_ctx_free(ctx);
}
END_TEST

START_TEST(iod_types_resolve)
{
    const char *ct = "1.2.840.10008.5.1.4.1.1.2";
    ck_assert_int_eq(kk_dict__iod_type(ct, KK_TAG(0x0010, 0x0010)), 2); /* PatientName */
    ck_assert_int_eq(kk_dict__iod_type(ct, KK_TAG(0x0020, 0x000D)), 1); /* StudyInstanceUID */
    ck_assert_int_eq(kk_dict__iod_type(ct, KK_TAG(0x0010, 0x1010)), 3); /* PatientAge */
    ck_assert_int_eq(kk_dict__iod_type("1.2.3.4", KK_TAG(0x0010, 0x0010)), 3);
    ck_assert_int_eq(kk_dict__iod_type(NULL, KK_TAG(0x0010, 0x0010)), 3);
}
END_TEST

/* --- conformance with Table E.1-1 ------------------------------------ */

#define NCOLS 10
static const char *const option_names[NCOLS] = {
    "retain-safe-private", "retain-uids", "retain-device-identity", "retain-institution-identity",
    "retain-patient-characteristics", "retain-longitudinal-full-dates",
    "retain-longitudinal-modified-dates", "clean-descriptors", "clean-structured-content",
    "clean-graphics"
};

typedef struct row {
    char tag[10];
    char basic[8];
    char opt[NCOLS][8];
} row;

static row *rows;
static int nrows;
static kk_profile *profiles[NCOLS + 1];

static void load_table(void)
{
    if (rows)
        return;
    FILE *fp = fopen(REFDATA "/ps315_annex_e.tsv", "r");
    if (!fp) {
        perror(REFDATA "/ps315_annex_e.tsv");
        exit(1);
    }
    char line[4096];
    rows = calloc(1024, sizeof *rows);
    int ln = 0;
    while (fgets(line, sizeof line, fp)) {
        if (++ln <= 2)
            continue;
        line[strcspn(line, "\r\n")] = '\0';
        char *cols[16] = { 0 };
        int nc = 0;
        char *s = line;
        while (nc < 16) {
            cols[nc++] = s;
            char *t = strchr(s, '\t');
            if (!t)
                break;
            *t = '\0';
            s = t + 1;
        }
        if (nc != 16) {
            fprintf(stderr, "ps315_annex_e.tsv:%d: %d columns\n", ln, nc);
            exit(1);
        }
        row *r = &rows[nrows++];
        snprintf(r->tag, sizeof r->tag, "%s", cols[0]);
        snprintf(r->basic, sizeof r->basic, "%s", cols[5]);
        for (int i = 0; i < NCOLS; i++)
            snprintf(r->opt[i], sizeof r->opt[i], "%s", cols[6 + i]);
    }
    fclose(fp);
    if (nrows != 657) {
        fprintf(stderr, "ps315_annex_e.tsv: %d rows, expected 657\n", nrows);
        exit(1);
    }
    kk_ctx *ctx = kk_ctx_new();
    for (int i = 0; i <= NCOLS; i++) {
        const char *o[] = { i ? option_names[i - 1] : NULL, NULL };
        if (kk_profile_load(&profiles[i], ctx, "dicom-basic", o) != KK_OK) {
            fprintf(stderr, "dicom-basic: %s\n", kk_error_message(ctx));
            exit(1);
        }
    }
    kk_ctx_free(ctx);
}

/* A concrete tag for a row: masks get a real group in their range. */
static uint32_t row_tag(const row *r)
{
    char t[10];
    snprintf(t, sizeof t, "%s", r->tag);
    for (char *s = t; *s; s++)
        if (*s == 'x')
            *s = '2';
    return (uint32_t)strtoul(t, NULL, 16) << 16 | (uint32_t)strtoul(t + 5, NULL, 16);
}

START_TEST(conformance_row)
{
    load_table();
    const row *r = &rows[_i];
    for (int c = 0; c <= NCOLS; c++) {
        const char *want = c && r->opt[c - 1][0] ? r->opt[c - 1] : r->basic;
        if (strcmp(r->tag, "gggg,eeee") == 0) {
            /* Private Attributes: X; under Retain Safe Private, the safe
             * list is kept and the rest removed (the C of the table) */
            const kk_rule *x = kk_profile__match(profiles[c], KK_TAG(0x0019, 0x1023), KK_VR('D', 'S'),
                                                 "GEMS_ACQU_01", NULL);
            const kk_rule *y = kk_profile__match(profiles[c], KK_TAG(0x0019, 0x1099), KK_VR('D', 'S'),
                                                 "NOT A SAFE CREATOR", NULL);
            ck_assert_int_eq(y->action, KK_ACTION_REMOVE);
            ck_assert_int_eq(x->action, strcmp(want, "C") == 0 ? KK_ACTION_KEEP : KK_ACTION_REMOVE);
            continue;
        }
        uint32_t tag = row_tag(r);
        const kk_rule *rule = kk_profile__match(profiles[c], tag, 0, NULL, NULL);
        ck_assert_msg(strcmp(rule->code, want) == 0, "(%s) with %s: engine says %s, table says %s",
                      r->tag, c ? option_names[c - 1] : "no option", rule->code, want);
    }
}
END_TEST
/* pixel statements: settled by options, kept in file order, regions in
 * pixels or hundredths of a percent */
START_TEST(pixel_statements)
{
    char msg[512];
    kk_profile *p = NULL;
    kk_status st = load_text("option px\n"
                             "pixel mode all-text if Modality=US|SC \"Manufacturer~GE Med\" when px\n"
                             "pixel mode phi if ImageType!=LOCALIZER\n"
                             "pixel region 0,0,100%,7.5% if Rows=768\n"
                             "pixel region -200,-40,200,40 when !px\n"
                             "pixel allow \"^MI [0-9.]+$\"\n",
                             msg, sizeof msg, &p);
    ck_assert_msg(st == KK_OK, "%s", msg);
    int n;
    const kk_pixel_rule *r = kk_profile__pixel_rules(p, &n);
    ck_assert_int_eq(n, 3); /* px is off: the first goes; !px holds */
    ck_assert_int_eq(r[0].kind, KK_PIXEL_RULE_MODE);
    ck_assert_int_eq(r[0].mode, KK_PIXEL_MODE_PHI);
    ck_assert_int_eq(r[0].nconds, 1);
    ck_assert_int_eq(r[0].conds[0].op, '!');
    ck_assert_int_eq(r[1].kind, KK_PIXEL_RULE_REGION);
    ck_assert_int_eq(r[1].box[2], 10000);
    ck_assert_int_eq(r[1].box[3], 750);
    ck_assert_uint_eq(r[1].pct, 0xcu);
    ck_assert_int_eq(r[2].box[0], -200);
    ck_assert_uint_eq(r[2].pct, 0u);
    const char *const *allow = kk_profile__pixel_allow(p, &n);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(allow[0], "^MI [0-9.]+$");
    ck_assert_ptr_null(allow[1]);
    kk_profile_free(p);

    /* with the option on, the all-text mode and its two conditions */
    const char *path = write_profile("q.kkp", "option px\n"
                                     "pixel mode all-text if Modality=US|SC \"Manufacturer~GE Med\" when px\n");
    const char *opts[] = { "px", NULL };
    kk_ctx *ctx = kk_ctx_new();
    ck_assert_int_eq(kk_profile_load(&p, ctx, path, opts), KK_OK);
    r = kk_profile__pixel_rules(p, &n);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(r[0].mode, KK_PIXEL_MODE_ALL_TEXT);
    ck_assert_int_eq(r[0].nconds, 2);
    ck_assert_int_eq(r[0].conds[0].nvalues, 2);
    ck_assert_str_eq(r[0].conds[0].values[1], "SC");
    ck_assert_int_eq(r[0].conds[1].op, '~');
    ck_assert_str_eq(r[0].conds[1].values[0], "GE Med");
    kk_profile_free(p);
    kk_ctx_free(ctx);
}
END_TEST

/* the built-in pixel rules hold only with clean-pixel-data */
START_TEST(pixel_rules_builtin)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_profile *p = NULL;
    int n;
    ck_assert_int_eq(kk_profile_load(&p, ctx, "dicom-basic", NULL), KK_OK);
    kk_profile__pixel_rules(p, &n);
    ck_assert_int_eq(n, 0);
    kk_profile_free(p);
    const char *opts[] = { "clean-pixel-data", NULL };
    ck_assert_int_eq(kk_profile_load(&p, ctx, "dicom-basic", opts), KK_OK);
    kk_profile__pixel_rules(p, &n);
    ck_assert_int_gt(n, 5);
    kk_profile_free(p);
    ck_assert_int_eq(kk_profile_load(&p, ctx, "jp-anonymized", NULL), KK_OK);
    kk_profile__pixel_rules(p, &n);
    ck_assert_int_gt(n, 5);
    kk_profile_free(p);
    kk_ctx_free(ctx);
}
END_TEST

/* `profile show`, and the digest over it, must not change: outputs
 * record the digest (DeidentificationMethod). The text covers each kind of
 * line; values that hold "    # ", which the digest cuts at; a keyword and
 * a creator long enough to be cut (selectors keep the 63 and 159 bytes
 * they always had). */
static const char pinned_text[] =
    "profile pinned    # its name\n"
    "version \"7    # seven\"\n"
    "description \"rules    # and values\"\n"
    "code 99 \"Pinned\"\n"
    "option on code=1 \"On\"\n"
    "option off\n"
    "enable on\n"
    "default remove\n"
    "add PatientIdentityRemoved \"YES\"\n"
    "set key required\n"
    "PatientName set \"x    # y\" when on\n"
    "PatientName keep when off\n"
    "PatientID pseudonym domain=patient length=12 \"bare\"\n"
    "(0008,0050) X/Z/D\n"
    "(0010,ABCD) K\n"
    "FrameOfReferenceToDisplayedCoordinateSystemTransformationMatrix X\n"
    "(60xx,3000) Z\n"
    "(0029,xx10,\"SIEMENS CSA HEADER\") K\n"
    "(0029,xx11,\"CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"
    "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC\") X\n"
    "private X\n"
    "vr:DA,TM U\n"
    "pixel mode phi if Modality=US|SC \"Manufacturer~GE    # Med\"\n"
    "pixel region -200,0,12.5%,7 when on\n"
    "pixel allow \"^MI [0-9.]+$\"\n";

static const char pinned_show[] =
    "profile pinned\n"
    "version 7    # seven\n"
    "description \"rules    # and values\"\n"
    "# code DCM 99 \"Pinned\"\n"
    "# code DCM 1 \"On\"\n"
    "enable on\n"
    "default remove    # pinned.kkp:8\n"
    "add (0012,0062) \"YES\"\n"
    "set key \"required\"\n"
    "(0008,0050) AccessionNumber        X/Z/D    # pinned.kkp:14\n"
    "(0010,0010) PatientName            set \"x    # y\"    # pinned.kkp:11\n"
    "(0010,0020) PatientID              pseudonym domain=patient length=12 \"bare\"    # pinned.kkp:13\n"
    "(0010,ABCD)                        K    # pinned.kkp:15\n"
    "(0070,030B) FrameOfReferenceToDisplayedCoordinateSystemTransfor X    # pinned.kkp:16\n"
    "(60xx,3000)                        Z    # pinned.kkp:17\n"
    "(0029,xx10,\"SIEMENS CSA HEADER\")   K    # pinned.kkp:18\n"
    "(0029,xx11,\"CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"
    "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC X    # pinned.kkp:19\n"
    "private                            X    # pinned.kkp:20\n"
    "vr:DA                              U    # pinned.kkp:21\n"
    "vr:TM                              U    # pinned.kkp:21\n"
    "pixel mode phi if \"Modality=US|SC\" \"Manufacturer~GE    # Med\"    # pinned.kkp:22\n"
    "pixel region -200,0,12.50%,7     # pinned.kkp:23\n"
    "pixel allow \"^MI [0-9.]+$\"\n";

START_TEST(show_and_digest_pinned)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_profile *p = NULL;
    ck_assert_int_eq(kk_profile__load_text(&p, ctx, pinned_text, strlen(pinned_text), "pinned.kkp",
                                           NULL), KK_OK);
    char *text = NULL;
    ck_assert_int_eq(kk_profile_format(&text, ctx, p), KK_OK);
    ck_assert_str_eq(text, pinned_show);
    /* the digest: SHA-256 of the lines, each cut at its first "    # " */
    crypto_hash_sha256_state sha;
    crypto_hash_sha256_init(&sha);
    for (const char *s = text; *s;) {
        const char *e = strchr(s, '\n');
        const char *cut = memmem(s, (size_t)(e - s), "    # ", 6);
        crypto_hash_sha256_update(&sha, (const unsigned char *)s, (size_t)((cut ? cut : e) - s));
        crypto_hash_sha256_update(&sha, (const unsigned char *)"\n", 1);
        s = e + 1;
    }
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&sha, h);
    char hex[2 * crypto_hash_sha256_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    ck_assert_str_eq(kk_profile_digest(p), hex);
    ck_assert_str_eq(hex, "6602339d4f16387b35809a5a7ffeee30f238f2561613566832c8ff7490594d86");
    kk_free(text);
    kk_profile_free(p);
    kk_ctx_free(ctx);
}
END_TEST

Suite *profile_suite(void)
{
    Suite *s = suite_create("profile");
    TCase *tc = tcase_create("parser");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, parse_good_profile);
    tcase_add_loop_test(tc, parse_bad_profile, 0, (int)(sizeof bad_profiles / sizeof bad_profiles[0]));
    tcase_add_test(tc, inherit_and_override);
    tcase_add_test(tc, options_unknown_and_conflicting);
    tcase_add_test(tc, pixel_statements);
    tcase_add_test(tc, pixel_rules_builtin);
    suite_add_tcase(s, tc);
    tc = tcase_create("show");
    tcase_add_test(tc, show_and_digest_pinned);
    suite_add_tcase(s, tc);
    tc = tcase_create("iod");
    tcase_add_test(tc, iod_types_resolve);
    suite_add_tcase(s, tc);
    tc = tcase_create("conformance");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, conformance_row, 0, 657);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    load_table(); /* once, before the cases fork */
    SRunner *sr = srunner_create(profile_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
