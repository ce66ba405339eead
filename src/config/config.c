/* config: defaults, then flags (cli.c), then environment and .env (envfile.c) for the target,
 * then the seed tools' mappings and cross-option checks. */
#include "config/config.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileout.h"
#include "base/util.h"
#include "config/cli.h"
#include "config/cli_peers.h"
#include "config/cli_scale.h"
#include "config/envfile.h"

#define LONG_CONTEXT_CHARS 16000

static const char *const cmd_names[LLM_CMD_COUNT] = {"run",   "check",   "sim",  "report",
                                                     "merge", "compare", "watch"};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes one sentence into err; returns -1 so callers can `return fail(...)`. */
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int set_defaults(llm_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->command = LLM_CMD_RUN;
    cfg->endpoint = LLM_ENDPOINT_CHAT;
    cfg->concurrency = 1;
    cfg->repeat = 1;
    cfg->arrivals = LLM_ARRIVALS_POISSON;
    cfg->prompt_chars = 256;
    cfg->max_tokens = 128;
    cfg->temperature = -1;
    cfg->connect_timeout_s = 10;
    cfg->request_timeout_s = 600;
    cfg->max_error_rate_pct = 5;
    cfg->slo.errors_pct = -1;
    cfg->fps = 10;
    cfg->autosave_s = 60;
    cfg->drain_timeout_s = 30;
    cfg->fail_if_worse_pct = -1;
    cfg->speedup = 1;
    cfg->turns = 1;
    cfg->out_dir = strdup("./llmload-out");
    sim_options_default(&cfg->sim);
    return cfg->out_dir ? 0 : -1;
}

/* argv[1] names the subcommand unless it is an option; returns the first option index. */
static int pick_command(llm_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
    if (argc < 2 || argv[1][0] == '-')
        return 1;
    for (int c = 0; c < LLM_CMD_COUNT; c++) {
        if (strcmp(argv[1], cmd_names[c]) == 0) {
            cfg->command = (llm_command)c;
            return 2;
        }
    }
    const char *near = NULL;
    for (int c = 0; c < LLM_CMD_COUNT; c++)
        if (cli_edit_distance(argv[1], cmd_names[c]) <= 2)
            near = cmd_names[c];
    if (near)
        return fail(err, errlen, "unknown command \"%.40s\" (did you mean %s?)", argv[1], near);
    return fail(err, errlen,
                "unknown command \"%.40s\" (commands: run, check, sim, report, merge, compare, "
                "watch; see llmload --help)",
                argv[1]);
}

/* `llmload help [COMMAND]` is --help spelled as a command. */
static bool help_command(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "help") != 0)
        return false;
    llm_command cmd = LLM_CMD_RUN;
    for (int c = 0; argc > 2 && c < LLM_CMD_COUNT; c++)
        if (strcmp(argv[2], cmd_names[c]) == 0)
            cmd = (llm_command)c;
    cli_print_help(stdout, cmd);
    return true;
}

/* --help/-h and --version/-V win over everything else on the line (before "--"). */
static bool show_help_if_asked(const llm_config *cfg, int first, int argc, char **argv)
{
    for (int i = first; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            cli_print_help(stdout, cfg->command);
            return true;
        }
        if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
            cli_print_version(stdout);
            return true;
        }
    }
    return false;
}

/* ---- target: flag > environment > .env, MODEL_* before OPENAI_* ---- */

typedef struct {
    const char *value;
    llm_source source;
    const char *key; /* env key it came from */
} env_pick;

static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

static env_pick pick_env(const envfile *ef, const char *primary, const char *fallback)
{
    const char *keys[2] = {primary, fallback};
    for (int i = 0; i < 2 && keys[i]; i++) {
        if (nonempty(getenv(keys[i])))
            return (env_pick){getenv(keys[i]), LLM_SRC_ENV, keys[i]};
        if (nonempty(envfile_get(ef, keys[i])))
            return (env_pick){envfile_get(ef, keys[i]), LLM_SRC_ENVFILE, keys[i]};
    }
    return (env_pick){NULL, LLM_SRC_DEFAULT, NULL};
}

