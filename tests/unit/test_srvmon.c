/* Tests for engine/srvmon: the server-metrics poller against the simulator, a closed port
 * and a server that never answers (stop must not wait for it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/util.h"
#include "engine/srvmon.h"
#include "sim/sim.h"

static void base_config(llm_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->connect_timeout_s = 2;
    cfg->url = "http://127.0.0.1:1/v1";
}

/* Polls until the state leaves STARTING, at most 5 s. */
static void wait_answer(srvmon *m, srvmon_reading *r)
{
    uint64_t deadline = llm_now_ns() + 5 * LLM_NS_PER_SEC;
    do {
        srvmon_read(m, r);
        if (r->state != SRVMON_STARTING)
            return;
        usleep(10 * 1000);
    } while (llm_now_ns() < deadline);
}

static void default_url_sits_next_to_the_api_base(void **state)
{
    (void)state;
    char url[256];
    srvmon_default_url("http://h:8000/v1", url, sizeof url);
    assert_string_equal(url, "http://h:8000/metrics");
    srvmon_default_url("https://h/v1/", url, sizeof url);
    assert_string_equal(url, "https://h/metrics");
    srvmon_default_url("http://h:8080/openai", url, sizeof url);
    assert_string_equal(url, "http://h:8080/openai/metrics");
}

static void reads_the_simulators_running_and_waiting(void **state)
{
    (void)state;
    sim_options o;
    sim_options_default(&o);
    o.quiet = true;
    o.port = 0;
    sim_server *sim = NULL;
    char err[256];
    assert_int_equal(sim_start(&o, &sim, err, sizeof err), 0);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", sim_port(sim));
    llm_config cfg;
    base_config(&cfg);
    srvmon *m = srvmon_start(&cfg, url, false);
    assert_non_null(m);
    srvmon_reading r;
    wait_answer(m, &r);
    assert_int_equal(r.state, SRVMON_OK);
    assert_string_equal(r.fig.engine, "llmload sim");
    assert_true(r.fig.running == 0 && r.fig.waiting == 0);
    assert_string_equal(r.note, "");
    srvmon_stop(m);
    sim_stop(sim);
}

static void a_closed_port_is_unavailable_with_a_sentence(void **state)
{
    (void)state;
    llm_config cfg;
    base_config(&cfg);
    cfg.api_key = "sk-srvmon-secret";
    srvmon *m = srvmon_start(&cfg, "http://127.0.0.1:1/metrics?k=sk-srvmon-secret", false);
    assert_non_null(m);
    srvmon_reading r;
    wait_answer(m, &r);
    assert_int_equal(r.state, SRVMON_UNAVAILABLE);
    assert_non_null(strstr(r.note, "cannot read http://127.0.0.1:1/metrics"));
    assert_null(strstr(r.note, "sk-srvmon-secret"));
    assert_null(strstr(r.url, "sk-srvmon-secret"));
    assert_true(isnan(r.fig.running));
    srvmon_stop(m);
}

/* A server that accepts the connection and never answers: stopping aborts the poll at once
 * instead of waiting out its 2 s timeout. */
static void stop_does_not_wait_for_a_silent_server(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 4), 0); /* the kernel completes the handshake; no one reads */
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", ntohs(a.sin_port));
    llm_config cfg;
    base_config(&cfg);
    srvmon *m = srvmon_start(&cfg, url, true);
    assert_non_null(m);
    usleep(300 * 1000); /* the poll is now waiting for an answer */
    srvmon_reading r;
    srvmon_read(m, &r);
    assert_int_equal(r.state, SRVMON_STARTING);
    uint64_t t0 = llm_now_ns();
    srvmon_stop(m);
    assert_true(llm_now_ns() - t0 < 500 * LLM_NS_PER_MS);
    close(fd);
}

/* A server that records the first request's head and answers 404. */
typedef struct {
    int fd, port;
    pthread_t thread;
    char head[4096];
} capture;

