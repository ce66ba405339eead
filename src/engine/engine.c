#include "engine/shard.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "base/util.h"
#include "core/ring.h"
#include "engine/arrivals.h"
#include "engine/image.h"
#include "engine/prompts.h"
#include "base/ptimer.h"
#include "engine/request.h"
#include "engine/slots.h"
#include "engine/curlgroups.h"
#include "engine/sockwatch.h"
#include "proto/chunk.h"
#include "engine/workload.h"
#include "proto/http.h"

#define EVENT_RING_CAP (128 * 1024)
#define CMD_RING_CAP 256
#define TICK_MS 10
/* Open loop: each arrival is released by a timer at its intended time (precise to tens of
 * microseconds), or at the latest a millisecond after the last check, so pauses and new
 * steps are seen; those that find every in-flight place taken wait here (their wait is
 * send lag). */
#define ARRIVAL_CHECK_NS LLM_NS_PER_MS
/* A server that sends [DONE] but keeps the response open is closed after this long. */
#define DONE_GRACE_NS (2 * LLM_NS_PER_SEC)
/* Hand changes of the target closer together than this make one manual step. */
#define MANUAL_MERGE_NS LLM_NS_PER_SEC

/* Where the scheduler is. Transitions: WARMUP -> LOAD (the warm-up's requests ended, or
 * `n`); LOAD -> LOAD (next plan step, or a manual step); LOAD -> SETTLE (a count-bounded
 * step whose next needs nothing in flight: a cool-down, a search's verdict, the run's end);
 * LOAD -> DRAIN (the last step's deadline); SETTLE -> COOLDOWN | PROBE_WAIT | DONE;
 * COOLDOWN -> LOAD; PROBE_WAIT -> COOLDOWN | LOAD; DRAIN -> DONE; any -> DONE on STOP. */
typedef enum {
    PHASE_WARMUP,     /* warm-up requests; no window is open */
    PHASE_LOAD,       /* a step's load is applied: its window runs */
    PHASE_SETTLE,     /* the step sends no more; its window runs until nothing is in flight */
    PHASE_COOLDOWN,   /* --cooldown between steps: idle, outside every window */
    PHASE_PROBE_WAIT, /* search: the step drained and was announced; waiting for the next */
    PHASE_DRAIN,      /* the run's load ended: requests in flight finish, bounded in time */
    PHASE_DONE,
} engine_phase;

/* What a follower shard applies: the leader's scheduler state. */
typedef struct {
    engine_phase phase;
    size_t step;
    uint32_t seq;
    uint64_t gen;
    long total_target;
    bool paused, manual, warm_hold;
    uint64_t step_started_ns, step_deadline_ns;
} directive;

#define CLAIM_GEN_SHIFT 40
#define CLAIM_COUNT_MASK ((UINT64_C(1) << CLAIM_GEN_SHIFT) - 1)

struct shard {
    const llm_config *cfg;
    const plan *plan;
    uv_loop_t loop;
    uv_timer_t tick;
    ptimer arrival_timer;
    uv_async_t wake;
    curlgroups groups; /* the multi handles, each with its share of the slots */
    struct curl_slist *headers;
    char *url;
    pthread_t thread;

    slot_pool pool;
    prompt_body image_body; /* the multimodal test's body, shared by every slot */
    prompt_set prompts;     /* --prompts: bodies shared by every slot; n = 0 without */
    bool prompts_borrowed;  /* prompts is the plan's dataset (a copy of its handles) */
    workload wl;            /* --input-tokens & co: bodies written per request; active or not */
    uint64_t wl_rng;        /* draws the workload's lengths, in request order */
    const llm_trace *trace; /* --dataset trace (the plan's): arrivals and lengths; NULL = none */
    /* --turns: users between two turns of their conversation (thinking), who count as users
     * of the closed loop while no request of theirs is in flight */
    uint32_t turns;
    uint64_t think_ns, convo_counter;
    /* --connect-timeout and --request-timeout, kept here rather than by curl (request.c):
     * 0 = none (the connect one is curl's when it cannot report connections) */
    uint64_t connect_ns, request_ns;
    size_t trace_next; /* the record the next started request replays */
    sockwatch watch;   /* the sockets curl watches */
    uint32_t ticks;
    bool server_id_sent; /* EV_SERVER_ID went out: one per run */

    spsc_ring events, commands;

    /* scheduler state: engine thread only. One phase (below) plus the pause, which
     * stands apart: any phase can be paused. */
    engine_phase phase;
    engine_phase after_settle; /* PHASE_SETTLE: where to go once nothing is in flight */
    size_t step;               /* the plan step */
    uint32_t seq;              /* the step running, as published (manual steps count) */
    uint64_t step_started_ns, seq_started_ns, step_deadline_ns, cooldown_until_ns;
    uint64_t drain_until_ns;
    uint64_t paused_at_ns; /* a pause stops the step's clock: deadlines move on by its length */
    bool paused, idle_published; /* idle = paused, cooling down or warm_hold: windows stand
                                    still */
    /* the leader's: step 1 runs while warm-up requests are still in flight (its users do not
     * wait for the slowest warm-up request, and start at once on warm connections), but its
     * window and clock start only when the last of them ended */
    bool warm_hold;
    uint64_t hold_paused_ns; /* pauses inside the hold: resume_sending moved the deadline */
    bool manual;
    long target;       /* this shard's users (or in-flight cap): its share of total_target */
    long total_target; /* the leader's: every shard's users together, as published */
    uint64_t gen;      /* steps entered (0 = the warm-up): the budgets below count per gen */
    uint64_t request_counter;
    /* open loop */
    arrivals arr;
    /* search: steps given so far; the step ended early (`n`); the next step, once told of it
     * (0 = none: step 0 is never a next step) */
    size_t n_known_steps;
    bool step_cut, step_announced;
    size_t probe_next, pending_step;
    uint32_t published_steps;

    /* published to the controlling thread */
    _Atomic uint32_t g_target, g_inflight, g_step, g_seq, g_n_steps;
    _Atomic uint64_t g_started, g_cancelled, g_lost, g_step_left_ms;
    _Atomic uint64_t g_cooldown_left_ms;
    _Atomic uint64_t g_urgent_marked, g_urgent_unmarked; /* engine_gauges says */
    _Atomic int g_state;
    _Atomic bool g_manual, g_finished, g_stop; /* g_stop: a STOP the command ring had no room for */
    uint32_t inflight;
    bool loop_ready, arrivals_ready, watch_ready, groups_ready; /* what setup_loop made:
                                                                    shard_free closes it */
    bool thread_started;

    /* --threads: shards[0] is the leader (this engine, the one engine_start returns): its
     * scheduler decides for every shard; the others (followers) run its directive on their
     * share of the users and rate. With one shard, leader == this and there is no directive. */
    struct shard *leader, **shards;
    size_t shard_index, n_shards, slots_total;
    /* leader -> followers: the scheduler's state, rewritten on every change */
    pthread_mutex_t dir_lock;
    bool dir_lock_ready;
    directive dir, dir_last; /* dir under dir_lock; dir_last: the leader's own copy */
    _Atomic uint64_t dir_version;
    uint64_t dir_seen; /* a follower's: the version it applied */
    /* the leader's: requests started and arrivals released in step `gen`, by every shard
     * (gen << CLAIM_GEN_SHIFT | count), so a step's budget is exact whatever shard spends it */
    _Atomic uint64_t claim_started, claim_arrived;
    /* the leader's: requests in flight on every shard, counted before a budget is claimed, so
     * the leader never sees a step's budget spent and nothing in flight while a shard is
     * about to send the last request */
    _Atomic uint32_t inflight_total;
    _Atomic uint32_t warm_total; /* the leader's: warm-up requests in flight on every shard,
                                    counted before the claim as inflight_total is */
    llm_event *stage;            /* the leader's: engine_poll's per-shard batches, merged by time */
};

