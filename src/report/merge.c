/* merge: `llmload merge A.json B.json ... -o ALL.json [--force]` — one snapshot from runs
 * made one after another (the seeds' loop runs one concurrency per process), read through
 * report/snapread. Every file's steps as written, in order; totals added up from each
 * file's totals (histograms bucket by bucket, counts, and the windows: the runs' durations
 * follow each other, never a span rebuilt from timestamps); the series end to end; the
 * analysis of the whole (a single file's own analysis as written). */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/util.h"
#include "core/snapshot.h"
#include "report/report.h"
#include "base/fileout.h"
#include "config/cli_scale.h"

#define T_BASE_NS LLM_NS_PER_SEC
#define SNAP_ROW_FIELDS                                                                            \
    9 /* the series keys a merge of shards adds up */ /* stats spans need t_first != 0 */

/* ---- refusals ---- */

/* The same file given twice (same path, or same device and inode) counts a run twice. */
static const char *file_twice(const llm_config *cfg, const char **other)
{
    struct stat a, b;
    for (size_t i = 0; i < cfg->n_files; i++) {
        bool si = stat(cfg->files[i], &a) == 0;
        for (size_t k = i + 1; k < cfg->n_files; k++) {
            bool same = strcmp(cfg->files[i], cfg->files[k]) == 0 ||
                        (si && stat(cfg->files[k], &b) == 0 && a.st_dev == b.st_dev &&
                         a.st_ino == b.st_ino);
            if (same) {
                *other = cfg->files[k];
                return cfg->files[i];
            }
        }
    }
    return NULL;
}

static int refuse_twice(const llm_config *cfg)
{
    const char *other = NULL, *first = file_twice(cfg, &other);
    if (!first || cfg->force)
        return 0;
    fprintf(stderr,
            "llmload: %s and %s are the same file: merging it twice counts its run twice; give "
            "each snapshot once (--force merges anyway)\n",
            first, other);
    return -1;
}

/* The differing values, for a field that holds no credentials (not the URL). */
static void config_values(const snap_doc *a, const snap_doc *b, const char *field, char *out,
                          size_t cap)
{
    const char *va = NULL, *vb = NULL;
    if (strcmp(field, "config.model") == 0) {
        va = a->config.model;
        vb = b->config.model;
    } else if (strcmp(field, "config.endpoint") == 0) {
        va = a->config.endpoint;
        vb = b->config.endpoint;
    } else if (strcmp(field, "config.plan.kind") == 0) {
        va = a->config.plan;
        vb = b->config.plan;
    } else {
        out[0] = '\0';
        return;
    }
    snprintf(out, cap, " (%s, %s)", va ? va : "none", vb ? vb : "none");
}

/* Runs of different targets, models, endpoints or plans do not add up to one run. */
static int refuse_mixed(const snap_doc *docs, size_t n, bool force)
{
    for (size_t i = 1; i < n && !force; i++) {
        const char *field = snap_config_differs(&docs[0], &docs[i]);
        if (!field)
            continue;
        char values[160];
        config_values(&docs[0], &docs[i], field, values, sizeof values);
        fprintf(stderr,
                "llmload: %s and %s differ in %s%s: they are not runs of the same test, and "
                "their figures would not add up to one (--force merges anyway)\n",
                docs[0].path, docs[i].path, field, values);
        return -1;
    }
    return 0;
}

/* ---- small JSON helpers (the writer's number format: 3 decimals, null for none) ---- */

static void add_number(cJSON *o, const char *name, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, name, round(v * 1000.0) / 1000.0);
    else
        cJSON_AddNullToObject(o, name);
}

/* ---- totals: the runs' figures added up ---- */

/* The whole run of each file: its totals, or its steps when it has none. */
typedef struct {
    const snap_step **part;
    size_t n;
    bool parallel; /* shards of one run: the parts ran at the same time, side by side */
} parts;

static int collect_parts(const snap_doc *docs, size_t n, parts *p)
{
    size_t cap = 0;
    for (size_t i = 0; i < n; i++)
        cap += docs[i].has_totals ? 1 : docs[i].n_steps;
    p->n = 0;
    if (!(p->part = calloc(cap ? cap : 1, sizeof *p->part)))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (docs[i].has_totals)
            p->part[p->n++] = &docs[i].totals;
        else
            for (size_t k = 0; k < docs[i].n_steps; k++)
                p->part[p->n++] = &docs[i].steps[k];
    }
    return 0;
}

#define FIELD(s, off) (*(const double *)((const char *)(s) + (off)))

/* Sum of a field over the parts that have it; NaN when none has it. */
static double sum_of(const parts *p, size_t off)
{
    double sum = NAN;
    for (size_t i = 0; i < p->n; i++) {
        double v = FIELD(p->part[i], off);
        if (isfinite(v))
            sum = isnan(sum) ? v : sum + v;
    }
    return sum;
}

static double max_of(const parts *p, size_t off)
{
    double max = NAN;
    for (size_t i = 0; i < p->n; i++) {
        double v = FIELD(p->part[i], off);
        if (isfinite(v) && !(max >= v))
            max = v;
    }
    return max;
}

