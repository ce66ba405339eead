/* report/compare: two runs, step by matched load, each figure's change and whether it is
 * more than the runs' own noise (see compare.h).
 *
 * How a verdict is decided (README "Comparing runs"):
 * - Latency percentiles (TTFT p50/p99, TPOT p50, E2E p99): each run's 95 % confidence
 *   interval of the percentile from its histogram, distribution-free (the order statistics
 *   of ranks n·q ∓ 1.96·√(n·q·(1−q)), widened to their buckets' edges). Too few requests
 *   to bound a percentile leaves that side open. Intervals that do not overlap: better or
 *   worse; overlapping: within noise.
 * - Throughput (RPS, TPS, counted inside windows): each run's relative standard error of
 *   the step's figure, the largest of (a) the per-second series inside the step's span
 *   (seconds whose target is the step's load, less the first and last of each span: at
 *   least 3 needed), (b) the spread of the step's repeats (--repeat), and, when neither
 *   exists, (c) 1/√completions (Poisson counting). The change is beyond noise when it is
 *   larger than 1.96·√(se_base² + se_new²).
 * - Error rate: a two-proportion z-test (|z| > 1.96). */
#include "report/compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define Z95 1.959964

static const struct {
    const char *key, *label;
    bool higher_is_better;
    stats_metric metric; /* latency figures */
    double pct;
} k_figures[CMP_FIGURES] = {
    [CMP_RPS] = {"rps", "RPS (req/s)", true, 0, 0},
    [CMP_TPS] = {"tps", "TPS (tok/s)", true, 0, 0},
    [CMP_TTFT_P50] = {"ttft_p50_ms", "TTFT p50 (ms)", false, STATS_TTFT, 50},
    [CMP_TTFT_P99] = {"ttft_p99_ms", "TTFT p99 (ms)", false, STATS_TTFT, 99},
    [CMP_TPOT_P50] = {"tpot_p50_ms", "TPOT p50 (ms)", false, STATS_TPOT, 50},
    [CMP_E2E_P99] = {"e2e_p99_ms", "E2E p99 (ms)", false, STATS_E2E, 99},
    [CMP_ERROR_RATE] = {"error_rate_pct", "error rate (%)", false, 0, 0},
};

const char *cmp_figure_key(cmp_figure f)
{
    return f < CMP_FIGURES ? k_figures[f].key : NULL;
}

const char *cmp_figure_label(cmp_figure f)
{
    return f < CMP_FIGURES ? k_figures[f].label : NULL;
}

const char *cmp_verdict_name(cmp_verdict v)
{
    static const char *const names[] = {"within noise", "better", "worse", "mixed", "n/a"};
    return v <= CMP_NONE ? names[v] : "n/a";
}

/* ---- one run's steps at one load, pooled ---- */

typedef struct {
    int steps;
    hist h[CMP_FIGURES]; /* the latency figures' histograms, merged */
    double ok, failed, completed, tokens, duration;
    double rps_se, tps_se; /* relative standard errors, see the top of the file */
} cmp_pool;

static const char *test_of(const snap_step *s)
{
    return s->test ? s->test : "output";
}

static double load_of(const snap_step *s)
{
    return s->rate > 0 ? s->rate : s->concurrency;
}

static bool same_load(const snap_step *s, const char *test, double load, bool rate)
{
    double l = load_of(s);
    return (s->rate > 0) == rate && strcmp(test_of(s), test) == 0 &&
           fabs(l - load) <= 1e-9 * fmax(1, fabs(load));
}

static double zero_nan(double v)
{
    return isfinite(v) ? v : 0;
}

/* Mean and relative standard error of the mean of v[0..n). */
static double rel_se(const double *v, size_t n)
{
    if (n < 2)
        return NAN;
    double sum = 0, sq = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    double mean = sum / (double)n;
    for (size_t i = 0; i < n; i++)
        sq += (v[i] - mean) * (v[i] - mean);
    double sd = sqrt(sq / (double)(n - 1));
    return mean > 0 ? sd / sqrt((double)n) / mean : NAN;
}

/* The per-second figures of the seconds inside the load's spans (closed loop: the series'
 * target is the step's concurrency), less each span's first and last second, which the
 * step shares with its neighbours. */
static void series_se(const snap_doc *d, double load, double *rps_se, double *tps_se)
{
    *rps_se = *tps_se = NAN;
    double *rps = calloc(d->n_series + 1, sizeof *rps), *tps = calloc(d->n_series + 1, sizeof *tps);
    size_t k = 0;
    for (size_t i = 1; rps && tps && i + 1 < d->n_series; i++) {
        const snap_row *r = &d->series[i];
        bool in =
            r->target == load && d->series[i - 1].target == load && d->series[i + 1].target == load;
        if (in && isfinite(r->rps) && isfinite(r->tps)) {
            rps[k] = r->rps;
            tps[k++] = r->tps;
        }
    }
    if (k >= 3) {
        *rps_se = rel_se(rps, k);
        *tps_se = rel_se(tps, k);
    }
    free(rps);
    free(tps);
}

static double largest(double a, double b)
{
    return isnan(a) ? b : isnan(b) ? a : fmax(a, b);
}

