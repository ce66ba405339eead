/* core/stats: folds llm_event records into per-step aggregates and the 1 s series. */
#include "core/stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_SEC 1000000000ULL

/* ---- metric names ---- */

typedef enum { UNIT_TIME, UNIT_SPEED, UNIT_TOKENS } metric_unit;

static const struct {
    const char *key, *label;
    metric_unit unit;
} metric_info[STATS_METRICS] = {
    [STATS_TTFT] = {"ttft_ms", "TTFT", UNIT_TIME},
    [STATS_TTFO] = {"ttfo_ms", "TTFO", UNIT_TIME},
    [STATS_TTFB] = {"ttfb_ms", "TTFB", UNIT_TIME},
    [STATS_E2E] = {"e2e_ms", "E2E", UNIT_TIME},
    [STATS_ITL] = {"itl_ms", "ITL", UNIT_TIME},
    [STATS_TPOT] = {"tpot_ms", "TPOT", UNIT_TIME},
    [STATS_PER_STREAM_TPS] = {"per_stream_tps", "per-stream TPS", UNIT_SPEED},
    [STATS_SEND_LAG] = {"send_lag_ms", "send lag", UNIT_TIME},
    [STATS_PREFILL_TPS] = {"prefill_tps", "prefill speed", UNIT_SPEED},
    [STATS_DNS] = {"dns_ms", "DNS", UNIT_TIME},
    [STATS_CONNECT] = {"connect_ms", "connect", UNIT_TIME},
    [STATS_TLS] = {"tls_ms", "TLS", UNIT_TIME},
    [STATS_TTFT_SCHED] = {"ttft_from_sched_ms", "TTFT from intended send", UNIT_TIME},
    [STATS_E2E_SCHED] = {"e2e_from_sched_ms", "E2E from intended send", UNIT_TIME},
    [STATS_INPUT_TOKENS] = {"input_tokens", "input tokens", UNIT_TOKENS},
    [STATS_OUTPUT_TOKENS] = {"output_tokens", "output tokens", UNIT_TOKENS},
    [STATS_TTFT_CACHE_HIT] = {"ttft_cache_hit_ms", "TTFT cache hit", UNIT_TIME},
    [STATS_TTFT_CACHE_MISS] = {"ttft_cache_miss_ms", "TTFT cache miss", UNIT_TIME},
    [STATS_SRV_TTFT] = {"server_ttft_ms", "server TTFT", UNIT_TIME},
    [STATS_SRV_E2E] = {"server_e2e_ms", "server E2E", UNIT_TIME},
    [STATS_SRV_QUEUE] = {"server_queue_ms", "server queue time", UNIT_TIME},
    [STATS_SRV_PREFILL] = {"server_prefill_ms", "server prefill", UNIT_TIME},
    [STATS_SRV_DECODE] = {"server_decode_ms_per_token", "server decode/token", UNIT_TIME},
    [STATS_SRV_ITL] = {"server_itl_ms", "server ITL", UNIT_TIME},
    [STATS_OVH_E2E] = {"client_overhead_e2e_ms", "overhead E2E", UNIT_TIME},
    [STATS_OVH_TTFT] = {"client_overhead_ttft_ms", "overhead TTFT", UNIT_TIME},
};

const char *stats_srv_source_name(uint8_t source)
{
    return source == STATS_SRV_TIMINGS ? "timings" : source == STATS_SRV_METRICS ? "metrics" : NULL;
}

const char *stats_metric_key(stats_metric m)
{
    return (unsigned)m < STATS_METRICS ? metric_info[m].key : "?";
}

const char *stats_metric_label(stats_metric m)
{
    return (unsigned)m < STATS_METRICS ? metric_info[m].label : "?";
}

bool stats_metric_is_speed(stats_metric m)
{
    return (unsigned)m < STATS_METRICS && metric_info[m].unit == UNIT_SPEED;
}

static bool metric_is_tokens(stats_metric m)
{
    return (unsigned)m < STATS_METRICS && metric_info[m].unit == UNIT_TOKENS;
}

double stats_metric_scale(stats_metric m)
{
    return metric_is_tokens(m) ? 1.0 : 1000.0;
}

const char *stats_metric_hist_unit(stats_metric m)
{
    return metric_is_tokens(m) ? "tokens" : stats_metric_is_speed(m) ? "mtok/s" : "us";
}

const char *stats_metric_unit(stats_metric m)
{
    return metric_is_tokens(m) ? "tokens" : stats_metric_is_speed(m) ? "tok/s" : "ms";
}

/* ---- aggregates ---- */

static void agg_init(stats_agg *a)
{
    memset(a, 0, sizeof *a);
    a->server_waiting_max = NAN;
}

static uint64_t ns_to_us(uint64_t ns)
{
    return (ns + 500) / 1000;
}

