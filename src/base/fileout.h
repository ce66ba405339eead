/* base/fileout: result files written safely — only to a regular file or a new path (a
 * symlink is followed, a FIFO or character device is written through, never replaced),
 * through an exclusively created temporary file in the target's directory, fsync, rename —
 * and checked before a run without creating anything. Any thread, one call per file. */
#ifndef LLM_BASE_FILEOUT_H
#define LLM_BASE_FILEOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Writes the whole content to f; returns 0 or an errno value. */
typedef int (*llm_file_writer)(FILE *f, void *arg);

/* Whether path can take results, creating and changing nothing: a new name in a
 * writable directory, a writable regular file (and its directory, for the rename), or a
 * writable FIFO or character device. Returns 0, or -1 with "PATH: what is wrong; what to
 * do" in err (the caller puts the option's name in front). */
int llm_output_check(const char *path, char *err, size_t errlen);

/* Writes path with write(f, arg): a regular file or a new name is replaced atomically
 * (a temporary ".NAME.XXXXXX" made with O_EXCL next to the target, fsync, rename, the
 * directory fsynced; an existing file's permissions kept); a FIFO or character device is
 * opened and written through. Returns 0, or -1 with "cannot write PATH: reason" in err and
 * no temporary file left behind. */
int llm_write_file_atomic(const char *path, llm_file_writer write, void *arg, char *err,
                          size_t errlen);

/* True when path is (or links to) a FIFO or character device: written through, so a
 * place for one final result, not for autosaves. */
bool llm_output_is_stream(const char *path);

/* True when a and b name the same existing file (after symlinks). */
bool llm_same_file(const char *a, const char *b);

#endif
