#include <stdio.h>
#include <string.h>

#include "base/version.h"
#include "config/cli.h"

#define HELP_COL 34
#define HELP_WIDTH 100

static const char *const group_titles[CLI_G_COUNT] = {
    "Target",
    "Load",
    "Workload",
    "Limits",
    "Output",
    "Scale-out (several workers, live metrics)",
    "Switches of the tools llmload replaces (llm-test.py)",
    "Options of vLLM's bench serve and GuideLLM's benchmark, mapped onto llmload's",
    "Simulator",
    "Report",
    "General",
};

static const char *const usage_lines[LLM_CMD_COUNT] = {
    "Usage: llmload [run] [options]     load test (dashboard on a terminal, else headless)\n"
    "       llmload --demo              simulator in-process + a ramp, in the dashboard\n"
    "       llmload check [options]     connection test\n"
    "       llmload sim [options]       the built-in OpenAI-compatible simulator\n"
    "       llmload report FILE... [--format md|csv|html|vllm-json] [-o FILE]\n"
    "       llmload merge FILE... -o FILE\n"
    "       llmload compare BASE NEW [--format md|csv|html] [-o FILE] [--fail-if-worse PCT]\n"
    "       llmload watch URL... [--control-token TOKEN] [--no-tui]   dashboard over workers\n",
    "Usage: llmload check [options]\n"
    "Probes the target (models list, one streamed request) and exits 0 only when every probe "
    "passes.\n",
    "Usage: llmload sim [options]\n"
    "An OpenAI-compatible server (/v1/models, /v1/chat/completions, /v1/completions, "
    "/metrics)\nthat models a real one; prints \"listening on http://H:P/v1\".\n",
    "Usage: llmload report FILE... [--format md|csv|html|vllm-json] [-o FILE]\n"
    "Turns snapshot JSON files into a Markdown report, CSV per step, one HTML file, or vLLM's\n"
    "result JSON (one object per step and line).\n",
    "Usage: llmload merge FILE... -o FILE\n"
    "Adds snapshots (e.g. from several client machines) into one.\n",
    "Usage: llmload compare BASE.json NEW.json [--format md|csv|html] [-o FILE] [--fail-if-worse "
    "PCT]\n"
    "The change per load both runs applied (RPS, TPS, TTFT p50/p99, TPOT, E2E p99, errors), each\n"
    "judged better, worse or within noise from the runs' own spread; the knees side by side.\n",
    "Usage: llmload watch URL... [--control-token TOKEN | --control-token-file FILE] [--no-tui]\n"
    "                            [--duration D] [--theme NAME|PATH]\n"
    "One dashboard over several workers' `llmload run --listen` endpoints (URL: http://HOST:PORT,\n"
    "with or without /metrics): their counters summed, their histograms merged, a row per\n"
    "worker; + - p n go to every worker's control endpoint, q quits (the workers keep running).\n"
    "Exit: 0, 2 usage error, 3 no worker ever answered.\n",
};

static const char sim_model[] =
    "Each of S slots decodes one sequence; a sequence alone decodes at --decode-rate tokens/s "
    "and, with b sequences in the batch, at decode-rate / (1 + batch-penalty x (b - 1)); "
    "requests beyond S wait in a FIFO queue; TTFT = queue wait + base-latency + prompt_tokens "
    "/ prefill-rate.";

static const char target_env[] =
    "Environment: MODEL_URL, MODEL_KEY, MODEL_NAME (fallbacks OPENAI_BASE_URL, OPENAI_API_KEY),\n"
    "read from the environment or from ./.env (or --env-file PATH). Precedence: flags >\n"
    "environment > .env > defaults; MODEL_* beat OPENAI_* wherever they come from.\n";

