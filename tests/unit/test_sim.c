/* Tests for sim: the simulator as a client sees it, over HTTP on 127.0.0.1 with libcurl:
 * endpoints, stream format, usage, queueing, faults, seeds, shutdown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim/sim.h"
#include "sim/sim_tok.h"
#include "testutil.h"

extern char **environ;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- a simulator per test ---- */

static sim_options opts_fast(void)
{
    sim_options o;
    sim_options_default(&o);
    o.port = 0;
    o.quiet = true;
    o.base_latency_s = 0.005;
    o.decode_rate = 1000;
    o.batch_penalty = 0;
    return o;
}

static sim_server *sim_up(const sim_options *o)
{
    char err[256] = "";
    sim_server *s = NULL;
    int rc = sim_start(o, &s, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "sim_start: %s\n", err);
    assert_int_equal(rc, 0);
    assert_true(sim_port(s) > 0);
    return s;
}

/* ---- one HTTP exchange ---- */

typedef struct {
    long status;
    CURLcode res;
    char *body;
    size_t len, cap;
    char headers[4096];
    size_t hlen;
    double t0, first_content, last_data, max_gap, ttfb;
    double gaps[512]; /* seconds between one arrival of body bytes and the next */
    int ngaps;
} resp;

static bool has_content(const char *p, size_t len)
{
    static const char *const keys[2] = {"\"content\":\"", "\"text\":\""};
    for (int k = 0; k < 2; k++) {
        size_t kl = strlen(keys[k]);
        const char *at = p, *end = p + len;
        while ((at = memmem(at, (size_t)(end - at), keys[k], kl)) != NULL) {
            at += kl;
            if (at < end && *at != '"')
                return true;
        }
    }
    return false;
}

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
    resp *r = userp;
    size_t len = size * n;
    double now = mono_s();
    if (r->last_data > 0 && now - r->last_data > r->max_gap)
        r->max_gap = now - r->last_data;
    if (r->last_data > 0 && r->ngaps < (int)(sizeof r->gaps / sizeof r->gaps[0]))
        r->gaps[r->ngaps++] = now - r->last_data;
    r->last_data = now;
    if (r->len + len + 1 > r->cap) {
        r->cap = (r->len + len + 1) * 2;
        r->body = realloc(r->body, r->cap);
        assert_non_null(r->body);
    }
    memcpy(r->body + r->len, data, len);
    r->len += len;
    r->body[r->len] = '\0';
    if (r->first_content < 0 && has_content(r->body, r->len))
        r->first_content = now - r->t0;
    return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
    resp *r = userp;
    size_t len = size * n;
    if (r->hlen + len < sizeof r->headers) {
        memcpy(r->headers + r->hlen, data, len);
        r->hlen += len;
        r->headers[r->hlen] = '\0';
    }
    return len;
}

static void resp_init(resp *r)
{
    memset(r, 0, sizeof *r);
    r->first_content = -1;
    r->t0 = mono_s();
}

static void resp_free(resp *r)
{
    free(r->body);
    r->body = NULL;
}

static struct curl_slist *headers_for(const char *auth)
{
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    if (auth)
        h = curl_slist_append(h, auth);
    return h;
}

/* An easy handle for path on the simulator: POST body when given, else GET. */
static CURL *easy_for(int port, const char *path, const char *body, struct curl_slist *h, resp *r)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 15000L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    if (body)
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    return e;
}

static void easy_finish(CURL *e, resp *r)
{
    curl_off_t t = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME_T, &t);
    r->ttfb = (double)t / 1e6;
}

static CURLcode fetch(int port, const char *path, const char *body, const char *auth, resp *r)
{
    resp_init(r);
    struct curl_slist *h = headers_for(auth);
    CURL *e = easy_for(port, path, body, h, r);
    r->res = curl_easy_perform(e);
    easy_finish(e, r);
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
    return r->res;
}

/* ---- reading an SSE body ---- */

typedef struct {
    int events, bad_json, content, usage_chunks, role_first, after_done;
    bool done;
    long usage_completion, usage_prompt;
    char finish[16];
} sse_summary;

static void sse_event(const char *data, bool chat, sse_summary *s)
{
    if (s->done)
        s->after_done++;
    if (!strcmp(data, "[DONE]")) {
        s->done = true;
        return;
    }
    cJSON *j = cJSON_Parse(data);
    if (!j) {
        s->bad_json++;
        return;
    }
    const cJSON *choices = cJSON_GetObjectItem(j, "choices");
    const cJSON *usage = cJSON_GetObjectItem(j, "usage");
    const cJSON *c0 = cJSON_GetArrayItem(choices, 0);
    if (cJSON_IsArray(choices) && !c0 && usage) {
        s->usage_chunks++;
        s->usage_completion = (long)cJSON_GetObjectItem(usage, "completion_tokens")->valuedouble;
        s->usage_prompt = (long)cJSON_GetObjectItem(usage, "prompt_tokens")->valuedouble;
    }
    if (c0) {
        const cJSON *delta = cJSON_GetObjectItem(c0, "delta");
        const cJSON *text =
            chat ? cJSON_GetObjectItem(delta, "content") : cJSON_GetObjectItem(c0, "text");
        if (s->events == 0 && chat && cJSON_GetObjectItem(delta, "role") && cJSON_IsString(text) &&
            !text->valuestring[0])
            s->role_first = 1;
        if (cJSON_IsString(text) && text->valuestring[0])
            s->content++;
        const cJSON *fr = cJSON_GetObjectItem(c0, "finish_reason");
        if (cJSON_IsString(fr))
            snprintf(s->finish, sizeof s->finish, "%s", fr->valuestring);
    }
    s->events++;
    cJSON_Delete(j);
}

