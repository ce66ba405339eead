#include "engine/sockwatch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/epoll.h>
#define SOCKWATCH_HAVE_EPOLL 1
#define EPOLL_BATCH 512
#endif

static int grow(sockwatch *w, int fd)
{
    if (fd < 0)
        return -1;
    if ((size_t)fd < w->cap)
        return 0;
    size_t cap = w->cap ? w->cap : 1024;
    while (cap <= (size_t)fd)
        cap *= 2;
    uint8_t *want = realloc(w->want, cap);
    if (want)
        w->want = want;
    uint8_t *reg = realloc(w->registered, cap);
    if (reg)
        w->registered = reg;
    uint8_t *tracked = realloc(w->tracked, cap);
    if (tracked)
        w->tracked = tracked;
    uint8_t *urgent = realloc(w->urgent, cap);
    if (urgent)
        w->urgent = urgent;
    uv_poll_t **polls = realloc(w->polls, cap * sizeof *polls);
    if (polls)
        w->polls = polls;
    if (!want || !reg || !tracked || !urgent || !polls)
        return -1;
    memset(w->want + w->cap, 0, cap - w->cap);
    memset(w->registered + w->cap, 0, cap - w->cap);
    memset(w->tracked + w->cap, 0, cap - w->cap);
    memset(w->urgent + w->cap, 0, cap - w->cap);
    memset(w->polls + w->cap, 0, (cap - w->cap) * sizeof *polls);
    w->cap = cap;
    return 0;
}

/* ---- epoll backend ---- */

#ifdef SOCKWATCH_HAVE_EPOLL
static uint32_t epoll_mask(int events)
{
    return ((events & SOCKWATCH_IN) ? EPOLLIN : 0) | ((events & SOCKWATCH_OUT) ? EPOLLOUT : 0);
}

static int ep_ctl(sockwatch *w, int epfd, int op, int fd, int events)
{
    struct epoll_event ev = {.events = epoll_mask(events), .data.fd = fd};
    w->ctl_calls++;
    return epoll_ctl(epfd, op, fd, &ev);
}

/* Out of whichever set holds it. */
static void ep_remove(sockwatch *w, int fd)
{
    uint8_t reg = w->registered[fd];
    if (reg) {
        ep_ctl(w, (reg & SOCKWATCH_IN_URGENT) ? w->epfd_urgent : w->epfd, EPOLL_CTL_DEL, fd, 0);
        if (reg & SOCKWATCH_IN_URGENT)
            w->n_urgent--;
    }
    w->registered[fd] = 0;
}

/* Puts fd in one set with events: MOD if the bookkeeping says it is there, else ADD, and the
 * other operation when the kernel disagrees (a number reused behind our back). */
static int ep_put(sockwatch *w, int epfd, bool there, int fd, int events)
{
    int op = there ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (ep_ctl(w, epfd, op, fd, events) == 0)
        return 0;
    if (op == EPOLL_CTL_MOD && errno == ENOENT)
        op = EPOLL_CTL_ADD;
    else if (op == EPOLL_CTL_ADD && errno == EEXIST)
        op = EPOLL_CTL_MOD;
    else
        return -1;
    return ep_ctl(w, epfd, op, fd, events);
}

static int ep_set(sockwatch *w, int fd, int events)
{
    w->want[fd] = (uint8_t)events;
    if (events == 0 && !w->tracked[fd]) {
        /* Its closing would go unseen and the entry would outlive it: out now. */
        ep_remove(w, fd);
        return 0;
    }
    /* Parked: left in its set until it reports something (see ep_dispatch). */
    if (events == 0)
        return 0;
    uint8_t where = w->urgent[fd] ? SOCKWATCH_IN_URGENT : 0;
    uint8_t reg = w->registered[fd];
    if (reg && (reg & SOCKWATCH_IN_URGENT) != where) {
        /* In the other set: added to the new one before it leaves the old, so it is never in
         * neither. If the new set refuses it (out of memory, the kernel's max_user_watches),
         * it stays watched where it was: read late rather than not at all. */
        int from = where ? w->epfd : w->epfd_urgent, to = where ? w->epfd_urgent : w->epfd;
        if (ep_put(w, to, false, fd, events) != 0) {
            if (ep_put(w, from, true, fd, events) != 0)
                return -1;
            w->registered[fd] = (uint8_t)(events | (reg & SOCKWATCH_IN_URGENT));
            return 0;
        }
        ep_ctl(w, from, EPOLL_CTL_DEL, fd, 0);
        if (where)
            w->n_urgent++;
        else
            w->n_urgent--;
        w->registered[fd] = (uint8_t)(events | where);
        return 0;
    }
    if (reg == (events | where))
        return 0;
    if (ep_put(w, where ? w->epfd_urgent : w->epfd, reg != 0, fd, events) != 0)
        return -1;
    if (where && !reg)
        w->n_urgent++;
    w->registered[fd] = (uint8_t)(events | where);
    return 0;
}

