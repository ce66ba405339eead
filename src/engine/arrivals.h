/* engine/arrivals: the open loop's arrival process — the gaps between arrivals (Poisson,
 * gamma, constant) drawn from its own seed stream, and the backlog of arrivals waiting for
 * an in-flight place. Each is owned by one engine thread (its shard). */
#ifndef LLM_ARRIVALS_H
#define LLM_ARRIVALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* Arrivals the server could not absorb are kept for this many requests, then dropped. */
#define ARRIVALS_BACKLOG_CAP (64 * 1024)

typedef struct {
    llm_arrivals kind;
    uint64_t rng;
    uint64_t next_ns;  /* the next arrival's intended time */
    uint64_t in_step;  /* arrivals released in the step */
    uint64_t *backlog; /* intended send times, a ring of ARRIVALS_BACKLOG_CAP */
    size_t head, tail;
} arrivals;

/* open_loop: allocate the backlog (a closed loop needs none). Returns 0 or -1 (memory). */
int arrivals_init(arrivals *a, llm_arrivals kind, uint64_t seed, bool open_loop);
void arrivals_free(arrivals *a);

/* Gap to the next arrival at `rate` per second: at least 1 ns, so the clock moves on. */
uint64_t arrivals_gap_ns(arrivals *a, double rate);

static inline bool arrivals_empty(const arrivals *a)
{
    return a->head == a->tail;
}

/* Queues an arrival; false when the backlog is full and it was dropped. */
bool arrivals_push(arrivals *a, uint64_t t_sched);
/* The oldest waiting arrival's intended time (the backlog must not be empty). */
uint64_t arrivals_pop(arrivals *a);
/* A new step starts from now: returns the waiting arrivals it dropped. */
uint64_t arrivals_restart(arrivals *a, uint64_t now);

#endif
