/* Tests for engine/curlgroups: how users are divided into curl multi handles (64 each; one
 * handle for HTTP/2 or no users), which handle a user's requests go through, and that a
 * socket's readiness reaches the group whose transfer watches it. The engine test
 * users_in_several_curl_groups_keep_and_remake_their_connections runs it against a server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
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
} fixture;

static void on_done(void *user, CURLM *multi)
{
    fixture *f = user;
    if (f->n_done < 8)
        f->done_multi[f->n_done] = multi;
    f->n_done++;
}

static fixture *open_groups(size_t n_slots, bool multiplex)
{
    static fixture f;
    char err[128] = "";
    memset(&f, 0, sizeof f);
    assert_int_equal(uv_loop_init(&f.loop), 0);
    assert_int_equal(sockwatch_init(&f.w, &f.loop, false, curlgroups_ready, &f.cg), 0);
    assert_int_equal(
        curlgroups_init(&f.cg, &f.loop, &f.w, n_slots, multiplex, 16, on_done, &f, err, sizeof err),
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(users_are_divided_in_groups_of_64),
        cmocka_unit_test(a_user_always_goes_through_its_own_group),
        cmocka_unit_test(readiness_reaches_the_group_that_watches_the_socket),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