/* tokens per second × 1000 for `tokens` over `ns` nanoseconds. */
static uint64_t milli_rate(uint64_t tokens, uint64_t ns)
{
    return (uint64_t)llround((double)tokens * 1e12 / (double)ns);
}

static void agg_span(stats_agg *a, uint64_t t0_ns, uint64_t end_ns)
{
    if (t0_ns && (a->t_first_ns == 0 || t0_ns < a->t_first_ns))
        a->t_first_ns = t0_ns;
    if (t0_ns > a->t_last_start_ns)
        a->t_last_start_ns = t0_ns;
    if (end_ns > a->t_last_ns)
        a->t_last_ns = end_ns;
}

static bool slo_met(const llm_slo *slo, const ev_done *d)
{
    if (slo->ttft_s > 0 && (d->ttft_ns == 0 || (double)d->ttft_ns > slo->ttft_s * 1e9))
        return false;
    if (slo->e2e_s > 0 && (double)d->e2e_ns > slo->e2e_s * 1e9)
        return false;
    if (slo->tpot_s > 0 && d->output_tokens >= 2 && d->e2e_ns > d->ttft_ns) {
        double tpot = (double)(d->e2e_ns - d->ttft_ns) / (d->output_tokens - 1);
        if (tpot > slo->tpot_s * 1e9)
            return false;
    }
    return true;
}

static void agg_latencies(stats_agg *a, const ev_done *d)
{
    if (d->ttft_ns)
        hist_record(&a->h[STATS_TTFT], ns_to_us(d->ttft_ns));
    if (d->ttfo_ns)
        hist_record(&a->h[STATS_TTFO], ns_to_us(d->ttfo_ns));
    if (d->ttfb_ns)
        hist_record(&a->h[STATS_TTFB], ns_to_us(d->ttfb_ns));
    hist_record(&a->h[STATS_E2E], ns_to_us(d->e2e_ns));
    hist_record(&a->h[STATS_SEND_LAG], ns_to_us(d->send_lag_ns));
    if (d->ttft_ns)
        hist_record(&a->h[STATS_TTFT_SCHED], ns_to_us(d->ttft_ns + d->send_lag_ns));
    hist_record(&a->h[STATS_E2E_SCHED], ns_to_us(d->e2e_ns + d->send_lag_ns));
    if (d->dns_us)
        hist_record(&a->h[STATS_DNS], d->dns_us);
    if (d->connect_us)
        hist_record(&a->h[STATS_CONNECT], d->connect_us);
    if (d->tls_us)
        hist_record(&a->h[STATS_TLS], d->tls_us);
}

/* TPOT, per-stream TPS and prefill speed: DESIGN.md §4. */
static void agg_speeds(stats_agg *a, const ev_done *d)
{
    bool decoded = d->ttft_ns && d->e2e_ns > d->ttft_ns;
    uint64_t decode_ns = decoded ? d->e2e_ns - d->ttft_ns : 0;
    if (decoded && d->output_tokens >= 2)
        hist_record(&a->h[STATS_TPOT], ns_to_us(decode_ns / (d->output_tokens - 1)));
    /* One token has no decode phase: E2E - TTFT is then only the stream's closing, and
     * tokens/s over it would be a meaningless huge number (the input test sends 1). Per
     * request the speed is (N - 1) / decode time = 1 / TPOT; per step the ratio of the sums,
     * so a short answer whose tokens came in one read cannot dominate. */
    if (decoded && d->output_tokens >= 2) {
        hist_record(&a->h[STATS_PER_STREAM_TPS], milli_rate(d->output_tokens - 1, decode_ns));
        a->decode_tokens += d->output_tokens - 1;
        a->decode_ns += decode_ns;
    }
    if (d->ttft_ns && d->prompt_tokens)
        hist_record(&a->h[STATS_PREFILL_TPS], milli_rate(d->prompt_tokens, d->ttft_ns));
}

static uint64_t us_minus(uint64_t client_ns, uint64_t server_us)
{
    uint64_t c = ns_to_us(client_ns);
    return c > server_us ? c - server_us : 0;
}

/* The server's timings of one request beside the client's figures (DESIGN §4). */
static void agg_server_timings(stats_agg *a, const ev_done *d)
{
    if (!d->srv_timings)
        return;
    a->srv_source = STATS_SRV_TIMINGS;
    a->srv_timed++;
    a->srv_tokens += d->srv_predicted_n;
    a->srv_client_events += d->content_events;
    uint64_t srv_e2e = (uint64_t)d->srv_prefill_us + d->srv_decode_us;
    hist_record(&a->h[STATS_SRV_PREFILL], d->srv_prefill_us);
    hist_record(&a->h[STATS_SRV_E2E], srv_e2e);
    if (d->srv_predicted_n >= 2)
        hist_record(&a->h[STATS_SRV_DECODE], d->srv_decode_us / (d->srv_predicted_n - 1));
    hist_record(&a->h[STATS_OVH_E2E], us_minus(d->e2e_ns, srv_e2e));
    if (d->ttft_ns)
        hist_record(&a->h[STATS_OVH_TTFT], us_minus(d->ttft_ns, d->srv_prefill_us));
}