/* A per-second figure over the whole: weighted by each part's duration. */
static double per_duration(const parts *p, size_t off)
{
    double sum = 0, dur = 0;
    for (size_t i = 0; i < p->n; i++) {
        double v = FIELD(p->part[i], off), d = p->part[i]->duration_s;
        if (isfinite(v) && isfinite(d)) {
            sum += v * d;
            dur += d;
        }
    }
    return dur > 0 ? sum / dur : NAN;
}

static double ratio(double a, double b)
{
    return isfinite(a) && isfinite(b) && b > 0 ? a / b : NAN;
}

#define SUM(p, f) sum_of(p, offsetof(snap_step, f))
#define MAX(p, f) max_of(p, offsetof(snap_step, f))

static void requests_json(cJSON *s, const parts *p)
{
    cJSON *r = cJSON_AddObjectToObject(s, "requests");
    add_number(r, "ok", SUM(p, ok));
    add_number(r, "failed", SUM(p, failed));
    cJSON *e = cJSON_AddObjectToObject(r, "errors");
    cJSON *m = cJSON_AddObjectToObject(s, "error_messages");
    for (int c = 0; c < ERR_CLASSES; c++) {
        add_number(e, err_class_name((err_class)c), SUM(p, errors[c]));
        const char *last = NULL; /* the last message of the class, as in one run */
        for (size_t i = 0; i < p->n; i++)
            last = p->part[i]->error_messages[c] ? p->part[i]->error_messages[c] : last;
        if (last)
            cJSON_AddStringToObject(m, err_class_name((err_class)c), last);
    }
}

static void tokens_json(cJSON *s, const parts *p)
{
    cJSON *t = cJSON_AddObjectToObject(s, "tokens");
    double usage_events = 0;
    bool estimated = false;
    for (size_t i = 0; i < p->n; i++) {
        estimated = estimated || p->part[i]->estimated;
        double e = ratio(p->part[i]->usage_tokens, p->part[i]->tokens_per_event);
        usage_events += isfinite(e) ? e : 0;
    }
    add_number(t, "output", SUM(p, output_tokens));
    add_number(t, "prompt", SUM(p, prompt_tokens));
    cJSON_AddBoolToObject(t, "estimated", estimated);
    add_number(t, "content_events", SUM(p, content_events));
    add_number(t, "usage_tokens", SUM(p, usage_tokens));
    add_number(t, "tokens_per_event", ratio(SUM(p, usage_tokens), usage_events));
    add_number(t, "asked_output", SUM(p, asked_output));
    add_number(t, "ended_early", SUM(p, ended_early));
    add_number(t, "ended_early_share", ratio(SUM(p, ended_early), SUM(p, asked_output)));
}

/* The prefix cache: counts add up; the hit share is recomputed from them. */
static void cache_json(cJSON *s, const parts *p)
{
    cJSON *c = cJSON_AddObjectToObject(s, "cache");
    add_number(c, "hit_share", ratio(SUM(p, cache_hits), SUM(p, cache_reported)));
    add_number(c, "cached_tokens", SUM(p, cached_tokens));
    add_number(c, "hits", SUM(p, cache_hits));
    add_number(c, "reported", SUM(p, cache_reported));
}

/* --turns: per turn, requests add up and each mean is weighted by its part's requests. */
static void turns_json(cJSON *s, const parts *p)
{
    cJSON *arr = NULL;
    for (size_t k = 0; k < SNAP_TURNS; k++) {
        double n = 0, ttft = 0, prompt = 0, cached = 0, turn = NAN;
        for (size_t i = 0; i < p->n; i++) {
            const snap_step *part = p->part[i];
            for (size_t j = 0; j < part->n_turns; j++) {
                const snap_turn *t = &part->turns[j];
                if (t->turn != (double)(k + 1) || !(t->requests > 0))
                    continue;
                turn = t->turn;
                n += t->requests;
                ttft += t->ttft_mean_ms * t->requests;
                prompt += t->prompt_tokens_mean * t->requests;
                cached += t->cached_tokens_mean * t->requests;
            }
        }
        if (!(n > 0))
            continue;
        if (!arr)
            arr = cJSON_AddArrayToObject(s, "turns");
        cJSON *o = cJSON_CreateObject();
        add_number(o, "turn", turn);
        add_number(o, "requests", n);
        add_number(o, "ttft_mean_ms", ttft / n);
        add_number(o, "prompt_tokens_mean", prompt / n);
        add_number(o, "cached_tokens_mean", cached / n);
        cJSON_AddItemToArray(arr, o);
    }
    if (arr) /* conversations cut short by their history's buffer add up too */
        add_number(s, "turns_history_overflow", SUM(p, turns_history_overflow));
}

/* Send rate over the whole: every part's gaps between sends over the sum of its sending
 * spans (the pause between two runs is no gap of the load). */
static double send_rate(const parts *p)
{
    double gaps = 0, span = 0;
    for (size_t i = 0; i < p->n; i++) {
        const snap_step *s = p->part[i];
        double n = (isfinite(s->ok) ? s->ok : 0) + (isfinite(s->failed) ? s->failed : 0);
        if (!(s->send_rate > 0) || n < 2)
            continue;
        gaps += n - 1;
        span += (n - 1) / s->send_rate;
    }
    return ratio(gaps, span);
}

