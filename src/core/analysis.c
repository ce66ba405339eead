#include "core/analysis.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"

#define MAX_POINTS 256
#define KNEE_TPS_GAIN 0.10    /* throughput knee: no later step has 10 % more TPS ... */
#define KNEE_FINE_SHARE 0.5   /* ... or half the load's growth when that is less (+1 user) */
#define KNEE_TTFT_GROWTH 0.50 /* latency knee: TTFT p50 grows more than this in a step ... */
#define KNEE_TTFT_MIN_MS 10   /* ... and by at least this much (not a 2 → 3.1 ms jitter) */
#define ERRORS_START 0.01     /* a step with at least 1 % failed requests */
#define QUEUE_TTFT_FACTOR 2.0 /* TTFT p50 more than doubles over the ramp ... */
#define QUEUE_TTFT_MIN_MS 50  /* ... by at least this much */
#define DECODE_E2E_FACTOR 5.0 /* E2E ≥ 5 × TTFT: generation dominates */
#define SCHED_FACTOR 2.0      /* TTFT > 2 × (E2E − TTFT): waiting dominates */
#define SCHED_MIN_MS 100
#define ONE_PIECE_TPOT_MS 0.1    /* 10,000 tok/s per stream: no server decodes that fast */
#define ONE_PIECE_GEN_SHARE 0.01 /* E2E − TTFT under 1 % of TTFT (when TPOT is unknown) */
#define CLIENT_BUSY_PCT 90.0     /* llmload itself near one full core */

typedef struct {
    const stats_agg *a;
    double load, rps, tps, ttft_ms, e2e_ms, err_rate;
    uint64_t requests;
} point;

/* snprintf for sentences: cutting one at the buffer's end is fine (the buffers hold any
 * real one), so the compiler's truncation warnings do not apply. */
__attribute__((format(printf, 3, 4))) static int fill(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return n < 0 ? 0 : n;
}

__attribute__((format(printf, 2, 3))) static void add_finding(analysis *out, const char *fmt, ...)
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
        fill(buf, cap, "%.4g req/s", load);
    else
        fill(buf, cap, "c=%.0f", load);
}

static void ms_text(double ms, char *buf, size_t cap)
{
    llm_format_ms(ms, buf, cap, false);
}

/* "3.01", "48.5", "1200", "301000": never an exponent in a sentence. */
static void num_text(double v, char *buf, size_t cap)
{
    fill(buf, cap, fabs(v) < 1000 ? "%.3g" : "%.0f", v);
}

