#include "engine/arrivals.h"

#include <math.h>
#include <stdlib.h>

#include "engine/prompt.h"

int arrivals_init(arrivals *a, llm_arrivals kind, uint64_t seed, bool open_loop)
{
    *a = (arrivals){.kind = kind, .rng = seed};
    if (open_loop && !(a->backlog = calloc(ARRIVALS_BACKLOG_CAP, sizeof *a->backlog)))
        return -1;
    return 0;
}

void arrivals_free(arrivals *a)
{
    free(a->backlog);
    a->backlog = NULL;
}

static double uniform01(uint64_t *rng)
{
    return ((double)(prompt_rng_next(rng) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double normal01(uint64_t *rng)
{
    return sqrt(-2.0 * log(uniform01(rng))) * cos(6.283185307179586 * uniform01(rng));
}

/* Marsaglia and Tsang's method; shapes below 1 through the U^(1/k) boost. */
static double gamma_sample(double k, uint64_t *rng)
{
    if (k < 1)
        return gamma_sample(k + 1, rng) * pow(uniform01(rng), 1.0 / k);
    double d = k - 1.0 / 3, c = 1 / sqrt(9 * d);
    for (;;) {
        double x = normal01(rng), v = 1 + c * x;
        if (v <= 0)
            continue;
        v = v * v * v;
        if (log(uniform01(rng)) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v;
    }
}

/* Poisson (exponential gaps), constant, or gamma with shape 0.5 (mean the same, twice
 * Poisson's variance: bursts). */
uint64_t arrivals_gap_ns(arrivals *a, double rate)
{
    double mean = 1e9 / rate, gap;
    switch (a->kind) {
    case LLM_ARRIVALS_CONSTANT:
        gap = mean;
        break;
    case LLM_ARRIVALS_GAMMA:
        gap = mean * gamma_sample(0.5, &a->rng) / 0.5;
        break;
    default:
        gap = -log(uniform01(&a->rng)) * mean;
        break;
    }
    if (!(gap >= 1))
        return 1;
    return gap < 1e18 ? (uint64_t)gap : (uint64_t)1e18;
}

bool arrivals_push(arrivals *a, uint64_t t_sched)
{
    if (a->tail - a->head == ARRIVALS_BACKLOG_CAP)
        return false;
    a->backlog[a->tail++ % ARRIVALS_BACKLOG_CAP] = t_sched;
    return true;
}

uint64_t arrivals_pop(arrivals *a)
{
    return a->backlog[a->head++ % ARRIVALS_BACKLOG_CAP];
}

uint64_t arrivals_restart(arrivals *a, uint64_t now)
{
    a->next_ns = now;
    a->in_step = 0;
    uint64_t dropped = a->tail - a->head;
    a->head = a->tail;
    return dropped;
}
