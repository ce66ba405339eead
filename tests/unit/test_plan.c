/* Tests for engine/plan: fixed and ramp plans from the configuration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "engine/plan.h"

static void fixed_plan_is_one_step_with_the_request_count(void **state)
{
    (void)state;
    llm_config c;
    memset(&c, 0, sizeof c);
    c.concurrency = 8;
    c.requests = 50;
    plan p;
    char err[128];
    assert_int_equal(plan_build(&c, &p, err, sizeof err), 0);
    assert_int_equal(p.n_steps, 1);
    assert_int_equal(p.steps[0].concurrency, 8);
    assert_int_equal(p.steps[0].requests, 50);
    assert_string_equal(p.kind, "fixed");
    plan_free(&p);
}

static void duration_plan_has_no_request_bound(void **state)
{
    (void)state;
    llm_config c;
    memset(&c, 0, sizeof c);
    c.concurrency = 2;
    c.duration_s = 30;
    plan p;
    char err[128];
    assert_int_equal(plan_build(&c, &p, err, sizeof err), 0);
    assert_int_equal(p.steps[0].requests, 0);
    assert_true(p.steps[0].duration_s == 30);
    plan_free(&p);
}

static void additive_ramp_includes_the_end_value(void **state)
{
    (void)state;
    llm_config c;
    memset(&c, 0, sizeof c);
    c.ramp_start = 10;
    c.ramp_end = 35;
    c.ramp_step = 10;
    c.step_requests = 20;
    plan p;
    char err[128];
    assert_int_equal(plan_build(&c, &p, err, sizeof err), 0);
    long want[] = {10, 20, 30, 35};
    assert_int_equal(p.n_steps, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(p.steps[i].concurrency, want[i]);
        assert_int_equal(p.steps[i].requests, 20);
    }
    assert_int_equal(p.max_concurrency, 35);
    plan_free(&p);
}

static void multiplicative_ramp_with_repeats(void **state)
{
    (void)state;
    llm_config c;
    memset(&c, 0, sizeof c);
    c.ramp_start = 1;
    c.ramp_end = 8;
    c.ramp_step = 2;
    c.ramp_multiply = true;
    c.step_duration_s = 5;
    c.repeat = 2;
    plan p;
    char err[128];
    assert_int_equal(plan_build(&c, &p, err, sizeof err), 0);
    long want[] = {1, 1, 2, 2, 4, 4, 8, 8};
    assert_int_equal(p.n_steps, 8);
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(p.steps[i].concurrency, want[i]);
        assert_true(p.steps[i].duration_s == 5);
    }
    char text[128];
    plan_describe(&p, text, sizeof text);
    assert_non_null(strstr(text, "ramp"));
    plan_free(&p);
}

static void input_and_output_tests_alternate_per_level(void **state)
{
    (void)state;
    llm_config c;
    memset(&c, 0, sizeof c);
    c.ramp_start = 10;
    c.ramp_end = 30;
    c.ramp_step = 10;
    c.step_requests = 5;
    c.test_input = c.test_output = true;
    plan p;
    char err[128];
    assert_int_equal(plan_build(&c, &p, err, sizeof err), 0);
    assert_true(p.has_test[TEST_INPUT] && p.has_test[TEST_OUTPUT]);
    assert_int_equal(p.n_steps, 6);
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(p.steps[i].concurrency, 10 * (long)(i / 2 + 1));
        assert_int_equal(p.steps[i].test, i % 2 == 0 ? TEST_INPUT : TEST_OUTPUT);
    }
    char text[160];
    plan_describe(&p, text, sizeof text);
    assert_non_null(strstr(text, "output + input") || strstr(text, "input + output"));
    plan_free(&p);
}

static void input_test_alone_has_only_input_steps(void **state)
{
    (void)state;
    llm_config c;
    memset(&c, 0, sizeof c);
    c.concurrency = 4;
    c.requests = 20;
    c.test_input = true;
    plan p;
    char err[128];
    assert_int_equal(plan_build(&c, &p, err, sizeof err), 0);
    assert_int_equal(p.n_steps, 1);
    assert_int_equal(p.steps[0].test, TEST_INPUT);
    plan_free(&p);
}

static void output_flag_alone_is_the_plain_plan(void **state)
{
    (void)state;
    llm_config c;
    memset(&c, 0, sizeof c);
    c.concurrency = 4;
    c.requests = 20;
    c.test_output = true;
    plan p;
    char err[128];
    assert_int_equal(plan_build(&c, &p, err, sizeof err), 0);
    assert_int_equal(p.n_steps, 1);
    assert_int_equal(p.steps[0].test, TEST_OUTPUT);
    assert_false(p.has_test[TEST_INPUT]);
    plan_free(&p);
}

static void seed_multimodal_line_adds_a_multimodal_step_per_level(void **state)
{
    (void)state;
    llm_config c;
    memset(&c, 0, sizeof c);
    c.ramp_start = 1;
    c.ramp_end = 2;
    c.ramp_step = 1;
    c.step_requests = 3;
    c.test_input = c.test_output = c.test_multimodal = true;
    plan p;
    char err[128];
    assert_int_equal(plan_build(&c, &p, err, sizeof err), 0);
    assert_int_equal(p.n_steps, 6);
    llm_test_kind want[] = {TEST_INPUT, TEST_OUTPUT, TEST_MULTIMODAL};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(p.steps[i].test, want[i % 3]);
    plan_free(&p);
}

static void rate_with_several_tests_is_refused(void **state)
{
    (void)state;
    llm_config c;
    memset(&c, 0, sizeof c);
    c.requests = 10;
    c.rate = 5;
    c.test_input = c.test_output = true;
    plan p;
    char err[160] = "";
    assert_int_equal(plan_build(&c, &p, err, sizeof err), -1);
    assert_non_null(strstr(err, "--rate"));
    plan_free(&p);
}

static void rate_ramp_steps_the_rate_with_an_in_flight_cap(void **state)
{
    (void)state;
    llm_config c;
    memset(&c, 0, sizeof c);
    c.ramp_start = 5;
    c.ramp_end = 20;
    c.ramp_step = 2;
    c.ramp_multiply = true;
    c.rate_ramp = true;
    c.step_duration_s = 10;
    c.max_inflight = 64;
    plan p;
    char err[160];
    assert_int_equal(plan_build(&c, &p, err, sizeof err), 0);
    double want[] = {5, 10, 20};
    assert_int_equal(p.n_steps, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_true(p.steps[i].rate == want[i]);
        assert_int_equal(p.steps[i].concurrency, 64);
    }
    assert_string_equal(p.kind, "rate");
    char text[160];
    plan_describe(&p, text, sizeof text);
    assert_non_null(strstr(text, "rate ramp 5"));
    plan_free(&p);
}

/* A search starts with one step; the controlling thread appends the others, each like the
 * first but for its load, until the plan is full. */
