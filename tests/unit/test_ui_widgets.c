/* Tests for ui/widgets (chart scaling, gauge fill, number formatting) and ui/layout
 * (panel placement, the 80x24 floor). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "layout.h"
#include "widgets.h"

static chart g_chart; /* 32 kB: not on the stack */

static void nice_max_rounds_up_to_1_2_5(void **state)
{
    (void)state;
    assert_true(chart_nice_max(0, 1) == 1);
    assert_true(chart_nice_max(7, 1) == 10);
    assert_true(chart_nice_max(10, 1) == 10);
    assert_true(chart_nice_max(11, 1) == 20);
    assert_true(chart_nice_max(150, 1) == 200);
    assert_true(chart_nice_max(380, 1) == 500);
    assert_true(chart_nice_max(0.3, 0) == 0.5);
    assert_true(chart_nice_max(NAN, 5) == 5);
}

static void chart_value_at_max_fills_every_dot_row(void **state)
{
    (void)state;
    chart_init(&g_chart, 10, 3, 100);
    assert_int_equal(chart_dot_height(&g_chart, 100), 12);
    assert_int_equal(chart_dot_height(&g_chart, 250), 12); /* clamped */
    assert_int_equal(chart_dot_height(&g_chart, 50), 6);
    assert_int_equal(chart_dot_height(&g_chart, 0), 0);
    assert_int_equal(chart_dot_height(&g_chart, NAN), 0);
    assert_int_equal(chart_dot_height(&g_chart, 0.01), 1); /* any activity shows */
}

static void area_plot_puts_newest_value_at_right_edge(void **state)
{
    (void)state;
    double v[] = {100, 0, 50};
    chart_init(&g_chart, 2, 1, 100); /* 4 dot columns, 4 dot rows */
    chart_plot(&g_chart, v, 3, 0, true);
    /* columns: [empty][100][0][50] -> cell 0 = right column full, cell 1 = right half */
    assert_int_equal(g_chart.dots[0][0], 0x08 | 0x10 | 0x20 | 0x80);
    assert_int_equal(g_chart.dots[0][1], 0x20 | 0x80);
    char cell[8];
    chart_cell_text(&g_chart, 0, 0, true, cell);
    assert_string_equal(cell, "\xE2\xA2\xB8"); /* U+28B8 */
    chart_cell_text(&g_chart, 0, 0, false, cell);
    assert_string_equal(cell, "#");
    chart_cell_text(&g_chart, 0, 1, false, cell);
    assert_string_equal(cell, ":");
}

static void plot_keeps_only_the_last_two_values_per_cell(void **state)
{
    (void)state;
    double v[40];
    for (int i = 0; i < 40; i++)
        v[i] = i < 36 ? 100 : 0; /* the last four are empty */
    chart_init(&g_chart, 4, 2, 100);
    chart_plot(&g_chart, v, 40, 0, true);
    assert_int_equal(g_chart.dots[0][0], 0xFF);
    assert_int_equal(g_chart.dots[1][1], 0xFF);
    assert_int_equal(g_chart.dots[0][2], 0);
    assert_int_equal(g_chart.dots[1][3], 0);
}

static void line_layer_wins_the_cell_colour(void **state)
{
    (void)state;
    double a[] = {100, 100}, b[] = {25, 25};
    chart_init(&g_chart, 1, 2, 100);
    chart_plot(&g_chart, a, 2, 0, false);
    chart_plot(&g_chart, b, 2, 1, false);
    assert_int_equal(g_chart.layer[0][0], 0); /* only the top line */
    assert_int_equal(g_chart.layer[1][0], 1); /* 25 % = dot row 2 of 8, lower cell */
    assert_int_not_equal(g_chart.dots[1][0], 0);
}

static void gauge_fill_rounds_to_eighths_and_clamps(void **state)
{
    (void)state;
    assert_int_equal(gauge_eighths(5, 10, 10), 40);
    assert_int_equal(gauge_eighths(10, 10, 10), 80);
    assert_int_equal(gauge_eighths(20, 10, 10), 80);
    assert_int_equal(gauge_eighths(-1, 10, 10), 0);
    assert_int_equal(gauge_eighths(5, 0, 10), 0);
    assert_int_equal(gauge_eighths(1, 3, 3), 8);
    char out[64];
    gauge_text(5, 10, 4, false, out, sizeof out);
    assert_string_equal(out, "##..");
    gauge_text(8, 16, 1, true, out, sizeof out);
    assert_string_equal(out, "\xE2\x96\x8C"); /* half block */
    gauge_text(10, 10, 2, true, out, sizeof out);
    assert_string_equal(out, "\xE2\x96\x88\xE2\x96\x88");
}

