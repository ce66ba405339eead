#include "core/analysis.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"

#define MAX_POINTS 256
#define KNEE_TPS_GAIN 0.10    /* TPS grows less than this ... */
#define KNEE_TTFT_GROWTH 0.50 /* ... while TTFT p50 grows more than this */
#define ERRORS_START 0.01     /* a step with at least 1 % failed requests */
#define FLAT_RPS_GAIN 0.10    /* RPS "flat": grows less than 10 % while load rises */
#define QUEUE_TTFT_FACTOR 2.0 /* TTFT p50 more than doubles over the ramp ... */
#define QUEUE_TTFT_MIN_MS 50  /* ... by at least this much */
#define DECODE_E2E_FACTOR 5.0 /* E2E ≥ 5 × TTFT: generation dominates */
#define SCHED_FACTOR 2.0      /* TTFT > 2 × (E2E − TTFT): waiting dominates */
#define SCHED_MIN_MS 100
#define CLIENT_BUSY_PCT 90.0 /* llmload itself near one full core */

typedef struct {
    const stats_agg *a;
    double load, rps, tps, ttft_ms, e2e_ms, err_rate;
    uint64_t requests;
} point;

static void add_finding(analysis *out, const char *fmt, ...)
{
    if (out->n_findings >= ANALYSIS_MAX_FINDINGS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->findings[out->n_findings++], ANALYSIS_TEXT, fmt, ap);
    va_end(ap);
}

static void load_text(double load, bool rate, char *buf, size_t cap)
{
    if (rate)
        snprintf(buf, cap, "%.4g req/s", load);
    else
        snprintf(buf, cap, "c=%.0f", load);
}

static void ms_text(double ms, char *buf, size_t cap)
{
    llm_format_ms(ms, buf, cap, false);
}

static err_class main_error(const stats_agg *a)
{
    int best = 0;
    for (int c = 1; c < ERR_CLASSES; c++)
        if (a->errors[c] > a->errors[best])
            best = c;
    return (err_class)best;
}

/* The kind of test the ramp is made of: the output test when the plan has one. */
static uint8_t ramp_test(const stats *st)
{
    int first = -1;
    for (size_t i = 0; i < st->n_steps; i++) {
        const stats_agg *a = stats_step(st, i);
        if (!a || a->ok + a->failed == 0)
            continue;
        if (a->test == TEST_OUTPUT)
            return TEST_OUTPUT;
        if (first < 0)
            first = a->test;
    }
    return first < 0 ? TEST_OUTPUT : (uint8_t)first;
}

static size_t collect(const stats *st, uint8_t test, point *pts, bool *rate)
{
    size_t n = 0;
    *rate = false;
    for (size_t i = 0; i < st->n_steps && n < MAX_POINTS; i++) {
        const stats_agg *a = stats_step(st, i);
        if (!a || a->ok + a->failed == 0 || a->test != test)
            continue;
        double load = a->rate > 0 ? a->rate : (double)a->concurrency;
        size_t at = n;
        if (st->search) {
            /* A search's steps go up and down: kept in order of load, each load once. */
            while (at > 0 && pts[at - 1].load > load)
                at--;
            if (at > 0 && pts[at - 1].load == load)
                continue;
            memmove(&pts[at + 1], &pts[at], (n - at) * sizeof *pts);
        } else if (n > 0 && load <= pts[n - 1].load) {
            continue; /* a repeat, or a step back down: the ramp is the rising part */
        }
        n++;
        point *p = &pts[at];
        p->a = a;
        p->load = load;
        p->rps = stats_agg_rps(a);
        p->tps = stats_agg_tps(a);
        p->ttft_ms = stats_agg_value(a, STATS_TTFT, 50);
        p->e2e_ms = stats_agg_value(a, STATS_E2E, 50);
        p->requests = a->ok + a->failed;
        p->err_rate = (double)a->failed / (double)p->requests;
        *rate = *rate || a->rate > 0;
    }
    return n;
}

static bool grew_more(double from, double to, double by)
{
    return isfinite(from) && isfinite(to) && from > 0 && to > from * (1 + by);
}

