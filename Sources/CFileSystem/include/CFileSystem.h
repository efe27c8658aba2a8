#ifndef INTERROGATE_CFILESYSTEM_H
#define INTERROGATE_CFILESYSTEM_H

#include <stddef.h>

/// Reads a folder's entries into `buffer` as Linux's getdents64 does (records of inode, offset,
/// record length, type and a NUL-ended name); returns the bytes written, 0 at the end, or -1
/// with errno set. Swift cannot call the variadic `syscall`, and readdir allocates a 32 KiB
/// buffer and asks `fstat` for every folder it opens: a study lists every session's reviews.
long interrogate_getdents64(int fd, void *buffer, size_t size);

#endif