/* "1200 tok/s", or "1185 to 1210 tok/s" when the two differ by more than 0.05 %. */
static void range_text(double lo, double hi, const char *unit, char *buf, size_t cap)
{
    char a[32], b[32];
    num_text(lo, a, sizeof a);
    num_text(hi, b, sizeof b);
    if (hi - lo < 0.0005 * hi)
        fill(buf, cap, "%s %s", a, unit);
    else
        fill(buf, cap, "%s to %s %s", a, b, unit);
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

/* ---- the two knees (DESIGN.md §9) ---- */

/* Whether step j adds throughput to step k (a lower load): 10 % more TPS, or, when the load
 * itself grew less than 20 %, half its growth (c=15 → 16 scaling linearly adds 6.7 %: that
 * is no plateau). */
static bool adds_tps(const point *k, const point *j)
{
    double need = fmin(KNEE_TPS_GAIN, KNEE_FINE_SHARE * (j->load / k->load - 1));
    return j->tps >= k->tps * (1 + need);
}

/* The lowest k (before the last step) that no later step adds throughput to; -1 when the
 * throughput still grew at the end. */
static int throughput_knee_at(const point *p, size_t n)
{
    for (size_t k = 0; k + 1 < n; k++) {
        if (!(p[k].tps > 0))
            continue;
        size_t j = k + 1;
        while (j < n && !adds_tps(&p[k], &p[j]))
            j++;
        if (j == n)
            return (int)k;
    }
    return -1;
}

/* RPS or TPS over p[from..n-1]: its lowest and highest. */
static void bounds(const point *p, size_t from, size_t n, bool rps, double *lo, double *hi)
{
    *lo = *hi = rps ? p[from].rps : p[from].tps;
    for (size_t j = from; j < n; j++) {
        double v = rps ? p[j].rps : p[j].tps;
        *lo = fmin(*lo, v);
        *hi = fmax(*hi, v);
    }
}

static void set_throughput_knee(const point *p, size_t n, int k, bool rate, analysis *out)
{
    char lk[32], ln[32], tk[32], range[64];
    double lo, hi;
    bounds(p, (size_t)k + 1, n, false, &lo, &hi);
    load_text(p[k].load, rate, lk, sizeof lk);
    load_text(p[n - 1].load, rate, ln, sizeof ln);
    num_text(p[k].tps, tk, sizeof tk);
    range_text(lo, hi, "tok/s", range, sizeof range);
    out->throughput_knee.found = true;
    out->throughput_knee.load = p[k].load;
    fill(out->throughput_knee.reason, ANALYSIS_TEXT,
         "TPS reaches %s tok/s at %s and no higher load adds 10 %% to it: %s up to %s", tk, lk,
         range, ln);
}

/* The first step where errors start or TTFT p50 grows > 50 % over the step before; -1. */
static int latency_knee_at(const point *p, size_t n)
{
    for (size_t j = 1; j < n; j++) {
        if (p[j].err_rate >= ERRORS_START && p[j - 1].err_rate < ERRORS_START)
            return (int)j;
        if (grew_more(p[j - 1].ttft_ms, p[j].ttft_ms, KNEE_TTFT_GROWTH) &&
            p[j].ttft_ms - p[j - 1].ttft_ms >= KNEE_TTFT_MIN_MS)
            return (int)j;
    }
    return -1;
}

static void set_latency_knee(const point *p, int j, bool rate, analysis *out)
{
    char l0[32], l1[32], t0[24], t1[24], ratio[24], tps0[32], tps1[32];
    const point *a = &p[j - 1], *b = &p[j];
    load_text(a->load, rate, l0, sizeof l0);
    load_text(b->load, rate, l1, sizeof l1);
    out->latency_knee.found = true;
    out->latency_knee.load = b->load;
    char *r = out->latency_knee.reason;
    if (b->err_rate >= ERRORS_START && a->err_rate < ERRORS_START) {
        fill(r, ANALYSIS_TEXT,
             "errors start at %s: %llu of %llu requests failed (%.1f %%), most as %s", l1,
             (unsigned long long)b->a->failed, (unsigned long long)b->requests, 100 * b->err_rate,
             err_class_name(main_error(b->a)));
        return;
    }
    ms_text(a->ttft_ms, t0, sizeof t0);
    ms_text(b->ttft_ms, t1, sizeof t1);
    num_text(b->ttft_ms / a->ttft_ms, ratio, sizeof ratio);
    char tps[64];
    num_text(a->tps, tps0, sizeof tps0);
    num_text(b->tps, tps1, sizeof tps1);
    if (fabs(b->tps - a->tps) < 0.0005 * fmax(a->tps, b->tps))
        fill(tps, sizeof tps, "stays at %s tok/s", tps0);
    else
        fill(tps, sizeof tps, "goes from %s to %s tok/s", tps0, tps1);
    fill(r, ANALYSIS_TEXT,
         "TTFT p50 grows from %s at %s to %s at %s (%s times in one step) while TPS %s", t0, l0, t1,
         l1, ratio, tps);
}

/* The legacy knee: the earlier limit. A throughput knee at load L means "L paid off, nothing
 * after it did"; a latency knee at L means "L is the first that cost": so the throughput
 * knee is earlier when its load is below the latency knee's. */
static void set_knee(analysis *out)
{
    const analysis_load *t = &out->throughput_knee, *l = &out->latency_knee;
    const analysis_load *k = NULL;
    if (t->found && (!l->found || t->load < l->load))
        k = t;
    else if (l->found)
        k = l;
    if (!k)
        return;
    out->has_knee = true;
    out->knee_load = k->load;
    out->knee_kind = k == t ? "throughput" : "latency";
    fill(out->knee_reason, ANALYSIS_TEXT, "%s", k->reason);
}

/* The best load from the knees: the throughput knee, or the step before the latency knee
 * when that comes first; the highest load tried when neither shows. */
static void set_best_load(const point *p, size_t n, int tk, int lk, bool rate, analysis *out)
{
    int best = tk >= 0 ? tk : (int)n - 1;
    if (lk >= 1 && lk - 1 < best)
        best = lk - 1;
    const point *b = &p[best];
    char t[24], tps[32], why[ANALYSIS_TEXT];
    size_t w = 0;
    why[0] = '\0';
    if (best == tk)
        w += (size_t)fill(why, sizeof why,
                          "no higher load adds 10 %% to its TPS (the throughput knee)");
    if (best == lk - 1 && w < sizeof why) {
        char next[32], grows[48], ttft[24], more[80] = "";
        load_text(p[lk].load, rate, next, sizeof next);
        ms_text(p[lk].ttft_ms, ttft, sizeof ttft);
        if (p[lk].err_rate >= ERRORS_START && b->err_rate < ERRORS_START)
            fill(grows, sizeof grows, "errors start");
        else
            fill(grows, sizeof grows, "TTFT p50 grows to %s", ttft);
        if (tk != best) { /* TPS grows past the best load, at that price */
            const point *top = &p[tk < 0 ? (int)n - 1 : tk];
            char at[32], tps_top[32];
            load_text(top->load, rate, at, sizeof at);
            num_text(top->tps, tps_top, sizeof tps_top);
            fill(more, sizeof more, ", though TPS still grows to %s tok/s at %s", tps_top, at);
        }
        w +=
            (size_t)fill(why + w, sizeof why - w, "%sat the next load, %s, %s (the latency knee)%s",
                         w ? ", and " : "", next, grows, more);
    }
    if (w == 0)
        fill(why, sizeof why,
             "the highest load tried, and throughput still grew there: a higher load may "
             "do better");
    ms_text(b->ttft_ms, t, sizeof t);
    num_text(b->tps, tps, sizeof tps);
    out->best_load.found = true;
    out->best_load.load = b->load;
    fill(out->best_load.reason, ANALYSIS_TEXT, "%s tok/s at TTFT p50 %s; %s", tps, t, why);
}

/* ---- the seeds' diagnosis rules ---- */

/* "RPS flat while concurrency rises → saturation", read at the throughput knee so that the
 * sentence and the knee are one answer; rising all the way → headroom. */
static void find_saturation(const point *p, size_t n, int tk, bool rate, analysis *out)
{
    char l0[32], l1[32], tps0[32], rps0[32], tps1[32], rps1[32];
    if (tk >= 0) {
        const point *k = &p[tk];
        double lo, hi, rlo, rhi;
        char tr[64], rr[64];
        bounds(p, (size_t)tk + 1, n, false, &lo, &hi);
        bounds(p, (size_t)tk + 1, n, true, &rlo, &rhi);
        range_text(lo, hi, "tok/s", tr, sizeof tr);
        range_text(rlo, rhi, "req/s", rr, sizeof rr);
        load_text(k->load, rate, l0, sizeof l0);
        load_text(p[n - 1].load, rate, l1, sizeof l1);
        num_text(k->tps, tps0, sizeof tps0);
        num_text(k->rps, rps0, sizeof rps0);
        add_finding(out,
                    "throughput stops growing after %s: %s tok/s (%s req/s) there, %s (%s) up "
                    "to %s (%.3g times the load): the server is saturated, and more load only "
                    "waits longer",
                    l0, tps0, rps0, tr, rr, l1, p[n - 1].load / k->load);
        return;
    }
    bool every = true;
    for (size_t j = 1; j < n; j++)
        every = every && adds_tps(&p[j - 1], &p[j]);
    load_text(p[0].load, rate, l0, sizeof l0);
    load_text(p[n - 1].load, rate, l1, sizeof l1);
    num_text(p[0].tps, tps0, sizeof tps0);
    num_text(p[0].rps, rps0, sizeof rps0);
    num_text(p[n - 1].tps, tps1, sizeof tps1);
    num_text(p[n - 1].rps, rps1, sizeof rps1);
    add_finding(out,
                "throughput %s, from %s tok/s (%s req/s) at %s to %s tok/s (%s req/s) at %s%s: "
                "no saturation up to the highest load tried",
                every ? "grows at every step" : "has not levelled off", tps0, rps0, l0, tps1, rps1,
                l1, every ? "" : ", the last step still adding to it");
}

static void find_queueing(const point *p, size_t n, bool rate, analysis *out)
{
    const point *a = &p[0], *b = &p[n - 1];
    if (!grew_more(a->ttft_ms, b->ttft_ms, QUEUE_TTFT_FACTOR - 1) ||
        b->ttft_ms - a->ttft_ms < QUEUE_TTFT_MIN_MS)
        return;
    char l0[32], l1[32], t0[24], t1[24], ratio[24];
    load_text(a->load, rate, l0, sizeof l0);
    load_text(b->load, rate, l1, sizeof l1);
    ms_text(a->ttft_ms, t0, sizeof t0);
    ms_text(b->ttft_ms, t1, sizeof t1);
    num_text(b->ttft_ms / a->ttft_ms, ratio, sizeof ratio);
    /* The server's own /metrics, when read, confirm it: its queue at the last step. */
    char seen[128] = "";
    if (b->a->server_waiting_max >= 1)
        fill(seen, sizeof seen, " (the server's /metrics showed up to %.0f waiting at %s)",
             b->a->server_waiting_max, l1);
    add_finding(out,
                "TTFT p50 rises from %s at %s to %s at %s (%s times): requests wait in the "
                "server's queue before their first token%s",
                t0, l0, t1, l1, ratio, seen);
}

/* The whole answer arrived at once (a proxy that buffers the stream): every inter-token
 * gap 0, or no decode time to speak of. TTFT is then the time to the whole answer, and the
 * decode figures mean nothing. */
static bool one_piece(const point *p)
{
    const stats_agg *a = p->a;
    if (a->h[STATS_ITL].total > 0 && stats_agg_value(a, STATS_ITL, 99) == 0)
        return true;
    if (a->ok == 0 || a->output_tokens < 2 * a->ok)
        return false; /* one-token answers have no decode to measure */
    double tpot = stats_agg_value(a, STATS_TPOT, 50);
    if (!isnan(tpot))
        return tpot < ONE_PIECE_TPOT_MS;
    return p->ttft_ms > 0 && p->e2e_ms - p->ttft_ms <= ONE_PIECE_GEN_SHARE * p->ttft_ms;
}

/* Said once, at the first step whose answers arrived in one piece. With one content event
 * per answer and no gap measured, nothing was streamed (--no-stream, or a server that sends
 * the whole answer as one event); with many events and no time between them, a stream was
 * held back and delivered at once. */
static void find_one_piece(const point *p, size_t n, bool rate, analysis *out)
{
    for (size_t j = 0; j < n; j++) {
        if (!one_piece(&p[j]))
            continue;
        const stats_agg *a = p[j].a;
        char l[32], e[24], t[24], gen[24], itl[48] = "";
        load_text(p[j].load, rate, l, sizeof l);
        ms_text(p[j].e2e_ms, e, sizeof e);
        ms_text(p[j].ttft_ms, t, sizeof t);
        ms_text(fmax(p[j].e2e_ms - p[j].ttft_ms, 0), gen, sizeof gen);
        double tokens = (double)a->output_tokens / (double)a->ok;
        if (a->h[STATS_ITL].total == 0 && a->content_events <= a->ok) {
            add_finding(out,
                        "%s %s, each answer of %.0f tokens arrived as one event (--no-stream, or "
                        "a server that does not stream): TTFT p50 %s is the whole answer's time, "
                        "and ITL, TPOT and per-stream TPS mean nothing",
                        n > 1 ? "from" : "at", l, tokens, t);
            return;
        }
        double itl_p99 = stats_agg_value(a, STATS_ITL, 99);
        if (!isnan(itl_p99)) {
            char v[24];
            ms_text(itl_p99, v, sizeof v);
            fill(itl, sizeof itl, ", ITL p99 %s", v);
        }
        add_finding(out,
                    "%s %s, the stream arrived in one piece (a buffering proxy?): E2E p50 %s is "
                    "TTFT p50 %s plus %s for %.0f tokens a request%s; TTFT is then the whole "
                    "answer's time, and ITL, TPOT and per-stream TPS mean nothing",
                    n > 1 ? "from" : "at", l, e, t, gen, tokens, itl);
        return;
    }
}

/* E2E ≫ TTFT: generation takes the time (slow decode or long answers). */
static void find_decode(const point *p, bool rate, analysis *out)
{
    if (!(p->ttft_ms > 0) || !(p->e2e_ms >= DECODE_E2E_FACTOR * p->ttft_ms) || p->a->ok == 0 ||
        one_piece(p))
        return;
    char l[32], e[24], t[24], ratio[24], speed[24];
    load_text(p->load, rate, l, sizeof l);
    ms_text(p->e2e_ms, e, sizeof e);
    ms_text(p->ttft_ms, t, sizeof t);
    num_text(p->e2e_ms / p->ttft_ms, ratio, sizeof ratio);
    num_text(stats_agg_value(p->a, STATS_PER_STREAM_TPS, 50), speed, sizeof speed);
    add_finding(out,
                "at %s, E2E p50 (%s) is %s times TTFT p50 (%s): generation takes the time, "
                "at %s tok/s per stream for %.0f output tokens on average",
                l, e, ratio, t, speed, (double)p->a->output_tokens / (double)p->a->ok);
}

/* TTFT ≫ E2E − TTFT: requests wait longer to start than they take to generate. */
static void find_scheduling(const point *p, size_t n, bool rate, analysis *out)
{
    for (size_t j = 0; j < n; j++) {
        double gen = p[j].e2e_ms - p[j].ttft_ms;
        if (!(p[j].ttft_ms > SCHED_MIN_MS) || !(gen > 0) || !(p[j].ttft_ms > SCHED_FACTOR * gen) ||
            one_piece(&p[j]))
            continue;
        char l[32], t[24], g[24], ratio[24];
        load_text(p[j].load, rate, l, sizeof l);
        ms_text(p[j].ttft_ms, t, sizeof t);
        ms_text(gen, g, sizeof g);
        num_text(p[j].ttft_ms / gen, ratio, sizeof ratio);
        add_finding(out,
                    "%s %s, TTFT p50 (%s) is %s times the generation time (E2E - TTFT = %s): "
                    "requests wait longer to be scheduled than they take to answer",
                    n > 1 ? "from" : "at", l, t, ratio, g);
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

/* ---- the SLO verdict ---- */

/* Requests that count as slower than any limit for metric m: the failures, and for TTFT the
 * successes that never got a first token. */
static uint64_t beyond_limits(const stats_agg *a, stats_metric m)
{
    uint64_t n = a->failed;
    if (m == STATS_TTFT && a->ok > a->h[STATS_TTFT].total)
        n += a->ok - a->h[STATS_TTFT].total;
    return n;
}

/* The pct-th percentile (nearest rank, as core/hist) of m over the recorded values and the
 * requests beyond every limit: +INFINITY when the rank falls among the latter; NaN when
 * there is nothing, or when no success has the metric (TPOT of one-token answers). */
static double percentile_with_failures(const stats_agg *a, stats_metric m, double pct)
{
    uint64_t recorded = a->h[m].total, total = recorded + beyond_limits(a, m);
    if (total == 0 || (recorded == 0 && a->ok > 0))
        return NAN;
    double rank = fmax(1, ceil(pct / 100.0 * (double)total - 1e-9));
    if (rank > (double)recorded)
        return INFINITY;
    return stats_agg_value(a, m, 100.0 * rank / (double)recorded);
}

bool analysis_latency_over(const stats_agg *a, const llm_slo *slo, double pct)
{
    double limits_s[3] = {slo->ttft_s, slo->tpot_s, slo->e2e_s};
    stats_metric metrics[3] = {STATS_TTFT, STATS_TPOT, STATS_E2E};
    for (int i = 0; i < 3; i++) {
        if (!(limits_s[i] > 0))
            continue;
        double ms = percentile_with_failures(a, metrics[i], pct);
        if (!isnan(ms) && ms > limits_s[i] * 1000.0)
            return true;
    }
    return false;
}

__attribute__((format(printf, 3, 4))) static bool say(char *why, size_t cap, const char *fmt, ...)
{
    if (why && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return false;
}

bool analysis_measured(const stats_agg *a, char *why, size_t cap)
{
    if (a->ok + a->failed == 0)
        return say(why, cap, "no request completed");
    if (a->ok > 0 && (a->output_tokens == 0 || a->h[STATS_TTFT].total == 0))
        return say(why, cap, "%llu request%s completed but no token arrived",
                   (unsigned long long)a->ok, a->ok == 1 ? "" : "s");
    if (why && cap)
        why[0] = '\0';
    return true;
}

/* "TTFT p99 2.41 s is over the 2.00 s limit by 21 %", or why it counts as over. */
static bool latency_verdict(const stats_agg *a, stats_metric m, double limit_s, char *why,
                            size_t cap, size_t *used)
{
    if (!(limit_s > 0))
        return true;
    double ms = percentile_with_failures(a, m, 99), limit_ms = limit_s * 1000.0;
    char v[24], lim[24];
    ms_text(ms, v, sizeof v);
    ms_text(limit_ms, lim, sizeof lim);
    const char *name = stats_metric_label(m);
    if (isinf(ms)) {
        uint64_t beyond = beyond_limits(a, m), n = a->ok + a->failed;
        if (a->failed)
            return say(why, cap,
                       "%s p99 is over the %s limit: %llu of %llu requests failed (most as %s), "
                       "and a failed request counts as over every latency limit",
                       name, lim, (unsigned long long)a->failed, (unsigned long long)n,
                       err_class_name(main_error(a)));
        return say(why, cap, "%s p99 is over the %s limit: %llu of %llu requests got no token",
                   name, lim, (unsigned long long)beyond, (unsigned long long)n);
    }
    if (!isnan(ms) && ms > limit_ms)
        return say(why, cap, "%s p99 %s is over the %s limit by %.0f %%", name, v, lim,
                   100.0 * (ms / limit_ms - 1));
    if (why && *used < cap && !isnan(ms))
        *used += (size_t)fill(why + *used, cap - *used, "%s%s p99 %s (limit %s)", *used ? ", " : "",
                              name, v, lim);
    return true;
}

bool analysis_slo_verdict(const stats_agg *a, const llm_slo *slo, char *why, size_t cap)
{
    if (why && cap == 0)
        why = NULL;
    uint64_t n = a->ok + a->failed;
    if (!analysis_measured(a, why, cap))
        return false;
    if (a->ok == 0)
        return say(why, cap, "none of the %llu requests succeeded (most failed as %s)",
                   (unsigned long long)n, err_class_name(main_error(a)));
    if (a->cut_short)
        return say(why, cap, "the search ended the step early: it clearly missed the SLO");
    double err_pct = 100.0 * (double)a->failed / (double)n;
    if (slo->errors_pct >= 0 && err_pct > slo->errors_pct)
        return say(why, cap, "error rate %.1f %% (%llu of %llu failed) is over the %.4g %% limit",
                   err_pct, (unsigned long long)a->failed, (unsigned long long)n, slo->errors_pct);
    size_t used = 0;
    if (!latency_verdict(a, STATS_TTFT, slo->ttft_s, why, cap, &used) ||
        !latency_verdict(a, STATS_TPOT, slo->tpot_s, why, cap, &used) ||
        !latency_verdict(a, STATS_E2E, slo->e2e_s, why, cap, &used))
        return false;
    if (why && slo->errors_pct >= 0 && used < cap)
        used += (size_t)fill(why + used, cap - used, "%serror rate %.1f %% (limit %.4g %%)",
                             used ? ", " : "", err_pct, slo->errors_pct);
    if (why && used == 0)
        fill(why, cap, "no limit given");
    return true;
}

bool analysis_step_meets_slo(const stats_agg *a, const llm_slo *slo)
{
    return analysis_slo_verdict(a, slo, NULL, 0);
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

/* ---- the whole ---- */

static void analyse_ramp(const point *p, size_t n, bool rate, analysis *out)
{
    int tk = throughput_knee_at(p, n), lk = latency_knee_at(p, n);
    if (tk >= 0)
        set_throughput_knee(p, n, tk, rate, out);
    if (lk >= 0)
        set_latency_knee(p, lk, rate, out);
    set_knee(out);
    if (!out->best_load.found)
        set_best_load(p, n, tk, lk, rate, out);
    find_saturation(p, n, tk, rate, out);
    find_queueing(p, n, rate, out);
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
 * proxy, the client or (timings) the server's wait for a slot spends more than the server. Both
 * medians, beyond 1 ms (timings' resolution) or the server bucket's width. */
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
    /* llama.cpp's timings start when a slot takes the request: a request that waited for a
     * free slot (more users than --parallel) shows that wait here, not in the server's E2E. */
    bool timings = t->srv_source == STATS_SRV_TIMINGS;
    add_finding(out,
                "client overhead p50 %s%s is larger than the server's own E2E p50 %s: the "
                "network, a proxy, the client%s adds more than the server spends",
                a, timings ? "" : " (difference of percentiles)", b,
                timings ? " or the wait for a free slot (its timings leave that out)" : "");
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
        if (s.best > 0) {
            out->best_load.found = true;
            out->best_load.load = s.best;
            fill(out->best_load.reason, ANALYSIS_TEXT,
                 "the highest load that meets the "
                 "SLO (found by --search)");
        }
    }
    point local[MAX_POINTS]; /* 16 KiB: plans longer than this are cut for the analysis */
    bool rate;
    uint8_t test = ramp_test(st);
    size_t n = collect(st, test, local, &rate);
    out->knee_is_rate = rate;
    find_client_bound(local, n, rate, out);
    if (n >= 2)
        analyse_ramp(local, n, rate, out);
    /* An input test asks for one token: its "generation time" says nothing. */
    if (n >= 1 && test != TEST_INPUT) {
        find_one_piece(local, n, rate, out);
        find_decode(&local[0], rate, out);
        find_scheduling(local, n, rate, out);
    }
    find_errors(st, out);
    find_server_view(st, out);
}
