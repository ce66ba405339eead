/* Tests for request: one slot's request against canned server answers — the failure class
 * and message of every answer that is not a stream (empty bodies, redirects, compressed or
 * JSON answers), --no-stream answers of any size, and a buffered stream's one_read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "engine/request.h"
#include "testutil.h"

static uint32_t token_reads;
static const char *test_key = "sk-request-test-secret";

static void count_tokens(req_slot *s, uint32_t count, uint64_t gap_ns)
{
    (void)s;
    (void)count;
    (void)gap_ns;
    token_reads++;
}

/* Sends one request from a fresh slot to a server that answers `reply`; fills *ev. */
static void exchange(const char *reply, size_t len, bool stream, llm_event *ev)
{
    tu_canned *srv = tu_canned_start(reply, len);
    assert_non_null(srv);
    char base[64], err[256];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/v1", tu_canned_port(srv));
    llm_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.url = base;
    cfg.prompt_chars = 40;
    cfg.max_tokens = 4;
    cfg.temperature = -1;
    cfg.no_stream = !stream;
    cfg.connect_timeout_s = 5;
    cfg.request_timeout_s = 10;
    cfg.api_key = (char *)test_key; /* only read */
    char *url = config_endpoint_url(&cfg, "/chat/completions");
    struct curl_slist *headers = request_headers(&cfg);
    req_slot *s = calloc(1, sizeof *s);
    assert_non_null(s);
    if (request_slot_init(s, &cfg, url, headers, NULL, 0, true, false, err, sizeof err) != 0)
        fail_msg("request_slot_init: %s", err);
    s->on_tokens = count_tokens;
    token_reads = 0;
    uint64_t now = llm_now_ns();
    request_begin(s, 1, now, now, 0, false, NULL);
    CURLcode rc = curl_easy_perform(s->easy);
    request_finish(s, rc, llm_now_ns(), ev);
    if (ev->kind == EV_REQUEST_FAILED)
        print_message("HTTP %u, %s: %s\n", ev->u.failed.http_status,
                      err_class_name((err_class)ev->u.failed.err_class), ev->u.failed.message);
    request_slot_free(s);
    free(s);
    curl_slist_free_all(headers);
    free(url);
    tu_canned_stop(srv);
}

#define EXCHANGE(lit, stream, ev) exchange((lit), sizeof(lit) - 1, (stream), (ev))

static void assert_failed(const llm_event *ev, err_class cls, unsigned status, const char *says)
{
    assert_int_equal(ev->kind, EV_REQUEST_FAILED);
    assert_int_equal(ev->u.failed.err_class, cls);
    assert_int_equal(ev->u.failed.http_status, status);
    if (!strstr(ev->u.failed.message, says))
        fail_msg("message \"%s\" does not say \"%s\"", ev->u.failed.message, says);
    char status_text[16];
    snprintf(status_text, sizeof status_text, "HTTP %u", status);
    assert_non_null(strstr(ev->u.failed.message, status_text));
}

static void empty_429_and_503_are_filed_by_their_status(void **state)
{
    (void)state;
    llm_event ev;
    EXCHANGE("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n", true,
             &ev);
    assert_failed(&ev, ERR_HTTP_429, 429, "empty body");
    EXCHANGE("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", true, &ev);
    assert_failed(&ev, ERR_HTTP_5XX, 503, "empty body");
    EXCHANGE("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", false, &ev);
    assert_failed(&ev, ERR_HTTP_5XX, 503, "empty body");
}

static void redirect_names_where_to_and_the_url_option(void **state)
{
    (void)state;
    llm_event ev;
    EXCHANGE("HTTP/1.1 302 Found\r\nLocation: https://user:hunter2@api.example.com/v1/chat/"
             "completions\r\nContent-Length: 0\r\n\r\n",
             true, &ev);
    assert_failed(&ev, ERR_OTHER, 302, "redirected to https://api.example.com/v1");
    assert_non_null(strstr(ev.u.failed.message, "--url"));
    assert_null(strstr(ev.u.failed.message, "hunter2"));
    /* with an HTML body, as most servers send, the redirect still wins */
    EXCHANGE("HTTP/1.1 301 Moved Permanently\r\nLocation: http://host:8000/v1/chat/completions\r\n"
             "Content-Type: text/html\r\nContent-Length: 20\r\n\r\n<html>moved</html>\r\n",
             true, &ev);
    assert_failed(&ev, ERR_OTHER, 301, "redirected to http://host:8000/v1");
}

