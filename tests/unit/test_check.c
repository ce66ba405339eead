/* Tests for check: the failure sentences (pure), then `check_main` against a tiny canned
 * HTTP server on 127.0.0.1 serving the llama.cpp recordings, then against the simulator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/util.h"
#include "check/advice.h"
#include "check/check.h"
#include "sim/sim.h"
#include "testutil.h"

#define KEY "sk-test-9f8e7d6c5b4a3210SECRET"
#define CHECK_MARK "\xE2\x9C\x93"
#define CROSS_MARK "\xE2\x9C\x97"

/* ---- a canned HTTP/1.1 server: one connection at a time, Connection: close ---- */

typedef struct {
    const char *method, *path;
    const char *when; /* substring the request must contain; NULL = any */
    int status;
    const char *ctype;
    const char *file; /* fixture under LLM_FIXTURES, or NULL for body */
    const char *body;
    int stall; /* never answer (the connection stays open until the server stops) */
} route;

typedef struct {
    int fd, port;
    pthread_t thread;
    atomic_bool stop;
    const route *routes;
    size_t n_routes;
    pthread_mutex_t lock;
    char requests[32768]; /* every request received, concatenated (headers and body) */
    int held[16], n_held;
} tsrv;

static size_t request_complete(const char *req, size_t len)
{
    const char *end = memmem(req, len, "\r\n\r\n", 4);
    if (!end)
        return 0;
    size_t head = (size_t)(end - req) + 4;
    const char *cl = strcasestr(req, "Content-Length:");
    size_t body = cl && cl < end ? (size_t)atol(cl + 15) : 0;
    return len >= head + body ? head + body : 0;
}

/* Reads one request, at most 2 s. */
static size_t read_request(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    while (len + 1 < cap && !request_complete(buf, len)) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 2000) <= 0)
            break;
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
    }
    return len;
}

static const route *match(const tsrv *s, const char *req)
{
    for (size_t k = 0; k < s->n_routes; k++) {
        const route *r = &s->routes[k];
        char line[512];
        snprintf(line, sizeof line, "%s %s HTTP/", r->method, r->path);
        if (strncmp(req, line, strlen(line)) == 0 && (!r->when || strstr(req, r->when)))
            return r;
    }
    return NULL;
}

static void respond(int fd, const route *r)
{
    static const route not_found = {
        NULL, NULL, NULL, 404, "application/json; charset=utf-8", "llama.cpp/error-404.json",
        NULL, 0};
    if (!r)
        r = &not_found;
    size_t len = 0;
    char *file = NULL;
    if (r->file) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", LLM_FIXTURES, r->file);
        file = tu_read_file(path, &len);
        assert_non_null(file);
    } else {
        len = strlen(r->body);
    }
    char head[512];
    int h = snprintf(head, sizeof head,
                     "HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     r->status, r->ctype, len);
    ssize_t w = write(fd, head, (size_t)h);
    w += write(fd, file ? file : r->body, len);
    (void)w;
    free(file);
}

static void *tsrv_loop(void *arg)
{
    tsrv *s = arg;
    char req[16384];
    while (!atomic_load(&s->stop)) {
        struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
        if (poll(&pfd, 1, 50) <= 0)
            continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        size_t n = read_request(c, req, sizeof req);
        pthread_mutex_lock(&s->lock);
        strncat(s->requests, req, sizeof s->requests - strlen(s->requests) - 1);
        pthread_mutex_unlock(&s->lock);
        const route *r = n ? match(s, req) : NULL;
        if (r && r->stall && s->n_held < 16) {
            s->held[s->n_held++] = c;
            continue;
        }
        respond(c, r);
        close(c);
    }
    for (int k = 0; k < s->n_held; k++)
        close(s->held[k]);
    return NULL;
}

static int listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static tsrv *tsrv_start(const route *routes, size_t n)
{
    tsrv *s = calloc(1, sizeof *s);
    s->fd = listen_any(&s->port);
    assert_int_equal(listen(s->fd, 8), 0);
    s->routes = routes;
    s->n_routes = n;
    pthread_mutex_init(&s->lock, NULL);
    assert_int_equal(pthread_create(&s->thread, NULL, tsrv_loop, s), 0);
    return s;
}

