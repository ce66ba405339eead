/* core/stats: the measurement model — per-step and whole-run aggregates, and the 1 s time
 * series — built from llm_event records. Consumer thread only (UI or headless loop). */
#ifndef LLM_STATS_H
#define LLM_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/event.h"
#include "core/hist.h"
#include "proto/prom.h"

struct gpuhist; /* core/gpuhist.h */

/* The per-request distributions (DESIGN.md §4). Latencies are recorded in microseconds;
 * the two speeds (per-stream TPS, prefill speed) in milli-tokens per second (tokens/s ×
 * 1000, so 0.001 tok/s resolution in an integer histogram). Either way the display value
 * is the recorded value / 1000: ms for latencies, tokens/s for speeds. */
typedef enum {
    STATS_TTFT = 0,
    STATS_TTFO,
    STATS_TTFB,
    STATS_E2E,
    STATS_ITL,
    STATS_TPOT,
    STATS_PER_STREAM_TPS,
    STATS_SEND_LAG,
    STATS_PREFILL_TPS,
    STATS_DNS,        /* curl's connection phases, new connections only (0 = reused) */
    STATS_CONNECT,    /* TCP connect after DNS */
    STATS_TLS,        /* TLS handshake after connect */
    STATS_TTFT_SCHED, /* TTFT and E2E from the intended send time (open loop: no */
    STATS_E2E_SCHED,  /* coordinated omission; equal to TTFT/E2E + send lag) */
    /* The server's own view (DESIGN §4 "server view"): per request from llama.cpp's
     * `timings`, or per step from the deltas of /metrics histograms (stats_server_hist:
     * bucket resolution, counts spread evenly inside each bucket). */
    STATS_SRV_TTFT,    /* /metrics: time to first token */
    STATS_SRV_E2E,     /* /metrics: request latency; timings: prefill + decode */
    STATS_SRV_QUEUE,   /* /metrics: time in the queue */
    STATS_SRV_PREFILL, /* timings: prompt_ms */
    STATS_SRV_DECODE,  /* timings: predicted_ms / (predicted_n - 1), per token like TPOT */
    STATS_SRV_ITL,     /* /metrics: inter-token latency (TGI: mean time per token) */
    /* Client overhead per request (timings): client E2E - server E2E, client TTFT - server
     * prefill (0 when the client's figure is the smaller) */
    STATS_OVH_E2E,
    STATS_OVH_TTFT,
    STATS_INPUT_TOKENS,    /* realised lengths, in tokens (not scaled): the prompt (usage, else */
    STATS_OUTPUT_TOKENS,   /* chars/4) and the answer of each successful request */
    STATS_TTFT_CACHE_HIT,  /* TTFT of requests the server said its prefix cache served (some */
    STATS_TTFT_CACHE_MISS, /* cached_tokens > 0), and of those it said it did not (0) */
    STATS_METRICS
} stats_metric;

/* JSON key of the metric: "ttft_ms", ..., "per_stream_tps", "send_lag_ms", "prefill_tps",
 * "dns_ms", "connect_ms", "tls_ms". */
const char *stats_metric_key(stats_metric m);
/* Short label for tables: "TTFT", "per-stream TPS", ... */
const char *stats_metric_label(stats_metric m);
/* Recorded value per display unit: 1000 (µs per ms, mtok/s per tok/s) or 1 (tokens). */
double stats_metric_scale(stats_metric m);
/* Unit of the recorded (histogram) values: "us", "mtok/s" or "tokens". */
const char *stats_metric_hist_unit(stats_metric m);
/* Unit of the display values: "ms", "tok/s" or "tokens". */
const char *stats_metric_unit(stats_metric m);
/* True for the speeds (higher is better). */
bool stats_metric_is_speed(stats_metric m);

#define STATS_MSG_LEN 96
/* --turns: turns shown apart (later ones count in the last) */
#define STATS_TURNS 16

/* Figures of one step, or of the whole run (stats.totals), under DESIGN.md §4's window
 * rules. Latencies, tokens and errors count in the step the request started in, followed
 * to its end. Throughput counts what completed or arrived inside the step's window (from
 * the EV_STEP that applied its load to the next EV_STEP, EV_WINDOW_END or the end, less
 * pauses and cool-downs), whichever step the request started in; the run's window is the
 * union of its steps'. */
