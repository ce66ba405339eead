/* engine/plan: turns the configuration into an ordered list of steps (fixed = one step,
 * ramp = one per concurrency level x repeat). Built by the main thread, then read-only. */
#ifndef LLM_PLAN_H
#define LLM_PLAN_H

#include <stddef.h>

#include "config/config.h"
#include "core/event.h"

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
} plan;

/* In-flight cap of an open-loop plan when --max-inflight is not given. */
#define PLAN_RATE_DEFAULT_CAP 1024

/* Returns 0, or -1 with a sentence in err (e.g. a ramp that produces no steps). */
int plan_build(const llm_config *cfg, plan *out, char *err, size_t errlen);
void plan_free(plan *p);
/* One line: "ramp 1→64 x2, 7 steps of 100 requests". */
void plan_describe(const plan *p, char *out, size_t cap);

#endif