static void sse_summarize(const char *body, bool chat, sse_summary *s)
{
    memset(s, 0, sizeof *s);
    const char *p = body;
    while (p && *p) {
        const char *nl = strstr(p, "\n");
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > 6 && !strncmp(p, "data: ", 6)) {
            char *line = strndup(p + 6, len - 6);
            sse_event(line, chat, s);
            free(line);
        }
        p = nl ? nl + 1 : NULL;
    }
}

static const char chat_stream_usage[] =
    "{\"model\":\"llmload-sim\",\"messages\":[{\"role\":\"user\",\"content\":\"Say something "
    "long.\"}],\"max_tokens\":12,\"ignore_eos\":true,\"stream\":true,"
    "\"stream_options\":{\"include_usage\":true}}";

/* ---- endpoints ---- */

static void models_list_names_the_served_model_over_one_connection(void **state)
{
    (void)state;
    sim_options o = opts_fast();
    snprintf(o.model, sizeof o.model, "my/model-7b");
    sim_server *s = sim_up(&o);
    resp r;
    resp_init(&r);
    struct curl_slist *h = headers_for(NULL);
    CURL *e = easy_for(sim_port(s), "/v1/models", NULL, h, &r);
    assert_int_equal(curl_easy_perform(e), CURLE_OK);
    easy_finish(e, &r);
    assert_int_equal(r.status, 200);
    cJSON *j = cJSON_Parse(r.body);
    assert_string_equal(cJSON_GetObjectItem(j, "object")->valuestring, "list");
    cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "data"), 0);
    assert_string_equal(cJSON_GetObjectItem(m, "id")->valuestring, "my/model-7b");
    cJSON_Delete(j);
    /* keep-alive: the second request reuses the connection */
    r.len = 0;
    assert_int_equal(curl_easy_perform(e), CURLE_OK);
    long connects = -1;
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects);
    assert_int_equal(connects, 0);
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
    resp_free(&r);
    sim_stop(s);
}

static void chat_stream_is_role_then_one_chunk_per_token_then_usage_then_done(void **state)
{
    (void)state;
    sim_options o = opts_fast();
    o.mean_output = 3; /* ignore_eos must override it */
    sim_server *s = sim_up(&o);
    resp r;
    assert_int_equal(fetch(sim_port(s), "/v1/chat/completions", chat_stream_usage, NULL, &r),
                     CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_non_null(strcasestr(r.headers, "Content-Type: text/event-stream"));
    assert_non_null(strcasestr(r.headers, "Transfer-Encoding: chunked"));
    sse_summary ss;
    sse_summarize(r.body, true, &ss);
    assert_int_equal(ss.bad_json, 0);
    assert_int_equal(ss.role_first, 1);
    assert_int_equal(ss.content, 12);
    assert_int_equal(ss.usage_chunks, 1);
    assert_int_equal(ss.usage_completion, 12);
    assert_string_equal(ss.finish, "length");
    assert_true(ss.done);
    assert_int_equal(ss.after_done, 0);
    resp_free(&r);
    sim_stop(s);
}

static void stream_without_include_usage_sends_no_usage_chunk(void **state)
{
    (void)state;
    sim_options o = opts_fast();
    sim_server *s = sim_up(&o);
    resp r;
    const char *body = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                       "\"max_tokens\":5,\"stream\":true}";
    assert_int_equal(fetch(sim_port(s), "/v1/chat/completions", body, NULL, &r), CURLE_OK);
    sse_summary ss;
    sse_summarize(r.body, true, &ss);
    assert_int_equal(ss.usage_chunks, 0);
    assert_null(strstr(r.body, "\"usage\""));
    assert_int_equal(ss.content, 5);
    assert_true(ss.done);
    resp_free(&r);
    sim_stop(s);
}

static void completions_stream_carries_text_in_choices(void **state)
{
    (void)state;
    sim_options o = opts_fast();
    sim_server *s = sim_up(&o);
    resp r;
    const char *body = "{\"prompt\":\"Once upon a time\",\"max_tokens\":7,\"stream\":true,"
                       "\"stream_options\":{\"include_usage\":true}}";
    assert_int_equal(fetch(sim_port(s), "/v1/completions", body, NULL, &r), CURLE_OK);
    assert_non_null(strstr(r.body, "\"object\":\"text_completion\""));
    assert_null(strstr(r.body, "\"delta\""));
    sse_summary ss;
    sse_summarize(r.body, false, &ss);
    assert_int_equal(ss.bad_json, 0);
    assert_int_equal(ss.content, 7);
    assert_int_equal(ss.usage_completion, 7);
    /* the simulator's own tokenizer: Once/upon/time 2 each, a 1, BOS 1 (not 16 chars / 4) */
    assert_int_equal(ss.usage_prompt, 8);
    assert_true(ss.done);
    resp_free(&r);
    sim_stop(s);
}

static void nonstream_chat_reports_usage_with_prompt_tokens_by_its_own_tokenizer(void **state)
{
    (void)state;
    sim_options o = opts_fast();
    sim_server *s = sim_up(&o);
    resp r;
    /* word pieces: "abcdefghij" 4, "x" "é" "z" 1 each; the template 4 per message + 3:
     * 4 + 3 + 8 + 3 = 18 (chars/4 would say 4) */
    const char *body =
        "{\"messages\":[{\"role\":\"system\",\"content\":\"abcdefghij\"},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"x\xc3\xa9z\"}]}],"
        "\"max_completion_tokens\":9,\"ignore_eos\":true}";
    assert_int_equal(fetch(sim_port(s), "/v1/chat/completions", body, NULL, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    cJSON *j = cJSON_Parse(r.body);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "object")->valuestring, "chat.completion");
    cJSON *u = cJSON_GetObjectItem(j, "usage");
    assert_int_equal((long)cJSON_GetObjectItem(u, "prompt_tokens")->valuedouble, 18);
    assert_int_equal((long)cJSON_GetObjectItem(u, "completion_tokens")->valuedouble, 9);
    assert_int_equal((long)cJSON_GetObjectItem(u, "total_tokens")->valuedouble, 27);
    cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0);
    cJSON *msg = cJSON_GetObjectItem(c0, "message");
    assert_true(strlen(cJSON_GetObjectItem(msg, "content")->valuestring) >= 9);
    assert_string_equal(cJSON_GetObjectItem(c0, "finish_reason")->valuestring, "length");
    cJSON_Delete(j);
    resp_free(&r);
    /* an empty prompt still counts as one token */
    assert_int_equal(
        fetch(sim_port(s), "/v1/completions", "{\"prompt\":\"\",\"max_tokens\":1}", NULL, &r),
        CURLE_OK);
    assert_non_null(strstr(r.body, "\"prompt_tokens\":1,"));
    resp_free(&r);
    sim_stop(s);
}