static void agg_prompt_reported(stats_agg *a, const ev_done *d)
{
    if (d->prompt_estimated || !d->prompt_tokens)
        return;
    if (a->prompt_rep_n == 0 || d->prompt_tokens < a->prompt_rep_min)
        a->prompt_rep_min = d->prompt_tokens;
    if (d->prompt_tokens > a->prompt_rep_max)
        a->prompt_rep_max = d->prompt_tokens;
    a->prompt_rep_n++;
    a->prompt_rep_sum += d->prompt_tokens;
}

/* Realised lengths, the answers that ended before max_tokens, the prefix cache (§6). */
static void agg_workload(stats_agg *a, const ev_done *d)
{
    hist_record(&a->h[STATS_INPUT_TOKENS], d->prompt_tokens);
    hist_record(&a->h[STATS_OUTPUT_TOKENS], d->output_tokens);
    if (d->asked_output_tokens && d->usage_reported) {
        a->asked_output++;
        a->ended_early += d->output_tokens < d->asked_output_tokens;
    }
    if (d->turn) {
        unsigned k = (d->turn > STATS_TURNS ? STATS_TURNS : d->turn) - 1;
        a->turn_n[k]++;
        a->turn_ttft_us[k] += ns_to_us(d->ttft_ns);
        a->turn_prompt[k] += d->prompt_tokens;
        a->turn_cached[k] += d->cached_tokens;
        a->history_overflow += d->history_overflow;
    }
    if (!d->cached_reported)
        return;
    bool hit = d->cached_tokens > 0;
    a->cache_reported++;
    a->cache_hits += hit;
    a->cached_tokens += d->cached_tokens;
    if (d->ttft_ns)
        hist_record(&a->h[hit ? STATS_TTFT_CACHE_HIT : STATS_TTFT_CACHE_MISS],
                    ns_to_us(d->ttft_ns));
}

static void agg_done(stats_agg *a, const llm_event *ev, const llm_slo *slo)
{
    const ev_done *d = &ev->u.done;
    a->ok++;
    a->output_tokens += d->output_tokens;
    a->prompt_tokens += d->prompt_tokens;
    a->content_events += d->content_events;
    if (!d->usage_reported || d->prompt_estimated)
        a->estimated = true;
    if (d->usage_reported) {
        a->usage_tokens += d->output_tokens;
        a->usage_events += d->content_events;
    }
    if (slo_met(slo, d))
        a->slo_met++;
    a->reconnects += d->reconnects;
    a->reconnect_lost_us += d->reconnect_lost_us;
    a->finish_grace += d->finish_grace;
    a->one_read += d->one_read;
    agg_latencies(a, d);
    agg_speeds(a, d);
    agg_server_timings(a, d);
    agg_prompt_reported(a, d);
    agg_workload(a, d);
    agg_span(a, d->t0_ns, ev->t_ns);
}

static void agg_failed(stats_agg *a, const llm_event *ev)
{
    const ev_failed *f = &ev->u.failed;
    unsigned cls = f->err_class < ERR_CLASSES ? f->err_class : ERR_OTHER;
    a->failed++;
    a->errors[cls]++;
    a->reconnects += f->reconnects;
    a->reconnect_lost_us += f->reconnect_lost_us;
    size_t n = strnlen(f->message, sizeof f->message);
    n = n < STATS_MSG_LEN - 1 ? n : STATS_MSG_LEN - 1;
    memcpy(a->last_error[cls], f->message, n);
    a->last_error[cls][n] = '\0';
    agg_span(a, f->t0_ns, ev->t_ns);
}

/* ---- steps ---- */

/* Step `index`, grown into existence; NULL when beyond STATS_MAX_STEPS or out of memory. */
static stats_agg *step_at(stats *st, uint32_t index)
{
    if (index >= STATS_MAX_STEPS)
        return NULL;
    if (index >= st->cap_steps) {
        size_t cap = st->cap_steps ? st->cap_steps : 4;
        while (cap <= index)
            cap *= 2;
        stats_agg *grown = realloc(st->steps, cap * sizeof *grown);
        if (!grown) {
            st->out_of_memory = true;
            return NULL;
        }
        st->steps = grown;
        st->cap_steps = cap;
    }
    while (st->n_steps <= index)
        agg_init(&st->steps[st->n_steps++]);
    return &st->steps[index];
}

