#include "engine/engine.h"

#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "base/util.h"
#include "core/ring.h"
#include "engine/image.h"
#include "engine/prompts.h"
#include "engine/ptimer.h"
#include "engine/request.h"
#include "engine/sockwatch.h"
#include "proto/chunk.h"

#define EVENT_RING_CAP (128 * 1024)
#define CMD_RING_CAP 256
#define TICK_MS 10
/* Open loop: each arrival is released by a timer at its intended time (precise to tens of
 * microseconds), or at the latest a millisecond after the last check, so pauses and new
 * steps are seen; those that find every in-flight place taken wait here (their wait is
 * send lag). */
#define ARRIVAL_CHECK_NS LLM_NS_PER_MS
#define BACKLOG_CAP (64 * 1024)
/* A server that sends [DONE] but keeps the response open is closed after this long. */
#define DONE_GRACE_NS (2 * LLM_NS_PER_SEC)

struct engine {
    const llm_config *cfg;
    const plan *plan;
    uv_loop_t loop;
    uv_timer_t curl_timer, tick;
    ptimer arrivals;
    uv_async_t wake;
    CURLM *multi;
    struct curl_slist *headers;
    char *url;
    pthread_t thread;

    req_slot *slots;
    size_t n_slots;
    req_slot *free_list;
    prompt_body image_body; /* the multimodal test's body, shared by every slot */
    prompt_set prompts;     /* --prompts: bodies shared by every slot; n = 0 without */
    sockwatch watch;        /* the sockets curl watches */
    req_slot **busy;        /* the slots in flight, so timers visit only those */
    size_t n_busy;
    uint32_t ticks;
    bool server_id_sent; /* EV_SERVER_ID went out: one per run */

    spsc_ring events, commands;

    /* scheduler state: engine thread only */
    size_t step;
    uint64_t step_started_ns, step_deadline_ns, cooldown_until_ns;
    uint64_t paused_at_ns; /* a pause stops the step's clock: deadlines move on by its length */
    long started_in_step, warmup_left;
    long target;
    uint64_t request_counter;
    /* open loop */
    uint64_t next_arrival_ns, arrivals_in_step, rng;
    uint64_t *backlog; /* intended send times, a ring of BACKLOG_CAP */
    size_t bl_head, bl_tail;
    bool paused, manual, cooling, finishing, step_entered;
    /* search: steps given so far; the step ended early (`n`) or drained and announced; the
     * next step, once told of it (0 = none: step 0 is never a next step) */
    size_t n_known_steps;
    bool step_cut, step_ended;
    size_t probe_next;

    /* published to the controlling thread */
    _Atomic uint32_t g_target, g_inflight, g_step, g_n_steps;
    _Atomic uint64_t g_started, g_cancelled, g_lost, g_step_left_ms;
    _Atomic int g_state;
    _Atomic bool g_manual, g_finished;
    uint32_t inflight;
};

static void publish(engine *e, const llm_event *ev)
{
    if (!ring_push_spsc(&e->events, ev))
        atomic_fetch_add_explicit(&e->g_lost, 1, memory_order_relaxed);
}

