/* Tests for base/util: duration parsing, key masking, formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(durations_accept_units_and_reject_junk),
        cmocka_unit_test(counts_reject_negative_and_trailing_text),
        cmocka_unit_test(key_mask_shows_prefix_and_last_four_only),
        cmocka_unit_test(ms_formatting_picks_a_readable_unit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
