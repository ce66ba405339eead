/* Tests for engine/sockwatch: readiness reaches the callback, parked sockets stay quiet and
 * cost no epoll_ctl when watched again, a descriptor number reused after forget() works,
 * for both the epoll backend and the one-uv_poll-per-socket backend. */
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