static void publish(shard *e, const llm_event *ev)
{
    if (!ring_push_spsc(&e->events, ev))
        atomic_fetch_add_explicit(&e->g_lost, 1, memory_order_relaxed);
}

/* ---- shards: budgets every shard spends, the leader's directive ---- */

static bool is_leader(const shard *e)
{
    return e->leader == e;
}

/* One of `budget` requests (or arrivals) of step `gen` taken, across every shard; false
 * once they are all taken or when the shard still runs an older step. budget <= 0: no
 * bound. *last: this was the budget's last. */
static bool claim(_Atomic uint64_t *c, uint64_t gen, long budget, bool *last)
{
    *last = false;
    if (budget <= 0)
        return true;
    /* sequentially consistent, with inflight_total: a leader that sees the claim sees the
     * request counted in flight */
    uint64_t v = atomic_load(c);
    for (;;) {
        if (v >> CLAIM_GEN_SHIFT != gen || (v & CLAIM_COUNT_MASK) >= (uint64_t)budget)
            return false;
        if (atomic_compare_exchange_weak(c, &v, v + 1)) {
            *last = (v & CLAIM_COUNT_MASK) + 1 == (uint64_t)budget;
            return true;
        }
    }
}

static bool claims_spent(_Atomic uint64_t *c, uint64_t gen, long budget)
{
    if (budget <= 0)
        return false;
    uint64_t v = atomic_load(c);
    return v >> CLAIM_GEN_SHIFT != gen || (v & CLAIM_COUNT_MASK) >= (uint64_t)budget;
}

/* A follower took a budget's last request or its requests ended: the leader looks now. */
static void tell_leader(shard *e)
{
    if (!is_leader(e))
        uv_async_send(&e->leader->wake);
}

/* The leader's: requests in flight on every shard. */
static uint32_t inflight_all(shard *e)
{
    return atomic_load(&e->inflight_total);
}

/* The leader's: the scheduler's state to every follower when it changed. */
static void direct(shard *e)
{
    if (e->n_shards < 2 || !is_leader(e))
        return;
    directive d;
    memset(&d, 0, sizeof d); /* padding too: compared whole below */
    d.phase = e->phase;
    d.step = e->step;
    d.seq = e->seq;
    d.gen = e->gen;
    d.total_target = e->total_target;
    d.paused = e->paused;
    d.manual = e->manual;
    d.step_started_ns = e->step_started_ns;
    d.step_deadline_ns = e->step_deadline_ns;
    d.warm_hold = e->warm_hold;
    if (memcmp(&d, &e->dir_last, sizeof d) == 0)
        return;
    e->dir_last = d;
    pthread_mutex_lock(&e->dir_lock);
    e->dir = d;
    pthread_mutex_unlock(&e->dir_lock);
    atomic_fetch_add_explicit(&e->dir_version, 1, memory_order_release);
    for (size_t i = 1; i < e->n_shards; i++)
        uv_async_send(&e->shards[i]->wake);
}

static void finish_run(shard *e, uint64_t now);

/* A follower: applies the leader's latest directive (new step: its arrivals start again). */
static void follow(shard *e, uint64_t now)
{
    shard *l = e->leader;
    uint64_t v = atomic_load_explicit(&l->dir_version, memory_order_acquire);
    if (v == e->dir_seen)
        return;
    e->dir_seen = v;
    pthread_mutex_lock(&l->dir_lock);
    directive d = l->dir;
    pthread_mutex_unlock(&l->dir_lock);
    if (d.phase == PHASE_DONE) {
        finish_run(e, now);
        return;
    }
    if (d.gen != e->gen) {
        e->gen = d.gen;
        e->step_cut = false;
        uint64_t dropped = arrivals_restart(&e->arr, now);
        atomic_fetch_add_explicit(&e->g_cancelled, dropped, memory_order_relaxed);
    }
    e->phase = d.phase;
    e->step = d.step;
    e->seq = d.seq;
    e->manual = d.manual;
    e->total_target = d.total_target;
    e->target = plan_share(d.total_target, (long)e->shard_index, (long)e->n_shards);
    if (d.paused && !e->paused)
        e->paused_at_ns = now;
    e->paused = d.paused;
    e->step_started_ns = d.step_started_ns;
    e->step_deadline_ns = d.step_deadline_ns;
    e->warm_hold = d.warm_hold;
}

/* The request's socket is read in turn again (sockwatch_urgent): its first token is in, or
 * it ended without one (an error answer leaves the kept-alive connection to the next
 * request, which may not be a stream at all). */
static void unmark_urgent(shard *e, req_slot *s)
{
    if (s->urgent_fd < 0)
        return;
    (void)sockwatch_urgent(&e->watch, s->urgent_fd, false); /* refused: stays watched */
    s->urgent_fd = -1;
    atomic_fetch_add_explicit(&e->g_urgent_unmarked, 1, memory_order_relaxed);
}

static void on_tokens(req_slot *s, uint32_t count, uint64_t gap_ns)
{
    shard *e = s->owner;
    unmark_urgent(e, s);
    llm_event ev = {
        .kind = EV_TOKENS, .warmup = s->warmup, .step = s->step, .t_ns = s->t_last_content};
    ev.u.tokens.count = count;
    ev.u.tokens.gap_ns = gap_ns;
    publish(e, &ev);
}

/* The first response that names the server's model or fingerprint: one EV_SERVER_ID. */
static void on_server_id(req_slot *s, const char *model, size_t model_len, const char *fp,
                         size_t fp_len)
{
    shard *e = s->owner;
    if (e->server_id_sent)
        return;
    llm_event ev = {.kind = EV_SERVER_ID, .warmup = s->warmup, .step = s->step, .t_ns = s->t_read};
    chunk_copy_string(ev.u.server_id.model, sizeof ev.u.server_id.model, model ? model : "",
                      model_len);
    chunk_copy_string(ev.u.server_id.fingerprint, sizeof ev.u.server_id.fingerprint, fp ? fp : "",
                      fp_len);
    e->server_id_sent = true;
    publish(e, &ev);
}

/* The step's own clock: it stands still while paused. */
static uint64_t step_clock(const shard *e, uint64_t now)
{
    /* a pause stops it; so does a warm-up hold: the step's time starts with its window */
    return e->paused ? e->paused_at_ns : e->warm_hold ? e->step_started_ns : now;
}

static uint64_t step_left_ms(const shard *e, uint64_t now)
{
    if (!e->step_deadline_ns)
        return ENGINE_LEFT_UNKNOWN;
    uint64_t t = step_clock(e, now);
    return t >= e->step_deadline_ns ? 0 : (e->step_deadline_ns - t) / LLM_NS_PER_MS;
}

/* Time left in a running cool-down, rounded up (>= 1 while one runs: the next step starts
 * in the same tick it ends), its clock standing still while paused; 0 outside one. */
static uint64_t cooldown_left_ms(const shard *e, uint64_t now)
{
    uint64_t t = step_clock(e, now);
    if (e->phase != PHASE_COOLDOWN || t >= e->cooldown_until_ns)
        return 0;
    return (e->cooldown_until_ns - t + LLM_NS_PER_MS - 1) / LLM_NS_PER_MS;
}

static engine_state state_of(const shard *e)
{
    if (e->phase == PHASE_DONE)
        return ENGINE_DONE;
    if (e->paused)
        return ENGINE_PAUSED;
    switch (e->phase) {
    case PHASE_WARMUP:
        return ENGINE_WARMUP;
    case PHASE_COOLDOWN:
        return ENGINE_COOLDOWN;
    case PHASE_DRAIN:
        return ENGINE_DRAINING;
    default:
        return ENGINE_RUNNING;
    }
}