static void search_plan_grows_one_step_at_a_time(void **state)
{
    (void)state;
    llm_config c;
    memset(&c, 0, sizeof c);
    c.search = true;
    c.concurrency = 2;
    c.search_max = 64;
    c.step_requests = 30;
    c.cooldown_s = 1;
    plan p;
    char err[160];
    assert_int_equal(plan_build(&c, &p, err, sizeof err), 0);
    assert_string_equal(p.kind, "search");
    assert_true(p.search && !p.search_rate);
    assert_int_equal(p.n_steps, 1);
    assert_int_equal(p.steps[0].concurrency, 2);
    assert_int_equal(p.steps[0].requests, 30);
    assert_int_equal(p.max_concurrency, 64); /* slots for the largest step allowed */
    assert_int_equal(plan_add_probe(&p, 4), 1);
    assert_int_equal(p.steps[1].concurrency, 4);
    assert_int_equal(p.steps[1].requests, 30);
    assert_true(p.steps[1].cooldown_s == 1);
    char text[160];
    plan_describe(&p, text, sizeof text);
    assert_string_equal(text, "search: c=2\xE2\x86\x92\xE2\x89\xA4"
                              "64 for the SLO, steps of 30 requests");
    plan_step_counter(&p, 1, 2, text, sizeof text);
    assert_string_equal(text, "2/?");
    while (p.n_steps < PLAN_SEARCH_MAX_PROBES)
        assert_true(plan_add_probe(&p, 3) > 0);
    assert_int_equal(plan_add_probe(&p, 3), -1);
    plan_free(&p);

    memset(&c, 0, sizeof c);
    c.search = true;
    c.rate = 5;
    c.max_inflight = 32;
    c.step_duration_s = 10;
    assert_int_equal(plan_build(&c, &p, err, sizeof err), 0);
    assert_true(p.search_rate && p.steps[0].rate == 5 && p.search_max == 320);
    assert_int_equal(p.steps[0].concurrency, 32);
    assert_int_equal(plan_add_probe(&p, 7.5), 1);
    assert_true(p.steps[1].rate == 7.5 && p.steps[1].duration_s == 10);
    plan_free(&p);

    llm_config fixed;
    memset(&fixed, 0, sizeof fixed);
    assert_int_equal(plan_build(&fixed, &p, err, sizeof err), 0);
    assert_int_equal(plan_add_probe(&p, 3), -1); /* only a search grows */
    plan_step_counter(&p, 0, 1, text, sizeof text);
    assert_string_equal(text, "1/1");
    plan_free(&p);
}

static void suite_is_run_benchmarks_py_configurations(void **state)
{
    (void)state;
    llm_config c;
    memset(&c, 0, sizeof c);
    c.suite = true;
    c.requests = 100;
    plan p;
    char err[160];
    assert_int_equal(plan_build(&c, &p, err, sizeof err), 0);
    long want[][2] = {{10, 1}, {100, 50}, {200, 100}, {400, 200}, {600, 300}};
    assert_int_equal(p.n_steps, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(p.steps[i].requests, want[i][0]);
        assert_int_equal(p.steps[i].concurrency, want[i][1]);
        assert_true(p.steps[i].cooldown_s == 5);
    }
    assert_int_equal(p.max_concurrency, 300);
    plan_free(&p);
}

