/* Tests for ui/theme: parsing, fallbacks to the built-in default, bad colours, unknown
 * keys, name lookup, and the reduction to 256 and 8 colours. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "theme.h"

static void colours_parse_long_short_and_empty(void **state)
{
    (void)state;
    int rgb = 0;
    assert_int_equal(theme_parse_color("#1a2B3c", &rgb), 0);
    assert_int_equal(rgb, 0x1a2b3c);
    assert_int_equal(theme_parse_color("#f80", &rgb), 0);
    assert_int_equal(rgb, 0xff8800);
    assert_int_equal(theme_parse_color("", &rgb), 0);
    assert_int_equal(rgb, THEME_DEFAULT_COLOR);
    assert_int_equal(theme_parse_color("red", &rgb), -1);
    assert_int_equal(theme_parse_color("#12345", &rgb), -1);
    assert_int_equal(theme_parse_color("#12345g", &rgb), -1);
    assert_int_equal(theme_parse_color("123456", &rgb), -1);
}

static void missing_keys_fall_back_to_default_and_are_named(void **state)
{
    (void)state;
    theme t, def;
    theme_builtin(&def);
    memset(&t, 0, sizeof t);
    char missing[1024], bad[256];
    int set =
        theme_parse(&t, "# a comment\n\ntheme[main_fg]=\"#010203\"\n  theme[error] = '#ff0000'\n",
                    missing, sizeof missing, bad, sizeof bad);
    assert_int_equal(set, 2);
    assert_int_equal(t.rgb[TK_MAIN_FG], 0x010203);
    assert_int_equal(t.rgb[TK_ERROR], 0xff0000);
    assert_int_equal(t.rgb[TK_TITLE], def.rgb[TK_TITLE]);
    assert_non_null(strstr(missing, "title"));
    assert_non_null(strstr(missing, "overlay_fg"));
    assert_null(strstr(missing, "main_fg"));
    assert_string_equal(bad, "");
    assert_false(t.mono);
}

static void bad_colours_keep_the_default_and_unknown_keys_are_ignored(void **state)
{
    (void)state;
    theme t, def;
    theme_builtin(&def);
    memset(&t, 0, sizeof t);
    char missing[1024], bad[256];
    int set = theme_parse(&t,
                          "theme[warn]=\"yellowish\"\ntheme[no_such_key]=\"#000000\"\n"
                          "garbage line\ntheme[ok]=\"#00ff00\"",
                          missing, sizeof missing, bad, sizeof bad);
    assert_int_equal(set, 1);
    assert_string_equal(bad, "warn");
    assert_int_equal(t.rgb[TK_WARN], def.rgb[TK_WARN]);
    assert_int_equal(t.rgb[TK_OK], 0x00ff00);
    assert_null(strstr(missing, "no_such_key"));
    assert_non_null(strstr(missing, "warn")); /* a bad value counts as not given */
}

static void all_terminal_colours_make_a_mono_theme(void **state)
{
    (void)state;
    char text[4096] = "";
    for (int k = 0; k < TK_COUNT; k++) {
        size_t len = strlen(text);
        snprintf(text + len, sizeof text - len, "theme[%s]=\"\"\n", theme_key_name(k));
    }
    theme t;
    memset(&t, 0, sizeof t);
    char missing[1024], bad[256];
    assert_int_equal(theme_parse(&t, text, missing, sizeof missing, bad, sizeof bad), TK_COUNT);
    assert_string_equal(missing, "");
    assert_true(t.mono);
}

static void shipped_default_theme_matches_the_builtin_and_names_every_key(void **state)
{
    (void)state;
    size_t len;
    char *text = tu_read_file(LLM_TEST_DATA "/../../themes/default.theme", &len);
    assert_non_null(text);
    theme t, def;
    theme_builtin(&def);
    memset(&t, 0, sizeof t);
    char missing[1024], bad[256];
    theme_parse(&t, text, missing, sizeof missing, bad, sizeof bad);
    free(text);
    assert_string_equal(missing, "");
    assert_string_equal(bad, "");
    for (int k = 0; k < TK_COUNT; k++)
        assert_int_equal(t.rgb[k], def.rgb[k]);
}

static void missing_theme_falls_back_to_builtin_with_a_note(void **state)
{
    (void)state;
    theme t;
    char note[512];
    assert_int_equal(theme_load(&t, "no-such-theme-xyz", note, sizeof note), -1);
    assert_string_equal(t.name, "default");
    assert_non_null(strstr(note, "no-such-theme-xyz"));
    assert_non_null(strstr(note, "default"));
    char path[512];
    assert_int_equal(theme_find("/nonexistent/x.theme", path, sizeof path), -1);
}

static void theme_loads_from_a_path_and_notes_missing_keys(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/mine.theme", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("theme[main_bg]=\"#000000\"\ntheme[title]=\"nope\"\n", f);
    fclose(f);
    theme t;
    char note[1024];
    assert_int_equal(theme_load(&t, path, note, sizeof note), 0);
    assert_string_equal(t.name, "mine");
    assert_int_equal(t.rgb[TK_MAIN_BG], 0);
    assert_non_null(strstr(note, "bad colours for title"));
    assert_non_null(strstr(note, "missing"));
    unlink(path);
    rmdir(dir);
}

