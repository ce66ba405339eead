/* run/watch: the fleet model (see watch.h). The worker's text is read with proto/prom's
 * sample reader, the one reader of the format. */
#include "run/watch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"
#include "proto/prom.h"
#include "run/listen.h"

/* ---- URLs ---- */

static size_t strip_suffix(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && strncmp(s + n - k, suffix, k) == 0 ? n - k : n;
}

int watch_url_base(const char *arg, char *base, size_t cap, char *err, size_t errlen)
{
    const char *sep = strstr(arg, "://");
    const char *host = sep ? sep + 3 : arg;
    if (sep && !((sep - arg == 4 && strncasecmp(arg, "http", 4) == 0) ||
                 (sep - arg == 5 && strncasecmp(arg, "https", 5) == 0))) {
        snprintf(err, errlen, "%.80s: watch reads http:// or https:// URLs (a worker's --listen)",
                 arg);
        return -1;
    }
    size_t hl = strcspn(host, "/");
    const char *at = memchr(host, '@', hl);
    if (hl == 0 || (at && at + 1 == host + hl) || strpbrk(arg, "?# \t")) {
        snprintf(err, errlen,
                 "%.80s is not a worker's address: give http://HOST:PORT (its --listen), "
                 "with or without /metrics",
                 arg);
        return -1;
    }
    size_t n = strlen(arg);
    while (n > 0 && arg[n - 1] == '/')
        n--;
    n = strip_suffix(arg, n, "/metrics");
    while (n > 0 && arg[n - 1] == '/')
        n--;
    int w = snprintf(base, cap, "%s%.*s", sep ? "" : "http://", (int)n, arg);
    if (w < 0 || (size_t)w >= cap) {
        snprintf(err, errlen, "%.60s...: the URL is too long", arg);
        return -1;
    }
    return 0;
}

void watch_worker_init(watch_worker *w, const char *base)
{
    memset(w, 0, sizeof *w);
    llm_strlcpy(w->base, base, sizeof w->base);
    llm_url_without_userinfo(base, w->shown, sizeof w->shown);
    w->rps = w->tps = NAN;
    w->fig.state = -1;
}

/* ---- reading a worker's text ---- */

static bool is(const prom_sample *s, const char *name)
{
    return strlen(name) == s->name_len && memcmp(s->name, name, s->name_len) == 0;
}

static bool read_hist(const prom_sample *s, watch_figures *f)
{
    static const char *const bases[WATCH_HISTS] = {"llmload_ttft_seconds", "llmload_e2e_seconds",
                                                   "llmload_itl_seconds"};
    for (int k = 0; k < WATCH_HISTS; k++) {
        size_t bl = strlen(bases[k]);
        if (s->name_len <= bl || memcmp(s->name, bases[k], bl) != 0)
            continue;
        const char *part = s->name + bl;
        size_t pl = s->name_len - bl;
        char le[32], *end;
        if (pl == 4 && memcmp(part, "_sum", 4) == 0) {
            f->h[k].sum = s->value;
        } else if (pl == 7 && memcmp(part, "_bucket", 7) == 0 &&
                   prom_label(s, "le", le, sizeof le)) {
            double v = strcmp(le, "+Inf") == 0 ? INFINITY : strtod(le, &end);
            if (isinf(v) || (*end == '\0' && !isnan(v)))
                prom_bucket_put(&f->h[k].n, f->h[k].le, f->h[k].cum, WATCH_EDGES, &f->h[k].total, v,
                                s->value);
        }
        return true;
    }
    return false;
}

static void read_requests(const prom_sample *s, watch_figures *f)
{
    char cls[32];
    if (!prom_label(s, "class", cls, sizeof cls))
        return;
    if (strcmp(cls, "ok") == 0) {
        f->ok += s->value;
        return;
    }
    int c = ERR_OTHER; /* a class this version does not know */
    for (int k = 0; k < ERR_CLASSES; k++)
        if (strcmp(cls, err_class_name((err_class)k)) == 0)
            c = k;
    f->errors[c] += s->value;
    f->failed += s->value;
}

static void read_state(const prom_sample *s, watch_figures *f)
{
    char name[32];
    if (s->value != 1 || !prom_label(s, "state", name, sizeof name))
        return;
    for (int k = ENGINE_STARTING; k <= ENGINE_DONE; k++)
        if (strcmp(name, listen_state_name((engine_state)k)) == 0)
            f->state = k;
}