/* --shard I/N: every step's users and requests split so the N shares add up to the whole
 * (the first total % N workers take one more), the rate divided exactly. */
static void shards_of_a_ramp_add_up_to_the_whole_plan(void **state)
{
    (void)state;
    llm_config c;
    memset(&c, 0, sizeof c);
    c.ramp_start = 5;
    c.ramp_end = 23;
    c.ramp_step = 9;
    c.step_requests = 103;
    c.warmup = 6;
    plan whole, part;
    char err[160];
    assert_int_equal(plan_build(&c, &whole, err, sizeof err), 0);
    assert_int_equal(whole.n_steps, 3); /* 5, 14, 23 */
    long users[3] = {0}, requests[3] = {0}, warmup = 0;
    for (long i = 0; i < 4; i++) {
        assert_int_equal(plan_build(&c, &part, err, sizeof err), 0);
        assert_int_equal(plan_shard(&part, i, 4, err, sizeof err), 0);
        for (size_t k = 0; k < 3; k++) {
            users[k] += part.steps[k].concurrency;
            requests[k] += part.steps[k].requests;
            /* no share differs from another by more than one */
            assert_true(part.steps[k].concurrency >= whole.steps[k].concurrency / 4);
            assert_true(part.steps[k].concurrency <= whole.steps[k].concurrency / 4 + 1);
        }
        warmup += part.warmup;
        assert_int_equal(part.max_concurrency, part.steps[2].concurrency);
        plan_free(&part);
    }
    for (size_t k = 0; k < 3; k++) {
        assert_int_equal(users[k], whole.steps[k].concurrency);
        assert_int_equal(requests[k], whole.steps[k].requests);
    }
    assert_int_equal(warmup, 6);
    assert_int_equal(plan_share(103, 0, 4), 26); /* 26 + 26 + 26 + 25 */
    assert_int_equal(plan_share(103, 3, 4), 25);
    plan_free(&whole);
}

static void a_rate_is_divided_among_the_shards(void **state)
{
    (void)state;
    llm_config c;
    memset(&c, 0, sizeof c);
    c.rate = 10;
    c.duration_s = 5;
    c.max_inflight = 10;
    plan p;
    char err[160];
    double sum = 0;
    long cap = 0;
    for (long i = 0; i < 3; i++) {
        assert_int_equal(plan_build(&c, &p, err, sizeof err), 0);
        assert_int_equal(plan_shard(&p, i, 3, err, sizeof err), 0);
        sum += p.steps[0].rate;
        cap += p.steps[0].concurrency;
        plan_free(&p);
    }
    assert_true(sum > 10 - 1e-9 && sum < 10 + 1e-9);
    assert_int_equal(cap, 10);
}

static void a_shard_that_would_get_no_users_is_refused(void **state)
{
    (void)state;
    llm_config c;
    memset(&c, 0, sizeof c);
    c.concurrency = 3;
    c.requests = 100;
    plan p;
    char err[200];
    assert_int_equal(plan_build(&c, &p, err, sizeof err), 0);
    assert_int_equal(plan_shard(&p, 0, 4, err, sizeof err), -1);
    assert_non_null(strstr(err, "fewer than the 4 workers"));
    plan_free(&p);
    c.concurrency = 8;
    c.requests = 3;
    assert_int_equal(plan_build(&c, &p, err, sizeof err), 0);
    assert_int_equal(plan_shard(&p, 0, 4, err, sizeof err), -1);
    assert_non_null(strstr(err, "3 requests"));
    plan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixed_plan_is_one_step_with_the_request_count),
        cmocka_unit_test(duration_plan_has_no_request_bound),
        cmocka_unit_test(additive_ramp_includes_the_end_value),
        cmocka_unit_test(multiplicative_ramp_with_repeats),
        cmocka_unit_test(input_and_output_tests_alternate_per_level),
        cmocka_unit_test(input_test_alone_has_only_input_steps),
        cmocka_unit_test(output_flag_alone_is_the_plain_plan),
        cmocka_unit_test(seed_multimodal_line_adds_a_multimodal_step_per_level),
        cmocka_unit_test(rate_with_several_tests_is_refused),
        cmocka_unit_test(rate_ramp_steps_the_rate_with_an_in_flight_cap),
        cmocka_unit_test(search_plan_grows_one_step_at_a_time),
        cmocka_unit_test(suite_is_run_benchmarks_py_configurations),
        cmocka_unit_test(shards_of_a_ramp_add_up_to_the_whole_plan),
        cmocka_unit_test(a_rate_is_divided_among_the_shards),
        cmocka_unit_test(a_shard_that_would_get_no_users_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
