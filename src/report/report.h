/* report: `llmload report` (Markdown, CSV, HTML) and `llmload merge`, both made from the
 * model report/snapread reads. Main thread only. */
#ifndef LLM_REPORT_H
#define LLM_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "config/config.h"
#include "report/snapread.h"

#define REPORT_ADVICE_LEN 200
/* The seeds' "best configuration" lines and their recommendations, as sentences. */
typedef struct {
    char best[3][REPORT_ADVICE_LEN];
    size_t n_best;
    char recommend[2][REPORT_ADVICE_LEN];
    size_t n_recommend;
} report_advice;
void report_advise(const snap_doc *d, report_advice *adv);

/* The workload's figures of a step (DESIGN §6): realised input/output lengths, the answers
 * that ended before max_tokens, the prefix cache and TTFT split by cache hit. The columns'
 * names, and a step's values (NaN = not known) in that order. */
#define REPORT_WORKLOAD_COLS 15
extern const char *const report_workload_cols[REPORT_WORKLOAD_COLS];
void report_workload_row(const snap_step *s, double v[REPORT_WORKLOAD_COLS]);
/* True when the run's steps carry the figures above (files from before them do not). */
bool report_has_workload(const snap_doc *d);

void report_markdown(FILE *out, const snap_doc *d);
/* with_header: the CSV header line first (once for several files). */
void report_csv(FILE *out, const snap_doc *d, bool with_header);
/* Each step as vLLM's --save-result JSON object, one per line (report_vllm.c); 0 or -1
 * when out of memory. */
int report_vllm_json(FILE *out, const snap_doc *d);
/* The whole page for n documents (report_html.c). */
void report_html(FILE *out, const snap_doc *docs, size_t n);

/* The charts (report_svg.c), shared by report and compare. */
#include "report/report_svg.h"

/* The subcommand: exit code per DESIGN.md §12 (2 for unreadable input, 1 when the output
 * cannot be written). */
int report_main(const llm_config *cfg);
/* `llmload merge FILE... -o FILE [--force]`: exit 0, 2 (bad input; runs of different
 * targets, models, endpoints or plans, or a file twice, without --force) or 1 (cannot
 * write). */
int merge_main(const llm_config *cfg);

/* Issue 13: the client overhead's p50 of a step with a server view: per request (llama.cpp
 * timings) or client E2E p50 - server E2E p50 (histograms); NaN when either is missing, or
 * when the difference is smaller than the server bucket its p50 fell in (not measurable:
 * report_overhead_unresolved says so). */
double report_overhead_p50(const snap_step *s);
bool report_overhead_unresolved(const snap_step *s);

/* The client-vs-server table's figures of a step, one reader for the Markdown and HTML
 * tables: TTFT client / server (its prefill with timings), E2E client / server, server
 * queue, TPOT client / server decode per token, overhead (report_overhead_p50), tokens
 * server / client. ms, p50; NaN = not known. Returns whether the source is timings. */
#define REPORT_SERVER_COLS 10
bool report_server_row(const snap_step *s, double v[REPORT_SERVER_COLS]);

#endif