static void on_tokens(req_slot *s, uint32_t count, uint64_t gap_ns)
{
    engine *e = s->owner;
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
    engine *e = s->owner;
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
static uint64_t step_clock(const engine *e, uint64_t now)
{
    return e->paused ? e->paused_at_ns : now;
}

static uint64_t step_left_ms(const engine *e, uint64_t now)
{
    if (!e->step_deadline_ns)
        return ENGINE_LEFT_UNKNOWN;
    uint64_t t = step_clock(e, now);
    return t >= e->step_deadline_ns ? 0 : (e->step_deadline_ns - t) / LLM_NS_PER_MS;
}

static void publish_gauges(engine *e, uint64_t now)
{
    atomic_store_explicit(&e->g_step_left_ms, step_left_ms(e, now), memory_order_relaxed);
    atomic_store_explicit(&e->g_target, (uint32_t)e->target, memory_order_relaxed);
    atomic_store_explicit(&e->g_inflight, e->inflight, memory_order_relaxed);
    atomic_store_explicit(&e->g_step, (uint32_t)e->step, memory_order_relaxed);
    atomic_store_explicit(&e->g_n_steps, (uint32_t)e->n_known_steps, memory_order_relaxed);
    atomic_store_explicit(&e->g_manual, e->manual, memory_order_relaxed);
    int state = e->finishing         ? ENGINE_DONE
                : e->paused          ? ENGINE_PAUSED
                : e->cooling         ? ENGINE_COOLDOWN
                : e->warmup_left > 0 ? ENGINE_WARMUP
                                     : ENGINE_RUNNING;
    atomic_store_explicit(&e->g_state, state, memory_order_relaxed);
}

/* ---- curl multi <-> libuv glue (the pattern of curl's docs/examples/multi-uv.c) ---- */

static void drain_done(engine *e);
static void schedule(engine *e);
static const plan_step *cur_step(engine *e);

static void on_sock_ready(void *user, int fd, int events)
{
    engine *e = user;
    int flags = 0, running;
    if (events & SOCKWATCH_ERR)
        flags |= CURL_CSELECT_ERR;
    if (events & SOCKWATCH_IN)
        flags |= CURL_CSELECT_IN;
    if (events & SOCKWATCH_OUT)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(e->multi, fd, flags, &running);
    drain_done(e);
}

static int on_socket(CURL *easy, curl_socket_t fd, int action, void *userp, void *socketp)
{
    (void)easy;
    (void)socketp;
    engine *e = userp;
    int events = 0;
    if (action == CURL_POLL_IN || action == CURL_POLL_INOUT)
        events |= SOCKWATCH_IN;
    if (action == CURL_POLL_OUT || action == CURL_POLL_INOUT)
        events |= SOCKWATCH_OUT;
    return sockwatch_set(&e->watch, fd, events);
}

/* curl's own way of opening a socket, plus telling the watch that its closing will be
 * reported (on_close_socket), so it may stay in the epoll set between transfers. Sockets
 * curl makes otherwise (the resolver's) are taken out as soon as curl stops watching. */
static curl_socket_t on_open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
    (void)purpose;
    engine *e = clientp;
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
    engine *e = clientp;
    sockwatch_forget(&e->watch, fd);
    return close(fd);
}

