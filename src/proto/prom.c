/* proto/prom: Prometheus text → prom_figures (see prom.h). */
#include "proto/prom.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum { F_RUNNING, F_WAITING, F_KV, F_PROMPT, F_GENERATION } field;

typedef struct {
    const char *name;
    field f;
    const char *engine;
} known_name;

/* Names as the engines export them. vLLM's and SGLang's cache figures are fractions despite
 * "perc"/"usage" in their names. */
static const known_name k_names[] = {
    {"vllm:num_requests_running", F_RUNNING, "vLLM"},
    {"vllm:num_requests_waiting", F_WAITING, "vLLM"},
    {"vllm:gpu_cache_usage_perc", F_KV, "vLLM"},
    {"vllm:kv_cache_usage_perc", F_KV, "vLLM"},
    {"vllm:prompt_tokens_total", F_PROMPT, "vLLM"},
    {"vllm:generation_tokens_total", F_GENERATION, "vLLM"},
    {"sglang:num_running_reqs", F_RUNNING, "SGLang"},
    {"sglang:num_queue_reqs", F_WAITING, "SGLang"},
    {"sglang:token_usage", F_KV, "SGLang"},
    {"sglang:prompt_tokens_total", F_PROMPT, "SGLang"},
    {"sglang:generation_tokens_total", F_GENERATION, "SGLang"},
    {"tgi_batch_current_size", F_RUNNING, "TGI"},
    {"tgi_queue_size", F_WAITING, "TGI"},
    {"llamacpp:requests_processing", F_RUNNING, "llama.cpp"},
    {"llamacpp:requests_deferred", F_WAITING, "llama.cpp"},
    {"llamacpp:kv_cache_usage_ratio", F_KV, "llama.cpp"},
    {"llamacpp:prompt_tokens_total", F_PROMPT, "llama.cpp"},
    {"llamacpp:tokens_predicted_total", F_GENERATION, "llama.cpp"},
    {"llmload_sim:requests_running", F_RUNNING, "llmload sim"},
    {"llmload_sim:requests_waiting", F_WAITING, "llmload sim"},
    {"llmload_sim:prompt_tokens_total", F_PROMPT, "llmload sim"},
    {"llmload_sim:generation_tokens_total", F_GENERATION, "llmload sim"},
    /* TGI exports its token counts as histograms of per-request lengths: their sums */
    {"tgi_request_input_length_sum", F_PROMPT, "TGI"},
    {"tgi_request_generated_tokens_sum", F_GENERATION, "TGI"},
};
#define N_NAMES (sizeof k_names / sizeof k_names[0])

/* The one table of the servers' latency histograms (seconds). llama.cpp exports none: its
 * per-request `timings` serve instead. TGI has no time-to-first-token histogram. */
static const struct {
    const char *base;
    prom_hist_kind kind;
} k_hists[] = {
    {"vllm:time_to_first_token_seconds", PROM_H_TTFT},
    {"vllm:e2e_request_latency_seconds", PROM_H_E2E},
    {"vllm:request_queue_time_seconds", PROM_H_QUEUE},
    {"vllm:inter_token_latency_seconds", PROM_H_ITL},
    {"vllm:time_per_output_token_seconds", PROM_H_ITL}, /* vLLM before 0.10 */
    {"sglang:time_to_first_token_seconds", PROM_H_TTFT},
    {"sglang:e2e_request_latency_seconds", PROM_H_E2E},
    {"sglang:queue_time_seconds", PROM_H_QUEUE},
    {"sglang:inter_token_latency_seconds", PROM_H_ITL},
    {"sglang:time_per_output_token_seconds", PROM_H_ITL}, /* older SGLang */
    {"tgi_request_duration", PROM_H_E2E},
    {"tgi_request_queue_duration", PROM_H_QUEUE},
    {"tgi_request_mean_time_per_token_duration", PROM_H_ITL},
};
#define N_HISTS (sizeof k_hists / sizeof k_hists[0])

