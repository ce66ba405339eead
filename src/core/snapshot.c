/* core/snapshot: builds and writes the snapshot JSON (see snapshot.h). */
#include "core/snapshot.h"

#include "core/analysis.h"
#include "core/gpuhist.h"

#include "base/fileout.h"
#include "base/util.h"
#include "base/version.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void snapshot_add_tool(cJSON *d)
{
    cJSON *tool = cJSON_AddObjectToObject(d, "tool");
    cJSON_AddStringToObject(tool, "name", "llmload");
    cJSON_AddStringToObject(tool, "version", LLMLOAD_VERSION);
    if (llm_version_git()[0]) /* which build wrote it: reports of two runs can tell */
        cJSON_AddStringToObject(tool, "git", llm_version_git());
}

/* ---- small JSON helpers ---- */

/* Rounds to 3 decimals (µs precision for milliseconds) so files read well. */
static double round3(double v)
{
    return round(v * 1000.0) / 1000.0;
}

static void add_number(cJSON *o, const char *name, double v)
{
    if (isnan(v) || isinf(v))
        cJSON_AddNullToObject(o, name);
    else
        cJSON_AddNumberToObject(o, name, round3(v));
}

static void add_count(cJSON *o, const char *name, uint64_t v)
{
    cJSON_AddNumberToObject(o, name, (double)v);
}

/* Copy of s with every occurrence of key replaced; NULL when out of memory. */
static char *redact(const char *s, const char *key)
{
    static const char mark[] = "[redacted]";
    size_t klen = key ? strlen(key) : 0, n = 0;
    for (const char *p = s; klen && (p = strstr(p, key)); p += klen)
        n++;
    char *out = malloc(strlen(s) + n * sizeof mark + 1);
    if (!out)
        return NULL;
    char *w = out;
    const char *p = s, *hit;
    while (klen && (hit = strstr(p, key))) {
        memcpy(w, p, (size_t)(hit - p));
        w += hit - p;
        memcpy(w, mark, sizeof mark - 1);
        w += sizeof mark - 1;
        p = hit + klen;
    }
    strcpy(w, p);
    return out;
}

/* Adds s (key redacted) or null. */
static void add_string(cJSON *o, const char *name, const char *s, const char *key)
{
    char *safe = s ? redact(s, key) : NULL;
    if (safe)
        cJSON_AddStringToObject(o, name, safe);
    else
        cJSON_AddNullToObject(o, name);
    free(safe);
}

void snapshot_iso8601(time_t t, char *out, size_t cap)
{
    struct tm tm;
    if (cap == 0)
        return;
    if (!gmtime_r(&t, &tm) || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        out[0] = '\0';
}

static void add_time(cJSON *o, const char *name, time_t t)
{
    char buf[32];
    snapshot_iso8601(t, buf, sizeof buf);
    cJSON_AddStringToObject(o, name, buf);
}

/* ---- config ---- */

static const char *plan_kind(const llm_config *cfg)
{
    if (cfg->search)
        return "search";
    return cfg->rate > 0 ? "rate" : cfg->ramp_end > 0 || cfg->suite ? "ramp" : "fixed";
}

static const char *arrivals_name(llm_arrivals a)
{
    return a == LLM_ARRIVALS_GAMMA      ? "gamma"
           : a == LLM_ARRIVALS_CONSTANT ? "constant"
           : a == LLM_ARRIVALS_TRACE    ? "trace"
                                        : "poisson";
}

static cJSON *ramp_json(const llm_config *cfg)
{
    if (cfg->ramp_end <= 0)
        return cJSON_CreateNull();
    cJSON *r = cJSON_CreateObject();
    add_count(r, "start", (uint64_t)cfg->ramp_start);
    add_count(r, "end", (uint64_t)cfg->ramp_end);
    add_count(r, "step", (uint64_t)cfg->ramp_step);
    cJSON_AddBoolToObject(r, "multiply", cfg->ramp_multiply);
    return r;
}

static cJSON *plan_json(const llm_config *cfg)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "kind", plan_kind(cfg));
    add_number(p, "concurrency", (double)cfg->concurrency);
    add_number(p, "requests", (double)cfg->requests);
    add_number(p, "duration_s", cfg->duration_s);
    cJSON_AddItemToObject(p, "ramp", ramp_json(cfg));
    add_number(p, "step_requests", (double)cfg->step_requests);
    add_number(p, "step_duration_s", cfg->step_duration_s);
    add_number(p, "cooldown_s", cfg->cooldown_s);
    add_number(p, "repeat", (double)cfg->repeat);
    add_number(p, "rate", cfg->rate);
    cJSON_AddStringToObject(p, "arrivals", arrivals_name(cfg->arrivals));
    add_number(p, "max_inflight", (double)cfg->max_inflight);
    add_number(p, "warmup", (double)cfg->warmup);
    add_number(p, "search_max", cfg->search ? cfg->search_max : NAN);
    return p;
}

static void add_positive(cJSON *o, const char *name, double v)
{
    add_number(o, name, v > 0 ? v : NAN);
}

