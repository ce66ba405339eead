/* engine/sockwatch: the sockets curl asks the engine to watch, and the readiness callbacks
 * for them on the engine's uv loop. Engine thread only (and the thread that owns the loop).
 *
 * On Linux the sockets live in one private epoll set that the uv loop watches as a single
 * descriptor, and a tracked socket (one whose closing is reported with sockwatch_forget)
 * that curl stops watching between kept-alive transfers stays in the set until it reports
 * something: a request cycle on a kept-alive connection then costs no epoll_ctl at all
 * (libuv's uv_poll_start costs two per call), or four when it moves to the urgent set and
 * back (below). Elsewhere, or when asked, it falls back to
 * one uv_poll_t per socket.
 *
 * Urgent sockets (sockwatch_urgent: the engine's streams that wait for their first token)
 * are in a second epoll set, read before the others and again after every SOCKWATCH_CHUNK
 * of them. A first token that arrives in a burst of other streams' tokens is then read
 * within a chunk's time instead of behind the whole burst, so the TTFT llmload measures
 * does not carry its own queue (bench/RESULTS.md §5). The uv_poll backend has no second
 * set: there, urgency is ignored. */
#ifndef LLM_SOCKWATCH_H
#define LLM_SOCKWATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

enum { SOCKWATCH_IN = 1, SOCKWATCH_OUT = 2, SOCKWATCH_ERR = 4 };
enum { SOCKWATCH_IN_URGENT = 0x80 }; /* in `registered`: the descriptor is in the urgent set */
#define SOCKWATCH_CHUNK 32           /* ordinary sockets read between looks at the urgent */

/* events: SOCKWATCH_IN/OUT/ERR that the socket reported, limited to what was asked for
 * (ERR always). */
typedef void (*sockwatch_cb)(void *user, int fd, int events);

typedef struct sockwatch {
    uv_loop_t *loop;
    sockwatch_cb cb;
    void *user;
    bool use_epoll;
    /* epoll backend */
    int epfd, epfd_urgent;
    uv_poll_t ep_poll, ep_poll_urgent;
    uint8_t *want;       /* by descriptor number: what the owner asked for (0 = parked) */
    uint8_t *registered; /* by descriptor number: what the kernel set holds (0 = absent), and
                            SOCKWATCH_IN_URGENT when that set is the urgent one */
    uint8_t *urgent;     /* by descriptor number: the owner wants it in the urgent set */
    size_t n_urgent;     /* descriptors in the urgent set */
    uint8_t *tracked;    /* by descriptor number: its closing will be reported */
    /* uv_poll backend */
    uv_poll_t **polls;  /* by descriptor number */
    size_t cap;         /* length of the arrays above */
    uint64_t ctl_calls; /* epoll_ctl or uv_poll_start/stop calls, for tests and benches */
} sockwatch;

/* portable: use one uv_poll_t per socket even where epoll exists. 0 or -1. */
int sockwatch_init(sockwatch *w, uv_loop_t *loop, bool portable, sockwatch_cb cb, void *user);
/* The owner will call sockwatch_forget before fd is closed, so fd may stay in the set
 * while nobody watches it. 0 or -1 (out of memory). */
int sockwatch_track(sockwatch *w, int fd);
/* Watch fd for events (SOCKWATCH_IN/OUT); 0 stops reporting it. 0 or -1 (out of memory or
 * the descriptor cannot be polled). */
int sockwatch_set(sockwatch *w, int fd, int events);
/* on: fd's readiness is reported before the others' (see above) until it is called with
 * false. Kept for the descriptor while parked or unwatched; sockwatch_forget clears it.
 * 0 or -1 (out of memory, or the kernel refused the move). */
int sockwatch_urgent(sockwatch *w, int fd, bool on);
/* The descriptor is about to be closed: forget it, so a socket that later gets the same
 * number starts afresh. */
void sockwatch_forget(sockwatch *w, int fd);
/* Closes the loop handles; run the loop afterwards to finish closing them. */
void sockwatch_close(sockwatch *w);

#endif
