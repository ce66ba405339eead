/* merge: `llmload merge A.json B.json ... -o ALL.json` — one snapshot from several (the
 * seeds' loop runs one concurrency per process): the steps of every file in order, totals
 * from the merged histograms, the series end to end, and the analysis of the whole. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "core/analysis.h"
#include "core/snapshot.h"
#include "report/report.h"

#define T_BASE_NS LLM_NS_PER_SEC /* span needs t_first != 0 */
#define FROM_DISPLAY 1000.0      /* recorded units (µs, mtok/s) per display unit */

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static uint64_t count(const cJSON *o, const char *key)
{
    double v = num(o, key);
    return isfinite(v) && v > 0 ? (uint64_t)v : 0;
}

/* A histogram back from its buckets; the exact max and mean come from the metric's summary. */
static void hist_from_json(hist *h, const cJSON *hj, const cJSON *summary)
{
    hist_init(h);
    const cJSON *b;
    cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(hj, "buckets"))
    {
        double low = cJSON_GetArrayItem(b, 0) ? cJSON_GetArrayItem(b, 0)->valuedouble : NAN;
        double n = cJSON_GetArrayItem(b, 2) ? cJSON_GetArrayItem(b, 2)->valuedouble : NAN;
        if (!(low >= 0) || !(n > 0))
            continue;
        h->counts[hist_bucket_of((uint64_t)low)] += (uint64_t)n;
        if (h->total == 0)
            h->min = (uint64_t)low;
        h->total += (uint64_t)n;
    }
    h->overflow = count(hj, "overflow");
    double max = num(summary, "max"), mean = num(summary, "mean");
    h->max = isfinite(max) ? (uint64_t)llround(max * FROM_DISPLAY) : h->min;
    h->sum = isfinite(mean) ? mean * FROM_DISPLAY * (double)h->total : 0;
}

static void agg_from_json(stats_agg *a, const cJSON *s, uint64_t t_start_ns)
{
    memset(a, 0, sizeof *a);
    a->opened = true;
    const char *test = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "test"));
    for (int k = 0; test && k < TEST_KINDS; k++)
        if (strcmp(test, test_kind_name((llm_test_kind)k)) == 0)
            a->test = (uint8_t)k;
    a->concurrency = (uint32_t)count(s, "concurrency");
    double rate = num(s, "rate");
    a->rate = isfinite(rate) ? rate : 0;
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "requests");
    a->ok = count(req, "ok");
    a->failed = count(req, "failed");
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(req, "errors");
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(s, "error_messages");
    for (int c = 0; c < ERR_CLASSES; c++) {
        const char *name = err_class_name((err_class)c);
        a->errors[c] = count(errs, name);
        const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msgs, name));
        if (m)
            llm_strlcpy(a->last_error[c], m, sizeof a->last_error[c]);
    }
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(s, "tokens");
    a->output_tokens = count(tok, "output");
    a->prompt_tokens = count(tok, "prompt");
    a->estimated = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(tok, "estimated"));
    a->content_events = count(tok, "content_events");
    a->usage_tokens = count(tok, "usage_tokens");
    double per_event = num(tok, "tokens_per_event");
    a->usage_events = isfinite(per_event) && per_event > 0
                          ? (uint64_t)llround((double)a->usage_tokens / per_event)
                          : 0;
    a->slo_met = count(s, "slo_met");
    double cpu = num(s, "client_cpu_max_pct");
    a->client_cpu_max = isfinite(cpu) ? cpu : 0;
    a->server_waiting_max = num(s, "server_waiting_max");
    const cJSON *ach = cJSON_GetObjectItemCaseSensitive(s, "achieved");
    double inflight = num(ach, "mean_inflight"), target = num(ach, "mean_target");
    if (isfinite(inflight) && isfinite(target)) { /* the means, as 1000 samples */
        a->inflight_samples = 1000;
        a->inflight_sum = (uint64_t)llround(inflight * 1000);
        a->target_sum = (uint64_t)llround(target * 1000);
    }
    double dur = num(s, "duration_s");
    a->t_first_ns = a->t_last_start_ns = t_start_ns;
    a->t_last_ns = t_start_ns + (isfinite(dur) && dur > 0 ? (uint64_t)(dur * 1e9) : 0);
    const cJSON *hists = cJSON_GetObjectItemCaseSensitive(s, "histograms");
    for (int m = 0; m < STATS_METRICS; m++) {
        const char *key = stats_metric_key((stats_metric)m);
        hist_from_json(&a->h[m], cJSON_GetObjectItemCaseSensitive(hists, key),
                       cJSON_GetObjectItemCaseSensitive(s, key));
    }
}

/* Totals of runs made one after another: counts add up, spans follow each other. */
static void agg_add(stats_agg *to, const stats_agg *a)
{
    to->ok += a->ok;
    to->failed += a->failed;
    for (int c = 0; c < ERR_CLASSES; c++) {
        to->errors[c] += a->errors[c];
        if (a->last_error[c][0])
            memcpy(to->last_error[c], a->last_error[c], sizeof to->last_error[c]);
    }
    to->output_tokens += a->output_tokens;
    to->prompt_tokens += a->prompt_tokens;
    to->estimated = to->estimated || a->estimated;
    to->content_events += a->content_events;
    to->usage_tokens += a->usage_tokens;
    to->usage_events += a->usage_events;
    to->slo_met += a->slo_met;
    if (a->client_cpu_max > to->client_cpu_max)
        to->client_cpu_max = a->client_cpu_max;
    if (!(to->server_waiting_max >= a->server_waiting_max) && !isnan(a->server_waiting_max))
        to->server_waiting_max = a->server_waiting_max;
    if (a->concurrency > to->concurrency)
        to->concurrency = a->concurrency;
    for (int m = 0; m < STATS_METRICS; m++)
        hist_add(&to->h[m], &a->h[m]);
    /* The steps were laid end to end (merge_main), so the span runs first to last. */
    if (!to->t_first_ns)
        to->t_first_ns = to->t_last_start_ns = a->t_first_ns;
    if (a->t_last_ns > to->t_last_ns)
        to->t_last_ns = a->t_last_ns;
}