static cJSON *slo_json(const llm_slo *s)
{
    cJSON *o = cJSON_CreateObject();
    add_positive(o, "ttft_s", s->ttft_s);
    add_positive(o, "tpot_s", s->tpot_s);
    add_positive(o, "e2e_s", s->e2e_s);
    add_number(o, "errors_pct", s->errors_pct >= 0 ? s->errors_pct : NAN);
    return o;
}

/* Header names only: values may carry credentials. */
static cJSON *header_names_json(const llm_config *cfg)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < cfg->n_headers; i++) {
        char *safe = redact(cfg->headers[i].name ? cfg->headers[i].name : "", cfg->api_key);
        if (safe)
            cJSON_AddItemToArray(a, cJSON_CreateString(safe));
        free(safe);
    }
    return a;
}

/* config.workload: what was sent (DESIGN §6). Input lengths are exact by the server's
 * tokenizer when run/poolcal calibrated them, else ~tokens at 4 characters each:
 * "input_exact" says which, "input_calibration" how. */
static cJSON *workload_obj(const llm_config *cfg)
{
    cJSON *w = cJSON_CreateObject();
    char spec[96];
    if (cfg->input_tokens.kind != DIST_NONE) {
        dist_describe(&cfg->input_tokens, spec, sizeof spec);
        cJSON_AddStringToObject(w, "input_tokens", spec);
    } else {
        add_number(w, "input_tokens", (double)((cfg->prompt_chars + 3) / 4));
    }
    if (cfg->output_tokens.kind != DIST_NONE) {
        dist_describe(&cfg->output_tokens, spec, sizeof spec);
        cJSON_AddStringToObject(w, "output_tokens", spec);
    } else {
        add_number(w, "output_tokens", (double)cfg->max_tokens);
    }
    add_number(w, "prefix_tokens", (double)cfg->prefix_tokens);
    add_number(w, "prefix_groups",
               cfg->prefix_tokens > 0 ? (double)(cfg->prefix_groups > 0 ? cfg->prefix_groups : 1)
                                      : 0);
    static const char *const datasets[] = {NULL, "jsonl", "sharegpt", "trace"};
    if (cfg->dataset != LLM_DATASET_NONE) {
        cJSON *d = cJSON_AddObjectToObject(w, "dataset");
        cJSON_AddStringToObject(d, "kind", datasets[cfg->dataset]);
        add_string(d, "file", cfg->dataset_file, NULL);
        add_number(d, "records", (double)cfg->dataset_records);
        add_number(d, "skipped", (double)cfg->dataset_skipped);
        add_number(d, "filtered", (double)cfg->dataset_filtered);
        add_number(d, "max_input_tokens",
                   cfg->max_input_tokens > 0 ? (double)cfg->max_input_tokens : NAN);
        if (cfg->dataset == LLM_DATASET_TRACE)
            add_number(d, "speedup", cfg->speedup);
    }
    /* exact by the server's tokenizer (run/poolcal), else ~tokens of 4 characters */
    cJSON_AddBoolToObject(w, "input_exact", cfg->input_exact);
    add_number(w, "chars_per_token", cfg->input_map ? NAN : 4);
    if (cfg->input_calib) {
        cJSON *ic = cJSON_AddObjectToObject(w, "input_calibration");
        cJSON_AddStringToObject(ic, "method", cfg->input_calib);
        add_string(ic, "note", cfg->input_calib_note, NULL);
    } else {
        cJSON_AddNullToObject(w, "input_calibration");
    }
    return w;
}

static void workload_json(cJSON *c, const llm_config *cfg, const char *key)
{
    cJSON_AddItemToObject(c, "workload", workload_obj(cfg));
    add_number(c, "prompt_chars", (double)cfg->prompt_chars);
    add_number(c, "prompt_tokens", (double)cfg->prompt_tokens);
    add_number(c, "max_tokens", (double)cfg->max_tokens);
    cJSON_AddBoolToObject(c, "ignore_eos", cfg->ignore_eos);
    add_string(c, "prompts_file", cfg->prompts_file, key);
    add_string(c, "image_file", cfg->image_file, key);
    cJSON_AddItemToObject(c, "headers", header_names_json(cfg));
    add_string(c, "body_json", cfg->body_json, key);
    cJSON_AddBoolToObject(c, "usage_requested", !cfg->no_usage);
    add_number(c, "temperature", cfg->temperature >= 0 ? cfg->temperature : NAN);
    add_number(c, "seed", cfg->seed_set ? (double)cfg->seed : NAN);
}

/* config.shard: this worker's share of a run made by several (--shard I/N), and the agreed
 * start; absent in a run made by one process. */
static void shard_json(cJSON *c, const llm_config *cfg)
{
    if (cfg->shard_count < 1)
        return;
    cJSON *o = cJSON_AddObjectToObject(c, "shard");
    add_number(o, "index", (double)cfg->shard_index);
    add_number(o, "count", (double)cfg->shard_count);
    add_number(o, "start_at", cfg->start_at > 0 ? cfg->start_at : NAN);
}

/* config: the model is the one sent (given, or the server's first when none was); what the
 * server said it ran (its responses' `model` and `system_fingerprint`) stands beside it. */