/* The gauges and counters that are one sample each. */
static bool read_plain(const prom_sample *s, watch_figures *f)
{
    static const struct {
        const char *name;
        size_t off;
    } plain[] = {
        {"llmload_output_tokens_total", offsetof(watch_figures, output_tokens)},
        {"llmload_inflight", offsetof(watch_figures, inflight)},
        {"llmload_target", offsetof(watch_figures, target)},
        {"llmload_step", offsetof(watch_figures, step)},
        {"llmload_steps", offsetof(watch_figures, n_steps)},
        {"llmload_lost_events_total", offsetof(watch_figures, lost)},
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (is(s, plain[i].name)) {
            *(double *)((char *)f + plain[i].off) = s->value;
            return true;
        }
    return false;
}

bool watch_read(const char *text, size_t len, watch_figures *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->state = -1;
    bool seen_up = false;
    const char *p = text, *end = text + len;
    prom_sample s;
    while (prom_next_sample(&p, end, &s)) {
        if (isnan(s.value) || read_plain(&s, out) || read_hist(&s, out))
            continue;
        if (is(&s, "llmload_up")) {
            seen_up = true;
            out->published = s.value == 1;
        } else if (is(&s, "llmload_requests_total")) {
            read_requests(&s, out);
        } else if (is(&s, "llmload_state")) {
            read_state(&s, out);
        } else if (is(&s, "llmload_manual")) {
            out->manual = s.value == 1;
        }
    }
    if (!seen_up)
        snprintf(err, errlen,
                 "not an llmload worker: no llmload_up in its /metrics (give the address "
                 "of `llmload run --listen`)");
    return seen_up;
}

/* ---- rates and the fleet ---- */

void watch_worker_read(watch_worker *w, const watch_figures *f, uint64_t now_ns)
{
    double req = f->ok + f->failed, tok = f->output_tokens;
    int last = w->span_n - 1;
    if (w->span_n > 0 &&
        (req < w->span_req[last] || tok < w->span_tok[last] || now_ns <= w->span_ns[last]))
        w->span_n = 0; /* restarted (or the clock did not move): a new span */
    if (w->span_n == WATCH_RATE_READS) {
        memmove(w->span_ns, w->span_ns + 1, (WATCH_RATE_READS - 1) * sizeof w->span_ns[0]);
        memmove(w->span_req, w->span_req + 1, (WATCH_RATE_READS - 1) * sizeof w->span_req[0]);
        memmove(w->span_tok, w->span_tok + 1, (WATCH_RATE_READS - 1) * sizeof w->span_tok[0]);
        w->span_n--;
    }
    w->span_ns[w->span_n] = now_ns;
    w->span_req[w->span_n] = req;
    w->span_tok[w->span_n++] = tok;
    w->rps = w->tps = NAN;
    if (w->span_n >= 2) {
        double dt = (double)(now_ns - w->span_ns[0]) / 1e9;
        w->rps = (req - w->span_req[0]) / dt;
        w->tps = (tok - w->span_tok[0]) / dt;
    }
    w->fig = *f;
    w->have = true;
    w->read_ns = now_ns;
    w->link = WATCH_LINK_UP;
    w->error[0] = '\0';
}

void watch_worker_fail(watch_worker *w, const char *why)
{
    w->link = WATCH_LINK_DOWN;
    w->rps = w->tps = NAN;
    w->span_n = 0; /* the rates start again when it is back */
    llm_strlcpy(w->error, why, sizeof w->error);
}

static bool same_edge(double a, double b)
{
    return fabs(a - b) <= 1e-9 * (fabs(a) > fabs(b) ? fabs(a) : fabs(b));
}

void watch_hist_add(watch_hist *dst, const watch_hist *src)
{
    watch_hist out;
    memset(&out, 0, sizeof out);
    int i = 0, j = 0;
    while ((i < dst->n || j < src->n) && out.n < WATCH_EDGES) {
        double x = i >= dst->n               ? src->le[j]
                   : j >= src->n             ? dst->le[i]
                   : dst->le[i] < src->le[j] ? dst->le[i]
                                             : src->le[j];
        bool in_a = i < dst->n && same_edge(dst->le[i], x);
        bool in_b = j < src->n && same_edge(src->le[j], x);
        /* a side without this edge: its cumulative count at the edge below */
        double ca = in_a ? dst->cum[i] : i > 0 ? dst->cum[i - 1] : 0;
        double cb = in_b ? src->cum[j] : j > 0 ? src->cum[j - 1] : 0;
        out.le[out.n] = x;
        out.cum[out.n++] = ca + cb;
        i += in_a;
        j += in_b;
    }
    out.total = dst->total + src->total;
    out.sum = dst->sum + src->sum;
    *dst = out;
}

double watch_quantile(const watch_hist *h, double q)
{
    if (h->total <= 0 || h->n == 0 || isnan(q))
        return NAN;
    double rank = (q < 0 ? 0 : q > 1 ? 1 : q) * h->total;
    int i = 0;
    while (i < h->n && h->cum[i] < rank)
        i++;
    if (i == h->n) /* in the +Inf bucket */
        return h->le[h->n - 1];
    double lower = i > 0 ? h->le[i - 1] : 0, below = i > 0 ? h->cum[i - 1] : 0;
    double count = h->cum[i] - below;
    if (count <= 0)
        return h->le[i];
    return lower + (h->le[i] - lower) * (rank - below) / count;
}

static void fleet_gauges(const watch_worker *w, watch_fleet *out)
{
    out->n_up++;
    out->target += w->fig.target;
    out->inflight += w->fig.inflight;
    out->manual = out->manual || w->fig.manual;
    if (!isnan(w->rps)) {
        out->rps = (isnan(out->rps) ? 0 : out->rps) + w->rps;
        out->tps = (isnan(out->tps) ? 0 : out->tps) + w->tps;
    }
    double step = w->fig.step;
    if (out->step_min == 0 || step < out->step_min)
        out->step_min = step;
    if (step > out->step_max)
        out->step_max = step;
    if (out->state == -1)
        out->state = w->fig.state;
    else if (out->state != w->fig.state)
        out->state = -2;
}

void watch_fleet_sum(const watch_worker *w, size_t n, watch_fleet *out)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    out->rps = out->tps = NAN;
    out->state = -1;
    for (size_t i = 0; i < n; i++) {
        if (!w[i].have)
            continue;
        const watch_figures *f = &w[i].fig;
        out->ok += f->ok;
        out->failed += f->failed;
        for (int c = 0; c < ERR_CLASSES; c++)
            out->errors[c] += f->errors[c];
        out->output_tokens += f->output_tokens;
        out->lost += f->lost;
        for (int k = 0; k < WATCH_HISTS; k++)
            watch_hist_add(&out->h[k], &f->h[k]);
        if (w[i].link == WATCH_LINK_UP)
            fleet_gauges(&w[i], out);
    }
}