static void achieved_json(cJSON *s, const parts *p, double rate)
{
    cJSON *o = cJSON_AddObjectToObject(s, "achieved");
    /* side by side, the workers' loads add up; one after another, they average */
    double inflight =
        p->parallel ? SUM(p, mean_inflight) : per_duration(p, offsetof(snap_step, mean_inflight));
    double target =
        p->parallel ? SUM(p, mean_target) : per_duration(p, offsetof(snap_step, mean_target));
    add_number(o, "mean_inflight", inflight);
    add_number(o, "mean_target", target);
    bool known = isfinite(inflight) && target > 0;
    add_number(o, "ratio", known ? inflight / target : NAN);
    bool missed = known && inflight < 0.95 * target;
    if (rate > 0) { /* open loop: as the writer, the target is a rate */
        double sent = p->parallel ? SUM(p, send_rate) : send_rate(p);
        add_number(o, "rate", sent);
        missed = isfinite(sent) && sent < 0.95 * rate;
    }
    cJSON_AddBoolToObject(o, "missed_target", missed);
}

/* Per-stream TPS as a ratio of sums (decode tokens / decode time): each part's ratio
 * weighted by its decode tokens (tokens after the first of its successful requests). */
static double stream_ratio(const parts *p)
{
    double tokens = 0, time = 0;
    for (size_t i = 0; i < p->n; i++) {
        const snap_step *s = p->part[i];
        double r = s->m[STATS_PER_STREAM_TPS].ratio, w = s->output_tokens - s->ok;
        if (isfinite(r) && r > 0 && isfinite(w) && w > 0) {
            tokens += w;
            time += w / r;
        }
    }
    return ratio(tokens, time);
}

static void metric_json(cJSON *s, cJSON *hists, const parts *p, stats_metric m)
{
    hist h, one;
    hist_init(&h);
    bool any = false, all_min = p->n > 0;
    double min = INFINITY;
    for (size_t i = 0; i < p->n; i++) {
        snap_hist_build(p->part[i], m, &one);
        hist_add(&h, &one);
        any = any || p->part[i]->h[m].present;
        double v = p->part[i]->m[m].min;
        all_min = all_min && (isfinite(v) || one.total == 0);
        if (isfinite(v) && one.total && v < min)
            min = v;
    }
    cJSON *o = cJSON_AddObjectToObject(s, stats_metric_key(m));
    bool empty = h.total == 0;
    cJSON_AddNumberToObject(o, "count", (double)h.total);
    add_number(o, "mean", empty ? NAN : hist_mean(&h) / stats_metric_scale(m));
    if (all_min && isfinite(min)) /* only when every part had its exact minimum */
        add_number(o, "min", min);
    static const struct {
        const char *name;
        double p;
    } cols[] = {{"p50", 50}, {"p90", 90}, {"p95", 95}, {"p99", 99}, {"p999", 99.9}, {"max", 100}};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        add_number(o, cols[i].name,
                   empty ? NAN : (double)hist_percentile(&h, cols[i].p) / stats_metric_scale(m));
    if (m == STATS_PER_STREAM_TPS && isfinite(stream_ratio(p)))
        add_number(o, "ratio", stream_ratio(p));
    if (!any)
        return;
    cJSON *hj = cJSON_AddObjectToObject(hists, stats_metric_key(m));
    cJSON_AddStringToObject(hj, "unit", stats_metric_hist_unit(m));
    cJSON_AddNumberToObject(hj, "overflow", (double)h.overflow);
    cJSON *b = cJSON_AddArrayToObject(hj, "buckets");
    for (size_t i = 0; !empty && i < HIST_BUCKETS; i++) {
        if (!h.counts[i])
            continue;
        double row[3] = {(double)hist_bucket_low(i), (double)hist_bucket_high(i),
                         (double)h.counts[i]};
        cJSON_AddItemToArray(b, cJSON_CreateDoubleArray(row, 3));
    }
}

static bool any_flag(const parts *p, size_t off)
{
    for (size_t i = 0; i < p->n; i++)
        if (*(const bool *)((const char *)p->part[i] + off))
            return true;
    return false;
}

/* The window figures: duration, what completed and arrived inside it, and the rates. */
static void window_json(cJSON *s, const parts *p)
{
    double tokens = NAN, completed = NAN;
    for (size_t i = 0; i < p->n; i++) {
        double t = snap_window_tokens(p->part[i]), c = snap_window_completed(p->part[i]);
        if (isfinite(t))
            tokens = isnan(tokens) ? t : tokens + t;
        if (isfinite(c))
            completed = isnan(completed) ? c : completed + c;
    }
    /* one after another the windows follow each other; side by side (shards that started
     * together) they overlap, and the run's window is the longest of them */
    double dur = p->parallel ? MAX(p, duration_s) : SUM(p, duration_s);
    add_number(s, "duration_s", dur);
    cJSON *w = cJSON_AddObjectToObject(s, "window");
    add_number(w, "output_tokens", tokens);
    add_number(w, "completed", completed);
    add_number(s, "rps", ratio(completed, dur));
    add_number(s, "tps", ratio(tokens, dur));
    double good = per_duration(p, offsetof(snap_step, goodput_rps));
    if (p->parallel) /* SLO-met completions of every worker over the common window */
        good = ratio(good * SUM(p, duration_s), dur);
    add_number(s, "goodput_rps", good);
}

/* STEP.server and client_overhead_ms of the merged totals (issue 13): the first part's
 * source (its percentiles are the server_* keys, merged from the histograms like every
 * metric), the tokens each side counted added up over the parts with that source. */