static cJSON *config_json(const llm_config *cfg, const stats *st)
{
    const char *key = cfg->api_key && cfg->api_key[0] ? cfg->api_key : NULL;
    cJSON *c = cJSON_CreateObject();
    add_string(c, "url", cfg->url, key);
    add_string(c, "model", cfg->model, key);
    add_string(c, "server_model", st->server_model[0] ? st->server_model : NULL, key);
    add_string(c, "system_fingerprint", st->server_fingerprint[0] ? st->server_fingerprint : NULL,
               key);
    cJSON_AddStringToObject(c, "endpoint",
                            cfg->endpoint == LLM_ENDPOINT_COMPLETIONS ? "completions" : "chat");
    cJSON_AddBoolToObject(c, "api_key_set", key != NULL);
    cJSON_AddItemToObject(c, "plan", plan_json(cfg));
    shard_json(c, cfg);
    add_number(c, "threads", st->engine_threads ? (double)st->engine_threads : NAN);
    workload_json(c, cfg, key);
    cJSON_AddBoolToObject(c, "insecure", cfg->insecure);
    cJSON_AddBoolToObject(c, "http2", cfg->http2);
    add_number(c, "connect_timeout_s", cfg->connect_timeout_s);
    add_number(c, "ttft_timeout_s", cfg->ttft_timeout_s);
    add_number(c, "request_timeout_s", cfg->request_timeout_s);
    add_number(c, "max_error_rate_pct", cfg->max_error_rate_pct);
    cJSON_AddItemToObject(c, "slo", slo_json(&cfg->slo));
    return c;
}

/* ---- steps ---- */

static cJSON *requests_json(const stats_agg *a)
{
    cJSON *r = cJSON_CreateObject();
    add_count(r, "ok", a->ok);
    add_count(r, "failed", a->failed);
    add_count(r, "cut", a->cut); /* in flight when the run ended: neither ok nor failed */
    add_count(r, "finish_grace", a->finish_grace);
    add_count(r, "one_read", a->one_read);
    cJSON *e = cJSON_AddObjectToObject(r, "errors");
    for (int c = 0; c < ERR_CLASSES; c++)
        add_count(e, err_class_name((err_class)c), a->errors[c]);
    return r;
}

static cJSON *error_messages_json(const stats_agg *a, const char *key)
{
    cJSON *m = cJSON_CreateObject();
    for (int c = 0; c < ERR_CLASSES; c++)
        if (a->last_error[c][0])
            add_string(m, err_class_name((err_class)c), a->last_error[c], key);
    return m;
}

static cJSON *tokens_json(const stats_agg *a)
{
    cJSON *t = cJSON_CreateObject();
    add_count(t, "output", a->output_tokens);
    add_count(t, "prompt", a->prompt_tokens);
    cJSON_AddBoolToObject(t, "estimated", a->estimated);
    add_count(t, "content_events", a->content_events);
    add_count(t, "usage_tokens", a->usage_tokens);
    /* the server's own prompt counts, per request: how exact --prompt-tokens was */
    cJSON *pr = cJSON_AddObjectToObject(t, "prompt_reported");
    add_count(pr, "count", a->prompt_rep_n);
    add_number(pr, "min", a->prompt_rep_n ? (double)a->prompt_rep_min : NAN);
    add_number(pr, "mean",
               a->prompt_rep_n ? (double)a->prompt_rep_sum / (double)a->prompt_rep_n : NAN);
    add_number(pr, "max", a->prompt_rep_n ? (double)a->prompt_rep_max : NAN);
    /* token agreement: server-counted tokens per content event the client saw */
    add_number(t, "tokens_per_event",
               a->usage_events ? (double)a->usage_tokens / (double)a->usage_events : NAN);
    /* answers that ended before their max_tokens (the server's usage said so) */
    add_count(t, "asked_output", a->asked_output);
    add_count(t, "ended_early", a->ended_early);
    add_number(t, "ended_early_share",
               a->asked_output ? (double)a->ended_early / (double)a->asked_output : NAN);
    return t;
}

/* The prefix cache, as the server reported it: hit share over the requests whose usage said
 * cached_tokens (null when none did). */
static cJSON *cache_json(const stats_agg *a)
{
    cJSON *c = cJSON_CreateObject();
    add_number(c, "hit_share",
               a->cache_reported ? (double)a->cache_hits / (double)a->cache_reported : NAN);
    add_count(c, "cached_tokens", a->cached_tokens);
    add_count(c, "hits", a->cache_hits);
    add_count(c, "reported", a->cache_reported);
    return c;
}

/* --turns: per turn, the means of TTFT, prompt and cached tokens (turn 1 against turn k
 * shows what the history costs and what the cache saves); NULL without turns. */
static cJSON *turns_json(const stats_agg *a)
{
    cJSON *arr = NULL;
    for (int k = 0; k < STATS_TURNS; k++) {
        uint64_t n = a->turn_n[k];
        if (!n)
            continue;
        if (!arr)
            arr = cJSON_CreateArray();
        cJSON *t = cJSON_CreateObject();
        add_count(t, "turn", (uint64_t)k + 1);
        add_count(t, "requests", n);
        add_number(t, "ttft_mean_ms", (double)a->turn_ttft_us[k] / 1000.0 / (double)n);
        add_number(t, "prompt_tokens_mean", (double)a->turn_prompt[k] / (double)n);
        add_number(t, "cached_tokens_mean", (double)a->turn_cached[k] / (double)n);
        cJSON_AddItemToArray(arr, t);
    }
    return arr;
}

