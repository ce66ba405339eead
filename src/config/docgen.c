#include "config/docgen.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "base/version.h"
#include "config/cli.h"

#define SUBCOMMANDS "run check sim report merge compare watch help"

/* ---- the option table, per command ---- */

static bool in_command(const cli_option *o, llm_command c)
{
    return (o->cmds & CLI_CMD(c)) != 0;
}

/* Each spelling of a row: its name, then its aliases; NULL after the last. */
static const char *spelling(const cli_option *o, int k)
{
    if (k == 0)
        return o->name;
    return k <= CLI_MAX_ALIASES ? o->alias[k - 1] : NULL;
}

/* A metavar of lower-case words ("md|csv|html") is a list of choices. */
static bool lower_word(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
            return false;
    return n > 0;
}

/* The lower-case words of the metavar, space-separated, into out ("" when none). */
static void choices(const cli_option *o, char *out, size_t cap)
{
    out[0] = '\0';
    size_t len = 0;
    for (const char *p = o->metavar; p && *p;) {
        size_t n = strcspn(p, "|");
        if (lower_word(p, n) && len + n + 2 < cap) {
            len += (size_t)snprintf(out + len, cap - len, "%s%.*s", len ? " " : "", (int)n, p);
        }
        p += n + (p[n] == '|');
    }
}

typedef enum { VAL_NONE, VAL_FILE, VAL_DIR } value_kind;

static value_kind file_kind(const cli_option *o)
{
    const char *m = o->metavar;
    if (!m)
        return VAL_NONE;
    if (strstr(m, "DIR"))
        return VAL_DIR;
    return (strstr(m, "FILE") || strstr(m, "PATH")) ? VAL_FILE : VAL_NONE;
}

/* ---- man page (groff -man) ---- */

/* Text with groff's special characters escaped: \ as \e, - as \-, a leading . or '. */
static void man_text(FILE *f, const char *s, size_t n)
{
    bool line_start = true;
    for (size_t i = 0; i < n && s[i]; i++) {
        char c = s[i];
        if (line_start && (c == '.' || c == '\''))
            fputs("\\&", f);
        if (c == '\\')
            fputs("\\e", f);
        else if (c == '-')
            fputs("\\-", f);
        else
            fputc(c, f);
        line_start = c == '\n';
    }
}

static void man_str(FILE *f, const char *s)
{
    man_text(f, s, strlen(s));
}

static void man_option(FILE *f, const cli_option *o)
{
    fputs(".TP\n", f);
    for (int k = 0; spelling(o, k); k++) {
        fputs(k ? ", \\fB" : "\\fB", f);
        man_str(f, spelling(o, k));
        fputs("\\fR", f);
    }
    if (o->metavar) {
        fputs(" \\fI", f);
        man_str(f, o->metavar);
        fputs("\\fR", f);
    }
    fputc('\n', f);
    man_str(f, o->help);
    fputs("\n", f);
}

static void man_commands(FILE *f)
{
    fputs(".SH COMMANDS\n", f);
    for (int c = 0; c < LLM_CMD_COUNT; c++) {
        fputs(".SS ", f);
        man_str(f, cli_command_name((llm_command)c));
        if (c == LLM_CMD_RUN) {
            fputs("\nThe load test (the default command): the dashboard on a terminal, else "
                  "progress lines on stderr and a summary on stdout.\n",
                  f);
            continue;
        }
        fputs("\n.nf\n", f);
        man_str(f, cli_usage((llm_command)c));
        fputs(".fi\n", f);
    }
}

/* Every row once per help group, in table order, with the commands that take it. */
static void man_options(FILE *f)
{
    fputs(".SH OPTIONS\n", f);
    for (int g = 0; g < CLI_G_COUNT; g++) {
        bool any = false;
        for (size_t i = 0; i < cli_n_options; i++) {
            const cli_option *o = &cli_options[i];
            if (o->group != (cli_group)g)
                continue;
            if (!any) {
                fputs(".SS \"", f);
                man_str(f, cli_group_title((cli_group)g));
                fputs("\"\n", f);
            }
            any = true;
            man_option(f, o);
            fputs("(", f);
            const char *sep = "";
            for (int c = 0; c < LLM_CMD_COUNT; c++)
                if (in_command(o, (llm_command)c) && o->cmds != CLI_ALL) {
                    fprintf(f, "%s%s", sep, cli_command_name((llm_command)c));
                    sep = ", ";
                }
            fputs(o->cmds == CLI_ALL ? "every command)\n" : ")\n", f);
        }
    }
}

