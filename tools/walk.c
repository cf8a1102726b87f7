/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tools/walk.c - lazy sorted folder walk, DICOM sniffing, mkdir -p
 * (see walk.h). Sorted so that runs, reports and journals are
 * reproducible; recursive with a depth limit of 64 (deeper folders are
 * failures, named). Symlinked folders are followed unless they lead back
 * to a folder on the way down (a loop: a warning). Only regular files go
 * to the callback; anything else (FIFO, socket, device) is a failure, so
 * nothing ever blocks on an open.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "walk.h"

typedef struct names {
    char **v;
    size_t n, cap;
} names;

static int names_add(names *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **nv = realloc(l->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n] = strdup(s);
    return l->v[l->n] ? (int)(++l->n, 0) : -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct walker {
    const kk_cli *cli;
    bool quiet;
    kk_walk_fn fn;
    void *payload;
    size_t *errors;
    size_t root_len; /* strlen of the argument, to cut rel from path */
} walker;

/* The folders from the argument down to the one being read, by device
 * and inode: a symlinked folder that is one of them would loop. */
typedef struct chain {
    const struct chain *up;
    dev_t dev;
    ino_t ino;
} chain;

#define KK_WALK_MAX_DEPTH 64

static const char *file_kind(mode_t m)
{
    return S_ISFIFO(m) ? "a FIFO (named pipe)" : S_ISSOCK(m) ? "a socket"
         : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device"
         : "a special file";
}

static void walk_fail(walker *w, const char *fmt, const char *path, const char *what)
{
    if (!w->quiet)
        kk_cli_error(w->cli, fmt, path, what);
    (*w->errors)++;
}

static int walk_dir(walker *w, const char *dir, int depth, const chain *up)
{
    if (depth > KK_WALK_MAX_DEPTH) {
        /* not read, so a failure: the batch must not look complete */
        char lim[16];
        snprintf(lim, sizeof lim, "%d", KK_WALK_MAX_DEPTH);
        walk_fail(w, "cannot read folder '%s': nested more than %s folders deep below the "
                  "input, not read", dir, lim);
        return 0;
    }
    DIR *d = opendir(dir);
    if (!d) {
        walk_fail(w, "cannot read folder '%s': %s", dir, strerror(errno));
        return 0;
    }
    struct stat self;
    chain here_link = { up, 0, 0 };
    if (fstat(dirfd(d), &self) == 0) {
        here_link.dev = self.st_dev;
        here_link.ino = self.st_ino;
    }
    /* one folder's names at a time: sorted, then visited */
    names here = { NULL, 0, 0 };
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (names_add(&here, de->d_name) != 0)
            break;
    }
    closedir(d);
    if (here.n)
        qsort(here.v, here.n, sizeof *here.v, cmp_str);
    int stop = 0;
    for (size_t i = 0; i < here.n; i++) {
        char p[PATH_MAX];
        struct stat sb;
        if (!stop && snprintf(p, sizeof p, "%s/%s", dir, here.v[i]) < (int)sizeof p &&
            lstat(p, &sb) == 0) {
            bool link = S_ISLNK(sb.st_mode);
            if (link && stat(p, &sb) != 0)
                sb.st_mode = S_IFLNK; /* dangling: fails when read, named */
            if (S_ISDIR(sb.st_mode)) {
                const chain *c = &here_link;
                while (c && !(c->dev == sb.st_dev && c->ino == sb.st_ino))
                    c = c->up;
                if (c) { /* a symlink back to a folder above: a loop */
                    if (!w->quiet)
                        kk_cli_warn(w->cli, "'%s' links to a folder it is in: not followed "
                                    "again", p);
                } else {
                    stop = walk_dir(w, p, depth + 1, &here_link);
                }
            } else if (S_ISREG(sb.st_mode) || S_ISLNK(sb.st_mode)) {
                const char *rel = p + w->root_len;
                while (*rel == '/')
                    rel++;
                stop = w->fn(p, rel, &sb, w->payload);
            } else {
                walk_fail(w, "cannot read '%s': not a regular file but %s", p,
                          file_kind(sb.st_mode));
            }
        }
        free(here.v[i]);
    }
    free(here.v);
    return stop;
}

int kk_walk(const kk_cli *cli, const char *arg, bool quiet, kk_walk_fn fn, void *payload,
            size_t *errors)
{
    walker w = { cli, quiet, fn, payload, errors, strlen(arg) };
    struct stat sb;
    if (stat(arg, &sb) != 0) {
        if (!quiet)
            kk_cli_error(cli, "cannot read '%s': %s", arg, strerror(errno));
        (*errors)++;
        return 0;
    }
    if (S_ISDIR(sb.st_mode))
        return walk_dir(&w, arg, 0, NULL);
    if (!S_ISREG(sb.st_mode)) {
        walk_fail(&w, "cannot read '%s': not a regular file but %s", arg, file_kind(sb.st_mode));
        return 0;
    }
    const char *base = strrchr(arg, '/');
    return fn(arg, base ? base + 1 : arg, &sb, payload);
}


int kk_mkdir_p(const char *dir)
{
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s/", dir) >= (int)sizeof p) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    /* there already, but as a file (or a link to one): not a folder */
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return -1;
    if (!S_ISDIR(sb.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}
