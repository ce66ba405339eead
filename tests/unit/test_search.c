/* Tests for core/search: the loads a --search tries, and its one-sentence answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/search.h"

/* Runs a search against a server that meets the SLO up to `limit`; returns the steps and
 * writes the loads tried into tried[]. */
static unsigned run(search_state *s, double start, double max, bool rate, double limit,
                    double *tried, unsigned cap)
{
    search_start(s, start, max, rate);
    unsigned n = 0;
    while (!s->done && n < 200) {
        if (n < cap)
            tried[n] = s->next;
        n++;
        search_report(s, s->next <= limit);
    }
    return n;
}

static void doubles_then_bisects_to_the_exact_user_count(void **state)
{
    (void)state;
    search_state s;
    double tried[16];
    unsigned n = run(&s, 1, 256, false, 4, tried, 16);
    static const double want[] = {1, 2, 4, 8, 6, 5};
    assert_int_equal(n, 6);
    for (unsigned i = 0; i < n; i++)
        assert_true(tried[i] == want[i]);
    assert_true(s.best == 4 && s.first_miss == 5);
    char text[200];
    search_describe(&s, text, sizeof text);
    assert_string_equal(text, "the highest concurrency that meets the SLO is 4; concurrency 5 "
                              "misses it (6 steps)");
}

static void every_limit_is_found_within_the_resolution(void **state)
{
    (void)state;
    for (double limit = 1; limit <= 300; limit++) {
        search_state s;
        double tried[64];
        unsigned n = run(&s, 1, 1024, false, limit, tried, 64);
        assert_true(s.done);
        assert_true(s.best <= limit && s.first_miss > limit);
        assert_true(s.first_miss - s.best <= (s.first_miss * 0.05 > 1 ? s.first_miss * 0.05 : 1));
        assert_true(n <= 20); /* doubling to 512 is 10 steps, bisecting 5 % a few more */
        for (unsigned i = 0; i < n; i++)
            assert_true(tried[i] == (double)(long)tried[i]); /* whole users */
    }
}

static void stops_at_the_bound_when_everything_passes(void **state)
{
    (void)state;
    search_state s;
    double tried[16];
    unsigned n = run(&s, 3, 20, false, 1000, tried, 16);
    static const double want[] = {3, 6, 12, 20};
    assert_int_equal(n, 4);
    for (unsigned i = 0; i < n; i++)
        assert_true(tried[i] == want[i]);
    char text[200];
    search_describe(&s, text, sizeof text);
    assert_string_equal(text, "every step met the SLO, up to concurrency 20 (4 steps; "
                              "--search-max goes higher)");
}

static void a_failing_start_bisects_down_to_one_user(void **state)
{
    (void)state;
    search_state s;
    double tried[16];
    unsigned n = run(&s, 16, 256, false, 2, tried, 16);
    static const double want[] = {16, 8, 4, 2, 3};
    assert_int_equal(n, 5);
    for (unsigned i = 0; i < n; i++)
        assert_true(tried[i] == want[i]);
    assert_true(s.best == 2 && s.first_miss == 3);

    n = run(&s, 4, 256, false, 0, tried, 16); /* nothing passes */
    assert_true(s.best == 0 && s.first_miss == 1);
    char text[200];
    search_describe(&s, text, sizeof text);
    assert_string_equal(
        text, "no step met the SLO; the lowest tried, concurrency 1, misses it (3 steps)");
}

static void rate_search_finds_a_fraction_within_five_percent(void **state)
{
    (void)state;
    search_state s;
    double tried[64];
    unsigned n = run(&s, 10, 1000, true, 33.3, tried, 64);
    assert_true(s.done);
    assert_true(s.best <= 33.3 && s.first_miss > 33.3);
    assert_true(s.first_miss - s.best <= 0.05 * s.first_miss);
    assert_true(tried[0] == 10 && tried[1] == 20 && tried[2] == 40 && tried[3] == 30);
    assert_true(n <= 10);
    char text[200];
    search_describe(&s, text, sizeof text);
    assert_non_null(strstr(text, "the highest rate that meets the SLO is "));
    assert_non_null(strstr(text, "/s; rate "));

    run(&s, 10, 1000, true, 0, tried, 64); /* nothing passes: halves to 1/16 and gives up */
    assert_true(s.done && s.best == 0 && s.first_miss <= 10.0 / 16);
}

static void stops_after_the_most_steps_and_ignores_reports_after_done(void **state)
{
    (void)state;
    search_state s;
    search_start(&s, 1, 1e300, true);
    unsigned n = 0;
    while (!s.done && n < 1000) {
        search_report(&s, true); /* passes forever: only the step cap stops it */
        n++;
    }
    assert_int_equal(n, SEARCH_MAX_STEPS);
    double next = s.next;
    search_report(&s, false);
    assert_true(s.next == next && s.first_miss == 0 && s.steps == SEARCH_MAX_STEPS);
}

static void an_unfinished_search_says_so(void **state)
{
    (void)state;
    search_state s;
    search_start(&s, 1, 64, false);
    search_report(&s, true);
    search_report(&s, true);
    search_report(&s, false);
    char text[200];
    search_describe(&s, text, sizeof text);
    assert_string_equal(text, "the search stopped early; so far the highest concurrency that "
                              "meets the SLO is 2; concurrency 4 misses it (3 steps)");
    search_start(&s, 1, 64, false);
    search_describe(&s, text, sizeof text);
    assert_string_equal(text, "the search ran no step to its end");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(doubles_then_bisects_to_the_exact_user_count),
        cmocka_unit_test(every_limit_is_found_within_the_resolution),
        cmocka_unit_test(stops_at_the_bound_when_everything_passes),
        cmocka_unit_test(a_failing_start_bisects_down_to_one_user),
        cmocka_unit_test(rate_search_finds_a_fraction_within_five_percent),
        cmocka_unit_test(stops_after_the_most_steps_and_ignores_reports_after_done),
        cmocka_unit_test(an_unfinished_search_says_so),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
