/* Tests for ui/keys: the one key table — no key bound twice, help text for every key,
 * every action reachable, lookups by key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curses.h>
#include <string.h>

#include "keys.h"

static void no_key_is_bound_twice(void **state)
{
    (void)state;
    size_t n;
    const key_binding *t = keys_table(&n);
    assert_true(n > 10);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            assert_int_not_equal(t[i].key, t[j].key);
}

static void every_key_has_a_name_and_help_text(void **state)
{
    (void)state;
    size_t n;
    const key_binding *t = keys_table(&n);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(t[i].name);
        assert_true(strlen(t[i].name) > 0);
        assert_non_null(t[i].help);
        assert_true(strlen(t[i].help) > 8);
        assert_int_not_equal(t[i].action, ACT_NONE);
    }
}

static void every_action_has_a_key(void **state)
{
    (void)state;
    size_t n;
    const key_binding *t = keys_table(&n);
    for (int a = ACT_NONE + 1; a <= ACT_REPORT; a++) {
        bool found = false;
        for (size_t i = 0; i < n; i++)
            found = found || (int)t[i].action == a;
        assert_true(found);
    }
}

static void the_briefed_keys_do_what_they_say(void **state)
{
    (void)state;
    assert_int_equal(keys_action('+'), ACT_TARGET_UP);
    assert_int_equal(keys_action('-'), ACT_TARGET_DOWN);
    assert_int_equal(keys_action(']'), ACT_TARGET_UP10);
    assert_int_equal(keys_action('['), ACT_TARGET_DOWN10);
    assert_int_equal(keys_action('p'), ACT_PAUSE);
    assert_int_equal(keys_action('n'), ACT_NEXT_STEP);
    assert_int_equal(keys_action('m'), ACT_MANUAL);
    assert_int_equal(keys_action('s'), ACT_SAVE);
    assert_int_equal(keys_action('w'), ACT_REPORT); /* issue 16: the HTML report so far */
    assert_int_equal(keys_action('t'), ACT_THEME);
    assert_int_equal(keys_action('?'), ACT_HELP);
    assert_int_equal(keys_action('q'), ACT_QUIT);
    assert_int_equal(keys_action(KEY_NPAGE), ACT_PAGE_DOWN);
    assert_int_equal(keys_action('Z'), ACT_NONE);
}

static void footer_hints_name_their_own_key(void **state)
{
    (void)state;
    size_t n;
    const key_binding *t = keys_table(&n);
    for (size_t i = 0; i < n; i++)
        if (t[i].footer)
            assert_true(strncmp(t[i].footer, t[i].name, strlen(t[i].name)) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_key_is_bound_twice),
        cmocka_unit_test(every_key_has_a_name_and_help_text),
        cmocka_unit_test(every_action_has_a_key),
        cmocka_unit_test(the_briefed_keys_do_what_they_say),
        cmocka_unit_test(footer_hints_name_their_own_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
