/* An LD_PRELOAD library that simulates cache directories on file systems
 * without a working flock, for the many-ranks cache test
 * (many_ranks_cache.py). PACKJIT_TEST_FLOCK picks the simulation:
 *
 *   fail   flock() fails with ENOLCK, as on NFS without a lock manager
 *          (ENOLCK), Lustre mounted without flock (ENOSYS) or some FUSE
 *          file systems (EOPNOTSUPP): the lock cannot be taken at all;
 *   noop   flock() succeeds at once and excludes nothing, as a flock that
 *          is local to each node (Lustre localflock, NFS local_lock=flock)
 *          looks to processes on different nodes;
 *   off    (or unset) the real flock.
 *
 * PACKJIT_TEST_READONLY_DIR=DIR: open() for writing or creating a file in
 * DIR, mkdir, rename and unlink there fail with EROFS, as on a read-only
 * mount (used where the test runs as root, for whom a 0555 directory is
 * writable, and no private read-only mount can be made).
 *
 * Only the calls the disk cache makes are interposed; nothing else changes.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

static const char *flock_mode(void) {
  const char *mode = getenv("PACKJIT_TEST_FLOCK");
  return mode ? mode : "off";
}

int flock(int fd, int operation) {
  const char *mode = flock_mode();
  if (strcmp(mode, "fail") == 0) {
    errno = ENOLCK;
    return -1;
  }
  if (strcmp(mode, "noop") == 0)
    return 0;
  int (*real)(int, int) = (int (*)(int, int))dlsym(RTLD_NEXT, "flock");
  return real(fd, operation);
}

/* Whether `path` lies in PACKJIT_TEST_READONLY_DIR. */
static int in_readonly_dir(const char *path) {
  const char *dir = getenv("PACKJIT_TEST_READONLY_DIR");
  if (!dir || !*dir || !path)
    return 0;
  size_t length = strlen(dir);
  return strncmp(path, dir, length) == 0 &&
         (path[length] == '/' || path[length] == '\0');
}

static int refuse_write(const char *path, int flags) {
  return in_readonly_dir(path) &&
         ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC)));
}

#define INTERPOSE_OPEN(name)                                                   \
  int name(const char *path, int flags, ...) {                                 \
    mode_t mode = 0;                                                           \
    if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {               \
      va_list args;                                                            \
      va_start(args, flags);                                                   \
      mode = va_arg(args, mode_t);                                             \
      va_end(args);                                                            \
    }                                                                          \
    if (refuse_write(path, flags)) {                                           \
      errno = EROFS;                                                           \
      return -1;                                                               \
    }                                                                          \
    int (*real)(const char *, int, ...) =                                      \
        (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, #name);              \
    return real(path, flags, mode);                                            \
  }
INTERPOSE_OPEN(open)
INTERPOSE_OPEN(open64)

int mkdir(const char *path, mode_t mode) {
  if (in_readonly_dir(path)) {
    errno = EROFS;
    return -1;
  }
  int (*real)(const char *, mode_t) =
      (int (*)(const char *, mode_t))dlsym(RTLD_NEXT, "mkdir");
  return real(path, mode);
}

int rename(const char *from, const char *to) {
  if (in_readonly_dir(from) || in_readonly_dir(to)) {
    errno = EROFS;
    return -1;
  }
  int (*real)(const char *, const char *) =
      (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
  return real(from, to);
}

int unlink(const char *path) {
  if (in_readonly_dir(path)) {
    errno = EROFS;
    return -1;
  }
  int (*real)(const char *) = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
  return real(path);
}