static void find_knee(const point *p, size_t n, bool rate, analysis *out)
{
    char l0[32], l1[32], t0[24], t1[24];
    for (size_t j = 1; j < n; j++) {
        load_text(p[j - 1].load, rate, l0, sizeof l0);
        load_text(p[j].load, rate, l1, sizeof l1);
        if (p[j].err_rate >= ERRORS_START && p[j - 1].err_rate < ERRORS_START) {
            out->has_knee = true;
            out->knee_load = p[j].load;
            snprintf(out->knee_reason, ANALYSIS_TEXT,
                     "errors start at %s: %llu of %llu requests failed (%.1f %%), most as %s", l1,
                     (unsigned long long)p[j].a->failed, (unsigned long long)p[j].requests,
                     100 * p[j].err_rate, err_class_name(main_error(p[j].a)));
            return;
        }
        bool tps_flat = isfinite(p[j].tps) && isfinite(p[j - 1].tps) && p[j - 1].tps > 0 &&
                        p[j].tps < p[j - 1].tps * (1 + KNEE_TPS_GAIN);
        if (tps_flat && grew_more(p[j - 1].ttft_ms, p[j].ttft_ms, KNEE_TTFT_GROWTH)) {
            ms_text(p[j - 1].ttft_ms, t0, sizeof t0);
            ms_text(p[j].ttft_ms, t1, sizeof t1);
            out->has_knee = true;
            out->knee_load = p[j].load;
            snprintf(out->knee_reason, ANALYSIS_TEXT,
                     "from %s to %s TPS changed %+.1f %% (%.4g to %.4g tok/s) while TTFT p50 "
                     "grew from %s to %s: the server saturates between them",
                     l0, l1, 100 * (p[j].tps / p[j - 1].tps - 1), p[j - 1].tps, p[j].tps, t0, t1);
            return;
        }
    }
}

/* RPS flat or falling while the load rises → saturation; rising all the way → headroom. */
static void find_saturation(const point *p, size_t n, bool rate, analysis *out)
{
    char l0[32], l1[32];
    for (size_t j = 1; j < n; j++) {
        if (!(p[j].rps < p[j - 1].rps * (1 + FLAT_RPS_GAIN)))
            continue;
        double lo = p[j].rps, hi = p[j].rps;
        for (size_t k = j; k < n; k++) {
            if (p[k].rps >= p[j - 1].rps * (1 + FLAT_RPS_GAIN))
                return; /* it grew again: no clear plateau */
            lo = fmin(lo, p[k].rps);
            hi = fmax(hi, p[k].rps);
        }
        load_text(p[j - 1].load, rate, l0, sizeof l0);
        load_text(p[n - 1].load, rate, l1, sizeof l1);
        char range[48];
        if (hi - lo < 0.0005 * hi)
            snprintf(range, sizeof range, "%.3g req/s", lo);
        else
            snprintf(range, sizeof range, "%.3g to %.3g req/s", lo, hi);
        add_finding(out,
                    "RPS stops growing after %s: %.3g req/s there, %s up to %s (%.3g times the "
                    "load): the server is saturated, and more load only waits longer",
                    l0, p[j - 1].rps, range, l1, p[n - 1].load / p[j - 1].load);
        return;
    }
    load_text(p[0].load, rate, l0, sizeof l0);
    load_text(p[n - 1].load, rate, l1, sizeof l1);
    add_finding(out,
                "RPS grows at every step, from %.3g req/s at %s to %.3g req/s at %s: no "
                "saturation up to the highest load tried",
                p[0].rps, l0, p[n - 1].rps, l1);
}

static void find_queueing(const point *p, size_t n, bool rate, analysis *out)
{
    const point *a = &p[0], *b = &p[n - 1];
    if (!grew_more(a->ttft_ms, b->ttft_ms, QUEUE_TTFT_FACTOR - 1) ||
        b->ttft_ms - a->ttft_ms < QUEUE_TTFT_MIN_MS)
        return;
    char l0[32], l1[32], t0[24], t1[24];
    load_text(a->load, rate, l0, sizeof l0);
    load_text(b->load, rate, l1, sizeof l1);
    ms_text(a->ttft_ms, t0, sizeof t0);
    ms_text(b->ttft_ms, t1, sizeof t1);
    /* The server's own /metrics, when read, confirm it: its queue at the last step. */
    char seen[128] = "";
    if (b->a->server_waiting_max >= 1)
        snprintf(seen, sizeof seen, " (the server's /metrics showed up to %.0f waiting at %s)",
                 b->a->server_waiting_max, l1);
    add_finding(out,
                "TTFT p50 rises from %s at %s to %s at %s (%.3g times): requests wait in the "
                "server's queue before their first token%s",
                t0, l0, t1, l1, b->ttft_ms / a->ttft_ms, seen);
}