/* ---- the --no-tui line ---- */

void watch_line(const watch_fleet *f, double t, char *out, size_t cap)
{
    char step[48] = "-";
    if (f->n_up && f->step_min == f->step_max)
        snprintf(step, sizeof step, "%.0f", f->step_min);
    else if (f->n_up)
        snprintf(step, sizeof step, "%.0f-%.0f", f->step_min, f->step_max);
    int n = snprintf(out, cap,
                     "t=%.0f up=%zu/%zu step=%s target=%.0f inflight=%.0f ok=%.0f failed=%.0f "
                     "rps=%.1f tps=%.1f",
                     t, f->n_up, f->n, step, f->target, f->inflight, f->ok, f->failed,
                     isnan(f->rps) ? 0 : f->rps, isnan(f->tps) ? 0 : f->tps);
    static const char *const names[WATCH_HISTS] = {"ttft", "e2e", "itl"};
    static const double qs[] = {0.5, 0.9, 0.99};
    for (int k = 0; k < WATCH_HISTS; k++)
        for (int j = 0; j < 3 && n > 0 && (size_t)n < cap; j++)
            n += snprintf(out + n, cap - (size_t)n, " %s_p%.0f=%.4f", names[k], qs[j] * 100,
                          watch_quantile(&f->h[k], qs[j]));
    if (n > 0 && (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, " lost=%.0f", f->lost);
}