static void publish_gauges(shard *e, uint64_t now)
{
    atomic_store_explicit(&e->g_step_left_ms, step_left_ms(e, now), memory_order_relaxed);
    atomic_store_explicit(&e->g_cooldown_left_ms, cooldown_left_ms(e, now), memory_order_relaxed);
    atomic_store_explicit(&e->g_target, (uint32_t)e->target, memory_order_relaxed);
    /* --turns: the closed loop's load is its users, thinking ones included (DESIGN §6) */
    atomic_store_explicit(&e->g_inflight, e->inflight + (uint32_t)e->pool.n_thinking,
                          memory_order_relaxed);
    atomic_store_explicit(&e->g_step, (uint32_t)e->step, memory_order_relaxed);
    atomic_store_explicit(&e->g_seq, e->seq, memory_order_relaxed);
    atomic_store_explicit(&e->g_n_steps, (uint32_t)e->n_known_steps, memory_order_relaxed);
    atomic_store_explicit(&e->g_manual, e->manual, memory_order_relaxed);
    atomic_store_explicit(&e->g_state, (int)state_of(e), memory_order_relaxed);
}

/* Records the time-only events of the window rules (EV_PAUSE, EV_RESUME, EV_WINDOW_END). */
static void publish_mark(shard *e, ev_kind kind, uint64_t now)
{
    llm_event ev = {.kind = (uint8_t)kind, .step = e->seq, .t_ns = now};
    publish(e, &ev);
}

/* Windows stand still while sending is paused or a cool-down runs: one EV_PAUSE when that
 * begins, one EV_RESUME when it ends, whichever of the two caused it. */
static void sync_idle(shard *e, uint64_t now)
{
    bool idle = e->paused || e->phase == PHASE_COOLDOWN || e->warm_hold;
    if (idle == e->idle_published)
        return;
    e->idle_published = idle;
    publish_mark(e, idle ? EV_PAUSE : EV_RESUME, now);
}

/* ---- curl multi <-> libuv glue (the pattern of curl's docs/examples/multi-uv.c) ---- */

static void schedule(shard *e);
static const plan_step *cur_step(shard *e);

/* curl's own way of opening a socket, plus telling the watch that its closing will be
 * reported (on_close_socket), so it may stay in the epoll set between transfers. Sockets
 * curl makes otherwise (the resolver's) are taken out as soon as curl stops watching. */
static curl_socket_t on_open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
    (void)purpose;
    req_slot *s = clientp;
    shard *e = s->owner;
    /* A new connection after one was up: curl re-sending on its own on a fresh connection
     * (the reused one was dead). --connect-timeout runs anew for it, as curl's did. */
    if (s->busy && s->connected) {
        s->connected = false;
        slot_fifo_push(&e->pool, REQ_FIFO_CONNECTING, s, llm_now_ns());
    }
#ifdef SOCK_CLOEXEC
    curl_socket_t fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
#else
    curl_socket_t fd = socket(addr->family, addr->socktype, addr->protocol);
#endif
    if (fd != CURL_SOCKET_BAD && sockwatch_track(&e->watch, fd) != 0) {
        close(fd);
        return CURL_SOCKET_BAD;
    }
    return fd;
}

/* Every socket on_open_socket made passes here before it is closed, so the watch never holds a
 * number that another socket (the in-process simulator's, in the demo) may get next. */
static int on_close_socket(void *clientp, curl_socket_t fd)
{
    shard *e = clientp;
    sockwatch_forget(&e->watch, fd);
    return close(fd);
}

/* ---- requests ---- */

/* The slot's request is no longer in flight (its curl handle leaves the multi). */
static void unbusy(shard *e, req_slot *s)
{
    unmark_urgent(e, s); /* before curl may close the socket */
    curl_multi_remove_handle(s->multi, s->easy);
    slot_pool_busy_remove(&e->pool, s);
    e->inflight--;
    if (s->warmup && atomic_fetch_sub(&e->leader->warm_total, 1) == 1)
        tell_leader(e); /* the last warm-up request ended: step 1's window opens */
    if (atomic_fetch_sub(&e->leader->inflight_total, 1) == 1)
        tell_leader(e); /* the last request in flight anywhere ended */
}

static void release_slot(shard *e, req_slot *s)
{
    unbusy(e, s);
    s->convo.turn = 0; /* a conversation ends with its user */
    slot_pool_put(&e->pool, s);
}

/* --turns: a turn that succeeded and was not the last leaves its user thinking. */
static bool keeps_talking(const shard *e, const req_slot *s, const llm_event *ev)
{
    return e->turns > 1 && ev->kind == EV_REQUEST_DONE && s->convo.turn > 0 &&
           s->convo.turn < s->convo.turns && !s->convo.cut && e->phase != PHASE_DONE;
}

/* A reused connection the server had closed: the same request once more on a new one. */
static bool resend_on_fresh_connection(shard *e, req_slot *s, uint64_t now)
{
    if (curl_multi_remove_handle(s->multi, s->easy) != CURLM_OK ||
        curl_multi_add_handle(s->multi, s->easy) != CURLM_OK)
        return false;
    curlgroups_kick(&e->groups, (size_t)(s - e->pool.slots));
    /* A new attempt: its deadlines run anew, as curl's did for a transfer added again. */
    for (int k = 0; k < REQ_FIFOS; k++)
        slot_fifo_push(&e->pool, k, s, now);
    return true;
}

static void finish_request(shard *e, req_slot *s, CURLcode rc)
{
    llm_event ev;
    uint64_t now = llm_now_ns();
    if (request_reconnect(s, rc, now) && resend_on_fresh_connection(e, s, now))
        return;
    request_finish(s, rc, now, &ev);
    publish(e, &ev);
    if (!keeps_talking(e, s, &ev)) {
        release_slot(e, s);
        return;
    }
    unbusy(e, s);
    s->convo.ready_ns = now + e->think_ns;
    slot_pool_think(&e->pool, s);
}

/* curlgroups' question for each socket curl watches for a transfer: a stream still waiting
 * for its first token is read before the other streams (sockwatch_urgent), so its TTFT does
 * not carry llmload's queue of other streams' tokens. One socket carries many streams with
 * HTTP/2, so there nothing is urgent. */
static bool awaits_first_token(void *user, CURL *easy, int fd)
{
    shard *e = user;
    req_slot *s = NULL;
    if (e->cfg->http2 || curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&s) != CURLE_OK || !s ||
        !s->busy || !s->streaming || s->t_first_token)
        return false;
    if (s->urgent_fd < 0)
        atomic_fetch_add_explicit(&e->g_urgent_marked, 1, memory_order_relaxed);
    s->urgent_fd = fd;
    return true;
}

/* curl acted on one group's socket or timeout (curlgroups): its finished transfers. */
static void drain_done(void *user, CURLM *multi)
{
    shard *e = user;
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        req_slot *s = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        CURLcode rc = msg->data.result;
        finish_request(e, s, rc);
    }
    schedule(e);
}

/* The body the current step sends: the slot's own, its max_tokens-1 twin, or the one
 * image body every slot shares. */
/* The next trace record's request: its hash_ids as shared blocks, then the rest of its
 * prompt; requests start in arrival order, so the k-th started is the k-th record (the
 * warm-up replays the first records without using them up). */
static void trace_request(shard *e, wl_request *req)
{
    const llm_trace *t = e->trace;
    size_t k = (e->trace_next * e->n_shards + e->shard_index) % t->n;
    if (e->phase != PHASE_WARMUP)
        e->trace_next++;
    const trace_rec *r = &t->recs[k];
    long shared = (long)r->n_blocks * WORKLOAD_BLOCK_TOKENS;
    memset(req, 0, sizeof *req);
    req->input_tokens = (long)r->input > shared + 4 ? (long)r->input - shared : 4;
    req->output_tokens = r->output;
    req->group = -1;
    req->blocks = t->blocks + r->block_off;
    req->n_blocks = r->n_blocks;
}

