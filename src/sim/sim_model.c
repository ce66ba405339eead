/* sim_model: the serving-engine model. One min-heap of due times drives every timed event
 * (slow-headers delays, first tokens, each next token) from a single timer (base/ptimer, a
 * timerfd: a whole-millisecond uv timer let tokens out up to 1 ms late, in bursts) that
 * fires every SIM_TICK_NS at most; S slots, a FIFO queue beyond them, and a per-sequence
 * decode rate that falls as the batch grows. */
#include <math.h>
#include <stdlib.h>

#include "sim/sim_internal.h"

#define NS_PER_S 1e9
#define BACKOFF_NS 5000000ull /* how long a stream waits for a lagging client */

/* splitmix64: tiny, seedable, good enough to pick faults and words reproducibly. */
uint64_t sim_rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
double sim_rng_unit(uint64_t *state)
{
    return (double)(sim_rng_next(state) >> 11) * 0x1.0p-53;
}

static uint64_t secs_to_ns(double s)
{
    return s > 0 ? (uint64_t)(s * NS_PER_S) : 0;
}

/* ---- the heap: index 0 holds the earliest due time ---- */

static void heap_set(sim_server *s, size_t i, sim_req *r)
{
    s->heap[i] = r;
    r->heap_idx = i;
}

static void heap_up(sim_server *s, size_t i)
{
    sim_req *r = s->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (s->heap[parent]->due_ns <= r->due_ns)
            break;
        heap_set(s, i, s->heap[parent]);
        i = parent;
    }
    heap_set(s, i, r);
}

static void heap_down(sim_server *s, size_t i)
{
    sim_req *r = s->heap[i];
    for (;;) {
        size_t kid = 2 * i + 1;
        if (kid >= s->heap_len)
            break;
        if (kid + 1 < s->heap_len && s->heap[kid + 1]->due_ns < s->heap[kid]->due_ns)
            kid++;
        if (r->due_ns <= s->heap[kid]->due_ns)
            break;
        heap_set(s, i, s->heap[kid]);
        i = kid;
    }
    heap_set(s, i, r);
}

/* Grows only when more requests are in flight than ever before: never per token. */
static void heap_push(sim_server *s, sim_req *r, uint64_t due)
{
    if (s->heap_len == s->heap_cap) {
        size_t cap = s->heap_cap ? s->heap_cap * 2 : 256;
        sim_req **h = realloc(s->heap, cap * sizeof *h);
        if (!h)
            abort(); /* out of memory for a pointer array: nothing sensible remains */
        s->heap = h;
        s->heap_cap = cap;
    }
    r->due_ns = due;
    s->heap[s->heap_len] = r;
    heap_up(s, s->heap_len++);
}

static void heap_remove(sim_server *s, sim_req *r)
{
    size_t i = r->heap_idx;
    if (i == SIM_NO_HEAP)
        return;
    r->heap_idx = SIM_NO_HEAP;
    sim_req *last = s->heap[--s->heap_len];
    if (last == r)
        return;
    heap_set(s, i, last);
    heap_up(s, i);
    heap_down(s, last->heap_idx);
}

static sim_req *heap_pop(sim_server *s)
{
    sim_req *top = s->heap[0];
    heap_remove(s, top);
    return top;
}

/* ---- vLLM-named histograms ---- */

const double sim_hist_le[SIM_HIST_BUCKETS] = {0.001, 0.005, 0.01, 0.02,  0.04,  0.06,  0.08, 0.1,
                                              0.25,  0.5,   0.75, 1.0,   2.5,   5.0,   7.5,  10.0,
                                              20.0,  40.0,  80.0, 160.0, 640.0, 2560.0};

void model_observe(sim_server *s, int which, uint64_t from_ns, uint64_t to_ns)
{
    double v = to_ns > from_ns ? (double)(to_ns - from_ns) / 1e9 : 0;
    int i = 0;
    while (i < SIM_HIST_BUCKETS && v > sim_hist_le[i])
        i++;
    s->hist[which][i]++;
    s->hist_sum[which] += v;
}

/* ---- slots and queue ---- */

