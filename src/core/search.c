/* core/search: grow then bisect (see search.h). */
#include "core/search.h"

#include <math.h>
#include <stdio.h>

void search_start(search_state *s, double start, double max, bool rate)
{
    *s = (search_state){.rate = rate, .start = start, .max = max < start ? start : max};
    s->next = start;
}

static bool bracket_closed(const search_state *s)
{
    double gap = s->first_miss - s->best;
    if (s->rate)
        /* With nothing passing, halve down to 1/16 of the start, then give up. */
        return s->best > 0 ? gap <= SEARCH_RESOLUTION * s->first_miss
                           : s->first_miss <= s->start / 16;
    return gap <= fmax(1.0, SEARCH_RESOLUTION * s->first_miss);
}

static double midpoint(const search_state *s)
{
    double mid = (s->best + s->first_miss) / 2;
    return s->rate ? round(mid * 1000) / 1000 : floor(mid);
}

void search_report(search_state *s, bool met)
{
    if (s->done)
        return;
    double load = s->next;
    s->steps++;
    if (met && load > s->best)
        s->best = load;
    if (!met && (s->first_miss == 0 || load < s->first_miss))
        s->first_miss = load;
    if (s->steps >= SEARCH_MAX_STEPS) {
        s->done = true;
    } else if (s->first_miss == 0) {
        /* Every step so far met the SLO: double, up to the bound. */
        if (load >= s->max)
            s->done = true;
        else
            s->next = s->rate ? fmin(load * 2, s->max) : fmin(floor(load * 2), s->max);
    } else if (bracket_closed(s)) {
        s->done = true;
    } else {
        s->next = midpoint(s);
    }
}

/* "rate 12.5/s" / "concurrency 24", or without the name. */
static void load_text(const search_state *s, double load, bool named, char *out, size_t cap)
{
    if (s->rate)
        snprintf(out, cap, "%s%.4g/s", named ? "rate " : "", load);
    else
        snprintf(out, cap, "%s%.0f", named ? "concurrency " : "", load);
}

void search_describe(const search_state *s, char *out, size_t cap)
{
    char best[48], best_named[48], miss_named[48];
    load_text(s, s->best, false, best, sizeof best);
    load_text(s, s->best, true, best_named, sizeof best_named);
    load_text(s, s->first_miss, true, miss_named, sizeof miss_named);
    const char *unfinished = s->done ? "" : "the search stopped early; so far ";
    if (s->best > 0 && s->first_miss > 0)
        snprintf(out, cap, "%sthe highest %s that meets the SLO is %s; %s misses it (%u steps)",
                 unfinished, s->rate ? "rate" : "concurrency", best, miss_named, s->steps);
    else if (s->best > 0)
        snprintf(out, cap,
                 "%severy step met the SLO, up to %s (%u steps; --search-max goes higher)",
                 unfinished, best_named, s->steps);
    else if (s->first_miss > 0)
        snprintf(out, cap, "%sno step met the SLO; the lowest tried, %s, misses it (%u steps)",
                 unfinished, miss_named, s->steps);
    else
        snprintf(out, cap, "the search ran no step to its end");
}