static void unknown_paths_get_llama_style_404_even_without_v1_prefix(void **state)
{
    (void)state;
    sim_options o = opts_fast();
    sim_server *s = sim_up(&o);
    const char *paths[] = {"/v1/nope", "/models", "/chat/completions", "/"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        resp r;
        assert_int_equal(fetch(sim_port(s), paths[i], NULL, NULL, &r), CURLE_OK);
        assert_int_equal(r.status, 404);
        assert_string_equal(
            r.body, "{\"error\":{\"message\":\"File Not Found\",\"type\":\"not_found_error\","
                    "\"code\":404}}");
        resp_free(&r);
    }
    sim_stop(s);
}

static void unknown_model_gets_404_and_missing_model_is_served(void **state)
{
    (void)state;
    sim_options o = opts_fast();
    sim_server *s = sim_up(&o);
    resp r;
    assert_int_equal(fetch(sim_port(s), "/v1/chat/completions",
                           "{\"model\":\"gpt-9\",\"messages\":[{\"role\":\"user\",\"content\":"
                           "\"hi\"}]}",
                           NULL, &r),
                     CURLE_OK);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.body, "{\"error\":{\"message\":\"The model `gpt-9` does not exist.\","
                                "\"type\":\"NotFoundError\",\"code\":404}}");
    resp_free(&r);
    assert_int_equal(
        fetch(sim_port(s), "/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":2}", NULL, &r),
        CURLE_OK);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    sim_stop(s);
}

