/* Tests for engine/curlgroups: how users are divided into curl multi handles (64 each; one
 * handle for HTTP/2 or no users), which handle a user's requests go through, that a
 * socket's readiness reaches the group whose transfer watches it, that a kicked transfer
 * starts at once (and a kick made meanwhile waits for the next round), and that the owner
 * decides which sockets are urgent. The engine test
 * users_in_several_curl_groups_keep_and_remake_their_connections runs it against a server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "engine/curlgroups.h"

typedef struct {
    uv_loop_t loop;
    sockwatch w;
    curlgroups cg;
    CURLM *done_multi[8];
    int n_done;
    bool kick_again;   /* on_done kicks group 0 once more (a request that ended at once) */
    CURL *urgent_easy; /* the transfer whose sockets on_urgent calls urgent */
    int urgent_asked;
} fixture;

static void on_done(void *user, CURLM *multi)
{
    fixture *f = user;
    if (f->n_done < 8)
        f->done_multi[f->n_done] = multi;
    f->n_done++;
    if (f->kick_again)
        curlgroups_kick(&f->cg, 0);
}

static bool on_urgent(void *user, CURL *easy, int fd)
{
    fixture *f = user;
    (void)fd;
    f->urgent_asked++;
    return easy == f->urgent_easy;
}

static fixture *open_groups(size_t n_slots, bool multiplex)
{
    static fixture f;
    char err[128] = "";
    memset(&f, 0, sizeof f);
    assert_int_equal(uv_loop_init(&f.loop), 0);
    assert_int_equal(sockwatch_init(&f.w, &f.loop, false, curlgroups_ready, &f.cg), 0);
    assert_int_equal(curlgroups_init(&f.cg, &f.loop, &f.w, n_slots, multiplex, 16, on_done,
                                     on_urgent, &f, err, sizeof err),
                     0);
    assert_string_equal(err, "");
    return &f;
}