static void pool_throughput_noise(const snap_doc *d, const char *test, double load, bool rate,
                                  cmp_pool *p)
{
    double rps[64], tps[64];
    size_t k = 0;
    for (size_t i = 0; i < d->n_steps && k < 64; i++) {
        const snap_step *s = &d->steps[i];
        if (same_load(s, test, load, rate) && isfinite(s->rps) && isfinite(s->tps)) {
            rps[k] = s->rps;
            tps[k++] = s->tps;
        }
    }
    double srps = NAN, stps = NAN;
    if (!rate)
        series_se(d, load, &srps, &stps);
    p->rps_se = largest(srps, rel_se(rps, k));
    p->tps_se = largest(stps, rel_se(tps, k));
    double counted = p->completed > 0 ? 1 / sqrt(p->completed) : NAN;
    if (isnan(p->rps_se))
        p->rps_se = counted;
    if (isnan(p->tps_se))
        p->tps_se = counted;
}

static void pool_steps(const snap_doc *d, const char *test, double load, bool rate, cmp_pool *p)
{
    memset(p, 0, sizeof *p);
    for (int f = 0; f < CMP_FIGURES; f++)
        hist_init(&p->h[f]);
    hist *one = malloc(sizeof *one);
    for (size_t i = 0; one && i < d->n_steps; i++) {
        const snap_step *s = &d->steps[i];
        if (!same_load(s, test, load, rate))
            continue;
        p->steps++;
        for (int f = CMP_TTFT_P50; f <= CMP_E2E_P99; f++) {
            snap_hist_build(s, k_figures[f].metric, one);
            hist_add(&p->h[f], one);
        }
        p->ok += zero_nan(s->ok);
        p->failed += zero_nan(s->failed);
        p->completed += zero_nan(snap_window_completed(s));
        p->tokens += zero_nan(snap_window_tokens(s));
        p->duration += zero_nan(s->duration_s);
    }
    free(one);
    pool_throughput_noise(d, test, load, rate, p);
}

/* ---- judging one figure ---- */

/* The value at 1-based rank r, widened to its bucket: edge 0 = low, 1 = high (ms). */
static double rank_edge(const hist *h, double r, int edge)
{
    uint64_t v = hist_percentile(h, 100.0 * r / (double)h->total);
    size_t b = hist_bucket_of(v);
    return (double)(edge ? hist_bucket_high(b) : hist_bucket_low(b)) / 1000.0;
}

/* Distribution-free 95 % interval of the q-th percentile of h, in ms. */
static void percentile_ci(const hist *h, double pct, double *lo, double *hi)
{
    double n = (double)h->total, q = pct / 100.0;
    double sd = sqrt(n * q * (1 - q)), rl = floor(n * q - Z95 * sd), rh = ceil(n * q + Z95 * sd);
    *lo = rl < 1 ? 0 : rank_edge(h, rl, 0);
    *hi = rh > n ? INFINITY : rank_edge(h, rh, 1);
}

static void set_change(cmp_change *c, double base, double next)
{
    c->base = base;
    c->next = next;
    c->delta = next - base;
    c->pct = base != 0 ? 100.0 * (next - base) / base : NAN;
    c->verdict = (isfinite(base) && isfinite(next)) ? CMP_NOISE : CMP_NONE;
}

/* Non-overlapping intervals decide; the direction says which way is better. */
static void judge_by_intervals(cmp_change *c, bool higher_is_better)
{
    if (c->verdict == CMP_NONE)
        return;
    bool up = c->lo[1] > c->hi[0], down = c->hi[1] < c->lo[0];
    if (up || down)
        c->verdict = (up == higher_is_better) ? CMP_BETTER : CMP_WORSE;
}

static void judge_latency(cmp_change *c, cmp_figure f, const cmp_pool *p)
{
    const hist *h[2] = {&p[0].h[f], &p[1].h[f]};
    if (h[0]->total == 0 || h[1]->total == 0) {
        set_change(c, NAN, NAN);
        return;
    }
    double pct = k_figures[f].pct;
    set_change(c, (double)hist_percentile(h[0], pct) / 1000.0,
               (double)hist_percentile(h[1], pct) / 1000.0);
    for (int r = 0; r < 2; r++)
        percentile_ci(h[r], pct, &c->lo[r], &c->hi[r]);
    judge_by_intervals(c, false);
}

static void judge_throughput(cmp_change *c, cmp_figure f, const cmp_pool *p)
{
    double v[2], se[2];
    for (int r = 0; r < 2; r++) {
        double count = f == CMP_RPS ? p[r].completed : p[r].tokens;
        v[r] = p[r].duration > 0 ? count / p[r].duration : NAN;
        se[r] = f == CMP_RPS ? p[r].rps_se : p[r].tps_se;
    }
    set_change(c, v[0], v[1]);
    if (c->verdict == CMP_NONE || v[0] <= 0)
        return;
    double band = Z95 * sqrt(zero_nan(se[0]) * zero_nan(se[0]) + zero_nan(se[1]) * zero_nan(se[1]));
    for (int r = 0; r < 2; r++) {
        double half = isfinite(se[r]) ? Z95 * se[r] * v[r] : INFINITY;
        c->lo[r] = v[r] - half;
        c->hi[r] = v[r] + half;
    }
    if (isnan(se[0]) || isnan(se[1]))
        return; /* nothing completed: no spread to judge by */
    if (fabs(v[1] / v[0] - 1) > band)
        c->verdict = (v[1] > v[0]) ? CMP_BETTER : CMP_WORSE;
}