static void colours_reduce_to_the_256_palette(void **state)
{
    (void)state;
    assert_int_equal(theme_to_256(0xff0000), 196);
    assert_int_equal(theme_to_256(0x00ff00), 46);
    assert_int_equal(theme_to_256(0x0000ff), 21);
    assert_int_equal(theme_to_256(0x5fafff), 75);
    assert_int_equal(theme_to_256(0x000000), 16);
    assert_int_equal(theme_to_256(0xffffff), 231);
    assert_int_equal(theme_to_256(0x808080), 244); /* grey ramp: 8 + 10 * 12 = 128 */
    assert_int_equal(theme_to_256(0x444444), 238);
}

static void colours_reduce_to_eight(void **state)
{
    (void)state;
    assert_int_equal(theme_to_8(0xff5f5f), 1); /* red */
    assert_int_equal(theme_to_8(0x5fd75f), 2); /* green */
    assert_int_equal(theme_to_8(0xffd75f), 3); /* yellow */
    assert_int_equal(theme_to_8(0x5f5fff), 4); /* blue */
    assert_int_equal(theme_to_8(0x2aa198), 6); /* cyan */
    assert_int_equal(theme_to_8(0x101010), 0); /* black */
    assert_int_equal(theme_to_8(0xeeeeee), 7); /* white */
    assert_int_equal(theme_to_8(0x8a8a8a), 7); /* greys never turn into a hue */
    assert_int_equal(theme_to_8(0x5f6b78), 7);
    assert_int_equal(theme_to_8(0x444444), 0);
}

static void element_colours_follow_the_terminal(void **state)
{
    (void)state;
    theme t;
    theme_builtin(&t);
    int fg, bg;
    theme_term t256 = {256, 256, false, true}, t8 = {8, 64, false, true};
    theme_term tinit = {256, 256, true, true}, tnodef = {8, 64, false, false};
    theme_element_colors(&t, &t256, UI_ERROR, &fg, &bg);
    assert_int_equal(fg, theme_to_256(t.rgb[TK_ERROR]));
    assert_int_equal(bg, -1); /* main_bg "" = the terminal's own */
    theme_element_colors(&t, &t8, UI_ERROR, &fg, &bg);
    assert_int_equal(fg, 1);
    theme_element_colors(&t, &tinit, UI_ERROR, &fg, &bg);
    assert_int_equal(fg, 16 + TK_ERROR); /* redefined with init_color */
    theme_element_colors(&t, &tnodef, UI_MAIN, &fg, &bg);
    assert_int_equal(bg, 0); /* no default colours: black */
}

static void every_key_has_a_unique_name(void **state)
{
    (void)state;
    for (int k = 0; k < TK_COUNT; k++) {
        assert_non_null(theme_key_name(k));
        assert_int_equal(theme_key_find(theme_key_name(k)), k);
    }
    assert_int_equal(theme_key_find("nope"), -1);
}

/* Run from a directory with no themes/ (the test binary sits in build/tests/, so not next to
 * it either): the shipped themes are still found by name. */
static void shipped_themes_are_found_from_any_directory(void **state)
{
    (void)state;
    char cwd[4096], path[4096], note[256];
    assert_non_null(getcwd(cwd, sizeof cwd));
    const char *dir = tu_tmpdir();
    assert_int_equal(chdir(dir), 0);
    int found_default = theme_find("default", path, sizeof path);
    int found_solarized = theme_find("solarized", path, sizeof path);
    theme t;
    int loaded = theme_load(&t, "solarized", note, sizeof note);
    char names[16][THEME_NAME_LEN];
    size_t n = theme_list(names, 16);
    assert_int_equal(chdir(cwd), 0);
    rmdir(dir);
    assert_int_equal(found_default, 0);
    assert_int_equal(found_solarized, 0);
    assert_int_equal(loaded, 0);
    assert_string_equal(t.name, "solarized");
    assert_true(n >= 5); /* default, high-contrast, light, mono, solarized */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(colours_parse_long_short_and_empty),
        cmocka_unit_test(missing_keys_fall_back_to_default_and_are_named),
        cmocka_unit_test(bad_colours_keep_the_default_and_unknown_keys_are_ignored),
        cmocka_unit_test(all_terminal_colours_make_a_mono_theme),
        cmocka_unit_test(shipped_default_theme_matches_the_builtin_and_names_every_key),
        cmocka_unit_test(missing_theme_falls_back_to_builtin_with_a_note),
        cmocka_unit_test(theme_loads_from_a_path_and_notes_missing_keys),
        cmocka_unit_test(colours_reduce_to_the_256_palette),
        cmocka_unit_test(colours_reduce_to_eight),
        cmocka_unit_test(element_colours_follow_the_terminal),
        cmocka_unit_test(every_key_has_a_unique_name),
        cmocka_unit_test(shipped_themes_are_found_from_any_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
