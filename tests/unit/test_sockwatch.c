/* Tests for engine/sockwatch: readiness reaches the callback, parked sockets stay quiet and
 * cost no epoll_ctl when watched again, a descriptor number reused after forget() works,
 * for both the epoll backend and the one-uv_poll-per-socket backend; urgent sockets are read
 * before a crowd of others (epoll), and urgency is harmless where it is not kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "base/util.h"
#include "engine/sockwatch.h"

#define WAIT_NS (2 * LLM_NS_PER_SEC)
#define QUIET_NS (50 * LLM_NS_PER_MS)

typedef struct {
    uv_loop_t loop;
    sockwatch w;
    int calls, last_fd, last_events;
    int pair[2];
    int extra_fd, extra_events; /* a second watched descriptor, and what it reported */
} fixture;

static void on_ready(void *user, int fd, int events)
{
    fixture *f = user;
    f->calls++;
    f->last_fd = fd;
    f->last_events = events;
    if (fd == f->extra_fd)
        f->extra_events |= events;
}

static fixture *open_fixture(bool portable)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(sockwatch_init(&f->w, &f->loop, portable, on_ready, f), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, f->pair), 0);
    f->extra_fd = -1;
    return f;
}

static void close_fixture(fixture *f)
{
    sockwatch_forget(&f->w, f->pair[0]);
    close(f->pair[0]);
    close(f->pair[1]);
    sockwatch_close(&f->w);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
}

/* Runs the loop until the callback has been called `calls` times or `ns` pass. */
static void run_until(fixture *f, int calls, uint64_t ns)
{
    uint64_t end = llm_now_ns() + ns;
    while (f->calls < calls && llm_now_ns() < end)
        uv_run(&f->loop, UV_RUN_NOWAIT);
}

static void readable_socket_is_reported(bool portable)
{
    fixture *f = open_fixture(portable);
    assert_int_equal(sockwatch_set(&f->w, f->pair[0], SOCKWATCH_IN), 0);
    assert_int_equal(write(f->pair[1], "x", 1), 1);
    run_until(f, 1, WAIT_NS);
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->last_fd, f->pair[0]);
    assert_int_equal(f->last_events & SOCKWATCH_IN, SOCKWATCH_IN);
    assert_int_equal(f->last_events & SOCKWATCH_OUT, 0); /* not asked for */
    close_fixture(f);
}

static void writable_socket_is_reported(bool portable)
{
    fixture *f = open_fixture(portable);
    assert_int_equal(sockwatch_set(&f->w, f->pair[0], SOCKWATCH_OUT), 0);
    run_until(f, 1, WAIT_NS);
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->last_events & SOCKWATCH_OUT, SOCKWATCH_OUT);
    close_fixture(f);
}

/* A kept-alive connection between two transfers: curl stops watching, then watches again. */
static void park_and_watch_again_costs_no_epoll_ctl(bool portable)
{
    fixture *f = open_fixture(portable);
    assert_int_equal(sockwatch_track(&f->w, f->pair[0]), 0);
    assert_int_equal(sockwatch_set(&f->w, f->pair[0], SOCKWATCH_IN), 0);
    uint64_t ctl_after_first = f->w.ctl_calls;
    assert_int_equal(sockwatch_set(&f->w, f->pair[0], 0), 0);
    run_until(f, 1, QUIET_NS);
    assert_int_equal(sockwatch_set(&f->w, f->pair[0], SOCKWATCH_IN), 0);
    if (!portable) /* the point of the epoll backend */
        assert_int_equal(f->w.ctl_calls, ctl_after_first);
    assert_int_equal(write(f->pair[1], "x", 1), 1);
    run_until(f, 1, WAIT_NS);
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->last_fd, f->pair[0]);
    close_fixture(f);
}

static void parked_socket_is_quiet_until_watched_again(bool portable)
{
    fixture *f = open_fixture(portable);
    assert_int_equal(sockwatch_set(&f->w, f->pair[0], SOCKWATCH_IN), 0);
    assert_int_equal(sockwatch_set(&f->w, f->pair[0], 0), 0);
    assert_int_equal(write(f->pair[1], "x", 1), 1);
    run_until(f, 1, QUIET_NS);
    assert_int_equal(f->calls, 0);
    assert_int_equal(sockwatch_set(&f->w, f->pair[0], SOCKWATCH_IN), 0);
    run_until(f, 1, WAIT_NS);
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->last_fd, f->pair[0]);
    close_fixture(f);
}

