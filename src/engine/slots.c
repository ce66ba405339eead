#include "engine/slots.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

/* The open-files limit, raised as far as allowed towards `want`; 0 when unknown. */
static long fd_limit_towards(long want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)want > rl.rlim_cur) {
        struct rlimit up = rl;
        up.rlim_cur =
            rl.rlim_max == RLIM_INFINITY || (rlim_t)want < rl.rlim_max ? (rlim_t)want : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            rl = up;
    }
    return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)LONG_MAX ? LONG_MAX
                                                                          : (long)rl.rlim_cur;
}

long slots_count(long max_concurrency, char *err, size_t errlen)
{
    long want = max_concurrency * 2 < 64 ? 64 : max_concurrency * 2;
    long limit = fd_limit_towards(want + SLOTS_FD_HEADROOM);
    if (limit == 0 || limit - SLOTS_FD_HEADROOM >= want)
        return want;
    if (limit - SLOTS_FD_HEADROOM >= max_concurrency)
        return limit - SLOTS_FD_HEADROOM; /* the keyboard's headroom shrinks; the gauges say so */
    snprintf(err, errlen,
             "concurrency %ld needs %ld open files but the limit is %ld: raise it with "
             "`ulimit -n %ld`",
             max_concurrency, max_concurrency + SLOTS_FD_HEADROOM, limit,
             max_concurrency + SLOTS_FD_HEADROOM);
    return -1;
}

int slot_pool_alloc(slot_pool *p, size_t n)
{
    *p = (slot_pool){0};
    p->slots = calloc(n, sizeof *p->slots);
    p->busy = calloc(n, sizeof *p->busy);
    p->thinking = calloc(n, sizeof *p->thinking);
    if (!p->slots || !p->busy || !p->thinking)
        return -1;
    p->n = n;
    return 0;
}

void slot_pool_free(slot_pool *p)
{
    free(p->slots);
    free(p->busy);
    free(p->thinking);
    *p = (slot_pool){0};
}

req_slot *slot_pool_take(slot_pool *p)
{
    req_slot *s = p->free_list;
    if (s)
        p->free_list = s->next_free;
    return s;
}

void slot_pool_put(slot_pool *p, req_slot *s)
{
    s->next_free = p->free_list;
    p->free_list = s;
}

void slot_fifo_remove(slot_pool *p, int which, req_slot *s)
{
    if (!s->fifo_t[which])
        return;
    req_slot *prev = s->fifo_prev[which], *next = s->fifo_next[which];
    if (prev)
        prev->fifo_next[which] = next;
    else
        p->fifo_head[which] = next;
    if (next)
        next->fifo_prev[which] = prev;
    else
        p->fifo_tail[which] = prev;
    s->fifo_prev[which] = s->fifo_next[which] = NULL;
    s->fifo_t[which] = 0;
}

void slot_fifo_push(slot_pool *p, int which, req_slot *s, uint64_t now)
{
    slot_fifo_remove(p, which, s);
    s->fifo_t[which] = now ? now : 1; /* 0 means "not in the list" */
    s->fifo_prev[which] = p->fifo_tail[which];
    s->fifo_next[which] = NULL;
    if (p->fifo_tail[which])
        p->fifo_tail[which]->fifo_next[which] = s;
    else
        p->fifo_head[which] = s;
    p->fifo_tail[which] = s;
}

void slot_pool_busy_add(slot_pool *p, req_slot *s)
{
    s->busy_pos = (uint32_t)p->n_busy;
    p->busy[p->n_busy++] = s;
    for (int k = 0; k < REQ_FIFOS; k++)
        slot_fifo_push(p, k, s, s->t0);
}

void slot_pool_busy_remove(slot_pool *p, req_slot *s)
{
    req_slot *last = p->busy[--p->n_busy];
    p->busy[s->busy_pos] = last;
    last->busy_pos = s->busy_pos;
    s->busy = false;
    for (int k = 0; k < REQ_FIFOS; k++)
        slot_fifo_remove(p, k, s);
}

void slot_pool_think(slot_pool *p, req_slot *s)
{
    p->thinking[p->n_thinking++] = s;
}

req_slot *slot_pool_ready_thinker(slot_pool *p, uint64_t now)
{
    for (size_t i = 0; i < p->n_thinking; i++) {
        req_slot *s = p->thinking[i];
        if (s->convo.ready_ns <= now) {
            p->thinking[i] = p->thinking[--p->n_thinking];
            return s;
        }
    }
    return NULL;
}
