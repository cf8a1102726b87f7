/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tools/kakou.c - the kakou command: dispatch to a subcommand
 * (tools/cmd_<name>.c), git style. The table below is the one list of
 * subcommands; `kakou --help` prints it.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "cli.h"

static const kk_command commands[] = {
    { "deid", kk_cmd_deid, "de-identify DICOM files and folders into an output folder" },
    { "explain", kk_cmd_explain, "show what a profile does to every attribute of a file" },
    { "profile", kk_cmd_profile, "lint, show or list profiles" },
    { "key", kk_cmd_key, "create a key file, or print its key id" },
    { "lookup", kk_cmd_lookup, "re-identify: the original behind a pseudonym or UID (audited)" },
    { "verify", kk_cmd_verify, "check de-identified output for anything the profile forbids" },
    { "db", kk_cmd_db, "check, export, merge or shred a store" },
    { "manifest", kk_cmd_manifest, "sign a delivery folder (SHA256SUMS), or verify one" },
    { "pack", kk_cmd_pack, "encrypt a delivery folder into one archive for one recipient" },
    { "unpack", kk_cmd_unpack, "decrypt and check an archive made by 'kakou pack'" },
    { "gateway", kk_cmd_gateway, "receive DICOM over the network, de-identify, forward (C-STORE)" },
    { "review", kk_cmd_review, "draw a contact sheet of burned-in text removal, before and after" },
    { NULL, NULL, NULL }
};

/* Leave without running exit handlers: every file, the store and the
 * report are closed by now, and what is left is the process's own memory,
 * which the kernel takes back faster than the destructors of DCMTK's
 * dictionary and the other libraries hand it back (a millisecond of a
 * one-file run). Sanitizer builds exit normally, so the leak check runs. */
static int finish(int rc)
{
#if defined(__SANITIZE_ADDRESS__)
    return rc;
#else
    if (fflush(NULL) != 0)
        rc = rc ? rc : KK_EXIT_FAILED;
    _exit(rc);
#endif
}

static void usage(FILE *fp)
{
    fprintf(fp, "usage: kakou [--version] [--help] COMMAND [ARGS]\n\n"
                "kakou de-identifies and pseudonymizes DICOM files.\n\ncommands:\n");
    for (int i = 0; commands[i].name; i++)
        fprintf(fp, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(fp, "\n'kakou COMMAND --help' shows a command's options; man kakou-COMMAND has more.\n"
                "Exit status: 0 all done, 1 some inputs failed, 2 usage or configuration error.\n");
}

/* Each object passes through buffers of about its size (the received
 * data set, its file bytes, the parse, the written output). glibc serves
 * allocations over 128 KiB with a fresh mmap and gives freed heap back at
 * once, so every object paid page faults on new zeroed pages and
 * madvise/munmap on the way out: with 4 receivers, half the gateway's CPU
 * (perf, bench/README.md). Keeping up to 32 MiB blocks on the heap and
 * 64 MiB of free heap per arena halves the CPU per object; RSS stays
 * bounded by the largest objects in flight. A user's GLIBC_TUNABLES wins. */
static void keep_heap_pages(void)
{
#ifdef __GLIBC__
    const char *t = getenv("GLIBC_TUNABLES");
    if (t && strstr(t, "glibc.malloc."))
        return;
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
#endif
}

int main(int argc, char **argv)
{
    /* past a file size limit (ulimit -f) a write must fail with EFBIG,
     * which names the problem and removes the temporary file, rather
     * than kill the batch */
    signal(SIGXFSZ, SIG_IGN);
    /* DCMTK's dictionary: unless the user names dictionary files, DCMTK
     * reads none (":" is a list of two empty names, which DCMTK skips
     * without opening anything; /dev/null, an empty file, made DCMTK's
     * line reader look at an uninitialised buffer, valgrind found) and libkakou
     * adds its compiled-in copy of the default files, a quarter of the
     * time of a one-file run saved (lib/dicom/dict_dcmtk.cc). Set before
     * anything touches DCMTK and before any thread starts. */
    const char *dictpath = getenv("DCMDICTPATH");
    if (!dictpath || !*dictpath)
        setenv("DCMDICTPATH", ":", 1);
    keep_heap_pages();
    if (argc < 2) {
        usage(stderr);
        return KK_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return KK_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("kakou %s\n%s", kk_version(), kk_version_libraries());
        return KK_EXIT_OK;
    }
    for (int i = 0; commands[i].name; i++)
        if (strcmp(commands[i].name, cmd) == 0)
            return finish(commands[i].run(argc - 1, argv + 1));
    fprintf(stderr, "kakou: '%s' is not a kakou command; see 'kakou --help'\n", cmd);
    return KK_EXIT_USAGE;
}
