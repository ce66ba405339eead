/* report/compare: `llmload compare BASE NEW` — two runs' steps matched by applied load, the
 * change of each figure with a verdict decided from the runs' own spread (histograms,
 * per-second series, repeats), knees side by side; Markdown, CSV or HTML. Main thread. */
#ifndef LLM_COMPARE_H
#define LLM_COMPARE_H

#include <stdbool.h>
#include <stdio.h>

#include "config/config.h"
#include "report/snapread.h"

typedef enum { CMP_NOISE = 0, CMP_BETTER, CMP_WORSE, CMP_MIXED, CMP_NONE } cmp_verdict;

typedef enum {
    CMP_RPS = 0,
    CMP_TPS,
    CMP_TTFT_P50,
    CMP_TTFT_P99,
    CMP_TPOT_P50,
    CMP_E2E_P99,
    CMP_ERROR_RATE,
    CMP_FIGURES
} cmp_figure;

/* One figure of one matched load: values, change, and the interval each run's value is
 * known within (95 %; -inf/inf when the run has too few samples to bound it). */
typedef struct {
    double base, next;   /* NaN when a run has no value */
    double delta, pct;   /* next - base; 100 * delta / base (NaN when base is 0) */
    double lo[2], hi[2]; /* [0] base, [1] new */
    cmp_verdict verdict; /* CMP_BETTER, CMP_WORSE, CMP_NOISE; CMP_NONE without values */
    double worse_by;     /* how much worse, in % (percentage points for the error rate) */
} cmp_change;

typedef struct {
    const char *test;
    double load; /* concurrency, or requests/s when rate */
    bool rate;
    int steps[2]; /* steps of this load in each run (several with --repeat) */
    cmp_change c[CMP_FIGURES];
    cmp_verdict verdict; /* worse if any figure is worse and none better, etc. */
} cmp_row;

typedef struct {
    const snap_doc *base, *next;
    cmp_row *rows;
    size_t n_rows;
    size_t unmatched[2]; /* loads only one run has */
    cmp_verdict verdict;
    double worst_pct; /* the largest worse_by of any figure judged worse; 0 = none */
} cmp_result;

/* "rps", "tps", "ttft_p50_ms", ...; and the label for people ("TTFT p50"). */
const char *cmp_figure_key(cmp_figure f);
const char *cmp_figure_label(cmp_figure f);
const char *cmp_verdict_name(cmp_verdict v); /* "better", "worse", "within noise", ... */

/* Matches the steps of two runs and judges every figure. 0, or -1 when out of memory. */
int cmp_build(const snap_doc *base, const snap_doc *next, cmp_result *r);
void cmp_free(cmp_result *r);

void cmp_markdown(FILE *out, const cmp_result *r);
void cmp_csv(FILE *out, const cmp_result *r);
void cmp_html(FILE *out, const cmp_result *r);

/* The subcommand: 0; 1 when --fail-if-worse PCT is exceeded or the output cannot be
 * written; 2 for bad input or runs of different tests without --force. */
int compare_main(const llm_config *cfg);

#endif
