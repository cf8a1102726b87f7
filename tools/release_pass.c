/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tools/release_pass.c - the first pass of a release (issue 17): read the
 * header of every input (opted-out patients left out), solve the plan,
 * write the release report. kakou deid calls it before the batch run
 * writes anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "walk.h"

typedef struct pass1 {
    kk_release *release;
    const kk_optout *optout;
    char **paths;
    size_t npaths, cap;
    bool oom;
    atomic_size_t next, read, opted_out, unreadable;
} pass1;

static int list_one(const char *path, const char *rel, const struct stat *sb, void *payload)
{
    pass1 *p = payload;
    (void)rel;
    (void)sb;
    if (p->npaths == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 1024;
        char **v = realloc(p->paths, cap * sizeof *v);
        if (!v) {
            p->oom = true;
            return 1;
        }
        p->paths = v;
        p->cap = cap;
    }
    if (!(p->paths[p->npaths] = strdup(path))) {
        p->oom = true;
        return 1;
    }
    p->npaths++;
    return 0;
}

/* A worker of the first pass: the headers are read in parallel, as the
 * second pass reads the files. */
static void *read_headers(void *arg)
{
    pass1 *p = arg;
    kk_ctx *ctx = kk_ctx_new();
    for (size_t i; ctx && (i = atomic_fetch_add(&p->next, 1)) < p->npaths;) {
        const char *path = p->paths[i];
        if (kk_sniff_dicom(path) != 1)
            continue;
        if (p->optout && kk_optout_matches(p->optout, ctx, path) == 1) {
            atomic_fetch_add(&p->opted_out, 1);
            continue;
        }
        /* a file that cannot be read here fails in the second pass, which
         * says why; it holds no patient the plan could count */
        if (kk_release_add(p->release, ctx, path) != KK_OK)
            atomic_fetch_add(&p->unreadable, 1);
        else
            atomic_fetch_add(&p->read, 1);
    }
    kk_ctx_free(ctx);
    return NULL;
}

kk_status kk_cli_release_pass(const kk_cli *cli, kk_ctx *ctx, const kk_profile *profile,
                              unsigned k, const kk_optout *optout, const char *report_path,
                              const char *chart_path, int jobs, int nargs, char **args,
                              kk_release **out)
{
    pass1 p;
    size_t errors = 0;
    memset(&p, 0, sizeof p);
    p.optout = optout;
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
    for (int i = 0; i < nargs && !p.oom; i++)
        kk_walk(cli, args[i], true, list_one, &p, &errors);
    pthread_t tids[256];
    int started = 0;
    for (; !p.oom && started < jobs && started < 256; started++)
        if (pthread_create(&tids[started], NULL, read_headers, &p) != 0)
            break;
    if (!p.oom && started == 0)
        read_headers(&p);
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    for (size_t i = 0; i < p.npaths; i++)
        free(p.paths[i]);
    free(p.paths);
    if (p.oom) {
        kk_cli_error(cli, "out of memory listing the inputs");
        kk_release_free(p.release);
        return KK_ENOMEM;
    }
    if (kk_release_solve(p.release, ctx) != KK_OK) {
        kk_cli_error(cli, "%s", kk_error_message(ctx));
        kk_release_free(p.release);
        return KK_EINVAL;
    }
    if (chart_path && kk_release_write_chart(p.release, ctx, chart_path) != KK_OK) {
        kk_cli_error(cli, "%s", kk_error_message(ctx));
        kk_release_free(p.release);
        return KK_EIO;
    }
    if (report_path) {
        int fd = open(report_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
        kk_status st = fp ? kk_release_write_report(p.release, ctx, fp, atomic_load(&p.opted_out))
                          : KK_EIO;
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
    kk_cli_info(cli, "release: headers of %zu files read in the first pass",
                atomic_load(&p.read));
    *out = p.release;
    return KK_OK;
}