/* ---- windows (DESIGN.md §4) ---- */

/* Extends a running window to t (records and ticks only ever move it on). */
static void window_to(stats_agg *a, uint64_t t)
{
    if (a->window_running && t > a->window_mark_ns) {
        a->window_ns += t - a->window_mark_ns;
        a->window_mark_ns = t;
    }
}

/* Ends a running window exactly at t. stats_tick may have carried it past t (the consumer
 * drains after the engine published the end): the overshoot is taken back. */
static void window_stop(stats_agg *a, uint64_t t)
{
    if (!a->window_running)
        return;
    if (t >= a->window_mark_ns)
        a->window_ns += t - a->window_mark_ns;
    else
        a->window_ns -= a->window_mark_ns - t < a->window_ns ? a->window_mark_ns - t : a->window_ns;
    a->window_running = false;
}

static void window_start(stats_agg *a, uint64_t t)
{
    if (a->window_running)
        return;
    a->window_running = true;
    a->window_mark_ns = t;
}

/* The step whose window is current (the last EV_STEP's); NULL before the first. */
static stats_agg *current_agg(stats *st)
{
    return st->n_steps ? step_at(st, st->current_step) : NULL;
}

/* Extends the current windows to t: called with every record's time and at each tick. */
static void windows_to(stats *st, uint64_t t)
{
    stats_agg *a = current_agg(st);
    if (a)
        window_to(a, t);
    window_to(&st->totals, t);
}

static void windows_stop(stats *st, uint64_t t)
{
    stats_agg *a = current_agg(st);
    if (a)
        window_stop(a, t);
    window_stop(&st->totals, t);
}

static void windows_start(stats *st, uint64_t t)
{
    if (st->paused || st->load_ended)
        return;
    stats_agg *a = current_agg(st);
    if (a)
        window_start(a, t);
    window_start(&st->totals, t);
}

static void step_open(stats *st, const llm_event *ev)
{
    const ev_step *s = &ev->u.step_change;
    bool same = st->n_steps && s->index == st->current_step;
    if (!same) {
        windows_stop(st, ev->t_ns);
        st->current_step = s->index;
    }
    st->steps_total = s->total;
    stats_agg *a = step_at(st, s->index);
    if (a) {
        a->opened = true;
        a->test = s->test;
        a->plan_index = s->plan_index;
        a->manual = s->manual;
        a->concurrency = s->concurrency;
        a->rate = s->rate;
    }
    if (s->concurrency > st->totals.concurrency)
        st->totals.concurrency = s->concurrency;
    if (s->rate > st->totals.rate)
        st->totals.rate = s->rate;
    st->totals.opened = true;
    if (!same) {
        st->load_ended = false;
        windows_start(st, ev->t_ns);
    }
}

static void window_event(stats *st, const llm_event *ev)
{
    switch (ev->kind) {
    case EV_PAUSE:
        windows_stop(st, ev->t_ns);
        st->paused = true;
        break;
    case EV_RESUME:
        st->paused = false;
        windows_start(st, ev->t_ns);
        break;
    default: /* EV_WINDOW_END */
        windows_stop(st, ev->t_ns);
        st->load_ended = true;
        break;
    }
}

/* ---- the 1 s series ---- */

static void row_clear(stats_row *r, uint32_t t)
{
    r->t = t;
    r->rps = r->tps = r->errors = 0;
    r->ttft_p50_ms = r->ttft_p99_ms = NAN;
}

static void series_append(stats *st, const stats_row *r)
{
    if (st->n_series >= STATS_SERIES_MAX) {
        st->series_dropped++;
        return;
    }
    if (st->n_series == st->cap_series) {
        size_t cap = st->cap_series ? st->cap_series * 2 : 256;
        cap = cap < STATS_SERIES_MAX ? cap : STATS_SERIES_MAX;
        stats_row *grown = realloc(st->series, cap * sizeof *grown);
        if (!grown) {
            st->out_of_memory = true;
            st->series_dropped++;
            return;
        }
        st->series = grown;
        st->cap_series = cap;
    }
    st->series[st->n_series++] = *r;
}

/* Closes the open second and opens the next one, gauges carried over. */
static void series_close(stats *st)
{
    stats_row *r = &st->open;
    /* Content events become tokens at the run's measured tokens per event (usage vs
     * events counted), so servers that pack several tokens in one event read right. */
    const stats_agg *t = &st->totals;
    if (t->usage_events && t->usage_tokens)
        r->tps =
            (uint32_t)((double)r->tps * (double)t->usage_tokens / (double)t->usage_events + 0.5);
    if (st->open_ttft.total) {
        r->ttft_p50_ms = (double)hist_percentile(&st->open_ttft, 50) / 1000.0;
        r->ttft_p99_ms = (double)hist_percentile(&st->open_ttft, 99) / 1000.0;
    }
    series_append(st, r);
    st->last = *r;
    st->has_last = true;
    if (st->open_ttft.total) /* an empty second costs no 17 kB clear */
        hist_reset(&st->open_ttft);
    row_clear(r, r->t + 1);
}