static void api_key_guards_v1_but_not_metrics_or_health(void **state)
{
    (void)state;
    sim_options o = opts_fast();
    snprintf(o.api_key, sizeof o.api_key, "sk-test-1234");
    sim_server *s = sim_up(&o);
    int port = sim_port(s);
    resp r;
    fetch(port, "/v1/models", NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(r.body, "Incorrect API key provided"));
    resp_free(&r);
    fetch(port, "/v1/models", NULL, "Authorization: Bearer sk-wrong", &r);
    assert_int_equal(r.status, 401);
    resp_free(&r);
    fetch(port, "/v1/completions", "{\"prompt\":\"a\",\"max_tokens\":1}",
          "Authorization: sk-test-1234", &r);
    assert_int_equal(r.status, 401);
    resp_free(&r);
    fetch(port, "/v1/models", NULL, "Authorization: Bearer sk-test-1234", &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    fetch(port, "/metrics", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    fetch(port, "/health", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    sim_stop(s);
}

static void bad_json_is_400_wrong_method_405_bad_max_tokens_400(void **state)
{
    (void)state;
    sim_options o = opts_fast();
    sim_server *s = sim_up(&o);
    int port = sim_port(s);
    resp r;
    fetch(port, "/v1/chat/completions", "{\"messages\": [", NULL, &r);
    assert_int_equal(r.status, 400);
    cJSON *j = cJSON_Parse(r.body);
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "message"));
    cJSON_Delete(j);
    resp_free(&r);
    fetch(port, "/v1/chat/completions", "{\"model\":\"llmload-sim\"}", NULL, &r);
    assert_int_equal(r.status, 400);
    resp_free(&r);
    fetch(port, "/v1/completions", "{\"prompt\":\"a\",\"max_tokens\":0}", NULL, &r);
    assert_int_equal(r.status, 400);
    resp_free(&r);
    fetch(port, "/v1/chat/completions", NULL, NULL, &r); /* GET on a POST endpoint */
    assert_int_equal(r.status, 405);
    resp_free(&r);
    fetch(port, "/v1/models", "{}", NULL, &r); /* POST on a GET endpoint */
    assert_int_equal(r.status, 405);
    resp_free(&r);
    sim_stop(s);
}

static void body_over_8_mib_gets_413(void **state)
{
    (void)state;
    sim_options o = opts_fast();
    sim_server *s = sim_up(&o);
    size_t n = (9u << 20);
    char *big = malloc(n + 1);
    memset(big, 'a', n);
    big[n] = '\0';
    resp r;
    fetch(sim_port(s), "/v1/completions", big, NULL, &r);
    assert_int_equal(r.status, 413);
    resp_free(&r);
    free(big);
    sim_stop(s);
}

/* Raw bytes over a libcurl CONNECT_ONLY connection, read until `until` appears twice. */
static char *raw_exchange(int port, const char *send, const char *until, int times)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
    assert_int_equal(curl_easy_perform(e), CURLE_OK);
    size_t sent = 0;
    assert_int_equal(curl_easy_send(e, send, strlen(send), &sent), CURLE_OK);
    assert_int_equal(sent, strlen(send));
    curl_socket_t fd;
    curl_easy_getinfo(e, CURLINFO_ACTIVESOCKET, &fd);
    size_t cap = 65536, len = 0;
    char *buf = calloc(1, cap);
    double deadline = mono_s() + 5;
    for (;;) {
        int seen = 0;
        for (const char *p = buf; (p = strstr(p, until)) != NULL; p++)
            seen++;
        if (seen >= times || mono_s() > deadline)
            break;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        poll(&pfd, 1, 100);
        size_t got = 0;
        CURLcode rc = curl_easy_recv(e, buf + len, cap - len - 1, &got);
        if (rc == CURLE_AGAIN)
            continue;
        if (rc != CURLE_OK || got == 0)
            break;
        len += got;
        buf[len] = '\0';
    }
    curl_easy_cleanup(e);
    return buf;
}

static void pipelined_requests_are_answered_in_order(void **state)
{
    (void)state;
    sim_options o = opts_fast();
    o.decode_rate = 100; /* the first answer takes ~50 ms, the second none */
    sim_server *s = sim_up(&o);
    const char *two = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      "application/json\r\nContent-Length: 30\r\n\r\n"
                      "{\"prompt\":\"ab\",\"max_tokens\":5}"
                      "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
    char *got = raw_exchange(sim_port(s), two, "HTTP/1.1 200 OK", 2);
    char *first = strstr(got, "text_completion");
    char *second = strstr(got, "{\"status\":\"ok\"}");
    assert_non_null(first);
    assert_non_null(second);
    assert_true(first < second);
    free(got);
    /* garbage is a 400 and a closed connection, not a crash */
    got = raw_exchange(sim_port(s), "NOT HTTP AT ALL\r\n\r\n", "HTTP/1.1 400", 1);
    assert_non_null(strstr(got, "HTTP/1.1 400"));
    free(got);
    sim_stop(s);
}

/* An HTTP/1.0 client knows no chunked encoding: its stream comes unframed and ends when
 * the server closes the connection. */
static void http10_stream_is_unframed_and_ends_with_a_close(void **state)
{
    (void)state;
    sim_options o = opts_fast();
    sim_server *s = sim_up(&o);
    const char *req = "POST /v1/chat/completions HTTP/1.0\r\nContent-Type: application/json\r\n"
                      "Content-Length: 62\r\n\r\n"
                      "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true}   ";
    assert_int_equal(strlen(strstr(req, "{")), 62);
    /* "until" never matches: read to the close (or 5 s) */
    char *got = raw_exchange(sim_port(s), req, "NEVER-IN-THE-ANSWER", 1);
    assert_non_null(strstr(got, "HTTP/1.1 200 OK"));
    assert_null(strstr(got, "chunked"));
    assert_non_null(strstr(got, "Connection: close"));
    char *body = strstr(got, "\r\n\r\n");
    assert_non_null(body);
    body += 4;
    assert_true(strncmp(body, "data: {", 7) == 0); /* no chunk-size line before the event */
    assert_non_null(strstr(body, "data: [DONE]\n\n"));
    assert_null(strstr(body, "\r\n")); /* no chunk framing anywhere in the body */
    free(got);
    sim_stop(s);
}

/* --close-after-stream: keep-alive advertised, yet a request sent after the stream gets no
 * answer and the connection closes MS ms later (llama.cpp's server does this). */
static void close_after_stream_answers_nothing_more_and_closes(void **state)
{
    (void)state;
    sim_options o = opts_fast();
    o.close_after_stream_ms = 100;
    sim_server *s = sim_up(&o);
    const char *two = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      "application/json\r\nContent-Length: 44\r\n\r\n"
                      "{\"prompt\":\"ab\",\"max_tokens\":3,\"stream\":true}"
                      "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
    double t0 = mono_s();
    char *got = raw_exchange(sim_port(s), two, "NEVER-IN-THE-ANSWER", 1); /* to the close */
    double took = mono_s() - t0;
    assert_non_null(strstr(got, "Connection: keep-alive"));
    assert_non_null(strstr(got, "data: [DONE]"));
    assert_null(strstr(got, "{\"status\":\"ok\"}"));
    assert_true(took >= 0.1 && took < 3);
    free(got);
    sim_stop(s);
}

