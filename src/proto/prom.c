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
};
#define N_NAMES (sizeof k_names / sizeof k_names[0])

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

static void parse_line(const char *p, const char *end, prom_figures *out, bool *found)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p == end || *p == '#')
        return;
    const char *name = p;
    while (p < end && *p != '{' && *p != ' ' && *p != '\t')
        p++;
    const known_name *k = lookup(name, (size_t)(p - name));
    if (!k)
        return;
    if (p < end && *p == '{' && !(p = skip_labels(p, end)))
        return;
    double v;
    if (!sample_value(p, end, &v) || isnan(v))
        return;
    double *dst = slot(out, k->f);
    if (isnan(*dst))
        *dst = v;
    else if (k->f == F_KV) /* several engines (data parallel): the fullest cache */
        *dst = v > *dst ? v : *dst;
    else
        *dst += v;
    out->engine = k->engine;
    *found = true;
}

bool prom_parse(const char *text, size_t len, prom_figures *out)
{
    *out = (prom_figures){NAN, NAN, NAN, NAN, NAN, NULL};
    bool found = false;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        if (line_end > p && line_end[-1] == '\r')
            line_end--;
        parse_line(p, line_end, out, &found);
        p = eol ? eol + 1 : end;
    }
    return found;
}
