/* core/search: the --search plan's choice of loads — double from the start until a step
 * misses the SLO, then bisect between the highest pass and the lowest miss. Pure; driven by
 * the consumer thread (run/session), replayed from finished steps by core/analysis. */
#ifndef LLM_SEARCH_H
#define LLM_SEARCH_H

#include <stdbool.h>
#include <stddef.h>

/* Most steps a search runs: doubling to 2^20 and bisecting to 5 % stays well below. */
#define SEARCH_MAX_STEPS 64
/* The bisection stops when the bracket is within this fraction of its upper end (or one
 * user): finer than a noisy server can tell apart. */
#define SEARCH_RESOLUTION 0.05

typedef struct {
    bool rate;         /* loads are requests/s; else users (whole numbers) */
    double start, max; /* first load, and the highest any step may have */
    double best;       /* highest load that met the SLO; 0 = none */
    double first_miss; /* lowest load that missed it; 0 = none */
    double next;       /* load of the step to run now */
    unsigned steps;    /* steps reported */
    bool done;
} search_state;

void search_start(search_state *s, double start, double max, bool rate);

/* Reports the step at s->next as meeting the SLO or not; sets the next load, or done. */
void search_report(search_state *s, bool met);

/* The result in one sentence, e.g. "the highest concurrency that meets the SLO is 24; 32
 * misses it (7 steps)". */
void search_describe(const search_state *s, char *out, size_t cap);

#endif