static void judge_errors(cmp_change *c, const cmp_pool *p)
{
    double n[2] = {p[0].ok + p[0].failed, p[1].ok + p[1].failed}, e[2];
    if (n[0] <= 0 || n[1] <= 0) {
        set_change(c, NAN, NAN);
        return;
    }
    for (int r = 0; r < 2; r++) {
        e[r] = p[r].failed / n[r];
        double half = Z95 * sqrt(e[r] * (1 - e[r]) / n[r]);
        c->lo[r] = 100 * fmax(0, e[r] - half);
        c->hi[r] = 100 * fmin(1, e[r] + half);
    }
    set_change(c, 100 * e[0], 100 * e[1]);
    double pooled = (p[0].failed + p[1].failed) / (n[0] + n[1]);
    double se = sqrt(pooled * (1 - pooled) * (1 / n[0] + 1 / n[1]));
    if (se > 0 && fabs(e[1] - e[0]) / se > Z95)
        c->verdict = e[1] < e[0] ? CMP_BETTER : CMP_WORSE;
}

/* How much worse a worse figure is: % of the base, percentage points for the error rate. */
static double worse_amount(const cmp_change *c, cmp_figure f)
{
    if (c->verdict != CMP_WORSE)
        return 0;
    if (f == CMP_ERROR_RATE)
        return fabs(c->delta);
    return isfinite(c->pct) ? fabs(c->pct) : INFINITY;
}

static cmp_verdict combine(cmp_verdict acc, cmp_verdict v)
{
    if (v == CMP_NONE || v == CMP_NOISE)
        return acc;
    if (acc == CMP_NOISE || acc == v)
        return v;
    return CMP_MIXED;
}

static int judge_row(const cmp_result *r, cmp_row *row)
{
    cmp_pool *p = malloc(2 * sizeof *p);
    if (!p)
        return -1;
    pool_steps(r->base, row->test, row->load, row->rate, &p[0]);
    pool_steps(r->next, row->test, row->load, row->rate, &p[1]);
    row->steps[0] = p[0].steps;
    row->steps[1] = p[1].steps;
    row->verdict = CMP_NOISE;
    for (int f = 0; f < CMP_FIGURES; f++) {
        cmp_change *c = &row->c[f];
        if (f == CMP_RPS || f == CMP_TPS)
            judge_throughput(c, (cmp_figure)f, p);
        else if (f == CMP_ERROR_RATE)
            judge_errors(c, p);
        else
            judge_latency(c, (cmp_figure)f, p);
        c->worse_by = worse_amount(c, (cmp_figure)f);
        row->verdict = combine(row->verdict, c->verdict);
    }
    free(p);
    return 0;
}

/* ---- matching ---- */

static bool has_row(const cmp_result *r, const snap_step *s)
{
    for (size_t i = 0; i < r->n_rows; i++)
        if (same_load(s, r->rows[i].test, r->rows[i].load, r->rows[i].rate))
            return true;
    return false;
}

static bool run_has(const snap_doc *d, const snap_step *s)
{
    for (size_t i = 0; i < d->n_steps; i++)
        if (same_load(&d->steps[i], test_of(s), load_of(s), s->rate > 0))
            return true;
    return false;
}

static bool measured(const snap_step *s)
{
    return zero_nan(s->ok) + zero_nan(s->failed) > 0 && isfinite(load_of(s));
}

int cmp_build(const snap_doc *base, const snap_doc *next, cmp_result *r)
{
    memset(r, 0, sizeof *r);
    r->base = base;
    r->next = next;
    r->verdict = CMP_NOISE;
    if (base->n_steps && !(r->rows = calloc(base->n_steps, sizeof *r->rows)))
        return -1;
    for (size_t i = 0; i < base->n_steps; i++) {
        const snap_step *s = &base->steps[i];
        if (!measured(s) || has_row(r, s))
            continue;
        if (!run_has(next, s)) {
            r->unmatched[0]++;
            continue;
        }
        cmp_row *row = &r->rows[r->n_rows++];
        *row = (cmp_row){.test = test_of(s), .load = load_of(s), .rate = s->rate > 0};
        if (judge_row(r, row) != 0)
            return -1;
        r->verdict = combine(r->verdict, row->verdict);
        for (int f = 0; f < CMP_FIGURES; f++)
            r->worst_pct = fmax(r->worst_pct, row->c[f].worse_by);
    }
    for (size_t i = 0; i < next->n_steps; i++)
        if (measured(&next->steps[i]) && !run_has(base, &next->steps[i]))
            r->unmatched[1]++;
    return 0;
}

void cmp_free(cmp_result *r)
{
    free(r->rows);
    r->rows = NULL;
    r->n_rows = 0;
}
