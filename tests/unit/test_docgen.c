/* Tests for config/docgen: the man page and the bash and zsh completions name every
 * spelling of every option of the table, under every command that takes it; the bash
 * completion parses and completes; the man page renders without warnings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/cli.h"
#include "config/docgen.h"
#include "testutil.h"

/* Not inlined: GCC 12 at -O2 then takes open_memstream's &buf for a pointer to the local
 * itself and warns of a dangling pointer in every caller (-Wdangling-pointer). */
__attribute__((noinline)) static char *generate(void (*gen)(FILE *))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    gen(f);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static const char *spelling_of(const cli_option *o, int k)
{
    return k == 0 ? o->name : k <= CLI_MAX_ALIASES ? o->alias[k - 1] : NULL;
}

/* The text from "    CMD)\n" to the next ";;\n" at that depth: one command's branch. */
static char *branch(const char *text, const char *cmd, const char *end_marker)
{
    char start[32];
    snprintf(start, sizeof start, "\n    %s)\n", cmd);
    const char *a = strstr(text, start);
    if (!a)
        fail_msg("no branch for %s", cmd);
    const char *b = strstr(a + strlen(start), end_marker);
    assert_non_null(b);
    return strndup(a, (size_t)(b - a));
}

/* "--max-tokens" as groff writes it: "\fB\-\-max\-tokens\fR". */
static void man_form(const char *s, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "\\fB");
    for (; *s && n + 4 < cap; s++) {
        if (*s == '-')
            out[n++] = '\\';
        out[n++] = *s;
    }
    snprintf(out + n, cap - n, "\\fR");
}

static void every_option_is_in_the_man_page(void **state)
{
    (void)state;
    char *man = generate(docgen_man);
    for (size_t i = 0; i < cli_n_options; i++)
        for (int k = 0; spelling_of(&cli_options[i], k); k++) {
            char want[128];
            man_form(spelling_of(&cli_options[i], k), want, sizeof want);
            if (!strstr(man, want))
                fail_msg("the man page misses %s", spelling_of(&cli_options[i], k));
        }
    for (int c = 0; c < LLM_CMD_COUNT; c++) {
        char want[64];
        snprintf(want, sizeof want, ".SS %s\n", cli_command_name((llm_command)c));
        assert_non_null(strstr(man, want));
    }
    free(man);
}

/* Each command's branch of a completion lists each spelling of each option it takes. */
static void check_completion(void (*gen)(FILE *), const char *end_marker, const char *fmt)
{
    char *text = generate(gen);
    for (int c = 0; c < LLM_CMD_COUNT; c++) {
        char *part = branch(text, cli_command_name((llm_command)c), end_marker);
        for (size_t i = 0; i < cli_n_options; i++) {
            if (!(cli_options[i].cmds & CLI_CMD(c)))
                continue;
            for (int k = 0; spelling_of(&cli_options[i], k); k++) {
                char want[128];
                snprintf(want, sizeof want, fmt, spelling_of(&cli_options[i], k));
                if (!strstr(part, want))
                    fail_msg("the %s completion misses %s", cli_command_name((llm_command)c),
                             spelling_of(&cli_options[i], k));
            }
        }
        free(part);
    }
    free(text);
}

static void every_option_is_in_both_completions(void **state)
{
    (void)state;
    check_completion(docgen_bash, "        ;;\n", " %s");
    check_completion(docgen_zsh, "        ;;\n", "'%s[");
}

static char *write_tmp(const char *name, void (*gen)(FILE *))
{
    char *path = malloc(300);
    snprintf(path, 300, "%s/%s", tu_tmpdir(), name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    gen(f);
    fclose(f);
    return path;
}

/* Sources the script in bash and completes a word; returns bash's stdout. */
static char *complete(const char *script, const char *words, int cword)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "source '%s'; COMP_WORDS=(%s); COMP_CWORD=%d; _llmload; printf '%%s\\n' "
             "\"${COMPREPLY[@]}\"",
             script, words, cword);
    char *argv[] = {"/bin/bash", "--norc", "-c", cmd, NULL};
    tu_result res;
    assert_int_equal(tu_run(argv, NULL, NULL, 10, &res), 0);
    assert_int_equal(res.exit_code, 0);
    char *out = strdup(res.out);
    tu_result_free(&res);
    return out;
}