/* --no-done: finish_reason and usage, then nothing: no [DONE], no end of the chunked body. */
static void no_done_stream_ends_with_usage_and_stays_open(void **state)
{
    (void)state;
    sim_options o = opts_fast();
    o.no_done = true;
    sim_server *s = sim_up(&o);
    const char *req = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      "application/json\r\nContent-Length: 114\r\n\r\n"
                      "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":3,"
                      "\"stream\":true,\"stream_options\":{\"include_usage\":true}}";
    assert_int_equal(strlen(strstr(req, "{")), 114);
    char *got = raw_exchange(sim_port(s), req, "completion_tokens", 1);
    assert_non_null(strstr(got, "\"finish_reason\":\"length\""));
    assert_non_null(strstr(got, "completion_tokens"));
    assert_null(strstr(got, "[DONE]"));
    assert_null(strstr(got, "\r\n0\r\n\r\n"));
    free(got);
    sim_stop(s);
}

/* ---- the serving model ---- */

static void requests_beyond_slots_wait_one_service_time(void **state)
{
    (void)state;
    sim_options o = opts_fast();
    o.slots = 2;
    o.decode_rate = 200;
    o.base_latency_s = 0.02;
    o.prefill_rate = 1e6;
    sim_server *s = sim_up(&o);
    const char *body = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":20,"
                       "\"ignore_eos\":true,\"stream\":true}";
    enum { N = 4 };
    resp r[N];
    CURL *e[N];
    struct curl_slist *h = headers_for(NULL);
    CURLM *m = curl_multi_init();
    double t0 = mono_s();
    for (int i = 0; i < N; i++) {
        resp_init(&r[i]);
        r[i].t0 = t0;
        e[i] = easy_for(sim_port(s), "/v1/chat/completions", body, h, &r[i]);
        curl_multi_add_handle(m, e[i]);
    }
    int running = 1;
    while (running && mono_s() - t0 < 10) {
        curl_multi_perform(m, &running);
        curl_multi_poll(m, NULL, 0, 20, NULL);
    }
    double ttft[N];
    for (int i = 0; i < N; i++) {
        assert_true(r[i].first_content > 0);
        ttft[i] = r[i].first_content;
    }
    for (int i = 0; i < N; i++) /* sort */
        for (int k = i + 1; k < N; k++)
            if (ttft[k] < ttft[i]) {
                double t = ttft[i];
                ttft[i] = ttft[k];
                ttft[k] = t;
            }
    double service = 0.02 + 19 / 200.0; /* base + 19 token intervals at 200 tok/s */
    for (int i = 0; i < 2; i++) {
        double wait = ttft[i + 2] - ttft[i];
        if (getenv("SIM_TEST_VERBOSE") || wait < 0.7 * service || wait > 1.3 * service)
            fprintf(stderr, "queued TTFT %.3f vs %.3f (service %.3f)\n", ttft[i + 2], ttft[i],
                    service);
        assert_true(wait >= 0.7 * service && wait <= 1.3 * service);
    }
    for (int i = 0; i < N; i++) {
        curl_multi_remove_handle(m, e[i]);
        curl_easy_cleanup(e[i]);
        resp_free(&r[i]);
    }
    curl_multi_cleanup(m);
    curl_slist_free_all(h);
    sim_stop(s);
}

/* Issue 13: the simulator counts tokens by word pieces, not by llmload's chars/4, and
 * answers /tokenize in llama.cpp's and vLLM's shapes with the same count. */
static void tokenize_counts_word_pieces_in_both_servers_shapes(void **state)
{
    (void)state;
    assert_int_equal(simtok_count("Hello, world"), 5);
    assert_int_equal(simtok_count("  a  bb ccc dddd "), 5);
    assert_int_equal(simtok_count("x\xc3\xa9z!"), 4);
    assert_int_equal(simtok_count(""), 0);
    sim_options o = opts_fast();
    sim_server *s = sim_up(&o);
    resp r;
    assert_int_equal(fetch(sim_port(s), "/tokenize", "{\"content\":\"Hello, world\"}", NULL, &r),
                     CURLE_OK);
    assert_int_equal(r.status, 200);
    cJSON *j = cJSON_Parse(r.body);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "tokens")), 5);
    cJSON_Delete(j);
    resp_free(&r);
    fetch(sim_port(s), "/tokenize", "{\"model\":\"m\",\"prompt\":\"Hello, world\"}", NULL, &r);
    j = cJSON_Parse(r.body);
    assert_int_equal(cJSON_GetObjectItem(j, "count")->valueint, 6); /* with BOS */
    cJSON_Delete(j);
    resp_free(&r);
    fetch(sim_port(s), "/tokenize", "{\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}",
          NULL, &r);
    j = cJSON_Parse(r.body);
    assert_int_equal(cJSON_GetObjectItem(j, "count")->valueint,
                     2 + SIMTOK_PER_MESSAGE + SIMTOK_PRIMER);
    cJSON_Delete(j);
    resp_free(&r);
    fetch(sim_port(s), "/tokenize", "{\"text\":1}", NULL, &r);
    assert_int_equal(r.status, 400);
    resp_free(&r);
    /* a chat request's usage counts the same tokens plus the template */
    fetch(sim_port(s), "/v1/chat/completions",
          "{\"messages\":[{\"role\":\"user\",\"content\":\"Hello, world\"}],\"max_tokens\":1}",
          NULL, &r);
    assert_non_null(strstr(r.body, "\"prompt_tokens\":12,")); /* 5 + 4 + 3 */
    resp_free(&r);
    sim_stop(s);
}

