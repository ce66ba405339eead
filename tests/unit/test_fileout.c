/* Tests for base/fileout: results go only to a regular file or a new path — a symlink is
 * followed, a FIFO or a device is written through, a directory is refused — through an
 * exclusive temporary file; the check before a run creates nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileout.h"
#include "testutil.h"

static char dir[512], err[512];

static int setup(void **state)
{
    (void)state;
    const char *d = tu_tmpdir();
    if (!d)
        return -1;
    snprintf(dir, sizeof dir, "%s", d);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int write_hello(FILE *f, void *arg)
{
    return fputs(arg, f) == EOF ? EIO : 0;
}

static char *path_in(const char *name)
{
    static char p[4][700];
    static int k;
    char *out = p[k++ % 4];
    snprintf(out, sizeof p[0], "%s/%s", dir, name);
    return out;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Entries of dir, "." and ".." left out. */
static int count_entries(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void a_new_path_gets_a_regular_file_and_no_temporary_is_left(void **state)
{
    (void)state;
    const char *p = path_in("out.json");
    assert_int_equal(llm_write_file_atomic(p, write_hello, "hello", err, sizeof err), 0);
    char *text = tu_read_file(p, NULL);
    assert_string_equal(text, "hello");
    free(text);
    assert_int_equal(count_entries(), 1);
    /* An existing file is replaced, its permissions kept. */
    chmod(p, 0600);
    assert_int_equal(llm_write_file_atomic(p, write_hello, "again", err, sizeof err), 0);
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(count_entries(), 1);
}

static void a_symlink_is_followed_to_its_target_and_stays_a_symlink(void **state)
{
    (void)state;
    const char *target = path_in("real.json"), *link = path_in("link.json");
    write_text(target, "old");
    assert_int_equal(symlink("real.json", link), 0);
    assert_int_equal(llm_write_file_atomic(link, write_hello, "new", err, sizeof err), 0);
    struct stat sb;
    assert_int_equal(lstat(link, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    char *text = tu_read_file(target, NULL);
    assert_string_equal(text, "new");
    free(text);
    /* A dangling link names the file to create. */
    const char *dangling = path_in("dangling.json");
    assert_int_equal(symlink("made.json", dangling), 0);
    assert_int_equal(llm_write_file_atomic(dangling, write_hello, "made", err, sizeof err), 0);
    text = tu_read_file(path_in("made.json"), NULL);
    assert_string_equal(text, "made");
    free(text);
}

static void devices_are_written_through_never_replaced(void **state)
{
    (void)state;
    assert_int_equal(llm_write_file_atomic("/dev/null", write_hello, "x", err, sizeof err), 0);
    struct stat sb;
    assert_int_equal(stat("/dev/null", &sb), 0);
    assert_true(S_ISCHR(sb.st_mode));
}

static void *read_fifo(void *arg)
{
    static char got[64];
    FILE *f = fopen(arg, "r");
    size_t n = f ? fread(got, 1, sizeof got - 1, f) : 0;
    got[n] = '\0';
    if (f)
        fclose(f);
    return got;
}

static void a_fifo_is_written_through_and_stays_a_fifo(void **state)
{
    (void)state;
    const char *fifo = path_in("pipe");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    pthread_t t;
    pthread_create(&t, NULL, read_fifo, (void *)fifo);
    int rc = -1;
    for (int i = 0; i < 200 && rc != 0; i++) { /* until the reader has opened it */
        rc = llm_write_file_atomic(fifo, write_hello, "through", err, sizeof err);
        if (rc != 0)
            usleep(10 * 1000);
    }
    assert_int_equal(rc, 0);
    void *got;
    pthread_join(t, &got);
    assert_string_equal(got, "through");
    struct stat sb;
    assert_int_equal(lstat(fifo, &sb), 0);
    assert_true(S_ISFIFO(sb.st_mode));
    /* Nobody reading: an error, not a hang and not a regular file in its place. */
    assert_int_equal(llm_write_file_atomic(fifo, write_hello, "x", err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot write"));
    assert_int_equal(lstat(fifo, &sb), 0);
    assert_true(S_ISFIFO(sb.st_mode));
}

static void a_planted_temporary_name_is_never_followed(void **state)
{
    (void)state;
    const char *victim = path_in("victim"), *p = path_in("out.json");
    write_text(victim, "precious");
    assert_int_equal(symlink(victim, path_in("out.json.tmp")), 0);
    assert_int_equal(llm_write_file_atomic(p, write_hello, "result", err, sizeof err), 0);
    char *text = tu_read_file(victim, NULL);
    assert_string_equal(text, "precious");
    free(text);
}

static void a_directory_is_refused_by_the_check_and_the_write(void **state)
{
    (void)state;
    assert_int_equal(llm_output_check(dir, err, sizeof err), -1);
    assert_non_null(strstr(err, "is a directory; give a file name inside it"));
    assert_int_equal(llm_write_file_atomic(dir, write_hello, "x", err, sizeof err), -1);
    assert_non_null(strstr(err, "Is a directory"));
}

static void the_check_creates_and_changes_nothing(void **state)
{
    (void)state;
    const char *p = path_in("keep.json");
    write_text(p, "kept");
    assert_int_equal(llm_output_check(p, err, sizeof err), 0);
    assert_int_equal(llm_output_check(path_in("new.json"), err, sizeof err), 0);
    assert_int_equal(llm_output_check("/dev/null", err, sizeof err), 0);
    assert_int_equal(count_entries(), 1);
    char *text = tu_read_file(p, NULL);
    assert_string_equal(text, "kept");
    free(text);
    assert_int_equal(llm_output_check(path_in("no/such/dir.json"), err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot write there"));
    if (geteuid() != 0) {
        chmod(dir, 0555);
        assert_int_equal(llm_output_check(p, err, sizeof err), -1);
        assert_non_null(strstr(err, "its directory is not writable"));
        chmod(dir, 0755);
    }
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(a_new_path_gets_a_regular_file_and_no_temporary_is_left),
        T(a_symlink_is_followed_to_its_target_and_stays_a_symlink),
        T(devices_are_written_through_never_replaced),
        T(a_fifo_is_written_through_and_stays_a_fifo),
        T(a_planted_temporary_name_is_never_followed),
        T(a_directory_is_refused_by_the_check_and_the_write),
        T(the_check_creates_and_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
