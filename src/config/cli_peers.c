#include "config/cli_peers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "config/cli_set.h"

/* Applies val through llmload's own row `name` (for this command) and records it as given
 * there, so every later check (conflicts, defaults) sees the option it stands for. */
static int apply_as(cli_state *st, const char *name, const char *val)
{
    unsigned cmd = CLI_CMD(st->cfg->command);
    for (size_t i = 0; i < cli_n_options; i++) {
        const cli_option *o = &cli_options[i];
        if ((o->cmds & cmd) && strcmp(o->name, name) == 0) {
            st->seen[i] = st->spelled;
            return o->set(st, o, val);
        }
    }
    return cli_fail(st, "has no llmload option to stand for here");
}

int set_peer_requests(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    return apply_as(st, "--requests", val);
}

/* GuideLLM's --max-seconds is a number of seconds; ours takes 30s, 5m too. */
int set_peer_duration(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    return apply_as(st, "--duration", val);
}

/* vLLM's random dataset: prompts of N tokens. The closest llmload option today is
 * --prompt-tokens (4 characters a token). */
int set_peer_input_len(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    return apply_as(st, "--prompt-tokens", val);
}

int set_peer_output_len(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    return apply_as(st, "--max-tokens", val);
}

/* GuideLLM's target is the server ("http://localhost:8000") and it adds /v1 itself; a
 * target that already has a path is taken as the API base. */
int set_peer_target(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    const char *scheme = strstr(val, "://");
    const char *path = scheme ? strchr(scheme + 3, '/') : NULL;
    if (!scheme || (path && strcmp(path, "/") != 0))
        return apply_as(st, "--url", val);
    size_t n = strlen(val) - (path ? 1 : 0);
    char *url = malloc(n + 4);
    if (!url)
        return cli_fail(st, "out of memory");
    snprintf(url, n + 4, "%.*s/v1", (int)n, val);
    int rc = apply_as(st, "--url", url);
    free(url);
    return rc;
}

/* vLLM: requests/s with Poisson arrivals; "inf" (its default) sends every prompt at once. */
int set_peer_request_rate(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    if (strcmp(val, "inf") == 0) {
        st->cfg->peer_rate_inf = true;
        return 0;
    }
    return apply_as(st, "--rate", val);
}

int set_peer_max_concurrency(cli_state *st, const cli_option *o, const char *val)
{
    long n;
    if (llm_parse_count(val, &n) != 0 || n < 1 || n > CLI_MAX_USERS)
        return cli_fail(st, "must be a whole number from 1 to %d (got \"%s\")", CLI_MAX_USERS, val);
    (void)o;
    st->cfg->peer_max_concurrency = n;
    return 0;
}

static int copy_word(cli_state *st, char *slot, size_t cap, const char *val,
                     const char *const *choices, const char *allowed)
{
    for (size_t i = 0; choices[i]; i++)
        if (strcmp(val, choices[i]) == 0) {
            llm_strlcpy(slot, val, cap);
            return 0;
        }
    return cli_fail(st, "must be %s (got \"%s\")", allowed, val);
}

/* random = llmload's generated prompts; custom = a JSONL file of {"prompt": ...} lines,
 * which --prompts reads. The other datasets need readers llmload does not have yet. */
int set_peer_dataset_name(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    static const char *const names[] = {"random", "custom", NULL};
    if (strcmp(val, "sharegpt") == 0 || strcmp(val, "sonnet") == 0 || strcmp(val, "hf") == 0 ||
        strcmp(val, "burstgpt") == 0)
        return cli_fail(st,
                        "%s is not read by llmload yet: convert it to JSONL lines of "
                        "{\"prompt\": ...} and pass --prompts FILE (or --dataset-name custom "
                        "--dataset-path FILE)",
                        val);
    return copy_word(st, st->cfg->peer_dataset_name, sizeof st->cfg->peer_dataset_name, val, names,
                     "random or custom");
}

int set_peer_dataset_path(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    return apply_as(st, "--prompts", val);
}

/* vLLM's "ttft:200 tpot:50 e2el:1000" (milliseconds), spaces or commas between: the same
 * limits as --slo, which llmload's goodput counts against. */
int set_peer_goodput(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    char buf[256];
    if (llm_strlcpy(buf, val, sizeof buf) >= sizeof buf)
        return cli_fail(st, "is too long");
    llm_slo *slo = &st->cfg->slo;
    for (char *save = NULL, *kv = strtok_r(buf, " ,", &save); kv;
         kv = strtok_r(NULL, " ,", &save)) {
        char *colon = strchr(kv, ':');
        double ms;
        if (!colon || llm_parse_number(colon + 1, &ms) != 0)
            return cli_fail(st, "takes KEY:MS pairs like ttft:200 tpot:50 e2el:1000 (got \"%s\")",
                            kv);
        *colon = '\0';
        if (strcmp(kv, "ttft") == 0)
            slo->ttft_s = ms / 1000;
        else if (strcmp(kv, "tpot") == 0)
            slo->tpot_s = ms / 1000;
        else if (strcmp(kv, "e2el") == 0)
            slo->e2e_s = ms / 1000;
        else
            return cli_fail(st, "knows ttft, tpot and e2el (got \"%s\")", kv);
    }
    return 0;
}

