#include "engine/request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "proto/chunk.h"
#include "proto/http.h"

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata);

struct curl_slist *request_headers(const llm_config *cfg)
{
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Accept: text/event-stream");
    /* curl would otherwise wait up to 1 s for "100 Continue" before sending a long prompt. */
    h = curl_slist_append(h, "Expect:");
    if (cfg->api_key && *cfg->api_key) {
        size_t n = strlen(cfg->api_key) + 32;
        char *line = malloc(n);
        if (line) {
            snprintf(line, n, "Authorization: Bearer %s", cfg->api_key);
            h = curl_slist_append(h, line);
            memset(line, 0, n);
            free(line);
        }
    }
    for (size_t i = 0; i < cfg->n_headers; i++) {
        size_t n = strlen(cfg->headers[i].name) + strlen(cfg->headers[i].value) + 4;
        char *line = malloc(n);
        if (line) {
            snprintf(line, n, "%s: %s", cfg->headers[i].name, cfg->headers[i].value);
            h = curl_slist_append(h, line);
            free(line);
        }
    }
    return h;
}

static void slot_set_options(req_slot *s, const llm_config *cfg, const char *url,
                             struct curl_slist *headers)
{
    CURL *c = s->easy;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(c, CURLOPT_PRIVATE, s);
    http_apply_common(c, cfg, url);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
}

/* The input test's body: the same prompt length, one token asked for (seeds' -i). */
static int build_input_body(req_slot *s, const llm_config *cfg, const char *model, uint64_t seed,
                            char *err, size_t errlen)
{
    llm_config one = *cfg;
    one.max_tokens = 1;
    one.ignore_eos = false;
    return prompt_build(&one, model, seed, &s->input_body, err, errlen);
}

int request_slot_init(req_slot *s, const llm_config *cfg, const char *url,
                      struct curl_slist *headers, const char *model, uint32_t index,
                      bool output_body, bool input_body, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->index = index;
    s->api_key = cfg->api_key;
    s->streaming = !cfg->no_stream;
    uint64_t seed = (cfg->seed_set ? cfg->seed : 0x5eed) * 1000003ULL + index;
    /* Only the bodies the plan's steps send: a multimodal-only plan needs neither. */
    if (output_body && prompt_build(cfg, model, seed, &s->body, err, errlen) != 0)
        return -1;
    if (input_body && build_input_body(s, cfg, model, seed, err, errlen) != 0)
        return -1;
    s->sse_buf = malloc(REQUEST_SSE_BUF);
    s->easy = curl_easy_init();
    if (!s->sse_buf || !s->easy) {
        snprintf(err, errlen, "out of memory creating virtual user %u", index);
        return -1;
    }
    slot_set_options(s, cfg, url, headers);
    return 0;
}

void request_slot_free(req_slot *s)
{
    if (s->easy)
        curl_easy_cleanup(s->easy);
    free(s->sse_buf);
    free(s->wl_buf);
    workload_convo_free(&s->convo);
    prompt_free(&s->body);
    prompt_free(&s->input_body);
    memset(s, 0, sizeof *s);
}

void request_begin(req_slot *s, uint64_t request_number, uint64_t t_sched, uint64_t now,
                   uint32_t step, bool warmup, prompt_body *body)
{
    s->busy = true;
    s->warmup = warmup;
    s->aborted_ttft = false;
    s->step = step;
    s->t_sched = t_sched;
    s->t0 = now;
    s->t_first_byte = s->t_first_token = s->t_first_output = s->t_last_content = s->t_done = 0;
    s->content_events = s->read_tokens = 0;
    s->usage_completion = s->usage_prompt = s->cached_tokens = 0;
    s->cached = false;
    s->usage = s->finish = s->done_seen = s->stream_error = s->overflow = false;
    s->http_status = 0;
    s->error_body = false;
    s->errbody_len = s->whole_len = 0;
    s->stream_msg[0] = '\0';
    sse_init(&s->sse, s->sse_buf, REQUEST_SSE_BUF);
    s->sent = body && body->json ? body : &s->body;
    prompt_set_nonce(s->sent, request_number);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->sent->json);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->sent->len);
}

static void mark_stream_error(req_slot *s, const char *msg)
{
    if (s->stream_error)
        return;
    s->stream_error = true;
    llm_strlcpy(s->stream_msg, msg, sizeof s->stream_msg);
}

static void on_chunk(req_slot *s, const chunk_info *ci, uint64_t now)
{
    uint32_t n = (uint32_t)(ci->content_events + ci->reasoning_events);
    if (n > 0) {
        if (s->read_tokens == 0)
            s->read_first_gap = s->t_last_content ? now - s->t_last_content : 0;
        if (!s->t_first_token)
            s->t_first_token = now;
        s->t_last_content = now;
        s->content_events += n;
        s->read_tokens += n;
    }
    if (ci->content_events > 0 && !s->t_first_output)
        s->t_first_output = now;
    if (s->convo.capturing && ci->content_raw) /* --turns: the answer joins the history */
        workload_convo_capture(&s->convo, ci->content_raw, ci->content_raw_len);
    if (ci->finish)
        s->finish = true;
    if (ci->has_usage) {
        s->usage = true;
        s->usage_completion = ci->completion_tokens;
        s->usage_prompt = ci->prompt_tokens;
    }
    if (ci->has_cached) {
        s->cached = true;
        s->cached_tokens = ci->cached_tokens;
    }
}