const char *prom_hist_name(prom_hist_kind k)
{
    static const char *const names[PROM_HISTS] = {"ttft", "e2e", "queue", "itl"};
    return (unsigned)k < PROM_HISTS ? names[k] : "?";
}

static double *slot(prom_figures *o, field f)
{
    switch (f) {
    case F_RUNNING:
        return &o->running;
    case F_WAITING:
        return &o->waiting;
    case F_KV:
        return &o->kv_used;
    case F_PROMPT:
        return &o->prompt_tokens;
    default:
        return &o->generation_tokens;
    }
}

static const known_name *lookup(const char *name, size_t n)
{
    for (size_t i = 0; i < N_NAMES; i++)
        if (strlen(k_names[i].name) == n && memcmp(k_names[i].name, name, n) == 0)
            return &k_names[i];
    return NULL;
}

/* End of a {label="value",...} set starting at p (at '{'), quotes and escapes respected;
 * NULL when the line ends first. */
static const char *skip_labels(const char *p, const char *end)
{
    bool quoted = false;
    for (p++; p < end; p++) {
        if (quoted && *p == '\\')
            p++;
        else if (*p == '"')
            quoted = !quoted;
        else if (!quoted && *p == '}')
            return p + 1;
    }
    return NULL;
}

/* The sample value after the name (and labels); false when there is none. */
static bool sample_value(const char *p, const char *end, double *v)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    char num[64];
    size_t n = 0;
    while (p < end && *p != ' ' && *p != '\t' && n < sizeof num - 1)
        num[n++] = *p++;
    num[n] = 0;
    if (n == 0)
        return false;
    char *stop;
    *v = strtod(num, &stop);
    return *stop == 0;
}

typedef enum { PART_BUCKET, PART_SUM, PART_COUNT } hist_part;

/* The histogram of a sample name `base_bucket` / `base_sum` / `base_count`; -1 if none. */
static int hist_lookup(const char *name, size_t n, hist_part *part)
{
    static const struct {
        const char *suffix;
        hist_part part;
    } sfx[] = {{"_bucket", PART_BUCKET}, {"_sum", PART_SUM}, {"_count", PART_COUNT}};
    for (size_t s = 0; s < sizeof sfx / sizeof sfx[0]; s++) {
        size_t sl = strlen(sfx[s].suffix);
        if (n <= sl || memcmp(name + n - sl, sfx[s].suffix, sl) != 0)
            continue;
        for (size_t i = 0; i < N_HISTS; i++)
            if (strlen(k_hists[i].base) == n - sl && memcmp(k_hists[i].base, name, n - sl) == 0) {
                *part = sfx[s].part;
                return (int)k_hists[i].kind;
            }
    }
    return -1;
}

/* The value of label `le` in {…} from p (at '{') to close; false when absent. */
static bool label_le(const char *p, const char *close, double *le)
{
    for (const char *q = p; q + 4 < close; q++) {
        if ((q[-1] != '{' && q[-1] != ',') || memcmp(q, "le=\"", 4) != 0)
            continue;
        const char *v = q + 4, *e = memchr(v, '"', (size_t)(close - v));
        if (!e || e - v >= 32)
            return false;
        char num[32];
        memcpy(num, v, (size_t)(e - v));
        num[e - v] = 0;
        if (!strcmp(num, "+Inf")) {
            *le = INFINITY;
            return true;
        }
        char *stop;
        *le = strtod(num, &stop);
        return *stop == 0 && !isnan(*le);
    }
    return false;
}

void prom_bucket_put(int *n, double *les, double *cum, int cap, double *total, double le, double v)
{
    if (isinf(le)) {
        *total += v;
        return;
    }
    int i = 0;
    while (i < *n && les[i] < le * (1 - 1e-9))
        i++;
    if (i < *n && fabs(les[i] - le) <= le * 1e-9) {
        cum[i] += v;
        return;
    }
    if (*n >= cap)
        return;
    memmove(&les[i + 1], &les[i], (size_t)(*n - i) * sizeof les[0]);
    memmove(&cum[i + 1], &cum[i], (size_t)(*n - i) * sizeof cum[0]);
    les[i] = le;
    cum[i] = v;
    (*n)++;
}