static void *capture_one(void *arg)
{
    capture *c = arg;
    int conn = accept(c->fd, NULL, NULL);
    if (conn < 0)
        return NULL;
    size_t n = 0;
    ssize_t got;
    while (n + 1 < sizeof c->head && !strstr(c->head, "\r\n\r\n") &&
           (got = read(conn, c->head + n, sizeof c->head - 1 - n)) > 0) {
        n += (size_t)got;
        c->head[n] = '\0';
    }
    static const char answer[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                                 "Connection: close\r\n\r\n";
    ssize_t w = write(conn, answer, sizeof answer - 1);
    (void)w;
    close(conn);
    return NULL;
}

static void capture_start(capture *c)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(c->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(c->fd, 4), 0);
    socklen_t len = sizeof a;
    getsockname(c->fd, (struct sockaddr *)&a, &len);
    c->port = ntohs(a.sin_port);
    pthread_create(&c->thread, NULL, capture_one, c);
}

/* The head of the one request srvmon sends to a capture server, for this config. */
static void metrics_request(llm_config *cfg, bool same_origin, char *head, size_t cap)
{
    capture c;
    capture_start(&c);
    char url[128], api[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", c.port);
    snprintf(api, sizeof api, "http://127.0.0.1:%d/v1", same_origin ? c.port : 1);
    cfg->url = api;
    srvmon *m = srvmon_start(cfg, url, false);
    assert_non_null(m);
    srvmon_reading r;
    wait_answer(m, &r);
    srvmon_stop(m);
    pthread_join(c.thread, NULL);
    close(c.fd);
    snprintf(head, cap, "%s", c.head);
    cfg->url = NULL;
}

/* --server-metrics on another origin gets no Authorization: the API key goes only to the
 * API's own scheme, host and port. */
static void the_api_key_goes_only_to_the_apis_own_origin(void **state)
{
    (void)state;
    llm_config cfg;
    base_config(&cfg);
    cfg.api_key = "sk-origin-test-0123456789";
    char head[4096];
    metrics_request(&cfg, false, head, sizeof head);
    assert_non_null(strstr(head, "GET /metrics"));
    assert_null(strstr(head, "Authorization"));
    assert_null(strstr(head, cfg.api_key));
    metrics_request(&cfg, true, head, sizeof head);
    assert_non_null(strstr(head, "Authorization: Bearer sk-origin-test-0123456789"));
    /* --header values (often a gateway's own credentials) stay with the API too */
    llm_header h = {.name = "X-Gateway-Key", .value = "gw-secret-42"};
    cfg.headers = &h;
    cfg.n_headers = 1;
    metrics_request(&cfg, false, head, sizeof head);
    assert_null(strstr(head, "gw-secret-42"));
    metrics_request(&cfg, true, head, sizeof head);
    assert_non_null(strstr(head, "X-Gateway-Key: gw-secret-42"));
    cfg.headers = NULL;
    cfg.n_headers = 0;
}

static void server_metrics_key_says_which_key_goes_elsewhere(void **state)
{
    (void)state;
    llm_config cfg;
    base_config(&cfg);
    cfg.api_key = "sk-origin-test-0123456789";
    char head[4096];
    cfg.server_metrics_key = "api";
    metrics_request(&cfg, false, head, sizeof head);
    assert_non_null(strstr(head, "Authorization: Bearer sk-origin-test-0123456789"));
    cfg.server_metrics_key = "metrics-only-key";
    metrics_request(&cfg, false, head, sizeof head);
    assert_non_null(strstr(head, "Authorization: Bearer metrics-only-key"));
    cfg.server_metrics_key = "none";
    metrics_request(&cfg, true, head, sizeof head);
    assert_null(strstr(head, "Authorization"));
    /* the --url's basic auth stays with the API too */
    cfg.server_metrics_key = NULL;
    cfg.url_user = "me";
    cfg.url_password = "pw";
    metrics_request(&cfg, false, head, sizeof head);
    assert_null(strstr(head, "Authorization"));
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_url_sits_next_to_the_api_base),
        cmocka_unit_test(reads_the_simulators_running_and_waiting),
        cmocka_unit_test(a_closed_port_is_unavailable_with_a_sentence),
        cmocka_unit_test(stop_does_not_wait_for_a_silent_server),
        cmocka_unit_test(the_api_key_goes_only_to_the_apis_own_origin),
        cmocka_unit_test(server_metrics_key_says_which_key_goes_elsewhere),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
