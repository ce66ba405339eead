#include "engine/curlgroups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* by_fd grows by doubling: only a socket number above every earlier one allocates. */
static int remember(curlgroups *cg, int fd, uint32_t group)
{
    if (fd < 0)
        return -1;
    if ((size_t)fd >= cg->fd_cap) {
        size_t cap = cg->fd_cap ? cg->fd_cap : 1024;
        while (cap <= (size_t)fd)
            cap *= 2;
        uint32_t *by_fd = realloc(cg->by_fd, cap * sizeof *by_fd);
        if (!by_fd)
            return -1;
        memset(by_fd + cg->fd_cap, 0, (cap - cg->fd_cap) * sizeof *by_fd);
        cg->by_fd = by_fd;
        cg->fd_cap = cap;
    }
    cg->by_fd[fd] = group;
    return 0;
}

int curlgroups_on_socket(CURL *easy, curl_socket_t fd, int action, void *userp, void *socketp)
{
    (void)easy;
    (void)socketp;
    curlgroup *g = userp;
    curlgroups *cg = g->all;
    int events = 0;
    if (action == CURL_POLL_IN || action == CURL_POLL_INOUT)
        events |= SOCKWATCH_IN;
    if (action == CURL_POLL_OUT || action == CURL_POLL_INOUT)
        events |= SOCKWATCH_OUT;
    /* A number is reused only after its socket closed, and curl names the new socket here
     * before the watch can report anything of it: the entry is always the current owner's. */
    if (events && remember(cg, fd, (uint32_t)(g - cg->g)) != 0)
        return -1;
    /* Before the set: a socket new to the watch goes straight into the right epoll set. */
    if (events && cg->urgent && easy &&
        sockwatch_urgent(cg->watch, fd, cg->urgent(cg->user, easy, fd)) != 0)
        return -1;
    return sockwatch_set(cg->watch, fd, events);
}

static void on_timeout(uv_timer_t *t)
{
    curlgroup *g = t->data;
    int running;
    curl_multi_socket_action(g->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    g->all->done(g->all->user, g->multi);
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    curlgroup *g = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&g->timer);
    else
        uv_timer_start(&g->timer, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

void curlgroups_ready(void *user, int fd, int events)
{
    curlgroups *cg = user;
    int flags = 0, running;
    if (events & SOCKWATCH_ERR)
        flags |= CURL_CSELECT_ERR;
    if (events & SOCKWATCH_IN)
        flags |= CURL_CSELECT_IN;
    if (events & SOCKWATCH_OUT)
        flags |= CURL_CSELECT_OUT;
    /* The watch reports only sockets on_socket named, so the entry exists. */
    curlgroup *g = &cg->g[fd >= 0 && (size_t)fd < cg->fd_cap ? cg->by_fd[fd] : 0];
    curl_multi_socket_action(g->multi, fd, flags, &running);
    cg->done(cg->user, g->multi);
}

void curlgroups_kick(curlgroups *cg, size_t slot)
{
    size_t i = slot / cg->per;
    curlgroup *g = &cg->g[i < cg->n ? i : cg->n - 1];
    if (g->kick_due)
        return;
    g->kick_due = true;
    cg->kicks[cg->n_kicks++] = (uint32_t)(g - cg->g);
}

void curlgroups_run_kicks(curlgroups *cg)
{
    if (cg->kicking || cg->n_kicks == 0)
        return; /* a done() below started more: they wait (see the header) */
    cg->kicking = true;
    size_t n = cg->n_kicks;
    for (size_t k = 0; k < n; k++) {
        curlgroup *g = &cg->g[cg->kicks[k]];
        g->kick_due = false;
        int running;
        curl_multi_socket_action(g->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        cg->done(cg->user, g->multi);
    }
    /* Kicks made while the first n ran, and whose groups were not yet run, stay due. */
    size_t left = 0;
    for (size_t k = n; k < cg->n_kicks; k++)
        if (cg->g[cg->kicks[k]].kick_due)
            cg->kicks[left++] = cg->kicks[k];
    cg->n_kicks = left;
    cg->kicking = false;
}

int curlgroups_init(curlgroups *cg, uv_loop_t *loop, sockwatch *w, size_t n_slots, bool multiplex,
                    long extra_conns, curlgroups_done_fn done, curlgroups_urgent_fn urgent,
                    void *user, char *err, size_t errlen)
{
    memset(cg, 0, sizeof *cg);
    cg->watch = w;
    cg->done = done;
    cg->urgent = urgent;
    cg->user = user;
    cg->per = multiplex || n_slots == 0 ? (n_slots ? n_slots : 1) : CURLGROUP_SLOTS;
    cg->n = n_slots ? (n_slots + cg->per - 1) / cg->per : 1;
    cg->g = calloc(cg->n, sizeof *cg->g);
    cg->kicks = calloc(2 * cg->n, sizeof *cg->kicks); /* see curlgroups_run_kicks */
    if (!cg->g || !cg->kicks) {
        snprintf(err, errlen, "out of memory for %zu curl multi handles", cg->n);
        return -1;
    }
    cg->share = curl_share_init();
    if (!cg->share ||
        curl_share_setopt(cg->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK) {
        snprintf(err, errlen, "cannot create curl's shared DNS cache (out of memory?)");
        return -1;
    }
    for (size_t i = 0; i < cg->n; i++) {
        curlgroup *g = &cg->g[i];
        g->all = cg;
        int rc = uv_timer_init(loop, &g->timer);
        if (rc != 0) {
            snprintf(err, errlen, "cannot set up the event loop: %s", uv_strerror(rc));
            return -1;
        }
        g->timer.data = g;
        g->timer_ready = true;
        if (!(g->multi = curl_multi_init())) {
            snprintf(err, errlen, "cannot create a curl multi handle (out of memory?)");
            return -1;
        }
        size_t users = i + 1 < cg->n ? cg->per : n_slots - i * cg->per;
        curl_multi_setopt(g->multi, CURLMOPT_SOCKETFUNCTION, curlgroups_on_socket);
        curl_multi_setopt(g->multi, CURLMOPT_SOCKETDATA, g);
        curl_multi_setopt(g->multi, CURLMOPT_TIMERFUNCTION, on_timer);
        curl_multi_setopt(g->multi, CURLMOPT_TIMERDATA, g);
        curl_multi_setopt(g->multi, CURLMOPT_MAXCONNECTS, (long)users + extra_conns);
        curl_multi_setopt(g->multi, CURLMOPT_PIPELINING,
                          multiplex ? CURLPIPE_MULTIPLEX : CURLPIPE_NOTHING);
    }
    return 0;
}

int curlgroups_attach(curlgroups *cg, size_t slot, CURL *easy, CURLM **multi)
{
    size_t i = slot / cg->per;
    *multi = cg->g[i < cg->n ? i : cg->n - 1].multi;
    return curl_easy_setopt(easy, CURLOPT_SHARE, cg->share) == CURLE_OK ? 0 : -1;
}

void curlgroups_cleanup(curlgroups *cg)
{
    for (size_t i = 0; cg->g && i < cg->n; i++) {
        if (cg->g[i].multi)
            curl_multi_cleanup(cg->g[i].multi);
        cg->g[i].multi = NULL;
    }
    if (cg->share)
        curl_share_cleanup(cg->share);
    cg->share = NULL;
}

void curlgroups_free(curlgroups *cg)
{
    free(cg->g);
    free(cg->by_fd);
    free(cg->kicks);
    cg->g = NULL;
    cg->by_fd = NULL;
    cg->kicks = NULL;
    cg->n_kicks = 0;
    cg->n = cg->fd_cap = 0;
}