static void hist_add_bucket(prom_hist *h, double le, double v)
{
    prom_bucket_put(&h->n, h->le, h->cum, PROM_BUCKETS, &h->total, le, v);
}

static void parse_hist_sample(const prom_sample *s, prom_figures *out)
{
    hist_part part;
    int k = hist_lookup(s->name, s->name_len, &part);
    double le = 0;
    if (k < 0 || isnan(s->value))
        return;
    prom_hist *h = &out->hist[k];
    if (part == PART_SUM)
        h->sum += s->value;
    else if (part == PART_BUCKET && s->labels_len &&
             label_le(s->labels, s->labels + s->labels_len, &le))
        hist_add_bucket(h, le, s->value);
}

static void parse_sample(const prom_sample *s, prom_figures *out, bool *found)
{
    const known_name *k = lookup(s->name, s->name_len);
    if (!k) {
        parse_hist_sample(s, out);
        return;
    }
    if (out->engine && strcmp(out->engine, k->engine) != 0)
        return; /* one engine's figures: the simulator exports vLLM's names too */
    if (isnan(s->value))
        return;
    double *dst = slot(out, k->f);
    if (isnan(*dst))
        *dst = s->value;
    else if (k->f == F_KV) /* several engines (data parallel): the fullest cache */
        *dst = s->value > *dst ? s->value : *dst;
    else
        *dst += s->value;
    out->engine = k->engine;
    *found = true;
}

/* One line into s; false when it is a comment, blank or does not parse. */
static bool parse_line(const char *p, const char *end, prom_sample *s)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p == end || *p == '#')
        return false;
    s->name = p;
    while (p < end && *p != '{' && *p != ' ' && *p != '\t')
        p++;
    s->name_len = (size_t)(p - s->name);
    s->labels = NULL;
    s->labels_len = 0;
    if (p < end && *p == '{') {
        const char *close = skip_labels(p, end);
        if (!close)
            return false;
        s->labels = p + 1;
        s->labels_len = (size_t)(close - 1 - s->labels);
        p = close;
    }
    return s->name_len > 0 && sample_value(p, end, &s->value);
}

bool prom_next_sample(const char **pos, const char *end, prom_sample *s)
{
    const char *p = *pos;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        if (line_end > p && line_end[-1] == '\r')
            line_end--;
        bool got = parse_line(p, line_end, s);
        p = eol ? eol + 1 : end;
        if (got) {
            *pos = p;
            return true;
        }
    }
    *pos = end;
    return false;
}

bool prom_label(const prom_sample *s, const char *key, char *out, size_t cap)
{
    if (!s->labels_len)
        return false;
    size_t kl = strlen(key);
    const char *p = s->labels, *end = s->labels + s->labels_len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == ','))
            p++;
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq || eq + 1 >= end || eq[1] != '"')
            return false;
        bool match = (size_t)(eq - p) == kl && memcmp(p, key, kl) == 0;
        size_t n = 0;
        for (p = eq + 2; p < end && *p != '"'; p++) {
            char c = *p;
            if (c == '\\' && p + 1 < end)
                c = *++p == 'n' ? '\n' : *p;
            if (match && n + 1 >= cap)
                return false;
            if (match)
                out[n++] = c;
        }
        if (match) {
            out[n] = '\0';
            return p < end;
        }
        p = p < end ? p + 1 : end;
    }
    return false;
}

bool prom_parse(const char *text, size_t len, prom_figures *out)
{
    memset(out, 0, sizeof *out);
    out->running = out->waiting = out->kv_used = out->prompt_tokens = out->generation_tokens = NAN;
    bool found = false;
    const char *p = text, *end = text + len;
    prom_sample s;
    while (prom_next_sample(&p, end, &s))
        parse_sample(&s, out, &found);
    return found;
}