/* --turns: the user's next turn, or the first of a new conversation. */
static prompt_body *turn_body(shard *e, req_slot *s)
{
    if (s->convo.turn == 0) { /* a new conversation: generated, or the next recorded one */
        uint64_t id = e->convo_counter++ * e->n_shards + e->shard_index;
        const wl_script *sc =
            e->plan->n_scripts ? &e->plan->scripts[id % e->plan->n_scripts] : NULL;
        workload_convo_start(&e->wl, &s->convo, id, &e->wl_rng, e->turns, sc);
    }
    workload_write_turn(&e->wl, &s->convo, s->wl_buf, &s->wl_body);
    s->turn_sent = (uint8_t)s->convo.turn;
    return &s->wl_body;
}

static prompt_body *body_for(shard *e, req_slot *s, uint64_t n)
{
    switch (cur_step(e)->test) {
    case TEST_INPUT:
        return &s->input_body;
    case TEST_MULTIMODAL:
        return &e->image_body;
    default:
        break;
    }
    if (e->prompts.n)
        return prompts_next(&e->prompts);
    if (!e->wl.active)
        return &s->body;
    if (e->turns > 1)
        return turn_body(e, s);
    wl_request req;
    if (e->trace)
        trace_request(e, &req);
    else
        workload_draw(&e->wl, &e->wl_rng, &req);
    workload_write(&e->wl, &req, n, &e->wl_rng, s->wl_buf, &s->wl_body);
    return &s->wl_body;
}

/* Sends the slot's next request: a free slot's (a new user) or a thinking user's turn. */
static bool start_request_on(shard *e, req_slot *s, uint64_t t_sched)
{
    bool warmup = e->phase == PHASE_WARMUP;
    uint64_t n = e->request_counter++ * e->n_shards + e->shard_index + 1;
    prompt_body *body = body_for(e, s, n);
    request_begin(s, n, t_sched, llm_now_ns(), e->seq, warmup, body);
    s->urgent_fd = -1;
    e->inflight++;
    slot_pool_busy_add(&e->pool, s);
    atomic_fetch_add_explicit(&e->g_started, 1, memory_order_relaxed);
    CURLMcode mc = curl_multi_add_handle(s->multi, s->easy);
    if (mc != CURLM_OK) {
        finish_request(e, s, CURLE_FAILED_INIT);
        return false;
    }
    curlgroups_kick(&e->groups, (size_t)(s - e->pool.slots)); /* sent at schedule()'s end */
    return true;
}

/* ---- the plan ---- */

static const plan_step *cur_step(shard *e)
{
    return &e->plan->steps[e->step];
}

/* Every shard's users together: this shard takes its share (the same division as --shard). */
static void set_total(shard *e, long total)
{
    e->total_target = total;
    e->target = plan_share(total, (long)e->shard_index, (long)e->n_shards);
}

static void publish_step(shard *e, uint64_t now)
{
    llm_event ev = {.kind = EV_STEP, .step = e->seq, .t_ns = now};
    ev.u.step_change.index = e->seq;
    ev.u.step_change.total = e->plan->search ? 0 : (uint32_t)e->plan->n_steps;
    ev.u.step_change.plan_index = (uint32_t)e->step;
    ev.u.step_change.concurrency = (uint32_t)e->total_target;
    ev.u.step_change.rate = cur_step(e)->rate;
    ev.u.step_change.test = (uint8_t)cur_step(e)->test;
    ev.u.step_change.manual = e->manual;
    publish(e, &ev);
}

/* The next published step: the first is 0. */
static void next_seq(shard *e, uint64_t now)
{
    e->seq = e->published_steps++;
    e->seq_started_ns = now;
}

/* Applies plan step `index` from now: its clock, its target (unless the keyboard holds it),
 * and a new published step. */
static void enter_step(shard *e, size_t index, uint64_t now)
{
    e->step = index;
    e->phase = PHASE_LOAD;
    e->step_cut = false;
    e->gen++;
    atomic_store(&e->claim_started, e->gen << CLAIM_GEN_SHIFT); /* the budgets start again */
    atomic_store(&e->claim_arrived, e->gen << CLAIM_GEN_SHIFT);
    e->step_started_ns = now;
    if (e->paused) /* entered while paused (the `n` key): its clock starts at the resume */
        e->paused_at_ns = now;
    e->warm_hold = is_leader(e) && atomic_load(&e->warm_total) > 0;
    e->hold_paused_ns = 0;
    const plan_step *st = cur_step(e);
    e->step_deadline_ns =
        st->duration_s > 0 ? now + (uint64_t)(st->duration_s * LLM_NS_PER_SEC) : 0;
    if (e->plan->search) /* a search judges each step at its own load: the plan steers */
        e->manual = false;
    if (!e->manual)
        set_total(e, st->concurrency);
    if (st->rate > 0) {
        /* A new rate starts from now; arrivals the last step could not send are dropped. */
        uint64_t dropped = arrivals_restart(&e->arr, now);
        atomic_fetch_add_explicit(&e->g_cancelled, dropped, memory_order_relaxed);
    }
    sync_idle(e, now); /* a cool-down ends here: the resume comes before the new step */
    next_seq(e, now);
    publish_step(e, now);
}

/* Requests still in flight when the run ends: counted as cut, one record each. */
static void cut_inflight(shard *e, uint64_t now)
{
    while (e->pool.n_busy > 0) {
        req_slot *s = e->pool.busy[e->pool.n_busy - 1];
        if (!s->warmup) {
            llm_event ev = {.kind = EV_REQUEST_CUT, .step = s->step, .t_ns = now};
            ev.u.failed.t0_ns = s->t0;
            ev.u.failed.elapsed_ns = now - s->t0;
            publish(e, &ev);
        }
        atomic_fetch_add_explicit(&e->g_cancelled, 1, memory_order_relaxed);
        release_slot(e, s);
    }
}

/* The load of the running step stops now (its window closes) unless it already did. */
static void end_window(shard *e, uint64_t now)
{
    if (e->phase == PHASE_LOAD || e->phase == PHASE_SETTLE)
        publish_mark(e, EV_WINDOW_END, now);
}

/* The run ends (a follower: when the leader's did). */
static void finish_run(shard *e, uint64_t now)
{
    if (is_leader(e))
        end_window(e, now);
    cut_inflight(e, now);
    e->phase = PHASE_DONE;
    publish_gauges(e, now);
    direct(e);
    uv_stop(&e->loop);
}

/* The run's load ended: what is in flight may finish, for --drain-timeout at most. */
static void start_drain(shard *e, uint64_t now)
{
    end_window(e, now);
    e->phase = PHASE_DRAIN;
    e->drain_until_ns = now + (uint64_t)(e->cfg->drain_timeout_s * LLM_NS_PER_SEC);
}

static bool step_exhausted(shard *e, uint64_t now)
{
    const plan_step *st = cur_step(e);
    if (e->step_cut)
        return true;
    if (claims_spent(&e->leader->claim_started, e->gen, st->requests))
        return true;
    return e->step_deadline_ns && step_clock(e, now) >= e->step_deadline_ns;
}

static bool last_step(const shard *e)
{
    return !e->plan->search && e->step + 1 >= e->plan->n_steps;
}

static void start_cooldown(shard *e, double seconds, uint64_t now)
{
    e->phase = PHASE_COOLDOWN;
    e->cooldown_until_ns = now + (uint64_t)(seconds * LLM_NS_PER_SEC);
    sync_idle(e, now);
}

