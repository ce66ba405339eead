/* report/snapread: snapshot file -> plain C model (see snapread.h). */
#include "report/snapread.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/snapshot.h"

#define MAX_SNAPSHOT_BYTES (512L * 1024 * 1024)

/* ---- values ---- */

static const cJSON *key_of(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static double num_of(const cJSON *o, const char *key)
{
    const cJSON *v = key_of(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = key_of(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool true_of(const cJSON *o, const char *key)
{
    return cJSON_IsTrue(key_of(o, key));
}

static uint64_t count_of(double v)
{
    return isfinite(v) && v > 0 ? (uint64_t)llround(v) : 0;
}

/* ---- steps ---- */

static void read_summary(const cJSON *o, snap_summary *s)
{
    s->count = num_of(o, "count");
    s->mean = num_of(o, "mean");
    s->min = num_of(o, "min");
    s->p50 = num_of(o, "p50");
    s->p90 = num_of(o, "p90");
    s->p95 = num_of(o, "p95");
    s->p99 = num_of(o, "p99");
    s->p999 = num_of(o, "p999");
    s->max = num_of(o, "max");
    s->ratio = num_of(o, "ratio");
}

/* Buckets [low, high, count]; rows that are not three non-negative numbers are skipped. */
static int read_hist(const cJSON *o, snap_hist *h)
{
    const cJSON *rows = key_of(o, "buckets");
    h->present = cJSON_IsObject(o);
    h->overflow = count_of(num_of(o, "overflow"));
    int n = cJSON_IsArray(rows) ? cJSON_GetArraySize(rows) : 0;
    if (n == 0)
        return 0;
    if (!(h->buckets = calloc((size_t)n, sizeof *h->buckets)))
        return -1;
    const cJSON *row;
    cJSON_ArrayForEach(row, rows)
    {
        double v[3];
        int k = 0;
        for (const cJSON *x = cJSON_IsArray(row) ? row->child : NULL; x && k < 3; x = x->next)
            v[k++] = cJSON_IsNumber(x) ? x->valuedouble : NAN;
        if (k < 3 || !(v[0] >= 0) || !(v[1] >= v[0]) || !(v[2] > 0))
            continue;
        h->buckets[h->n_buckets++] =
            (snap_bucket){(uint64_t)v[0], (uint64_t)v[1], (uint64_t)llround(v[2])};
    }
    return 0;
}

static void read_requests(const cJSON *s, snap_step *r)
{
    const cJSON *req = key_of(s, "requests");
    const cJSON *errs = key_of(req, "errors"), *msgs = key_of(s, "error_messages");
    r->ok = num_of(req, "ok");
    r->failed = num_of(req, "failed");
    for (int c = 0; c < ERR_CLASSES; c++) {
        r->errors[c] = num_of(errs, err_class_name((err_class)c));
        r->error_messages[c] = str_of(msgs, err_class_name((err_class)c));
    }
}

static void read_tokens(const cJSON *s, snap_step *r)
{
    const cJSON *tok = key_of(s, "tokens"), *win = key_of(s, "window");
    r->output_tokens = num_of(tok, "output");
    r->prompt_tokens = num_of(tok, "prompt");
    r->estimated = true_of(tok, "estimated");
    r->content_events = num_of(tok, "content_events");
    r->usage_tokens = num_of(tok, "usage_tokens");
    r->tokens_per_event = num_of(tok, "tokens_per_event");
    r->window_output_tokens = num_of(win, "output_tokens");
    r->window_completed = num_of(win, "completed");
    r->asked_output = num_of(tok, "asked_output");
    r->ended_early = num_of(tok, "ended_early");
    const cJSON *cache = key_of(s, "cache");
    r->cache_hit_share = num_of(cache, "hit_share");
    r->cached_tokens = num_of(cache, "cached_tokens");
    r->cache_hits = num_of(cache, "hits");
    r->cache_reported = num_of(cache, "reported");
    const cJSON *t;
    cJSON_ArrayForEach(t, key_of(s, "turns"))
    {
        if (r->n_turns == SNAP_TURNS)
            break;
        r->turns[r->n_turns++] =
            (snap_turn){num_of(t, "turn"), num_of(t, "requests"), num_of(t, "ttft_mean_ms"),
                        num_of(t, "prompt_tokens_mean"), num_of(t, "cached_tokens_mean")};
    }
    r->turns_history_overflow = num_of(s, "turns_history_overflow");
}

static void read_server(const cJSON *s, snap_step *r)
{
    const cJSON *srv = key_of(s, "server"), *tok = key_of(srv, "tokens");
    const cJSON *src = key_of(srv, "source"),
                *ovh = key_of(key_of(s, "client_overhead_ms"), "method");
    r->srv_source = cJSON_IsString(src) ? src->valuestring : NULL;
    r->overhead_method = cJSON_IsString(ovh) ? ovh->valuestring : NULL;
    r->overhead_res_ms =
        num_of(key_of(key_of(key_of(s, "client_overhead_ms"), "e2e"), "resolution_ms"), "p50");
    r->srv_tokens = num_of(tok, "server");
    r->srv_client_tokens = num_of(tok, "client");
    r->srv_tokens_diff_pct = num_of(tok, "diff_pct");
}

static void read_achieved(const cJSON *s, snap_step *r)
{
    const cJSON *ach = key_of(s, "achieved");
    r->mean_inflight = num_of(ach, "mean_inflight");
    r->mean_target = num_of(ach, "mean_target");
    r->achieved_ratio = num_of(ach, "ratio");
    r->send_rate = num_of(ach, "rate");
    r->missed_target = true_of(ach, "missed_target");
}

static int read_step(const cJSON *s, int index, snap_step *r)
{
    r->json = s;
    r->index = index;
    r->test = str_of(s, "test");
    r->source = str_of(s, "source");
    r->concurrency = num_of(s, "concurrency");
    r->rate = num_of(s, "rate");
    r->duration_s = num_of(s, "duration_s");
    r->manual = true_of(s, "manual");
    r->cut_short = true_of(s, "cut_short");
    read_requests(s, r);
    read_tokens(s, r);
    read_server(s, r);
    r->rps = num_of(s, "rps");
    r->tps = num_of(s, "tps");
    r->goodput_rps = num_of(s, "goodput_rps");
    r->slo_met = num_of(s, "slo_met");
    r->reconnects = num_of(s, "reconnects");
    r->reconnect_lost_ms = num_of(s, "reconnect_lost_ms");
    r->efficiency = num_of(s, "efficiency");
    read_achieved(s, r);
    r->client_cpu_max_pct = num_of(s, "client_cpu_max_pct");
    r->server_waiting_max = num_of(s, "server_waiting_max");
    const cJSON *hists = key_of(s, "histograms");
    for (int m = 0; m < STATS_METRICS; m++) {
        const char *key = stats_metric_key((stats_metric)m);
        read_summary(key_of(s, key), &r->m[m]);
        if (read_hist(key_of(hists, key), &r->h[m]) != 0)
            return -1;
    }
    return 0;
}

static void free_step(snap_step *s)
{
    for (int m = 0; m < STATS_METRICS; m++)
        free(s->h[m].buckets);
}

static int read_steps(const cJSON *steps, snap_doc *d)
{
    int n = cJSON_IsArray(steps) ? cJSON_GetArraySize(steps) : 0;
    if (n > 0 && !(d->steps = calloc((size_t)n, sizeof *d->steps)))
        return -1;
    const cJSON *s;
    cJSON_ArrayForEach(s, steps)
    {
        snap_step *r = &d->steps[d->n_steps++];
        if (read_step(s, (int)d->n_steps, r) != 0)
            return -1;
    }
    return 0;
}

/* ---- series, repeats, analysis, config ---- */

const char *const snap_repeat_keys[SNAP_REPEAT_FIGURES] = {"rps", "tps", "ttft_p50_ms",
                                                           "e2e_p50_ms"};

static int read_repeats(const cJSON *repeats, snap_doc *d)
{
    int n = cJSON_IsArray(repeats) ? cJSON_GetArraySize(repeats) : 0;
    if (n > 0 && !(d->repeats = calloc((size_t)n, sizeof *d->repeats)))
        return -1;
    const cJSON *o;
    cJSON_ArrayForEach(o, repeats)
    {
        snap_repeat *r = &d->repeats[d->n_repeats++];
        r->first_step = num_of(o, "first_step");
        r->steps = num_of(o, "steps");
        r->concurrency = num_of(o, "concurrency");
        r->rate = num_of(o, "rate");
        r->test = str_of(o, "test");
        for (int f = 0; f < SNAP_REPEAT_FIGURES; f++) {
            r->mean[f] = num_of(key_of(o, snap_repeat_keys[f]), "mean");
            r->sd[f] = num_of(key_of(o, snap_repeat_keys[f]), "sd");
        }
    }
    return 0;
}

static int read_series(const cJSON *series, snap_doc *d)
{
    int n = cJSON_IsArray(series) ? cJSON_GetArraySize(series) : 0;
    if (n > 0 && !(d->series = calloc((size_t)n, sizeof *d->series)))
        return -1;
    const cJSON *o;
    cJSON_ArrayForEach(o, series)
    {
        d->series[d->n_series++] = (snap_row){.t = num_of(o, "t"),
                                              .target = num_of(o, "target"),
                                              .inflight = num_of(o, "inflight"),
                                              .rps = num_of(o, "rps"),
                                              .tps = num_of(o, "tps"),
                                              .ttft_p50_ms = num_of(o, "ttft_p50_ms"),
                                              .ttft_p99_ms = num_of(o, "ttft_p99_ms"),
                                              .errors = num_of(o, "errors"),
                                              .cpu_pct = num_of(o, "cpu_pct"),
                                              .temp_c = num_of(o, "temp_c"),
                                              .server_running = num_of(o, "server_running"),
                                              .server_waiting = num_of(o, "server_waiting"),
                                              .server_kv_pct = num_of(o, "server_kv_pct"),
                                              .json = o};
    }
    return 0;
}

/* ---- GPU (issue 16) ---- */

static void keep_max(double *to, double v)
{
    if (!isnan(v) && (isnan(*to) || v > *to))
        *to = v;
}

/* Each device's figures over the series: the entries of "gpu" whose index it has. */
static void read_gpu_series(const snap_doc *d, snap_gpu *g)
{
    double util_sum[SNAP_GPUS] = {0}, util_n[SNAP_GPUS] = {0};
    for (size_t r = 0; r < d->n_series; r++) {
        const cJSON *e;
        cJSON_ArrayForEach(e, key_of(d->series[r].json, "gpu"))
        {
            double idx = num_of(e, "index");
            for (size_t i = 0; i < g->n_devices; i++) {
                snap_gpu_device *dev = &g->devices[i];
                if (dev->index != idx)
                    continue;
                double u = num_of(e, "util_pct");
                if (!isnan(u)) {
                    util_sum[i] += u;
                    util_n[i]++;
                }
                keep_max(&dev->util_max_pct, u);
                keep_max(&dev->temp_max_c, num_of(e, "temp_c"));
                keep_max(&dev->power_max_w, num_of(e, "power_w"));
                keep_max(&dev->mem_used_max_mb, num_of(e, "mem_used_mb"));
                keep_max(&dev->mem_total_mb, num_of(e, "mem_total_mb"));
            }
        }
    }
    for (size_t i = 0; i < g->n_devices; i++)
        g->devices[i].util_mean_pct = util_n[i] > 0 ? util_sum[i] / util_n[i] : NAN;
}

/* Each series row's samples, for the charts over time. */
static int read_gpu_samples(const snap_doc *d, snap_gpu *g)
{
    for (size_t i = 0; i < d->n_series; i++) {
        const cJSON *row = key_of(d->series[i].json, "gpu");
        int n = cJSON_IsArray(row) ? cJSON_GetArraySize(row) : 0;
        if ((size_t)n > g->per_row)
            g->per_row = n > SNAP_GPUS ? SNAP_GPUS : (size_t)n;
    }
    if (g->per_row == 0 || d->n_series == 0)
        return 0;
    g->present = true;
    if (!(g->samples = calloc(d->n_series * g->per_row, sizeof *g->samples)))
        return -1;
    for (size_t i = 0; i < d->n_series; i++) {
        snap_gpu_sample *s = &g->samples[i * g->per_row];
        for (size_t k = 0; k < g->per_row; k++)
            s[k] = (snap_gpu_sample){NAN, NAN, NAN, NAN, NAN, NAN, NULL};
        size_t k = 0;
        const cJSON *x;
        cJSON_ArrayForEach(x, key_of(d->series[i].json, "gpu"))
        {
            if (k == g->per_row)
                break;
            s[k++] = (snap_gpu_sample){num_of(x, "index"),       num_of(x, "util_pct"),
                                       num_of(x, "mem_used_mb"), num_of(x, "mem_total_mb"),
                                       num_of(x, "temp_c"),      num_of(x, "power_w"),
                                       str_of(x, "name")};
        }
    }
    return 0;
}

static int read_gpu(const cJSON *o, snap_doc *d)
{
    snap_gpu *g = &d->gpu;
    memset(g, 0, sizeof *g);
    if (cJSON_IsObject(o)) {
        g->present = true;
        g->json = o;
    }
    g->max_temp_c = num_of(o, "max_temp_c");
    g->max_power_w = num_of(o, "max_power_w");
    g->max_util_pct = num_of(o, "max_util_pct");
    g->throttling_seen = true_of(o, "throttling_seen");
    const cJSON *e;
    cJSON_ArrayForEach(e, key_of(o, "devices"))
    {
        if (g->n_devices >= SNAP_GPUS)
            break;
        snap_gpu_device *dev = &g->devices[g->n_devices++];
        *dev = (snap_gpu_device){num_of(e, "index"),
                                 str_of(e, "name"),
                                 str_of(e, "vendor"),
                                 NAN,
                                 NAN,
                                 NAN,
                                 NAN,
                                 NAN,
                                 NAN};
    }
    read_gpu_series(d, g);
    return read_gpu_samples(d, g);
}

static void read_load_note(const cJSON *o, snap_load_note *l)
{
    double c = num_of(o, "concurrency"), r = num_of(o, "rate");
    l->found = cJSON_IsObject(o) && (isfinite(c) || isfinite(r));
    l->load = isfinite(r) ? r : c;
    l->reason = str_of(o, "reason");
}

static void read_knee(const cJSON *knee, snap_analysis *a)
{
    double c = num_of(knee, "concurrency"), r = num_of(knee, "rate");
    a->has_knee = cJSON_IsObject(knee) && (isfinite(c) || isfinite(r));
    a->knee_is_rate = isfinite(r);
    a->knee_load = isfinite(r) ? r : c;
    a->knee_reason = str_of(knee, "reason");
    a->knee_kind = str_of(knee, "kind");
}

static int read_analysis(const cJSON *o, snap_analysis *a)
{
    a->json = cJSON_IsObject(o) ? o : NULL;
    read_knee(key_of(o, "knee"), a);
    read_load_note(key_of(o, "throughput_knee"), &a->throughput_knee);
    read_load_note(key_of(o, "latency_knee"), &a->latency_knee);
    read_load_note(key_of(o, "best_load"), &a->best_load);
    const cJSON *search = key_of(o, "search"), *slo = key_of(o, "slo");
    a->has_search = cJSON_IsObject(search);
    const char *load = str_of(search, "load");
    a->search_rate = load && strcmp(load, "rate") == 0;
    a->search_best = num_of(search, "best");
    a->search_first_miss = num_of(search, "first_miss");
    a->search_steps = num_of(search, "steps");
    a->search_finished = true_of(search, "finished");
    a->has_slo = cJSON_IsObject(slo);
    a->slo_met_up_to = num_of(slo, "met_up_to");
    a->slo_goodput_rps = num_of(slo, "goodput_rps");
    a->slo_verdict = str_of(slo, "verdict");
    const cJSON *findings = key_of(o, "findings");
    int n = cJSON_IsArray(findings) ? cJSON_GetArraySize(findings) : 0;
    if (n > 0 && !(a->findings = calloc((size_t)n, sizeof *a->findings)))
        return -1;
    const cJSON *f;
    cJSON_ArrayForEach(f, findings) if (cJSON_IsString(f)) a->findings[a->n_findings++] =
        f->valuestring;
    return 0;
}

/* A limit of config.slo in seconds: 0 when not given. */
static double slo_limit(const cJSON *slo, const char *key)
{
    double v = num_of(slo, key);
    return isfinite(v) && v > 0 ? v : 0;
}

static void read_config(const cJSON *c, snap_config *cfg)
{
    cfg->json = cJSON_IsObject(c) ? c : NULL;
    cfg->url = str_of(c, "url");
    cfg->model = str_of(c, "model");
    cfg->endpoint = str_of(c, "endpoint");
    cfg->plan = str_of(key_of(c, "plan"), "kind");
    cfg->arrivals = str_of(key_of(c, "plan"), "arrivals");
    cfg->max_inflight = num_of(key_of(c, "plan"), "max_inflight");
    const cJSON *slo = key_of(c, "slo");
    cfg->slo.ttft_s = slo_limit(slo, "ttft_s");
    cfg->slo.tpot_s = slo_limit(slo, "tpot_s");
    cfg->slo.e2e_s = slo_limit(slo, "e2e_s");
    double errors = num_of(slo, "errors_pct");
    cfg->slo.errors_pct = isfinite(errors) && errors >= 0 ? errors : -1;
    const cJSON *shard = key_of(c, "shard");
    cfg->shard_index = num_of(shard, "index");
    cfg->shard_count = num_of(shard, "count");
    cfg->start_at = num_of(shard, "start_at");
    cfg->server_model = str_of(c, "server_model");
}

/* ---- the file ---- */

static char *slurp(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read it (%s)", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    long len = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        len = ftell(f);
    if (len < 0 || len > MAX_SNAPSHOT_BYTES || fseek(f, 0, SEEK_SET) != 0) {
        snprintf(err, errlen, "%s: cannot read it (not a regular file, or over 512 MiB)", path);
    } else if (!(buf = malloc((size_t)len + 1))) {
        snprintf(err, errlen, "%s: out of memory reading it", path);
    } else if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
        snprintf(err, errlen, "%s: cannot read it (%s)", path, strerror(errno));
        free(buf);
        buf = NULL;
    } else {
        buf[len] = '\0';
    }
    fclose(f);
    return buf;
}

static int read_doc(snap_doc *d)
{
    const cJSON *j = d->json;
    d->version = str_of(key_of(j, "tool"), "version");
    d->started = str_of(j, "started_at");
    d->ended = str_of(j, "ended_at");
    d->interrupted = true_of(j, "interrupted");
    d->stop_reason = str_of(j, "stop_reason");
    d->series_dropped = num_of(j, "series_dropped");
    d->lost_events = num_of(j, "lost_events");
    d->warmup_requests = num_of(j, "warmup_requests");
    read_config(key_of(j, "config"), &d->config);
    const cJSON *totals = key_of(j, "totals");
    d->has_totals = cJSON_IsObject(totals);
    if (read_steps(key_of(j, "steps"), d) != 0 || read_step(totals, 0, &d->totals) != 0 ||
        read_series(key_of(j, "series"), d) != 0 || read_repeats(key_of(j, "repeats"), d) != 0)
        return -1;
    if (read_gpu(key_of(j, "gpu"), d) != 0)
        return -1;
    return read_analysis(key_of(j, "analysis"), &d->analysis);
}

int snap_load(const char *path, snap_doc *d, char *err, size_t errlen)
{
    char *text = slurp(path, err, errlen);
    if (!text) {
        memset(d, 0, sizeof *d);
        return -1;
    }
    cJSON *json = cJSON_Parse(text);
    free(text);
    return snap_from_json(json, path, d, err, errlen);
}

int snap_from_json(cJSON *json, const char *path, snap_doc *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    d->path = path;
    d->json = json;
    const char *schema = str_of(d->json, "schema");
    if (!schema || strcmp(schema, SNAPSHOT_SCHEMA) != 0) {
        snprintf(err, errlen,
                 "%s is not an llmload snapshot (%s): give the .json that `llmload run --json`, "
                 "`s` or the final save wrote",
                 path, !d->json ? "not JSON" : "no \"schema\": \"" SNAPSHOT_SCHEMA "\"");
        snap_free(d);
        return -1;
    }
    if (read_doc(d) != 0) {
        snprintf(err, errlen, "%s: out of memory reading it", path);
        snap_free(d);
        return -1;
    }
    return 0;
}

void snap_free(snap_doc *d)
{
    for (size_t i = 0; i < d->n_steps; i++)
        free_step(&d->steps[i]);
    free_step(&d->totals);
    free(d->steps);
    free(d->series);
    free(d->repeats);
    free(d->analysis.findings);
    free(d->gpu.samples);
    cJSON_Delete(d->json);
    memset(d, 0, sizeof *d);
}

/* ---- derived ---- */

/* A summary without "min": the writer's percentile is its bucket's midpoint clamped to
 * [min, max], so a written percentile in the lowest bucket above that midpoint is the exact
 * minimum. Otherwise any minimum up to the midpoint gives the same percentiles: the lowest
 * bucket's edge will do. */
static uint64_t written_min(const hist *h, const snap_summary *sum, double scale)
{
    const double written[] = {sum->p50, sum->p90, sum->p95, sum->p99, sum->p999};
    size_t low = hist_bucket_of(h->min);
    uint64_t mid = h->min + (hist_bucket_high(low) - h->min) / 2, min = h->min;
    for (size_t i = 0; i < sizeof written / sizeof written[0]; i++) {
        if (!isfinite(written[i]) || written[i] < 0)
            continue;
        uint64_t v = (uint64_t)llround(written[i] * scale);
        if (hist_bucket_of(v) == low && v > mid && (min == h->min || v < min))
            min = v;
    }
    return min;
}

void snap_hist_build(const snap_step *s, stats_metric m, hist *h)
{
    hist_init(h);
    const snap_hist *sh = &s->h[m];
    for (size_t i = 0; i < sh->n_buckets; i++) {
        const snap_bucket *b = &sh->buckets[i];
        h->counts[hist_bucket_of(b->low)] += b->count;
        if (h->total == 0 || b->low < h->min)
            h->min = b->low;
        if (b->low > h->max)
            h->max = b->low;
        h->total += b->count;
    }
    if (h->total == 0)
        return;
    h->overflow = sh->overflow;
    const snap_summary *sum = &s->m[m];
    double scale = stats_metric_scale(m); /* recorded units per display unit */
    /* The exact extremes when the summary has them (values with 3 decimals in the display
     * unit are whole recorded units); the mean gives back the exact sum. */
    if (isfinite(sum->max) && sum->max >= 0)
        h->max = (uint64_t)llround(sum->max * scale);
    if (isfinite(sum->min) && sum->min >= 0)
        h->min = (uint64_t)llround(sum->min * scale);
    else
        h->min = written_min(h, sum, scale);
    double mean = isfinite(sum->mean) ? sum->mean * scale : 0;
    h->sum = mean * (double)h->total;
}

static double window_count(double written, double per_s, double duration_s)
{
    if (isfinite(written))
        return written;
    return isfinite(per_s) && isfinite(duration_s) ? per_s * duration_s : NAN;
}

double snap_window_tokens(const snap_step *s)
{
    return window_count(s->window_output_tokens, s->tps, s->duration_s);
}

double snap_window_completed(const snap_step *s)
{
    return window_count(s->window_completed, s->rps, s->duration_s);
}

/* The URL without "user:password@" and without a trailing '/', into out. */
static void url_key(const char *url, char *out, size_t cap)
{
    const char *scheme = url ? strstr(url, "://") : NULL;
    const char *host = scheme ? scheme + 3 : url ? url : "";
    const char *at = strchr(host, '@'), *slash = strchr(host, '/');
    if (at && (!slash || at < slash))
        host = at + 1;
    snprintf(out, cap, "%.*s%s", scheme ? (int)(scheme + 3 - url) : 0, url ? url : "", host);
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == '/')
        out[--n] = '\0';
}

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

const char *snap_config_differs(const snap_doc *a, const snap_doc *b)
{
    char ua[1024], ub[1024];
    url_key(a->config.url, ua, sizeof ua);
    url_key(b->config.url, ub, sizeof ub);
    if (strcmp(ua, ub) != 0)
        return "config.url";
    if (!same_text(a->config.model, b->config.model))
        return "config.model";
    if (!same_text(a->config.endpoint, b->config.endpoint))
        return "config.endpoint";
    if (!same_text(a->config.plan, b->config.plan))
        return "config.plan.kind";
    return NULL;
}

/* What each request asks of the server: runs that differ here are different tests even
 * against the same endpoint. Compared as written (absent = absent), so keys a newer writer
 * adds (input_tokens, dataset, ...) are compared once they exist. */
static const char *const k_workload_keys[] = {
    "endpoint",     "prompt_chars",  "prompt_tokens", "max_tokens",    "ignore_eos",
    "prompts_file", "image_file",    "body_json",     "headers",       "usage_requested",
    "input_tokens", "output_tokens", "dataset",       "prefix_tokens", "turns",
};

const char *snap_workload_differs(const snap_doc *a, const snap_doc *b)
{
    static char key[64];
    for (size_t i = 0; i < sizeof k_workload_keys / sizeof k_workload_keys[0]; i++) {
        const cJSON *x = key_of(a->config.json, k_workload_keys[i]);
        const cJSON *y = key_of(b->config.json, k_workload_keys[i]);
        if (cJSON_IsNull(x))
            x = NULL;
        if (cJSON_IsNull(y))
            y = NULL;
        if ((x || y) && !(x && y && cJSON_Compare(x, y, true))) {
            snprintf(key, sizeof key, "config.%s", k_workload_keys[i]);
            return key;
        }
    }
    return NULL;
}