static int load_all(const llm_config *cfg, report_doc *docs, size_t *n_steps)
{
    char err[512];
    *n_steps = 0;
    for (size_t i = 0; i < cfg->n_files; i++) {
        if (report_load(cfg->files[i], &docs[i], err, sizeof err) != 0) {
            fprintf(stderr, "llmload: %s\n", err);
            for (size_t k = 0; k < i; k++)
                report_free(&docs[k]);
            return -1;
        }
        *n_steps += docs[i].n_steps;
    }
    return 0;
}

/* The series of every file end to end: each file's seconds follow the last one's. */
static cJSON *series_json(const report_doc *docs, size_t n)
{
    cJSON *out = cJSON_CreateArray();
    double offset = 0;
    for (size_t i = 0; i < n; i++) {
        double last = -1;
        const cJSON *row;
        cJSON_ArrayForEach(row, docs[i].series)
        {
            cJSON *copy = cJSON_Duplicate(row, true);
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

static cJSON *merged_doc(report_doc *docs, size_t n, stats *st)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "schema", SNAPSHOT_SCHEMA);
    cJSON *tool = cJSON_AddObjectToObject(d, "tool");
    cJSON_AddStringToObject(tool, "name", "llmload");
    cJSON_AddStringToObject(tool, "version", LLMLOAD_VERSION);
    cJSON_AddStringToObject(d, "started_at", docs[0].started ? docs[0].started : "");
    cJSON_AddStringToObject(d, "ended_at", docs[n - 1].ended ? docs[n - 1].ended : "");
    /* The first file's config (it never holds the key), and where each part came from. */
    cJSON *cfg = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(docs[0].doc, "config"), true);
    cJSON *from = cJSON_AddArrayToObject(cfg ? cfg : d, "merged_from");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(from, cJSON_CreateString(docs[i].path));
    cJSON_AddItemToObject(d, "config", cfg ? cfg : cJSON_CreateObject());
    cJSON *steps = cJSON_AddArrayToObject(d, "steps");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < docs[i].n_steps; j++, k++) {
            cJSON *s = snapshot_step_json(&st->steps[k], NULL);
            cJSON_AddStringToObject(s, "source", docs[i].path);
            cJSON_AddItemToArray(steps, s);
        }
    }
    cJSON_AddItemToObject(d, "totals", snapshot_step_json(&st->totals, NULL));
    cJSON_AddItemToObject(d, "series", series_json(docs, n));
    llm_config none;
    memset(&none, 0, sizeof none);
    cJSON_AddItemToObject(d, "analysis", snapshot_analysis_json(st, &none));
    double lost = 0;
    for (size_t i = 0; i < n; i++) {
        double l = num(docs[i].doc, "lost_events");
        lost += isfinite(l) ? l : 0;
    }
    cJSON_AddNumberToObject(d, "lost_events", lost);
    return d;
}

int merge_main(const llm_config *cfg)
{
    if (cfg->n_files == 0 || !cfg->output_path) {
        fprintf(stderr, "llmload: merge needs snapshot files and an output: llmload merge "
                        "A.json B.json ... -o ALL.json\n");
        return LLM_EXIT_USAGE;
    }
    report_doc *docs = calloc(cfg->n_files, sizeof *docs);
    stats *st = calloc(1, sizeof *st);
    size_t n_steps = 0;
    if (!docs || !st || stats_init(st, T_BASE_NS, NULL) != 0) {
        fprintf(stderr, "llmload: out of memory\n");
        free(docs);
        free(st);
        return LLM_EXIT_FAILED;
    }
    if (load_all(cfg, docs, &n_steps) != 0) {
        stats_free(st);
        free(st);
        free(docs);
        return LLM_EXIT_USAGE;
    }
    int rc = LLM_EXIT_OK;
    st->steps = calloc(n_steps ? n_steps : 1, sizeof *st->steps);
    if (!st->steps) {
        fprintf(stderr, "llmload: out of memory\n");
        rc = LLM_EXIT_FAILED;
    } else {
        st->n_steps = st->cap_steps = n_steps;
        uint64_t t = T_BASE_NS;
        size_t k = 0;
        for (size_t i = 0; i < cfg->n_files; i++) {
            const cJSON *s;
            cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(docs[i].doc, "steps"))
            {
                agg_from_json(&st->steps[k], s, t);
                t = st->steps[k].t_last_ns;
                agg_add(&st->totals, &st->steps[k]);
                k++;
            }
        }
        cJSON *doc = merged_doc(docs, cfg->n_files, st);
        char *text = doc ? cJSON_Print(doc) : NULL;
        FILE *f = text ? fopen(cfg->output_path, "w") : NULL;
        bool ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
        if (f && fclose(f) != 0)
            ok = false;
        if (!ok) {
            fprintf(stderr, "llmload: cannot write %s: %s\n", cfg->output_path,
                    text ? strerror(errno) : "out of memory");
            rc = LLM_EXIT_FAILED;
        } else {
            fprintf(stderr, "llmload: %zu steps from %zu files merged into %s\n", n_steps,
                    cfg->n_files, cfg->output_path);
        }
        free(text);
        cJSON_Delete(doc);
    }
    for (size_t i = 0; i < cfg->n_files; i++)
        report_free(&docs[i]);
    free(docs);
    stats_free(st);
    free(st);
    return rc;
}