/* The step sends no more: what comes next. */
static void step_done(shard *e, uint64_t now)
{
    const plan_step *st = cur_step(e);
    bool timed = e->step_deadline_ns && step_clock(e, now) >= e->step_deadline_ns;
    if (e->plan->search) {
        e->phase = PHASE_SETTLE;
        e->after_settle = PHASE_PROBE_WAIT;
    } else if (last_step(e)) {
        /* A deadline ends the window at once; a count ends it with the last request. */
        if (timed)
            start_drain(e, now);
        else {
            e->phase = PHASE_SETTLE;
            e->after_settle = PHASE_DONE;
        }
    } else if (st->cooldown_s > 0) {
        e->phase = PHASE_SETTLE;
        e->after_settle = PHASE_COOLDOWN;
    } else {
        enter_step(e, e->step + 1, now);
    }
}

/* Nothing is in flight any more after a step that waited for it. */
static void settled(shard *e, uint64_t now)
{
    switch (e->after_settle) {
    case PHASE_PROBE_WAIT: {
        end_window(e, now);
        e->phase = PHASE_PROBE_WAIT;
        break;
    }
    case PHASE_COOLDOWN:
        end_window(e, now);
        start_cooldown(e, cur_step(e)->cooldown_s, now);
        break;
    default:
        finish_run(e, now);
        break;
    }
}

/* A search step ends when its requests have: the controlling thread judges it (on
 * EV_STEP_END), then sends the next step (ENGINE_CMD_PROBE) or stops the run. The
 * cool-down runs before the next. */
static void wait_probe(shard *e, uint64_t now)
{
    if (!e->step_announced) {
        /* Not counted as lost when the ring is full: the search waits for this event, so
         * it is offered again at the next tick until the consumer has room. */
        llm_event ev = {.kind = EV_STEP_END, .step = e->seq, .t_ns = now};
        e->step_announced = ring_push_spsc(&e->events, &ev);
    }
    if (!e->probe_next)
        return;
    size_t next = e->probe_next;
    e->probe_next = 0;
    e->step_announced = false;
    if (cur_step(e)->cooldown_s > 0) {
        e->pending_step = next;
        start_cooldown(e, cur_step(e)->cooldown_s, now);
        return;
    }
    enter_step(e, next, now);
}

/* The last warm-up request ended: step 1's window opens and its clock starts now. */
static void release_warm_hold(shard *e, uint64_t now)
{
    uint64_t held = (e->paused ? e->paused_at_ns : now) - e->step_started_ns - e->hold_paused_ns;
    e->step_started_ns += held + e->hold_paused_ns;
    if (e->step_deadline_ns)
        e->step_deadline_ns += held;
    e->warm_hold = false;
    sync_idle(e, now);
    direct(e);
}

/* Moves the scheduler on as far as it can go now. */
static void advance(shard *e, uint64_t now)
{
    if (!is_leader(e))
        return; /* a follower runs the leader's directive (follow) */
    switch (e->phase) {
    case PHASE_WARMUP:
        /* every warm-up request sent: a closed loop's users go on (warm_hold) rather than
         * idle until the slowest warm-up answer and then start in one burst; an open loop's
         * arrivals are paced and start once the warm-up ended, on its warm connections */
        if (claims_spent(&e->claim_started, 0, e->plan->warmup) &&
            ((e->plan->steps[0].rate <= 0 && !e->trace) || inflight_all(e) == 0))
            enter_step(e, 0, now);
        break;
    case PHASE_LOAD:
        if (e->warm_hold && atomic_load(&e->warm_total) == 0)
            release_warm_hold(e, now);
        if (step_exhausted(e, now))
            step_done(e, now);
        break;
    case PHASE_SETTLE:
        if (inflight_all(e) == 0)
            settled(e, now);
        break;
    case PHASE_COOLDOWN:
        if (step_clock(e, now) >= e->cooldown_until_ns)
            enter_step(e, e->plan->search ? e->pending_step : e->step + 1, now);
        break;
    case PHASE_PROBE_WAIT:
        wait_probe(e, now);
        break;
    case PHASE_DRAIN:
        if (inflight_all(e) == 0 || now >= e->drain_until_ns)
            finish_run(e, now);
        break;
    case PHASE_DONE:
        break;
    }
}

/* ---- open loop ---- */

static void backlog_push(shard *e, uint64_t t_sched)
{
    /* Arrivals the server could not absorb for 64 Ki requests: never sent. */
    if (!arrivals_push(&e->arr, t_sched))
        atomic_fetch_add_explicit(&e->g_cancelled, 1, memory_order_relaxed);
}

/* A trace replay's next arrival: its record's time / --speedup after the step began (from
 * the step's start, not the last arrival, so no error adds up). */
static uint64_t trace_arrival_ns(const shard *e)
{
    const llm_trace *t = e->trace;
    /* --threads: shard i replays records i, i + N, i + 2N… */
    uint64_t k = e->arr.in_step * e->n_shards + e->shard_index;
    if (k >= t->n)
        return UINT64_MAX;
    double at = (double)t->recs[k].t_ns / e->plan->speedup;
    return e->step_started_ns + (uint64_t)at;
}

static bool arrivals_left(shard *e)
{
    const plan_step *st = cur_step(e);
    if (e->step_deadline_ns && e->arr.next_ns >= e->step_deadline_ns)
        return false;
    bool last;
    if (!claim(&e->leader->claim_arrived, e->gen, st->requests, &last))
        return false;
    if (last)
        tell_leader(e);
    return true;
}

/* At most this many arrivals are released per call, so a rate far beyond what can be
 * sent cannot hold the loop (each call returns to it; the backlog keeps the rest). */
#define ARRIVALS_PER_CALL 4096

static void release_arrivals(shard *e, uint64_t now)
{
    const plan_step *st = cur_step(e);
    if (st->rate <= 0)
        return;
    if (e->paused || e->phase != PHASE_LOAD) {
        e->arr.next_ns = now; /* no backlog builds up while paused */
        return;
    }
    for (int n = 0; n < ARRIVALS_PER_CALL && e->arr.next_ns <= now && arrivals_left(e); n++) {
        backlog_push(e, e->arr.next_ns);
        e->arr.in_step++;
        e->arr.next_ns =
            e->trace ? trace_arrival_ns(e)
                     : e->arr.next_ns + arrivals_gap_ns(&e->arr, st->rate / (double)e->n_shards);
    }
    schedule(e);
}

static void on_arrival(ptimer *t)
{
    shard *e = t->data;
    if (e->phase == PHASE_DONE)
        return;
    uint64_t now = llm_now_ns();
    release_arrivals(e, now);
    if (e->phase == PHASE_DONE)
        return;
    uint64_t next = now + ARRIVAL_CHECK_NS;
    if (cur_step(e)->rate > 0 && !e->paused && e->phase == PHASE_LOAD && e->arr.next_ns < next)
        next = e->arr.next_ns;
    ptimer_arm_at(&e->arrival_timer, next);
}

/* Users of the closed loop: requests in flight, and users thinking between turns. */
static uint32_t users(const shard *e)
{
    return e->inflight + (uint32_t)e->pool.n_thinking;
}

/* The requests of the step (or the warm-up) this one spends, across every shard. */
static long budget_of(shard *e)
{
    return e->phase == PHASE_WARMUP ? e->plan->warmup : cur_step(e)->requests;
}

/* Takes one request of the budget, counted in flight; false when none is left. */
static bool claim_start(shard *e)
{
    bool last, warmup = e->phase == PHASE_WARMUP;
    atomic_fetch_add(&e->leader->inflight_total, 1); /* before the claim: see inflight_total */
    if (warmup)
        atomic_fetch_add(&e->leader->warm_total, 1);
    if (!claim(&e->leader->claim_started, e->gen, budget_of(e), &last)) {
        if (warmup)
            atomic_fetch_sub(&e->leader->warm_total, 1);
        atomic_fetch_sub(&e->leader->inflight_total, 1);
        return false;
    }
    if (last)
        tell_leader(e);
    return true;
}

