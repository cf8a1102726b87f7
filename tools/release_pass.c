/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tools/release_pass.c - the first pass of a release (issue 17): read the
 * header of every input (opted-out patients left out), solve the plan,
 * write the release report. kakou deid calls it before the batch run
 * writes anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "walk.h"

typedef struct pass1 {
    kk_ctx *ctx;
    kk_release *release;
    const kk_optout *optout;
    size_t read, opted_out, unreadable;
} pass1;

static int add_one(const char *path, const char *rel, const struct stat *sb, void *payload)
{
    pass1 *p = payload;
    (void)rel;
    (void)sb;
    if (kk_sniff_dicom(path) != 1)
        return 0;
    if (p->optout && kk_optout_matches(p->optout, p->ctx, path) == 1) {
        p->opted_out++;
        return 0;
    }
    /* a file that cannot be read here fails in the second pass, which
     * says why; it holds no patient the plan could count */
    if (kk_release_add(p->release, p->ctx, path) != KK_OK)
        p->unreadable++;
    else
        p->read++;
    return 0;
}

kk_status kk_cli_release_pass(const kk_cli *cli, kk_ctx *ctx, const kk_profile *profile,
                              unsigned k, const kk_optout *optout, const char *report_path,
                              int nargs, char **args, kk_release **out)
{
    pass1 p = { ctx, NULL, optout, 0, 0, 0 };
    size_t errors = 0;
    *out = NULL;
    if (!kk_profile_has_release(profile)) {
        kk_cli_error(cli, "profile '%s' names no quasi-identifier ('quasi ATTRIBUTE hierarchy "
                     "NAME', kakou.profile(5)): nothing to make k-anonymous",
                     kk_profile_name(profile));
        return KK_EINVAL;
    }
    if (kk_release_new(&p.release, ctx, profile, k) != KK_OK) {
        kk_cli_error(cli, "%s", kk_error_message(ctx));
        return KK_EINVAL;
    }
    for (int i = 0; i < nargs; i++)
        kk_walk(cli, args[i], true, add_one, &p, &errors);
    if (kk_release_solve(p.release, ctx) != KK_OK) {
        kk_cli_error(cli, "%s", kk_error_message(ctx));
        kk_release_free(p.release);
        return KK_EINVAL;
    }
    if (report_path) {
        int fd = open(report_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
        kk_status st = fp ? kk_release_write_report(p.release, ctx, fp, p.opted_out) : KK_EIO;
        if (!fp) {
            kk_cli_error(cli, "cannot write the release report '%s': %s", report_path,
                         strerror(errno));
            if (fd >= 0)
                close(fd);
        } else if (st != KK_OK) {
            kk_cli_error(cli, "%s", kk_error_message(ctx));
        }
        if (fp && fclose(fp) != 0 && st == KK_OK) {
            kk_cli_error(cli, "cannot write the release report '%s'", report_path);
            st = KK_EIO;
        }
        if (st != KK_OK) {
            kk_release_free(p.release);
            return st;
        }
    }
    kk_cli_info(cli, "release: headers of %zu files read in the first pass", p.read);
    *out = p.release;
    return KK_OK;
}