/* E2E ≫ TTFT: generation takes the time (slow decode or long answers). */
static void find_decode(const point *p, bool rate, analysis *out)
{
    if (!(p->ttft_ms > 0) || !(p->e2e_ms >= DECODE_E2E_FACTOR * p->ttft_ms) || p->a->ok == 0)
        return;
    char l[32], e[24], t[24];
    load_text(p->load, rate, l, sizeof l);
    ms_text(p->e2e_ms, e, sizeof e);
    ms_text(p->ttft_ms, t, sizeof t);
    add_finding(out,
                "at %s, E2E p50 (%s) is %.3g times TTFT p50 (%s): generation takes the time, "
                "at %.3g tok/s per stream for %.0f output tokens on average",
                l, e, p->e2e_ms / p->ttft_ms, t, stats_agg_value(p->a, STATS_PER_STREAM_TPS, 50),
                (double)p->a->output_tokens / (double)p->a->ok);
}

/* TTFT ≫ E2E − TTFT: requests wait longer to start than they take to generate. */
static void find_scheduling(const point *p, size_t n, bool rate, analysis *out)
{
    for (size_t j = 0; j < n; j++) {
        double gen = p[j].e2e_ms - p[j].ttft_ms;
        if (!(p[j].ttft_ms > SCHED_MIN_MS) || !(gen >= 0) || !(p[j].ttft_ms > SCHED_FACTOR * gen))
            continue;
        char l[32], t[24], g[24];
        load_text(p[j].load, rate, l, sizeof l);
        ms_text(p[j].ttft_ms, t, sizeof t);
        ms_text(gen, g, sizeof g);
        add_finding(out,
                    "%s %s, TTFT p50 (%s) is %.3g times the generation time (E2E - TTFT = %s): "
                    "requests wait longer to be scheduled than they take to answer",
                    n > 1 ? "from" : "at", l, t, p[j].ttft_ms / fmax(gen, 1e-9), g);
        return;
    }
}

/* The client as the bottleneck: its engine is one thread, so near a full core of CPU its
 * own queueing is in every latency. Said first: it qualifies everything after it. */
static void find_client_bound(const point *p, size_t n, bool rate, analysis *out)
{
    for (size_t j = 0; j < n; j++) {
        if (p[j].a->client_cpu_max < CLIENT_BUSY_PCT)
            continue;
        char l[32];
        load_text(p[j].load, rate, l, sizeof l);
        add_finding(out,
                    "%s %s, llmload itself used %.0f %% of a core: its own delays are in these "
                    "latencies; give it a faster or less busy machine before trusting them",
                    n > 1 ? "from" : "at", l, p[j].a->client_cpu_max);
        return;
    }
}

static void find_errors(const stats *st, analysis *out)
{
    const stats_agg *a = &st->totals;
    uint64_t n = a->ok + a->failed;
    if (a->failed == 0 || n == 0)
        return;
    err_class c = main_error(a);
    add_finding(out, "%llu of %llu requests failed (%.1f %%), most as %s (last: %.80s)",
                (unsigned long long)a->failed, (unsigned long long)n,
                100.0 * (double)a->failed / (double)n, err_class_name(c),
                a->last_error[c][0] ? a->last_error[c] : "-");
}

bool analysis_step_meets_slo(const stats_agg *a, const llm_slo *slo)
{
    uint64_t n = a->ok + a->failed;
    if (a->ok == 0 || a->cut_short)
        return false;
    if (slo->errors_pct >= 0 && 100.0 * (double)a->failed / (double)n > slo->errors_pct)
        return false;
    return !analysis_latency_over(a, slo, 99);
}

bool analysis_latency_over(const stats_agg *a, const llm_slo *slo, double pct)
{
    double limits_s[3] = {slo->ttft_s, slo->tpot_s, slo->e2e_s};
    stats_metric metrics[3] = {STATS_TTFT, STATS_TPOT, STATS_E2E};
    for (int i = 0; i < 3; i++) {
        double ms = stats_agg_value(a, metrics[i], pct);
        if (limits_s[i] > 0 && !isnan(ms) && ms > limits_s[i] * 1000.0)
            return true;
    }
    return false;
}

void analysis_search(const stats *st, search_state *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < st->steps_ended && i < st->n_steps; i++) {
        const stats_agg *a = stats_step(st, i);
        if (!a || !a->opened)
            continue;
        out->rate = out->rate || a->rate > 0;
        double load = a->rate > 0 ? a->rate : (double)a->concurrency;
        out->steps++;
        if (analysis_step_meets_slo(a, &st->slo)) {
            if (load > out->best)
                out->best = load;
        } else if (out->first_miss == 0 || load < out->first_miss) {
            out->first_miss = load;
        }
    }
    out->done = st->search_done;
}

/* ---- the server's own view beside the client's (DESIGN §4 "server view") ---- */

#define SERVER_TOKENS_PCT 1.0 /* token counts that differ by more disagree */