static cJSON *summary_json(const stats_agg *a, stats_metric m)
{
    static const struct {
        const char *name;
        double p;
    } cols[] = {{"mean", -1}, {"min", 0},  {"p50", 50},    {"p90", 90},
                {"p95", 95},  {"p99", 99}, {"p999", 99.9}, {"max", 100}};
    cJSON *o = cJSON_CreateObject();
    add_count(o, "count", a->h[m].total);
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        add_number(o, cols[i].name, stats_agg_value(a, m, cols[i].p));
    return o;
}

/* Server tokens vs the tokens the client received (DESIGN §4 token agreement). */
static cJSON *server_tokens_json(const stats_agg *a)
{
    uint64_t srv, cli;
    uint8_t src = stats_agg_server_tokens(a, &srv, &cli);
    cJSON *t = cJSON_CreateObject();
    const char *name = stats_srv_source_name(src);
    if (name)
        cJSON_AddStringToObject(t, "source", name);
    else
        cJSON_AddNullToObject(t, "source");
    add_count(t, "server", srv);
    add_count(t, "client", cli);
    add_number(t, "diff_pct", cli ? 100.0 * ((double)srv - (double)cli) / (double)cli : NAN);
    return t;
}

/* The server's bucket bounds (ms) of its histograms, the resolution of its percentiles. */
static cJSON *server_buckets_json(const stats *st)
{
    cJSON *o = cJSON_CreateObject();
    for (int k = 0; k < PROM_HISTS; k++) {
        const prom_hist *h = &st->srv_last[k];
        if (h->n == 0)
            continue;
        cJSON *arr = cJSON_AddArrayToObject(o, prom_hist_name((prom_hist_kind)k));
        for (int i = 0; i < h->n; i++)
            cJSON_AddItemToArray(arr, cJSON_CreateNumber(h->le[i] * 1000.0));
    }
    return o;
}

/* STEP.server: the server's own figures and where they come from; null without a source. */
static cJSON *server_json(const stats_agg *a)
{
    const char *src = stats_srv_source_name(a->srv_source);
    if (!src)
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "source", src);
    cJSON_AddStringToObject(o, "resolution",
                            a->srv_source == STATS_SRV_TIMINGS
                                ? "per request, 1 us (llama.cpp timings)"
                                : "the server's histogram buckets (counts spread evenly inside "
                                  "each bucket): see the snapshot's server_metrics.buckets_ms");
    add_count(o, "requests", a->srv_timed);
    static const struct {
        const char *key;
        stats_metric m;
    } rows[] = {{"ttft_ms", STATS_SRV_TTFT},
                {"e2e_ms", STATS_SRV_E2E},
                {"queue_ms", STATS_SRV_QUEUE},
                {"prefill_ms", STATS_SRV_PREFILL},
                {"decode_ms_per_token", STATS_SRV_DECODE},
                {"itl_ms", STATS_SRV_ITL}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        cJSON_AddItemToObject(o, rows[i].key,
                              a->h[rows[i].m].total ? summary_json(a, rows[i].m)
                                                    : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "tokens", server_tokens_json(a));
    return o;
}

/* client - server of one percentile column (NaN when either is missing), and the width of
 * the server bucket each server percentile fell in: a difference smaller than that is
 * within the histogram's resolution, not an overhead. */
static cJSON *overhead_diff_json(const stats_agg *a, stats_metric client, stats_metric server,
                                 prom_hist_kind k)
{
    static const struct {
        const char *name;
        double p;
    } cols[] = {{"p50", 50}, {"p90", 90}, {"p99", 99}};
    cJSON *o = cJSON_CreateObject();
    cJSON *res = cJSON_CreateObject();
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        add_number(o, cols[i].name,
                   stats_agg_value(a, client, cols[i].p) - stats_agg_value(a, server, cols[i].p));
        add_number(res, cols[i].name, stats_agg_server_resolution(a, k, cols[i].p));
    }
    cJSON_AddItemToObject(o, "resolution_ms", res);
    return o;
}

/* STEP.client_overhead_ms: per request with timings, else a difference of percentiles of
 * the client's and the server's histograms (method says which); null without a source. */
static cJSON *overhead_json(const stats_agg *a)
{
    if (a->srv_source == STATS_SRV_NONE)
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    if (a->srv_source == STATS_SRV_TIMINGS) {
        cJSON_AddStringToObject(o, "method", "per_request");
        cJSON_AddItemToObject(o, "e2e", summary_json(a, STATS_OVH_E2E));
        cJSON_AddItemToObject(o, "ttft", summary_json(a, STATS_OVH_TTFT));
        return o;
    }
    cJSON_AddStringToObject(o, "method", "difference_of_percentiles");
    cJSON_AddItemToObject(o, "e2e", overhead_diff_json(a, STATS_E2E, STATS_SRV_E2E, PROM_H_E2E));
    cJSON_AddItemToObject(o, "ttft",
                          overhead_diff_json(a, STATS_TTFT, STATS_SRV_TTFT, PROM_H_TTFT));
    return o;
}