static const char man_tail[] =
    ".SH ENVIRONMENT\n"
    ".TP\n\\fBMODEL_URL\\fR, \\fBMODEL_KEY\\fR, \\fBMODEL_NAME\\fR\n"
    "The target, key and model when no flag gives them (fallbacks \\fBOPENAI_BASE_URL\\fR, "
    "\\fBOPENAI_API_KEY\\fR), also read from \\fI./.env\\fR or \\fB\\-\\-env\\-file\\fR.\n"
    ".TP\n\\fBNO_COLOR\\fR\nThe dashboard draws without colours.\n"
    ".TP\n\\fBLLMLOAD_NVML_LIB\\fR\nThe NVML library loaded for NVIDIA GPU telemetry "
    "(default \\fIlibnvidia-ml.so.1\\fR); none found means no GPU, silently.\n"
    ".SH FILES\n"
    ".TP\n\\fIthemes/*.theme\\fR\n"
    "Dashboard colours for \\fB\\-\\-theme\\fR NAME, looked up in ./themes, next to the "
    "binary (\\fI../share/llmload/themes\\fR, \\fI../themes\\fR), the source tree it was built "
    "from, and the installed \\fIshare/llmload/themes\\fR.\n"
    ".SH EXIT STATUS\n"
    "0 ok; 1 finished but failed \\fB\\-\\-max\\-error\\-rate\\fR, \\fB\\-\\-fail\\-on\\-slo\\fR "
    "or \\fB\\-\\-fail\\-if\\-worse\\fR, or results could not be written; 2 usage or "
    "configuration error; 3 target unreachable before any request succeeded; 128+N stopped by "
    "signal N after writing the results.\n"
    ".SH SEE ALSO\n"
    "The README of the llmload sources: metrics, windows, snapshot format.\n";

void docgen_man(FILE *f)
{
    fputs(".\\\" generated from llmload's option table (src/config/docgen.c); do not edit\n", f);
    fputs(".TH LLMLOAD 1 \"\" \"llmload ", f);
    man_str(f, llm_version());
    fputs("\" \"User Commands\"\n.SH NAME\nllmload \\- load tester for OpenAI\\-compatible "
          "LLM endpoints\n.SH SYNOPSIS\n.nf\n",
          f);
    man_str(f, cli_usage(LLM_CMD_RUN));
    fputs(".fi\n.SH DESCRIPTION\n"
          "llmload sends streamed chat or completion requests at a fixed concurrency, a ramp of "
          "concurrencies or an open-loop rate, measures TTFT, ITL, TPOT, E2E and tokens/s from "
          "log\\-linear histograms, shows them live in a terminal dashboard (or prints progress "
          "without one), and writes a JSON snapshot that \\fBreport\\fR, \\fBmerge\\fR and "
          "\\fBcompare\\fR read.\n",
          f);
    man_commands(f);
    man_options(f);
    fputs(man_tail, f);
}

/* ---- bash ---- */

/* "a|b|c" of every spelling, for a case pattern. */
static void bash_pattern(FILE *f, const cli_option *o)
{
    for (int k = 0; spelling(o, k); k++)
        fprintf(f, "%s%s", k ? "|" : "", spelling(o, k));
}

static void bash_values(FILE *f, llm_command c)
{
    fputs("        case $prev in\n", f);
    for (size_t i = 0; i < cli_n_options; i++) {
        const cli_option *o = &cli_options[i];
        if (!in_command(o, c) || !o->metavar)
            continue;
        char words[160];
        choices(o, words, sizeof words);
        value_kind kind = file_kind(o);
        fputs("        ", f);
        bash_pattern(f, o);
        if (words[0] && kind == VAL_NONE)
            fprintf(f, ") COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")); return ;;\n", words);
        else if (words[0])
            fprintf(f, ") COMPREPLY=($(compgen -W \"%s\" -f -- \"$cur\")); return ;;\n", words);
        else if (kind == VAL_DIR)
            fputs(") COMPREPLY=($(compgen -d -- \"$cur\")); return ;;\n", f);
        else if (kind == VAL_FILE)
            fputs(") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n", f);
        else
            fputs(") return ;;\n", f);
    }
    fputs("        esac\n", f);
}

