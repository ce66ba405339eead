/* report_vllm: `llmload report --format vllm-json` — each step as the JSON object vLLM's
 * benchmark_serving.py / `vllm bench serve --save-result` writes (request_throughput,
 * output_throughput, mean/median/std/pNN of ttft, tpot, itl and e2el in ms, ...), one per
 * line as its --append-result does, so dashboards built for those files read our runs. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

/* vLLM's metric names for ours. */
static const struct {
    const char *name;
    stats_metric m;
} k_vllm_metrics[] = {
    {"ttft", STATS_TTFT},
    {"tpot", STATS_TPOT},
    {"itl", STATS_ITL},
    {"e2el", STATS_E2E},
};

static void put_number(cJSON *o, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

/* Population standard deviation (numpy's np.std, as vLLM computes it) from the histogram:
 * each value at its bucket's midpoint, within the bucket error (≤ 1 %). ms. */
static double hist_std_ms(const snap_step *s, stats_metric m, hist *h)
{
    snap_hist_build(s, m, h);
    if (h->total == 0)
        return NAN;
    double mean = h->sum / (double)h->total, sq = 0;
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        if (!h->counts[i])
            continue;
        double mid = 0.5 * (double)(hist_bucket_low(i) + hist_bucket_high(i));
        mid = fmin(fmax(mid, (double)h->min), (double)h->max);
        sq += (double)h->counts[i] * (mid - mean) * (mid - mean);
    }
    return sqrt(sq / (double)h->total) / 1000.0;
}

static void put_metric(cJSON *o, const snap_step *s, const char *name, stats_metric m, hist *h)
{
    const snap_summary *sum = &s->m[m];
    char key[32];
    const struct {
        const char *stat;
        double v;
    } stats[] = {{"mean", sum->mean}, {"median", sum->p50}, {"std", hist_std_ms(s, m, h)},
                 {"p50", sum->p50},   {"p90", sum->p90},    {"p95", sum->p95},
                 {"p99", sum->p99}};
    for (size_t i = 0; i < sizeof stats / sizeof stats[0]; i++) {
        snprintf(key, sizeof key, "%s_%s_ms", stats[i].stat, name);
        put_number(o, key, stats[i].v);
    }
}

/* vLLM's burstiness: 1 = Poisson arrivals, the gamma shape otherwise (ours is 0.5); a
 * constant spacing is the limit of a large shape. */
static double burstiness(const char *arrivals)
{
    if (arrivals && strcmp(arrivals, "gamma") == 0)
        return 0.5;
    if (arrivals && strcmp(arrivals, "constant") == 0)
        return INFINITY;
    return 1.0;
}

/* "20261202-061435" from "2026-12-02T06:14:35Z": vLLM's date format. */
static void vllm_date(const char *iso, char *out, size_t cap)
{
    int y, mo, d, h, mi, se;
    if (iso && sscanf(iso, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &se) == 6)
        snprintf(out, cap, "%04d%02d%02d-%02d%02d%02d", y, mo, d, h, mi, se);
    else
        snprintf(out, cap, "%s", iso ? iso : "");
}

static void put_traffic(cJSON *o, const snap_doc *d, const snap_step *s)
{
    if (s->rate > 0) {
        cJSON_AddNumberToObject(o, "request_rate", s->rate);
        double b = burstiness(d->config.arrivals);
        put_number(o, "burstiness", isfinite(b) ? b : NAN);
        put_number(o, "max_concurrency", d->config.max_inflight > 0 ? d->config.max_inflight : NAN);
    } else {
        /* closed loop: every request sent as soon as a user is free, at most c at once */
        cJSON_AddStringToObject(o, "request_rate", "inf");
        cJSON_AddNumberToObject(o, "burstiness", 1.0);
        put_number(o, "max_concurrency", s->concurrency);
    }
}

static cJSON *vllm_step(const snap_doc *d, const snap_step *s, hist *h)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    char date[32];
    vllm_date(d->started, date, sizeof date);
    bool chat = !d->config.endpoint || strcmp(d->config.endpoint, "chat") == 0;
    cJSON_AddStringToObject(o, "date", date);
    cJSON_AddStringToObject(o, "backend", chat ? "openai-chat" : "openai");
    cJSON_AddStringToObject(o, "model_id", d->config.model ? d->config.model : "");
    cJSON_AddStringToObject(o, "tokenizer_id", d->config.model ? d->config.model : "");
    put_number(o, "num_prompts", s->ok + s->failed);
    put_traffic(o, d, s);
    double in_per_req = s->ok > 0 ? s->prompt_tokens / s->ok : NAN;
    put_number(o, "duration", s->duration_s);
    put_number(o, "completed", s->ok);
    put_number(o, "failed", s->failed);
    put_number(o, "total_input_tokens", s->prompt_tokens);
    put_number(o, "total_output_tokens", s->output_tokens);
    put_number(o, "request_throughput", s->rps);
    /* vLLM writes null without --goodput limits, and wrote the key with a colon for a long
     * time; newer versions without */
    double goodput = llm_slo_given(&d->config.slo) ? s->goodput_rps : NAN;
    put_number(o, "request_goodput", goodput);
    put_number(o, "request_goodput:", goodput);
    put_number(o, "output_throughput", s->tps);
    put_number(o, "total_token_throughput", s->tps + in_per_req * s->rps);
    for (size_t i = 0; i < sizeof k_vllm_metrics / sizeof k_vllm_metrics[0]; i++)
        put_metric(o, s, k_vllm_metrics[i].name, k_vllm_metrics[i].m, h);
    /* where the object came from, for people reading the file */
    cJSON_AddStringToObject(o, "llmload_file", d->path ? d->path : "");
    cJSON_AddNumberToObject(o, "llmload_step", s->index);
    return o;
}

int report_vllm_json(FILE *out, const snap_doc *d)
{
    hist *h = malloc(sizeof *h);
    if (!h)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < d->n_steps && rc == 0; i++) {
        const snap_step *s = &d->steps[i];
        if (!(s->ok + s->failed > 0))
            continue; /* a step that never ran */
        cJSON *o = vllm_step(d, s, h);
        char *text = o ? cJSON_PrintUnformatted(o) : NULL;
        if (text)
            fprintf(out, "%s\n", text);
        else
            rc = -1;
        free(text);
        cJSON_Delete(o);
    }
    free(h);
    return rc;
}
