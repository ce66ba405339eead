/* base/fileout: safe result files (see fileout.h). */
#include "base/fileout.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"

#define MAX_LINK_HOPS 40

/* path with every symlink of its last component followed (a dangling one names the file
 * to create). 0, or -1 with errno set. */
static int follow_links(const char *path, char *out, size_t cap)
{
    char cur[PATH_MAX];
    if (llm_strlcpy(cur, path, sizeof cur) >= sizeof cur)
        return errno = ENAMETOOLONG, -1;
    for (int hop = 0; hop < MAX_LINK_HOPS; hop++) {
        struct stat st;
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode))
            return llm_strlcpy(out, cur, cap) < cap ? 0 : (errno = ENAMETOOLONG, -1);
        char link[PATH_MAX], dir[PATH_MAX];
        ssize_t n = readlink(cur, link, sizeof link - 1);
        if (n < 0)
            return -1;
        link[n] = '\0';
        llm_strlcpy(dir, cur, sizeof dir);
        int w = link[0] == '/' ? snprintf(cur, sizeof cur, "%s", link)
                               : snprintf(cur, sizeof cur, "%s/%s", dirname(dir), link);
        if (w < 0 || (size_t)w >= sizeof cur)
            return errno = ENAMETOOLONG, -1;
    }
    return errno = ELOOP, -1;
}

static void dir_of(const char *path, char *out, size_t cap)
{
    char copy[PATH_MAX];
    llm_strlcpy(copy, path, sizeof copy);
    llm_strlcpy(out, dirname(copy), cap);
}

static int check_fail(char *err, size_t errlen, const char *path, const char *what,
                      const char *detail)
{
    snprintf(err, errlen, "%s: %s%s%s%s", path, what, detail ? " (" : "", detail ? detail : "",
             detail ? ")" : "");
    return -1;
}

int llm_output_check(const char *path, char *err, size_t errlen)
{
    char target[PATH_MAX], dir[PATH_MAX];
    struct stat st;
    if (!*path)
        return check_fail(err, errlen, path, "needs a file name", NULL);
    if (follow_links(path, target, sizeof target) != 0)
        return check_fail(err, errlen, path, "cannot write there; choose another path",
                          strerror(errno));
    dir_of(target, dir, sizeof dir);
    if (stat(target, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return check_fail(err, errlen, path,
                              "is a directory; give a file name inside it, like DIR/results.json",
                              NULL);
        if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode))
            return check_fail(err, errlen, path,
                              "is not a regular file, FIFO or character device; choose another "
                              "path",
                              NULL);
        if (access(target, W_OK) != 0)
            return check_fail(err, errlen, path, "cannot write there; choose another path",
                              strerror(errno));
        if (S_ISREG(st.st_mode) && access(dir, W_OK | X_OK) != 0)
            return check_fail(err, errlen, path,
                              "cannot replace it: its directory is not writable; choose "
                              "another path",
                              strerror(errno));
        return 0;
    }
    if (errno != ENOENT)
        return check_fail(err, errlen, path, "cannot write there; choose another path",
                          strerror(errno));
    int why = stat(dir, &st) != 0             ? errno
              : !S_ISDIR(st.st_mode)          ? ENOTDIR
              : access(dir, W_OK | X_OK) != 0 ? errno
                                              : 0;
    if (why)
        return check_fail(err, errlen, path, "cannot write there; choose another path",
                          strerror(why));
    return 0;
}

static int write_fail(char *err, size_t errlen, const char *path, int e)
{
    snprintf(err, errlen, "cannot write %s: %s", path,
             e == ENXIO ? "it is a FIFO and nothing is reading it" : strerror(e));
    return -1;
}

/* The process umask without changing it (umask(2) can only swap it, racing other
 * threads that create files). */
static mode_t current_umask(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];
    unsigned mask = 022;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Umask: %o", &mask) == 1)
            break;
    if (f)
        fclose(f);
    return (mode_t)mask;
}

/* Runs write on f, then flushes and syncs; 0 or an errno value. Closes f. */
static int write_and_close(FILE *f, llm_file_writer write, void *arg, bool sync)
{
    errno = 0;
    int e = write(f, arg);
    if (!e && fflush(f) != 0)
        e = errno ? errno : EIO;
    if (!e && sync && fsync(fileno(f)) != 0)
        e = errno ? errno : EIO;
    if (fclose(f) != 0 && !e)
        e = errno ? errno : EIO;
    return e;
}

/* A FIFO or a character device: written through, never replaced. */
static int write_through(const char *target, llm_file_writer write, void *arg)
{
    int fd = open(target, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return errno; /* ENXIO: a FIFO nobody reads (never wait for one) */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int e = errno;
        close(fd);
        return e;
    }
    return write_and_close(f, write, arg, false);
}

/* fsync of the directory makes the rename itself durable; best effort. */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static int write_replace(const char *target, const struct stat *old, llm_file_writer write,
                         void *arg)
{
    char dir[PATH_MAX], copy[PATH_MAX], tmp[PATH_MAX];
    dir_of(target, dir, sizeof dir);
    llm_strlcpy(copy, target, sizeof copy);
    int n = snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, basename(copy));
    if (n < 0 || (size_t)n >= sizeof tmp)
        return ENAMETOOLONG;
    int fd = mkostemp(tmp, O_CLOEXEC); /* O_CREAT | O_EXCL, a name nobody can guess */
    if (fd < 0)
        return errno;
    mode_t mode = old ? (old->st_mode & 07777) : (0666 & ~current_umask());
    FILE *f = fchmod(fd, mode) == 0 ? fdopen(fd, "w") : NULL;
    int e = f ? write_and_close(f, write, arg, true) : errno;
    if (!f)
        close(fd);
    if (!e && rename(tmp, target) != 0)
        e = errno;
    if (e) {
        unlink(tmp);
        return e;
    }
    sync_dir(dir);
    return 0;
}

int llm_write_file_atomic(const char *path, llm_file_writer write, void *arg, char *err,
                          size_t errlen)
{
    char target[PATH_MAX];
    struct stat st;
    if (follow_links(path, target, sizeof target) != 0)
        return write_fail(err, errlen, path, errno);
    bool exists = stat(target, &st) == 0;
    int e;
    if (!exists && errno != ENOENT)
        e = errno;
    else if (exists && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)))
        e = write_through(target, write, arg);
    else if (exists && S_ISDIR(st.st_mode))
        e = EISDIR;
    else if (exists && !S_ISREG(st.st_mode))
        e = EINVAL;
    else
        e = write_replace(target, exists ? &st : NULL, write, arg);
    return e ? write_fail(err, errlen, path, e) : 0;
}

bool llm_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

bool llm_output_is_stream(const char *path)
{
    char target[PATH_MAX];
    struct stat st;
    return follow_links(path, target, sizeof target) == 0 && stat(target, &st) == 0 &&
           (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode));
}