static void model_admit(sim_server *s, sim_req *r, uint64_t now)
{
    s->running++;
    s->prompt_tokens_total += (unsigned long long)r->prompt_tokens;
    r->phase = SIM_PH_PREFILL;
    r->admit_ns = now;
    model_observe(s, SIM_H_QUEUE, r->arrive_ns, now);
    /* tokens the prefix cache holds skip prefill */
    double ttft =
        s->opt.base_latency_s + (double)(r->prompt_tokens - r->cached_tokens) / s->opt.prefill_rate;
    heap_push(s, r, now + secs_to_ns(ttft));
}

static void model_admit_next(sim_server *s)
{
    while (s->q_head && s->running < s->opt.slots) {
        sim_req *r = s->q_head;
        s->q_head = r->qnext;
        if (!s->q_head)
            s->q_tail = NULL;
        r->qnext = NULL;
        s->waiting--;
        model_admit(s, r, llm_now_ns());
    }
}

void model_delay(sim_server *s, sim_req *r, double seconds)
{
    r->phase = SIM_PH_DELAY;
    heap_push(s, r, llm_now_ns() + secs_to_ns(seconds));
}

/* --close-after-stream: the connection's (finished) request closes it when due. */
void model_close_at(sim_server *s, sim_req *r, uint64_t due_ns)
{
    r->phase = SIM_PH_CLOSING;
    heap_push(s, r, due_ns);
}

void model_submit(sim_server *s, sim_req *r)
{
    r->sent = 0;
    r->arrive_ns = llm_now_ns();
    r->last_tok_ns = 0;
    r->qnext = NULL;
    if (s->running < s->opt.slots && !s->q_head) {
        model_admit(s, r, llm_now_ns());
        return;
    }
    r->phase = SIM_PH_QUEUED;
    s->waiting++;
    if (s->q_tail)
        s->q_tail->qnext = r;
    else
        s->q_head = r;
    s->q_tail = r;
}

static void queue_unlink(sim_server *s, sim_req *r)
{
    sim_req **pp = &s->q_head, *prev = NULL;
    while (*pp && *pp != r) {
        prev = *pp;
        pp = &(*pp)->qnext;
    }
    if (!*pp)
        return;
    *pp = r->qnext;
    if (s->q_tail == r)
        s->q_tail = prev;
    r->qnext = NULL;
    s->waiting--;
}

/* The request leaves the model (finished, cut, or its client went away). */
void model_release(sim_server *s, sim_req *r)
{
    sim_phase ph = r->phase;
    r->phase = SIM_PH_IDLE;
    heap_remove(s, r);
    if (ph == SIM_PH_QUEUED)
        queue_unlink(s, r);
    if (ph == SIM_PH_DECODE)
        s->decoding--;
    if (ph == SIM_PH_PREFILL || ph == SIM_PH_DECODE) {
        s->running--;
        if (!s->stopping)
            model_admit_next(s);
    }
}

/* ---- tokens ---- */

/* Seconds between two tokens of one sequence while `decoding` sequences share the batch. */
static uint64_t model_interval_ns(const sim_server *s)
{
    double b = s->decoding > 0 ? (double)s->decoding : 1.0;
    double per_seq = s->opt.decode_rate / (1.0 + s->opt.batch_penalty * (b - 1.0));
    return secs_to_ns(1.0 / per_seq);
}

static void model_finish(sim_server *s, sim_req *r)
{
    sim_conn *c = r->conn;
    model_release(s, r);
    s->requests_ok++;
    model_observe(s, SIM_H_E2E, r->arrive_ns, llm_now_ns());
    if (r->stream)
        proto_stream_end(c, r);
    else
        proto_full(c, r);
    api_log(c, r->stream ? "stream" : "json");
    if (r->stream && s->opt.no_done)
        return; /* the response never ends: the client has to give up on it */
    if (r->stream && c->keep_alive && s->opt.close_after_stream_ms >= 0) {
        conn_close_after_stream(c, s->opt.close_after_stream_ms);
        return;
    }
    conn_finish_request(c);
}

static void model_cut(sim_server *s, sim_req *r)
{
    sim_conn *c = r->conn;
    model_release(s, r);
    s->requests_failed++;
    api_log(c, "cut");
    /* what was already written still goes out, then a close with no terminating chunk */
    conn_close_when_flushed(c);
}