/* Closes seconds until second `sec` is the open one. After the series is full, empty
 * seconds are skipped in one jump (they could not be stored anyway). */
static void series_advance(stats *st, uint64_t sec)
{
    while (st->open.t < sec) {
        series_close(st);
        if (st->n_series >= STATS_SERIES_MAX && st->open.t < sec) {
            st->series_dropped += sec - st->open.t;
            row_clear(&st->open, (uint32_t)sec);
        }
    }
}

static uint64_t second_of(const stats *st, uint64_t t_ns)
{
    uint64_t sec = t_ns > st->start_ns ? (t_ns - st->start_ns) / NS_PER_SEC : 0;
    return sec < UINT32_MAX ? sec : UINT32_MAX - 1;
}

void stats_tick(stats *st, uint64_t now_ns)
{
    /* Second s ends at start + (s+1) s: at now, every second below second_of(now) ended. */
    series_advance(st, second_of(st, now_ns));
    windows_to(st, now_ns);
}

static void sample_load_into(stats_agg *a, uint64_t target, uint64_t inflight)
{
    a->target_sum += target;
    a->inflight_sum += inflight;
    a->inflight_samples++;
}

static void sample_load(stats *st, uint64_t target, uint64_t inflight)
{
    /* the load applied inside the window: not while paused or cooling down (nothing is
     * sent, the target still stands) nor after the load ended (issue 16) */
    if (st->paused || st->load_ended)
        return;
    stats_agg *a = st->n_steps ? step_at(st, st->current_step) : NULL;
    if (a)
        sample_load_into(a, target, inflight);
    sample_load_into(&st->totals, target, inflight);
}

static double repeat_figure(const stats_agg *a, int which)
{
    switch (which) {
    case STATS_REPEAT_RPS:
        return stats_agg_rps(a);
    case STATS_REPEAT_TPS:
        return stats_agg_tps(a);
    case STATS_REPEAT_TTFT_P50:
        return stats_agg_value(a, STATS_TTFT, 50);
    default:
        return stats_agg_value(a, STATS_E2E, 50);
    }
}

static void repeat_fill(const stats *st, stats_repeat *g)
{
    for (int f = 0; f < 4; f++) {
        double sum = 0, sq = 0;
        size_t n = 0;
        for (size_t i = g->first_step; i < g->first_step + g->n; i++) {
            double v = repeat_figure(&st->steps[i], f);
            if (isnan(v))
                continue;
            sum += v;
            sq += v * v;
            n++;
        }
        g->mean[f] = n ? sum / (double)n : NAN;
        g->sd[f] = n > 1 ? sqrt(fmax(0, (sq - sum * sum / (double)n) / (double)(n - 1))) : NAN;
    }
}

static bool same_setting(const stats_agg *a, const stats_agg *b)
{
    /* a hand's step is never a repeat of the plan's, even at the same load */
    return a->concurrency == b->concurrency && a->rate == b->rate && a->test == b->test &&
           !a->manual && !b->manual;
}

size_t stats_repeats(const stats *st, stats_repeat *out, size_t max)
{
    size_t groups = 0;
    for (size_t i = 0; i < st->n_steps;) {
        size_t j = i + 1;
        while (j < st->n_steps && same_setting(&st->steps[i], &st->steps[j]))
            j++;
        if (groups < max) {
            stats_repeat *g = &out[groups];
            *g = (stats_repeat){.first_step = i,
                                .n = j - i,
                                .concurrency = st->steps[i].concurrency,
                                .rate = st->steps[i].rate,
                                .test = st->steps[i].test};
            repeat_fill(st, g);
        }
        groups++;
        i = j;
    }
    return groups;
}

double stats_agg_send_rate(const stats_agg *a)
{
    double w = stats_agg_window_s(a);
    return w > 0 ? (double)(a->ok + a->failed + a->cut) / w : NAN;
}

double stats_agg_per_stream_tps(const stats_agg *a)
{
    return a->decode_ns ? (double)a->decode_tokens * 1e9 / (double)a->decode_ns : NAN;
}

double stats_agg_mean_inflight(const stats_agg *a)
{
    return a->inflight_samples ? (double)a->inflight_sum / (double)a->inflight_samples : NAN;
}

double stats_agg_mean_target(const stats_agg *a)
{
    return a->inflight_samples ? (double)a->target_sum / (double)a->inflight_samples : NAN;
}