/* A key in a file others may read is a key others have: say so, once, on stderr. */
static void warn_if_key_exposed(const char *path, const envfile *ef)
{
    struct stat sb;
    if (!envfile_get(ef, "MODEL_KEY") && !envfile_get(ef, "OPENAI_API_KEY"))
        return;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || !(sb.st_mode & 077))
        return;
    fprintf(stderr,
            "llmload: warning: %s holds an API key and is readable by %s (mode %03o): "
            "chmod 600 %s\n",
            path, sb.st_mode & 007 ? "everyone" : "its group", (unsigned)(sb.st_mode & 0777), path);
}

static int load_envfile(llm_config *cfg, envfile *ef, char *err, size_t errlen)
{
    char label[300];
    if (cfg->env_file) {
        snprintf(label, sizeof label, "--env-file %s", cfg->env_file);
        if (envfile_load(cfg->env_file, label, ef, err, errlen) != 0)
            return -1;
        warn_if_key_exposed(cfg->env_file, ef);
        return 0;
    }
    /* ./.env is read only for what the flags left open: an unrelated .env in the working
     * directory cannot stop a run whose target came entirely from flags. */
    bool all_flags = cfg->url_source == LLM_SRC_FLAG && cfg->key_source == LLM_SRC_FLAG &&
                     cfg->model_source == LLM_SRC_FLAG;
    if (all_flags || access(".env", F_OK) != 0)
        return 0;
    if (envfile_load(".env", "./.env", ef, err, errlen) != 0) {
        size_t n = strlen(err);
        snprintf(err + n, errlen > n ? errlen - n : 0,
                 " (llmload reads ./.env for MODEL_URL, MODEL_KEY and MODEL_NAME: fix it, pass "
                 "--env-file /dev/null to skip it, or give --url, --api-key and --model)");
        return -1;
    }
    warn_if_key_exposed(".env", ef);
    cfg->env_file = strdup(".env");
    return 0;
}

/* Fills *slot from the environment unless a flag set it; records where it came from. */
static int fill_from_env(char **slot, llm_source *src, const char **from, const envfile *ef,
                         const char *primary, const char *fallback)
{
    if (*src == LLM_SRC_FLAG)
        return 0;
    env_pick p = pick_env(ef, primary, fallback);
    if (!p.value)
        return 0;
    *slot = strdup(p.value);
    *src = p.source;
    *from = p.key;
    return *slot ? 0 : -1;
}