/* An idle kept-alive connection the server closes: reported once at most, then out of the
 * set, and never to the callback (nobody asked). */
static void parked_socket_that_hangs_up_is_dropped(bool portable)
{
    fixture *f = open_fixture(portable);
    assert_int_equal(sockwatch_track(&f->w, f->pair[0]), 0);
    assert_int_equal(sockwatch_set(&f->w, f->pair[0], SOCKWATCH_IN), 0);
    assert_int_equal(sockwatch_set(&f->w, f->pair[0], 0), 0);
    close(f->pair[1]);
    f->pair[1] = -1;
    run_until(f, 1, QUIET_NS);
    assert_int_equal(f->calls, 0);
    if (!portable)
        assert_int_equal(f->w.registered[f->pair[0]], 0);
    /* Watched again later, the hang-up is seen. */
    assert_int_equal(sockwatch_set(&f->w, f->pair[0], SOCKWATCH_IN), 0);
    run_until(f, 1, WAIT_NS);
    assert_int_equal(f->calls, 1);
    assert_true(f->last_events & SOCKWATCH_IN);
    close_fixture(f);
}

/* A socket whose closing will not be reported (curl's resolver's) leaves the set as soon as
 * nobody watches it, so a later socket with its number is never mistaken for it. */
static void untracked_socket_leaves_the_set_when_unwatched(bool portable)
{
    fixture *f = open_fixture(portable);
    int fd = f->pair[0];
    assert_int_equal(sockwatch_set(&f->w, fd, SOCKWATCH_IN), 0);
    assert_int_equal(sockwatch_set(&f->w, fd, 0), 0);
    if (!portable)
        assert_int_equal(f->w.registered[fd], 0);
    /* Closed without forget(); the next socket gets the number and wants what it had. */
    close(f->pair[0]);
    close(f->pair[1]);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, f->pair), 0);
    assert_int_equal(f->pair[0], fd);
    assert_int_equal(sockwatch_set(&f->w, fd, SOCKWATCH_IN), 0);
    assert_int_equal(write(f->pair[1], "w", 1), 1);
    run_until(f, 1, WAIT_NS);
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->last_fd, fd);
    close_fixture(f);
}

/* A parked socket closed without forget(): when a new socket with its number is tracked,
 * the stale entry goes, so watching the new one is not mistaken for "already in the set". */
static void tracking_a_new_socket_drops_a_stale_entry(bool portable)
{
    fixture *f = open_fixture(portable);
    int fd = f->pair[0];
    assert_int_equal(sockwatch_track(&f->w, fd), 0);
    assert_int_equal(sockwatch_set(&f->w, fd, SOCKWATCH_IN), 0);
    assert_int_equal(sockwatch_set(&f->w, fd, 0), 0); /* parked, still in the set */
    close(f->pair[0]);
    close(f->pair[1]);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, f->pair), 0);
    assert_int_equal(f->pair[0], fd);
    assert_int_equal(sockwatch_track(&f->w, fd), 0);
    assert_int_equal(sockwatch_set(&f->w, fd, SOCKWATCH_IN), 0);
    assert_int_equal(write(f->pair[1], "t", 1), 1);
    run_until(f, 1, WAIT_NS);
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->last_fd, fd);
    close_fixture(f);
}

/* curl closes a socket (forget first) and the next socket gets the same number. */
static void reused_number_after_forget_is_watched_afresh(bool portable)
{
    fixture *f = open_fixture(portable);
    int old_fd = f->pair[0];
    assert_int_equal(sockwatch_set(&f->w, old_fd, SOCKWATCH_IN), 0);
    sockwatch_forget(&f->w, old_fd);
    close(f->pair[0]);
    close(f->pair[1]);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, f->pair), 0);
    assert_int_equal(f->pair[0], old_fd); /* the lowest free number comes back */
    assert_int_equal(sockwatch_set(&f->w, f->pair[0], SOCKWATCH_IN), 0);
    assert_int_equal(write(f->pair[1], "y", 1), 1);
    run_until(f, 1, WAIT_NS);
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->last_fd, old_fd);
    close_fixture(f);
}

