#include "engine/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long ramp_next(const llm_config *cfg, long c)
{
    if (cfg->ramp_multiply)
        return c * (cfg->ramp_step > 1 ? cfg->ramp_step : 2);
    return c + (cfg->ramp_step > 0 ? cfg->ramp_step : 1);
}

static size_t ramp_levels(const llm_config *cfg, long *levels, size_t cap)
{
    size_t n = 0;
    long c = cfg->ramp_start > 0 ? cfg->ramp_start : 1;
    while (c < cfg->ramp_end && n < cap) {
        levels[n++] = c;
        c = ramp_next(cfg, c);
    }
    /* The end value is always a step of its own, as a user who typed it expects. */
    if (n < cap)
        levels[n++] = cfg->ramp_end;
    return n;
}

static plan_step step_of(const llm_config *cfg, long concurrency, bool ramp)
{
    plan_step s = {.concurrency = concurrency, .cooldown_s = ramp ? cfg->cooldown_s : 0};
    if (ramp && (cfg->step_requests > 0 || cfg->step_duration_s > 0)) {
        s.requests = cfg->step_requests;
        s.duration_s = cfg->step_duration_s;
    } else {
        s.duration_s = cfg->duration_s;
        s.requests = cfg->duration_s > 0 && !cfg->requests ? 0 : cfg->requests;
    }
    if (!s.requests && s.duration_s <= 0)
        s.requests = 100;
    return s;
}

int plan_build(const llm_config *cfg, plan *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->warmup = cfg->warmup;
    out->arrivals = cfg->arrivals;
    bool ramp = cfg->ramp_end > 0;
    long levels[4096];
    size_t n_levels = ramp ? ramp_levels(cfg, levels, 4096) : 1;
    if (!ramp)
        levels[0] = cfg->concurrency > 0 ? cfg->concurrency : 1;
    long repeat = cfg->repeat > 0 ? cfg->repeat : 1;
    /* The seeds' -i and -o: at each concurrency an input test, then an output test. */
    bool input = cfg->test_input, output = !cfg->test_input || cfg->test_output;
    size_t per_level = (size_t)repeat * ((input ? 1u : 0u) + (output ? 1u : 0u));
    out->steps = calloc(n_levels * per_level, sizeof *out->steps);
    if (!out->steps) {
        snprintf(err, errlen, "out of memory building the plan");
        return -1;
    }
    for (size_t i = 0; i < n_levels; i++) {
        for (int test = input ? 0 : 1; test <= (output ? 1 : 0); test++) {
            for (long r = 0; r < repeat; r++) {
                plan_step s = step_of(cfg, levels[i], ramp);
                s.input_test = test == 0;
                out->steps[out->n_steps++] = s;
            }
        }
        if (levels[i] > out->max_concurrency)
            out->max_concurrency = levels[i];
    }
    out->kind = ramp ? "ramp" : "fixed";
    if (cfg->rate > 0) {
        if (ramp || cfg->test_input) {
            snprintf(err, errlen,
                     "--rate runs one open-loop step: use it without --ramp, -et "
                     "and -i");
            return -1;
        }
        out->steps[0].rate = cfg->rate;
        out->steps[0].concurrency =
            cfg->max_inflight > 0 ? cfg->max_inflight : PLAN_RATE_DEFAULT_CAP;
        out->max_concurrency = out->steps[0].concurrency;
        out->kind = "rate";
    }
    out->has_input_steps = input;
    return 0;
}

void plan_free(plan *p)
{
    free(p->steps);
    memset(p, 0, sizeof *p);
}

void plan_describe(const plan *p, char *out, size_t cap)
{
    const plan_step *first = &p->steps[0], *last = &p->steps[p->n_steps - 1];
    char bound[64];
    if (first->requests)
        snprintf(bound, sizeof bound, "%ld requests", first->requests);
    else
        snprintf(bound, sizeof bound, "%.0f s", first->duration_s);
    const char *tests = !p->has_input_steps                   ? ""
                        : p->n_steps > 1 && !last->input_test ? " (input + output test per level)"
                                                              : " (input test)";
    if (first->rate > 0)
        snprintf(out, cap, "rate %.4g/s (%s arrivals, in-flight cap %ld), %s", first->rate,
                 p->arrivals == LLM_ARRIVALS_CONSTANT ? "constant"
                 : p->arrivals == LLM_ARRIVALS_GAMMA  ? "gamma"
                                                      : "Poisson",
                 first->concurrency, bound);
    else if (p->n_steps == 1)
        snprintf(out, cap, "fixed c=%ld, %s%s", first->concurrency, bound, tests);
    else
        snprintf(out, cap, "ramp c=%ld\xE2\x86\x92%ld, %zu steps of %s%s", first->concurrency,
                 last->concurrency, p->n_steps, bound, tests);
}
