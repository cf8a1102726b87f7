/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tools/walk.h - what deid and verify share for their inputs: a lazy,
 * sorted walk of folders, a quick "is this DICOM?" sniff, and mkdir -p.
 * The walk holds one folder's names at a time (plus the path to it), never
 * the whole list, so memory stays flat however many files a batch has.
 */
#ifndef KK_TOOLS_WALK_H
#define KK_TOOLS_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "cli.h"

/* Called for each regular file (or symlink to one) in walk order. rel is
 * the part of path below the input argument (its base name for a file
 * argument). Return nonzero to stop the walk. */
typedef int (*kk_walk_fn)(const char *path, const char *rel, const struct stat *sb,
                          void *payload);

/* Walk one input argument: a file, or a folder walked recursively in
 * sorted order. Symlinked folders are followed, except one that leads
 * back to a folder above it (a loop, skipped with a warning). Folders
 * more than 64 below the argument, and anything that is not a regular
 * file (FIFO, socket, device), are errors with their path. Errors are
 * printed unless quiet; *errors counts them. Returns nonzero when fn
 * stopped the walk. */
int kk_walk(const kk_cli *cli, const char *arg, bool quiet, kk_walk_fn fn, void *payload,
            size_t *errors);

/* mkdir -p; 0 or -1 with errno (ENOTDIR when dir is there but is not a
 * folder). */
int kk_mkdir_p(const char *dir);

#endif /* KK_TOOLS_WALK_H */