/* {unit, buckets: [[low, high, count], ...]} with only the non-empty buckets; a bucket
 * holds [low, high). */
static cJSON *hist_json(const hist *h, const char *unit)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "unit", unit);
    add_count(o, "overflow", h->overflow);
    cJSON *b = cJSON_AddArrayToObject(o, "buckets");
    for (size_t i = 0; h->total && i < HIST_BUCKETS; i++) {
        if (!h->counts[i])
            continue;
        double row[3] = {(double)hist_bucket_low(i), (double)hist_bucket_high(i),
                         (double)h->counts[i]};
        cJSON_AddItemToArray(b, cJSON_CreateDoubleArray(row, 3));
    }
    return o;
}

/* Achieved load: a step whose mean in-flight missed its target by more than 5 % says so. */
static cJSON *achieved_json(const stats_agg *a)
{
    cJSON *o = cJSON_CreateObject();
    double inflight = stats_agg_mean_inflight(a), target = stats_agg_mean_target(a);
    add_number(o, "mean_inflight", inflight);
    add_number(o, "mean_target", target);
    bool known = !isnan(inflight) && target > 0;
    add_number(o, "ratio", known ? inflight / target : NAN);
    bool missed = known && inflight < 0.95 * target;
    if (a->rate > 0) { /* open loop: the target is a rate, the in-flight count a cap */
        double sent = stats_agg_send_rate(a);
        add_number(o, "rate", sent);
        missed = !isnan(sent) && sent < 0.95 * a->rate;
    }
    cJSON_AddBoolToObject(o, "missed_target", missed);
    return o;
}

cJSON *snapshot_step_json(const stats_agg *a, const char *key)
{
    cJSON *s = cJSON_CreateObject();
    add_count(s, "concurrency", a->concurrency);
    if (a->rate > 0)
        add_number(s, "rate", a->rate);
    /* not rounded: RPS and TPS are the window's counts over it, for a reader (merge) too */
    cJSON_AddNumberToObject(s, "duration_s", stats_agg_window_s(a));
    cJSON_AddStringToObject(s, "test", test_kind_name((llm_test_kind)a->test));
    cJSON_AddBoolToObject(s, "manual", a->manual);
    add_count(s, "plan_step", a->plan_index);
    cJSON_AddBoolToObject(s, "cut_short", a->cut_short);
    cJSON *w = cJSON_AddObjectToObject(s, "window");
    add_number(w, "output_tokens", stats_agg_window_tokens(a));
    add_count(w, "content_events", a->win_events);
    add_count(w, "completed", a->win_ok);
    add_count(w, "slo_met", a->win_slo_met);
    add_count(s, "reconnects", a->reconnects);
    add_number(s, "reconnect_lost_ms", (double)a->reconnect_lost_us / 1000.0);
    cJSON_AddItemToObject(s, "requests", requests_json(a));
    cJSON_AddItemToObject(s, "error_messages", error_messages_json(a, key));
    cJSON_AddItemToObject(s, "tokens", tokens_json(a));
    cJSON_AddItemToObject(s, "cache", cache_json(a));
    cJSON *turns = turns_json(a);
    if (turns) {
        cJSON_AddItemToObject(s, "turns", turns);
        /* conversations that ended before their last turn: the history outgrew its buffer */
        add_count(s, "turns_history_overflow", a->history_overflow);
    }
    add_number(s, "rps", stats_agg_rps(a));
    add_number(s, "tps", stats_agg_tps(a));
    add_count(s, "slo_met", a->slo_met);
    add_number(s, "goodput_rps", stats_agg_goodput(a));
    cJSON_AddItemToObject(s, "achieved", achieved_json(a));
    add_number(s, "client_cpu_max_pct", a->client_cpu_max > 0 ? a->client_cpu_max : NAN);
    add_number(s, "server_waiting_max", a->server_waiting_max);
    cJSON_AddItemToObject(s, "server", server_json(a));
    cJSON_AddItemToObject(s, "client_overhead_ms", overhead_json(a));
    for (int m = 0; m < STATS_METRICS; m++)
        cJSON_AddItemToObject(s, stats_metric_key((stats_metric)m), summary_json(a, m));
    /* The step's per-stream speed: tokens after the first / decode time, summed (§4). */
    cJSON *ps = cJSON_GetObjectItem(s, "per_stream_tps");
    add_number(ps, "ratio", stats_agg_per_stream_tps(a));
    add_count(ps, "decode_tokens", a->decode_tokens);
    cJSON_AddNumberToObject(ps, "decode_s", (double)a->decode_ns / 1e9);
    cJSON *h = cJSON_AddObjectToObject(s, "histograms");
    for (int m = 0; m < STATS_METRICS; m++)
        cJSON_AddItemToObject(h, stats_metric_key((stats_metric)m),
                              hist_json(&a->h[m], stats_metric_hist_unit((stats_metric)m)));
    return s;
}

/* ---- series ---- */

/* The GPUs in second t: [{"index", "name", "util_pct", "mem_used_mb", "mem_total_mb",
 * "temp_c", "power_w"}, ...]; NULL when there is no GPU or no reading yet. */
