/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz/replay_main.c - a main() for the fuzzing harnesses without
 * libFuzzer (SQLite's fuzzcheck): feeds each file named, and each file
 * in each folder named, to LLVMFuzzerTestOneInput once. `make check`
 * builds every harness with it and replays fuzz/corpus/ and fuzz/regress/,
 * so a crasher found once stays a regression test, under the sanitizers
 * too in check-asan. Prints "replayed N inputs"; a crash is the failure.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "replay: cannot open '%s'\n", path);
        return -1;
    }
    size_t cap = 4096, len = 0, n;
    uint8_t *buf = malloc(cap);
    while (buf && (n = fread(buf + len, 1, cap - len, fp)) > 0) {
        len += n;
        if (len == cap) {
            uint8_t *b = realloc(buf, cap *= 2);
            if (!b) {
                free(buf);
                buf = NULL;
            }
            buf = b;
        }
    }
    fclose(fp);
    if (!buf) {
        fprintf(stderr, "replay: out of memory reading '%s'\n", path);
        return -1;
    }
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

static int replay(const char *path, long *count)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "replay: cannot open '%s'\n", path);
        return -1;
    }
    if (!S_ISDIR(sb.st_mode)) {
        if (getenv("REPLAY_VERBOSE"))
            fprintf(stderr, "replay: %s\n", path);
        (*count)++;
        return replay_file(path);
    }
    struct dirent **names;
    int n = scandir(path, &names, NULL, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: cannot list '%s'\n", path);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.' && rc == 0) {
            size_t l = strlen(path) + strlen(names[i]->d_name) + 2;
            char *child = malloc(l);
            if (!child) {
                rc = -1;
            } else {
                snprintf(child, l, "%s/%s", path, names[i]->d_name);
                rc = replay(child, count);
                free(child);
            }
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    long count = 0;
    for (int i = 1; i < argc; i++)
        if (replay(argv[i], &count) != 0)
            return 1;
    printf("replayed %ld inputs\n", count);
    return 0;
}