typedef struct {
    bool opened;          /* an EV_STEP opened this step (target known) */
    bool cut_short;       /* --search ended it early: it clearly missed the SLO */
    bool manual;          /* a hand change of the target started it */
    uint8_t test;         /* llm_test_kind: an input step's figure is prefill speed */
    uint32_t plan_index;  /* the plan step it ran (a manual step: the one it interrupted) */
    uint32_t concurrency; /* concurrency applied in the step (max over steps in totals) */
    double rate;          /* target rate (open loop); 0 = closed loop */
    uint64_t ok, failed;
    uint64_t cut; /* still in flight when the run ended (after the drain): neither */
    uint64_t errors[ERR_CLASSES];
    char last_error[ERR_CLASSES][STATS_MSG_LEN]; /* last message of each class; "" = none */
    uint64_t output_tokens, prompt_tokens;       /* successful requests */
    bool estimated; /* some output count was not from usage, or a prompt count was chars/4 */
    uint64_t content_events; /* content events of the successful requests */
    uint64_t usage_tokens;   /* completion_tokens reported by the server ... */
    uint64_t usage_events;   /* ... and the content events of those same requests */
    uint64_t decode_tokens;  /* output tokens after the first, of requests with >= 2 ... */
    uint64_t decode_ns;      /* ... and their E2E - TTFT: per-stream TPS as a ratio of sums */
    uint64_t slo_met;        /* successful requests that met every per-request SLO */
    /* the server's own view: which source filled the STATS_SRV_* histograms, and the tokens
     * the server counted (timings predicted_n of the requests that had timings, or the
     * /metrics generation counter's delta over the window) against the content events the
     * client received of the same requests (or inside the same window) */
    uint8_t srv_source; /* stats_srv_source */
    uint64_t srv_timed; /* requests with timings */
    uint64_t srv_tokens, srv_client_events;
    /* the same from /metrics (stats_set_server_hists): the generation counter's delta and
     * the content events that arrived over the same readings' seconds (warm-up requests
     * included when a reading spans them, on both sides); used when no timings exist */
    uint64_t srv_metric_tokens, srv_metric_events;
    /* the server's histogram bounds the STATS_SRV_* figures were read with (the owning
     * stats' last reading; NULL = none): the resolution of a difference of percentiles */
    const prom_hist *srv_bounds;
    /* prompt tokens the server reported (usage.prompt_tokens), per request: how exact
     * --prompt-tokens was */
    uint64_t prompt_rep_n, prompt_rep_sum;
    uint32_t prompt_rep_min, prompt_rep_max;
    uint64_t reconnects; /* requests re-sent once on a fresh connection */
    uint64_t reconnect_lost_us;
    uint64_t finish_grace;   /* ended by the grace after finish_reason (no [DONE], no close) */
    uint64_t one_read;       /* requests whose content all arrived in one read */
    uint64_t asked_output;   /* successful requests whose max_tokens is known ... */
    uint64_t ended_early;    /* ... and of them those that ended before it (server's usage) */
    uint64_t cache_reported; /* successful requests whose usage said cached_tokens ... */
    uint64_t cache_hits;     /* ... with cached_tokens > 0 ... */
    uint64_t cached_tokens;  /* ... and their sum */
    /* --turns, per turn (1-based turn k at index k - 1): successful requests, and the sums of
     * their TTFT (µs), prompt tokens and cached tokens: what a longer history costs */
    uint64_t turn_n[STATS_TURNS], turn_ttft_us[STATS_TURNS], turn_prompt[STATS_TURNS],
        turn_cached[STATS_TURNS];
    uint64_t history_overflow; /* conversations ended early: the history outgrew its buffer */
    uint64_t inflight_sum, inflight_samples; /* stats_set_gauges samples: achieved load */
    uint64_t target_sum;
    double client_cpu_max;     /* llmload's own CPU, % of one core, highest second; 0 = none */
    double server_waiting_max; /* most requests the server said it queued; NaN = not known */
    uint64_t t_first_ns;       /* earliest request start (t0); 0 = none */
    uint64_t t_last_start_ns;  /* latest request start (t0) */
    uint64_t t_last_ns;        /* latest completion (ok or failed); 0 = none */
    /* the window: its length so far, and (while it runs) the time it was last extended to */
    uint64_t window_ns, window_mark_ns;
    bool window_running;
    uint64_t win_ok, win_slo_met, win_events; /* completions, SLO-met ones, content events */
    hist h[STATS_METRICS];
} stats_agg;

typedef enum {
    STATS_SRV_NONE = 0,
    STATS_SRV_TIMINGS, /* llama.cpp `timings` per request */
    STATS_SRV_METRICS, /* /metrics histogram and counter deltas per step */
} stats_srv_source;

/* "timings", "metrics" or NULL. */
const char *stats_srv_source_name(uint8_t source);

/* One second of the time series: [start + t s, start + t+1 s). */
typedef struct {
    uint32_t t;               /* seconds since the run started */
    int32_t target, inflight; /* from stats_set_gauges; -1 = not reported */
    uint32_t rps;             /* successful completions in the second */
    uint32_t tps;    /* tokens that arrived in the second: content events x the run's tokens per
                        event (server usage / events counted; 1 until usage is known) */
    uint32_t errors; /* failed requests that ended in the second */
    double ttft_p50_ms, ttft_p99_ms; /* of the completions in the second; NaN = none */
    double cpu_pct, temp_c;          /* NaN = n/a */
    /* the server's own /metrics (stats_set_server): requests it runs and queues, KV-cache
     * use in %; NaN = not known */
    double server_running, server_waiting, server_kv_pct;
} stats_row;

