/* engine/curlgroups: a shard's curl multi handles — its users in groups of at most
 * CURLGROUP_SLOTS, each group one multi handle with its own connection cache — and the
 * routing of socket readiness and curl's timeouts to the group they belong to. Engine
 * thread only (the shard's).
 *
 * Why groups: libcurl 7.88 walks every connection it holds to a host when a transfer starts
 * (url.c ConnectionExists, with a liveness check on each) and every connection in the cache
 * when a transfer leaves the multi (multi.c close_connect_only). With one multi handle both
 * walks grow with the number of users: at 10,000 streams they were 44 % of the engine's CPU
 * (bench/RESULTS.md §5). A group bounds them at CURLGROUP_SLOTS connections. A user's
 * requests always go through its group, so its kept-alive connection is found there; the
 * groups share one DNS cache, as the users of one multi handle did. With HTTP/2
 * multiplexing there is one group: its users share a few connections, so the walks are short
 * and splitting would only open more connections. */
#ifndef LLM_CURLGROUPS_H
#define LLM_CURLGROUPS_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "engine/sockwatch.h"

#define CURLGROUP_SLOTS 64

/* After curl acted on a group's socket or timeout: the owner reads that multi's finished
 * transfers (curl_multi_info_read). */
typedef void (*curlgroups_done_fn)(void *user, CURLM *multi);
/* Asked each time curl starts watching fd for the transfer easy: whether the watch should
 * read it before the others (sockwatch_urgent). */
typedef bool (*curlgroups_urgent_fn)(void *user, CURL *easy, int fd);

struct curlgroups;

typedef struct curlgroup {
    CURLM *multi;
    uv_timer_t timer;
    struct curlgroups *all;
    bool timer_ready;
    bool kick_due; /* in the kick list */
} curlgroup;

typedef struct curlgroups {
    curlgroup *g;
    size_t n, per; /* groups; slots per group */
    CURLSH *share; /* the DNS cache of every group */
    sockwatch *watch;
    uint32_t *by_fd; /* the group of each socket curl asked to watch, by descriptor number */
    size_t fd_cap;
    curlgroups_done_fn done;
    curlgroups_urgent_fn urgent; /* NULL: no socket is urgent */
    void *user;
    uint32_t *kicks; /* groups given new transfers since the last curlgroups_run_kicks */
    size_t n_kicks;
    bool kicking;
} curlgroups;

/* Groups for n_slots users on loop, their sockets in w (whose callback must be
 * curlgroups_ready with cg as its user). multiplex: HTTP/2, one group. Each multi handle
 * keeps up to its users + extra_conns connections. done and urgent (may be NULL) are called
 * with user. 0, or -1 with a sentence in err; on
 * failure what was made is freed by curlgroups_cleanup and curlgroups_free. */
int curlgroups_init(curlgroups *cg, uv_loop_t *loop, sockwatch *w, size_t n_slots, bool multiplex,
                    long extra_conns, curlgroups_done_fn done, curlgroups_urgent_fn urgent,
                    void *user, char *err, size_t errlen);
/* Puts slot's easy handle in its group: uses the shared DNS cache; *multi is the handle to
 * add it to. 0, or -1 (curl refused the share). */
int curlgroups_attach(curlgroups *cg, size_t slot, CURL *easy, CURLM **multi);
/* slot's group was given a transfer (curl_multi_add_handle): curlgroups_run_kicks starts it.
 * Without the kick it would start when curl's 0 ms timer runs, in the loop's next turn,
 * after every socket event already read: at 10,000 streams up to 25 ms after its t0
 * (bench/RESULTS.md §5), a delay the request's TTFT would carry. */
void curlgroups_kick(curlgroups *cg, size_t slot);
/* Lets curl start the transfers of every kicked group now (curl_multi_socket_action on its
 * timeout), then done() for each. Not from within a curl call. The kicks made meanwhile (a
 * transfer that ended at once, and the next one started) wait for the next call or for
 * curl's own timer, so a server that fails every request at once cannot hold the loop. */
void curlgroups_run_kicks(curlgroups *cg);
/* Every group's CURLMOPT_SOCKETFUNCTION (userp: the curlgroup): remembers which group
 * watches fd and tells the sockwatch. */
int curlgroups_on_socket(CURL *easy, curl_socket_t fd, int action, void *userp, void *socketp);
/* A sockwatch_cb: curl acts on fd's group, then done() is called. */
void curlgroups_ready(void *cg, int fd, int events);
/* Cleans up the multi handles (their easy handles must be out of them and cleaned up), then
 * the share; the timers stay for the loop's own closing (uv_walk). */
void curlgroups_cleanup(curlgroups *cg);
/* Frees the groups once the loop has closed their timers. */
void curlgroups_free(curlgroups *cg);

#endif
