/* report: what is made from snapshot files — `llmload report` (Markdown, the seeds' report;
 * CSV per step; one self-contained HTML page with SVG charts) and `llmload merge` (one
 * snapshot from several, merge.c). Main thread only. */
#ifndef LLM_REPORT_H
#define LLM_REPORT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>

#include "config/config.h"

/* One step (or the totals) as the report needs it; NaN = not in the snapshot. */
typedef struct {
    int index; /* 1-based; 0 for the totals */
    const char *test;
    double concurrency, rate; /* rate > 0: an open-loop step */
    double duration_s, ok, failed, rps, tps, output_tokens;
    double ttft_mean, ttft_p50, ttft_p99, e2e_mean, e2e_p50, e2e_p99, itl_p50, tpot_p50;
    double stream_tps_p50;
} report_step;

/* One snapshot file, parsed. The strings point into doc. */
typedef struct {
    const char *path;
    cJSON *doc;
    const char *url, *model, *plan, *started, *ended, *version;
    report_step *steps;
    size_t n_steps;
    report_step totals;
    const cJSON *series, *analysis;
} report_doc;

/* Reads and checks a snapshot; 0, or -1 with one sentence in err. */
int report_load(const char *path, report_doc *d, char *err, size_t errlen);
void report_free(report_doc *d);

#define REPORT_ADVICE_LEN 200
/* The seeds' "best configuration" lines and their recommendations, as sentences. */
typedef struct {
    char best[3][REPORT_ADVICE_LEN];
    size_t n_best;
    char recommend[2][REPORT_ADVICE_LEN];
    size_t n_recommend;
} report_advice;
void report_advise(const report_doc *d, report_advice *adv);

void report_markdown(FILE *out, const report_doc *d);
/* with_header: the CSV header line first (once for several files). */
void report_csv(FILE *out, const report_doc *d, bool with_header);
/* The whole page for n documents (report_html.c). */
void report_html(FILE *out, const report_doc *docs, size_t n);

/* The subcommand: exit code per DESIGN.md §12 (2 for unreadable input, 1 when the output
 * cannot be written). */
int report_main(const llm_config *cfg);
/* `llmload merge FILE... -o FILE`: exit 0, 2 (bad input) or 1 (cannot write). */
int merge_main(const llm_config *cfg);

#endif