static void server_json(cJSON *s, const parts *p)
{
    const char *src = NULL;
    double srv = 0, cli = 0;
    for (size_t i = 0; i < p->n; i++) {
        const snap_step *x = p->part[i];
        if (!x->srv_source || (src && strcmp(src, x->srv_source) != 0))
            continue;
        src = x->srv_source;
        srv += isfinite(x->srv_tokens) ? x->srv_tokens : 0;
        cli += isfinite(x->srv_client_tokens) ? x->srv_client_tokens : 0;
    }
    if (!src) {
        cJSON_AddNullToObject(s, "server");
        cJSON_AddNullToObject(s, "client_overhead_ms");
        return;
    }
    cJSON *o = cJSON_AddObjectToObject(s, "server");
    cJSON_AddStringToObject(o, "source", src);
    cJSON *t = cJSON_AddObjectToObject(o, "tokens");
    cJSON_AddStringToObject(t, "source", src);
    add_number(t, "server", srv);
    add_number(t, "client", cli);
    add_number(t, "diff_pct", cli > 0 ? 100.0 * (srv - cli) / cli : NAN);
    cJSON *ovh = cJSON_AddObjectToObject(s, "client_overhead_ms");
    cJSON_AddStringToObject(
        ovh, "method", strcmp(src, "timings") == 0 ? "per_request" : "difference_of_percentiles");
}

static cJSON *totals_json(const parts *p)
{
    cJSON *s = cJSON_CreateObject();
    double rate = p->parallel ? SUM(p, rate) : MAX(p, rate);
    add_number(s, "concurrency", p->parallel ? SUM(p, concurrency) : MAX(p, concurrency));
    if (rate > 0)
        add_number(s, "rate", rate);
    cJSON_AddStringToObject(s, "test", p->n && p->part[0]->test ? p->part[0]->test : "output");
    cJSON_AddBoolToObject(s, "manual", any_flag(p, offsetof(snap_step, manual)));
    cJSON_AddBoolToObject(s, "cut_short", any_flag(p, offsetof(snap_step, cut_short)));
    requests_json(s, p);
    tokens_json(s, p);
    cache_json(s, p);
    turns_json(s, p);
    window_json(s, p);
    add_number(s, "slo_met", SUM(p, slo_met));
    add_number(s, "reconnects", SUM(p, reconnects));
    achieved_json(s, p, rate);
    add_number(s, "client_cpu_max_pct", MAX(p, client_cpu_max_pct));
    add_number(s, "server_waiting_max", MAX(p, server_waiting_max));
    server_json(s, p);
    cJSON *hists = cJSON_CreateObject();
    for (int m = 0; m < STATS_METRICS; m++)
        metric_json(s, hists, p, (stats_metric)m);
    cJSON_AddItemToObject(s, "histograms", hists);
    return s;
}

/* ---- steps, series ---- */

/* The first concurrency-1 output step with completions: the efficiency's reference. */
static const snap_step *efficiency_ref(const snap_doc *docs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < docs[i].n_steps; k++) {
            const snap_step *s = &docs[i].steps[k];
            if (s->concurrency == 1 && s->ok > 0 && (!s->test || !strcmp(s->test, "output")))
                return s;
        }
    return NULL;
}

/* Each step as its file wrote it, with where it came from; an efficiency its own file
 * could not give (no c=1 step there) from the merged runs' c=1 step. */
static cJSON *steps_json(const snap_doc *docs, size_t n)
{
    const snap_step *ref = efficiency_ref(docs, n);
    double per_stream = ref ? ref->m[STATS_PER_STREAM_TPS].mean : NAN;
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < docs[i].n_steps; k++) {
            const snap_step *s = &docs[i].steps[k];
            cJSON *o = cJSON_Duplicate(s->json, true);
            if (!o)
                continue;
            if (!s->source)
                cJSON_AddStringToObject(o, "source", docs[i].path);
            bool output = !s->test || strcmp(s->test, "output") == 0;
            if (isnan(s->efficiency) && output && per_stream > 0 && s->concurrency > 0) {
                cJSON_DeleteItemFromObjectCaseSensitive(o, "efficiency");
                add_number(o, "efficiency", s->tps / (s->concurrency * per_stream));
            }
            cJSON_AddItemToArray(arr, o);
        }
    }
    return arr;
}

/* The series of every file end to end: each file's seconds follow the last one's. */
static cJSON *series_json(const snap_doc *docs, size_t n)
{
    cJSON *out = cJSON_CreateArray();
    double offset = 0;
    for (size_t i = 0; i < n; i++) {
        double last = -1;
        for (size_t k = 0; k < docs[i].n_series; k++) {
            cJSON *copy = cJSON_Duplicate(docs[i].series[k].json, true);
            cJSON *t = cJSON_GetObjectItemCaseSensitive(copy, "t");
            if (cJSON_IsNumber(t)) {
                last = t->valuedouble;
                cJSON_SetNumberValue(t, t->valuedouble + offset);
            }
            cJSON_AddItemToArray(out, copy);
        }
        offset += last + 1;
    }
    return out;
}

