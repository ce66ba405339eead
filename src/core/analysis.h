/* core/analysis: what a run's figures say (DESIGN.md §9): the two knees of a ramp, the best
 * load, the seeds' diagnosis rules, and the SLO verdict, each as a sentence citing the
 * numbers behind it. Pure; any thread, on a stats it may read. */
#ifndef LLM_ANALYSIS_H
#define LLM_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/search.h"
#include "core/stats.h"

#define ANALYSIS_MAX_FINDINGS 8
#define ANALYSIS_TEXT 256

/* A load the analysis points at: a step's concurrency, or its rate when
 * analysis.knee_is_rate. */
typedef struct {
    bool found;
    double load;
    char reason[ANALYSIS_TEXT];
} analysis_load;

typedef struct {
    /* The knee of DESIGN.md §12's "analysis.knee": the earlier of the two knees below, so
     * the first limit the server shows — the throughput knee when it comes at a lower load
     * than the latency knee (or there is no latency knee), else the latency knee. Its
     * reason is that knee's reason; knee_kind says which ("throughput" or "latency"). */
    bool has_knee;
    double knee_load;
    bool knee_is_rate; /* an open-loop (rate) ramp: every load here is a rate */
    const char *knee_kind;
    char knee_reason[ANALYSIS_TEXT];
    /* The throughput knee: the lowest load after which no step reaches 10 % more TPS than
     * it (the last load that still paid off); a step less than 20 % above it in load needs
     * only half its load's growth, so a ramp of +1 user is no plateau. None while the
     * highest load still added throughput. */
    analysis_load throughput_knee;
    /* The latency knee: the first step whose TTFT p50 is > 50 % (and ≥ 10 ms) above the
     * step before, or where errors start (≥ 1 % of its requests after a step below 1 %):
     * the first load that costs latency or errors. */
    analysis_load latency_knee;
    /* The load to run at, from the knees: the throughput knee, or the step before the
     * latency knee when that comes first; the highest load tried when neither shows (more
     * may be possible). A search's answer instead when it found one. */
    analysis_load best_load;
    size_t n_findings;
    char findings[ANALYSIS_MAX_FINDINGS][ANALYSIS_TEXT];
} analysis;

/* The ramp is the steps of the output test (of the first step's test when there is none),
 * with requests, in order of rising load; a repeated load counts once (its first step). A
 * search's steps are sorted by load first, and its answer is the first finding. Every
 * finding that names a knee or the best load agrees with the fields above. */
void analysis_run(const stats *st, analysis *out);

/* False, with why ("no request completed", "8 requests completed but no token arrived"),
 * when the figures cannot pass any gate: nothing completed, or nothing that succeeded
 * carried a token. why may be NULL. */
bool analysis_measured(const stats_agg *a, char *why, size_t cap);

/* A step meets the SLO when it was measured (above), has successes, was not cut short by a
 * search, and its error rate and its p99 TTFT, TPOT and E2E (failures counted as slower
 * than any limit, see analysis_latency_over) are within the limits given. why (may be
 * NULL) gets the verdict in one sentence: the first limit missed and by how much ("TTFT p99
 * 2.41 s is over the 2.00 s limit by 21 %"), or the figures that met them. */
bool analysis_slo_verdict(const stats_agg *a, const llm_slo *slo, char *why, size_t cap);

/* analysis_slo_verdict without the sentence. */
bool analysis_step_meets_slo(const stats_agg *a, const llm_slo *slo);

/* True when the pct-th percentile of TTFT, TPOT or E2E is over its limit in slo. The
 * percentile is over the successes and the failures, a failed request counting as over
 * every limit (for TTFT, so does a success that got no first token): with 40 of 48 failed,
 * the p50 is over any limit. */
bool analysis_latency_over(const stats_agg *a, const llm_slo *slo, double pct);

/* --search: the search's state replayed from its ended steps (st->steps_ended) against
 * st->slo: the highest load that met the SLO and the lowest that missed it. */
void analysis_search(const stats *st, search_state *out);

#endif
