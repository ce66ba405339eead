/* core/analysis: what a run's figures say (DESIGN.md §9): the knee of a ramp and the seeds'
 * diagnosis rules, each as a sentence citing the numbers behind it. Pure; any thread, on a
 * stats it may read. */
#ifndef LLM_ANALYSIS_H
#define LLM_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/search.h"
#include "core/stats.h"

#define ANALYSIS_MAX_FINDINGS 6
#define ANALYSIS_TEXT 256

typedef struct {
    bool has_knee;
    double knee_load;  /* the knee step's concurrency, or its rate when knee_is_rate */
    bool knee_is_rate; /* an open-loop (rate) ramp */
    char knee_reason[ANALYSIS_TEXT];
    size_t n_findings;
    char findings[ANALYSIS_MAX_FINDINGS][ANALYSIS_TEXT];
} analysis;

/* The knee: the first step of a ramp where TPS gains < 10 % over the step before while TTFT
 * p50 grows > 50 %, or where errors start (≥ 1 % of its requests, after a step below 1 %).
 * The ramp is the steps of the output test (of the first step's test when there is none),
 * with requests, in order of rising load; a repeated load counts once (its first step).
 * A search's steps are sorted by load first, and its answer is the first finding. */
void analysis_run(const stats *st, analysis *out);

/* A step meets the SLO when it has completions, was not cut short by a search, and its
 * p99 TTFT, TPOT and E2E and its error rate are within the limits given. */
bool analysis_step_meets_slo(const stats_agg *a, const llm_slo *slo);

/* True when the pct-th percentile of TTFT, TPOT or E2E is over its limit in slo. */
bool analysis_latency_over(const stats_agg *a, const llm_slo *slo, double pct);

/* --search: the search's state replayed from its ended steps (st->steps_ended) against
 * st->slo: the highest load that met the SLO and the lowest that missed it. */
void analysis_search(const stats *st, search_state *out);

#endif