/* Each file's --repeat groups, their step numbers counted in the merged steps. */
static cJSON *repeats_json(const snap_doc *docs, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    size_t before = 0;
    for (size_t i = 0; i < n; before += docs[i].n_steps, i++) {
        for (size_t k = 0; k < docs[i].n_repeats; k++) {
            const snap_repeat *r = &docs[i].repeats[k];
            cJSON *o = cJSON_CreateObject();
            add_number(o, "first_step", r->first_step + (double)before);
            add_number(o, "steps", r->steps);
            add_number(o, "concurrency", r->concurrency);
            if (r->rate > 0)
                add_number(o, "rate", r->rate);
            cJSON_AddStringToObject(o, "test", r->test ? r->test : "output");
            for (int f = 0; f < SNAP_REPEAT_FIGURES; f++) {
                cJSON *fig = cJSON_AddObjectToObject(o, snap_repeat_keys[f]);
                add_number(fig, "mean", r->mean[f]);
                add_number(fig, "sd", r->sd[f]);
            }
            cJSON_AddItemToArray(arr, o);
        }
    }
    return arr;
}

/* ---- analysis of several runs: core/analysis over the merged steps ---- */

static uint8_t test_of(const char *name)
{
    for (int k = 0; name && k < TEST_KINDS; k++)
        if (strcmp(name, test_kind_name((llm_test_kind)k)) == 0)
            return (uint8_t)k;
    return TEST_OUTPUT;
}

static uint64_t whole(double v)
{
    return isfinite(v) && v > 0 ? (uint64_t)llround(v) : 0;
}

/* What core/analysis reads of a step, from the model. The step's window is laid on the
 * time line so that the span helpers give back its duration. */
static void agg_from_step(stats_agg *a, const snap_step *s)
{
    memset(a, 0, sizeof *a);
    a->opened = true;
    a->cut_short = s->cut_short;
    a->test = test_of(s->test);
    a->concurrency = (uint32_t)whole(s->concurrency);
    a->rate = s->rate > 0 ? s->rate : 0;
    a->ok = whole(s->ok);
    a->failed = whole(s->failed);
    for (int c = 0; c < ERR_CLASSES; c++) {
        a->errors[c] = whole(s->errors[c]);
        if (s->error_messages[c])
            llm_strlcpy(a->last_error[c], s->error_messages[c], sizeof a->last_error[c]);
    }
    a->output_tokens = whole(s->output_tokens);
    a->prompt_tokens = whole(s->prompt_tokens);
    a->estimated = s->estimated;
    a->slo_met = whole(s->slo_met);
    a->client_cpu_max = isfinite(s->client_cpu_max_pct) ? s->client_cpu_max_pct : 0;
    a->server_waiting_max = s->server_waiting_max;
    a->manual = s->manual;
    a->reconnects = whole(s->reconnects);
    double dur = isfinite(s->duration_s) && s->duration_s > 0 ? s->duration_s : 0;
    a->t_first_ns = a->t_last_start_ns = T_BASE_NS;
    a->t_last_ns = T_BASE_NS + (uint64_t)llround(dur * 1e9);
    /* the window the stats queries divide by: its length and what it counted (tokens as
     * events at one token each, so stats_agg_tps gives the file's figure) */
    a->window_ns = (uint64_t)llround(dur * 1e9);
    a->win_ok = whole(snap_window_completed(s));
    a->win_events = whole(snap_window_tokens(s));
    a->win_slo_met = isfinite(s->goodput_rps) ? whole(s->goodput_rps * dur) : 0;
    double ratio = s->m[STATS_PER_STREAM_TPS].ratio;
    if (isfinite(ratio) && ratio > 0) { /* a ratio of sums, on a basis of one second */
        a->decode_ns = 1000000000ULL;
        a->decode_tokens = whole(ratio);
    }
    for (int m = 0; m < STATS_METRICS; m++)
        snap_hist_build(s, (stats_metric)m, &a->h[m]);
    /* the server's view, for the merged analysis's findings (issue 13) */
    bool timings = s->srv_source && !strcmp(s->srv_source, "timings");
    a->srv_source = !s->srv_source ? STATS_SRV_NONE
                    : timings      ? STATS_SRV_TIMINGS
                                   : STATS_SRV_METRICS;
    uint64_t srv = whole(s->srv_tokens), cli = whole(s->srv_client_tokens);
    if (timings) {
        a->srv_timed = 1; /* a flag here: which source counted the tokens */
        a->srv_tokens = srv;
        a->srv_client_events = cli;
    } else if (s->srv_source) {
        a->srv_metric_tokens = srv;
        a->srv_metric_events = cli;
    }
}

static bool all_search(const snap_doc *docs, size_t n, bool *finished)
{
    bool all = n > 0;
    *finished = true;
    for (size_t i = 0; i < n; i++) {
        all = all && docs[i].config.plan && strcmp(docs[i].config.plan, "search") == 0;
        *finished = *finished && docs[i].analysis.search_finished;
    }
    return all;
}

static cJSON *analysis_json(const snap_doc *docs, size_t n, size_t n_steps)
{
    if (n == 1 && docs[0].analysis.json) /* one run: its own analysis, as written */
        return cJSON_Duplicate(docs[0].analysis.json, true);
    stats *st = calloc(1, sizeof *st);
    if (!st || stats_init(st, T_BASE_NS, &docs[0].config.slo) != 0 ||
        !(st->steps = calloc(n_steps ? n_steps : 1, sizeof *st->steps))) {
        free(st);
        return NULL;
    }
    st->n_steps = st->cap_steps = st->steps_ended = n_steps;
    st->search = all_search(docs, n, &st->search_done);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < docs[i].n_steps; j++)
            agg_from_step(&st->steps[k++], &docs[i].steps[j]);
    llm_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.slo = docs[0].config.slo;
    cJSON *a = snapshot_analysis_json(st, &cfg);
    stats_free(st);
    free(st);
    return a;
}

