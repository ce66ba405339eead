#include "engine/trace.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TRACE_MAX_BLOCKS 4096 /* hash_ids kept per record */

/* A record before its time is made relative: nanoseconds, on any origin (integers: a
 * date's seconds in a double would lose the 100 ns digits of Azure's timestamps). */
typedef struct {
    int64_t t_ns;
    trace_rec r;
} raw_rec;

typedef struct {
    raw_rec *v;
    size_t n, cap;
    uint32_t *blocks;
    size_t n_blocks, blocks_cap;
} raw_set;

static int push_block(raw_set *s, uint32_t id)
{
    if (s->n_blocks == s->blocks_cap) {
        size_t cap = s->blocks_cap ? s->blocks_cap * 2 : 1024;
        uint32_t *b = realloc(s->blocks, cap * sizeof *b);
        if (!b)
            return -1;
        s->blocks = b;
        s->blocks_cap = cap;
    }
    s->blocks[s->n_blocks++] = id;
    return 0;
}

static int push_rec(raw_set *s, const raw_rec *r)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        raw_rec *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = *r;
    return 0;
}

static bool length_ok(double v)
{
    return v >= 1 && v <= 10000000 && v == floor(v);
}

/* {"timestamp": ms, "input_length": N, "output_length": M[, "hash_ids": [...]]}: 1 = kept,
 * 0 = bad, -1 = out of memory. */
static int parse_jsonl(raw_set *s, const char *line)
{
    cJSON *o = cJSON_Parse(line);
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(o, "timestamp");
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(o, "input_length");
    const cJSON *out = cJSON_GetObjectItemCaseSensitive(o, "output_length");
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(o, "hash_ids");
    int rc = 0;
    if (cJSON_IsNumber(ts) && ts->valuedouble >= 0 && cJSON_IsNumber(in) &&
        length_ok(in->valuedouble) && cJSON_IsNumber(out) && length_ok(out->valuedouble)) {
        raw_rec r = {
            (int64_t)llround(ts->valuedouble * 1e6),
            {0, (uint32_t)in->valuedouble, (uint32_t)out->valuedouble, (uint32_t)s->n_blocks, 0}};
        const cJSON *id;
        const cJSON *list = cJSON_IsArray(ids) ? ids : NULL;
        rc = 1;
        cJSON_ArrayForEach(id, list)
        {
            if (!cJSON_IsNumber(id) || id->valuedouble < 0 || r.r.n_blocks == TRACE_MAX_BLOCKS)
                continue;
            if (push_block(s, (uint32_t)id->valuedouble) != 0)
                rc = -1;
            r.r.n_blocks++;
        }
        if (rc == 1 && push_rec(s, &r) != 0)
            rc = -1;
    }
    cJSON_Delete(o);
    return rc;
}

/* "2023-11-16 18:15:46.6805900" (Azure's traces) or a number of seconds, in ns. */
static bool parse_time(const char *s, int64_t *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end != s && (*end == '\0' || *end == ',') && v >= 0 && v < 9e9) {
        *out = (int64_t)llround(v * 1e9);
        return true;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int frac_at = 0;
    if (sscanf(s, "%d-%d-%d %d:%d:%d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &frac_at) != 6)
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    double frac = 0;
    if (s[frac_at] == '.')
        frac = strtod(s + frac_at, NULL);
    *out = (int64_t)timegm(&tm) * 1000000000LL + (int64_t)llround(frac * 1e9);
    return true;
}

/* TIMESTAMP,ContextTokens,GeneratedTokens: 1 kept, 0 bad, 2 the header (first line only),
 * -1 out of memory. */
static int parse_csv(raw_set *s, const char *line, bool first)
{
    const char *c1 = strchr(line, ',');
    const char *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
    if (!c1 || !c2)
        return 0;
    char *end;
    double in = strtod(c1 + 1, &end);
    if (end == c1 + 1)
        return first && isalpha((unsigned char)c1[1]) ? 2 : 0;
    double out = strtod(c2 + 1, &end);
    raw_rec r;
    memset(&r, 0, sizeof r);
    if (!length_ok(in) || !length_ok(out) || !parse_time(line, &r.t_ns))
        return 0;
    r.r.input = (uint32_t)in;
    r.r.output = (uint32_t)out;
    return push_rec(s, &r) == 0 ? 1 : -1;
}

static int by_time(const void *a, const void *b)
{
    int64_t x = ((const raw_rec *)a)->t_ns, y = ((const raw_rec *)b)->t_ns;
    return x < y ? -1 : x > y;
}

static void trim_line(char *line)
{
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
        line[--n] = '\0';
}

/* Sorted, cut to max_records, made relative to the first arrival. */
static int finish(raw_set *s, size_t max_records, llm_trace *out, char *err, size_t errlen)
{
    qsort(s->v, s->n, sizeof *s->v, by_time);
    out->n = max_records && s->n > max_records ? max_records : s->n;
    out->recs = calloc(out->n, sizeof *out->recs);
    if (!out->recs) {
        snprintf(err, errlen, "out of memory for %zu trace records", out->n);
        return -1;
    }
    for (size_t i = 0; i < out->n; i++) {
        trace_rec r = s->v[i].r;
        r.t_ns = (uint64_t)(s->v[i].t_ns - s->v[0].t_ns);
        out->recs[i] = r;
        if (r.input > out->max_input)
            out->max_input = r.input;
        if (r.n_blocks > out->max_blocks)
            out->max_blocks = r.n_blocks;
    }
    out->span_s = (double)out->recs[out->n - 1].t_ns / 1e9;
    out->blocks = s->blocks;
    out->n_blocks = s->n_blocks;
    s->blocks = NULL;
    return 0;
}

int trace_load(const char *path, size_t max_records, llm_trace *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "--dataset trace:%s: cannot read it (%s)", path, strerror(errno));
        return -1;
    }
    raw_set s = {0};
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    int rc = 0;
    bool jsonl = false, decided = false, first = true;
    while (rc >= 0 && getline(&line, &cap, f) >= 0) {
        lineno++;
        trim_line(line);
        if (!line[0])
            continue;
        if (!decided) {
            jsonl = line[0] == '{';
            decided = true;
        }
        rc = jsonl ? parse_jsonl(&s, line) : parse_csv(&s, line, first);
        first = false;
        if (rc == 0 && ++out->skipped == 1)
            out->first_bad_line = lineno;
    }
    free(line);
    fclose(f);
    snprintf(out->format, sizeof out->format, "%s", jsonl ? "jsonl" : "csv");
    if (rc < 0)
        snprintf(err, errlen, "out of memory reading the trace %s", path);
    else if (s.n == 0)
        snprintf(err, errlen,
                 "--dataset trace:%s has no usable record: each line should be "
                 "{\"timestamp\": ms, \"input_length\": N, \"output_length\": M} or "
                 "TIMESTAMP,ContextTokens,GeneratedTokens",
                 path);
    if (rc >= 0 && s.n > 0)
        rc = finish(&s, max_records, out, err, errlen);
    else
        rc = -1;
    free(s.v);
    free(s.blocks);
    if (rc != 0)
        trace_free(out);
    return rc < 0 ? -1 : 0;
}

double trace_rate(const llm_trace *t)
{
    return t->n > 1 && t->span_s > 0 ? (double)(t->n - 1) / t->span_s : 0;
}

void trace_free(llm_trace *t)
{
    free(t->recs);
    free(t->blocks);
    memset(t, 0, sizeof *t);
}