/* The series keeps one row per second for 24 h, then stops appending (series_dropped
 * counts the seconds not kept); memory is bounded at about 5 MB. The live figures
 * (stats_live) keep updating. */
#define STATS_SERIES_MAX 86400u
/* Steps beyond this index are counted in the totals only (each step holds ~400 kB: 23 histograms).
 */
#define STATS_MAX_STEPS 1024u

/* Seconds are driven by event times and by stats_tick: a record whose t_ns lies beyond
 * the open second closes it (and any empty seconds between); stats_tick(now) closes the
 * seconds that ended before now, so quiet seconds get rows too. A record drained after
 * its second was closed counts in the open second (it is late by at most one drain). */
typedef struct {
    uint64_t start_ns; /* run start (monotonic): t = 0 of the series */
    llm_slo slo;       /* per-request SLOs for goodput (0 = not set) */
    stats_agg totals;
    stats_agg *steps; /* index = plan step; grows as steps appear */
    size_t n_steps, cap_steps;
    uint32_t current_step; /* index of the last EV_STEP */
    bool paused;           /* between EV_PAUSE and EV_RESUME */
    bool load_ended;       /* EV_WINDOW_END closed the current step's window */
    char server_model[64], server_fingerprint[40]; /* EV_SERVER_ID; "" = not seen */
    uint32_t engine_threads; /* the engine's shards (--threads as run); 0 = not told */
    /* how the run ended (set by the session; DESIGN §8): stopped before its plan's end (a
     * signal, `q`, an unreachable or rejecting target), the signal if one (0 = none), why
     * in words; partial: the figures of a run still going (an autosave, `s`) */
    bool interrupted, partial;
    int stop_signal;
    char stop_reason[160];
    uint32_t steps_total; /* steps in the plan (from EV_STEP); 0 = unknown */
    uint32_t steps_ended; /* --search: EV_STEP_END seen for the steps below this index */
    bool search;          /* the steps are a --search's probes (set by the session) */
    bool search_done;     /* ... and the search reached its answer */
    /* the server's /metrics: the engine recognised (static string; NULL = none yet), or why
     * there are none (set by the session) */
    const char *server_engine;
    char server_note[640];
    /* --prompt-tokens calibrated by the server's tokenizer (set by the session): "tokenize",
     * "probe", "failed" or NULL (none); the characters sent, the server's count for them
     * (-1 = none) and the sentence shown */
    /* /metrics histograms and counters: the last cumulative reading (deltas are taken per
     * reading into the current step), and content events since it */
    prom_hist srv_last[PROM_HISTS];
    double srv_last_gen; /* NaN = none yet */
    uint64_t srv_events_since;
    /* the GPUs' per-second figures (core/gpuhist, owned and fed by the session); NULL or
     * no devices = no GPU */
    const struct gpuhist *gpu;
    const char *prompt_calib_method;
    long prompt_calib_chars, prompt_calib_measured;
    char prompt_calib_note[320];
    stats_row *series;
    size_t n_series, cap_series;
    uint64_t series_dropped;
    stats_row open;     /* the second being filled */
    hist open_ttft;     /* TTFTs (µs) of the completions in the open second */
    stats_row last;     /* the last closed second: the dashboard's "last 1 s" */
    bool has_last;      /* last is valid */
    uint64_t events;    /* records consumed, warm-up included */
    uint64_t warmup_ok; /* warm-up requests that completed (not counted elsewhere) */
    bool out_of_memory; /* a step or series row could not be stored */
} stats;

/* start_ns: run start on the monotonic clock; slo may be NULL. st is large (~420 kB):
 * keep it on the heap. Returns 0. */
int stats_init(stats *st, uint64_t start_ns, const llm_slo *slo);
void stats_free(stats *st);
/* Folds one record in. Warm-up records change nothing but stats.events / warmup_ok. */
void stats_consume(stats *st, const llm_event *ev);
/* Closes the seconds of the series that ended at or before now_ns. */
void stats_tick(stats *st, uint64_t now_ns);
/* Gauges of the open second, carried into the following seconds until set again. Call
 * about once a second; cpu_pct / temp_c NaN = n/a, target / inflight < 0 = unknown. */
void stats_set_gauges(stats *st, int target, int inflight, double cpu_pct, double temp_c);
/* The server's own figures for the open second (NaN = not known), carried like the gauges;
 * the queue's highest is kept per step. */
