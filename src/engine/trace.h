/* engine/trace: --dataset trace:FILE — a recorded request trace (Mooncake-style JSONL
 * {"timestamp": ms, "input_length", "output_length"[, "hash_ids"]} or Azure-style CSV
 * TIMESTAMP,ContextTokens,GeneratedTokens) read into arrival times and lengths, for an
 * open-loop replay. Loaded by the main thread before the run; then read by the engine. */
#ifndef LLM_TRACE_H
#define LLM_TRACE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t t_ns;      /* since the trace's first request */
    uint32_t input;     /* prompt tokens, the hash blocks included */
    uint32_t output;    /* tokens to generate */
    uint32_t block_off; /* its hash_ids: blocks[block_off .. block_off + n_blocks) */
    uint16_t n_blocks;
} trace_rec;

typedef struct {
    trace_rec *recs; /* sorted by time */
    size_t n;
    uint32_t *blocks;
    size_t n_blocks;
    size_t skipped;      /* records that could not be read */
    long first_bad_line; /* line number of the first of them; 0 = none */
    uint32_t max_input;  /* longest prompt */
    uint16_t max_blocks; /* most hash_ids of one record */
    double span_s;       /* last arrival time */
    char format[8];      /* "jsonl" or "csv" */
} llm_trace;

/* Reads path line by line (memory bounded by the records kept), at most max_records (0 =
 * all) after sorting by time. Bad records are skipped and counted. Returns 0, or -1 with
 * a sentence (unreadable, or no good record at all). */
int trace_load(const char *path, size_t max_records, llm_trace *out, char *err, size_t errlen);

/* Requests per second over the trace's span (the step's nominal rate); 0 for one record. */
double trace_rate(const llm_trace *t);

void trace_free(llm_trace *t);

#endif