static void empty_200_says_the_body_was_empty(void **state)
{
    (void)state;
    llm_event ev;
    EXCHANGE("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 0\r\n\r\n",
             true, &ev);
    assert_failed(&ev, ERR_STREAM, 200, "HTTP 200 with an empty body");
    EXCHANGE("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n",
             false, &ev);
    assert_failed(&ev, ERR_STREAM, 200, "HTTP 200 with an empty body");
}

static void compressed_stream_blames_the_compression_not_streaming(void **state)
{
    (void)state;
    llm_event ev;
    EXCHANGE("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Encoding: gzip\r\n"
             "Content-Length: 24\r\n\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\n\x01\x02\x03"
             "\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d",
             true, &ev);
    assert_failed(&ev, ERR_STREAM, 200, "compressed the stream (Content-Encoding: gzip)");
    assert_null(strstr(ev.u.failed.message, "stream: true"));
}

static void json_answer_to_a_stream_request_suspects_stream_false(void **state)
{
    (void)state;
    llm_event ev;
    EXCHANGE(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 73\r\n\r\n"
        "{\"choices\":[{\"message\":{\"content\":\"hi there\"},\"finish_reason\":\"stop\"}]}\r\n",
        true, &ev);
    assert_failed(&ev, ERR_STREAM, 200,
                  "one JSON document, not an SSE stream (stream set to false");
    assert_non_null(strstr(ev.u.failed.message, "--body-json"));
}

/* A --no-stream answer of `content` bytes of text. */
static char *whole_answer(size_t content, size_t *len)
{
    static const char head[] = "{\"model\":\"m\",\"choices\":[{\"message\":{\"content\":\"";
    static const char tail[] = "\"},\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":"
                               "10,\"completion_tokens\":4096}}";
    size_t body = sizeof head - 1 + content + sizeof tail - 1;
    char *r = malloc(body + 128);
    assert_non_null(r);
    int n = snprintf(r, 128,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     body, head);
    memset(r + n, 'a', content);
    memcpy(r + n + content, tail, sizeof tail);
    *len = (size_t)n + content + sizeof tail - 1;
    return r;
}

static void no_stream_answers_grow_past_64_kib_up_to_16_mib(void **state)
{
    (void)state;
    llm_event ev;
    size_t len;
    char *reply = whole_answer(300 * 1024, &len);
    exchange(reply, len, false, &ev);
    free(reply);
    assert_int_equal(ev.kind, EV_REQUEST_DONE);
    assert_int_equal(ev.u.done.output_tokens, 4096);
    assert_true(ev.u.done.usage_reported);

    reply = whole_answer(17u << 20, &len);
    exchange(reply, len, false, &ev);
    free(reply);
    assert_failed(&ev, ERR_STREAM, 200, "exceeded 16 MiB");
}