double stats_efficiency(const stats *st, const stats_agg *a)
{
    if (a->test == TEST_INPUT)
        return NAN; /* one token per request: there is no generation to compare */
    for (size_t i = 0; i < st->n_steps; i++) {
        const stats_agg *ref = &st->steps[i];
        if (ref->concurrency != 1 || !ref->ok || ref->test != TEST_OUTPUT)
            continue;
        double per_stream = stats_agg_per_stream_tps(ref);
        if (isnan(per_stream) || per_stream <= 0 || a->concurrency == 0)
            return NAN;
        return stats_agg_tps(a) / ((double)a->concurrency * per_stream);
    }
    return NAN;
}

void stats_set_gauges(stats *st, int target, int inflight, double cpu_pct, double temp_c)
{
    st->open.target = target < 0 ? -1 : target;
    st->open.inflight = inflight < 0 ? -1 : inflight;
    if (target >= 0 && inflight >= 0)
        sample_load(st, (uint64_t)target, (uint64_t)inflight);
    st->open.cpu_pct = cpu_pct;
    st->open.temp_c = temp_c;
}

static void keep_max(double *to, double v)
{
    if (v > *to)
        *to = v;
}

void stats_set_server(stats *st, double running, double waiting, double kv_pct)
{
    st->open.server_running = running;
    st->open.server_waiting = waiting;
    st->open.server_kv_pct = kv_pct;
    if (isnan(waiting))
        return;
    stats_agg *a = st->n_steps ? step_at(st, st->current_step) : NULL;
    stats_agg *aggs[2] = {a, &st->totals};
    for (int i = 0; i < 2; i++)
        if (aggs[i] && !(aggs[i]->server_waiting_max >= waiting))
            aggs[i]->server_waiting_max = waiting;
}

/* ---- the server's /metrics histograms (DESIGN §4 "server view") ---- */

static const stats_metric srv_metric_of[PROM_HISTS] = {STATS_SRV_TTFT, STATS_SRV_E2E,
                                                       STATS_SRV_QUEUE, STATS_SRV_ITL};

/* n observations somewhere in (lo_s, hi_s]: spread evenly, as Prometheus' own
 * histogram_quantile interpolates, in at most 16 points. */
static void srv_spread(stats_agg **aggs, stats_metric m, double lo_s, double hi_s, uint64_t n)
{
    uint64_t points = n < 16 ? n : 16;
    for (uint64_t j = 0; j < points; j++) {
        uint64_t share = n / points + (j < n % points);
        double v = lo_s + (hi_s - lo_s) * ((double)j + 0.5) / (double)points;
        for (int i = 0; i < 2; i++)
            if (aggs[i])
                hist_record_n(&aggs[i]->h[m], (uint64_t)llround(v * 1e6), share);
    }
}

static bool srv_same_bounds(const prom_hist *a, const prom_hist *b)
{
    if (a->n != b->n)
        return false;
    for (int i = 0; i < a->n; i++)
        if (a->le[i] != b->le[i])
            return false;
    return true;
}

/* The delta of one histogram since the last reading; false when it went down. */
static bool srv_hist_delta(stats_agg **aggs, stats_metric m, const prom_hist *now,
                           const prom_hist *last)
{
    if (now->total < last->total)
        return false;
    double below = 0;
    for (int i = 0; i < now->n; i++) {
        double d = (now->cum[i] - last->cum[i]) - below;
        below = now->cum[i] - last->cum[i];
        if (d < 0)
            return false;
        if (d > 0)
            srv_spread(aggs, m, i ? now->le[i - 1] : 0, now->le[i], (uint64_t)llround(d));
    }
    double inf = (now->total - last->total) - below; /* beyond the last bound: counted at it */
    if (inf > 0 && now->n > 0)
        srv_spread(aggs, m, now->le[now->n - 1], now->le[now->n - 1], (uint64_t)llround(inf));
    return true;
}

void stats_set_server_hists(stats *st, const prom_figures *f)
{
    stats_agg *cur = st->n_steps ? step_at(st, st->current_step) : NULL;
    stats_agg *aggs[2] = {cur, cur ? &st->totals : NULL};
    for (int k = 0; k < PROM_HISTS; k++) {
        const prom_hist *now = &f->hist[k];
        stats_metric m = srv_metric_of[k];
        if (now->n > 0 && m != STATS_METRICS && cur && srv_same_bounds(now, &st->srv_last[k]) &&
            srv_hist_delta(aggs, m, now, &st->srv_last[k])) {
            for (int i = 0; i < 2; i++)
                if (aggs[i] && aggs[i]->srv_source == STATS_SRV_NONE) {
                    aggs[i]->srv_source = STATS_SRV_METRICS;
                    aggs[i]->srv_bounds = st->srv_last;
                }
        }
        st->srv_last[k] = *now;
    }
    double gen = f->generation_tokens;
    if (!isnan(gen) && !isnan(st->srv_last_gen) && gen >= st->srv_last_gen && cur) {
        for (int i = 0; i < 2; i++) {
            aggs[i]->srv_metric_tokens += (uint64_t)llround(gen - st->srv_last_gen);
            aggs[i]->srv_metric_events += st->srv_events_since;
        }
    }
    st->srv_last_gen = gen;
    st->srv_events_since = 0;
}

