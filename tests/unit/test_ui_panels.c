/* Tests for ui/panels' pure parts: the Steps table's columns by width (the key ones kept at
 * 80x24), its compact times, and the header's remaining time (pauses and cool-downs). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "layout.h"
#include "panels.h"

static const steps_col k_key[] = {STEPS_COL_STEP,   STEPS_COL_TARGET, STEPS_COL_APPLIED,
                                  STEPS_COL_RPS,    STEPS_COL_TPS,    STEPS_COL_TTFT50,
                                  STEPS_COL_TTFT99, STEPS_COL_ERR};

static bool has_col(const steps_col *cols, size_t n, steps_col c)
{
    for (size_t i = 0; i < n; i++)
        if (cols[i] == c)
            return true;
    return false;
}

/* The Steps panel's inner width in the layout of a lines x cols screen. */
static int steps_inner_width(int lines, int cols)
{
    ui_slot s[LAYOUT_MAX_SLOTS];
    size_t n = layout_compute(lines, cols, s, LAYOUT_MAX_SLOTS);
    for (size_t i = 0; i < n; i++)
        if (s[i].panel == &panel_steps)
            return s[i].r.w - 2; /* the box */
    fail_msg("no Steps panel at %dx%d", cols, lines);
    return 0;
}

static void steps_table_keeps_its_key_columns_at_80x24(void **state)
{
    (void)state;
    const int sizes[][2] = {{24, 80}, {30, 100}, {40, 120}};
    for (size_t k = 0; k < 3; k++) {
        steps_col cols[STEPS_COLS];
        size_t n = steps_columns(steps_inner_width(sizes[k][0], sizes[k][1]), cols);
        for (size_t i = 0; i < sizeof k_key / sizeof k_key[0]; i++)
            assert_true(has_col(cols, n, k_key[i]));
    }
    /* 120x40 has room for every column, the test kind among them */
    steps_col cols[STEPS_COLS];
    assert_int_equal(steps_columns(steps_inner_width(40, 120), cols), STEPS_COLS);
}

static void steps_columns_fit_their_width_in_table_order(void **state)
{
    (void)state;
    for (int w = 0; w <= 120; w++) {
        steps_col cols[STEPS_COLS];
        size_t n = steps_columns(w, cols);
        int used = 0;
        for (size_t i = 0; i < n; i++) {
            used += steps_col_width(cols[i]);
            if (i > 0)
                assert_true(cols[i] > cols[i - 1]); /* drawn in the table's order */
        }
        assert_true(used <= w);
    }
}

static void narrow_steps_tables_drop_the_less_important_columns_first(void **state)
{
    (void)state;
    steps_col cols[STEPS_COLS];
    /* the key columns take 44 cells: one less and the lowest of them goes, not the step */
    size_t n = steps_columns(44, cols);
    assert_int_equal(n, 8);
    assert_false(has_col(cols, n, STEPS_COL_TEST));
    assert_false(has_col(cols, n, STEPS_COL_REQ));
    n = steps_columns(43, cols);
    assert_true(has_col(cols, n, STEPS_COL_STEP));
    assert_true(has_col(cols, n, STEPS_COL_RPS));
    assert_true(has_col(cols, n, STEPS_COL_TTFT50));
    assert_false(has_col(cols, n, STEPS_COL_TTFT99));
    /* 7 more cells: the test kind comes first among the others */
    n = steps_columns(51, cols);
    assert_int_equal(n, 9);
    assert_true(has_col(cols, n, STEPS_COL_TEST));
}

static void step_times_fit_six_cells(void **state)
{
    (void)state;
    char o[32];
    const double ms[] = {0.85, 9.87, 12.34, 123.4, 999.4, 1234, 12345, 123456, 1234567};
    const char *want[] = {"850us", "9.87ms", "12.3ms", "123ms", "999ms",
                          "1.23s", "12.3s",  "123s",   "1235s"};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        steps_format_ms(ms[i], o, sizeof o, true);
        assert_string_equal(o, want[i]);
        assert_true(strlen(o) <= 6);
    }
    steps_format_ms(NAN, o, sizeof o, true);
    assert_string_equal(o, "-");
}

/* Three 10 s steps with 5 s cool-downs between them. */
static plan three_steps(plan_step st[3])
{
    plan p;
    memset(&p, 0, sizeof p);
    for (int i = 0; i < 3; i++)
        st[i] = (plan_step){.concurrency = 1 << i, .duration_s = 10, .cooldown_s = 5};
    p.steps = st;
    p.n_steps = 3;
    return p;
}

static void remaining_time_counts_the_engine_clocks(void **state)
{
    (void)state;
    plan_step st[3];
    plan p = three_steps(st);
    engine_gauges g = {.state = ENGINE_RUNNING, .step = 0, .step_left_ms = 4000};
    /* 4 s of step 1, its cool-down, then 10 + 5 + 10 */
    assert_true(fabs(panel_remaining_s(&p, &g) - 34) < 1e-9);
    /* paused: the engine's figure stands still, and so does the remaining time */
    g.state = ENGINE_PAUSED;
    assert_true(fabs(panel_remaining_s(&p, &g) - 34) < 1e-9);
    /* the cool-down counts down: 2 s of it are left, not the whole 5 */
    g = (engine_gauges){.state = ENGINE_COOLDOWN, .step = 0, .cooldown_left_ms = 2000};
    assert_true(fabs(panel_remaining_s(&p, &g) - 27) < 1e-9);
    /* ... paused inside it as well */
    g.state = ENGINE_PAUSED;
    assert_true(fabs(panel_remaining_s(&p, &g) - 27) < 1e-9);
    /* the last step has no cool-down after it */
    g = (engine_gauges){.state = ENGINE_RUNNING, .step = 2, .step_left_ms = 1500};
    assert_true(fabs(panel_remaining_s(&p, &g) - 1.5) < 1e-9);
}

static void remaining_time_is_unknown_when_a_step_is_bounded_by_requests(void **state)
{
    (void)state;
    plan_step st[3];
    plan p = three_steps(st);
    engine_gauges g = {.state = ENGINE_RUNNING, .step = 0, .step_left_ms = ENGINE_LEFT_UNKNOWN};
    assert_true(panel_remaining_s(&p, &g) < 0);
    g.step_left_ms = 1000;
    st[2].duration_s = 0; /* a later step bounded by requests */
    assert_true(panel_remaining_s(&p, &g) < 0);
    st[2].duration_s = 10;
    g.state = ENGINE_DONE;
    assert_true(panel_remaining_s(&p, &g) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(steps_table_keeps_its_key_columns_at_80x24),
        cmocka_unit_test(steps_columns_fit_their_width_in_table_order),
        cmocka_unit_test(narrow_steps_tables_drop_the_less_important_columns_first),
        cmocka_unit_test(step_times_fit_six_cells),
        cmocka_unit_test(remaining_time_counts_the_engine_clocks),
        cmocka_unit_test(remaining_time_is_unknown_when_a_step_is_bounded_by_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
