/* proto/prom: the one reader of Prometheus text — its samples one by one (prom_next_sample,
 * also what `llmload watch` reads workers with), and a serving engine's /metrics (vLLM,
 * SGLang, TGI, llama.cpp and the simulator's names) into the few figures a load test shows.
 * Pure; any thread. */
#ifndef LLM_PROM_H
#define LLM_PROM_H

#include <stdbool.h>
#include <stddef.h>

/* The latency histograms the server view compares with the client's (DESIGN §4). */
typedef enum {
    PROM_H_TTFT = 0, /* time to first token */
    PROM_H_E2E,      /* request latency */
    PROM_H_QUEUE,    /* time queued before the batch */
    PROM_H_ITL,      /* inter-token latency (vLLM, SGLang) or mean time per token (TGI) */
    PROM_HISTS
} prom_hist_kind;

#define PROM_BUCKETS 48

/* One histogram, cumulative since the server started, its series with different labels
 * added up bucket by bucket; n = 0 when not exported. */
typedef struct {
    int n;                    /* finite buckets, le ascending */
    double le[PROM_BUCKETS];  /* upper bounds, seconds */
    double cum[PROM_BUCKETS]; /* cumulative counts at each le */
    double total;             /* the +Inf bucket (every observation) */
    double sum;               /* _sum, seconds */
} prom_hist;

/* "ttft", "e2e", "queue", "itl". */
const char *prom_hist_name(prom_hist_kind k);

/* Adds one bucket sample to a cumulative histogram of *n of cap edges (ascending, seconds):
 * le matched to an existing edge (series of other labels have the same edges; within 1e-9
 * relative) or inserted in order; +Inf goes to *total. The one bucket writer of the
 * readers of Prometheus text (the server poller, llmload watch). */
void prom_bucket_put(int *n, double *les, double *cum, int cap, double *total, double le, double v);

typedef struct {
    double running;           /* requests being generated (in the batch); NaN = not exported */
    double waiting;           /* requests queued for the batch; NaN = not exported */
    double kv_used;           /* KV-cache use, 0..1; NaN = not exported */
    double prompt_tokens;     /* counter since the server started; NaN = not exported */
    double generation_tokens; /* counter since the server started; NaN = not exported */
    const char *engine;       /* "vLLM", "SGLang", "TGI", "llama.cpp", "llmload sim"; NULL =
                                 no name recognised */
    prom_hist hist[PROM_HISTS];
} prom_figures;

/* Parses the text exposition format (text need not be NUL-terminated). Series of one name
 * with different labels (vLLM's model_name, say) are added up; for the KV-cache use the
 * highest is kept. Gauges and counters are read for the first engine whose names appear
 * (a server exporting two families, like the simulator, is not counted twice); the
 * histograms of the one table in prom.c (vLLM, SGLang, TGI names) whatever the engine.
 * Lines that do not parse are skipped. Returns true when at least one known name was
 * found. */
bool prom_parse(const char *text, size_t len, prom_figures *out);

/* One sample line: `name{labels} value [timestamp]`. */
typedef struct {
    const char *name; /* not NUL-terminated: name_len bytes */
    size_t name_len;
    const char *labels; /* between the braces (label="value",...); labels_len 0 = none */
    size_t labels_len;
    double value; /* may be NaN or ±Inf as written */
} prom_sample;

/* The next sample from *pos (the text ends at end): comments, blank lines and lines that
 * do not parse (no value, unclosed braces) are skipped. Advances *pos past the line.
 * False at the end of the text. */
bool prom_next_sample(const char **pos, const char *end, prom_sample *s);

/* The value of label `key` in s, escapes (\\, \", \n) undone, into out. False when the
 * label is absent or its value needs more than cap - 1 bytes. */
bool prom_label(const prom_sample *s, const char *key, char *out, size_t cap);

#endif
