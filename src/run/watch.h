/* run/watch: the fleet model of `llmload watch` — a worker's --listen text read into its
 * figures, a worker's rates from two reads, the fleet's sums and merged histograms, and the
 * URL forms accepted. Pure (no I/O, no clock); any one thread at a time. */
#ifndef LLM_RUN_WATCH_H
#define LLM_RUN_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "engine/engine.h"

/* Finite le edges kept per histogram: a worker renders 124 (run/listen.c). */
#define WATCH_EDGES 160
#define WATCH_URL_MAX 512
#define WATCH_ERR_MAX 200
/* Rates are taken over this many reads (one a second): 4 s of deltas, steady enough for
 * requests that take seconds each. */
#define WATCH_RATE_READS 5

typedef enum { WATCH_H_TTFT = 0, WATCH_H_E2E, WATCH_H_ITL, WATCH_HISTS } watch_hist_kind;

/* A Prometheus histogram as served: cumulative counts at ascending le edges (seconds). */
typedef struct {
    int n;
    double le[WATCH_EDGES];
    double cum[WATCH_EDGES];
    double total; /* the +Inf bucket */
    double sum;   /* seconds */
} watch_hist;

/* One worker's /metrics (counters since it started). */
typedef struct {
    bool published; /* llmload_up 1: the run has figures (0 while it starts) */
    double ok, failed, errors[ERR_CLASSES];
    double output_tokens;
    double target, inflight, step, n_steps, lost;
    bool manual;
    int state; /* engine_state, -1 = not exported */
    watch_hist h[WATCH_HISTS];
} watch_figures;

/* A worker's link, as the last poll left it. */
typedef enum {
    WATCH_LINK_WAITING = 0, /* no answer yet */
    WATCH_LINK_UP,
    WATCH_LINK_DOWN, /* error says why */
} watch_link;

typedef struct {
    char base[WATCH_URL_MAX];  /* scheme://[user:password@]host:port[/path], no /metrics */
    char shown[WATCH_URL_MAX]; /* base without credentials: what is printed */
    watch_link link;
    char error[WATCH_ERR_MAX]; /* why down, or the last failure; "" = none */
    bool have;                 /* fig holds a good read (kept while the worker is down) */
    watch_figures fig;
    double rps, tps;  /* over the last WATCH_RATE_READS good reads; NaN before two */
    uint64_t read_ns; /* when fig was read */
    /* the reads the rates span: time, requests ended, output tokens (oldest first) */
    uint64_t span_ns[WATCH_RATE_READS];
    double span_req[WATCH_RATE_READS], span_tok[WATCH_RATE_READS];
    int span_n;
} watch_worker;

/* The fleet: counters and histograms of every worker read at least once (a worker that is
 * down counts with its last figures: its requests happened); gauges and rates of the
 * workers up now. */
typedef struct {
    size_t n, n_up;
    double ok, failed, errors[ERR_CLASSES], output_tokens, lost;
    double target, inflight, rps, tps;
    double step_min, step_max; /* 1-based; 0 = none up */
    int state;                 /* the up workers' engine_state; -1 none, -2 they differ */
    bool manual;               /* any up worker holds a hand-set target */
    watch_hist h[WATCH_HISTS];
} watch_fleet;

/* "http://h:p", "http://h:p/metrics", "h:p", "https://user:pw@h/prefix/metrics/" into the
 * worker's base URL (scheme added when missing, trailing / and /metrics removed). Returns
 * 0, or -1 with a sentence in err. */
int watch_url_base(const char *arg, char *base, size_t cap, char *err, size_t errlen);

/* Prepares w for base (shown = base without credentials). */
void watch_worker_init(watch_worker *w, const char *base);

/* Reads a worker's text. False with a sentence in err when it is not an llmload worker's
 * /metrics (no llmload_up sample). */
bool watch_read(const char *text, size_t len, watch_figures *out, char *err, size_t errlen);

/* A good read at now_ns: the worker is up; its rates are the counters' deltas over the last
 * WATCH_RATE_READS reads divided by the time they span (NaN with one read; a counter that
 * went back — the worker restarted — starts the span again). */
void watch_worker_read(watch_worker *w, const watch_figures *f, uint64_t now_ns);
/* A failed poll: the worker is down for `why` (its last figures are kept). */
void watch_worker_fail(watch_worker *w, const char *why);

/* The fleet of w[0..n). */
void watch_fleet_sum(const watch_worker *w, size_t n, watch_fleet *out);

/* dst += src, edge by edge (edges missing from one side count with its nearest lower edge:
 * exact when both have the same edges, as every worker does). */
void watch_hist_add(watch_hist *dst, const watch_hist *src);
/* The q-quantile (0..1) in seconds as Prometheus' histogram_quantile computes it: linear
 * within the bucket holding rank q x total, from 0 below the first edge, the highest finite
 * edge when the rank is in +Inf. NaN when empty. */
double watch_quantile(const watch_hist *h, double q);

/* The --no-tui line: "t=3 up=3/3 step=1 target=6 inflight=6 ok=120 failed=0 rps=40.1
 * tps=1283 ttft_p50=0.041 ... lost=0" (latencies in seconds, "nan" when none). */
void watch_line(const watch_fleet *f, double t, char *out, size_t cap);

#endif