/* One epoll_wait of at most max events on epfd, each passed on; how many there were. */
static int ep_dispatch(sockwatch *w, int epfd, int max)
{
    struct epoll_event evs[EPOLL_BATCH];
    int n = epoll_wait(epfd, evs, max < EPOLL_BATCH ? max : EPOLL_BATCH, 0);
    for (int i = 0; i < n; i++) {
        int fd = evs[i].data.fd;
        uint32_t got = evs[i].events;
        /* Re-read the arrays every time: the callback may grow them. */
        int want = (size_t)fd < w->cap ? w->want[fd] : 0;
        if (want == 0) {
            /* A parked socket spoke (the server closed an idle connection): take it out
             * now, or level-triggered epoll would report it forever. */
            if ((size_t)fd < w->cap)
                ep_remove(w, fd);
            continue;
        }
        int flags = 0;
        if (got & (EPOLLIN | EPOLLRDHUP))
            flags |= SOCKWATCH_IN;
        if (got & EPOLLOUT)
            flags |= SOCKWATCH_OUT;
        if (got & (EPOLLERR | EPOLLHUP))
            flags |= SOCKWATCH_ERR | SOCKWATCH_IN | SOCKWATCH_OUT;
        flags &= want | SOCKWATCH_ERR;
        if (flags)
            w->cb(w->user, fd, flags);
    }
    return n < 0 ? 0 : n;
}

/* The urgent set alone is ready. */
static void on_urgent_ready(uv_poll_t *h, int status, int uv_events)
{
    (void)status;
    (void)uv_events;
    sockwatch *w = h->data;
    ep_dispatch(w, w->epfd_urgent, EPOLL_BATCH);
}

/* The ordinary set is ready: the urgent one first, then the others a chunk at a time with
 * the urgent set looked at again after each; at most EPOLL_BATCH ordinary sockets per turn
 * of the loop, so its timers and commands still run under a flood. */
static void on_epoll_ready(uv_poll_t *h, int status, int uv_events)
{
    (void)status;
    (void)uv_events;
    sockwatch *w = h->data;
    if (w->n_urgent)
        ep_dispatch(w, w->epfd_urgent, EPOLL_BATCH);
    for (int done = 0; done < EPOLL_BATCH && w->use_epoll;) {
        int n = ep_dispatch(w, w->epfd, SOCKWATCH_CHUNK);
        done += n;
        if (n < SOCKWATCH_CHUNK)
            break;
        if (w->n_urgent)
            ep_dispatch(w, w->epfd_urgent, EPOLL_BATCH);
    }
}
#endif

/* ---- uv_poll backend ---- */

static void on_uv_poll(uv_poll_t *h, int status, int uv_events)
{
    sockwatch *w = h->data;
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)h, &fd) != 0)
        return;
    int flags = status < 0 ? SOCKWATCH_ERR : 0;
    if (uv_events & UV_READABLE)
        flags |= SOCKWATCH_IN;
    if (uv_events & UV_WRITABLE)
        flags |= SOCKWATCH_OUT;
    w->cb(w->user, fd, flags);
}

static void free_poll(uv_handle_t *h)
{
    free(h);
}

static int uvp_set(sockwatch *w, int fd, int events)
{
    uv_poll_t *p = w->polls[fd];
    w->want[fd] = (uint8_t)events;
    if (events == 0) {
        if (p) {
            w->ctl_calls++;
            uv_poll_stop(p);
        }
        return 0;
    }
    if (!p) {
        p = malloc(sizeof *p);
        if (!p || uv_poll_init_socket(w->loop, p, fd) != 0) {
            free(p);
            return -1;
        }
        p->data = w;
        w->polls[fd] = p;
    }
    w->ctl_calls++;
    return uv_poll_start(p,
                         ((events & SOCKWATCH_IN) ? UV_READABLE : 0) |
                             ((events & SOCKWATCH_OUT) ? UV_WRITABLE : 0),
                         on_uv_poll) == 0
               ? 0
               : -1;
}

/* ---- common ---- */