uint8_t stats_agg_server_tokens(const stats_agg *a, uint64_t *server, uint64_t *client)
{
    if (a->srv_timed) {
        *server = a->srv_tokens;
        *client = a->srv_client_events;
        return STATS_SRV_TIMINGS;
    }
    *server = a->srv_metric_tokens;
    *client = a->srv_metric_events;
    return a->srv_metric_tokens || a->srv_metric_events ? STATS_SRV_METRICS : STATS_SRV_NONE;
}

static bool bucket_of(const prom_hist *h, double value_ms, double *lo, double *hi)
{
    if (!h || h->n == 0 || isnan(value_ms))
        return false;
    double v = value_ms / 1000.0;
    for (int i = 0; i < h->n; i++)
        if (v <= h->le[i] * (1 + 1e-9)) {
            *lo = i ? h->le[i - 1] * 1000.0 : 0;
            *hi = h->le[i] * 1000.0;
            return true;
        }
    *lo = *hi = h->le[h->n - 1] * 1000.0;
    return true;
}

bool stats_server_bucket(const stats *st, prom_hist_kind k, double value_ms, double *lo, double *hi)
{
    return (unsigned)k < PROM_HISTS && bucket_of(&st->srv_last[k], value_ms, lo, hi);
}

double stats_agg_server_resolution(const stats_agg *a, prom_hist_kind k, double p)
{
    double lo, hi;
    if (a->srv_source != STATS_SRV_METRICS || !a->srv_bounds || (unsigned)k >= PROM_HISTS ||
        !bucket_of(&a->srv_bounds[k], stats_agg_value(a, srv_metric_of[k], p), &lo, &hi))
        return NAN;
    return hi - lo;
}

void stats_set_client_cpu(stats *st, double pct)
{
    if (!(pct > 0))
        return;
    stats_agg *a = st->n_steps ? step_at(st, st->current_step) : NULL;
    if (a)
        keep_max(&a->client_cpu_max, pct);
    keep_max(&st->totals.client_cpu_max, pct);
}

/* ---- records ---- */

static void consume_done(stats *st, const llm_event *ev)
{
    stats_agg *a = step_at(st, ev->step);
    if (a)
        agg_done(a, ev, &st->slo);
    agg_done(&st->totals, ev, &st->slo);
    /* Throughput belongs to the window it completed in, whichever step it started in. */
    bool met = slo_met(&st->slo, &ev->u.done);
    stats_agg *w[2] = {current_agg(st), &st->totals};
    for (int i = 0; i < 2; i++)
        if (w[i] && w[i]->window_running) {
            w[i]->win_ok++;
            w[i]->win_slo_met += met;
        }
    st->open.rps++;
    if (ev->u.done.ttft_ns)
        hist_record(&st->open_ttft, ns_to_us(ev->u.done.ttft_ns));
}

static void consume_failed(stats *st, const llm_event *ev)
{
    stats_agg *a = step_at(st, ev->step);
    if (a)
        agg_failed(a, ev);
    agg_failed(&st->totals, ev);
    st->open.errors++;
}

static void consume_cut(stats *st, const llm_event *ev)
{
    stats_agg *a = step_at(st, ev->step);
    if (a)
        a->cut++;
    st->totals.cut++;
}

static void consume_tokens(stats *st, const llm_event *ev)
{
    const ev_tokens *t = &ev->u.tokens;
    st->open.tps += t->count;
    stats_agg *cur = current_agg(st);
    if (cur && cur->window_running)
        cur->win_events += t->count;
    if (st->totals.window_running)
        st->totals.win_events += t->count;
    uint64_t same_read = t->count > 0 ? t->count - 1 : 0;
    stats_agg *a = step_at(st, ev->step);
    hist *per_step = a ? &a->h[STATS_ITL] : NULL;
    hist *total = &st->totals.h[STATS_ITL];
    if (t->gap_ns) {
        if (per_step)
            hist_record(per_step, ns_to_us(t->gap_ns));
        hist_record(total, ns_to_us(t->gap_ns));
    }
    if (per_step)
        hist_record_n(per_step, 0, same_read);
    hist_record_n(total, 0, same_read);
}