static void close_loop_handle(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void close_groups(fixture *f)
{
    curlgroups_cleanup(&f->cg);
    sockwatch_close(&f->w);
    uv_walk(&f->loop, close_loop_handle, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    curlgroups_free(&f->cg);
}

static void users_are_divided_in_groups_of_64(void **state)
{
    (void)state;
    const struct {
        size_t slots;
        bool multiplex;
        size_t groups;
    } cases[] = {{0, false, 1},   {1, false, 1},       {64, false, 1}, {65, false, 2},
                 {150, false, 3}, {20000, false, 313}, {150, true, 1}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        fixture *f = open_groups(cases[k].slots, cases[k].multiplex);
        assert_int_equal(f->cg.n, cases[k].groups);
        for (size_t i = 0; i < f->cg.n; i++) {
            assert_non_null(f->cg.g[i].multi);
            for (size_t j = 0; j < i; j++)
                assert_ptr_not_equal(f->cg.g[i].multi, f->cg.g[j].multi);
        }
        close_groups(f);
    }
}

static void a_user_always_goes_through_its_own_group(void **state)
{
    (void)state;
    fixture *f = open_groups(150, false);
    size_t group_of[] = {0, 0, 1, 1, 2, 2}, slot_of[] = {0, 63, 64, 127, 128, 149};
    for (size_t k = 0; k < 6; k++) {
        CURL *easy = curl_easy_init();
        assert_non_null(easy);
        CURLM *m = NULL;
        assert_int_equal(curlgroups_attach(&f->cg, slot_of[k], easy, &m), 0);
        assert_ptr_equal(m, f->cg.g[group_of[k]].multi);
        curl_easy_cleanup(easy);
    }
    close_groups(f);
}

/* Two groups each watch a socket that curl names (as its socket callback would); the one
 * that becomes readable is acted on in its own group, and a number closed in one group and
 * reused in the other follows the new owner. */
static void readiness_reaches_the_group_that_watches_the_socket(void **state)
{
    (void)state;
    fixture *f = open_groups(128, false);
    int a[2], b[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
    /* The socket callback every group's multi handle has, called as curl would call it. */
    curl_socket_callback on_socket = curlgroups_on_socket;
    assert_int_equal(on_socket(NULL, a[0], CURL_POLL_IN, &f->cg.g[0], NULL), 0);
    assert_int_equal(on_socket(NULL, b[0], CURL_POLL_IN, &f->cg.g[1], NULL), 0);
    assert_int_equal(write(b[1], "x", 1), 1);
    for (int i = 0; i < 100 && f->n_done == 0; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT), usleep(1000);
    assert_int_equal(f->n_done, 1);
    assert_ptr_equal(f->done_multi[0], f->cg.g[1].multi);
    /* b[0]'s number now belongs to a socket of group 0 */
    assert_int_equal(on_socket(NULL, b[0], CURL_POLL_REMOVE, &f->cg.g[1], NULL), 0);
    sockwatch_forget(&f->w, b[0]);
    int fd = b[0];
    close(b[0]);
    int c[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, c), 0);
    if (c[0] != fd) { /* the kernel gives the lowest free number: fd, unless a test runs wild */
        assert_int_equal(dup2(c[0], fd), fd);
        close(c[0]);
        c[0] = fd;
    }
    assert_int_equal(on_socket(NULL, c[0], CURL_POLL_IN, &f->cg.g[0], NULL), 0);
    assert_int_equal(write(c[1], "y", 1), 1);
    f->n_done = 0;
    for (int i = 0; i < 100 && f->n_done == 0; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT), usleep(1000);
    assert_int_equal(f->n_done, 1);
    assert_ptr_equal(f->done_multi[0], f->cg.g[0].multi);
    on_socket(NULL, a[0], CURL_POLL_REMOVE, &f->cg.g[0], NULL);
    on_socket(NULL, c[0], CURL_POLL_REMOVE, &f->cg.g[0], NULL);
    close_groups(f);
    close(a[0]);
    close(a[1]);
    close(b[1]);
    close(c[0]);
    close(c[1]);
}

/* A listening socket on 127.0.0.1 (any free port), non-blocking, so accept() tells whether
 * a client has connected yet. */
static int listen_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static CURL *transfer_to(int port)
{
    CURL *easy = curl_easy_init();
    assert_non_null(easy);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    curl_easy_setopt(easy, CURLOPT_URL, url);
    return easy;
}

/* A transfer added to a group and kicked has connected when curlgroups_run_kicks returns,
 * with no turn of the loop; unkicked, it waits for curl's timer (the loop's next turn). */
static void a_kicked_transfer_starts_without_waiting_for_the_loop(void **state)
{
    (void)state;
    fixture *f = open_groups(128, false);
    int port, lfd = listen_loopback(&port);
    CURL *easy = transfer_to(port);
    CURLM *m = NULL;
    assert_int_equal(curlgroups_attach(&f->cg, 70, easy, &m), 0); /* group 1 */
    assert_int_equal(curl_multi_add_handle(m, easy), CURLM_OK);
    assert_int_equal(accept(lfd, NULL, NULL), -1); /* not yet: curl only armed its timer */
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    curlgroups_kick(&f->cg, 70);
    curlgroups_kick(&f->cg, 100); /* the same group: one kick */
    assert_int_equal(f->cg.n_kicks, 1);
    curlgroups_run_kicks(&f->cg);
    assert_int_equal(f->cg.n_kicks, 0);
    assert_int_equal(f->n_done, 1);
    assert_ptr_equal(f->done_multi[0], f->cg.g[1].multi);
    int conn = accept(lfd, NULL, NULL);
    assert_true(conn >= 0);
    curl_multi_remove_handle(m, easy);
    curl_easy_cleanup(easy);
    close(conn);
    close(lfd);
    close_groups(f);
}

/* done() starts another request at once (one that failed at once, restarted): that kick waits
 * for the next round, so a server that fails everything cannot hold the loop. */
static void a_kick_made_while_kicking_waits_for_the_next_round(void **state)
{
    (void)state;
    fixture *f = open_groups(64, false);
    f->kick_again = true;
    curlgroups_kick(&f->cg, 0);
    curlgroups_run_kicks(&f->cg);
    assert_int_equal(f->n_done, 1);
    assert_int_equal(f->cg.n_kicks, 1);
    assert_true(f->cg.g[0].kick_due);
    curlgroups_run_kicks(&f->cg);
    assert_int_equal(f->n_done, 2);
    f->kick_again = false;
    curlgroups_run_kicks(&f->cg);
    assert_int_equal(f->n_done, 3);
    assert_int_equal(f->cg.n_kicks, 0);
    assert_false(f->cg.g[0].kick_due);
    close_groups(f);
}

/* Each socket curl starts watching for a transfer is put in the urgent set if the owner says
 * so; one named without a transfer, or removed, is not asked about. */
static void the_owner_decides_which_sockets_are_urgent(void **state)
{
    (void)state;
    fixture *f = open_groups(64, false);
    CURL *first = curl_easy_init(), *other = curl_easy_init();
    assert_non_null(first);
    assert_non_null(other);
    f->urgent_easy = first;
    int a[2], b[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
    curl_socket_callback on_socket = curlgroups_on_socket;
    assert_int_equal(on_socket(first, a[0], CURL_POLL_IN, &f->cg.g[0], NULL), 0);
    assert_int_equal(on_socket(other, b[0], CURL_POLL_IN, &f->cg.g[0], NULL), 0);
    assert_int_equal(f->urgent_asked, 2);
    assert_int_equal(f->w.registered[a[0]], SOCKWATCH_IN | SOCKWATCH_IN_URGENT);
    assert_int_equal(f->w.registered[b[0]], SOCKWATCH_IN);
    assert_int_equal(on_socket(first, a[0], CURL_POLL_REMOVE, &f->cg.g[0], NULL), 0);
    assert_int_equal(on_socket(NULL, b[0], CURL_POLL_IN, &f->cg.g[0], NULL), 0);
    assert_int_equal(f->urgent_asked, 2);
    on_socket(other, b[0], CURL_POLL_REMOVE, &f->cg.g[0], NULL);
    assert_int_equal(f->w.n_urgent, 0);
    close_groups(f);
    curl_easy_cleanup(first);
    curl_easy_cleanup(other);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(users_are_divided_in_groups_of_64),
        cmocka_unit_test(a_user_always_goes_through_its_own_group),
        cmocka_unit_test(readiness_reaches_the_group_that_watches_the_socket),
        cmocka_unit_test(a_kicked_transfer_starts_without_waiting_for_the_loop),
        cmocka_unit_test(a_kick_made_while_kicking_waits_for_the_next_round),
        cmocka_unit_test(the_owner_decides_which_sockets_are_urgent),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