static void stream_that_arrives_in_one_read_is_marked_one_read(void **state)
{
    (void)state;
    static const char sse[] = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n"
                              "data: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\n"
                              "data: {\"choices\":[{\"delta\":{\"content\":\"c\"}}]}\n\n"
                              "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
                              "data: [DONE]\n\n";
    char reply[1024];
    int n = snprintf(reply, sizeof reply,
                     "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     sizeof sse - 1, sse);
    llm_event ev;
    exchange(reply, (size_t)n, true, &ev);
    assert_int_equal(ev.kind, EV_REQUEST_DONE);
    assert_int_equal(ev.u.done.content_events, 3);
    assert_int_equal(token_reads, 1);
    assert_true(ev.u.done.one_read);
}

/* A kept-alive connection the server drops when the next request arrives: curl re-sends that
 * request on a new connection by itself. It is counted as a reconnect, not hidden. */
static void curls_own_resend_on_a_dead_reused_connection_is_a_reconnect(void **state)
{
    (void)state;
    static const char reply[] =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: keep-alive\r\n"
        "Content-Length: 84\r\n\r\n"
        "data: {\"choices\":[{\"delta\":{\"content\":\"a\"},\"finish_reason\":\"stop\"}]}\n\n"
        "data: [DONE]\n\n";
    tu_canned *srv = tu_canned_start_keepalive_once(reply, sizeof reply - 1);
    assert_non_null(srv);
    char base[64], err[256];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/v1", tu_canned_port(srv));
    llm_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.url = base;
    cfg.prompt_chars = 40;
    cfg.max_tokens = 4;
    cfg.temperature = -1;
    cfg.connect_timeout_s = 5;
    cfg.request_timeout_s = 10;
    char *url = config_endpoint_url(&cfg, "/chat/completions");
    struct curl_slist *headers = request_headers(&cfg);
    req_slot *s = calloc(1, sizeof *s);
    assert_non_null(s);
    if (request_slot_init(s, &cfg, url, headers, NULL, 0, true, false, err, sizeof err) != 0)
        fail_msg("request_slot_init: %s", err);
    s->on_tokens = count_tokens;
    llm_event ev[2];
    for (int i = 0; i < 2; i++) {
        uint64_t now = llm_now_ns();
        request_begin(s, (uint64_t)i + 1, now, now, 0, false, NULL);
        CURLcode rc = curl_easy_perform(s->easy);
        request_finish(s, rc, llm_now_ns(), &ev[i]);
        assert_int_equal(ev[i].kind, EV_REQUEST_DONE);
    }
    assert_int_equal(tu_canned_accepts(srv), 2);
    assert_true(ev[0].u.done.new_conn);
    assert_int_equal(ev[0].u.done.reconnects, 0);
    assert_true(ev[1].u.done.new_conn); /* its answer came over the second connection */
    assert_int_equal(ev[1].u.done.reconnects, 1);
    assert_true(ev[1].u.done.reconnect_lost_us > 0);
    request_slot_free(s);
    free(s);
    curl_slist_free_all(headers);
    free(url);
    tu_canned_stop(srv);
}

/* Issue 12 (secrets): a key echoed in an error body was cut to the message's length before
 * it was masked, so 52 characters of a 112-character key survived. Keys of 20 to 200
 * characters, placed so the cut falls at many points inside them: no 8 characters of the
 * key in a row ever reach the message. */
static void a_key_echoed_in_an_error_is_masked_before_the_message_is_cut(void **state)
{
    (void)state;
    static const size_t lens[] = {20, 57, 112, 200};
    char key[256], reply[1024], body[700];
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        snprintf(key, sizeof key, "sk-");
        for (size_t i = 3; i < lens[k]; i++)
            key[i] = (char)('a' + (i * 7 + k) % 26);
        key[lens[k]] = '\0';
        test_key = key;
        for (int pad = 0; pad < 96; pad += 9) {
            int n = snprintf(body, sizeof body,
                             "{\"error\":{\"message\":\"%*sIncorrect API key provided: %s\"}}", pad,
                             "", key);
            snprintf(reply, sizeof reply,
                     "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
                     "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
                     n, body);
            llm_event ev;
            exchange(reply, strlen(reply), true, &ev);
            assert_int_equal(ev.kind, EV_REQUEST_FAILED);
            for (size_t i = 0; i + 8 <= lens[k]; i++) {
                char piece[9];
                memcpy(piece, key + i, 8);
                piece[8] = '\0';
                if (strstr(ev.u.failed.message, piece))
                    fail_msg("key of %zu, pad %d: \"%s\" shows \"%s\"", lens[k], pad,
                             ev.u.failed.message, piece);
            }
        }
    }
    test_key = "sk-request-test-secret";
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_key_echoed_in_an_error_is_masked_before_the_message_is_cut),
        cmocka_unit_test(empty_429_and_503_are_filed_by_their_status),
        cmocka_unit_test(redirect_names_where_to_and_the_url_option),
        cmocka_unit_test(empty_200_says_the_body_was_empty),
        cmocka_unit_test(compressed_stream_blames_the_compression_not_streaming),
        cmocka_unit_test(json_answer_to_a_stream_request_suspects_stream_false),
        cmocka_unit_test(no_stream_answers_grow_past_64_kib_up_to_16_mib),
        cmocka_unit_test(stream_that_arrives_in_one_read_is_marked_one_read),
        cmocka_unit_test(curls_own_resend_on_a_dead_reused_connection_is_a_reconnect),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