#ifdef SOCKWATCH_HAVE_EPOLL
/* A private epoll set whose readiness the loop reports to cb. */
static int ep_open(sockwatch *w, int *epfd, uv_poll_t *poll, uv_poll_cb cb)
{
    *epfd = epoll_create1(EPOLL_CLOEXEC);
    if (*epfd < 0)
        return -1;
    if (uv_poll_init(w->loop, poll, *epfd) != 0) {
        close(*epfd);
        *epfd = -1;
        return -1;
    }
    poll->data = w;
    if (uv_poll_start(poll, UV_READABLE, cb) != 0) {
        uv_close((uv_handle_t *)poll, NULL);
        close(*epfd);
        *epfd = -1;
        return -1;
    }
    return 0;
}
#endif

int sockwatch_init(sockwatch *w, uv_loop_t *loop, bool portable, sockwatch_cb cb, void *user)
{
    memset(w, 0, sizeof *w);
    w->loop = loop;
    w->cb = cb;
    w->user = user;
    w->epfd = w->epfd_urgent = -1;
#ifdef SOCKWATCH_HAVE_EPOLL
    if (!portable) {
        if (ep_open(w, &w->epfd, &w->ep_poll, on_epoll_ready) != 0)
            return -1;
        if (ep_open(w, &w->epfd_urgent, &w->ep_poll_urgent, on_urgent_ready) != 0) {
            uv_close((uv_handle_t *)&w->ep_poll, NULL);
            close(w->epfd);
            w->epfd = -1;
            return -1;
        }
        w->use_epoll = true;
    }
#else
    (void)portable;
#endif
    return 0;
}

int sockwatch_track(sockwatch *w, int fd)
{
    if (grow(w, fd) != 0)
        return -1;
    /* A socket just opened: whatever the tables hold for its number belongs to one that
     * was closed without a word, and goes. */
    if (w->registered[fd] || w->want[fd] || w->polls[fd])
        sockwatch_forget(w, fd);
    w->tracked[fd] = 1;
    return 0;
}

int sockwatch_set(sockwatch *w, int fd, int events)
{
    if (grow(w, fd) != 0)
        return -1;
#ifdef SOCKWATCH_HAVE_EPOLL
    if (w->use_epoll)
        return ep_set(w, fd, events);
#endif
    return uvp_set(w, fd, events);
}

int sockwatch_urgent(sockwatch *w, int fd, bool on)
{
#ifdef SOCKWATCH_HAVE_EPOLL
    if (!w->use_epoll)
        return 0;
    if (grow(w, fd) != 0)
        return -1;
    w->urgent[fd] = on;
    uint8_t reg = w->registered[fd];
    /* Parked or unwatched, it moves when it is watched again (ep_set). */
    if (!w->want[fd] || !reg || !(reg & SOCKWATCH_IN_URGENT) == !on)
        return 0;
    return ep_set(w, fd, w->want[fd]);
#else
    (void)w;
    (void)fd;
    (void)on;
    return 0;
#endif
}

void sockwatch_forget(sockwatch *w, int fd)
{
    if (fd < 0 || (size_t)fd >= w->cap)
        return;
    w->want[fd] = 0;
#ifdef SOCKWATCH_HAVE_EPOLL
    if (w->use_epoll)
        ep_remove(w, fd);
#endif
    w->registered[fd] = 0;
    w->tracked[fd] = 0;
    w->urgent[fd] = 0;
    if (w->polls[fd]) {
        uv_close((uv_handle_t *)w->polls[fd], free_poll);
        w->polls[fd] = NULL;
    }
}

void sockwatch_close(sockwatch *w)
{
    for (size_t fd = 0; fd < w->cap; fd++)
        if (w->polls[fd] && !uv_is_closing((uv_handle_t *)w->polls[fd]))
            uv_close((uv_handle_t *)w->polls[fd], free_poll);
    if (w->use_epoll) {
        /* uv_close takes the descriptor out of the loop at once, so it may close now. */
        uv_close((uv_handle_t *)&w->ep_poll, NULL);
        uv_close((uv_handle_t *)&w->ep_poll_urgent, NULL);
        close(w->epfd);
        close(w->epfd_urgent);
        w->epfd = w->epfd_urgent = -1;
        w->use_epoll = false;
    }
    free(w->want);
    free(w->registered);
    free(w->tracked);
    free(w->urgent);
    free(w->polls);
    w->want = w->registered = w->tracked = w->urgent = NULL;
    w->n_urgent = 0;
    w->polls = NULL;
    w->cap = 0;
}