/* --turns: thinking users whose pause is over send their next turn (they are users already:
 * the target does not hold them back, the step's budget does). */
static void resume_thinkers(shard *e, uint64_t now)
{
    while (e->pool.n_thinking && !e->paused && e->phase == PHASE_LOAD && !step_exhausted(e, now)) {
        req_slot *s = slot_pool_ready_thinker(&e->pool, now);
        if (!s)
            break;
        if (!claim_start(e)) {
            slot_pool_think(&e->pool, s);
            break;
        }
        if (!start_request_on(e, s, now))
            break;
        advance(e, now);
    }
}

static bool may_start(shard *e, uint64_t now)
{
    if (e->paused || users(e) >= (uint32_t)e->target)
        return false;
    if (e->phase == PHASE_WARMUP)
        return e->plan->warmup > 0 && !claims_spent(&e->leader->claim_started, 0, e->plan->warmup);
    if (e->phase != PHASE_LOAD || step_exhausted(e, now))
        return false;
    return cur_step(e)->rate <= 0 || !arrivals_empty(&e->arr);
}

static void schedule(shard *e)
{
    if (e->phase == PHASE_DONE)
        return;
    uint64_t now = llm_now_ns();
    if (!is_leader(e)) {
        follow(e, now);
        if (e->phase == PHASE_DONE)
            return;
    }
    advance(e, now);
    resume_thinkers(e, now);
    while (e->phase != PHASE_DONE && may_start(e, now)) {
        bool open_loop = e->phase == PHASE_LOAD && cur_step(e)->rate > 0;
        req_slot *s = slot_pool_take(&e->pool);
        if (!s)
            break;
        if (!claim_start(e)) {
            slot_pool_put(&e->pool, s);
            break;
        }
        uint64_t t_sched = open_loop ? arrivals_pop(&e->arr) : now;
        if (!start_request_on(e, s, t_sched))
            break;
        advance(e, now); /* a count reached ends the step at once */
    }
    if (e->phase != PHASE_DONE) {
        publish_gauges(e, now);
        direct(e);
        curlgroups_run_kicks(&e->groups); /* the requests started above go out now */
    }
}

/* ---- commands from the controlling thread ---- */

/* A hand change of the target (DESIGN §4): the plan step ends and a manual step at the
 * applied target starts, on the plan step's remaining budget; changes within a second of
 * the last make one step. Outside a step's load (warm-up, cool-down) it waits for the next
 * step, which then starts manual. A search steers the load itself and ignores it. */
static void set_target(shard *e, long target, uint64_t now)
{
    if (e->plan->search)
        return;
    if (target < 0)
        target = 0;
    if ((size_t)target > e->slots_total)
        target = (long)e->slots_total;
    bool merge = e->manual && now - e->seq_started_ns < MANUAL_MERGE_NS;
    set_total(e, target);
    e->manual = true;
    if (e->phase != PHASE_LOAD)
        return;
    if (!merge)
        next_seq(e, now);
    publish_step(e, now); /* the same index again: stats take the new target */
}

static void pause_sending(shard *e, uint64_t now)
{
    if (e->paused)
        return;
    e->paused = true;
    e->paused_at_ns = now;
    sync_idle(e, now);
}

static void resume_sending(shard *e, uint64_t now)
{
    if (!e->paused)
        return;
    uint64_t held = now - e->paused_at_ns;
    e->paused = false;
    if (e->warm_hold)
        e->hold_paused_ns += held;
    if (e->step_deadline_ns)
        e->step_deadline_ns += held;
    if (e->phase == PHASE_COOLDOWN)
        e->cooldown_until_ns += held;
    sync_idle(e, now);
}

/* `n`: the warm-up ends, the step ends (a search's lets its requests finish), a cool-down
 * is cut short, the last step finishes the run. */
static void next_step(shard *e, uint64_t now)
{
    switch (e->phase) {
    case PHASE_WARMUP:
        enter_step(e, 0, now);
        break;
    case PHASE_LOAD:
        if (e->plan->search)
            e->step_cut = true;
        else if (last_step(e))
            start_drain(e, now);
        else
            enter_step(e, e->step + 1, now);
        break;
    case PHASE_SETTLE:
        if (!e->plan->search && !last_step(e)) {
            end_window(e, now);
            enter_step(e, e->step + 1, now);
        }
        break;
    case PHASE_COOLDOWN:
        e->cooldown_until_ns = 0;
        break;
    case PHASE_DRAIN:
        finish_run(e, now);
        break;
    default:
        break;
    }
}

static void apply_command(shard *e, const engine_cmd *c)
{
    uint64_t now = llm_now_ns();
    switch (c->kind) {
    case ENGINE_CMD_SET_TARGET:
        set_target(e, c->value, now);
        break;
    case ENGINE_CMD_ADJUST_TARGET:
        set_target(e, e->total_target + c->value, now);
        break;
    case ENGINE_CMD_PLAN_CONTROL:
        if (!e->manual)
            break;
        e->manual = false;
        if (e->phase == PHASE_LOAD) /* the plan step runs again, whole, at its own load */
            enter_step(e, e->step, now);
        break;
    case ENGINE_CMD_PAUSE:
        pause_sending(e, now);
        break;
    case ENGINE_CMD_RESUME:
        resume_sending(e, now);
        break;
    case ENGINE_CMD_PROBE:
        /* The step was written to the plan before this command was queued: the ring's
         * release/acquire makes it visible here. */
        if (e->plan->search && (size_t)c->value == e->n_known_steps &&
            e->n_known_steps < e->plan->cap_steps) {
            e->n_known_steps++;
            e->probe_next = (size_t)c->value;
        }
        break;
    case ENGINE_CMD_NEXT_STEP:
        next_step(e, now);
        break;
    case ENGINE_CMD_STOP:
        finish_run(e, now);
        break;
    }
}

static void on_wake(uv_async_t *a)
{
    shard *e = a->data;
    engine_cmd cmds[32];
    size_t n;
    if (atomic_load_explicit(&e->g_stop, memory_order_acquire))
        finish_run(e, llm_now_ns());
    while (e->phase != PHASE_DONE && (n = ring_pop_burst_spsc(&e->commands, cmds, 32)) > 0)
        for (size_t i = 0; i < n && e->phase != PHASE_DONE; i++)
            apply_command(e, &cmds[i]);
    schedule(e);
}

/* Visits the requests in flight (backwards: finishing one moves the last into its place).
 * TTFT deadlines every tick when --ttft-timeout is set; every 25 ticks the [DONE] grace and
 * the grace after a finish_reason that neither [DONE] nor a close followed. */
static void check_deadlines(shard *e, uint64_t now)
{
    uint64_t ttft_ns = (uint64_t)(e->cfg->ttft_timeout_s * LLM_NS_PER_SEC);
    bool grace = ++e->ticks % 25 == 0;
    if (!ttft_ns && !grace)
        return;
    for (size_t i = e->pool.n_busy; i-- > 0;) {
        req_slot *s = e->pool.busy[i];
        if (ttft_ns && !s->t_first_token && now - s->t0 > ttft_ns) {
            s->aborted = REQ_ABORT_TTFT;
            s->abort_limit_s = e->cfg->ttft_timeout_s;
            finish_request(e, s, CURLE_OPERATION_TIMEDOUT);
        } else if (grace && s->done_seen && now - s->t_done > DONE_GRACE_NS) {
            finish_request(e, s, CURLE_OK);
        } else if (grace && request_finish_by_grace(s, now)) {
            finish_request(e, s, CURLE_OK);
        }
    }
}