static int on_sse_event(void *user, const char *event, size_t event_len, const char *data,
                        size_t data_len)
{
    req_slot *s = user;
    uint64_t now = s->t_read;
    chunk_info ci;
    chunk_decode_event(event, event_len, data, data_len, &ci);
    switch (ci.kind) {
    case CHUNK_DONE:
        s->done_seen = true;
        s->t_done = now;
        break;
    case CHUNK_ERROR: {
        char msg[96];
        snprintf(msg, sizeof msg, "error event in stream: %.70s", ci.message);
        mark_stream_error(s, msg);
        break;
    }
    case CHUNK_MALFORMED: {
        char msg[96];
        snprintf(msg, sizeof msg, "malformed chunk: %.76s", ci.message);
        mark_stream_error(s, msg);
        break;
    }
    case CHUNK_DATA:
        on_chunk(s, &ci, now);
        break;
    }
    return 0;
}

static size_t keep_whole(req_slot *s, const char *ptr, size_t n)
{
    if (s->whole_len + n > REQUEST_SSE_BUF) {
        s->overflow = true;
        mark_stream_error(s, "the answer exceeded 64 KiB");
        return n;
    }
    memcpy(s->sse_buf + s->whole_len, ptr, n);
    s->whole_len += n;
    return n;
}

/* One EV_TOKENS per read, not per event: events that arrive together share one clock
 * reading, one ring record and an ITL of 0 between them. */
static void flush_read_tokens(req_slot *s)
{
    if (s->read_tokens == 0)
        return;
    s->on_tokens(s, s->read_tokens, s->read_first_gap);
    s->read_tokens = 0;
}

/* --no-stream: the whole answer counts as one event that carries every token. */
static void decode_whole(req_slot *s, uint64_t now)
{
    chunk_info ci;
    chunk_decode_message(s->sse_buf, s->whole_len, &ci);
    if (ci.kind == CHUNK_ERROR || ci.kind == CHUNK_MALFORMED) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s answer: %.70s",
                 ci.kind == CHUNK_ERROR ? "error" : "malformed", ci.message);
        mark_stream_error(s, msg);
        return;
    }
    s->t_done = now;
    s->done_seen = true;
    on_chunk(s, &ci, now);
    flush_read_tokens(s);
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    req_slot *s = userdata;
    size_t n = size * nmemb;
    s->t_read = llm_now_ns();
    if (!s->t_first_byte) {
        s->t_first_byte = s->t_read;
        curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->http_status);
        s->error_body = s->http_status < 200 || s->http_status >= 300;
    }
    if (s->error_body) {
        size_t room = REQUEST_ERRBODY - 1 - s->errbody_len;
        size_t k = n < room ? n : room;
        memcpy(s->errbody + s->errbody_len, ptr, k);
        s->errbody_len += k;
        s->errbody[s->errbody_len] = '\0';
        return n;
    }
    if (!s->streaming)
        return keep_whole(s, ptr, n);
    if (sse_feed(&s->sse, ptr, n, on_sse_event, s) == SSE_ERR_OVERFLOW && !s->overflow) {
        s->overflow = true;
        mark_stream_error(s, "an SSE event exceeded 64 KiB");
    }
    flush_read_tokens(s);
    return n;
}

static err_class class_of_status(long status)
{
    if (status == 429)
        return ERR_HTTP_429;
    if (status >= 500)
        return ERR_HTTP_5XX;
    if (status >= 400)
        return ERR_HTTP_4XX;
    return ERR_OTHER;
}

static err_class class_of_curl(CURLcode rc, bool got_bytes)
{
    if (http_code_is_tls(rc))
        return ERR_TLS;
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return ERR_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return ERR_TIMEOUT;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP2:
    case CURLE_GOT_NOTHING:
        return got_bytes ? ERR_STREAM : ERR_OTHER;
    default:
        return ERR_OTHER;
    }
}