/* A high descriptor number grows the tables without losing what they hold. */
static void high_descriptor_numbers_grow_the_tables(bool portable)
{
    fixture *f = open_fixture(portable);
    assert_int_equal(sockwatch_set(&f->w, f->pair[0], SOCKWATCH_IN), 0);
    int high = dup2(f->pair[1], 3000);
    if (high < 0) { /* the file limit is below 3001 here; nothing to test */
        close_fixture(f);
        return;
    }
    f->extra_fd = high;
    assert_int_equal(sockwatch_set(&f->w, high, SOCKWATCH_OUT), 0);
    assert_true(f->w.cap > 3000);
    run_until(f, 1, WAIT_NS);
    assert_int_equal(f->extra_events, SOCKWATCH_OUT);
    /* The socket set before the tables grew is still watched. */
    assert_int_equal(sockwatch_set(&f->w, high, 0), 0);
    f->calls = 0;
    assert_int_equal(write(f->pair[1], "z", 1), 1);
    run_until(f, 1, WAIT_NS);
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->last_fd, f->pair[0]);
    sockwatch_forget(&f->w, high);
    close(high);
    close_fixture(f);
}

/* ---- urgent sockets ---- */

#define CROWD 100

typedef struct {
    fixture *f;
    int crowd[CROWD][2];
    int urgent[2];
    int order[CROWD + 1]; /* descriptors in the order of their first report */
    int n_order;
    int trigger_after; /* make the urgent socket readable at this many reports (-1: never) */
} crowd;

static void on_crowd_ready(void *user, int fd, int events)
{
    crowd *c = user;
    (void)events;
    char buf[16];
    if (read(fd, buf, sizeof buf) <= 0) /* consumed: reported once */
        return;
    if (c->n_order <= CROWD)
        c->order[c->n_order++] = fd;
    if (c->n_order == c->trigger_after)
        assert_int_equal(write(c->urgent[1], "u", 1), 1);
}

/* CROWD ordinary sockets, all readable, and one urgent socket. */
static crowd *open_crowd(bool portable, int trigger_after, bool urgent_readable)
{
    crowd *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->f = calloc(1, sizeof *c->f);
    assert_non_null(c->f);
    assert_int_equal(uv_loop_init(&c->f->loop), 0);
    assert_int_equal(sockwatch_init(&c->f->w, &c->f->loop, portable, on_crowd_ready, c), 0);
    c->trigger_after = trigger_after;
    for (int i = 0; i < CROWD; i++) {
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, c->crowd[i]), 0);
        assert_int_equal(sockwatch_set(&c->f->w, c->crowd[i][0], SOCKWATCH_IN), 0);
        assert_int_equal(write(c->crowd[i][1], "c", 1), 1);
    }
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, c->urgent), 0);
    assert_int_equal(sockwatch_urgent(&c->f->w, c->urgent[0], true), 0);
    assert_int_equal(sockwatch_set(&c->f->w, c->urgent[0], SOCKWATCH_IN), 0);
    if (urgent_readable) /* last: epoll's ready list has the whole crowd before it */
        assert_int_equal(write(c->urgent[1], "u", 1), 1);
    return c;
}

static int position_of_urgent(const crowd *c)
{
    for (int i = 0; i < c->n_order; i++)
        if (c->order[i] == c->urgent[0])
            return i;
    return -1;
}

static void close_crowd(crowd *c)
{
    for (int i = 0; i < CROWD; i++) {
        sockwatch_forget(&c->f->w, c->crowd[i][0]);
        close(c->crowd[i][0]);
        close(c->crowd[i][1]);
    }
    sockwatch_forget(&c->f->w, c->urgent[0]);
    close(c->urgent[0]);
    close(c->urgent[1]);
    sockwatch_close(&c->f->w);
    uv_run(&c->f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&c->f->loop), 0);
    free(c->f);
    free(c);
}

static void run_crowd(crowd *c)
{
    uint64_t end = llm_now_ns() + WAIT_NS;
    while (c->n_order < CROWD + 1 && llm_now_ns() < end)
        uv_run(&c->f->loop, UV_RUN_NOWAIT);
    assert_int_equal(c->n_order, CROWD + 1);
}