/* --timings ends each answer with llama.cpp's timings: the model's prefill (base latency +
 * prompt / prefill rate) and decode; --drop-last-rate 100 keeps the last token chunk from
 * the client while usage and timings still count it. */
static void timings_and_a_dropped_last_chunk(void **state)
{
    (void)state;
    sim_options o = opts_fast();
    o.timings = true;
    o.base_latency_s = 0.02;
    o.drop_last_pct = 100;
    sim_server *s = sim_up(&o);
    resp r;
    const char *body = "{\"prompt\":\"Once upon a time\",\"max_tokens\":7,\"stream\":true,"
                       "\"stream_options\":{\"include_usage\":true}}";
    fetch(sim_port(s), "/v1/completions", body, NULL, &r);
    sse_summary ss;
    sse_summarize(r.body, false, &ss);
    assert_int_equal(ss.content, 6);
    assert_int_equal(ss.usage_completion, 7);
    const char *t = strstr(r.body, "\"timings\":{");
    assert_non_null(t);
    assert_non_null(strstr(t, "\"prompt_n\":8,"));
    assert_non_null(strstr(t, "\"predicted_n\":7,"));
    double prompt_ms = atof(strstr(t, "\"prompt_ms\":") + 12);
    assert_true(prompt_ms >= 19.0 && prompt_ms < 200.0);
    resp_free(&r);
    /* not streamed: the timings sit beside usage */
    fetch(sim_port(s), "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":3}", NULL, &r);
    cJSON *j = cJSON_Parse(r.body);
    assert_int_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "timings"), "predicted_n")->valueint, 3);
    cJSON_Delete(j);
    resp_free(&r);
    sim_stop(s);
}

