/* report/snapread: the one reader of snapshot files (schema llmload.snapshot/1, DESIGN §12):
 * a file into a plain C model for report, merge and compare. Any thread; no shared state. */
#ifndef LLM_SNAPREAD_H
#define LLM_SNAPREAD_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/event.h"
#include "core/hist.h"
#include "core/stats.h"

/* Every number below is NaN when the file does not have it (an older writer, or null);
 * every string NULL. Strings point into snap_doc.json and live as long as the doc. */

/* One metric's summary in its display unit (ms, or tok/s for the speeds). */
typedef struct {
    double count, mean, min, p50, p90, p95, p99, p999, max;
    double ratio; /* per_stream_tps only: decode tokens / decode time over the step */
} snap_summary;

/* A histogram as written: the non-empty buckets [low, high) in its recorded unit (µs or
 * mtok/s). snap_hist_build turns it back into a core/hist. */
typedef struct {
    uint64_t low, high, count;
} snap_bucket;

typedef struct {
    bool present;
    uint64_t overflow;
    snap_bucket *buckets;
    size_t n_buckets;
} snap_hist;

/* One turn of a multi-turn step ("turns": [...]): requests and the means of its figures. */
#define SNAP_TURNS 16
typedef struct {
    double turn, requests, ttft_mean_ms, prompt_tokens_mean, cached_tokens_mean;
} snap_turn;

/* One STEP object: a plan step, or the totals (index 0). */
typedef struct {
    int index;                 /* 1-based; 0 for the totals */
    const char *test, *source; /* source: the file a merged step came from */
    double concurrency, rate;  /* rate > 0: an open-loop step */
    double duration_s;         /* the step's window (pauses excluded); the run for totals */
    bool manual, cut_short;
    double ok, failed, errors[ERR_CLASSES];
    const char *error_messages[ERR_CLASSES];
    double output_tokens, prompt_tokens, content_events, usage_tokens, tokens_per_event;
    bool estimated;
    double asked_output, ended_early; /* tokens.asked_output / ended_early; NaN = older file */
    /* cache {hit_share, cached_tokens, hits, reported}: the server's prefix cache; NaN =
     * not reported (hit_share) or an older file */
    double cache_hit_share, cached_tokens, cache_hits, cache_reported;
    snap_turn turns[SNAP_TURNS]; /* --turns: per turn; n_turns 0 = a single-request run */
    size_t n_turns;
    double turns_history_overflow; /* conversations cut short by their history; NaN = none */
    /* what arrived and completed inside the window; NaN in files from before the windows:
     * snap_window_tokens / snap_window_completed fall back to tps and rps × duration_s */
    double window_output_tokens, window_completed;
    double rps, tps, goodput_rps, slo_met, reconnects, efficiency;
    double reconnect_lost_ms; /* time lost on the failed kept-alive connections */
    double mean_inflight, mean_target, achieved_ratio, send_rate; /* achieved: {...} */
    bool missed_target;
    double client_cpu_max_pct, server_waiting_max;
    snap_summary m[STATS_METRICS];
    /* STEP.server and STEP.client_overhead_ms (issue 13): where the server's figures come
     * from ("timings", "metrics"; NULL = none), its token count beside the client's, and
     * how the overhead was taken ("per_request", "difference_of_percentiles") */
    const char *srv_source, *overhead_method;
    double overhead_res_ms; /* client_overhead_ms.e2e.resolution_ms.p50: the width of the
                               server bucket its p50 fell in (NaN = per request or unknown) */
    double srv_tokens, srv_client_tokens, srv_tokens_diff_pct;
    snap_hist h[STATS_METRICS];
    const cJSON *json; /* the object as written: a writer passes it on whole (merge) */
} snap_step;

/* One second of the series. */
typedef struct {
    double t, target, inflight, rps, tps, ttft_p50_ms, ttft_p99_ms, errors, cpu_pct, temp_c;
    double server_running, server_waiting, server_kv_pct;
    const cJSON *json;
} snap_row;

/* One group of repeated steps (--repeat K): the mean and sample SD of its figures. */
#define SNAP_REPEAT_FIGURES 4
extern const char *const snap_repeat_keys[SNAP_REPEAT_FIGURES]; /* "rps", "tps", ... */
typedef struct {
    double first_step, steps; /* first_step: 0-based index into steps[] */
    double concurrency, rate;
    const char *test;
    double mean[SNAP_REPEAT_FIGURES], sd[SNAP_REPEAT_FIGURES];
} snap_repeat;

/* A load the analysis names (analysis.throughput_knee, latency_knee, best_load). */
typedef struct {
    bool found;
    double load; /* concurrency, or a rate when the analysis' knee_is_rate */
    const char *reason;
} snap_load_note;