/* The urgent socket became readable after a hundred others: it is read first. */
static void urgent_socket_is_read_before_a_crowd(void **state)
{
    (void)state;
    crowd *c = open_crowd(false, -1, true);
    assert_int_equal(c->f->w.n_urgent, 1);
    run_crowd(c);
    assert_int_equal(position_of_urgent(c), 0);
    close_crowd(c);
}

/* It becomes readable while the crowd is being read: it waits for one chunk, not for the
 * rest of the crowd. */
static void urgent_socket_ready_mid_crowd_waits_one_chunk_at_most(void **state)
{
    (void)state;
    crowd *c = open_crowd(false, 5, false);
    run_crowd(c);
    int pos = position_of_urgent(c);
    assert_true(pos >= 5);
    assert_true(pos <= SOCKWATCH_CHUNK);
    close_crowd(c);
}

/* The uv_poll backend keeps no urgency: the call is accepted and every socket is read. */
static void urgency_is_ignored_by_the_uv_poll_backend(void **state)
{
    (void)state;
    crowd *c = open_crowd(true, -1, true);
    assert_int_equal(c->f->w.n_urgent, 0);
    run_crowd(c);
    assert_true(position_of_urgent(c) >= 0);
    close_crowd(c);
}

/* A watched socket moves to the urgent set and back; it is reported in either. */
static void urgency_moves_a_watched_socket_and_back(void **state)
{
    (void)state;
    fixture *f = open_fixture(false);
    int fd = f->pair[0];
    assert_int_equal(sockwatch_set(&f->w, fd, SOCKWATCH_IN), 0);
    assert_int_equal(sockwatch_urgent(&f->w, fd, true), 0);
    assert_int_equal(f->w.registered[fd], SOCKWATCH_IN | SOCKWATCH_IN_URGENT);
    assert_int_equal(f->w.n_urgent, 1);
    assert_int_equal(write(f->pair[1], "a", 1), 1);
    run_until(f, 1, WAIT_NS);
    assert_int_equal(f->calls, 1);
    char ch;
    assert_int_equal(read(fd, &ch, 1), 1);
    uint64_t ctl = f->w.ctl_calls;
    assert_int_equal(sockwatch_urgent(&f->w, fd, true), 0); /* already there: no call */
    assert_int_equal(f->w.ctl_calls, ctl);
    assert_int_equal(sockwatch_urgent(&f->w, fd, false), 0);
    assert_int_equal(f->w.registered[fd], SOCKWATCH_IN);
    assert_int_equal(f->w.n_urgent, 0);
    assert_int_equal(write(f->pair[1], "b", 1), 1);
    run_until(f, 2, WAIT_NS);
    assert_int_equal(f->calls, 2);
    assert_int_equal(f->last_fd, fd);
    close_fixture(f);
}

/* Urgency given to a parked socket costs nothing until it is watched again, and then it is
 * registered in the urgent set directly. */
static void a_parked_socket_moves_when_watched_again(void **state)
{
    (void)state;
    fixture *f = open_fixture(false);
    int fd = f->pair[0];
    assert_int_equal(sockwatch_track(&f->w, fd), 0);
    assert_int_equal(sockwatch_set(&f->w, fd, SOCKWATCH_IN), 0);
    assert_int_equal(sockwatch_set(&f->w, fd, 0), 0);
    uint64_t ctl = f->w.ctl_calls;
    assert_int_equal(sockwatch_urgent(&f->w, fd, true), 0);
    assert_int_equal(f->w.ctl_calls, ctl);
    assert_int_equal(f->w.registered[fd], SOCKWATCH_IN); /* still in the ordinary set */
    assert_int_equal(sockwatch_set(&f->w, fd, SOCKWATCH_IN), 0);
    assert_int_equal(f->w.registered[fd], SOCKWATCH_IN | SOCKWATCH_IN_URGENT);
    assert_int_equal(f->w.n_urgent, 1);
    assert_int_equal(write(f->pair[1], "p", 1), 1);
    run_until(f, 1, WAIT_NS);
    assert_int_equal(f->calls, 1);
    close_fixture(f);
}