/* ---- the document ---- */

static double sum_doc(const snap_doc *docs, size_t n, size_t off)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        double v = *(const double *)((const char *)&docs[i] + off);
        sum += isfinite(v) ? v : 0;
    }
    return sum;
}

static void add_run_state(cJSON *d, const snap_doc *docs, size_t n)
{
    const char *reason = NULL;
    bool interrupted = false;
    for (size_t i = 0; i < n; i++) {
        interrupted = interrupted || docs[i].interrupted;
        if (!reason && docs[i].interrupted)
            reason = docs[i].stop_reason;
    }
    cJSON_AddBoolToObject(d, "interrupted", interrupted);
    if (reason)
        cJSON_AddStringToObject(d, "stop_reason", reason);
    add_number(d, "series_dropped", sum_doc(docs, n, offsetof(snap_doc, series_dropped)));
    add_number(d, "lost_events", sum_doc(docs, n, offsetof(snap_doc, lost_events)));
    add_number(d, "warmup_requests", sum_doc(docs, n, offsetof(snap_doc, warmup_requests)));
    const cJSON *srv = cJSON_GetObjectItemCaseSensitive(docs[0].json, "server_metrics");
    if (srv)
        cJSON_AddItemToObject(d, "server_metrics", cJSON_Duplicate(srv, true));
}

static cJSON *merged_doc(const snap_doc *docs, size_t n, size_t n_steps, const parts *p)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "schema", SNAPSHOT_SCHEMA);
    snapshot_add_tool(d);
    cJSON_AddStringToObject(d, "started_at", docs[0].started ? docs[0].started : "");
    cJSON_AddStringToObject(d, "ended_at", docs[n - 1].ended ? docs[n - 1].ended : "");
    /* The first file's config (it never holds the key), and where each part came from. */
    cJSON *cfg =
        docs[0].config.json ? cJSON_Duplicate(docs[0].config.json, true) : cJSON_CreateObject();
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, "merged_from");
    cJSON *from = cJSON_AddArrayToObject(cfg, "merged_from");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(from, cJSON_CreateString(docs[i].path));
    cJSON_AddItemToObject(d, "config", cfg);
    cJSON_AddItemToObject(d, "steps", steps_json(docs, n));
    cJSON_AddItemToObject(d, "totals", totals_json(p));
    cJSON_AddItemToObject(d, "repeats", repeats_json(docs, n));
    cJSON_AddItemToObject(d, "series", series_json(docs, n));
    cJSON *analysis = analysis_json(docs, n, n_steps);
    if (!analysis) {
        cJSON_Delete(d);
        return NULL;
    }
    cJSON_AddItemToObject(d, "analysis", analysis);
    add_run_state(d, docs, n);
    return d;
}

/* ---- shards of one run (--shard I/N): the same steps at the same time, added side by side ---- */

static bool is_shard(const snap_doc *d)
{
    return isfinite(d->config.shard_count) && d->config.shard_count > 1 &&
           isfinite(d->config.shard_index);
}

/* 1: the files are shards of one run; 0: runs one after another; -1: refused (said why). */
static int shard_mode(const snap_doc *docs, size_t n, bool force)
{
    size_t shards = 0;
    for (size_t i = 0; i < n; i++)
        shards += is_shard(&docs[i]);
    if (shards == 0)
        return 0;
    if (shards < n && !force) {
        fprintf(stderr,
                "llmload: %s is a shard of a run and %s is not: merge a run's shards "
                "together and separate runs together (--force adds them side by side)\n",
                is_shard(&docs[0]) ? docs[0].path : docs[1].path,
                is_shard(&docs[0]) ? docs[1].path : docs[0].path);
        return -1;
    }
    double count = NAN;
    bool *seen = calloc(n + 1, sizeof *seen);
    for (size_t i = 0; i < n && seen; i++) {
        const snap_doc *d = &docs[i];
        if (!is_shard(d))
            continue;
        if (isnan(count))
            count = d->config.shard_count;
        const cJSON *pa = cJSON_GetObjectItemCaseSensitive(docs[0].config.json, "plan");
        const cJSON *pb = cJSON_GetObjectItemCaseSensitive(d->config.json, "plan");
        const char *why = d->config.shard_count != count ? "a different number of shards"
                          : !cJSON_Compare(pa, pb, true) ? "a different plan"
                                                         : NULL;
        size_t idx = (size_t)d->config.shard_index;
        if (!why && idx < n && seen[idx])
            why = "the same shard index";
        if (why && !force) {
            fprintf(stderr,
                    "llmload: %s and %s have %s: they are not the shards of one run "
                    "(--force merges anyway)\n",
                    docs[0].path, d->path, why);
            free(seen);
            return -1;
        }
        if (idx < n)
            seen[idx] = true;
    }
    if (!seen)
        return -1;
    for (size_t k = 0; k < (size_t)count && !force; k++) {
        if (k < n && seen[k])
            continue;
        fprintf(stderr,
                "llmload: shard %zu of %.0f is missing: without its snapshot the totals "
                "lack its share of the load; give all %.0f (--force merges those given)\n",
                k, count, count);
        free(seen);
        return -1;
    }
    free(seen);
    return 1;
}

