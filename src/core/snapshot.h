/* core/snapshot: the snapshot JSON of DESIGN.md §8/§12 (schema llmload.snapshot/1) built
 * from stats + config, written atomically. Consumer thread (UI or headless loop). */
#ifndef LLM_SNAPSHOT_H
#define LLM_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "config/config.h"
#include "core/stats.h"

#define SNAPSHOT_SCHEMA "llmload.snapshot/1"

#ifndef LLMLOAD_VERSION
#define LLMLOAD_VERSION "0.0.0"
#endif

/* The whole document; NULL when out of memory. started/ended: wall-clock times of the run.
 * The API key never appears: it is not written, and every string taken from the config
 * (URL, header values are left out, body fields) has any copy of the key redacted. */
cJSON *snapshot_build(const stats *st, const llm_config *cfg, time_t started, time_t ended,
                      uint64_t lost_events);

/* One STEP object (per step, or the totals). key: the API key to redact from error
 * messages (NULL = none). */
/* d.tool = {"name", "version", "git" (the build's `git describe`, when known)}. */
void snapshot_add_tool(cJSON *d);

cJSON *snapshot_step_json(const stats_agg *a, const char *key);

/* The "analysis" object: knee ({concurrency|rate, reason} or null) and findings from
 * core/analysis (DESIGN.md §9); slo null unless the config sets an SLO (then met_up_to: the
 * highest step target, counting from the first step, whose p99 TTFT/TPOT/E2E and error
 * rate meet it; goodput_rps over the run). Strings have the API key redacted. */
cJSON *snapshot_analysis_json(const stats *st, const llm_config *cfg);

/* Writes the snapshot to path with llm_write_file_atomic (base/fileout.h), its series
 * streamed as in snapshot_print. Returns 0, or
 * -1 with a sentence in err ("cannot write /x/y.json: No space left on device") and no
 * temporary file left behind. */
int snapshot_write(const char *path, const stats *st, const llm_config *cfg, time_t started,
                   time_t ended, uint64_t lost_events, char *err, size_t errlen);

/* Prints the document unformatted to f, with no newline. The series is written row by row,
 * so memory does not grow with the length of a soak. Returns 0 or an errno value. */
int snapshot_print(FILE *f, const stats *st, const llm_config *cfg, time_t started, time_t ended,
                   uint64_t lost_events);

/* mkdir -p; returns 0 or -1 with errno set. */
int snapshot_make_dirs(const char *dir);

/* dir/llmload-YYYYmmdd-HHMMSS[-final][-N] (local time, no extension) not yet taken. */
void snapshot_name(const char *dir, bool final, char *out, size_t cap);

/* "2024-05-01T12:00:00Z" (UTC). */
void snapshot_iso8601(time_t t, char *out, size_t cap);

#endif
