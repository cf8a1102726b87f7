/*
 * tools/walk.c - lazy sorted folder walk, DICOM sniffing, mkdir -p
 * (see walk.h). Sorted so that runs, reports and journals are
 * reproducible; recursive with a depth limit of 64.
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

static int walk_dir(walker *w, const char *dir, int depth)
{
    if (depth > 64) {
        if (!w->quiet)
            kk_cli_warn(w->cli, "'%s': folders nested too deep, not read", dir);
        return 0;
    }
    DIR *d = opendir(dir);
    if (!d) {
        if (!w->quiet)
            kk_cli_error(w->cli, "cannot read folder '%s': %s", dir, strerror(errno));
        (*w->errors)++;
        return 0;
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
            if (S_ISDIR(sb.st_mode)) {
                stop = walk_dir(w, p, depth + 1);
            } else if (S_ISREG(sb.st_mode) || S_ISLNK(sb.st_mode)) {
                if (S_ISLNK(sb.st_mode))
                    stat(p, &sb); /* size of the target; a dangling link fails later */
                const char *rel = p + w->root_len;
                while (*rel == '/')
                    rel++;
                stop = w->fn(p, rel, &sb, w->payload);
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
        return walk_dir(&w, arg, 0);
    const char *base = strrchr(arg, '/');
    return fn(arg, base ? base + 1 : arg, &sb, payload);
}

int kk_sniff_dicom(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    unsigned char b[132];
    ssize_t n = read(fd, b, sizeof b);
    int saved = errno;
    close(fd);
    errno = saved;
    if (n < 0)
        return -1;
    if (n == 132 && memcmp(b + 128, "DICM", 4) == 0)
        return 1;
    if (n < 8)
        return 0;
    unsigned le = b[0] | (b[1] << 8), be = (b[0] << 8) | b[1];
    unsigned g = le <= 0x0010 ? le : be;
    if ((g == 0x0000 || g == 0x0002 || g == 0x0004 || g == 0x0008 || g == 0x0010) &&
        (le <= 0x0010 || be <= 0x0010))
        return 1;
    return 0;
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
    return 0;
}