static void describe_source(char *out, size_t cap, const char *name, llm_source src,
                            const llm_config *cfg)
{
    if (src == LLM_SRC_ENVFILE)
        snprintf(out, cap, "%s (from %s)", name, cfg->env_file ? cfg->env_file : ".env");
    else
        snprintf(out, cap, "%s", name);
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* %XX decoding in place (a URL's userinfo is percent-encoded; basic auth is not). */
static void percent_decode(char *s)
{
    char *o = s;
    for (const char *p = s; *p; p++) {
        if (*p == '%' && hex_digit(p[1]) >= 0 && hex_digit(p[2]) >= 0) {
            *o++ = (char)(hex_digit(p[1]) * 16 + hex_digit(p[2]));
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
}

/* http://user:password@host/v1: the credentials leave the URL (which is printed and
 * stored) for url_user/url_password (sent as basic auth only). */
static int take_credentials(llm_config *cfg)
{
    char *info = llm_url_take_userinfo(cfg->url);
    if (!info)
        return 0;
    char *colon = strchr(info, ':');
    if (colon)
        *colon = '\0';
    free(cfg->url_user);
    free(cfg->url_password);
    cfg->url_user = strdup(info);
    cfg->url_password = colon ? strdup(colon + 1) : NULL;
    explicit_bzero(info, strlen(info) + (colon ? strlen(colon + 1) + 1 : 0));
    free(info);
    if (!cfg->url_user || (colon && !cfg->url_password))
        return -1;
    percent_decode(cfg->url_user);
    if (cfg->url_password)
        percent_decode(cfg->url_password);
    return 0;
}

static int validate_url(llm_config *cfg, const char *name, char *err, size_t errlen)
{
    char who[400];
    describe_source(who, sizeof who, name, cfg->url_source, cfg);
    char *u = cfg->url;
    size_t n = strlen(u);
    while (n > 0 && u[n - 1] == '/')
        u[--n] = '\0';
    if (take_credentials(cfg) != 0)
        return fail(err, errlen, "out of memory");
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return fail(err, errlen, "%s must not contain spaces or control characters", who);
    size_t scheme = strncasecmp(u, "http://", 7) == 0    ? 7
                    : strncasecmp(u, "https://", 8) == 0 ? 8
                                                         : 0;
    if (!scheme)
        return fail(err, errlen, "%s must start with http:// or https:// (got \"%.200s\")", who, u);
    const char *host = u + scheme, *at = NULL;
    size_t auth = strcspn(host, "/?#");
    at = memchr(host, '@', auth);
    if (at)
        auth -= (size_t)(at + 1 - host), host = at + 1;
    if (auth == 0 || host[0] == ':')
        return fail(err, errlen, "%s must name a host, like http://host:8000/v1 (got \"%.200s\")",
                    who, u);
    return 0;
}

/* A key is pasted into an Authorization header: no spaces or line breaks. Never echoed. */
static int validate_key(const llm_config *cfg, const char *name, char *err, size_t errlen)
{
    char who[400];
    describe_source(who, sizeof who, name, cfg->key_source, cfg);
    for (const char *p = cfg->api_key; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return fail(err, errlen,
                        "%s contains a space or control character; check its value (not shown)",
                        who);
    return 0;
}

static int resolve_target(llm_config *cfg, const cli_state *st, char *err, size_t errlen)
{
    envfile ef = {0};
    const char *url_from = NULL, *key_from = NULL, *model_from = NULL;
    int rc = load_envfile(cfg, &ef, err, errlen);
    if (rc == 0)
        rc = fill_from_env(&cfg->url, &cfg->url_source, &url_from, &ef, "MODEL_URL",
                           "OPENAI_BASE_URL") |
             fill_from_env(&cfg->api_key, &cfg->key_source, &key_from, &ef, "MODEL_KEY",
                           "OPENAI_API_KEY") |
             fill_from_env(&cfg->model, &cfg->model_source, &model_from, &ef, "MODEL_NAME", NULL);
    envfile_free(&ef);
    if (rc != 0)
        return err[0] ? -1 : fail(err, errlen, "out of memory while reading the environment");
    if (cfg->url && validate_url(cfg, url_from ? url_from : cli_seen(st, "--url"), err, errlen))
        return -1;
    if (cfg->api_key &&
        validate_key(cfg, key_from ? key_from : cli_seen(st, "--api-key"), err, errlen))
        return -1;
    if (!cfg->url)
        return fail(err, errlen,
                    "no target URL: pass --url http://host:8000/v1 or set "
                    "MODEL_URL (in the environment or .env)");
    return 0;
}

/* ---- the seed tools' step/stress switches ---- */

static int conflict(char *err, size_t errlen, const char *a, const char *b, const char *what)
{
    return fail(err, errlen, "%s and %s both set %s; use one of them", a, b, what);
}

static int apply_seed_stress(llm_config *cfg, const cli_state *st, char *err, size_t errlen)
{
    const char *d = cli_seen(st, "--duration_hours"), *s = cli_seen(st, "--start_threads");
    if (cli_seen(st, "--duration"))
        return conflict(err, errlen, d, "--duration", "the run length");
    cfg->duration_s = cfg->seed_duration_hours * 3600.0;
    if (s && cli_seen(st, "--concurrency"))
        return conflict(err, errlen, s, cli_seen(st, "--concurrency"), "the concurrency");
    if (s)
        cfg->concurrency = cfg->seed_start_threads;
    return 0;
}

static int apply_seed_steps(llm_config *cfg, const cli_state *st, char *err, size_t errlen)
{
    const char *s = cli_seen(st, "--start_threads"), *e = cli_seen(st, "--end_threads");
    const char *ramp = cli_seen(st, "--ramp"), *c = cli_seen(st, "--concurrency");
    if (!e) {
        if (cli_seen(st, "--step_threads"))
            return fail(err, errlen, "%s needs -et (the last concurrency of the step test)",
                        cli_seen(st, "--step_threads"));
        if (s && (c || ramp))
            return conflict(err, errlen, s, c ? c : ramp, "the concurrency");
        if (s)
            cfg->concurrency = cfg->seed_start_threads;
        return 0;
    }
    if (ramp || c)
        return conflict(err, errlen, e, ramp ? ramp : c, "the concurrency");
    long start = s ? cfg->seed_start_threads : 1;
    if (cfg->seed_end_threads < start)
        return fail(err, errlen, "%s must be \xE2\x89\xA5 the start concurrency %ld (got %ld)", e,
                    start, cfg->seed_end_threads);
    cfg->ramp_start = start;
    cfg->ramp_end = cfg->seed_end_threads;
    cfg->ramp_step = cfg->seed_step_threads ? cfg->seed_step_threads : 1;
    cfg->ramp_multiply = false;
    return 0;
}

static int apply_seed_options(llm_config *cfg, const cli_state *st, char *err, size_t errlen)
{
    static const char *const names[] = {"--start_threads", "--end_threads", "--step_threads",
                                        "--duration_hours"};
    for (int i = 0; i < 4; i++)
        cfg->seed_steps_used |= cli_seen(st, names[i]) != NULL;
    if (cli_seen(st, "--duration_hours") && cfg->seed_duration_hours > 0)
        return apply_seed_stress(cfg, st, err, errlen);
    return apply_seed_steps(cfg, st, err, errlen);
}

/* llm-test.py's multimodal test looks for testphoto.jpg when no -ip is given. */
static int apply_multimodal(llm_config *cfg, const cli_state *st, char *err, size_t errlen)
{
    if (!cfg->test_multimodal || cfg->image_file)
        return 0;
    if (access("testphoto.jpg", R_OK) != 0)
        return fail(err, errlen,
                    "%s needs an image: testphoto.jpg: cannot read it (%s); pass -ip FILE",
                    cli_seen(st, "--multimodal"), strerror(errno));
    cfg->image_file = strdup("testphoto.jpg");
    return cfg->image_file ? 0 : -1;
}

/* ---- cross-option checks and derived defaults ---- */

bool llm_slo_given(const llm_slo *s)
{
    return s->ttft_s > 0 || s->tpot_s > 0 || s->e2e_s > 0 || s->errors_pct >= 0;
}

/* --search probes loads one at a time against --slo; plans with their own steps conflict. */
static int check_search(llm_config *cfg, const cli_state *st, char *err, size_t errlen)
{
    const char *search = cli_seen(st, "--search");
    if (!search) {
        if (cli_seen(st, "--search-max"))
            return fail(err, errlen, "--search-max bounds --search: add --search, or leave it out");
        return 0;
    }
    if (!llm_slo_given(&cfg->slo))
        return fail(err, errlen,
                    "--search needs --slo to know which loads pass, e.g. --slo ttft=2s,errors=1%%");
    static const char *const planned[] = {"--ramp", "--rate-ramp", "--suite", "--repeat",
                                          "--duration"};
    for (size_t i = 0; i < sizeof planned / sizeof planned[0]; i++)
        if (cli_seen(st, planned[i]))
            return fail(err, errlen,
                        "%s and %s both make the plan; use --step-requests or --step-duration "
                        "to size each search step",
                        search, cli_seen(st, planned[i]));
    if (cfg->seed_steps_used ||
        cfg->test_input + cfg->test_output + (cfg->test_multimodal || cfg->image_file) > 1)
        return fail(err, errlen, "%s runs one kind of step: use it with one of -i, -o, -mm",
                    search);
    double start =
        cfg->rate > 0 ? cfg->rate : (double)(cfg->concurrency > 0 ? cfg->concurrency : 1);
    if (cfg->search_max <= 0)
        cfg->search_max = cfg->rate > 0 ? 64 * cfg->rate : 256;
    if (cfg->search_max < start)
        return fail(err, errlen, "--search-max %g is below the start of the search (%g)",
                    cfg->search_max, start);
    return 0;
}

/* The ramp's levels (the plan holds at most CONFIG_MAX_RAMP_LEVELS) times --repeat: a
 * plan that big is a typo, and was truncated or overflowed. */
#define CONFIG_MAX_RAMP_LEVELS 4096
#define CONFIG_MAX_PLAN_STEPS 100000

static int check_plan_size(const llm_config *cfg, const cli_state *st, char *err, size_t errlen)
{
    long levels = 1;
    if (cfg->ramp_end > 0) {
        long c = cfg->ramp_start > 0 ? cfg->ramp_start : 1;
        for (levels = 1; c < cfg->ramp_end && levels <= CONFIG_MAX_RAMP_LEVELS; levels++)
            c = cfg->ramp_multiply ? c * cfg->ramp_step : c + cfg->ramp_step;
    }
    const char *ramp = cli_seen(st, "--ramp")        ? cli_seen(st, "--ramp")
                       : cli_seen(st, "--rate-ramp") ? cli_seen(st, "--rate-ramp")
                                                     : "-st/-et/-ts";
    if (levels > CONFIG_MAX_RAMP_LEVELS)
        return fail(err, errlen,
                    "%s makes more than %d steps; use a bigger STEP (e.g. +N or xN) or a "
                    "smaller range",
                    ramp, CONFIG_MAX_RAMP_LEVELS);
    if (levels * cfg->repeat > CONFIG_MAX_PLAN_STEPS)
        return fail(err, errlen,
                    "%ld steps x --repeat %ld makes more than %d steps; use fewer steps or a "
                    "smaller --repeat",
                    levels, cfg->repeat, CONFIG_MAX_PLAN_STEPS);
    return 0;
}

/* --dataset: a trace sets the arrivals and the lengths itself; a file's prompts are not
 * generated ones. */
static int check_dataset(llm_config *cfg, const cli_state *st, const char *gen, char *err,
                         size_t errlen)
{
    const char *ds = cli_seen(st, "--dataset");
    if (cli_seen(st, "--speedup") && cfg->dataset != LLM_DATASET_TRACE)
        return fail(err, errlen,
                    "--speedup replays a trace faster: use it with --dataset trace:FILE");
    if (cli_seen(st, "--max-input-tokens") && cfg->dataset != LLM_DATASET_SHAREGPT)
        return fail(err, errlen,
                    "--max-input-tokens filters a ShareGPT file: use it with --dataset "
                    "sharegpt:FILE");
    if (!ds)
        return 0;
    if (cfg->prompts_file && cfg->dataset != LLM_DATASET_JSONL)
        return conflict(err, errlen, "--prompts", ds, "where the prompts come from");
    if (gen)
        return fail(err, errlen, "%s generates prompts and %s takes them from a file: use one", gen,
                    ds);
    if (cfg->dataset != LLM_DATASET_TRACE)
        return 0;
    const char *load[] = {"--rate",     "--ramp",   "--rate-ramp", "--concurrency",
                          "--duration", "--search", "--arrivals"};
    for (size_t i = 0; i < sizeof load / sizeof load[0]; i++)
        if (cli_seen(st, load[i]))
            return fail(err, errlen,
                        "%s replays the trace's own arrivals: drop %s (-n N replays the first "
                        "N requests, --speedup X runs it faster)",
                        ds, cli_seen(st, load[i]));
    cfg->arrivals = LLM_ARRIVALS_TRACE;
    return 0;
}

/* --turns: conversations of generated chat messages, in a closed loop. */
static int check_turns(llm_config *cfg, const cli_state *st, char *err, size_t errlen)
{
    const char *turns = cli_seen(st, "--turns");
    if (cli_seen(st, "--think-time") && cfg->turns <= 1)
        return fail(err, errlen, "--think-time is the pause between turns: use it with --turns N");
    if (!turns || cfg->turns <= 1)
        return 0;
    if (cfg->turns > 64)
        return fail(err, errlen, "%s must be at most 64", turns);
    if (cfg->endpoint == LLM_ENDPOINT_COMPLETIONS)
        return fail(err, errlen, "%s sends chat messages: use it with --endpoint chat", turns);
    if (cfg->dataset != LLM_DATASET_NONE && cfg->dataset != LLM_DATASET_SHAREGPT)
        return fail(err, errlen,
                    "%s replays ShareGPT conversations or generates them: use it with "
                    "--dataset sharegpt:FILE or without --dataset",
                    turns);
    const char *other[] = {"--rate",  "--rate-ramp",  "--prompts",  "--search",
                           "--input", "--multimodal", "--no-stream"};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        if (cli_seen(st, other[i]))
            return fail(err, errlen, "%s holds conversations in a closed loop: drop %s", turns,
                        cli_seen(st, other[i]));
    return 0;
}

/* --input-tokens and friends generate prompts: they cannot also take them from a file, and
 * a prompt length is given once. */
static int check_workload(llm_config *cfg, const cli_state *st, char *err, size_t errlen)
{
    const char *in = cli_seen(st, "--input-tokens"), *pre = cli_seen(st, "--prefix-tokens");
    const char *len = cli_seen(st, "--prompt-chars") ? cli_seen(st, "--prompt-chars")
                                                     : cli_seen(st, "--prompt-tokens");
    if (in && len)
        return conflict(err, errlen, len, in, "the prompt length");
    const char *out = cli_seen(st, "--output-tokens");
    if (out && cli_seen(st, "--max-tokens"))
        return conflict(err, errlen, cli_seen(st, "--max-tokens"), out, "the answer length");
    bool generated_turns = cfg->turns > 1 && cfg->dataset != LLM_DATASET_SHAREGPT;
    const char *gen = in ? in : pre ? pre : out ? out : generated_turns ? "--turns" : NULL;
    if (gen && cfg->prompts_file)
        return fail(err, errlen,
                    "%s generates the prompts and --prompts takes them from a file: use one", gen);
    if (cli_seen(st, "--prefix-groups") && !pre)
        return fail(err, errlen,
                    "--prefix-groups needs --prefix-tokens P (how long each shared prefix is)");
    if (check_turns(cfg, st, err, errlen))
        return -1;
    return check_dataset(cfg, st, gen, err, errlen);
}

static int check_run_options(llm_config *cfg, const cli_state *st, char *err, size_t errlen)
{
    const char *chars = cli_seen(st, "--prompt-chars"), *toks = cli_seen(st, "--prompt-tokens");
    if (chars && toks)
        return conflict(err, errlen, chars, toks, "the prompt length");
    if (check_workload(cfg, st, err, errlen))
        return -1;
    if (cli_seen(st, "--ramp") && cli_seen(st, "--concurrency"))
        return conflict(err, errlen, cli_seen(st, "--concurrency"), "--ramp", "the concurrency");
    if (cli_seen(st, "--ramp") && cli_seen(st, "--rate-ramp"))
        return fail(err, errlen,
                    "--ramp (users) and --rate-ramp (requests/s) both set the steps; use one "
                    "of them");
    for (size_t i = 0; i < cli_n_options; i++)
        if (st->seen[i] && (cli_options[i].cmds & CLI_DEMO_ONLY) && cfg->command == LLM_CMD_RUN &&
            !cfg->demo)
            return fail(err, errlen,
                        "%s is a simulator option: use it with `llmload sim` or with --demo",
                        st->seen[i]);
    if (cfg->long_context && !chars && !toks)
        cfg->prompt_chars = LONG_CONTEXT_CHARS;
    cfg->requests_set = cli_seen(st, "--requests") != NULL;
    /* run_benchmarks.py's documented line is only --llm_url/--api_key/--model
     * --use_long_context: its "full suite". Anything that sets the load is not it. */
    if (cfg->long_context && !cfg->requests_set && !cli_seen(st, "--concurrency") &&
        cfg->ramp_end == 0 && cfg->duration_s == 0 && cfg->rate == 0 && !cfg->seed_steps_used)
        cfg->suite = true;
    if (cfg->suite && !cli_seen(st, "--max-tokens"))
        cfg->max_tokens = 100;
    if (!cfg->requests_set && cfg->duration_s == 0)
        cfg->requests = 100;
    if (apply_multimodal(cfg, st, err, errlen) || check_plan_size(cfg, st, err, errlen))
        return -1;
    if (cfg->command == LLM_CMD_RUN && cli_scale_check(cfg, st, err, errlen))
        return -1;
    return cfg->command == LLM_CMD_RUN ? check_search(cfg, st, err, errlen) : 0;
}

static int check_files(const llm_config *cfg, char *err, size_t errlen)
{
    const char *usage =
        cfg->command == LLM_CMD_REPORT ? "llmload report FILE... [--format md|csv|html] [-o FILE]"
        : cfg->command == LLM_CMD_COMPARE ? "llmload compare BASE.json NEW.json [--format "
                                            "md|csv|html] [-o FILE] [--fail-if-worse PCT]"
                                          : "llmload merge FILE... -o FILE";
    if (cfg->n_files == 0)
        return fail(err, errlen, "%s needs at least one snapshot FILE: %s", cmd_names[cfg->command],
                    usage);
    if (cfg->command == LLM_CMD_COMPARE && cfg->n_files != 2)
        return fail(err, errlen, "compare needs exactly two snapshots, BASE and NEW (got %zu): %s",
                    cfg->n_files, usage);
    if (cfg->command == LLM_CMD_MERGE && !cfg->output_path)
        return fail(err, errlen, "merge needs -o FILE (where to write the merged snapshot): %s",
                    usage);
    for (size_t i = 0; i < cfg->n_files; i++)
        if (access(cfg->files[i], R_OK) != 0)
            return fail(err, errlen, "%s: cannot read it (%s)", cfg->files[i], strerror(errno));
    return 0;
}

/* ---- outputs: every one checked before any load, none created or changed here ---- */

static int check_output(const char *opt, const char *path, const char *const *inputs,
                        size_t n_inputs, char *err, size_t errlen)
{
    char why[900];
    if (llm_output_check(path, why, sizeof why) != 0)
        return fail(err, errlen, "%s %s", opt, why);
    for (size_t i = 0; i < n_inputs; i++)
        if (inputs[i] && llm_same_file(path, inputs[i]))
            return fail(err, errlen,
                        "%s %s is also an input (%s): writing it would destroy it; choose "
                        "another path",
                        opt, path, inputs[i]);
    return 0;
}

/* --out DIR (autosaves): it exists as a writable directory, or its nearest existing parent
 * is one (it is created at the first save). */
static int check_out_dir(const char *dir, char *err, size_t errlen)
{
    char p[PATH_MAX];
    struct stat sb;
    llm_strlcpy(p, dir, sizeof p);
    while (stat(p, &sb) != 0) {
        if (errno != ENOENT || strcmp(p, ".") == 0 || strcmp(p, "/") == 0)
            return fail(err, errlen,
                        "--out %s: cannot create it (%s); choose another --out DIR "
                        "or turn autosaves off with --autosave 0",
                        dir, strerror(errno));
        char copy[PATH_MAX];
        llm_strlcpy(copy, p, sizeof copy);
        llm_strlcpy(p, dirname(copy), sizeof p);
    }
    if (!S_ISDIR(sb.st_mode) || access(p, W_OK | X_OK) != 0)
        return fail(err, errlen,
                    "--out %s: cannot create files in %s (%s); choose another --out DIR or "
                    "turn autosaves off with --autosave 0",
                    dir, p, S_ISDIR(sb.st_mode) ? strerror(errno) : "not a directory");
    return 0;
}

static int check_run_outputs(const llm_config *cfg, const cli_state *st, char *err, size_t errlen)
{
    const char *inputs[] = {cfg->prompts_file, cfg->image_file, cfg->env_file, cfg->log_file};
    if (cfg->json_path &&
        check_output(cli_seen(st, "--json"), cfg->json_path, inputs, 4, err, errlen))
        return -1;
    if (cfg->log_file &&
        check_output(cli_seen(st, "--log-file"), cfg->log_file, inputs, 3, err, errlen))
        return -1;
    bool autosave_in_out = !cfg->json_path || llm_output_is_stream(cfg->json_path);
    if (cfg->command == LLM_CMD_RUN && cfg->autosave_s > 0 && autosave_in_out &&
        check_out_dir(cfg->out_dir, err, errlen))
        return -1;
    return 0;
}

static int check_report_output(const llm_config *cfg, const cli_state *st, char *err, size_t errlen)
{
    if (!cfg->output_path)
        return 0;
    return check_output(cli_seen(st, "--output"), cfg->output_path, (const char *const *)cfg->files,
                        cfg->n_files, err, errlen);
}

static int finish(llm_config *cfg, const cli_state *st, char *err, size_t errlen)
{
    switch (cfg->command) {
    case LLM_CMD_RUN:
        if (cli_peers_apply(cfg, st, err, errlen) || apply_seed_options(cfg, st, err, errlen) ||
            check_run_options(cfg, st, err, errlen) ||
            (!cfg->demo && resolve_target(cfg, st, err, errlen)))
            return -1;
        return check_run_outputs(cfg, st, err, errlen);
    case LLM_CMD_CHECK:
        if (check_run_options(cfg, st, err, errlen) || resolve_target(cfg, st, err, errlen))
            return -1;
        return check_run_outputs(cfg, st, err, errlen);
    case LLM_CMD_SIM:
        return 0;
    case LLM_CMD_COMPARE:
        if (cfg->report_format && strcmp(cfg->report_format, "md") != 0 &&
            strcmp(cfg->report_format, "csv") != 0 && strcmp(cfg->report_format, "html") != 0)
            return fail(err, errlen, "compare --format must be md, csv or html (got \"%s\")",
                        cfg->report_format);
        /* fall through */
    case LLM_CMD_REPORT:
    case LLM_CMD_MERGE:
        if (cfg->command != LLM_CMD_MERGE && !cfg->report_format &&
            !(cfg->report_format = strdup("md")))
            return -1;
        if (check_files(cfg, err, errlen))
            return -1;
        return check_report_output(cfg, st, err, errlen);
    case LLM_CMD_WATCH:
        if (cfg->n_files == 0)
            return fail(err, errlen,
                        "watch needs at least one worker URL: llmload watch http://HOST:PORT... "
                        "(each an `llmload run --listen` address)");
        return 0;
    case LLM_CMD_COUNT:
        break;
    }
    return 0;
}

/* ---- keys never leave in a message ---- */

/* Every key llmload could know of: flags (even unparsed ones), environment, struct. */
static void scrub_keys(char *err, size_t errlen, const llm_config *cfg, int argc, char **argv)
{
    llm_scrub_key(err, errlen, cfg->api_key);
    llm_scrub_key(err, errlen, cfg->sim.api_key);
    llm_scrub_key(err, errlen, cfg->url_password);
    llm_scrub_key(err, errlen, cfg->server_metrics_key);
    llm_scrub_key(err, errlen, cfg->control_token);
    llm_scrub_key(err, errlen, getenv("MODEL_KEY"));
    llm_scrub_key(err, errlen, getenv("OPENAI_API_KEY"));
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--api-key", 9) != 0 && strncmp(a, "--api_key", 9) != 0)
            continue;
        if (a[9] == '=')
            llm_scrub_key(err, errlen, a + 10);
        else if (a[9] == '\0' && i + 1 < argc)
            llm_scrub_key(err, errlen, argv[i + 1]);
    }
}

int config_load(llm_config *cfg, int argc, char **argv, char *err, size_t errlen, bool *help_shown)
{
    *help_shown = false;
    if (errlen)
        err[0] = '\0';
    if (set_defaults(cfg) != 0)
        return fail(err, errlen, "out of memory"), LLM_EXIT_USAGE;
    int first = help_command(argc, argv) ? 0 : pick_command(cfg, argc, argv, err, errlen);
    if (first < 0)
        goto bad;
    if (first == 0 || show_help_if_asked(cfg, first, argc, argv)) {
        *help_shown = true;
        return LLM_EXIT_OK;
    }
    cli_state *st = calloc(1, sizeof *st);
    if (!st)
        return fail(err, errlen, "out of memory"), LLM_EXIT_USAGE;
    *st = (cli_state){.cfg = cfg, .err = err, .errlen = errlen};
    int rc = cli_parse(st, first, argc, argv);
    if (rc == 0)
        rc = finish(cfg, st, err, errlen);
    free(st);
    if (rc == 0)
        return LLM_EXIT_OK;
bad:
    if (!err[0])
        fail(err, errlen, "out of memory");
    scrub_keys(err, errlen, cfg, argc, argv);
    return LLM_EXIT_USAGE;
}

void config_free(llm_config *cfg)
{
    char **strings[] = {&cfg->url,
                        &cfg->api_key,
                        &cfg->model,
                        &cfg->env_file,
                        &cfg->prompts_file,
                        &cfg->image_file,
                        &cfg->image_prompt,
                        &cfg->body_json,
                        &cfg->json_path,
                        &cfg->out_dir,
                        &cfg->theme,
                        &cfg->log_file,
                        &cfg->output_format,
                        &cfg->report_format,
                        &cfg->output_path,
                        &cfg->server_metrics,
                        &cfg->url_user,
                        &cfg->url_password,
                        &cfg->server_metrics_key,
                        &cfg->dataset_file,
                        &cfg->listen,
                        &cfg->control_token};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        free(*strings[i]);
    for (size_t i = 0; i < cfg->n_headers; i++) {
        free(cfg->headers[i].name);
        free(cfg->headers[i].value);
    }
    free(cfg->headers);
    for (size_t i = 0; i < cfg->n_files; i++)
        free(cfg->files[i]);
    free(cfg->files);
    memset(cfg, 0, sizeof *cfg);
}

char *config_endpoint_url(const llm_config *cfg, const char *path)
{
    if (!cfg->url || !path)
        return NULL;
    size_t nb = strlen(cfg->url), np = strlen(path);
    bool slash = path[0] != '/';
    char *u = malloc(nb + slash + np + 1);
    if (!u)
        return NULL;
    memcpy(u, cfg->url, nb);
    if (slash)
        u[nb] = '/';
    memcpy(u + nb + slash, path, np + 1);
    return u;
}
