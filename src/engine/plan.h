/* engine/plan: turns the configuration into an ordered list of steps (fixed = one step,
 * ramp = one per concurrency level x repeat, search = probes appended as it goes). Built by
 * the main thread, then read-only but for a search's appended probes. */
#ifndef LLM_PLAN_H
#define LLM_PLAN_H

#include <stddef.h>

#include "config/config.h"
#include "core/event.h"
#include "core/search.h"
#include "engine/prompts.h"
#include "engine/trace.h"
#include "engine/workload.h"

typedef struct {
    long concurrency;   /* closed-loop target */
    double rate;        /* open-loop requests/s; 0 = closed loop (concurrency then caps
                           the requests in flight) */
    long requests;      /* requests started in this step; 0 = bounded by duration */
    double duration_s;  /* 0 = bounded by requests */
    double cooldown_s;  /* pause after the step (in-flight drain first) */
    llm_test_kind test; /* output, input (max_tokens 1) or multimodal (image + text) */
} plan_step;

typedef struct {
    plan_step *steps;
    size_t n_steps;
    long warmup;               /* requests before step 0 that are not counted */
    long max_concurrency;      /* largest concurrency of any step */
    const char *kind;          /* "fixed", "ramp", "rate" */
    bool has_test[TEST_KINDS]; /* which kinds of step occur: slots build a body for each */
    llm_arrivals arrivals;     /* spacing of open-loop arrivals */
    /* --search: steps[0] is the first probe; the controlling thread appends each next probe
     * (plan_add_probe) before telling the engine, which never reads past the probes it was
     * told of. */
    bool search;
    bool search_rate;  /* the probes vary the rate, not the concurrency */
    double search_max; /* highest load a probe may have */
    size_t cap_steps;
    /* --dataset trace: its records, replayed as the one open-loop step's arrivals at their
     * times / speedup (not owned: the session keeps the trace) */
    const llm_trace *trace;
    double speedup;
    /* --dataset sharegpt: bodies read before the run (not owned: the session keeps them;
     * the engine takes them in order as its prompts) */
    const prompt_set *dataset;
    /* --dataset sharegpt with --turns: the recorded conversations (not owned) */
    const wl_script *scripts;
    size_t n_scripts;
} plan;

#define PLAN_SEARCH_MAX_PROBES SEARCH_MAX_STEPS

/* In-flight cap of an open-loop plan when --max-inflight is not given. */
#define PLAN_RATE_DEFAULT_CAP 1024

/* Returns 0, or -1 with a sentence in err (e.g. a ramp that produces no steps). */
int plan_build(const llm_config *cfg, plan *out, char *err, size_t errlen);
/* --dataset trace: the plan is one open-loop step of the trace's n records (or -n's first
 * N) at its nominal rate. t must outlive the plan. */
int plan_build_trace(const llm_config *cfg, const llm_trace *t, plan *out, char *err,
                     size_t errlen);
void plan_free(plan *p);
/* --search: appends a probe like steps[0] at this load (users, or requests/s). Returns its
 * index, or -1 when the plan holds PLAN_SEARCH_MAX_PROBES. Controlling thread only. */
long plan_add_probe(plan *p, double load);
/* "3/7", or "3/?" in a search (its length is not known ahead). step: 0-based. */
void plan_step_counter(const plan *p, uint32_t step, uint32_t n_steps, char *out, size_t cap);
/* --shard I/N: keeps worker `index`'s share (0-based) of every step: users, requests, the
 * in-flight cap and the warm-up divided so the N shares add up exactly (the first total % N
 * workers take one more), the rate divided by N. Returns 0, or -1 with a sentence in err
 * when a step has fewer users or requests than workers (a worker would get none). */
int plan_shard(plan *p, long index, long count, char *err, size_t errlen);
/* Worker `index`'s share of total among count: total / count, plus one for the first
 * total % count workers. */
long plan_share(long total, long index, long count);
/* One line: "ramp 1→64 x2, 7 steps of 100 requests". */
void plan_describe(const plan *p, char *out, size_t cap);

#endif
