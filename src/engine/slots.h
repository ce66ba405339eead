/* engine/slots: the pool of virtual users (request slots) of one engine thread — the free
 * list, the slots in flight (so timers visit only those) and, with --turns, the users
 * thinking between two turns — and how many users the open-files limit allows. Engine
 * thread only, but for slots_count (called before the thread starts). */
#ifndef LLM_SLOTS_H
#define LLM_SLOTS_H

#include <stddef.h>
#include <stdint.h>

#include "engine/request.h"

/* Open files a run may need beyond one per user: the resolver, epoll, timers, the
 * process's own files. */
#define SLOTS_FD_HEADROOM 64

typedef struct {
    req_slot *slots;
    size_t n;
    req_slot *free_list;
    req_slot **busy; /* the slots in flight */
    size_t n_busy;
    req_slot **thinking; /* --turns: users between two turns, who still count as users */
    size_t n_thinking;
    /* The slots in flight in the order they (re)started, oldest first, so a deadline that
     * runs from the start is checked at the head alone: REQ_FIFO_STARTED holds every busy
     * slot; REQ_FIFO_CONNECTING too, until the engine drops a connected one off its head. */
    req_slot *fifo_head[REQ_FIFOS], *fifo_tail[REQ_FIFOS];
} slot_pool;

/* Users a process can hold for a plan of at most max_concurrency: twice that (room for the
 * keyboard), at least 64, fewer when the open-files limit (raised as far as allowed) allows
 * fewer; -1 with a sentence when it cannot even hold max_concurrency. */
long slots_count(long max_concurrency, char *err, size_t errlen);

/* The arrays for n slots (zeroed; the caller initialises each, then slot_pool_put). Returns 0
 * or -1 (memory). */
int slot_pool_alloc(slot_pool *p, size_t n);
/* Frees the arrays (the caller frees each slot's own resources first). */
void slot_pool_free(slot_pool *p);

/* A free slot taken off the list; NULL when every user is busy. */
req_slot *slot_pool_take(slot_pool *p);
void slot_pool_put(slot_pool *p, req_slot *s);
/* In flight: into the busy list and at the tail of both lists, as of s->t0. */
void slot_pool_busy_add(slot_pool *p, req_slot *s);
/* Out of the busy list and of both lists. */
void slot_pool_busy_remove(slot_pool *p, req_slot *s);
/* At the tail of list `which`, joined at `now` (no earlier than the tail's time); a slot
 * already in it moves there. */
void slot_fifo_push(slot_pool *p, int which, req_slot *s, uint64_t now);
/* Out of list `which` (nothing if it is not in it). */
void slot_fifo_remove(slot_pool *p, int which, req_slot *s);
void slot_pool_think(slot_pool *p, req_slot *s);
/* A thinking user whose pause is over (convo.ready_ns <= now), taken off the list; NULL =
 * none. */
req_slot *slot_pool_ready_thinker(slot_pool *p, uint64_t now);

#endif