typedef struct {
    bool has_knee;
    double knee_load;  /* concurrency, or a rate when knee_is_rate */
    bool knee_is_rate; /* an open-loop ramp */
    const char *knee_reason;
    const char *knee_kind; /* "throughput" or "latency"; NULL in older files */
    snap_load_note throughput_knee, latency_knee, best_load;
    const char *slo_verdict; /* analysis.slo.verdict; NULL when absent */
    bool has_search;         /* analysis.search of a --search run */
    bool search_rate;
    double search_best, search_first_miss, search_steps;
    bool search_finished;
    bool has_slo;
    double slo_met_up_to, slo_goodput_rps;
    const char **findings;
    size_t n_findings;
    const cJSON *json; /* NULL when the file has no analysis */
} snap_analysis;

typedef struct {
    const char *url, *model, *endpoint, *plan; /* plan: config.plan.kind */
    llm_slo slo;                               /* config.slo; 0 and -1 = not given */
    const char *arrivals;                      /* config.plan.arrivals (open loop) */
    double max_inflight;                       /* config.plan.max_inflight; 0 = no cap */
    double shard_index, shard_count;           /* config.shard: NaN = not a shard's file */
    double start_at;                           /* config.shard.start_at (Unix seconds) */
    const char *server_model;                  /* config.server_model: what the server named */
    const cJSON *json;                         /* the config as written (never the key) */
} snap_config;

/* The GPUs of the machine that ran llmload (issue 16): the devices and the run's peaks
 * (the top-level "gpu" object), each device's figures over the series, and each series
 * row's samples ("gpu": [...], at most SNAP_GPUS devices a row). */
#define SNAP_GPUS 16
typedef struct {
    double index;
    const char *name, *vendor; /* vendor: "nvidia" or "amd" */
    double util_mean_pct, util_max_pct, temp_max_c, power_max_w, mem_used_max_mb,
        mem_total_mb; /* over the series; NaN when no second had it */
} snap_gpu_device;
typedef struct {
    double index, util_pct, mem_used_mb, mem_total_mb, temp_c, power_w;
    const char *name;
} snap_gpu_sample;
typedef struct {
    bool present; /* the top-level object, or samples in the series; false: "gpu": null (no
                     GPU) or a file from before it */
    snap_gpu_device devices[SNAP_GPUS];
    size_t n_devices;
    double max_temp_c, max_power_w, max_util_pct;
    bool throttling_seen;
    const cJSON *json; /* the object as written; NULL when not present */
    /* series row i, its k-th device (k < per_row): samples[i * per_row + k]; index NaN =
     * none in that row */
    snap_gpu_sample *samples;
    size_t per_row;
} snap_gpu;

typedef struct {
    const char *path;
    cJSON *json; /* the parsed file; owned */
    const char *version, *started, *ended, *stop_reason;
    bool interrupted;
    snap_config config;
    snap_step *steps;
    size_t n_steps;
    snap_step totals;
    bool has_totals;
    snap_repeat *repeats;
    size_t n_repeats;
    snap_row *series;
    size_t n_series;
    double series_dropped, lost_events, warmup_requests;
    snap_analysis analysis;
    snap_gpu gpu;
} snap_doc;

/* Reads and checks a snapshot (unknown keys are ignored); 0, or -1 with one sentence in
 * err ("x.json is not an llmload snapshot (not JSON): give the .json that ..."). */
int snap_load(const char *path, snap_doc *d, char *err, size_t errlen);
/* snap_load of a document already parsed (merge reads back what it built); takes json, which
 * snap_free frees, even on failure. path names it in messages. */
int snap_from_json(cJSON *json, const char *path, snap_doc *d, char *err, size_t errlen);
void snap_free(snap_doc *d);

/* A metric's histogram rebuilt: buckets as written, min/max/mean from its summary (so
 * percentiles come out as the writer computed them). Empty when the file had none. */
void snap_hist_build(const snap_step *s, stats_metric m, hist *out);

/* Tokens that arrived / requests that completed inside the step's window: the window
 * counts when written, else tps × duration_s and rps × duration_s (older files); NaN when
 * neither is known. */
double snap_window_tokens(const snap_step *s);
double snap_window_completed(const snap_step *s);

/* The first of config.url (credentials and a trailing '/' ignored), model, endpoint and
 * plan kind that differ between two runs, as its snapshot key ("config.url"); NULL when
 * they are runs of the same test. */
const char *snap_config_differs(const snap_doc *a, const snap_doc *b);

/* The first workload key of the config (prompt and output lengths, ignore_eos, prompts or
 * image file, body fields, headers, and the workload keys newer writers add) that differs
 * between two runs, as "config.max_tokens"; NULL when every request asked the same. The
 * text is static: read it before the next call. */
const char *snap_workload_differs(const snap_doc *a, const snap_doc *b);

#endif