static cJSON *row_gpu_json(const gpuhist *g, uint32_t t)
{
    long row = g && g->n_dev ? gpuhist_row_at(g, t) : -1;
    if (row < 0)
        return NULL;
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < g->n_dev; i++) {
        gpumon_figures f;
        gpuhist_get(g, (size_t)row, i, &f);
        cJSON *o = cJSON_CreateObject();
        add_count(o, "index", (uint64_t)g->dev[i].index);
        cJSON_AddStringToObject(o, "name", g->dev[i].name);
        add_number(o, "util_pct", f.util_pct);
        add_number(o, "mem_used_mb", f.mem_used_mb);
        add_number(o, "mem_total_mb", f.mem_total_mb);
        add_number(o, "temp_c", f.temp_c);
        add_number(o, "power_w", f.power_w);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static cJSON *row_json(const stats *st, const stats_row *r)
{
    cJSON *o = cJSON_CreateObject();
    add_count(o, "t", r->t);
    add_number(o, "target", r->target >= 0 ? (double)r->target : NAN);
    add_number(o, "inflight", r->inflight >= 0 ? (double)r->inflight : NAN);
    add_count(o, "rps", r->rps);
    add_count(o, "tps", r->tps);
    add_number(o, "ttft_p50_ms", r->ttft_p50_ms);
    add_number(o, "ttft_p99_ms", r->ttft_p99_ms);
    add_count(o, "errors", r->errors);
    add_number(o, "cpu_pct", r->cpu_pct);
    add_number(o, "temp_c", r->temp_c);
    add_number(o, "server_running", r->server_running);
    add_number(o, "server_waiting", r->server_waiting);
    add_number(o, "server_kv_pct", r->server_kv_pct);
    cJSON *gpu = row_gpu_json(st->gpu, r->t);
    if (gpu)
        cJSON_AddItemToObject(o, "gpu", gpu);
    return o;
}

static cJSON *series_json(const stats *st)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < st->n_series; i++)
        cJSON_AddItemToArray(a, row_json(st, &st->series[i]));
    return a;
}

/* Writes the series array row by row: a soak's series holds up to 86,400 rows, and a tree
 * of them (about 1 KB a row) would be rebuilt at every autosave. */
static int series_stream(FILE *f, const stats *st)
{
    char row[8192]; /* a row with 16 GPUs takes about 3 KB */
    if (fputc('[', f) == EOF)
        return errno ? errno : EIO;
    for (size_t i = 0; i < st->n_series; i++) {
        cJSON *o = row_json(st, &st->series[i]);
        bool ok = o && cJSON_PrintPreallocated(o, row, (int)sizeof row, 0);
        cJSON_Delete(o);
        if (!ok)
            return ENOMEM;
        if ((i > 0 && fputc(',', f) == EOF) || fputs(row, f) == EOF)
            return errno ? errno : EIO;
    }
    return fputc(']', f) == EOF ? (errno ? errno : EIO) : 0;
}

/* {"devices": [{"index", "name", "vendor"}], "max_temp_c", "max_power_w", "max_util_pct",
 * "throttling_seen"}, or null when the machine has no GPU llmload can read. */
static cJSON *gpu_json(const gpuhist *g)
{
    if (!g || g->n_dev == 0)
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    cJSON *devs = cJSON_AddArrayToObject(o, "devices");
    for (int i = 0; i < g->n_dev; i++) {
        cJSON *d = cJSON_CreateObject();
        add_count(d, "index", (uint64_t)g->dev[i].index);
        cJSON_AddStringToObject(d, "name", g->dev[i].name);
        cJSON_AddStringToObject(d, "vendor", gpu_vendor_name(g->dev[i].vendor));
        cJSON_AddItemToArray(devs, d);
    }
    add_number(o, "max_temp_c", g->max_temp_c);
    add_number(o, "max_power_w", g->max_power_w);
    add_number(o, "max_util_pct", g->max_util_pct);
    cJSON_AddBoolToObject(o, "throttling_seen", g->throttling_seen);
    return o;
}

/* ---- analysis ---- */

static cJSON *slo_verdict_json(const stats *st, const llm_slo *s)
{
    cJSON *o = cJSON_CreateObject();
    double met = NAN;
    if (st->search) {
        search_state ss;
        analysis_search(st, &ss);
        met = ss.best > 0 ? ss.best : NAN;
    } else {
        for (size_t i = 0; i < st->n_steps && analysis_step_meets_slo(&st->steps[i], s); i++)
            met = st->steps[i].rate > 0 ? st->steps[i].rate : st->steps[i].concurrency;
    }
    add_number(o, "met_up_to", met);
    add_number(o, "goodput_rps", stats_agg_goodput(&st->totals));
    cJSON_AddStringToObject(o, "basis", "p99 per step");
    /* the run as a whole, as --fail-on-slo judges it, in one sentence with its numbers */
    char why[ANALYSIS_TEXT];
    cJSON_AddBoolToObject(o, "met", analysis_slo_verdict(&st->totals, s, why, sizeof why));
    cJSON_AddStringToObject(o, "verdict", why);
    return o;
}