/* The connect and request deadlines: the lists are in start order, so only their heads are
 * looked at (a connected request leaves the connecting list when it reaches the head). */
static void expire(shard *e, req_slot *s, req_abort why, uint64_t limit_ns)
{
    s->aborted = why;
    s->abort_limit_s = (double)limit_ns / LLM_NS_PER_SEC;
    finish_request(e, s, CURLE_OPERATION_TIMEDOUT); /* the slot leaves both lists */
}

static void check_timeouts(shard *e, uint64_t now)
{
    slot_pool *p = &e->pool;
    req_slot *s;
    while ((s = p->fifo_head[REQ_FIFO_CONNECTING]) != NULL) {
        if (s->connected || !s->attempts_known)
            slot_fifo_remove(p, REQ_FIFO_CONNECTING, s);
        else if (now - s->fifo_t[REQ_FIFO_CONNECTING] > e->connect_ns)
            expire(e, s, REQ_ABORT_CONNECT, e->connect_ns);
        else
            break;
    }
    while (e->request_ns && (s = p->fifo_head[REQ_FIFO_STARTED]) != NULL &&
           now - s->fifo_t[REQ_FIFO_STARTED] > e->request_ns)
        expire(e, s, REQ_ABORT_REQUEST, e->request_ns);
}

static void on_tick(uv_timer_t *t)
{
    shard *e = t->data;
    uint64_t now = llm_now_ns();
    check_timeouts(e, now);
    check_deadlines(e, now);
    schedule(e);
}

/* ---- lifetime ---- */

static void *engine_thread(void *arg)
{
    shard *e = arg;
    uint64_t now = llm_now_ns();
    e->arr.next_ns = now;
    e->phase = PHASE_WARMUP; /* a follower: until the leader's directive says more */
    if (is_leader(e) && e->plan->warmup == 0)
        enter_step(e, 0, now);
    int rc = uv_timer_start(&e->tick, on_tick, TICK_MS, TICK_MS);
    if (rc == 0 && e->plan->steps[0].rate > 0)
        ptimer_arm_at(&e->arrival_timer, now);
    if (rc == 0) {
        schedule(e);
        uv_run(&e->loop, UV_RUN_DEFAULT);
    } else {
        finish_run(e, llm_now_ns());
    }
    publish_gauges(e, llm_now_ns());
    /* Release-store: every event pushed above is visible before "finished" is. */
    atomic_store_explicit(&e->g_finished, true, memory_order_release);
    return NULL;
}