static void metrics_count_tokens_and_requests(void **state)
{
    (void)state;
    sim_options o = opts_fast();
    sim_server *s = sim_up(&o);
    resp r;
    fetch(sim_port(s), "/v1/completions", "{\"prompt\":\"abcdefgh\",\"max_tokens\":6}", NULL, &r);
    resp_free(&r);
    fetch(sim_port(s), "/metrics", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\nllmload_sim:generation_tokens_total 6\n"));
    assert_non_null(strstr(r.body, "\nllmload_sim:prompt_tokens_total 4\n")); /* 3 + BOS */
    assert_non_null(strstr(r.body, "\nllmload_sim:requests_total 1\n"));
    assert_non_null(strstr(r.body, "\nllmload_sim:requests_running 0\n"));
    assert_non_null(strstr(r.body, "\nllmload_sim:requests_waiting 0\n"));
    resp_free(&r);
    sim_stop(s);
}

static void same_seed_repeats_output_lengths(void **state)
{
    (void)state;
    long lens[2][8];
    for (int run = 0; run < 2; run++) {
        sim_options o = opts_fast();
        o.seed = 42;
        o.mean_output = 6;
        sim_server *s = sim_up(&o);
        for (int i = 0; i < 8; i++) {
            resp r;
            fetch(sim_port(s), "/v1/completions", "{\"prompt\":\"a\",\"max_tokens\":40}", NULL, &r);
            cJSON *j = cJSON_Parse(r.body);
            cJSON *u = cJSON_GetObjectItem(j, "usage");
            lens[run][i] = (long)cJSON_GetObjectItem(u, "completion_tokens")->valuedouble;
            cJSON_Delete(j);
            resp_free(&r);
        }
        sim_stop(s);
    }
    bool varied = false;
    for (int i = 0; i < 8; i++) {
        assert_int_equal(lens[0][i], lens[1][i]);
        assert_true(lens[0][i] >= 1 && lens[0][i] <= 40);
        varied |= lens[0][i] != lens[0][0];
    }
    assert_true(varied); /* a distribution, not a constant */
}

/* ---- faults ---- */

static void error_rate_100_answers_429_500_503_and_429_has_retry_after(void **state)
{
    (void)state;
    sim_options o = opts_fast();
    o.error_rate_pct = 100;
    sim_server *s = sim_up(&o);
    int seen[3] = {0, 0, 0};
    for (int i = 0; i < 30; i++) {
        resp r;
        fetch(sim_port(s), "/v1/chat/completions",
              "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":true}", NULL, &r);
        assert_true(r.status == 429 || r.status == 500 || r.status == 503);
        seen[r.status == 429 ? 0 : r.status == 500 ? 1 : 2]++;
        if (r.status == 429)
            assert_non_null(strcasestr(r.headers, "\r\nRetry-After: 1\r\n"));
        cJSON *j = cJSON_Parse(r.body);
        assert_non_null(cJSON_GetObjectItem(j, "error"));
        cJSON_Delete(j);
        resp_free(&r);
    }
    assert_true(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
    sim_stop(s);
}

static void cut_stream_closes_without_done_or_final_chunk(void **state)
{
    (void)state;
    sim_options o = opts_fast();
    o.cut_rate_pct = 100;
    sim_server *s = sim_up(&o);
    resp r;
    CURLcode rc = fetch(sim_port(s), "/v1/chat/completions", chat_stream_usage, NULL, &r);
    assert_int_not_equal(rc, CURLE_OK); /* the chunked body never terminates */
    sse_summary ss;
    sse_summarize(r.body, true, &ss);
    assert_false(ss.done);
    assert_int_equal(ss.content, 6); /* about half of 12 */
    assert_string_equal(ss.finish, "");
    resp_free(&r);
    /* the server is still fine afterwards */
    fetch(sim_port(s), "/health", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    sim_stop(s);
}

static void malformed_chunk_fails_json_parse_and_stream_goes_on(void **state)
{
    (void)state;
    sim_options o = opts_fast();
    o.malformed_rate_pct = 100;
    sim_server *s = sim_up(&o);
    resp r;
    assert_int_equal(fetch(sim_port(s), "/v1/chat/completions", chat_stream_usage, NULL, &r),
                     CURLE_OK);
    sse_summary ss;
    sse_summarize(r.body, true, &ss);
    assert_int_equal(ss.bad_json, 1);
    assert_int_equal(ss.content, 12);
    assert_true(ss.done);
    resp_free(&r);
    sim_stop(s);
}

static void stall_stops_the_stream_for_stall_seconds(void **state)
{
    (void)state;
    sim_options o = opts_fast();
    o.stall_rate_pct = 100;
    o.stall_s = 0.3;
    sim_server *s = sim_up(&o);
    resp r;
    assert_int_equal(fetch(sim_port(s), "/v1/chat/completions", chat_stream_usage, NULL, &r),
                     CURLE_OK);
    assert_true(r.max_gap >= 0.29);
    sse_summary ss;
    sse_summarize(r.body, true, &ss);
    assert_int_equal(ss.content, 12);
    assert_true(ss.done);
    resp_free(&r);
    sim_stop(s);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Tokens 0.4 ms apart leave the simulator 0.4 ms apart. A timer that counted whole
 * milliseconds let them out in bursts once per millisecond (curl hands each chunk over on
 * its own, so the gaps were ~0 within a burst and ~1 ms between): median ~0.002 ms, and
 * every token up to 1 ms late (bench/RESULTS.md §5). A machine busy with other tests can
 * hold either thread back, so the best of three streams counts. */
static void tokens_paced_finer_than_a_millisecond_leave_one_at_a_time(void **state)
{
    (void)state;
    sim_options o = opts_fast();
    o.base_latency_s = 0.002;
    o.decode_rate = 2500;
    sim_server *s = sim_up(&o);
    static const char body[] =
        "{\"model\":\"llmload-sim\",\"messages\":[{\"role\":\"user\",\"content\":\"Go.\"}],"
        "\"max_tokens\":300,\"ignore_eos\":true,\"stream\":true}";
    double median = 0;
    for (int attempt = 0; attempt < 3 && !(median >= 0.0002 && median < 0.0007); attempt++) {
        resp r;
        assert_int_equal(fetch(sim_port(s), "/v1/chat/completions", body, NULL, &r), CURLE_OK);
        sse_summary ss;
        sse_summarize(r.body, true, &ss);
        assert_int_equal(ss.content, 300);
        assert_true(r.ngaps >= 100);
        qsort(r.gaps, (size_t)r.ngaps, sizeof r.gaps[0], cmp_double);
        median = r.gaps[r.ngaps / 2];
        fprintf(stderr, "median gap between arrivals %.3f ms over %d\n", median * 1e3, r.ngaps);
        resp_free(&r);
    }
    assert_true(median >= 0.0002 && median < 0.0007);
    sim_stop(s);
}

static void slow_headers_delay_the_first_byte(void **state)
{
    (void)state;
    sim_options o = opts_fast();
    o.slow_headers_s = 0.3;
    sim_server *s = sim_up(&o);
    resp r;
    fetch(sim_port(s), "/v1/models", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(r.ttfb >= 0.29);
    resp_free(&r);
    assert_int_equal(fetch(sim_port(s), "/v1/chat/completions", chat_stream_usage, NULL, &r),
                     CURLE_OK);
    assert_true(r.ttfb >= 0.29);
    resp_free(&r);
    sim_stop(s);
}

/* ---- life cycle ---- */

static void stop_with_open_streams_returns_promptly(void **state)
{
    (void)state;
    sim_options o = opts_fast();
    o.decode_rate = 5;
    o.slots = 2; /* two decoding, two queued */
    sim_server *s = sim_up(&o);
    const char *body = "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":1000,"
                       "\"stream\":true}";
    enum { N = 4 };
    resp r[N];
    CURL *e[N];
    struct curl_slist *h = headers_for(NULL);
    CURLM *m = curl_multi_init();
    for (int i = 0; i < N; i++) {
        resp_init(&r[i]);
        e[i] = easy_for(sim_port(s), "/v1/chat/completions", body, h, &r[i]);
        curl_multi_add_handle(m, e[i]);
    }
    int running = N;
    double t0 = mono_s();
    for (;;) { /* until every stream has its headers */
        curl_multi_perform(m, &running);
        int with = 0;
        for (int i = 0; i < N; i++)
            with += r[i].hlen > 0;
        if (with == N || mono_s() - t0 > 5)
            break;
        curl_multi_poll(m, NULL, 0, 20, NULL);
    }
    double t = mono_s();
    sim_stop(s);
    assert_true(mono_s() - t < 1.0);
    t0 = mono_s();
    while (running && mono_s() - t0 < 5) {
        curl_multi_perform(m, &running);
        curl_multi_poll(m, NULL, 0, 20, NULL);
    }
    assert_int_equal(running, 0);
    for (int i = 0; i < N; i++) {
        assert_null(strstr(r[i].body ? r[i].body : "", "[DONE]"));
        curl_multi_remove_handle(m, e[i]);
        curl_easy_cleanup(e[i]);
        resp_free(&r[i]);
    }
    curl_multi_cleanup(m);
    curl_slist_free_all(h);
}

static void busy_port_fails_with_a_sentence(void **state)
{
    (void)state;
    sim_options o = opts_fast();
    sim_server *a = sim_up(&o);
    o.port = sim_port(a);
    char err[256] = "";
    sim_server *b = NULL;
    assert_int_equal(sim_start(&o, &b, err, sizeof err), -1);
    assert_null(b);
    assert_non_null(strstr(err, "is in use: choose another with --port"));
    sim_stop(a);
    sim_stop(NULL);
}

/* Reads the child's stdout until the listening line; returns the port or -1. */
static int read_listening_port(int fd, double timeout_s)
{
    char buf[1024] = "";
    size_t len = 0;
    double end = mono_s() + timeout_s;
    while (mono_s() < end && len < sizeof buf - 1) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        const char *at = strstr(buf, "listening on http://127.0.0.1:");
        if (at && strstr(at, "/v1\n"))
            return atoi(at + strlen("listening on http://127.0.0.1:"));
    }
    return -1;
}

static int wait_exit(pid_t pid, double timeout_s)
{
    double end = mono_s() + timeout_s;
    int st = 0;
    while (mono_s() < end) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

static void sim_command_prints_url_and_exits_0_on_sigint_or_2_on_busy_port(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    char *argv[] = {LLM_BINARY, "sim", "--port", "0", "--quiet", NULL};
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, LLM_BINARY, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    int port = read_listening_port(fds[0], 10);
    assert_true(port > 0);
    resp r;
    fetch(port, "/health", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    /* the same port again: one sentence and exit code 2 */
    char portarg[16];
    snprintf(portarg, sizeof portarg, "%d", port);
    char *argv2[] = {LLM_BINARY, "sim", "--port", portarg, NULL};
    tu_result res;
    tu_run(argv2, NULL, NULL, 10, &res);
    assert_int_equal(res.exit_code, 2);
    assert_non_null(strstr(res.err, "is in use: choose another with --port"));
    tu_result_free(&res);
    kill(pid, SIGINT);
    assert_int_equal(wait_exit(pid, 5), 0);
    close(fds[0]);
}

static int group_setup(void **state)
{
    (void)state;
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    curl_global_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(models_list_names_the_served_model_over_one_connection),
        cmocka_unit_test(chat_stream_is_role_then_one_chunk_per_token_then_usage_then_done),
        cmocka_unit_test(stream_without_include_usage_sends_no_usage_chunk),
        cmocka_unit_test(completions_stream_carries_text_in_choices),
        cmocka_unit_test(nonstream_chat_reports_usage_with_prompt_tokens_by_its_own_tokenizer),
        cmocka_unit_test(tokenize_counts_word_pieces_in_both_servers_shapes),
        cmocka_unit_test(timings_and_a_dropped_last_chunk),
        cmocka_unit_test(unknown_paths_get_llama_style_404_even_without_v1_prefix),
        cmocka_unit_test(unknown_model_gets_404_and_missing_model_is_served),
        cmocka_unit_test(api_key_guards_v1_but_not_metrics_or_health),
        cmocka_unit_test(bad_json_is_400_wrong_method_405_bad_max_tokens_400),
        cmocka_unit_test(body_over_8_mib_gets_413),
        cmocka_unit_test(pipelined_requests_are_answered_in_order),
        cmocka_unit_test(http10_stream_is_unframed_and_ends_with_a_close),
        cmocka_unit_test(close_after_stream_answers_nothing_more_and_closes),
        cmocka_unit_test(no_done_stream_ends_with_usage_and_stays_open),
        cmocka_unit_test(requests_beyond_slots_wait_one_service_time),
        cmocka_unit_test(metrics_count_tokens_and_requests),
        cmocka_unit_test(same_seed_repeats_output_lengths),
        cmocka_unit_test(error_rate_100_answers_429_500_503_and_429_has_retry_after),
        cmocka_unit_test(cut_stream_closes_without_done_or_final_chunk),
        cmocka_unit_test(malformed_chunk_fails_json_parse_and_stream_goes_on),
        cmocka_unit_test(stall_stops_the_stream_for_stall_seconds),
        cmocka_unit_test(tokens_paced_finer_than_a_millisecond_leave_one_at_a_time),
        cmocka_unit_test(slow_headers_delay_the_first_byte),
        cmocka_unit_test(stop_with_open_streams_returns_promptly),
        cmocka_unit_test(busy_port_fails_with_a_sentence),
        cmocka_unit_test(sim_command_prints_url_and_exits_0_on_sigint_or_2_on_busy_port),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