static void bash_completion_completes_commands_options_and_values(void **state)
{
    (void)state;
    if (access("/bin/bash", X_OK) != 0)
        skip();
    char *script = write_tmp("llmload.bash", docgen_bash);
    char *out = complete(script, "llmload comp", 1);
    assert_string_equal(out, "compare\n");
    free(out);
    out = complete(script, "llmload compare --fail", 2);
    assert_string_equal(out, "--fail-if-worse\n");
    free(out);
    out = complete(script, "llmload report --format v", 3);
    assert_string_equal(out, "vllm-json\n");
    free(out);
    out = complete(script, "llmload --endpoint c", 2);
    assert_string_equal(out, "chat\ncompletions\n");
    free(out);
    out = complete(script, "llmload sim --decode", 2);
    assert_string_equal(out, "--decode-rate\n");
    free(out);
    out = complete(script, "llmload --num-pro", 1);
    assert_string_equal(out, "--num-prompts\n");
    free(out);
    unlink(script);
    free(script);
}

/* The zsh completion run with _arguments and compadd replaced by functions that print what
 * they are given: the command word picks that command's options. */
static char *zsh_complete(const char *zsh, const char *script, const char *words, int current)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "_arguments() { print -rl -- \"$@\"; }; compadd() { print -r -- \"compadd $*\"; }; "
             "source '%s' >/dev/null; words=(%s); CURRENT=%d; _llmload",
             script, words, current);
    char *argv[] = {(char *)zsh, "-f", "-c", cmd, NULL};
    tu_result res;
    assert_int_equal(tu_run(argv, NULL, NULL, 10, &res), 0);
    if (res.exit_code != 0)
        fail_msg("zsh exited %d: %s", res.exit_code, res.err);
    char *out = strdup(res.out);
    tu_result_free(&res);
    return out;
}

static void zsh_completion_offers_the_commands_options(void **state)
{
    (void)state;
    const char *zsh = access("/usr/bin/zsh", X_OK) == 0 ? "/usr/bin/zsh"
                      : access("/bin/zsh", X_OK) == 0   ? "/bin/zsh"
                                                        : NULL;
    if (!zsh)
        skip();
    char *script = write_tmp("_llmload", docgen_zsh);
    char *argv[] = {(char *)zsh, "-n", script, NULL};
    tu_result res;
    assert_int_equal(tu_run(argv, NULL, NULL, 10, &res), 0);
    assert_int_equal(res.exit_code, 0);
    tu_result_free(&res);
    char *out = zsh_complete(zsh, script, "llmload compare --f", 3);
    assert_non_null(strstr(out, "\n--fail-if-worse["));
    assert_non_null(strstr(out, "*:snapshot:_files"));
    assert_null(strstr(out, "--concurrency["));
    free(out);
    out = zsh_complete(zsh, script, "llmload co", 2);
    assert_non_null(strstr(out, "compadd -- run check sim report merge compare watch help"));
    assert_non_null(strstr(out, "\n--concurrency["));
    free(out);
    unlink(script);
    free(script);
}

static void man_page_renders_without_warnings(void **state)
{
    (void)state;
    if (access("/usr/bin/groff", X_OK) != 0)
        skip();
    char *page = write_tmp("llmload.1", docgen_man);
    char *argv[] = {"/usr/bin/groff", "-man", "-Tutf8", "-ww", "-z", page, NULL};
    tu_result res;
    assert_int_equal(tu_run(argv, NULL, NULL, 10, &res), 0);
    assert_int_equal(res.exit_code, 0);
    assert_string_equal(res.err, "");
    tu_result_free(&res);
    unlink(page);
    free(page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_option_is_in_the_man_page),
        cmocka_unit_test(every_option_is_in_both_completions),
        cmocka_unit_test(bash_completion_completes_commands_options_and_values),
        cmocka_unit_test(zsh_completion_offers_the_commands_options),
        cmocka_unit_test(man_page_renders_without_warnings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
