#ifndef INTERROGATE_CFILESYSTEM_H
#define INTERROGATE_CFILESYSTEM_H

#include <spawn.h>
#include <stddef.h>

/// Reads a folder's entries into `buffer` as Linux's getdents64 does (records of inode, offset,
/// record length, type and a NUL-ended name); returns the bytes written, 0 at the end, or -1
/// with errno set. Swift cannot call the variadic `syscall`, and readdir allocates a 32 KiB
/// buffer and asks `fstat` for every folder it opens: a study lists every session's reviews.
long interrogate_getdents64(int fd, void *buffer, size_t size);

/// Adds to `actions` the closing of every descriptor from `from` up, in the child, as glibc's
/// posix_spawn_file_actions_addclosefrom_np (which Swift's Glibc module does not show) does:
/// a child must hold none of the app's files and sockets (a transcript open for appending, a
/// session's lock, a connection a server means to close). Returns 0, or an error number.
int interrogate_spawn_close_from(posix_spawn_file_actions_t *actions, int from);

#endif
