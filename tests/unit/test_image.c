/* Tests for engine/image: magic-byte check, size cap, and the base64 data URL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/image.h"
#include "testutil.h"

static char *write_temp(const void *bytes, size_t n)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/img", tu_tmpdir());
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(bytes, 1, n, f);
    fclose(f);
    return path;
}

static void magic_bytes_name_each_supported_format(void **state)
{
    (void)state;
    assert_string_equal(image_mime((const unsigned char *)"\xFF\xD8\xFF\xE0", 4), "image/jpeg");
    assert_string_equal(image_mime((const unsigned char *)"\x89PNG\r\n\x1a\n", 8), "image/png");
    assert_string_equal(image_mime((const unsigned char *)"GIF89a", 6), "image/gif");
    assert_string_equal(image_mime((const unsigned char *)"GIF87a", 6), "image/gif");
    assert_string_equal(image_mime((const unsigned char *)"RIFF\0\0\0\0WEBPVP8 ", 16),
                        "image/webp");
    assert_null(image_mime((const unsigned char *)"RIFF\0\0\0\0WAVE", 12));
    assert_null(image_mime((const unsigned char *)"<html>", 6));
    assert_null(image_mime((const unsigned char *)"\xFF\xD8", 2)); /* too short */
}

static void data_url_is_mime_and_base64_of_the_bytes(void **state)
{
    (void)state;
    char *path = write_temp("GIF89a!", 7);
    char *url = NULL, err[256];
    assert_int_equal(image_data_url(path, &url, err, sizeof err), 0);
    assert_string_equal(url, "data:image/gif;base64,R0lGODlhIQ==");
    free(url);
    unlink(path);
}

static void a_file_that_is_not_an_image_is_refused(void **state)
{
    (void)state;
    char *path = write_temp("hello, world", 12);
    char *url = NULL, err[256] = "";
    assert_int_equal(image_data_url(path, &url, err, sizeof err), -1);
    assert_null(url);
    assert_non_null(strstr(err, "not a JPEG, PNG, GIF or WebP image"));
    unlink(path);
}

static void a_missing_file_says_so(void **state)
{
    (void)state;
    char *url = NULL, err[256] = "";
    assert_int_equal(image_data_url("/nonexistent/photo.jpg", &url, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/photo.jpg: cannot read it"));
}

static void an_oversized_image_is_refused(void **state)
{
    (void)state;
    size_t n = IMAGE_MAX_BYTES + 16;
    unsigned char *big = calloc(1, n);
    memcpy(big, "\xFF\xD8\xFF\xE0", 4);
    char *path = write_temp(big, n);
    free(big);
    char *url = NULL, err[256] = "";
    assert_int_equal(image_data_url(path, &url, err, sizeof err), -1);
    assert_non_null(strstr(err, "larger than 20 MiB"));
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(magic_bytes_name_each_supported_format),
        cmocka_unit_test(data_url_is_mime_and_base64_of_the_bytes),
        cmocka_unit_test(a_file_that_is_not_an_image_is_refused),
        cmocka_unit_test(a_missing_file_says_so),
        cmocka_unit_test(an_oversized_image_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
