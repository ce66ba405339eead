/* Tests for run/listen: the Prometheus text of the figures (exact counters, cumulative
 * buckets on core/hist's edges), the control endpoint's token rules (403 without a token
 * configured, 401 without the right one, 202 and a queued command with it), and commands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "run/listen.h"

#define TOKEN "tok-0123456789abcdefXYZ"

/* One HTTP/1.1 request to 127.0.0.1:port; the status, and the body into out. */
static int http(int port, const char *method, const char *path, const char *auth, char *out,
                size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    char req[512];
    int n =
        snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: x\r\n%s%s%sContent-Length: 0\r\n\r\n",
                 method, path, auth ? "Authorization: " : "", auth ? auth : "", auth ? "\r\n" : "");
    if (send(fd, req, (size_t)n, 0) != n) {
        close(fd);
        return -1;
    }
    static char buf[1 << 16];
    size_t len = 0;
    for (;;) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, 3000) <= 0)
            break;
        ssize_t r = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    buf[len] = '\0';
    int status = -1;
    sscanf(buf, "HTTP/1.1 %d", &status);
    const char *body = strstr(buf, "\r\n\r\n");
    snprintf(out, cap, "%s", body ? body + 4 : "");
    return status;
}

static void figures_fill(listen_figures *f)
{
    memset(f, 0, sizeof *f);
    f->ok = 42;
    f->errors[ERR_HTTP_429] = 3;
    f->output_tokens = 4200;
    f->target = 8;
    f->inflight = 7;
    f->step = 1;
    f->n_steps = 3;
    f->state = ENGINE_PAUSED;
    f->shard_index = 2;
    f->shard_count = 4;
    hist_init(&f->ttft);
    hist_init(&f->e2e);
    hist_init(&f->itl);
    hist_record(&f->ttft, 150000); /* 150 ms */
    hist_record(&f->ttft, 150000);
    hist_record(&f->ttft, 900000); /* 900 ms */
}

/* The value of a sample line "series value" (not the HELP line that names it too). */
static long long sample(const char *text, const char *series)
{
    char line[256];
    snprintf(line, sizeof line, "\n%s", series);
    const char *p = strstr(text, line);
    if (!p)
        return -1;
    return strtoll(p + strlen(line), NULL, 10);
}

static void metrics_text_has_the_counters_and_cumulative_buckets(void **state)
{
    (void)state;
    listen_figures *f = calloc(1, sizeof *f);
    figures_fill(f);
    char *t = listen_render(f);
    assert_non_null(t);
    assert_int_equal(sample(t, "llmload_requests_total{class=\"ok\"} "), 42);
    assert_int_equal(sample(t, "llmload_requests_total{class=\"http_429\"} "), 3);
    assert_int_equal(sample(t, "llmload_output_tokens_total "), 4200);
    assert_int_equal(sample(t, "llmload_inflight "), 7);
    assert_int_equal(sample(t, "llmload_target "), 8);
    assert_int_equal(sample(t, "llmload_step "), 2);
    assert_int_equal(sample(t, "llmload_state{state=\"paused\"} "), 1);
    assert_int_equal(sample(t, "llmload_state{state=\"running\"} "), 0);
    assert_non_null(strstr(t, "shard=\"2\",shards=\"4\""));
    assert_non_null(strstr(t, "# TYPE llmload_ttft_seconds histogram"));
    /* 131072 µs (2^17) and 163840 µs are edges: the two 150 ms values lie between them */
    assert_int_equal(sample(t, "llmload_ttft_seconds_bucket{le=\"0.131072\"} "), 0);
    assert_int_equal(sample(t, "llmload_ttft_seconds_bucket{le=\"0.16384\"} "), 2);
    assert_int_equal(sample(t, "llmload_ttft_seconds_bucket{le=\"+Inf\"} "), 3);
    assert_int_equal(sample(t, "llmload_ttft_seconds_count "), 3);
    assert_non_null(strstr(t, "llmload_ttft_seconds_sum 1.200000"));
    assert_int_equal(sample(t, "llmload_itl_seconds_count "), 0);
    assert_non_null(strstr(t, "# TYPE llmload_e2e_seconds histogram"));
    free(t);
    free(f);
}