void stats_set_server(stats *st, double running, double waiting, double kv_pct);
/* The server's cumulative /metrics histograms and generation counter (srvmon's reading,
 * about once a second): the deltas since the previous reading go into the current step and
 * the totals (STATS_SRV_TTFT, _E2E, _QUEUE with each bucket's count spread evenly inside
 * it, so percentiles have the server's bucket resolution; the counter's delta against the
 * content events that arrived meanwhile). Nothing is counted before the first step opens,
 * and a counter that went down (a restart) starts over. */
void stats_set_server_hists(stats *st, const prom_figures *f);

/* Tokens the server counted and the tokens the client received, from timings when any
 * request had them (same requests), else from /metrics (same seconds). Returns the source
 * (STATS_SRV_NONE when neither counted anything). */
uint8_t stats_agg_server_tokens(const stats_agg *a, uint64_t *server, uint64_t *client);

/* The server bucket [*lo, *hi] (ms) holding value_ms in the last reading of histogram k;
 * false when there is none. */
bool stats_server_bucket(const stats *st, prom_hist_kind k, double value_ms, double *lo,
                         double *hi);

/* The width (ms) of the server bucket holding the server's percentile p of histogram k in
 * this aggregate: how far a client-minus-server difference of percentiles can be off. NaN
 * when the figures did not come from /metrics histograms. */
double stats_agg_server_resolution(const stats_agg *a, prom_hist_kind k, double p);

/* llmload's own CPU over the last second (% of one core): the current step and the totals
 * keep their highest, so a run can say when the client itself was the bottleneck. */
void stats_set_client_cpu(stats *st, double pct);

/* The last closed second ("last 1 s" on the dashboard); NULL before the first closes. */
const stats_row *stats_live(const stats *st);
/* Step i or NULL. */
const stats_agg *stats_step(const stats *st, size_t i);

/* The window's length in seconds (DESIGN.md §4); 0 before it opens. */
double stats_agg_window_s(const stats_agg *a);
/* Successful completions inside the window / the window; 0 when the window is 0. */
double stats_agg_rps(const stats_agg *a);
/* Output tokens that arrived inside the window / the window: content events x the tokens
 * per event the server's usage showed (1 until it shows any). */
double stats_agg_tps(const stats_agg *a);
/* Tokens that arrived inside the window (the numerator of stats_agg_tps). */
double stats_agg_window_tokens(const stats_agg *a);
/* Requests started inside the window / the window: the achieved rate of an open-loop step
 * (DESIGN.md §4 "achieved load"); NaN before the window opens. */
double stats_agg_send_rate(const stats_agg *a);
/* Per-stream TPS of the step as a ratio of sums: tokens after the first / decode time over
 * its requests with >= 2 tokens (DESIGN.md §4); NaN when none. */
double stats_agg_per_stream_tps(const stats_agg *a);

/* Mean in-flight requests and mean target over the once-a-second gauge samples taken
 * while the step was current (DESIGN.md §4 "achieved load"); NaN without samples. */
double stats_agg_mean_inflight(const stats_agg *a);
double stats_agg_mean_target(const stats_agg *a);

/* TPS at the step's concurrency / (concurrency x per-stream TPS measured at c = 1), the
 * reference being the per-stream TPS (ratio of sums) of the first concurrency-1 step; NaN
 * when the run has no such step. */
double stats_efficiency(const stats *st, const stats_agg *a);

/* Consecutive steps with the same concurrency, rate and test (--repeat K): the mean and
 * the sample standard deviation of their figures. */
typedef struct {
    size_t first_step, n;
    uint32_t concurrency;
    double rate;
    uint8_t test;
    double mean[4], sd[4]; /* STATS_REPEAT_RPS, _TPS, _TTFT_P50 (ms), _E2E_P50 (ms) */
} stats_repeat;
enum { STATS_REPEAT_RPS, STATS_REPEAT_TPS, STATS_REPEAT_TTFT_P50, STATS_REPEAT_E2E_P50 };

/* Fills up to max groups of repeated steps; returns how many there are (groups of one
 * step count too, so a caller can tell whether any step was repeated). */
size_t stats_repeats(const stats *st, stats_repeat *out, size_t max);

/* One line for the dashboard's Latency panel: the prefix cache's hit share and the TTFT p50
 * of hits and of misses ("cache hit 93% TTFT 12.0/80.1 ms"), then turn 1 against the last
 * turn seen ("turn 1 40 ms, 4 43 ms", mean TTFT); "" when the step has neither. */
void stats_workload_line(const stats_agg *a, char *out, size_t cap);

/* SLO-meeting completions inside the window / the window. */
double stats_agg_goodput(const stats_agg *a);
/* Percentile (p in [0, 100]) or, with p < 0, the mean of a metric in its display unit;
 * NaN when nothing was recorded. */
double stats_agg_value(const stats_agg *a, stats_metric m, double p);

#endif