/* {"concurrency" | "rate": load, "reason"} or null */
static void add_load(cJSON *a, const char *name, const analysis_load *l, bool rate, const char *key)
{
    if (!l->found) {
        cJSON_AddNullToObject(a, name);
        return;
    }
    cJSON *o = cJSON_AddObjectToObject(a, name);
    cJSON_AddNumberToObject(o, rate ? "rate" : "concurrency", l->load);
    add_string(o, "reason", l->reason, key);
}

cJSON *snapshot_analysis_json(const stats *st, const llm_config *cfg)
{
    cJSON *a = cJSON_CreateObject();
    analysis an;
    analysis_run(st, &an);
    if (an.has_knee) {
        cJSON *k = cJSON_AddObjectToObject(a, "knee");
        cJSON_AddNumberToObject(k, an.knee_is_rate ? "rate" : "concurrency", an.knee_load);
        add_string(k, "reason", an.knee_reason, cfg->api_key);
        if (an.knee_kind)
            cJSON_AddStringToObject(k, "kind", an.knee_kind);
    } else {
        cJSON_AddNullToObject(a, "knee");
    }
    add_load(a, "throughput_knee", &an.throughput_knee, an.knee_is_rate, cfg->api_key);
    add_load(a, "latency_knee", &an.latency_knee, an.knee_is_rate, cfg->api_key);
    add_load(a, "best_load", &an.best_load, an.knee_is_rate, cfg->api_key);
    if (st->search) {
        search_state ss;
        analysis_search(st, &ss);
        cJSON *o = cJSON_AddObjectToObject(a, "search");
        cJSON_AddStringToObject(o, "load", ss.rate ? "rate" : "concurrency");
        add_number(o, "best", ss.best > 0 ? ss.best : NAN);
        add_number(o, "first_miss", ss.first_miss > 0 ? ss.first_miss : NAN);
        add_count(o, "steps", ss.steps);
        cJSON_AddBoolToObject(o, "finished", ss.done);
    } else {
        cJSON_AddNullToObject(a, "search");
    }
    if (llm_slo_given(&cfg->slo))
        cJSON_AddItemToObject(a, "slo", slo_verdict_json(st, &cfg->slo));
    else
        cJSON_AddNullToObject(a, "slo");
    cJSON *f = cJSON_AddArrayToObject(a, "findings");
    /* Findings may quote a server's error message: the key is redacted as everywhere. */
    for (size_t i = 0; i < an.n_findings; i++) {
        char *safe = redact(an.findings[i], cfg->api_key);
        if (safe)
            cJSON_AddItemToArray(f, cJSON_CreateString(safe));
        free(safe);
    }
    return a;
}

/* ---- the document ---- */

/* --repeat K: each repeated setting's mean and sample standard deviation. */
static cJSON *repeats_json(const stats *st)
{
    static const char *const names[4] = {"rps", "tps", "ttft_p50_ms", "e2e_p50_ms"};
    cJSON *arr = cJSON_CreateArray();
    size_t n = stats_repeats(st, NULL, 0);
    stats_repeat *groups = n ? calloc(n, sizeof *groups) : NULL;
    if (!groups)
        return arr;
    stats_repeats(st, groups, n);
    for (size_t i = 0; i < n; i++) {
        const stats_repeat *g = &groups[i];
        if (g->n < 2)
            continue;
        cJSON *o = cJSON_CreateObject();
        add_count(o, "first_step", g->first_step);
        add_count(o, "steps", g->n);
        add_count(o, "concurrency", g->concurrency);
        if (g->rate > 0)
            add_number(o, "rate", g->rate);
        cJSON_AddStringToObject(o, "test", test_kind_name((llm_test_kind)g->test));
        for (int f = 0; f < 4; f++) {
            cJSON *fig = cJSON_AddObjectToObject(o, names[f]);
            add_number(fig, "mean", g->mean[f]);
            add_number(fig, "sd", g->sd[f]);
        }
        cJSON_AddItemToArray(arr, o);
    }
    free(groups);
    return arr;
}

/* SERIES_MARK stands in for the series when it is streamed: a control character never
 * appears unescaped in printed JSON, so the mark is found exactly once. */
#define SERIES_MARK "\x01"