/* vLLM chooses which metrics it prints; llmload reports them all, so the list is only
 * checked. */
int set_peer_percentile_metrics(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    char buf[128];
    if (llm_strlcpy(buf, val, sizeof buf) >= sizeof buf)
        return cli_fail(st, "is too long");
    for (char *save = NULL, *m = strtok_r(buf, ",", &save); m; m = strtok_r(NULL, ",", &save))
        if (strcmp(m, "ttft") && strcmp(m, "tpot") && strcmp(m, "itl") && strcmp(m, "e2el"))
            return cli_fail(st, "knows ttft, tpot, itl and e2el (got \"%s\")", m);
    return 0;
}

int set_peer_rate_type(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    static const char *const types[] = {"synchronous", "concurrent", "throughput", "constant",
                                        "poisson",     "async",      NULL};
    if (strcmp(val, "sweep") == 0)
        return cli_fail(st, "sweep is not mapped: use --ramp A:B:STEP (users) or --rate-ramp "
                            "A:B:STEP (requests/s), or --search with --slo for the best load");
    return copy_word(st, st->cfg->peer_rate_type, sizeof st->cfg->peer_rate_type, val, types,
                     "synchronous, concurrent, throughput, constant, poisson or async");
}

/* GuideLLM's --rate is users under concurrent, requests/s under constant, poisson and
 * async, and not allowed under synchronous and throughput. */
static int apply_rate_type(llm_config *cfg, const cli_state *st, char *err, size_t errlen)
{
    const char *type = cfg->peer_rate_type, *rate = cli_seen(st, "--rate");
    if (!type[0])
        return 0;
    bool fixed = strcmp(type, "synchronous") == 0 || strcmp(type, "throughput") == 0;
    if (fixed && rate) {
        snprintf(err, errlen, "--rate-type %s takes no %s (GuideLLM's rule too)", type, rate);
        return -1;
    }
    if (strcmp(type, "synchronous") == 0) {
        cfg->concurrency = 1;
    } else if (strcmp(type, "throughput") == 0) {
        cfg->concurrency = PEER_THROUGHPUT_USERS;
    } else if (strcmp(type, "concurrent") == 0) {
        if (!rate) {
            snprintf(err, errlen, "--rate-type concurrent needs --rate N (the users)");
            return -1;
        }
        cfg->concurrency = (long)cfg->rate;
        cfg->rate = 0;
        if (cfg->concurrency < 1) {
            snprintf(err, errlen, "--rate-type concurrent needs --rate N of at least 1 user");
            return -1;
        }
    } else {
        cfg->arrivals = strcmp(type, "poisson") == 0 ? LLM_ARRIVALS_POISSON : LLM_ARRIVALS_CONSTANT;
        if (!rate) {
            snprintf(err, errlen, "--rate-type %s needs --rate R (requests/s)", type);
            return -1;
        }
    }
    return 0;
}

/* vLLM's --max-concurrency caps what is in flight: with a finite --request-rate that is
 * --max-inflight; with inf (or none) every prompt is sent at once under the cap, which is
 * a closed loop of that many users. --request-rate inf alone sends all -n at once. */
static void apply_concurrency(llm_config *cfg)
{
    if (cfg->peer_max_concurrency > 0 && cfg->rate > 0)
        cfg->max_inflight = cfg->peer_max_concurrency;
    else if (cfg->peer_max_concurrency > 0)
        cfg->concurrency = cfg->peer_max_concurrency;
    else if (cfg->peer_rate_inf && cfg->requests_set && cfg->rate == 0)
        cfg->concurrency = cfg->requests < CLI_MAX_USERS ? cfg->requests : CLI_MAX_USERS;
}

int cli_peers_apply(llm_config *cfg, const cli_state *st, char *err, size_t errlen)
{
    if (apply_rate_type(cfg, st, err, errlen) != 0)
        return -1;
    cfg->requests_set = cfg->requests_set || cli_seen(st, "--requests") != NULL;
    apply_concurrency(cfg);
    if (strcmp(cfg->peer_dataset_name, "custom") == 0 && !cfg->prompts_file) {
        snprintf(err, errlen,
                 "--dataset-name custom needs --dataset-path FILE (JSONL lines of "
                 "{\"prompt\": ...})");
        return -1;
    }
    return 0;
}