static void model_token(sim_server *s, sim_req *r, uint64_t now)
{
    sim_conn *c = r->conn;
    if (r->stream && c->out_len > SIM_OUT_HIGH) {
        heap_push(s, r, now + BACKOFF_NS); /* the client is not reading: wait for it */
        return;
    }
    r->sent++;
    s->gen_tokens_total++;
    if (r->last_tok_ns)
        model_observe(s, SIM_H_ITL, r->last_tok_ns, now);
    r->last_tok_ns = now;
    if (r->stream && !(r->drop_last && r->sent >= r->n_out))
        proto_stream_token(c, r);
    if (r->stream && r->sent == r->malformed_at)
        proto_stream_malformed(c);
    if (r->sent == r->cut_at) {
        model_cut(s, r);
        return;
    }
    if (r->sent >= r->n_out) {
        model_finish(s, r);
        return;
    }
    /* from the due time, not from now: a late tick catches up instead of drifting */
    uint64_t next = r->due_ns + model_interval_ns(s);
    if (r->sent == r->stall_at)
        next += secs_to_ns(s->opt.stall_s);
    heap_push(s, r, next);
}

static void model_fire(sim_server *s, sim_req *r, uint64_t now)
{
    switch (r->phase) {
    case SIM_PH_DELAY:
        r->phase = SIM_PH_IDLE;
        api_handle(r->conn);
        break;
    case SIM_PH_PREFILL:
        r->phase = SIM_PH_DECODE;
        r->first_ns = now;
        model_observe(s, SIM_H_TTFT, r->arrive_ns, now);
        s->decoding++;
        if (r->stream)
            proto_stream_role(r->conn, r);
        model_token(s, r, now);
        /* The first token goes out now, not after the tick's other tokens are formatted and
         * written: the TTFT a client sees is the one configured, however many streams the
         * tick serves (bench/RESULTS.md §5). */
        if (r->stream)
            conn_flush_one(r->conn);
        break;
    case SIM_PH_DECODE:
        model_token(s, r, now);
        break;
    case SIM_PH_CLOSING:
        r->phase = SIM_PH_IDLE;
        conn_close_when_flushed(r->conn);
        break;
    default:
        break;
    }
}

void model_on_timer(ptimer *t)
{
    sim_server *s = t->data;
    s->armed_due = 0;
    uint64_t now = llm_now_ns();
    s->fired_ns = now;
    while (s->heap_len && s->heap[0]->due_ns <= now)
        model_fire(s, heap_pop(s), now);
}

/* The shortest time between two firings of the timer. Events due closer together go out
 * together, up to this late: thousands of streams due at scattered instants would otherwise
 * wake the loop once per token (at 10,000 streams the simulator's CPU rose by half, and its
 * lateness with it; bench/RESULTS.md §5). */
#define SIM_TICK_NS 250000u

/* Points the one timer at the earliest due event, a tick after the last firing at the
 * soonest; called once per loop phase. */
void model_rearm(sim_server *s)
{
    if (s->stopping)
        return;
    if (!s->heap_len) {
        if (s->armed_due)
            ptimer_stop(&s->timer);
        s->armed_due = 0;
        return;
    }
    uint64_t due = s->heap[0]->due_ns;
    if (due < s->fired_ns + SIM_TICK_NS)
        due = s->fired_ns + SIM_TICK_NS;
    if (due == s->armed_due)
        return;
    ptimer_arm_at(&s->timer, due);
    s->armed_due = due;
}

void model_clear(sim_server *s)
{
    free(s->heap);
    s->heap = NULL;
    s->heap_len = s->heap_cap = 0;
}

/* Used by api when a generation starts: how many tokens it will produce. */
long model_output_length(const sim_options *o, long max_tokens, bool exact, uint64_t *rng)
{
    double u = 1.0 - sim_rng_unit(rng); /* (0, 1]: drawn always so the sequence stays aligned */
    if (exact || o->mean_output <= 0)
        return max_tokens;
    if (o->mean_output <= 1.0)
        return 1;
    /* geometric on {1, 2, …} with mean mean_output */
    double n = 1.0 + floor(log(u) / log(1.0 - 1.0 / o->mean_output));
    if (n >= (double)max_tokens)
        return max_tokens;
    return n < 1 ? 1 : (long)n;
}