static void fail_message(req_slot *s, CURLcode rc, err_class cls, char *out, size_t cap)
{
    if (s->aborted_ttft) {
        snprintf(out, cap, "no first token within --ttft-timeout");
    } else if (rc != CURLE_OK) {
        snprintf(out, cap, "%s%s", curl_easy_strerror(rc),
                 cls == ERR_STREAM ? " (stream cut mid-way)" : "");
    } else if (s->error_body) {
        chunk_info ci;
        chunk_decode(s->errbody, s->errbody_len, &ci);
        if (s->sent->image &&
            (s->http_status == 400 || s->http_status == 415 || s->http_status == 422))
            snprintf(out, cap, "HTTP %ld to an image request: does the model take images? %.30s",
                     s->http_status, ci.kind == CHUNK_ERROR ? ci.message : "");
        else if (ci.kind == CHUNK_ERROR && http_rejected_field_advice(ci.message))
            snprintf(out, cap, "HTTP %ld: %s", s->http_status,
                     http_rejected_field_advice(ci.message));
        else if (ci.kind == CHUNK_ERROR && ci.message[0])
            snprintf(out, cap, "HTTP %ld: %.80s", s->http_status, ci.message);
        else if (s->errbody_len && s->errbody[0] == '<')
            snprintf(out, cap, "HTTP %ld with an HTML page, not JSON", s->http_status);
        else
            snprintf(out, cap, "HTTP %ld: %.60s", s->http_status, s->errbody);
    } else if (s->stream_error) {
        snprintf(out, cap, "%s", s->stream_msg);
    } else if (s->streaming && s->sse.events == 0) {
        snprintf(out, cap, "HTTP %ld but no SSE events: does the server support stream: true?",
                 s->http_status);
    } else {
        snprintf(out, cap, "stream ended without [DONE] or a finish_reason (cut)");
    }
    /* One line on screen: newlines from server bodies become spaces. */
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    /* Servers sometimes echo the key ("Incorrect API key provided: sk-…"). */
    llm_scrub_key(out, cap, s->api_key);
}

static err_class classify(req_slot *s, CURLcode rc, bool *ok)
{
    *ok = false;
    if (s->aborted_ttft)
        return ERR_TIMEOUT;
    if (rc != CURLE_OK && !s->done_seen)
        return class_of_curl(rc, s->t_first_byte != 0);
    if (s->error_body)
        return class_of_status(s->http_status);
    if (s->stream_error || (!s->done_seen && !s->finish))
        return ERR_STREAM;
    *ok = true;
    return ERR_OTHER;
}

static void fill_connection_times(req_slot *s, ev_done *d)
{
    curl_off_t dns = 0, conn = 0, tls = 0;
    curl_easy_getinfo(s->easy, CURLINFO_NAMELOOKUP_TIME_T, &dns);
    curl_easy_getinfo(s->easy, CURLINFO_CONNECT_TIME_T, &conn);
    curl_easy_getinfo(s->easy, CURLINFO_APPCONNECT_TIME_T, &tls);
    d->dns_us = (uint32_t)dns;
    d->connect_us = conn > dns ? (uint32_t)(conn - dns) : 0;
    d->tls_us = tls > conn ? (uint32_t)(tls - conn) : 0;
}

static void fill_done(req_slot *s, uint64_t now, ev_done *d)
{
    uint64_t end = s->done_seen ? s->t_done : now;
    d->t_sched_ns = s->t_sched;
    d->t0_ns = s->t0;
    d->send_lag_ns = s->t0 > s->t_sched ? s->t0 - s->t_sched : 0;
    d->ttfb_ns = s->t_first_byte ? s->t_first_byte - s->t0 : 0;
    d->ttft_ns = s->t_first_token ? s->t_first_token - s->t0 : 0;
    d->ttfo_ns = s->t_first_output ? s->t_first_output - s->t0 : 0;
    d->e2e_ns = end - s->t0;
    d->content_events = s->content_events;
    d->usage_reported = s->usage;
    d->output_tokens = s->usage ? (uint32_t)s->usage_completion : s->content_events;
    d->prompt_estimated = !(s->usage && s->usage_prompt > 0);
    d->prompt_tokens = d->prompt_estimated ? (uint32_t)((s->sent->prompt_chars + 3) / 4)
                                           : (uint32_t)s->usage_prompt;
    d->asked_input_tokens = (uint32_t)s->sent->input_tokens;
    d->asked_output_tokens = s->sent->max_tokens > 0 ? (uint32_t)s->sent->max_tokens : 0;
    d->cached_reported = s->cached;
    d->cached_tokens = (uint32_t)s->cached_tokens;
    d->turn = s->turn_sent;
    fill_connection_times(s, d);
}

void request_finish(req_slot *s, CURLcode result, uint64_t now, llm_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->t_ns = now;
    ev->step = s->step;
    ev->warmup = s->warmup;
    if (!s->streaming && result == CURLE_OK && !s->error_body && !s->overflow)
        decode_whole(s, now);
    bool ok;
    err_class cls = classify(s, result, &ok);
    s->convo.capturing = false;
    if (ok) {
        ev->kind = EV_REQUEST_DONE;
        fill_done(s, now, &ev->u.done);
    } else {
        ev->kind = EV_REQUEST_FAILED;
        ev->u.failed.t0_ns = s->t0;
        ev->u.failed.elapsed_ns = now - s->t0;
        ev->u.failed.http_status = (uint16_t)s->http_status;
        ev->u.failed.err_class = (uint8_t)cls;
        fail_message(s, result, cls, ev->u.failed.message, sizeof ev->u.failed.message);
    }
    s->busy = false;
}