static void on_curl_timeout(uv_timer_t *t)
{
    engine *e = t->data;
    int running;
    curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    drain_done(e);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    engine *e = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&e->curl_timer);
    else
        uv_timer_start(&e->curl_timer, on_curl_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- requests ---- */

static void release_slot(engine *e, req_slot *s)
{
    curl_multi_remove_handle(e->multi, s->easy);
    req_slot *last = e->busy[--e->n_busy];
    e->busy[s->busy_pos] = last;
    last->busy_pos = s->busy_pos;
    s->busy = false;
    s->next_free = e->free_list;
    e->free_list = s;
    e->inflight--;
}

/* A reused connection the server had closed: the same request once more on a new one. */
static bool resend_on_fresh_connection(engine *e, req_slot *s)
{
    return curl_multi_remove_handle(e->multi, s->easy) == CURLM_OK &&
           curl_multi_add_handle(e->multi, s->easy) == CURLM_OK;
}

static void finish_request(engine *e, req_slot *s, CURLcode rc)
{
    llm_event ev;
    uint64_t now = llm_now_ns();
    if (request_reconnect(s, rc, now) && resend_on_fresh_connection(e, s))
        return;
    request_finish(s, rc, now, &ev);
    publish(e, &ev);
    release_slot(e, s);
}

static void drain_done(engine *e)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(e->multi, &left)) != NULL) {
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
static prompt_body *body_for(engine *e, req_slot *s)
{
    switch (cur_step(e)->test) {
    case TEST_INPUT:
        return &s->input_body;
    case TEST_MULTIMODAL:
        return &e->image_body;
    default:
        return e->prompts.n ? prompts_next(&e->prompts) : &s->body;
    }
}

static bool start_request(engine *e, uint64_t t_sched)
{
    req_slot *s = e->free_list;
    if (!s)
        return false;
    e->free_list = s->next_free;
    bool warmup = e->warmup_left > 0;
    request_begin(s, ++e->request_counter, t_sched, llm_now_ns(), (uint32_t)e->step, warmup,
                  body_for(e, s));
    if (warmup)
        e->warmup_left--;
    else
        e->started_in_step++;
    e->inflight++;
    s->busy_pos = (uint32_t)e->n_busy;
    e->busy[e->n_busy++] = s;
    atomic_fetch_add_explicit(&e->g_started, 1, memory_order_relaxed);
    CURLMcode mc = curl_multi_add_handle(e->multi, s->easy);
    if (mc != CURLM_OK) {
        finish_request(e, s, CURLE_FAILED_INIT);
        return false;
    }
    return true;
}

/* ---- the plan ---- */

static const plan_step *cur_step(engine *e)
{
    return &e->plan->steps[e->step];
}

static void publish_step(engine *e)
{
    llm_event ev = {.kind = EV_STEP, .step = (uint32_t)e->step, .t_ns = llm_now_ns()};
    ev.u.step_change.index = (uint32_t)e->step;
    ev.u.step_change.total = e->plan->search ? 0 : (uint32_t)e->plan->n_steps;
    ev.u.step_change.concurrency = (uint32_t)cur_step(e)->concurrency;
    ev.u.step_change.rate = cur_step(e)->rate;
    ev.u.step_change.test = (uint8_t)cur_step(e)->test;
    publish(e, &ev);
}

static void enter_step(engine *e, size_t index, uint64_t now)
{
    e->step_entered = true;
    e->step = index;
    e->step_cut = e->step_ended = false;
    e->started_in_step = 0;
    e->step_started_ns = now;
    if (e->paused) /* entered while paused (the `n` key): its clock starts at the resume */
        e->paused_at_ns = now;
    const plan_step *st = cur_step(e);
    e->step_deadline_ns =
        st->duration_s > 0 ? now + (uint64_t)(st->duration_s * LLM_NS_PER_SEC) : 0;
    if (e->plan->search) /* a search judges each step at its own load: the plan steers */
        e->manual = false;
    if (!e->manual)
        e->target = st->concurrency;
    if (st->rate > 0 && index > 0) {
        /* A new rate starts from now; arrivals the last step could not send are dropped. */
        e->next_arrival_ns = now;
        e->arrivals_in_step = 0;
        uint64_t dropped = e->bl_tail - e->bl_head;
        e->bl_head = e->bl_tail;
        atomic_fetch_add_explicit(&e->g_cancelled, dropped, memory_order_relaxed);
    }
    publish_step(e);
}

static void cancel_inflight(engine *e)
{
    while (e->n_busy > 0) {
        atomic_fetch_add_explicit(&e->g_cancelled, 1, memory_order_relaxed);
        release_slot(e, e->busy[e->n_busy - 1]);
    }
}

static void finish_run(engine *e)
{
    e->finishing = true;
    cancel_inflight(e);
    publish_gauges(e, llm_now_ns());
    uv_stop(&e->loop);
}

static bool step_exhausted(engine *e, uint64_t now)
{
    const plan_step *st = cur_step(e);
    if (e->step_cut)
        return true;
    if (st->requests > 0 && e->started_in_step >= st->requests)
        return true;
    return e->step_deadline_ns && step_clock(e, now) >= e->step_deadline_ns;
}

/* A search step ends when its requests have: the controlling thread judges it, then sends
 * the next step (ENGINE_CMD_PROBE) or stops the run. The cool-down runs before the next. */
static void advance_search(engine *e, uint64_t now)
{
    if (e->inflight > 0)
        return;
    if (!e->step_ended) {
        /* Not counted as lost when the ring is full: the search waits for this event, so
         * it is offered again at the next tick until the consumer has room. */
        llm_event ev = {.kind = EV_STEP_END, .step = (uint32_t)e->step, .t_ns = now};
        e->step_ended = ring_push_spsc(&e->events, &ev);
    }
    if (!e->probe_next)
        return;
    if (e->cooling && step_clock(e, now) < e->cooldown_until_ns)
        return;
    e->cooling = false;
    size_t next = e->probe_next;
    e->probe_next = 0;
    enter_step(e, next, now);
}

static void advance(engine *e, uint64_t now)
{
    if (e->plan->search) {
        advance_search(e, now);
        return;
    }
    const plan_step *st = cur_step(e);
    bool last = e->step + 1 >= e->plan->n_steps;
    bool timed_out = e->step_deadline_ns && step_clock(e, now) >= e->step_deadline_ns;
    /* A duration-bounded end stops at once; a count-bounded one lets its requests finish. */
    if (last) {
        if (timed_out || e->inflight == 0)
            finish_run(e);
        return;
    }
    if (st->cooldown_s > 0) {
        if (e->inflight > 0)
            return;
        if (!e->cooling) {
            e->cooling = true;
            e->cooldown_until_ns = now + (uint64_t)(st->cooldown_s * LLM_NS_PER_SEC);
        }
        if (step_clock(e, now) < e->cooldown_until_ns)
            return;
        e->cooling = false;
    }
    enter_step(e, e->step + 1, now);
}

/* ---- open loop ---- */

static bool backlog_empty(const engine *e)
{
    return e->bl_head == e->bl_tail;
}

static void backlog_push(engine *e, uint64_t t_sched)
{
    if (e->bl_tail - e->bl_head == BACKLOG_CAP) {
        /* Arrivals the server could not absorb for 64 Ki requests: never sent. */
        atomic_fetch_add_explicit(&e->g_cancelled, 1, memory_order_relaxed);
        return;
    }
    e->backlog[e->bl_tail++ % BACKLOG_CAP] = t_sched;
}

static double uniform01(uint64_t *rng)
{
    return ((double)(prompt_rng_next(rng) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double normal01(uint64_t *rng)
{
    return sqrt(-2.0 * log(uniform01(rng))) * cos(6.283185307179586 * uniform01(rng));
}

/* Marsaglia and Tsang's method; shapes below 1 through the U^(1/k) boost. */
static double gamma_sample(double k, uint64_t *rng)
{
    if (k < 1)
        return gamma_sample(k + 1, rng) * pow(uniform01(rng), 1.0 / k);
    double d = k - 1.0 / 3, c = 1 / sqrt(9 * d);
    for (;;) {
        double x = normal01(rng), v = 1 + c * x;
        if (v <= 0)
            continue;
        v = v * v * v;
        if (log(uniform01(rng)) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v;
    }
}

/* Gap to the next arrival: Poisson (exponential gaps), constant, or gamma with shape 0.5
 * (mean the same, twice Poisson's variance: bursts). */
static uint64_t arrival_gap_ns(engine *e, double rate)
{
    double mean = 1e9 / rate;
    switch (e->plan->arrivals) {
    case LLM_ARRIVALS_CONSTANT:
        return (uint64_t)mean;
    case LLM_ARRIVALS_GAMMA:
        return (uint64_t)(mean * gamma_sample(0.5, &e->rng) / 0.5);
    default:
        return (uint64_t)(-log(uniform01(&e->rng)) * mean);
    }
}

static bool arrivals_left(engine *e)
{
    const plan_step *st = cur_step(e);
    if (e->step_deadline_ns && e->next_arrival_ns >= e->step_deadline_ns)
        return false;
    return st->requests == 0 ||
           e->arrivals_in_step < (uint64_t)(st->requests + (e->step == 0 ? e->plan->warmup : 0));
}

static void release_arrivals(engine *e, uint64_t now)
{
    const plan_step *st = cur_step(e);
    if (st->rate <= 0)
        return;
    if (e->paused || e->cooling) {
        e->next_arrival_ns = now; /* no backlog builds up while paused */
        return;
    }
    while (e->next_arrival_ns <= now && arrivals_left(e)) {
        backlog_push(e, e->next_arrival_ns);
        e->arrivals_in_step++;
        e->next_arrival_ns += arrival_gap_ns(e, st->rate);
    }
    schedule(e);
}

static void on_arrival(ptimer *t)
{
    engine *e = t->data;
    if (e->finishing)
        return;
    uint64_t now = llm_now_ns();
    release_arrivals(e, now);
    if (e->finishing)
        return;
    uint64_t next = now + ARRIVAL_CHECK_NS;
    if (cur_step(e)->rate > 0 && !e->paused && !e->cooling && e->next_arrival_ns < next)
        next = e->next_arrival_ns;
    ptimer_arm_at(&e->arrivals, next);
}

static bool may_start(engine *e, uint64_t now)
{
    if (e->paused || e->cooling || e->inflight >= (uint32_t)e->target)
        return false;
    if (e->warmup_left <= 0 && step_exhausted(e, now))
        return false;
    return cur_step(e)->rate <= 0 || !backlog_empty(e);
}

static void schedule(engine *e)
{
    if (e->finishing)
        return;
    uint64_t now = llm_now_ns();
    if (e->step_entered && step_exhausted(e, now))
        advance(e, now);
    if (e->finishing)
        return;
    while (may_start(e, now)) {
        bool open_loop = cur_step(e)->rate > 0;
        uint64_t t_sched = open_loop ? e->backlog[e->bl_head++ % BACKLOG_CAP] : now;
        if (!start_request(e, t_sched))
            break;
        /* Step 0's clock starts when the warm-up is done, not when the run starts. */
        if (e->warmup_left == 0 && !e->step_entered)
            enter_step(e, 0, now);
    }
    publish_gauges(e, now);
}

/* ---- commands from the controlling thread ---- */

static void set_target(engine *e, long target)
{
    if (target < 0)
        target = 0;
    if ((size_t)target > e->n_slots)
        target = (long)e->n_slots;
    e->target = target;
    e->manual = true;
}

static void apply_command(engine *e, const engine_cmd *c)
{
    switch (c->kind) {
    case ENGINE_CMD_SET_TARGET:
        set_target(e, c->value);
        break;
    case ENGINE_CMD_ADJUST_TARGET:
        set_target(e, e->target + c->value);
        break;
    case ENGINE_CMD_PLAN_CONTROL:
        e->manual = false;
        e->target = cur_step(e)->concurrency;
        break;
    case ENGINE_CMD_PAUSE:
        if (!e->paused) {
            e->paused = true;
            e->paused_at_ns = llm_now_ns();
        }
        break;
    case ENGINE_CMD_RESUME:
        if (e->paused) {
            uint64_t held = llm_now_ns() - e->paused_at_ns;
            e->paused = false;
            if (e->step_deadline_ns)
                e->step_deadline_ns += held;
            if (e->cooling)
                e->cooldown_until_ns += held;
        }
        break;
    case ENGINE_CMD_PROBE:
        /* The step was written to the plan before this command was queued: the ring's
         * release/acquire makes it visible here. */
        if (e->plan->search && (size_t)c->value == e->n_known_steps &&
            e->n_known_steps < e->plan->cap_steps) {
            e->n_known_steps++;
            e->probe_next = (size_t)c->value;
            if (cur_step(e)->cooldown_s > 0) {
                e->cooling = true;
                e->cooldown_until_ns = step_clock(e, llm_now_ns()) +
                                       (uint64_t)(cur_step(e)->cooldown_s * LLM_NS_PER_SEC);
            }
        }
        break;
    case ENGINE_CMD_NEXT_STEP:
        if (e->plan->search) {
            e->step_cut = true;
        } else if (e->step + 1 < e->plan->n_steps) {
            e->cooling = false;
            enter_step(e, e->step + 1, llm_now_ns());
        } else {
            finish_run(e);
        }
        break;
    case ENGINE_CMD_STOP:
        finish_run(e);
        break;
    }
}

static void on_wake(uv_async_t *a)
{
    engine *e = a->data;
    engine_cmd cmds[32];
    size_t n;
    while (!e->finishing && (n = ring_pop_burst_spsc(&e->commands, cmds, 32)) > 0)
        for (size_t i = 0; i < n && !e->finishing; i++)
            apply_command(e, &cmds[i]);
    schedule(e);
}

/* Visits the requests in flight (backwards: finishing one moves the last into its place).
 * TTFT deadlines every tick when --ttft-timeout is set; every 25 ticks the [DONE] grace and
 * the grace after a finish_reason that neither [DONE] nor a close followed. */
static void check_deadlines(engine *e, uint64_t now)
{
    uint64_t ttft_ns = (uint64_t)(e->cfg->ttft_timeout_s * LLM_NS_PER_SEC);
    bool grace = ++e->ticks % 25 == 0;
    if (!ttft_ns && !grace)
        return;
    for (size_t i = e->n_busy; i-- > 0;) {
        req_slot *s = e->busy[i];
        if (ttft_ns && !s->t_first_token && now - s->t0 > ttft_ns) {
            s->aborted_ttft = true;
            finish_request(e, s, CURLE_OPERATION_TIMEDOUT);
        } else if (grace && s->done_seen && now - s->t_done > DONE_GRACE_NS) {
            finish_request(e, s, CURLE_OK);
        } else if (grace && request_finish_by_grace(s, now)) {
            finish_request(e, s, CURLE_OK);
        }
    }
}

static void on_tick(uv_timer_t *t)
{
    engine *e = t->data;
    check_deadlines(e, llm_now_ns());
    schedule(e);
}

/* ---- lifetime ---- */

static void *engine_thread(void *arg)
{
    engine *e = arg;
    uint64_t now = llm_now_ns();
    e->warmup_left = e->plan->warmup;
    e->target = e->plan->steps[0].concurrency;
    e->next_arrival_ns = now;
    if (e->warmup_left == 0)
        enter_step(e, 0, now);
    uv_timer_start(&e->tick, on_tick, TICK_MS, TICK_MS);
    if (e->plan->steps[0].rate > 0)
        ptimer_arm_at(&e->arrivals, now);
    schedule(e);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    publish_gauges(e, llm_now_ns());
    /* Release-store: every event pushed above is visible before "finished" is. */
    atomic_store_explicit(&e->g_finished, true, memory_order_release);
    return NULL;
}

static int raise_fd_limit(long need, char *err, size_t errlen)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if ((rlim_t)need <= rl.rlim_cur)
        return 0;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if ((rlim_t)need > rl.rlim_cur) {
        snprintf(err, errlen,
                 "concurrency needs %ld open files but the limit is %lu: raise it with "
                 "`ulimit -n %ld`",
                 need, (unsigned long)rl.rlim_cur, need);
        return -1;
    }
    return 0;
}

static int create_slots(engine *e, const char *model, char *err, size_t errlen)
{
    /* Room to raise the target from the keyboard beyond the plan, without allocating later. */
    long n = e->plan->max_concurrency * 2;
    if (n < 64)
        n = 64;
    if (raise_fd_limit(e->plan->max_concurrency + 64, err, errlen) != 0)
        return -1;
    e->slots = calloc((size_t)n, sizeof *e->slots);
    e->busy = calloc((size_t)n, sizeof *e->busy);
    if (!e->slots || !e->busy) {
        snprintf(err, errlen, "out of memory for %ld virtual users", n);
        return -1;
    }
    e->n_slots = (size_t)n;
    for (long i = n - 1; i >= 0; i--) {
        req_slot *s = &e->slots[i];
        if (request_slot_init(s, e->cfg, e->url, e->headers, model, (uint32_t)i,
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
        curl_easy_setopt(s->easy, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
        curl_easy_setopt(s->easy, CURLOPT_OPENSOCKETDATA, e);
        curl_easy_setopt(s->easy, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
        curl_easy_setopt(s->easy, CURLOPT_CLOSESOCKETDATA, e);
        s->next_free = e->free_list;
        e->free_list = s;
    }
    return 0;
}

static int setup_loop(engine *e)
{
    if (uv_loop_init(&e->loop) != 0)
        return -1;
    uv_timer_init(&e->loop, &e->curl_timer);
    uv_timer_init(&e->loop, &e->tick);
    if (ptimer_init(&e->arrivals, &e->loop, false, on_arrival, e) != 0)
        return -1;
    uv_async_init(&e->loop, &e->wake, on_wake);
    e->curl_timer.data = e->tick.data = e->wake.data = e;
    if (sockwatch_init(&e->watch, &e->loop, false, on_sock_ready, e) != 0)
        return -1;
    e->multi = curl_multi_init();
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
    curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)e->n_slots + 16);
    curl_multi_setopt(e->multi, CURLMOPT_PIPELINING,
                      e->cfg->http2 ? CURLPIPE_MULTIPLEX : CURLPIPE_NOTHING);
    return 0;
}

static int load_image_body(engine *e, const char *model, char *err, size_t errlen)
{
    char *url = NULL;
    if (image_data_url(e->cfg->image_file ? e->cfg->image_file : "testphoto.jpg", &url, err,
                       errlen) != 0)
        return -1;
    int rc = prompt_build_image(e->cfg, model, url, &e->image_body, err, errlen);
    free(url);
    return rc;
}

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int engine_start(const llm_config *cfg, const plan *p, const char *model, engine **out, char *err,
                 size_t errlen)
{
    *out = NULL;
    static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
    pthread_once(&curl_once, curl_init_once);
    engine *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory starting the engine");
        return -1;
    }
    e->cfg = cfg;
    e->plan = p;
    e->n_known_steps = p->n_steps;
    atomic_store_explicit(&e->g_n_steps, (uint32_t)p->n_steps, memory_order_relaxed);
    e->url = config_endpoint_url(
        cfg, cfg->endpoint == LLM_ENDPOINT_COMPLETIONS ? "/completions" : "/chat/completions");
    e->headers = request_headers(cfg);
    e->rng = (cfg->seed_set ? cfg->seed : 0x5eed) ^ 0xA5A5A5A5DEADBEEFULL;
    if (p->steps[0].rate > 0 && !(e->backlog = calloc(BACKLOG_CAP, sizeof *e->backlog))) {
        snprintf(err, errlen, "out of memory starting the engine");
        engine_destroy(e);
        return -1;
    }
    if (!e->url || ring_init(&e->events, EVENT_RING_CAP, sizeof(llm_event)) != 0 ||
        ring_init(&e->commands, CMD_RING_CAP, sizeof(engine_cmd)) != 0) {
        snprintf(err, errlen, "out of memory starting the engine");
        engine_destroy(e);
        return -1;
    }
    if (cfg->prompts_file && prompts_load(cfg, model, &e->prompts, err, errlen) != 0) {
        engine_destroy(e);
        return -1;
    }
    if (p->has_test[TEST_MULTIMODAL] && load_image_body(e, model, err, errlen) != 0) {
        engine_destroy(e);
        return -1;
    }
    if (create_slots(e, model, err, errlen) != 0 || setup_loop(e) != 0) {
        engine_destroy(e);
        return -1;
    }
    atomic_store(&e->g_target, (uint32_t)p->steps[0].concurrency);
    if (pthread_create(&e->thread, NULL, engine_thread, e) != 0) {
        snprintf(err, errlen, "cannot start the engine thread");
        engine_destroy(e);
        return -1;
    }
    *out = e;
    return 0;
}

size_t engine_poll(engine *e, llm_event *out, size_t max)
{
    return ring_pop_burst_spsc(&e->events, out, max);
}

bool engine_send(engine *e, engine_cmd cmd)
{
    if (atomic_load_explicit(&e->g_finished, memory_order_acquire))
        return false;
    if (!ring_push_spsc(&e->commands, &cmd))
        return false;
    uv_async_send(&e->wake);
    return true;
}

void engine_read_gauges(engine *e, engine_gauges *g)
{
    g->target = atomic_load_explicit(&e->g_target, memory_order_relaxed);
    g->inflight = atomic_load_explicit(&e->g_inflight, memory_order_relaxed);
    g->step = atomic_load_explicit(&e->g_step, memory_order_relaxed);
    g->n_steps = (uint32_t)atomic_load_explicit(&e->g_n_steps, memory_order_relaxed);
    g->started = atomic_load_explicit(&e->g_started, memory_order_relaxed);
    g->cancelled = atomic_load_explicit(&e->g_cancelled, memory_order_relaxed);
    g->lost_events = atomic_load_explicit(&e->g_lost, memory_order_relaxed);
    g->state = (engine_state)atomic_load_explicit(&e->g_state, memory_order_relaxed);
    g->step_left_ms = atomic_load_explicit(&e->g_step_left_ms, memory_order_relaxed);
    g->manual = atomic_load_explicit(&e->g_manual, memory_order_relaxed);
}

bool engine_finished(engine *e)
{
    return atomic_load_explicit(&e->g_finished, memory_order_acquire);
}

static void close_handle(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void engine_destroy(engine *e)
{
    if (!e)
        return;
    if (e->thread) {
        engine_send(e, (engine_cmd){.kind = ENGINE_CMD_STOP});
        pthread_join(e->thread, NULL);
    }
    if (e->multi) {
        for (size_t i = 0; i < e->n_busy; i++)
            curl_multi_remove_handle(e->multi, e->busy[i]->easy);
    }
    for (size_t i = 0; i < e->n_slots; i++)
        request_slot_free(&e->slots[i]);
    if (e->multi) {
        curl_multi_cleanup(e->multi);
        sockwatch_close(&e->watch);
        ptimer_close(&e->arrivals);
        uv_walk(&e->loop, close_handle, NULL);
        uv_run(&e->loop, UV_RUN_DEFAULT);
        uv_loop_close(&e->loop);
    }
    free(e->slots);
    free(e->busy);
    free(e->backlog);
    prompt_free(&e->image_body);
    prompts_free(&e->prompts);
    curl_slist_free_all(e->headers);
    free(e->url);
    ring_free(&e->events);
    ring_free(&e->commands);
    free(e);
}