/* A parked urgent socket whose peer hangs up leaves the set; forget() clears urgency, so a
 * new socket with the number is ordinary. */
static void urgency_ends_with_the_socket(void **state)
{
    (void)state;
    fixture *f = open_fixture(false);
    int fd = f->pair[0];
    assert_int_equal(sockwatch_track(&f->w, fd), 0);
    assert_int_equal(sockwatch_urgent(&f->w, fd, true), 0);
    assert_int_equal(sockwatch_set(&f->w, fd, SOCKWATCH_IN), 0);
    assert_int_equal(sockwatch_set(&f->w, fd, 0), 0);
    close(f->pair[1]);
    f->pair[1] = -1;
    run_until(f, 1, QUIET_NS);
    assert_int_equal(f->calls, 0);
    assert_int_equal(f->w.registered[fd], 0);
    assert_int_equal(f->w.n_urgent, 0);
    sockwatch_forget(&f->w, fd);
    close(fd);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, f->pair), 0);
    assert_int_equal(f->pair[0], fd);
    assert_int_equal(sockwatch_set(&f->w, fd, SOCKWATCH_IN), 0);
    assert_int_equal(f->w.registered[fd], SOCKWATCH_IN);
    assert_int_equal(f->w.n_urgent, 0);
    close_fixture(f);
}

#define BOTH(name)                                                                                 \
    static void name##_epoll(void **state)                                                         \
    {                                                                                              \
        (void)state;                                                                               \
        name(false);                                                                               \
    }                                                                                              \
    static void name##_uv_poll(void **state)                                                       \
    {                                                                                              \
        (void)state;                                                                               \
        name(true);                                                                                \
    }

BOTH(readable_socket_is_reported)
BOTH(writable_socket_is_reported)
BOTH(park_and_watch_again_costs_no_epoll_ctl)
BOTH(parked_socket_is_quiet_until_watched_again)
BOTH(parked_socket_that_hangs_up_is_dropped)
BOTH(reused_number_after_forget_is_watched_afresh)
BOTH(untracked_socket_leaves_the_set_when_unwatched)
BOTH(tracking_a_new_socket_drops_a_stale_entry)
BOTH(high_descriptor_numbers_grow_the_tables)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(readable_socket_is_reported_epoll),
        cmocka_unit_test(readable_socket_is_reported_uv_poll),
        cmocka_unit_test(writable_socket_is_reported_epoll),
        cmocka_unit_test(writable_socket_is_reported_uv_poll),
        cmocka_unit_test(park_and_watch_again_costs_no_epoll_ctl_epoll),
        cmocka_unit_test(park_and_watch_again_costs_no_epoll_ctl_uv_poll),
        cmocka_unit_test(parked_socket_is_quiet_until_watched_again_epoll),
        cmocka_unit_test(parked_socket_is_quiet_until_watched_again_uv_poll),
        cmocka_unit_test(parked_socket_that_hangs_up_is_dropped_epoll),
        cmocka_unit_test(parked_socket_that_hangs_up_is_dropped_uv_poll),
        cmocka_unit_test(untracked_socket_leaves_the_set_when_unwatched_epoll),
        cmocka_unit_test(untracked_socket_leaves_the_set_when_unwatched_uv_poll),
        cmocka_unit_test(tracking_a_new_socket_drops_a_stale_entry_epoll),
        cmocka_unit_test(tracking_a_new_socket_drops_a_stale_entry_uv_poll),
        cmocka_unit_test(reused_number_after_forget_is_watched_afresh_epoll),
        cmocka_unit_test(reused_number_after_forget_is_watched_afresh_uv_poll),
        cmocka_unit_test(high_descriptor_numbers_grow_the_tables_epoll),
        cmocka_unit_test(high_descriptor_numbers_grow_the_tables_uv_poll),
        cmocka_unit_test(urgent_socket_is_read_before_a_crowd),
        cmocka_unit_test(urgent_socket_ready_mid_crowd_waits_one_chunk_at_most),
        cmocka_unit_test(urgency_is_ignored_by_the_uv_poll_backend),
        cmocka_unit_test(urgency_moves_a_watched_socket_and_back),
        cmocka_unit_test(a_parked_socket_moves_when_watched_again),
        cmocka_unit_test(urgency_ends_with_the_socket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
