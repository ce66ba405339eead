/* core/summary: the final summary table of a headless run (requests, throughput, tokens,
 * latency percentiles, per-step table, errors, then core/analysis: the two knees, the best
 * load, the SLO verdict and the findings). Consumer thread, after the run. */
#ifndef LLM_SUMMARY_H
#define LLM_SUMMARY_H

#include <stdint.h>
#include <stdio.h>

#include "core/stats.h"

/* Prints one block to out. lost_events > 0 adds a line saying the measurement is
 * incomplete. Error messages are printed as the engine gave them (never the key). */
void stats_print_summary(FILE *out, const stats *st, uint64_t lost_events);

#endif