static const char seed_mapping[] =
    "The seed tools' command lines run unchanged:\n"
    "  llm-test.py:  -st A -et B -ts S = --ramp A:B:+S   -st N alone = -c N\n"
    "                -d H -st N = --duration Hh -c N (stress/soak; -d 0 = step mode)\n"
    "                -pp N = --prompt-chars N   -tg N = --max-tokens N   -u = --url   -m = "
    "--model\n"
    "                -ip FILE = --image FILE    -mtp TEXT = --image-prompt   -l FILE = "
    "--log-file\n"
    "                -i, -o, -mm select the input, output and multimodal tests\n"
    "  llm_benchmark.py / run_benchmarks.py:  --llm_url = --url  --api_key = --api-key\n"
    "                --num_requests = -n  --output_tokens = --max-tokens  --request_timeout\n"
    "                --use_long_context = --long-context  --output_format json|line\n"
    "  Underscores and dashes are interchangeable in long names (--max_tokens).\n"
    "  Note: -o is llm-test.py's output test under run, but the output FILE under report/merge.\n";

static const char exit_codes[] =
    "Exit: 0 ok, 1 finished but failed --max-error-rate or --fail-on-slo, 2 usage or config\n"
    "error, 3 target unreachable before any request succeeded.\n";

const char *cli_group_title(cli_group g)
{
    return (unsigned)g < CLI_G_COUNT ? group_titles[g] : NULL;
}

const char *cli_usage(llm_command cmd)
{
    return (unsigned)cmd < LLM_CMD_COUNT ? usage_lines[cmd] : NULL;
}

/* Writes text from column `col`, wrapping at HELP_WIDTH, continuation lines at HELP_COL. */
static void print_wrapped(FILE *f, const char *text, int col)
{
    while (*text) {
        int room = HELP_WIDTH - col;
        int n = (int)strlen(text);
        if (n > room) {
            n = room;
            while (n > 0 && text[n] != ' ')
                n--;
            if (n == 0)
                n = room;
        }
        fprintf(f, "%.*s\n", n, text);
        text += n;
        while (*text == ' ')
            text++;
        if (*text)
            fprintf(f, "%*s", HELP_COL, "");
        col = HELP_COL;
    }
}

static int put(FILE *f, const char *sep, const char *s)
{
    return fprintf(f, "%s%s", sep, s);
}

/* "  -c, --concurrency N" then the help text from column HELP_COL. */
static void print_option(FILE *f, const cli_option *o)
{
    int col = fprintf(f, "  ");
    const char *sep = "";
    for (int k = 0; k < CLI_MAX_ALIASES && o->alias[k]; k++)
        if (o->alias[k][1] != '-')
            col += put(f, sep, o->alias[k]), sep = ", ";
    col += put(f, sep, o->name);
    for (int k = 0; k < CLI_MAX_ALIASES && o->alias[k]; k++)
        if (o->alias[k][1] == '-')
            col += put(f, ", ", o->alias[k]);
    if (o->metavar)
        col += fprintf(f, " %s", o->metavar);
    if (col >= HELP_COL - 1) {
        fprintf(f, "\n");
        col = 0;
    }
    fprintf(f, "%*s", HELP_COL - col, "");
    print_wrapped(f, o->help, HELP_COL);
}

static void print_group(FILE *f, cli_group g, unsigned cmd_bit, const char *title)
{
    bool any = false;
    for (size_t i = 0; i < cli_n_options; i++) {
        const cli_option *o = &cli_options[i];
        if (o->group != g || !(o->cmds & cmd_bit))
            continue;
        if (!any)
            fprintf(f, "\n%s:\n", title ? title : group_titles[g]);
        any = true;
        print_option(f, o);
    }
}

void cli_print_help(FILE *f, llm_command cmd)
{
    unsigned bit = CLI_CMD(cmd);
    fputs(usage_lines[cmd], f);
    if (cmd == LLM_CMD_SIM)
        fprintf(f, "\nModel: %s\n", sim_model);
    for (int g = 0; g < CLI_G_COUNT; g++)
        print_group(f, (cli_group)g, bit,
                    (cmd == LLM_CMD_RUN && g == CLI_G_SIM) ? "Simulator (with --demo)" : NULL);
    if (cmd == LLM_CMD_RUN || cmd == LLM_CMD_CHECK)
        fprintf(f, "\nDurations: 250ms, 30s, 5m, 8h (a bare number is seconds).\n%s", target_env);
    if (cmd == LLM_CMD_RUN)
        fprintf(f, "\n%s\n%s", seed_mapping, exit_codes);
}

void cli_print_version(FILE *f)
{
    fprintf(f, "llmload %s\n", llm_version());
}
