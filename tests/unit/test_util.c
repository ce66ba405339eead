/* Tests for base/util: duration parsing, key masking (before any cut), formatting, URL
 * credentials and origins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

static void durations_accept_units_and_reject_junk(void **state)
{
    (void)state;
    double s = -1;
    assert_int_equal(llm_parse_duration("30s", &s), 0);
    assert_true(s == 30.0);
    assert_int_equal(llm_parse_duration("5m", &s), 0);
    assert_true(s == 300.0);
    assert_int_equal(llm_parse_duration("8h", &s), 0);
    assert_true(s == 28800.0);
    assert_int_equal(llm_parse_duration("250ms", &s), 0);
    assert_true(s > 0.2499 && s < 0.2501);
    assert_int_equal(llm_parse_duration("1.5", &s), 0);
    assert_true(s == 1.5);
    assert_int_equal(llm_parse_duration("-1s", &s), -1);
    assert_int_equal(llm_parse_duration("5x", &s), -1);
    assert_int_equal(llm_parse_duration("", &s), -1);
    assert_int_equal(llm_parse_duration("s", &s), -1);
}

static void counts_reject_negative_and_trailing_text(void **state)
{
    (void)state;
    long v = 0;
    assert_int_equal(llm_parse_count("42", &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(llm_parse_count("-3", &v), -1);
    assert_int_equal(llm_parse_count("3x", &v), -1);
    assert_int_equal(llm_parse_count("99999999999999999999999", &v), -1);
}

static void key_mask_shows_prefix_and_last_four_only(void **state)
{
    (void)state;
    char out[64];
    llm_mask_key("sk-abcdefghijklmnop1234", out, sizeof out);
    assert_string_equal(out, "sk-\xE2\x80\xA6"
                             "1234");
    assert_null(strstr(out, "abcdef"));
    llm_mask_key("", out, sizeof out);
    assert_string_equal(out, "(none)");
    llm_mask_key("short", out, sizeof out);
    assert_null(strstr(out, "short"));
}

static void ms_formatting_picks_a_readable_unit(void **state)
{
    (void)state;
    char out[32];
    llm_format_ms(3.4, out, sizeof out, true);
    assert_string_equal(out, "3.40 ms");
    llm_format_ms(1234.0, out, sizeof out, true);
    assert_string_equal(out, "1.23 s");
    llm_format_ms(0.5, out, sizeof out, true);
    assert_string_equal(out, "500 us");
}

/* A key of n characters, no '-' (so its mask shows no prefix), different at each n. */
static void make_key(char *key, size_t n)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    uint64_t x = 0x9E3779B97F4A7C15ULL * (n + 1);
    for (size_t i = 0; i < n; i++) {
        x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
        key[i] = abc[(x * 0x2545F4914F6CDD1DULL >> 58) % (sizeof abc - 1)];
    }
    key[n] = '\0';
}

/* No 5 characters in a row of the key (its mask shows the last 4, nothing more). */
static void assert_no_key_piece(const char *text, const char *key, size_t cap)
{
    size_t n = strlen(key);
    for (size_t i = 0; i + 5 <= n; i++) {
        char piece[6];
        memcpy(piece, key + i, 5);
        piece[5] = '\0';
        if (strstr(text, piece))
            fail_msg("key of %zu characters, cut at %zu: \"%s\" survives in \"%s\"", n, cap, piece,
                     text);
    }
}

/* The cut is the point of the next test. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

/* A server echoes the key in its error; the caller cuts the message (snprintf into a small
 * buffer), then scrubs: the part of the key before the cut must not survive. */
static void a_key_cut_at_any_point_then_scrubbed_leaves_no_piece_of_it(void **state)
{
    (void)state;
    char key[256], text[512];
    for (size_t n = 20; n <= 200; n++) {
        make_key(key, n);
        for (size_t cap = 1; cap <= n + 40; cap++) {
            snprintf(text, cap, "HTTP 401: invalid api key %s given", key);
            llm_scrub_key(text, cap, key);
            assert_no_key_piece(text, key, cap);
        }
    }
}

/* llm_format_scrubbed masks the whole message first and cuts after: the mask may be cut,
 * the key never shows, and the cut never splits the mask's UTF-8 ellipsis. */
static void format_scrubbed_masks_before_it_cuts_at_every_length(void **state)
{
    (void)state;
    char key[256], text[512];
    for (size_t n = 20; n <= 200; n++) {
        make_key(key, n);
        for (size_t cap = 1; cap <= n + 60; cap++) {
            int len = llm_format_scrubbed(text, cap, key, "HTTP %d: key %s is wrong, key %s", 401,
                                          key, key);
            assert_true(len >= 0 && (size_t)len < cap);
            assert_no_key_piece(text, key, cap);
            size_t tl = strlen(text);
            /* no dangling lead byte of a multi-byte sequence at the end */
            if (tl > 0)
                assert_false(((unsigned char)text[tl - 1] & 0xC0) == 0xC0);
        }
    }
    llm_format_scrubbed(text, sizeof text, NULL, "no key %d", 7);
    assert_string_equal(text, "no key 7");
}

static void url_credentials_come_out_for_display_and_storage(void **state)
{
    (void)state;
    char out[256];
    llm_url_without_userinfo("http://user:pa%40ss@host:8000/v1", out, sizeof out);
    assert_string_equal(out, "http://host:8000/v1");
    llm_url_without_userinfo("https://host/v1?x=a@b", out, sizeof out);
    assert_string_equal(out, "https://host/v1?x=a@b"); /* an '@' after the host is not userinfo */
    char url[] = "http://u:p@h:1/v1";
    char *info = llm_url_take_userinfo(url);
    assert_string_equal(info, "u:p");
    assert_string_equal(url, "http://h:1/v1");
    free(info);
    assert_null(llm_url_take_userinfo(url));
}

static void same_origin_means_scheme_host_and_port(void **state)
{
    (void)state;
    assert_true(llm_url_same_origin("http://H:80/v1", "http://h/metrics"));
    assert_true(llm_url_same_origin("https://h/v1", "https://u:p@h:443/metrics"));
    assert_true(llm_url_same_origin("http://[::1]:8000/v1", "http://[::1]:8000/metrics"));
    assert_false(llm_url_same_origin("http://h:8000/v1", "http://h:9000/metrics"));
    assert_false(llm_url_same_origin("http://h/v1", "https://h/metrics"));
    assert_false(llm_url_same_origin("http://h/v1", "http://other/metrics"));
    assert_false(llm_url_same_origin("http://h/v1", "http://h.evil.example/metrics"));
    assert_false(llm_url_same_origin("http://h/v1", NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(durations_accept_units_and_reject_junk),
        cmocka_unit_test(counts_reject_negative_and_trailing_text),
        cmocka_unit_test(key_mask_shows_prefix_and_last_four_only),
        cmocka_unit_test(ms_formatting_picks_a_readable_unit),
        cmocka_unit_test(a_key_cut_at_any_point_then_scrubbed_leaves_no_piece_of_it),
        cmocka_unit_test(format_scrubbed_masks_before_it_cuts_at_every_length),
        cmocka_unit_test(url_credentials_come_out_for_display_and_storage),
        cmocka_unit_test(same_origin_means_scheme_host_and_port),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
