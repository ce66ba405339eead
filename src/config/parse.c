#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cli.h"
#include "config/cli_set.h"

static const char *const cmd_names[LLM_CMD_COUNT] = {"run",   "check",   "sim",  "report",
                                                     "merge", "compare", "watch"};

const char *cli_command_name(llm_command cmd)
{
    return (unsigned)cmd < LLM_CMD_COUNT ? cmd_names[cmd] : NULL;
}

static const char *help_hint(llm_command cmd)
{
    static const char *const hints[] = {"llmload --help",       "llmload check --help",
                                        "llmload sim --help",   "llmload report --help",
                                        "llmload merge --help", "llmload compare --help",
                                        "llmload watch --help"};
    return hints[cmd];
}

/* Long names match with '_' and '-' interchangeable, so --api_key and --max_tokens work;
 * an exact spelling is looked for first (`strict`), so --output-tokens (a length SPEC) and
 * llm_benchmark.py's --output_tokens (= --max-tokens) each find their own row. */
static bool spelling_eq(const char *typed, size_t n, const char *known, bool strict)
{
    if (strlen(known) != n)
        return false;
    bool loose = !strict && n > 2 && typed[0] == '-' && typed[1] == '-';
    for (size_t i = 0; i < n; i++) {
        char a = typed[i], b = known[i];
        if (loose && a == '_')
            a = '-';
        if (loose && b == '_')
            b = '-';
        if (a != b)
            return false;
    }
    return true;
}

/* The row and its matching spelling for typed[0..n), among rows accepted by cmds. */
static const cli_option *find_spelling(const char *typed, size_t n, unsigned cmds,
                                       const char **spelling, bool strict)
{
    for (size_t i = 0; i < cli_n_options; i++) {
        const cli_option *o = &cli_options[i];
        if (!(o->cmds & cmds))
            continue;
        if (spelling_eq(typed, n, o->name, strict)) {
            *spelling = o->name;
            return o;
        }
        for (int k = 0; k < CLI_MAX_ALIASES && o->alias[k]; k++) {
            if (spelling_eq(typed, n, o->alias[k], strict)) {
                *spelling = o->alias[k];
                return o;
            }
        }
    }
    return NULL;
}

static const cli_option *find_option(const char *typed, size_t n, unsigned cmds,
                                     const char **spelling)
{
    const cli_option *o = find_spelling(typed, n, cmds, spelling, true);
    return o ? o : find_spelling(typed, n, cmds, spelling, false);
}

size_t cli_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t *row = malloc((lb + 1) * sizeof *row);
    if (!row)
        return (size_t)-1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    size_t d = row[lb];
    free(row);
    return d;
}

static void consider(const char *typed, const char *cand, size_t *best, const char **pick)
{
    size_t d = cli_edit_distance(typed, cand);
    if (d < *best) {
        *best = d;
        *pick = cand;
    }
}

static int unknown_option(cli_state *st, const char *typed, size_t n, unsigned cmds)
{
    char name[64];
    size_t len = n < sizeof name - 1 ? n : sizeof name - 1;
    memcpy(name, typed, len);
    name[len] = '\0';
    const char *spelling;
    const cli_option *other = find_option(typed, n, CLI_ALL, &spelling);
    if (other) {
        int c = __builtin_ctz(other->cmds);
        snprintf(st->err, st->errlen,
                 "%s is not an option of `llmload %s` (it is one of `llmload "
                 "%s`)",
                 name, cmd_names[st->cfg->command], cmd_names[c]);
        return -1;
    }
    size_t best = (size_t)-1;
    const char *pick = NULL;
    for (size_t i = 0; i < cli_n_options; i++) {
        if (!(cli_options[i].cmds & cmds))
            continue;
        consider(name, cli_options[i].name, &best, &pick);
        for (int k = 0; k < CLI_MAX_ALIASES && cli_options[i].alias[k]; k++)
            consider(name, cli_options[i].alias[k], &best, &pick);
    }
    size_t limit = len > 9 ? 3 : 2;
    if (pick && best <= limit && best + 1 < len)
        snprintf(st->err, st->errlen, "unknown option %s (did you mean %s?)", name, pick);
    else
        snprintf(st->err, st->errlen, "unknown option %s (see %s)", name,
                 help_hint(st->cfg->command));
    return -1;
}

/* A value is missing when the next word is itself an option. */
static bool looks_like_option(const char *s)
{
    const char *spelling;
    size_t n = strcspn(s, "=");
    if (s[0] == '-' && s[1] == '-' && s[2] != '\0')
        return true;
    return s[0] == '-' && find_option(s, n, CLI_ALL, &spelling) != NULL;
}

static int add_file(cli_state *st, const char *path)
{
    llm_config *c = st->cfg;
    char **v = realloc(c->files, (c->n_files + 1) * sizeof *v);
    if (!v)
        return -1;
    c->files = v;
    if (!(v[c->n_files] = strdup(path)))
        return -1;
    c->n_files++;
    return 0;
}

static int positional(cli_state *st, const char *arg)
{
    llm_command cmd = st->cfg->command;
    if (cmd == LLM_CMD_REPORT || cmd == LLM_CMD_MERGE || cmd == LLM_CMD_COMPARE ||
        cmd == LLM_CMD_WATCH) /* watch: the workers' URLs */
        return add_file(st, arg);
    snprintf(st->err, st->errlen,
             "unexpected argument \"%.60s\" (`llmload %s` takes options only; see %s)", arg,
             cmd_names[cmd], help_hint(cmd));
    return -1;
}

static int apply_option(cli_state *st, int argc, char **argv, int *i)
{
    const char *arg = argv[*i], *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
    unsigned cmds = CLI_CMD(st->cfg->command);
    const char *spelling = NULL;
    const cli_option *o = find_option(arg, n, cmds, &spelling);
    if (!o)
        return unknown_option(st, arg, n, cmds);
    st->spelled = spelling;
    st->seen[o - cli_options] = spelling;
    if (!o->metavar) {
        if (eq)
            return cli_fail(st, "is a switch and takes no value");
        return o->set(st, o, NULL);
    }
    const char *val = eq ? eq + 1 : NULL;
    if (!val && *i + 1 < argc && !looks_like_option(argv[*i + 1]))
        val = argv[++*i];
    if (!val)
        return cli_fail(st, "needs a value: %s %s", spelling, o->metavar);
    return o->set(st, o, val);
}

int cli_parse(cli_state *st, int first, int argc, char **argv)
{
    bool options_done = false;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        int rc;
        if (!options_done && strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        if (options_done || a[0] != '-' || a[1] == '\0')
            rc = positional(st, a);
        else
            rc = apply_option(st, argc, argv, &i);
        if (rc != 0)
            return -1;
    }
    return 0;
}

const char *cli_seen(const cli_state *st, const char *name)
{
    for (size_t i = 0; i < cli_n_options; i++)
        if (st->seen[i] && strcmp(cli_options[i].name, name) == 0)
            return st->seen[i];
    return NULL;
}
