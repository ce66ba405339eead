/* engine/sockwatch: the sockets curl asks the engine to watch, and the readiness callbacks
 * for them on the engine's uv loop. Engine thread only (and the thread that owns the loop).
 *
 * On Linux the sockets live in one private epoll set that the uv loop watches as a single
 * descriptor, and a tracked socket (one whose closing is reported with sockwatch_forget)
 * that curl stops watching between kept-alive transfers stays in the set until it reports
 * something: a request cycle on a kept-alive connection then costs no epoll_ctl at all
 * (libuv's uv_poll_start costs two per call). Elsewhere, or when asked, it falls back to
 * one uv_poll_t per socket. */
#ifndef LLM_SOCKWATCH_H
#define LLM_SOCKWATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

enum { SOCKWATCH_IN = 1, SOCKWATCH_OUT = 2, SOCKWATCH_ERR = 4 };

/* events: SOCKWATCH_IN/OUT/ERR that the socket reported, limited to what was asked for
 * (ERR always). */
typedef void (*sockwatch_cb)(void *user, int fd, int events);

typedef struct sockwatch {
    uv_loop_t *loop;
    sockwatch_cb cb;
    void *user;
    bool use_epoll;
    /* epoll backend */
    int epfd;
    uv_poll_t ep_poll;
    uint8_t *want;       /* by descriptor number: what the owner asked for (0 = parked) */
    uint8_t *registered; /* by descriptor number: what the kernel set holds (0 = absent) */
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
/* The descriptor is about to be closed: forget it, so a socket that later gets the same
 * number starts afresh. */
void sockwatch_forget(sockwatch *w, int fd);
/* Closes the loop handles; run the loop afterwards to finish closing them. */
void sockwatch_close(sockwatch *w);

#endif