static cJSON *build(const stats *st, const llm_config *cfg, time_t started, time_t ended,
                    uint64_t lost_events, bool series_inline)
{
    const char *key = cfg->api_key && cfg->api_key[0] ? cfg->api_key : NULL;
    cJSON *d = cJSON_CreateObject();
    if (!d)
        return NULL;
    cJSON_AddStringToObject(d, "schema", SNAPSHOT_SCHEMA);
    snapshot_add_tool(d);
    add_time(d, "started_at", started);
    add_time(d, "ended_at", ended);
    cJSON_AddItemToObject(d, "config", config_json(cfg, st));
    cJSON *steps = cJSON_AddArrayToObject(d, "steps");
    for (size_t i = 0; i < st->n_steps; i++) {
        cJSON *step = snapshot_step_json(&st->steps[i], key);
        add_number(step, "efficiency", stats_efficiency(st, &st->steps[i]));
        cJSON_AddItemToArray(steps, step);
    }
    cJSON_AddItemToObject(d, "totals", snapshot_step_json(&st->totals, key));
    cJSON_AddItemToObject(d, "repeats", repeats_json(st));
    if (series_inline)
        cJSON_AddItemToObject(d, "series", series_json(st));
    else
        cJSON_AddRawToObject(d, "series", SERIES_MARK);
    add_count(d, "series_dropped", st->series_dropped);
    cJSON_AddItemToObject(d, "analysis", snapshot_analysis_json(st, cfg));
    cJSON *srv = cJSON_AddObjectToObject(d, "server_metrics");
    if (st->server_engine)
        cJSON_AddStringToObject(srv, "engine", st->server_engine);
    else
        cJSON_AddNullToObject(srv, "engine");
    add_string(srv, "note", st->server_note[0] ? st->server_note : NULL, key);
    cJSON_AddItemToObject(srv, "buckets_ms", server_buckets_json(st));
    cJSON_AddItemToObject(d, "gpu", gpu_json(st->gpu));
    if (st->prompt_calib_method) {
        cJSON *pc = cJSON_AddObjectToObject(d, "prompt_calibration");
        cJSON_AddStringToObject(pc, "method", st->prompt_calib_method);
        add_number(pc, "chars", (double)st->prompt_calib_chars);
        add_number(pc, "measured_tokens",
                   st->prompt_calib_measured >= 0 ? (double)st->prompt_calib_measured : NAN);
        add_string(pc, "note", st->prompt_calib_note, key);
    } else {
        cJSON_AddNullToObject(d, "prompt_calibration");
    }
    add_count(d, "lost_events", lost_events);
    add_count(d, "warmup_requests", st->warmup_ok);
    /* a stopped run must not look finished; an autosave says it is not the last word */
    cJSON_AddBoolToObject(d, "interrupted", st->interrupted);
    add_string(d, "stop_reason", st->stop_reason[0] ? st->stop_reason : NULL, key);
    if (st->stop_signal)
        add_count(d, "stop_signal", (uint64_t)st->stop_signal);
    cJSON_AddBoolToObject(d, "partial", st->partial);
    return d;
}

cJSON *snapshot_build(const stats *st, const llm_config *cfg, time_t started, time_t ended,
                      uint64_t lost_events)
{
    return build(st, cfg, started, ended, lost_events, true);
}

/* ---- streamed output ---- */

typedef struct {
    const stats *st;
    const char *text; /* the document with SERIES_MARK where the series goes */
} emit_args;

static int emit(FILE *f, const emit_args *a)
{
    const char *mark = strstr(a->text, SERIES_MARK);
    size_t head = mark ? (size_t)(mark - a->text) : strlen(a->text);
    if (fwrite(a->text, 1, head, f) != head)
        return errno ? errno : EIO;
    if (!mark)
        return 0;
    int e = series_stream(f, a->st);
    if (e)
        return e;
    return fputs(mark + 1, f) == EOF ? (errno ? errno : EIO) : 0;
}

/* The document without its series, printed; NULL when out of memory. */
static char *print_head(const stats *st, const llm_config *cfg, time_t started, time_t ended,
                        uint64_t lost_events)
{
    cJSON *doc = build(st, cfg, started, ended, lost_events, false);
    char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    return text;
}

int snapshot_print(FILE *f, const stats *st, const llm_config *cfg, time_t started, time_t ended,
                   uint64_t lost_events)
{
    char *text = print_head(st, cfg, started, ended, lost_events);
    if (!text)
        return ENOMEM;
    emit_args a = {st, text};
    int e = emit(f, &a);
    cJSON_free(text);
    return e;
}

/* ---- atomic write (base/fileout) ---- */

static int fail(char *err, size_t errlen, const char *path, int e)
{
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
    return -1;
}

static int emit_line(FILE *f, void *arg)
{
    int e = emit(f, arg);
    return !e && fputc('\n', f) == EOF ? (errno ? errno : EIO) : e;
}

int snapshot_write(const char *path, const stats *st, const llm_config *cfg, time_t started,
                   time_t ended, uint64_t lost_events, char *err, size_t errlen)
{
    char *text = print_head(st, cfg, started, ended, lost_events);
    if (!text)
        return fail(err, errlen, path, ENOMEM);
    emit_args a = {st, text};
    int rc = llm_write_file_atomic(path, emit_line, &a, err, errlen);
    cJSON_free(text);
    return rc;
}

/* mkdir -p; returns 0 or -1 with errno set. */
int snapshot_make_dirs(const char *dir)
{
    char tmp[PATH_MAX];
    llm_strlcpy(tmp, dir, sizeof tmp);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* out_dir/llmload-YYYYmmdd-HHMMSS[-final][-N] without the extension, not yet taken. */
void snapshot_name(const char *dir, bool final, char *out, size_t cap)
{
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y%m%d-%H%M%S", &tm);
    for (int i = 1; i < 100; i++) {
        char suffix[8] = "";
        if (i > 1)
            snprintf(suffix, sizeof suffix, "-%d", i);
        snprintf(out, cap, "%s/llmload-%s%s%s", dir, ts, final ? "-final" : "", suffix);
        char json[PATH_MAX];
        snprintf(json, sizeof json, "%s.json", out);
        if (access(json, F_OK) != 0)
            return;
    }
}