static size_t most_steps(const snap_doc *docs, size_t n)
{
    size_t most = 0;
    for (size_t i = 0; i < n; i++)
        most = docs[i].n_steps > most ? docs[i].n_steps : most;
    return most;
}

/* Step k of every worker added up: counts and histograms summed, the loads summed, the window
 * the longest of the workers' (they started together). */
static cJSON *shard_steps_json(const snap_doc *docs, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    const snap_step **part = calloc(n, sizeof *part);
    for (size_t k = 0; part && k < most_steps(docs, n); k++) {
        parts p = {.part = part, .n = 0, .parallel = true};
        for (size_t i = 0; i < n; i++)
            if (k < docs[i].n_steps)
                part[p.n++] = &docs[i].steps[k];
        cJSON *o = totals_json(&p);
        const cJSON *plan_step = cJSON_GetObjectItemCaseSensitive(part[0]->json, "plan_step");
        if (plan_step)
            cJSON_AddItemToObject(o, "plan_step", cJSON_Duplicate(plan_step, true));
        add_number(o, "workers", (double)p.n);
        cJSON_AddStringToObject(o, "source", "shards");
        cJSON_AddItemToArray(arr, o);
    }
    free(part);
    return arr;
}

static cJSON *shard_totals_json(const snap_doc *docs, size_t n)
{
    const snap_step **part = calloc(n, sizeof *part);
    parts p = {.part = part, .n = 0, .parallel = true};
    for (size_t i = 0; part && i < n; i++)
        if (docs[i].has_totals)
            part[p.n++] = &docs[i].totals;
    cJSON *o = totals_json(&p);
    free(part);
    return o;
}

/* A series row summed over the workers: counts and loads add up; a second's TTFT p50 and p99
 * cannot be rebuilt from percentiles, so the slowest worker's stands; CPU and temperature are
 * the busiest, hottest machine's. */
typedef struct {
    bool any;
    double v[SNAP_ROW_FIELDS];
} row_acc;

static const char *const row_keys[SNAP_ROW_FIELDS] = {"target",      "inflight", "rps",
                                                      "tps",         "errors",   "ttft_p50_ms",
                                                      "ttft_p99_ms", "cpu_pct",  "temp_c"};

static double row_field(const snap_row *r, int f)
{
    const double v[SNAP_ROW_FIELDS] = {r->target,      r->inflight, r->rps,
                                       r->tps,         r->errors,   r->ttft_p50_ms,
                                       r->ttft_p99_ms, r->cpu_pct,  r->temp_c};
    return v[f];
}

static void row_add(row_acc *a, const snap_row *r)
{
    if (!a->any)
        for (int f = 0; f < SNAP_ROW_FIELDS; f++)
            a->v[f] = NAN;
    a->any = true;
    for (int f = 0; f < SNAP_ROW_FIELDS; f++) {
        double x = row_field(r, f);
        if (!isfinite(x))
            continue;
        bool sum = f <= 4; /* target .. errors */
        a->v[f] = isnan(a->v[f]) ? x : sum ? a->v[f] + x : fmax(a->v[f], x);
    }
}

/* Seconds from the earliest worker's start to worker i's: 0 with an agreed --start-at, else
 * from started_at (whole seconds). */
static double start_offset(const snap_doc *docs, size_t n, size_t i)
{
    bool agreed = true; /* --start-at: every worker's second 0 is the same instant */
    for (size_t k = 0; k < n; k++)
        agreed = agreed && docs[k].config.start_at == docs[0].config.start_at;
    if (agreed && isfinite(docs[0].config.start_at))
        return 0;
    double t0 = INFINITY, ti = NAN;
    for (size_t k = 0; k < n; k++) {
        double t;
        if (docs[k].started && scale_parse_time(docs[k].started, &t) == 0) {
            t0 = fmin(t0, t);
            if (k == i)
                ti = t;
        }
    }
    return isfinite(ti) && isfinite(t0) ? ti - t0 : 0;
}

static cJSON *shard_series_json(const snap_doc *docs, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < docs[i].n_series; k++) {
            double t = docs[i].series[k].t + start_offset(docs, n, i);
            if (isfinite(t) && t >= 0 && t < 86400.0 * 2 && (size_t)t + 1 > len)
                len = (size_t)t + 1;
        }
    row_acc *acc = calloc(len ? len : 1, sizeof *acc);
    cJSON *out = cJSON_CreateArray();
    for (size_t i = 0; acc && i < n; i++) {
        double off = start_offset(docs, n, i);
        for (size_t k = 0; k < docs[i].n_series; k++) {
            double t = docs[i].series[k].t + off;
            if (isfinite(t) && t >= 0 && (size_t)t < len)
                row_add(&acc[(size_t)t], &docs[i].series[k]);
        }
    }
    for (size_t t = 0; acc && t < len; t++) {
        if (!acc[t].any)
            continue;
        cJSON *o = cJSON_CreateObject();
        add_number(o, "t", (double)t);
        for (int f = 0; f < SNAP_ROW_FIELDS; f++)
            add_number(o, row_keys[f], acc[t].v[f]);
        cJSON_AddItemToArray(out, o);
    }
    free(acc);
    return out;
}