static void numbers_are_compact(void **state)
{
    (void)state;
    char o[32];
    const struct {
        double v;
        const char *want;
    } cases[] = {{0, "0"},       {7.5, "7.5"},   {12, "12"},       {999, "999"},
                 {1234, "1.2k"}, {12345, "12k"}, {999600, "1.0M"}, {3.4e6, "3.4M"},
                 {2e9, "2.0G"},  {NAN, "-"},     {-1500, "-1.5k"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fmt_num(cases[i].v, o, sizeof o);
        assert_string_equal(o, cases[i].want);
    }
    fmt_duration(42, o, sizeof o);
    assert_string_equal(o, "42s");
    fmt_duration(185, o, sizeof o);
    assert_string_equal(o, "3m05s");
    fmt_duration(7625, o, sizeof o);
    assert_string_equal(o, "2h07m");
    fmt_bytes(45.0 * 1024 * 1024, o, sizeof o);
    assert_string_equal(o, "45M");
    fmt_bytes(512, o, sizeof o);
    assert_string_equal(o, "512B");
}

static void utf8_clip_never_splits_a_code_point(void **state)
{
    (void)state;
    char o[32];
    assert_int_equal(utf8_width("c=1\xE2\x86\x92"
                                "32"),
                     6);
    assert_int_equal(utf8_clip("c=1\xE2\x86\x92"
                               "32",
                               4, o, sizeof o),
                     4);
    assert_string_equal(o, "c=1\xE2\x86\x92");
    utf8_clip("abcdef", 3, o, sizeof o);
    assert_string_equal(o, "abc");
}

static void ascii_fold_replaces_what_a_c_locale_cannot_show(void **state)
{
    (void)state;
    char o[64];
    ascii_fold("ramp c=1\xE2\x86\x92"
               "32 \xC2\xB1"
               "10 850 \xC2\xB5s 63 \xC2\xB0"
               "C \xE4\xB8\xAD",
               o, sizeof o);
    assert_string_equal(o, "ramp c=1->32 +-10 850 us 63 C ?");
    ascii_fold("abcdef", o, 4);
    assert_string_equal(o, "abc");
}

static void layout_refuses_below_80x24_and_fits_the_screen(void **state)
{
    (void)state;
    ui_slot s[LAYOUT_MAX_SLOTS];
    assert_int_equal(layout_compute(23, 80, s, LAYOUT_MAX_SLOTS), 0);
    assert_int_equal(layout_compute(24, 79, s, LAYOUT_MAX_SLOTS), 0);
    const int sizes[][2] = {{24, 80}, {40, 120}, {30, 100}, {60, 200}, {33, 99}};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int lines = sizes[k][0], cols = sizes[k][1];
        size_t n = layout_compute(lines, cols, s, LAYOUT_MAX_SLOTS);
        assert_true(n >= 7);
        for (size_t i = 0; i < n; i++) {
            assert_true(s[i].r.y >= 0 && s[i].r.x >= 0);
            assert_true(s[i].r.y + s[i].r.h <= lines - 1); /* the footer stays free */
            assert_true(s[i].r.x + s[i].r.w <= cols);
            assert_true(s[i].r.h >= s[i].panel->min_h && s[i].r.w >= s[i].panel->min_w);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nice_max_rounds_up_to_1_2_5),
        cmocka_unit_test(chart_value_at_max_fills_every_dot_row),
        cmocka_unit_test(area_plot_puts_newest_value_at_right_edge),
        cmocka_unit_test(plot_keeps_only_the_last_two_values_per_cell),
        cmocka_unit_test(line_layer_wins_the_cell_colour),
        cmocka_unit_test(gauge_fill_rounds_to_eighths_and_clamps),
        cmocka_unit_test(numbers_are_compact),
        cmocka_unit_test(utf8_clip_never_splits_a_code_point),
        cmocka_unit_test(ascii_fold_replaces_what_a_c_locale_cannot_show),
        cmocka_unit_test(layout_refuses_below_80x24_and_fits_the_screen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