static void tsrv_stop(tsrv *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    close(s->fd);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* ---- running check ---- */

typedef struct {
    int rc;
    char *out;
} run_result;

static llm_config test_config(const char *url, const char *key, const char *model)
{
    llm_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.url = (char *)url;
    cfg.api_key = (char *)key;
    cfg.model = (char *)model;
    cfg.connect_timeout_s = 2;
    cfg.request_timeout_s = 10;
    cfg.temperature = -1;
    return cfg;
}

static run_result run_check(const llm_config *cfg)
{
    run_result r;
    size_t len;
    FILE *f = open_memstream(&r.out, &len);
    r.rc = check_main(cfg, f);
    fclose(f);
    if (getenv("CHECK_SHOW")) /* CHECK_SHOW=1 prints every check's output, for eyeballing */
        fprintf(stderr, "--- exit %d\n%s", r.rc, r.out);
    return r;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("expected [%s] in:\n%s", needle, hay);
}

static int setup_utf8(void **state)
{
    (void)state;
    setenv("LC_ALL", "C.UTF-8", 1);
    return 0;
}

static const route llama_routes[] = {
    {"GET", "/v1/models", NULL, 200, "application/json; charset=utf-8", "llama.cpp/models.json",
     NULL, 0},
    {"POST", "/v1/chat/completions", "\"stream\":true", 200, "text/event-stream",
     "llama.cpp/chat-stream-usage.sse", NULL, 0},
    {"POST", "/v1/chat/completions", NULL, 200, "application/json; charset=utf-8",
     "llama.cpp/chat.json", NULL, 0},
    {"POST", "/v1/completions", "\"stream\":true", 200, "text/event-stream",
     "llama.cpp/completions-stream-usage.sse", NULL, 0},
    {"GET", "/metrics", NULL, 200, "text/plain; version=0.0.4", "llama.cpp/metrics.prom", NULL, 0},
    {"POST", "/v1/completions", NULL, 200, "application/json", NULL,
     "{\"choices\":[{\"text\":\" upon a time\",\"index\":0,\"finish_reason\":\"length\"}],"
     "\"usage\":{\"completion_tokens\":4,\"prompt_tokens\":4}}",
     0},
};
#define N_LLAMA (sizeof llama_routes / sizeof llama_routes[0])

static char *url_of(const tsrv *s, const char *path)
{
    static char url[8][128];
    static int slot;
    char *u = url[slot++ % 8];
    snprintf(u, 128, "http://127.0.0.1:%d%s", s->port, path);
    return u;
}

/* ---- pure parts ---- */

static void origin_host_and_v1_suggestion(void **state)
{
    (void)state;
    char out[256];
    advice_origin("http://10.0.0.5:8000/v1", out, sizeof out);
    assert_string_equal(out, "http://10.0.0.5:8000");
    advice_origin("https://api.example.com/v1", out, sizeof out);
    assert_string_equal(out, "https://api.example.com:443");
    advice_host("https://api.example.com/v1", out, sizeof out);
    assert_string_equal(out, "api.example.com");
    assert_true(advice_suggest_v1("http://h:8000", out, sizeof out));
    assert_string_equal(out, "http://h:8000/v1");
    assert_true(advice_suggest_v1("http://h:8000/", out, sizeof out));
    assert_string_equal(out, "http://h:8000/v1");
    assert_false(advice_suggest_v1("http://h:8000/v1", out, sizeof out));
    assert_false(advice_suggest_v1("http://h:8000/v1/", out, sizeof out));
}

static void transport_failures_say_what_to_fix(void **state)
{
    (void)state;
    char out[512];
    const char *u = "http://10.0.0.5:8000/v1";
    advice_transport(CURLE_COULDNT_CONNECT,
                     "Failed to connect to 10.0.0.5 port 8000: Connection "
                     "refused",
                     u, false, 10, 600, out, sizeof out);
    assert_string_equal(out, "nothing is listening at http://10.0.0.5:8000: is the server running, "
                             "and is the port right?");
    advice_transport(CURLE_COULDNT_RESOLVE_HOST, "", "http://nosuch.invalid:8000/v1", false, 10,
                     600, out, sizeof out);
    assert_string_equal(out, "cannot resolve host nosuch.invalid: check the URL");
    advice_transport(CURLE_PEER_FAILED_VERIFICATION,
                     "SSL certificate problem: self-signed "
                     "certificate",
                     "https://gpu.lan/v1", false, 10, 600, out, sizeof out);
    assert_string_equal(out, "TLS handshake with gpu.lan failed: SSL certificate problem: "
                             "self-signed certificate; use --insecure to skip verification for "
                             "a self-signed certificate");
    advice_transport(CURLE_OPERATION_TIMEDOUT, "", u, false, 10, 600, out, sizeof out);
    assert_string_equal(out, "no answer from http://10.0.0.5:8000 within 10 s (--connect-timeout)");
    advice_transport(CURLE_OPERATION_TIMEDOUT, "", u, true, 10, 2.5, out, sizeof out);
    assert_string_equal(out,
                        "no answer from http://10.0.0.5:8000 within 2.5 s (--request-timeout)");
}

static void http_failures_say_what_to_fix(void **state)
{
    (void)state;
    char out[512];
    const char *json = "{\"error\":{\"message\":\"CUDA out of memory\"}}";
    advice_http(401, "GET u", "http://h:1/v1", true, true, "application/json", "{}", 2, out,
                sizeof out);
    assert_string_equal(out,
                        "the server rejected the API key (HTTP 401): check MODEL_KEY or --api-key");
    advice_http(403, "GET u", "http://h:1/v1", true, false, "", "", 0, out, sizeof out);
    assert_contains(out, "none is set: set MODEL_KEY or --api-key");
    advice_http(404, "GET http://h:1/models", "http://h:1", true, false, "", "", 0, out,
                sizeof out);
    assert_string_equal(out, "GET http://h:1/models returned 404: did you mean http://h:1/v1?");
    advice_http(502, "GET u", "http://h:1/v1", true, false, "text/html", "<html>Bad Gateway</html>",
                24, out, sizeof out);
    assert_string_equal(out, "the server answered with an HTML page (HTTP 502), not JSON: is the "
                             "URL pointing at a proxy or web UI instead of the API?");
    advice_http(500, "POST u", "http://h:1/v1", false, false, "application/json", json,
                strlen(json), out, sizeof out);
    assert_string_equal(out, "POST u returned HTTP 500: CUDA out of memory");
    assert_true(advice_is_html(NULL, "  \n<!DOCTYPE html>", 18));
    assert_false(advice_is_html("application/json", "{}", 2));
}

static void models_list_parsed_and_truncated(void **state)
{
    (void)state;
    size_t n;
    char path[512], list[64], first[64];
    bool found;
    snprintf(path, sizeof path, "%s/llama.cpp/models.json", LLM_FIXTURES);
    char *body = tu_read_file(path, &n);
    assert_int_equal(
        advice_models(body, n, "stories260K", list, sizeof list, first, sizeof first, &found), 1);
    assert_true(found);
    assert_string_equal(first, "stories260K");
    free(body);
    const char *many = "{\"data\":[{\"id\":\"alpha-model-one\"},{\"id\":\"beta-model-two\"},"
                       "{\"id\":\"gamma-model-three\"},{\"id\":\"delta-model-four\"}]}";
    assert_int_equal(advice_models(many, strlen(many), "x", list, 48, first, sizeof first, &found),
                     4);
    assert_false(found);
    assert_true(strncmp(list, "alpha-model-one, beta-model-two", 31) == 0);
    assert_non_null(strstr(list, "\xE2\x80\xA6"));
    assert_int_equal(advice_models("<html>", 6, NULL, list, 48, first, 48, &found), -1);
}

static void key_is_scrubbed_from_any_text(void **state)
{
    (void)state;
    char text[256] = "Incorrect API key provided: " KEY ". Again: " KEY;
    llm_scrub_key(text, sizeof text, KEY);
    assert_null(strstr(text, KEY));
    assert_null(strstr(text, "SECRET"));
    assert_contains(text, "Incorrect API key provided: sk-");
}

/* ---- check against canned servers ---- */

static void all_probes_pass_against_recorded_llama_cpp(void **state)
{
    (void)state;
    tsrv *s = tsrv_start(llama_routes, N_LLAMA);
    llm_config cfg = test_config(url_of(s, "/v1"), KEY, "stories260K");
    llm_header h = {"X-Team", "bench"};
    cfg.headers = &h;
    cfg.n_headers = 1;
    run_result r = run_check(&cfg);
    if (r.rc != LLM_EXIT_OK)
        fail_msg("exit %d:\n%s", r.rc, r.out);
    assert_int_equal(count(r.out, CHECK_MARK), 6);
    assert_int_equal(count(r.out, CROSS_MARK), 0);
    assert_contains(r.out, "12 completion tokens reported for 12 content events");
    assert_contains(r.out, "[DONE] seen");
    assert_contains(r.out, "tokens/s");
    /* information, not a check: the recorded /metrics page is read */
    assert_contains(r.out, "server metrics  llama.cpp at http://127.0.0.1:");
    assert_contains(r.out, "/metrics: 0 running, 0 waiting\n");
    assert_null(strstr(r.out, "SECRET"));
    pthread_mutex_lock(&s->lock);
    assert_contains(s->requests, "Authorization: Bearer " KEY);
    assert_contains(s->requests, "X-Team: bench");
    assert_contains(s->requests, "\"include_usage\":true");
    assert_contains(s->requests, "\"max_tokens\":16");
    pthread_mutex_unlock(&s->lock);
    free(r.out);
    tsrv_stop(s);
}

static void no_model_given_picks_the_first_served(void **state)
{
    (void)state;
    tsrv *s = tsrv_start(llama_routes, N_LLAMA);
    llm_config cfg = test_config(url_of(s, "/v1/"), NULL, NULL);
    run_result r = run_check(&cfg);
    assert_int_equal(r.rc, LLM_EXIT_OK);
    assert_contains(r.out, "using stories260K, the first of 1 served");
    assert_contains(r.out, "no key set, and none needed");
    free(r.out);
    tsrv_stop(s);
}

static void completions_endpoint_probes_with_prompt(void **state)
{
    (void)state;
    tsrv *s = tsrv_start(llama_routes, N_LLAMA);
    llm_config cfg = test_config(url_of(s, "/v1"), NULL, "stories260K");
    cfg.endpoint = LLM_ENDPOINT_COMPLETIONS;
    run_result r = run_check(&cfg);
    if (r.rc != LLM_EXIT_OK)
        fail_msg("exit %d:\n%s", r.rc, r.out);
    assert_contains(r.out, "answered \" upon a time\"");
    assert_contains(r.out, "8 completion tokens reported for 8 content events");
    pthread_mutex_lock(&s->lock);
    assert_contains(s->requests, "POST /v1/completions");
    assert_contains(s->requests, "\"prompt\":");
    assert_null(strstr(s->requests, "/chat/completions"));
    pthread_mutex_unlock(&s->lock);
    free(r.out);
    tsrv_stop(s);
}

static void ascii_glyphs_without_utf8_locale(void **state)
{
    (void)state;
    tsrv *s = tsrv_start(llama_routes, N_LLAMA);
    llm_config cfg = test_config(url_of(s, "/v1"), NULL, "stories260K");
    setenv("LC_ALL", "C", 1);
    run_result r = run_check(&cfg);
    setenv("LC_ALL", "C.UTF-8", 1);
    assert_int_equal(r.rc, LLM_EXIT_OK);
    assert_int_equal(count(r.out, "\nok "), 6);
    for (const char *p = r.out; *p; p++)
        assert_true((unsigned char)*p < 0x80);
    free(r.out);
    tsrv_stop(s);
}

static void rejected_key_names_the_fix_and_never_the_key(void **state)
{
    (void)state;
    static const route r401[] = {
        {"GET", "/v1/models", NULL, 401, "application/json", NULL,
         "{\"error\":{\"message\":\"Incorrect API key provided: " KEY "\"}}", 0}};
    tsrv *s = tsrv_start(r401, 1);
    llm_config cfg = test_config(url_of(s, "/v1"), KEY, "m");
    run_result r = run_check(&cfg);
    assert_int_equal(r.rc, LLM_EXIT_FAILED);
    assert_contains(r.out, "the server rejected the API key (HTTP 401): check MODEL_KEY or "
                           "--api-key");
    assert_null(strstr(r.out, "SECRET"));
    free(r.out);
    tsrv_stop(s);
}

static void server_error_echoing_the_key_is_scrubbed(void **state)
{
    (void)state;
    static const route r500[] = {
        {"GET", "/v1/models", NULL, 200, "application/json", "llama.cpp/models.json", NULL, 0},
        {"POST", "/v1/chat/completions", NULL, 500, "application/json", NULL,
         "{\"error\":{\"message\":\"backend rejected token " KEY "\"}}", 0}};
    tsrv *s = tsrv_start(r500, 2);
    llm_config cfg = test_config(url_of(s, "/v1"), KEY, NULL);
    run_result r = run_check(&cfg);
    assert_int_equal(r.rc, LLM_EXIT_FAILED);
    assert_contains(r.out, "returned HTTP 500: backend rejected token sk-");
    assert_null(strstr(r.out, "SECRET"));
    free(r.out);
    tsrv_stop(s);
}

/* A 112-character key echoed after a long text: the message is cut inside the key (56 of
 * its characters would reach the cut); none of them may show. */
#define LONG_KEY                                                                                   \
    "sk-LONGKEY0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghij" \
    "klmnopqrstuvwxyzABCD"
#define PAD                                                                                        \
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
    "x"                                                                                            \
    "xxxxxxxxxxxxxxxxxxxxxxxxxx"

static void a_long_key_cut_inside_an_echoed_error_is_still_masked(void **state)
{
    (void)state;
    static const route r500[] = {
        {"GET", "/v1/models", NULL, 200, "application/json", "llama.cpp/models.json", NULL, 0},
        {"POST", "/v1/chat/completions", NULL, 500, "application/json", NULL,
         "{\"error\":{\"message\":\"backend rejected token " PAD LONG_KEY "\"}}", 0}};
    tsrv *s = tsrv_start(r500, 2);
    llm_config cfg = test_config(url_of(s, "/v1"), LONG_KEY, NULL);
    run_result r = run_check(&cfg);
    assert_int_equal(r.rc, LLM_EXIT_FAILED);
    assert_contains(r.out, "returned HTTP 500: backend rejected token");
    assert_null(strstr(r.out, "LONGKEY01234")); /* the part before the cut */
    free(r.out);
    tsrv_stop(s);
}

static void base_url_without_v1_suggests_it(void **state)
{
    (void)state;
    static const route v1only[] = {
        {"GET", "/v1/models", NULL, 200, "application/json", "llama.cpp/models.json", NULL, 0}};
    tsrv *s = tsrv_start(v1only, 1);
    llm_config cfg = test_config(url_of(s, ""), NULL, NULL);
    run_result r = run_check(&cfg);
    assert_int_equal(r.rc, LLM_EXIT_FAILED);
    char want[256];
    snprintf(want, sizeof want, "/models returned 404: did you mean http://127.0.0.1:%d/v1?",
             s->port);
    assert_contains(r.out, want);
    free(r.out);
    tsrv_stop(s);
}

static void unknown_model_lists_the_served_ones(void **state)
{
    (void)state;
    tsrv *s = tsrv_start(llama_routes, N_LLAMA);
    llm_config cfg = test_config(url_of(s, "/v1"), NULL, "gpt-4o");
    run_result r = run_check(&cfg);
    assert_int_equal(r.rc, LLM_EXIT_FAILED);
    assert_contains(r.out, "model gpt-4o is not served here; served: stories260K");
    free(r.out);
    tsrv_stop(s);
}

static void html_page_instead_of_api(void **state)
{
    (void)state;
    static const route html[] = {{"GET", "/v1/models", NULL, 502, "text/html", NULL,
                                  "<html><body><h1>502 Bad Gateway</h1></body></html>", 0}};
    tsrv *s = tsrv_start(html, 1);
    llm_config cfg = test_config(url_of(s, "/v1"), NULL, NULL);
    run_result r = run_check(&cfg);
    assert_int_equal(r.rc, LLM_EXIT_FAILED);
    assert_contains(r.out, "the server answered with an HTML page (HTTP 502), not JSON: is the "
                           "URL pointing at a proxy or web UI instead of the API?");
    free(r.out);
    tsrv_stop(s);
}

static void server_down_exits_unreachable(void **state)
{
    (void)state;
    int port;
    int fd = listen_any(&port); /* bound, never listening: connections are refused */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", port);
    llm_config cfg = test_config(url, KEY, NULL);
    run_result r = run_check(&cfg);
    close(fd);
    assert_int_equal(r.rc, LLM_EXIT_UNREACHABLE);
    char want[160];
    snprintf(want, sizeof want,
             "nothing is listening at http://127.0.0.1:%d: is the server running, and is the "
             "port right?",
             port);
    assert_contains(r.out, want);
    assert_int_equal(count(r.out, CROSS_MARK), 1);
    assert_null(strstr(r.out, "SECRET"));
    free(r.out);
}

static void stream_without_usage_warns_tokens_are_estimated(void **state)
{
    (void)state;
    static const route nousage[] = {
        {"GET", "/v1/models", NULL, 200, "application/json", "llama.cpp/models.json", NULL, 0},
        {"POST", "/v1/chat/completions", "\"stream\":true", 200, "text/event-stream",
         "llama.cpp/chat-stream.sse", NULL, 0},
        {"POST", "/v1/chat/completions", NULL, 200, "application/json", "llama.cpp/chat.json", NULL,
         0}};
    tsrv *s = tsrv_start(nousage, 3);
    llm_config cfg = test_config(url_of(s, "/v1"), NULL, NULL);
    run_result r = run_check(&cfg);
    assert_int_equal(r.rc, LLM_EXIT_FAILED);
    assert_int_equal(count(r.out, CHECK_MARK), 5);
    assert_contains(r.out, "output tokens will be estimated from content events");
    assert_contains(r.out, "8 tokens, estimated");
    free(r.out);
    tsrv_stop(s);
}

static void cut_stream_and_stalled_server_fail_with_reason(void **state)
{
    (void)state;
    static const route cut[] = {
        {"GET", "/v1/models", NULL, 200, "application/json", "llama.cpp/models.json", NULL, 0},
        {"POST", "/v1/chat/completions", "\"stream\":true", 200, "text/event-stream", NULL,
         "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n", 0},
        {"POST", "/v1/chat/completions", NULL, 200, "application/json", "llama.cpp/chat.json", NULL,
         0}};
    tsrv *s = tsrv_start(cut, 3);
    llm_config cfg = test_config(url_of(s, "/v1"), NULL, NULL);
    run_result r = run_check(&cfg);
    assert_int_equal(r.rc, LLM_EXIT_FAILED);
    assert_contains(r.out, "the stream ended without [DONE] or a finish_reason");
    free(r.out);
    tsrv_stop(s);

    static const route stall[] = {
        {"GET", "/v1/models", NULL, 200, "application/json", "llama.cpp/models.json", NULL, 0},
        {"POST", "/v1/chat/completions", NULL, 0, "", NULL, "", 1}};
    s = tsrv_start(stall, 2);
    cfg = test_config(url_of(s, "/v1"), NULL, NULL);
    cfg.request_timeout_s = 0.5;
    r = run_check(&cfg);
    assert_int_equal(r.rc, LLM_EXIT_FAILED);
    char want[160];
    snprintf(want, sizeof want,
             "no answer from http://127.0.0.1:%d within 0.5 s (--request-timeout)", s->port);
    assert_contains(r.out, want);
    free(r.out);
    tsrv_stop(s);
}

/* ---- check against the simulator (skipped until it is built) ---- */

static sim_server *sim_or_skip(const char *api_key)
{
    sim_options o;
    sim_options_default(&o);
    o.port = 0;
    o.quiet = true;
    o.decode_rate = 2000;
    o.base_latency_s = 0.001;
    if (api_key)
        snprintf(o.api_key, sizeof o.api_key, "%s", api_key);
    sim_server *s = NULL;
    char err[256];
    if (sim_start(&o, &s, err, sizeof err) != 0) {
        print_message("simulator not available (%s): skipped\n", err);
        skip();
    }
    return s;
}

static void simulator_passes_every_probe(void **state)
{
    (void)state;
    sim_server *sim = sim_or_skip(NULL);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", sim_port(sim));
    llm_config cfg = test_config(url, NULL, NULL);
    run_result r = run_check(&cfg);
    sim_stop(sim);
    if (r.rc != LLM_EXIT_OK)
        fail_msg("exit %d:\n%s", r.rc, r.out);
    assert_int_equal(count(r.out, CHECK_MARK), 6);
    assert_contains(r.out, "server metrics  llmload sim at ");
    free(r.out);
}

static void simulator_with_key_rejects_a_wrong_one(void **state)
{
    (void)state;
    sim_server *sim = sim_or_skip("sk-right-key-123456789");
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", sim_port(sim));
    llm_config cfg = test_config(url, KEY, NULL);
    run_result r = run_check(&cfg);
    llm_config good = test_config(url, "sk-right-key-123456789", NULL);
    run_result ok = run_check(&good);
    llm_config nov1 = test_config(url, "sk-right-key-123456789", NULL);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", sim_port(sim));
    nov1.url = base;
    run_result wrong_path = run_check(&nov1);
    llm_config badmodel = test_config(url, "sk-right-key-123456789", "no-such-model");
    run_result wrong_model = run_check(&badmodel);
    sim_stop(sim);
    assert_int_not_equal(r.rc, LLM_EXIT_OK);
    assert_contains(r.out, "the server rejected the API key (HTTP 401)");
    assert_null(strstr(r.out, "SECRET"));
    assert_int_equal(ok.rc, LLM_EXIT_OK);
    assert_null(strstr(ok.out, "sk-right-key-123456789"));
    assert_contains(wrong_path.out, "did you mean");
    assert_contains(wrong_model.out, "model no-such-model is not served here; served: ");
    free(r.out);
    free(ok.out);
    free(wrong_path.out);
    free(wrong_model.out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(origin_host_and_v1_suggestion),
        cmocka_unit_test(transport_failures_say_what_to_fix),
        cmocka_unit_test(http_failures_say_what_to_fix),
        cmocka_unit_test(models_list_parsed_and_truncated),
        cmocka_unit_test(key_is_scrubbed_from_any_text),
        cmocka_unit_test(all_probes_pass_against_recorded_llama_cpp),
        cmocka_unit_test(no_model_given_picks_the_first_served),
        cmocka_unit_test(completions_endpoint_probes_with_prompt),
        cmocka_unit_test(ascii_glyphs_without_utf8_locale),
        cmocka_unit_test(rejected_key_names_the_fix_and_never_the_key),
        cmocka_unit_test(server_error_echoing_the_key_is_scrubbed),
        cmocka_unit_test(a_long_key_cut_inside_an_echoed_error_is_still_masked),
        cmocka_unit_test(base_url_without_v1_suggests_it),
        cmocka_unit_test(unknown_model_lists_the_served_ones),
        cmocka_unit_test(html_page_instead_of_api),
        cmocka_unit_test(server_down_exits_unreachable),
        cmocka_unit_test(stream_without_usage_warns_tokens_are_estimated),
        cmocka_unit_test(cut_stream_and_stalled_server_fail_with_reason),
        cmocka_unit_test(simulator_passes_every_probe),
        cmocka_unit_test(simulator_with_key_rejects_a_wrong_one),
    };
    return cmocka_run_group_tests(tests, setup_utf8, NULL);
}
