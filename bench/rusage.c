/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/rusage.c - run one command and report its wall time, CPU time and
 * peak RSS, for bench/bench.py. bench/run.sh compiles it into the scratch
 * folder; it is not part of kakou.
 *
 *   rusage ERRFILE CMD [ARG...]
 *
 * CMD runs with stdin and stdout on /dev/null and stderr in ERRFILE. One
 * line goes to stdout: "WALL_NS USER_US SYS_US MAXRSS_KIB STATUS", STATUS
 * being the exit code, 128+signal, or 127 when CMD could not be started.
 *
 * Why not measure from Python: on Linux a child's ru_maxrss includes the
 * peak RSS of the memory image it had before exec, and a child spawned by
 * the Python harness starts with the interpreter's ~45 MiB, so every tool
 * would report at least that. Spawned from this small program, the floor is
 * this program's own few hundred KiB (the /bin/true row shows it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static long long ns_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long us(struct timeval tv)
{
    return (long long)tv.tv_sec * 1000000LL + tv.tv_usec;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s ERRFILE CMD [ARG...]\n", argv[0]);
        return 125;
    }
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0 ||
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) != 0 ||
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) != 0 ||
        posix_spawn_file_actions_addopen(&fa, 2, argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644) != 0) {
        fprintf(stderr, "rusage: posix_spawn_file_actions failed\n");
        return 125;
    }
    pid_t pid;
    long long t0 = ns_now();
    int rc = posix_spawnp(&pid, argv[2], &fa, NULL, argv + 2, environ);
    if (rc != 0) {
        FILE *e = fopen(argv[1], "w");
        if (e) {
            fprintf(e, "%s: %s\n", argv[2], strerror(rc));
            fclose(e);
        }
        printf("0 0 0 0 127\n");
        return 0;
    }
    int st;
    struct rusage ru;
    pid_t w;
    do {
        w = wait4(pid, &st, 0, &ru);
    } while (w < 0 && errno == EINTR);
    long long t1 = ns_now();
    if (w < 0) {
        perror("rusage: wait4");
        return 125;
    }
    int status = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
    printf("%lld %lld %lld %ld %d\n", t1 - t0, us(ru.ru_utime), us(ru.ru_stime), ru.ru_maxrss,
           status);
    return 0;
}