static void find_server_tokens(const stats_agg *t, analysis *out)
{
    uint64_t s, c;
    uint8_t source = stats_agg_server_tokens(t, &s, &c);
    if (source == STATS_SRV_NONE)
        return;
    double srv = (double)s, cli = (double)c;
    double diff = cli > 0 ? 100.0 * (srv - cli) / cli : 100.0;
    bool timings = source == STATS_SRV_TIMINGS;
    const char *src = timings ? "timings" : "/metrics counter";
    if (diff > SERVER_TOKENS_PCT)
        add_finding(out,
                    "the server generated %.1f %% more tokens than arrived (%.0f by its %s, %.0f "
                    "received): streams are being cut by a proxy?%s",
                    diff, srv, src, cli, timings ? "" : " (or another client's load)");
    else if (diff < -SERVER_TOKENS_PCT)
        add_finding(out,
                    "%.1f %% more tokens arrived than the server counted (%.0f received, %.0f by "
                    "its %s): %s",
                    -diff, cli, srv, src,
                    timings ? "several tokens per stream event?"
                            : "its counter missed requests, or several tokens per event?");
}

/* A queue the server reports that the client's TTFT does not show: the server's queue
 * time p50 beyond the client's TTFT p50 by more than the server bucket holding it (a
 * request's TTFT includes its queue, so the server counts other requests, or its clock
 * differs). */
static void find_server_queue(const stats *st, const stats_agg *t, analysis *out)
{
    double q = stats_agg_value(t, STATS_SRV_QUEUE, 50), ttft = stats_agg_value(t, STATS_TTFT, 50);
    double lo, hi;
    if (!(q > 0) || isnan(ttft) || !stats_server_bucket(st, PROM_H_QUEUE, q, &lo, &hi))
        return;
    if (lo <= ttft)
        return; /* within the bucket's resolution */
    char a[32], b[32];
    ms_text(q, a, sizeof a);
    ms_text(ttft, b, sizeof b);
    add_finding(out,
                "the server reports a queue time p50 of %s (bucket %.0f-%.0f ms) that the "
                "client's TTFT p50 %s does not show: its /metrics count another client's "
                "requests?",
                a, lo, hi, b);
}

/* Client overhead (client E2E - server E2E) above the server's own latency: the network, a
 * proxy or the client spends more than the server. Both medians, beyond 1 ms (timings'
 * resolution) or the server bucket's width. */
static void find_server_overhead(const stats *st, const stats_agg *t, analysis *out)
{
    double srv = stats_agg_value(t, STATS_SRV_E2E, 50);
    double ovh = t->srv_source == STATS_SRV_TIMINGS ? stats_agg_value(t, STATS_OVH_E2E, 50)
                                                    : stats_agg_value(t, STATS_E2E, 50) - srv;
    double res = 1.0, lo, hi; /* timings: 1 ms; /metrics: the bucket holding the server's p50 */
    if (t->srv_source == STATS_SRV_METRICS && stats_server_bucket(st, PROM_H_E2E, srv, &lo, &hi))
        res = hi - lo;
    if (!(srv >= 0) || !(ovh > srv + res))
        return;
    char a[32], b[32];
    ms_text(ovh, a, sizeof a);
    ms_text(srv, b, sizeof b);
    add_finding(out,
                "client overhead p50 %s%s is larger than the server's own E2E p50 %s: the "
                "network, a proxy or the client adds more than the server spends",
                a, t->srv_source == STATS_SRV_TIMINGS ? "" : " (difference of percentiles)", b);
}

static void find_server_view(const stats *st, analysis *out)
{
    const stats_agg *t = &st->totals;
    find_server_tokens(t, out);
    if (t->srv_source == STATS_SRV_NONE)
        return;
    find_server_overhead(st, t, out);
    find_server_queue(st, t, out);
}

void analysis_run(const stats *st, analysis *out)
{
    memset(out, 0, sizeof *out);
    if (st->search) {
        search_state s;
        analysis_search(st, &s);
        char text[ANALYSIS_TEXT - 8];
        search_describe(&s, text, sizeof text);
        add_finding(out, "search: %s", text);
    }
    point local[MAX_POINTS]; /* 16 KiB: plans longer than this are cut for the analysis */
    bool rate;
    uint8_t test = ramp_test(st);
    size_t n = collect(st, test, local, &rate);
    out->knee_is_rate = rate;
    find_client_bound(local, n, rate, out);
    if (n >= 2) {
        find_knee(local, n, rate, out);
        find_saturation(local, n, rate, out);
        find_queueing(local, n, rate, out);
    }
    /* An input test asks for one token: its "generation time" says nothing. */
    if (n >= 1 && test != TEST_INPUT) {
        find_decode(&local[0], rate, out);
        find_scheduling(local, n, rate, out);
    }
    find_errors(st, out);
    find_server_view(st, out);
}