static void consume_server_id(stats *st, const llm_event *ev)
{
    const ev_server_id *id = &ev->u.server_id;
    snprintf(st->server_model, sizeof st->server_model, "%.*s", (int)sizeof id->model, id->model);
    snprintf(st->server_fingerprint, sizeof st->server_fingerprint, "%.*s",
             (int)sizeof id->fingerprint, id->fingerprint);
}

void stats_consume(stats *st, const llm_event *ev)
{
    st->events++;
    if (ev->kind == EV_TOKENS) /* warm-up's too: the server's counter has them */
        st->srv_events_since += ev->u.tokens.count;
    if (ev->warmup) {
        if (ev->kind == EV_REQUEST_DONE)
            st->warmup_ok++;
        return;
    }
    switch (ev->kind) {
    case EV_STEP_END:
        if (ev->step + 1 > st->steps_ended)
            st->steps_ended = ev->step + 1;
        return;
    case EV_SERVER_ID:
        consume_server_id(st, ev);
        return;
    case EV_STEP:
        step_open(st, ev);
        return;
    case EV_WINDOW_END:
    case EV_PAUSE:
    case EV_RESUME:
        window_event(st, ev);
        return;
    default:
        break;
    }
    series_advance(st, second_of(st, ev->t_ns));
    windows_to(st, ev->t_ns);
    switch (ev->kind) {
    case EV_REQUEST_DONE:
        consume_done(st, ev);
        break;
    case EV_REQUEST_FAILED:
        consume_failed(st, ev);
        break;
    case EV_REQUEST_CUT:
        consume_cut(st, ev);
        break;
    case EV_TOKENS:
        consume_tokens(st, ev);
        break;
    default:
        break;
    }
}

/* ---- lifecycle and queries ---- */

int stats_init(stats *st, uint64_t start_ns, const llm_slo *slo)
{
    memset(st, 0, sizeof *st);
    st->start_ns = start_ns;
    if (slo)
        st->slo = *slo;
    agg_init(&st->totals);
    hist_init(&st->open_ttft);
    row_clear(&st->open, 0);
    stats_set_gauges(st, -1, -1, NAN, NAN);
    stats_set_server(st, NAN, NAN, NAN);
    st->srv_last_gen = NAN;
    return 0;
}

void stats_free(stats *st)
{
    free(st->steps);
    free(st->series);
    st->steps = NULL;
    st->series = NULL;
    st->n_steps = st->cap_steps = st->n_series = st->cap_series = 0;
}

const stats_row *stats_live(const stats *st)
{
    return st->has_last ? &st->last : NULL;
}

const stats_agg *stats_step(const stats *st, size_t i)
{
    return i < st->n_steps ? &st->steps[i] : NULL;
}

double stats_agg_window_s(const stats_agg *a)
{
    return (double)a->window_ns / 1e9;
}

static double per_window(const stats_agg *a, double n)
{
    double w = stats_agg_window_s(a);
    return w > 0 ? n / w : 0.0;
}

double stats_agg_window_tokens(const stats_agg *a)
{
    double per_event = a->usage_events && a->usage_tokens
                           ? (double)a->usage_tokens / (double)a->usage_events
                           : 1.0;
    return (double)a->win_events * per_event;
}

double stats_agg_rps(const stats_agg *a)
{
    return per_window(a, (double)a->win_ok);
}

double stats_agg_tps(const stats_agg *a)
{
    return per_window(a, stats_agg_window_tokens(a));
}

double stats_agg_goodput(const stats_agg *a)
{
    return per_window(a, (double)a->win_slo_met);
}

double stats_agg_value(const stats_agg *a, stats_metric m, double p)
{
    const hist *h = &a->h[m];
    if (h->total == 0)
        return NAN;
    double raw = p < 0 ? hist_mean(h) : (double)hist_percentile(h, p);
    return raw / stats_metric_scale(m);
}

void stats_workload_line(const stats_agg *a, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    if (a->cache_reported) {
        int k = snprintf(out, cap, "cache hit %.0f%% TTFT %.1f/%.1f ms",
                         100.0 * (double)a->cache_hits / (double)a->cache_reported,
                         stats_agg_value(a, STATS_TTFT_CACHE_HIT, 50),
                         stats_agg_value(a, STATS_TTFT_CACHE_MISS, 50));
        n = k > 0 ? (size_t)k : 0;
    }
    int last = -1;
    for (int t = STATS_TURNS - 1; t > 0 && last < 0; t--)
        if (a->turn_n[t])
            last = t;
    if (last > 0 && a->turn_n[0] && n < cap)
        snprintf(out + n, cap - n, "%sturn 1 %.0f ms, %d %.0f ms", n ? "  " : "",
                 (double)a->turn_ttft_us[0] / 1000.0 / (double)a->turn_n[0], last + 1,
                 (double)a->turn_ttft_us[last] / 1000.0 / (double)a->turn_n[last]);
}
