#include "engine/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* At each concurrency, the seeds' order: input test, output test, multimodal test. */
static const llm_test_kind step_order[] = {TEST_INPUT, TEST_OUTPUT, TEST_MULTIMODAL};

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

/* lework/llm-benchmark's run_benchmarks.py: (requests, concurrency) pairs, 5 s between. */
static const long suite_steps[][2] = {{10, 1}, {100, 50}, {200, 100}, {400, 200}, {600, 300}};

static int suite_build(plan *out, char *err, size_t errlen)
{
    size_t n = sizeof suite_steps / sizeof suite_steps[0];
    out->steps = calloc(n, sizeof *out->steps);
    if (!out->steps) {
        snprintf(err, errlen, "out of memory building the plan");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        out->steps[i] = (plan_step){.requests = suite_steps[i][0],
                                    .concurrency = suite_steps[i][1],
                                    .cooldown_s = 5,
                                    .test = TEST_OUTPUT};
    out->n_steps = n;
    out->max_concurrency = suite_steps[n - 1][1];
    out->has_test[TEST_OUTPUT] = true;
    out->kind = "ramp";
    return 0;
}

/* --search: the first probe at -c (or --rate); the others come as the search goes. */
static int search_build(const llm_config *cfg, plan *out, char *err, size_t errlen)
{
    out->steps = calloc(PLAN_SEARCH_MAX_PROBES, sizeof *out->steps);
    if (!out->steps) {
        snprintf(err, errlen, "out of memory building the plan");
        return -1;
    }
    out->cap_steps = PLAN_SEARCH_MAX_PROBES;
    out->search = true;
    out->search_rate = cfg->rate > 0;
    out->kind = "search";
    plan_step s = step_of(cfg, cfg->concurrency > 0 ? cfg->concurrency : 1, true);
    s.test = cfg->test_input                             ? TEST_INPUT
             : (cfg->test_multimodal || cfg->image_file) ? TEST_MULTIMODAL
                                                         : TEST_OUTPUT;
    out->has_test[s.test] = true;
    if (out->search_rate) {
        s.rate = cfg->rate;
        s.concurrency = cfg->max_inflight > 0 ? cfg->max_inflight : PLAN_RATE_DEFAULT_CAP;
        out->search_max = cfg->search_max > 0 ? cfg->search_max : 64 * cfg->rate;
        out->max_concurrency = s.concurrency;
    } else {
        out->search_max = cfg->search_max > 0 ? cfg->search_max : 256;
        out->max_concurrency = (long)out->search_max;
    }
    out->steps[0] = s;
    out->n_steps = 1;
    return 0;
}

long plan_add_probe(plan *p, double load)
{
    if (!p->search || p->n_steps >= p->cap_steps)
        return -1;
    plan_step s = p->steps[0];
    if (p->search_rate)
        s.rate = load;
    else
        s.concurrency = (long)load;
    p->steps[p->n_steps] = s;
    return (long)p->n_steps++;
}

int plan_build(const llm_config *cfg, plan *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->warmup = cfg->warmup;
    out->arrivals = cfg->arrivals;
    if (cfg->suite)
        return suite_build(out, err, errlen);
    if (cfg->search)
        return search_build(cfg, out, err, errlen);
    bool ramp = cfg->ramp_end > 0;
    long levels[4096];
    size_t n_levels = ramp ? ramp_levels(cfg, levels, 4096) : 1;
    if (!ramp)
        levels[0] = cfg->concurrency > 0 ? cfg->concurrency : 1;
    long repeat = cfg->repeat > 0 ? cfg->repeat : 1;
    /* The seeds' -i, -o and -mm: at each concurrency an input test, an output test and a
     * multimodal test, those asked for; none asked = the output test. */
    bool mm = cfg->test_multimodal || cfg->image_file;
    out->has_test[TEST_INPUT] = cfg->test_input;
    out->has_test[TEST_MULTIMODAL] = mm;
    out->has_test[TEST_OUTPUT] = cfg->test_output || (!cfg->test_input && !mm);
    size_t kinds = 0;
    for (int k = 0; k < TEST_KINDS; k++)
        kinds += out->has_test[k];
    out->steps = calloc(n_levels * kinds * (size_t)repeat, sizeof *out->steps);
    if (!out->steps) {
        snprintf(err, errlen, "out of memory building the plan");
        return -1;
    }
    for (size_t i = 0; i < n_levels; i++) {
        for (size_t k = 0; k < sizeof step_order / sizeof step_order[0]; k++) {
            for (long r = 0; out->has_test[step_order[k]] && r < repeat; r++) {
                plan_step s = step_of(cfg, levels[i], ramp);
                s.test = step_order[k];
                out->steps[out->n_steps++] = s;
            }
        }
        if (levels[i] > out->max_concurrency)
            out->max_concurrency = levels[i];
    }
    out->kind = ramp ? "ramp" : "fixed";
    if (cfg->rate_ramp) {
        if (kinds > 1) {
            snprintf(err, errlen,
                     "--rate-ramp runs open-loop steps: use it with one of -i, -o, "
                     "-mm");
            return -1;
        }
        long cap = cfg->max_inflight > 0 ? cfg->max_inflight : PLAN_RATE_DEFAULT_CAP;
        for (size_t i = 0; i < out->n_steps; i++) {
            out->steps[i].rate = (double)out->steps[i].concurrency;
            out->steps[i].concurrency = cap;
        }
        out->max_concurrency = cap;
        out->kind = "rate";
    } else if (cfg->rate > 0) {
        if (ramp || kinds > 1) {
            snprintf(err, errlen,
                     "--rate runs one open-loop step: use it without --ramp, -et, "
                     "or more than one of -i, -o, -mm");
            return -1;
        }
        out->steps[0].rate = cfg->rate;
        out->steps[0].concurrency =
            cfg->max_inflight > 0 ? cfg->max_inflight : PLAN_RATE_DEFAULT_CAP;
        out->max_concurrency = out->steps[0].concurrency;
        out->kind = "rate";
    }
    return 0;
}

int plan_build_trace(const llm_config *cfg, const llm_trace *t, plan *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->steps = calloc(1, sizeof *out->steps);
    if (!out->steps) {
        snprintf(err, errlen, "out of memory building the plan");
        return -1;
    }
    out->n_steps = 1;
    out->warmup = cfg->warmup;
    out->arrivals = LLM_ARRIVALS_TRACE;
    out->has_test[TEST_OUTPUT] = true;
    out->trace = t;
    out->speedup = cfg->speedup > 0 ? cfg->speedup : 1;
    plan_step *s = &out->steps[0];
    s->requests = (long)t->n;
    s->rate = trace_rate(t) * out->speedup;
    if (!(s->rate > 0)) /* one record, or all at one instant: any rate makes it open loop */
        s->rate = 1;
    s->concurrency = cfg->max_inflight > 0 ? cfg->max_inflight : PLAN_RATE_DEFAULT_CAP;
    out->max_concurrency = s->concurrency;
    out->kind = "trace";
    return 0;
}

long plan_share(long total, long index, long count)
{
    if (count <= 1)
        return total;
    return total / count + (index < total % count ? 1 : 0);
}

static int shard_step(plan_step *s, size_t k, long index, long count, char *err, size_t errlen)
{
    const char *what = s->rate > 0 ? "an in-flight cap of" : "";
    if (s->concurrency < count) {
        snprintf(err, errlen,
                 "--shard: step %zu has %s %ld users, fewer than the %ld workers, so one would "
                 "get none: use at most %ld workers or more users",
                 k + 1, what, s->concurrency, count, s->concurrency);
        return -1;
    }
    if (s->requests > 0 && s->requests < count) {
        snprintf(err, errlen,
                 "--shard: step %zu has %ld requests, fewer than the %ld workers, so one would "
                 "get none: give at least %ld requests or a duration",
                 k + 1, s->requests, count, count);
        return -1;
    }
    s->concurrency = plan_share(s->concurrency, index, count);
    s->requests = plan_share(s->requests, index, count);
    s->rate /= (double)count;
    return 0;
}

int plan_shard(plan *p, long index, long count, char *err, size_t errlen)
{
    if (count <= 1)
        return 0;
    if (p->search) {
        snprintf(err, errlen,
                 "--shard: a search picks its steps from results one worker does "
                 "not have: run it in one process");
        return -1;
    }
    p->max_concurrency = 0;
    for (size_t k = 0; k < p->n_steps; k++) {
        if (shard_step(&p->steps[k], k, index, count, err, errlen) != 0)
            return -1;
        if (p->steps[k].concurrency > p->max_concurrency)
            p->max_concurrency = p->steps[k].concurrency;
    }
    p->warmup = plan_share(p->warmup, index, count);
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
    if (p->search) {
        if (p->search_rate)
            snprintf(out, cap,
                     "search: rate %.4g\xE2\x86\x92\xE2\x89\xA4%.4g/s for the SLO, steps "
                     "of %s",
                     first->rate, p->search_max, bound);
        else
            snprintf(out, cap, "search: c=%ld\xE2\x86\x92\xE2\x89\xA4%.0f for the SLO, steps of %s",
                     first->concurrency, p->search_max, bound);
        return;
    }
    char tests[64] = "";
    if (p->has_test[TEST_INPUT] || p->has_test[TEST_MULTIMODAL]) {
        size_t n = (size_t)snprintf(tests, sizeof tests, " (");
        for (size_t i = 0; i < sizeof step_order / sizeof step_order[0]; i++)
            if (p->has_test[step_order[i]])
                n += (size_t)snprintf(tests + n, sizeof tests - n, "%s%s", n > 2 ? " + " : "",
                                      test_kind_name(step_order[i]));
        snprintf(tests + n, sizeof tests - n, " test%s)", p->n_steps > 1 ? " per level" : "");
    }
    if (p->trace) {
        snprintf(out, cap, "trace replay: %s over %.4g s x1/%.4g (%.4g/s, in-flight cap %ld)",
                 bound, p->trace->span_s, p->speedup, first->rate, first->concurrency);
        return;
    }
    if (first->rate > 0 && p->n_steps > 1)
        snprintf(out, cap,
                 "rate ramp %.4g\xE2\x86\x92%.4g/s (%s arrivals, in-flight cap %ld), "
                 "%zu steps of %s",
                 first->rate, last->rate,
                 p->arrivals == LLM_ARRIVALS_CONSTANT ? "constant"
                 : p->arrivals == LLM_ARRIVALS_GAMMA  ? "gamma"
                                                      : "Poisson",
                 first->concurrency, p->n_steps, bound);
    else if (first->rate > 0)
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

void plan_step_counter(const plan *p, uint32_t step, uint32_t n_steps, char *out, size_t cap)
{
    if (p->search)
        snprintf(out, cap, "%u/?", step + 1);
    else
        snprintf(out, cap, "%u/%u", step + 1, n_steps);
}
