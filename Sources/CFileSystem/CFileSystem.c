#define _GNU_SOURCE
#include "CFileSystem.h"
#include <errno.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <unistd.h>

long interrogate_getdents64(int fd, void *buffer, size_t size) {
#ifdef SYS_getdents64
    return syscall(SYS_getdents64, fd, buffer, size);
#else
    (void)fd; (void)buffer; (void)size;
    errno = ENOSYS;
    return -1;
#endif
}

int interrogate_spawn_close_from(posix_spawn_file_actions_t *actions, int from) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
#else
    (void)actions; (void)from;
    return ENOSYS;
#endif
}