static void bash_command(FILE *f, llm_command c)
{
    fprintf(f, "    %s)\n        opts=\"", cli_command_name(c));
    const char *sep = "";
    for (size_t i = 0; i < cli_n_options; i++)
        for (int k = 0; in_command(&cli_options[i], c) && spelling(&cli_options[i], k); k++) {
            fprintf(f, "%s%s", sep, spelling(&cli_options[i], k));
            sep = " ";
        }
    fputs("\"\n", f);
    bash_values(f, c);
    fputs("        ;;\n", f);
}

void docgen_bash(FILE *f)
{
    fputs("# bash completion for llmload: generated from its option table "
          "(src/config/docgen.c)\n"
          "_llmload()\n{\n"
          "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}\n"
          "    local cmd=run opts\n"
          "    COMPREPLY=()\n"
          "    case ${COMP_WORDS[1]} in\n"
          "    run | check | sim | report | merge | compare | watch) cmd=${COMP_WORDS[1]} ;;\n"
          "    esac\n"
          "    case $cmd in\n",
          f);
    for (int c = 0; c < LLM_CMD_COUNT; c++)
        bash_command(f, (llm_command)c);
    fputs("    esac\n"
          "    if [[ $cur == -* ]]; then\n"
          "        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
          "    elif ((COMP_CWORD == 1)); then\n"
          "        COMPREPLY=($(compgen -W \"" SUBCOMMANDS "\" -- \"$cur\"))\n"
          "    elif [[ $cmd == report || $cmd == merge || $cmd == compare ]]; then\n"
          "        COMPREPLY=($(compgen -f -- \"$cur\"))\n"
          "    fi\n"
          "}\n"
          "complete -F _llmload llmload\n",
          f);
}

/* ---- zsh ---- */

/* Help text for an _arguments description: up to the first "; " or 70 characters, with
 * the characters that end or quote a description replaced. */
static void zsh_description(FILE *f, const char *help)
{
    size_t n = strcspn(help, ";(");
    if (n > 70)
        n = 70;
    while (n > 0 && help[n - 1] == ' ')
        n--;
    for (size_t i = 0; i < n; i++) {
        char c = help[i];
        fputc(c == '[' ? '(' : c == ']' ? ')' : c == '\'' ? '`' : c == ':' ? ' ' : c, f);
    }
}

static void zsh_option(FILE *f, const cli_option *o)
{
    char words[160];
    choices(o, words, sizeof words);
    for (int k = 0; spelling(o, k); k++) {
        fprintf(f, "        '%s[", spelling(o, k));
        zsh_description(f, o->help);
        fputc(']', f);
        if (o->metavar) {
            fputc(':', f);
            for (const char *m = o->metavar; *m; m++)
                fputc(*m == ':' ? '-' : *m == '\'' ? '`' : *m, f);
            fputc(':', f);
            value_kind kind = file_kind(o);
            if (words[0])
                fprintf(f, "(%s)", words);
            else if (kind == VAL_DIR)
                fputs("_files -/", f);
            else if (kind == VAL_FILE)
                fputs("_files", f);
        }
        fputs("' \\\n", f);
    }
}

void docgen_zsh(FILE *f)
{
    fputs("#compdef llmload\n"
          "# zsh completion for llmload: generated from its option table "
          "(src/config/docgen.c)\n"
          "_llmload() {\n"
          "    local -a cmds\n"
          "    cmds=(" SUBCOMMANDS ")\n"
          "    local cmd=run\n"
          "    if ((CURRENT == 2)) && [[ $words[2] != -* ]]; then\n"
          "        compadd -- $cmds\n"
          "    fi\n"
          "    if ((CURRENT > 2)) && ((${cmds[(Ie)$words[2]]})); then\n"
          "        cmd=$words[2]\n"
          "        shift words\n"
          "        ((CURRENT--))\n"
          "    fi\n"
          "    case $cmd in\n",
          f);
    for (int c = 0; c < LLM_CMD_COUNT; c++) {
        llm_command cmd = (llm_command)c;
        fprintf(f, "    %s)\n        _arguments -s \\\n", cli_command_name(cmd));
        for (size_t i = 0; i < cli_n_options; i++)
            if (in_command(&cli_options[i], cmd))
                zsh_option(f, &cli_options[i]);
        if (cmd == LLM_CMD_REPORT || cmd == LLM_CMD_MERGE || cmd == LLM_CMD_COMPARE)
            fputs("        '*:snapshot:_files -g \"*.json\"'\n", f);
        else
            fputs("        && return\n", f);
        fputs("        ;;\n", f);
    }
    fputs("    esac\n}\n_llmload \"$@\"\n", f);
}
