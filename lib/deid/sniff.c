/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/sniff.c - kk_sniff_dicom() (include/kakou/batch.h): does a file
 * look like DICOM, read without waiting.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kakou/batch.h"

int kk_sniff_dicom(const char *path)
{
    /* without blocking: a FIFO put in place of a file is refused here */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        errno = EINVAL; /* "Invalid argument": only regular files are read */
        return -1;
    }
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