/* n users, numbered from first (every shard's users have their own numbers). */
static int create_slots(shard *e, const char *model, long n, long first, char *err, size_t errlen)
{
    if (slot_pool_alloc(&e->pool, (size_t)n) != 0) {
        snprintf(err, errlen, "out of memory for %ld virtual users", n);
        return -1;
    }
    for (long i = n - 1; i >= 0; i--) {
        req_slot *s = &e->pool.slots[i];
        if (request_slot_init(s, e->cfg, e->url, e->headers, model, (uint32_t)(first + i),
                              e->plan->has_test[TEST_OUTPUT], e->plan->has_test[TEST_INPUT], err,
                              errlen))
            return -1;
        s->owner = e;
        s->on_tokens = on_tokens;
        s->on_server_id = on_server_id;
        /* --http2: wait for the first connection to say it multiplexes instead of opening one
         * per request of the first burst. */
        if (e->cfg->http2 && curl_easy_setopt(s->easy, CURLOPT_PIPEWAIT, 1L) != CURLE_OK) {
            snprintf(err, errlen, "this libcurl cannot multiplex HTTP/2: run without --http2");
            return -1;
        }
        if (e->turns > 1 && workload_convo_init(&e->wl, e->turns, &s->convo) != 0) {
            snprintf(err, errlen, "out of memory for conversation histories");
            return -1;
        }
        s->convo.turns = e->turns;
        if (e->wl.active && !(s->wl_buf = malloc(e->wl.body_cap))) {
            snprintf(err, errlen, "out of memory for request bodies of %zu bytes", e->wl.body_cap);
            return -1;
        }
        curl_easy_setopt(s->easy, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
        curl_easy_setopt(s->easy, CURLOPT_OPENSOCKETDATA, s);
        curl_easy_setopt(s->easy, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
        curl_easy_setopt(s->easy, CURLOPT_CLOSESOCKETDATA, e);
        if (curlgroups_attach(&e->groups, (size_t)i, s->easy, &s->multi) != 0) {
            snprintf(err, errlen, "this libcurl cannot share its DNS cache between handles");
            return -1;
        }
        slot_pool_put(&e->pool, s);
    }
    return 0;
}

/* The loop, its handles and the multi handle; on failure, whatever was made is closed by
 * shard_free (loop_ready says the loop exists). */
static int setup_loop(shard *e, size_t n_slots, char *err, size_t errlen)
{
    int rc = uv_loop_init(&e->loop);
    if (rc == 0) {
        e->loop_ready = true;
        rc = uv_timer_init(&e->loop, &e->tick);
    }
    if (rc == 0)
        rc = uv_async_init(&e->loop, &e->wake, on_wake);
    if (rc == 0 && ptimer_init(&e->arrival_timer, &e->loop, false, on_arrival, e) != 0)
        rc = UV_ENOMEM;
    if (rc == 0) {
        e->arrivals_ready = true;
        if (sockwatch_init(&e->watch, &e->loop, false, curlgroups_ready, &e->groups) != 0)
            rc = UV_ENOMEM;
        else
            e->watch_ready = true;
    }
    if (rc != 0) {
        snprintf(err, errlen, "cannot set up the event loop: %s", uv_strerror(rc));
        return -1;
    }
    e->tick.data = e->wake.data = e;
    e->groups_ready = true;
    return curlgroups_init(&e->groups, &e->loop, &e->watch, n_slots, e->cfg->http2, 16, drain_done,
                           awaits_first_token, e, err, errlen);
}

static int load_image_body(shard *e, const char *model, char *err, size_t errlen)
{
    char *url = NULL;
    if (image_data_url(e->cfg->image_file ? e->cfg->image_file : "testphoto.jpg", &url, err,
                       errlen) != 0)
        return -1;
    int rc = prompt_build_image(e->cfg, model, url, &e->image_body, err, errlen);
    free(url);
    return rc;
}

/* ShareGPT conversations replayed with --turns: answers as long as the longest recorded one
 * fit, and so does the longest conversation's last body. */
static void size_scripts(shard *e, const plan *p)
{
    long max_out = 1;
    for (size_t i = 0; i < p->n_scripts; i++)
        for (uint32_t t = 0; t < p->scripts[i].n && t < e->turns; t++)
            if (p->scripts[i].output_tokens[t] > max_out)
                max_out = p->scripts[i].output_tokens[t];
    e->wl.output.max = max_out;
    e->wl.body_cap = 0;
    for (size_t i = 0; i < p->n_scripts; i++) {
        size_t n = workload_script_body_size(&e->wl, &p->scripts[i], e->turns, max_out);
        if (n > e->wl.body_cap)
            e->wl.body_cap = n;
    }
}

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Shard 0 keeps the run's seed; the others draw from streams of their own. */
static uint64_t shard_seed(uint64_t base, size_t index)
{
    if (index == 0)
        return base;
    uint64_t z = base + index * 0x9E3779B97F4A7C15ULL; /* splitmix64's finaliser */
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

shard *shard_new(const llm_config *cfg, const plan *p, const char *model, size_t index,
                 size_t count, long n_slots, long slot_base, char *err, size_t errlen)
{
    static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
    pthread_once(&curl_once, curl_init_once);
    shard *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory starting the engine");
        return NULL;
    }
    e->cfg = cfg;
    e->plan = p;
    e->leader = e;
    e->shard_index = index;
    e->n_shards = count;
    e->n_known_steps = p->n_steps;
    atomic_store_explicit(&e->g_n_steps, (uint32_t)p->n_steps, memory_order_relaxed);
    e->url = config_endpoint_url(
        cfg, cfg->endpoint == LLM_ENDPOINT_COMPLETIONS ? "/completions" : "/chat/completions");
    e->headers = request_headers(cfg);
    uint64_t seed = cfg->seed_set ? cfg->seed : 0x5eed;
    if (arrivals_init(&e->arr, p->arrivals, shard_seed(seed ^ 0xA5A5A5A5DEADBEEFULL, index),
                      p->steps[0].rate > 0) != 0) {
        snprintf(err, errlen, "out of memory starting the engine");
        shard_free(e);
        return NULL;
    }
    if (!e->url || ring_init(&e->events, EVENT_RING_CAP, sizeof(llm_event)) != 0 ||
        ring_init(&e->commands, CMD_RING_CAP, sizeof(engine_cmd)) != 0) {
        snprintf(err, errlen, "out of memory starting the engine");
        shard_free(e);
        return NULL;
    }
    if (p->dataset) { /* borrowed: the session frees it */
        e->prompts = *p->dataset;
        e->prompts_borrowed = true;
    } else if (cfg->prompts_file && prompts_load(cfg, model, &e->prompts, err, errlen) != 0) {
        shard_free(e);
        return NULL;
    }
    e->wl_rng = shard_seed(seed * 0x2545F4914F6CDD1DULL + 11, index);
    e->trace = p->trace;
    e->turns = cfg->turns > 1 ? (uint32_t)cfg->turns : 1;
    e->think_ns = (uint64_t)(cfg->think_time_s * LLM_NS_PER_SEC);
    e->connect_ns = (uint64_t)(http_connect_timeout_s(cfg) * LLM_NS_PER_SEC);
    e->request_ns =
        cfg->request_timeout_s > 0 ? (uint64_t)(cfg->request_timeout_s * LLM_NS_PER_SEC) : 0;
    if (workload_init(&e->wl, cfg, model, err, errlen) != 0) {
        shard_free(e);
        return NULL;
    }
    if (e->turns > 1) /* the last turn's body: the whole history */
        e->wl.body_cap = workload_convo_body_size(&e->wl, e->turns);
    if (p->n_scripts) /* recorded conversations: the longest, with its answers */
        size_scripts(e, p);
    if (e->trace) /* the longest record's body: its blocks, then the rest of its prompt */
        e->wl.body_cap =
            workload_body_size(&e->wl, (long)e->trace->max_input + 4, e->trace->max_blocks);
    if (p->has_test[TEST_MULTIMODAL] && load_image_body(e, model, err, errlen) != 0) {
        shard_free(e);
        return NULL;
    }
    if (setup_loop(e, (size_t)n_slots, err, errlen) != 0 ||
        create_slots(e, model, n_slots, slot_base, err, errlen) != 0) {
        shard_free(e);
        return NULL;
    }
    set_total(e, p->steps[0].concurrency);
    atomic_store(&e->g_target, (uint32_t)e->target);
    return e;
}

/* Shard 0 leads shards[0..count): it keeps the array (borrowed: the facade frees it) and
 * wakes the others with its directive. Returns 0, or -1 (memory). */
int shard_lead(shard **shards, size_t count, size_t slots_total)
{
    shard *e = shards[0];
    e->shards = shards;
    e->slots_total = slots_total;
    for (size_t i = 0; i < count; i++)
        shards[i]->leader = e;
    if (count > 1) {
        if (pthread_mutex_init(&e->dir_lock, NULL) != 0)
            return -1;
        e->dir_lock_ready = true;
    }
    return 0;
}

int shard_spawn(shard *e)
{
    if (pthread_create(&e->thread, NULL, engine_thread, e) != 0)
        return -1;
    e->thread_started = true;
    return 0;
}

size_t shard_pop(shard *e, llm_event *out, size_t max)
{
    return ring_pop_burst_spsc(&e->events, out, max);
}

bool shard_command(shard *e, engine_cmd cmd)
{
    if (atomic_load_explicit(&e->g_finished, memory_order_acquire))
        return false;
    if (!ring_push_spsc(&e->commands, &cmd))
        return false;
    uv_async_send(&e->wake);
    return true;
}

void shard_gauges(shard *e, engine_gauges *g)
{
    g->target = atomic_load_explicit(&e->g_target, memory_order_relaxed);
    g->inflight = atomic_load_explicit(&e->g_inflight, memory_order_relaxed);
    g->step = atomic_load_explicit(&e->g_step, memory_order_relaxed);
    g->seq = atomic_load_explicit(&e->g_seq, memory_order_relaxed);
    g->max_target = (uint32_t)e->pool.n;
    g->n_steps = (uint32_t)atomic_load_explicit(&e->g_n_steps, memory_order_relaxed);
    g->started = atomic_load_explicit(&e->g_started, memory_order_relaxed);
    g->cancelled = atomic_load_explicit(&e->g_cancelled, memory_order_relaxed);
    g->lost_events = atomic_load_explicit(&e->g_lost, memory_order_relaxed);
    g->state = (engine_state)atomic_load_explicit(&e->g_state, memory_order_relaxed);
    g->step_left_ms = atomic_load_explicit(&e->g_step_left_ms, memory_order_relaxed);
    g->cooldown_left_ms = atomic_load_explicit(&e->g_cooldown_left_ms, memory_order_relaxed);
    g->manual = atomic_load_explicit(&e->g_manual, memory_order_relaxed);
    g->urgent_marked = atomic_load_explicit(&e->g_urgent_marked, memory_order_relaxed);
    g->urgent_unmarked = atomic_load_explicit(&e->g_urgent_unmarked, memory_order_relaxed);
}

bool shard_finished(shard *e)
{
    return atomic_load_explicit(&e->g_finished, memory_order_acquire);
}

static void close_handle(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Stops a shard's thread: a STOP command, or the flag when its command ring is full (or it
 * is a follower, which takes no commands). */
void shard_stop(shard *e)
{
    if (!e->thread_started)
        return;
    if (!is_leader(e) || !shard_command(e, (engine_cmd){.kind = ENGINE_CMD_STOP})) {
        atomic_store_explicit(&e->g_stop, true, memory_order_release);
        uv_async_send(&e->wake);
    }
}

void shard_join(shard *e)
{
    if (e->thread_started)
        pthread_join(e->thread, NULL);
    e->thread_started = false;
}

void shard_free(shard *e)
{
    for (size_t i = 0; i < e->pool.n_busy; i++)
        curl_multi_remove_handle(e->pool.busy[i]->multi, e->pool.busy[i]->easy);
    for (size_t i = 0; i < e->pool.n; i++)
        request_slot_free(&e->pool.slots[i]);
    if (e->groups_ready)
        curlgroups_cleanup(&e->groups);
    if (e->loop_ready) {
        if (e->watch_ready)
            sockwatch_close(&e->watch);
        if (e->arrivals_ready)
            ptimer_close(&e->arrival_timer);
        uv_walk(&e->loop, close_handle, NULL);
        uv_run(&e->loop, UV_RUN_DEFAULT);
        uv_loop_close(&e->loop);
    }
    if (e->groups_ready)
        curlgroups_free(&e->groups);
    slot_pool_free(&e->pool);
    arrivals_free(&e->arr);
    prompt_free(&e->image_body);
    if (!e->prompts_borrowed)
        prompts_free(&e->prompts);
    workload_free(&e->wl);
    curl_slist_free_all(e->headers);
    free(e->url);
    ring_free(&e->events);
    ring_free(&e->commands);
    if (e->dir_lock_ready)
        pthread_mutex_destroy(&e->dir_lock);
    free(e);
}