static void commands_parse_with_their_values(void **state)
{
    (void)state;
    engine_cmd c;
    char err[200];
    assert_int_equal(listen_parse_command("pause", NULL, &c, err, sizeof err), 0);
    assert_int_equal(c.kind, ENGINE_CMD_PAUSE);
    assert_int_equal(listen_parse_command("next", NULL, &c, err, sizeof err), 0);
    assert_int_equal(c.kind, ENGINE_CMD_NEXT_STEP);
    assert_int_equal(listen_parse_command("target", "12", &c, err, sizeof err), 0);
    assert_int_equal(c.kind, ENGINE_CMD_SET_TARGET);
    assert_int_equal(c.value, 12);
    assert_int_equal(listen_parse_command("adjust", "-4", &c, err, sizeof err), 0);
    assert_int_equal(c.kind, ENGINE_CMD_ADJUST_TARGET);
    assert_int_equal(c.value, -4);
    assert_int_equal(listen_parse_command("target", "-1", &c, err, sizeof err), -1);
    assert_int_equal(listen_parse_command("target", NULL, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "value="));
    assert_int_equal(listen_parse_command("reboot", NULL, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown command"));
}

static void token_check_wants_the_exact_bearer_token(void **state)
{
    (void)state;
    assert_true(listen_token_ok("Bearer " TOKEN, TOKEN));
    assert_true(listen_token_ok("bearer " TOKEN, TOKEN));
    assert_false(listen_token_ok("Bearer " TOKEN "x", TOKEN));
    assert_false(listen_token_ok("Bearer tok-0123456789abcdefXY", TOKEN));
    assert_false(listen_token_ok(TOKEN, TOKEN));
    assert_false(listen_token_ok("", TOKEN));
    assert_false(listen_token_ok(NULL, TOKEN));
}

static void scrape_serves_what_the_consumer_published(void **state)
{
    (void)state;
    listen_srv *l;
    int port;
    char err[200];
    assert_int_equal(listen_start("127.0.0.1:0", NULL, &l, &port, err, sizeof err), 0);
    assert_true(port > 0);
    static char body[1 << 16];
    assert_int_equal(http(port, "GET", "/metrics", NULL, body, sizeof body), 200);
    assert_int_equal(sample(body, "llmload_up "), 0);
    listen_figures *f = calloc(1, sizeof *f);
    figures_fill(f);
    listen_publish(l, f);
    assert_int_equal(http(port, "GET", "/metrics", NULL, body, sizeof body), 200);
    assert_int_equal(sample(body, "llmload_up "), 1);
    assert_int_equal(sample(body, "llmload_requests_total{class=\"ok\"} "), 42);
    assert_int_equal(http(port, "GET", "/nothing", NULL, body, sizeof body), 404);
    assert_int_equal(http(port, "DELETE", "/metrics", NULL, body, sizeof body), 405);
    free(f);
    listen_stop(l);
}

static void control_without_a_configured_token_is_refused(void **state)
{
    (void)state;
    listen_srv *l;
    int port;
    char err[200], body[4096];
    assert_int_equal(listen_start(":0", NULL, &l, &port, err, sizeof err), 0);
    assert_int_equal(http(port, "POST", "/control/pause", "Bearer " TOKEN, body, sizeof body), 403);
    assert_non_null(strstr(body, "--control-token"));
    engine_cmd c;
    assert_false(listen_take(l, &c));
    listen_stop(l);
}

static void control_wants_the_token_and_queues_the_command(void **state)
{
    (void)state;
    listen_srv *l;
    int port;
    char err[200], body[4096];
    assert_int_equal(listen_start(":0", TOKEN, &l, &port, err, sizeof err), 0);
    engine_cmd c;
    assert_int_equal(http(port, "POST", "/control/pause", NULL, body, sizeof body), 401);
    assert_int_equal(
        http(port, "POST", "/control/pause", "Bearer wrong-token-0123456789", body, sizeof body),
        401);
    assert_null(strstr(body, TOKEN));
    assert_false(listen_take(l, &c));
    assert_int_equal(http(port, "GET", "/control/pause", "Bearer " TOKEN, body, sizeof body), 405);
    assert_int_equal(
        http(port, "POST", "/control/target?value=x", "Bearer " TOKEN, body, sizeof body), 400);
    assert_false(listen_take(l, &c));
    assert_int_equal(http(port, "POST", "/control/pause", "Bearer " TOKEN, body, sizeof body), 202);
    assert_non_null(strstr(body, "\"accepted\":\"pause\""));
    assert_null(strstr(body, TOKEN));
    assert_int_equal(
        http(port, "POST", "/control/target?value=16", "Bearer " TOKEN, body, sizeof body), 202);
    assert_true(listen_take(l, &c));
    assert_int_equal(c.kind, ENGINE_CMD_PAUSE);
    assert_true(listen_take(l, &c));
    assert_int_equal(c.kind, ENGINE_CMD_SET_TARGET);
    assert_int_equal(c.value, 16);
    assert_false(listen_take(l, &c));
    listen_stop(l);
}

static void a_taken_port_is_refused_with_a_sentence(void **state)
{
    (void)state;
    listen_srv *a, *b;
    int port, port2;
    char err[200], spec[32];
    assert_int_equal(listen_start(":0", NULL, &a, &port, err, sizeof err), 0);
    snprintf(spec, sizeof spec, "127.0.0.1:%d", port);
    assert_int_equal(listen_start(spec, NULL, &b, &port2, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot listen there"));
    listen_stop(a);
}

/* Every metric the shipped Grafana dashboard queries is one the text has. */
static void the_grafana_dashboard_queries_only_metrics_we_serve(void **state)
{
    (void)state;
    FILE *fp = fopen(LLM_TEST_DATA "/../../deploy/grafana/llmload-fleet.json", "rb");
    assert_non_null(fp);
    static char dash[1 << 16];
    size_t n = fread(dash, 1, sizeof dash - 1, fp);
    fclose(fp);
    dash[n] = '\0';
    listen_figures *f = calloc(1, sizeof *f);
    figures_fill(f);
    char *t = listen_render(f);
    int names = 0;
    for (const char *p = strstr(dash, "llmload_"); p; p = strstr(p + 1, "llmload_")) {
        char name[64];
        size_t k = 0;
        while (k < sizeof name - 1 && (p[k] == '_' || (p[k] >= 'a' && p[k] <= 'z')))
            name[k] = p[k], k++;
        name[k] = '\0';
        if (strcmp(name, "llmload_") == 0 || strcmp(name, "llmload_fleet") == 0)
            continue;
        char line[80];
        snprintf(line, sizeof line, "\n%s", name);
        if (!strstr(t, line))
            fail_msg("the dashboard queries %s, which /metrics does not serve", name);
        names++;
    }
    assert_true(names >= 10);
    free(t);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(metrics_text_has_the_counters_and_cumulative_buckets),
        cmocka_unit_test(commands_parse_with_their_values),
        cmocka_unit_test(token_check_wants_the_exact_bearer_token),
        cmocka_unit_test(scrape_serves_what_the_consumer_published),
        cmocka_unit_test(control_without_a_configured_token_is_refused),
        cmocka_unit_test(control_wants_the_token_and_queues_the_command),
        cmocka_unit_test(a_taken_port_is_refused_with_a_sentence),
        cmocka_unit_test(the_grafana_dashboard_queries_only_metrics_we_serve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