/* The merged run's analysis: the merged document read back (report/snapread) and analysed
 * as one run's steps. */
static cJSON *shard_analysis(const cJSON *doc)
{
    snap_doc m;
    char err[256];
    if (snap_from_json(cJSON_Duplicate(doc, true), "merged shards", &m, err, sizeof err) != 0)
        return NULL;
    cJSON *a = analysis_json(&m, 1, m.n_steps);
    snap_free(&m);
    return a;
}

static cJSON *shard_doc(const snap_doc *docs, size_t n)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "schema", SNAPSHOT_SCHEMA);
    snapshot_add_tool(d);
    const char *started = docs[0].started, *ended = docs[0].ended;
    for (size_t i = 1; i < n; i++) { /* ISO-8601 UTC strings sort as times */
        if (docs[i].started && (!started || strcmp(docs[i].started, started) < 0))
            started = docs[i].started;
        if (docs[i].ended && (!ended || strcmp(docs[i].ended, ended) > 0))
            ended = docs[i].ended;
    }
    cJSON_AddStringToObject(d, "started_at", started ? started : "");
    cJSON_AddStringToObject(d, "ended_at", ended ? ended : "");
    cJSON *cfg =
        docs[0].config.json ? cJSON_Duplicate(docs[0].config.json, true) : cJSON_CreateObject();
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, "merged_from");
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, "shard");
    add_number(cfg, "merged_shards", (double)n);
    cJSON *from = cJSON_AddArrayToObject(cfg, "merged_from");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(from, cJSON_CreateString(docs[i].path));
    cJSON_AddItemToObject(d, "config", cfg);
    cJSON_AddItemToObject(d, "steps", shard_steps_json(docs, n));
    cJSON_AddItemToObject(d, "totals", shard_totals_json(docs, n));
    cJSON_AddItemToObject(d, "repeats", cJSON_CreateArray());
    cJSON_AddItemToObject(d, "series", shard_series_json(docs, n));
    add_run_state(d, docs, n);
    cJSON *analysis = shard_analysis(d);
    if (!analysis) {
        cJSON_Delete(d);
        return NULL;
    }
    cJSON_AddItemToObject(d, "analysis", analysis);
    return d;
}

static int load_all(const llm_config *cfg, snap_doc *docs, size_t *n_steps)
{
    char err[512];
    *n_steps = 0;
    for (size_t i = 0; i < cfg->n_files; i++) {
        if (snap_load(cfg->files[i], &docs[i], err, sizeof err) != 0) {
            fprintf(stderr, "llmload: %s\n", err);
            for (size_t k = 0; k < i; k++)
                snap_free(&docs[k]);
            return -1;
        }
        *n_steps += docs[i].n_steps;
    }
    return 0;
}

static int put_text(FILE *f, void *arg)
{
    return fputs(arg, f) >= 0 && fputc('\n', f) != EOF ? 0 : (errno ? errno : EIO);
}

/* -o was checked before anything was read (config); written through a temporary file and
 * renamed (DESIGN §11). */
static int write_doc(const llm_config *cfg, const cJSON *doc, size_t n_steps)
{
    char *text = doc ? cJSON_Print(doc) : NULL;
    char err[600] = "out of memory";
    bool ok = text && llm_write_file_atomic(cfg->output_path, put_text, text, err, sizeof err) == 0;
    if (!ok)
        fprintf(stderr, "llmload: %s\n", err);
    else
        fprintf(stderr, "llmload: %zu steps from %zu files merged into %s\n", n_steps, cfg->n_files,
                cfg->output_path);
    free(text);
    return ok ? LLM_EXIT_OK : LLM_EXIT_FAILED;
}

int merge_main(const llm_config *cfg)
{
    if (cfg->n_files == 0 || !cfg->output_path) {
        fprintf(stderr, "llmload: merge needs snapshot files and an output: llmload merge "
                        "A.json B.json ... -o ALL.json\n");
        return LLM_EXIT_USAGE;
    }
    if (refuse_twice(cfg) != 0)
        return LLM_EXIT_USAGE;
    snap_doc *docs = calloc(cfg->n_files, sizeof *docs);
    size_t n_steps = 0;
    if (!docs) {
        fprintf(stderr, "llmload: out of memory\n");
        return LLM_EXIT_FAILED;
    }
    if (load_all(cfg, docs, &n_steps) != 0) {
        free(docs);
        return LLM_EXIT_USAGE;
    }
    int rc = LLM_EXIT_USAGE;
    parts p = {0};
    int shards = refuse_mixed(docs, cfg->n_files, cfg->force) == 0
                     ? shard_mode(docs, cfg->n_files, cfg->force)
                     : -1;
    if (shards == 1) {
        cJSON *doc = shard_doc(docs, cfg->n_files);
        rc = write_doc(cfg, doc, most_steps(docs, cfg->n_files));
        cJSON_Delete(doc);
    } else if (shards == 0) {
        cJSON *doc = collect_parts(docs, cfg->n_files, &p) == 0
                         ? merged_doc(docs, cfg->n_files, n_steps, &p)
                         : NULL;
        rc = write_doc(cfg, doc, n_steps);
        cJSON_Delete(doc);
    }
    free(p.part);
    for (size_t i = 0; i < cfg->n_files; i++)
        snap_free(&docs[i]);
    free(docs);
    return rc;
}
