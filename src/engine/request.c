#include "engine/request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"
#include "proto/chunk.h"
#include "proto/http.h"

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata);
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata);
static int on_prereq(void *clientp, char *conn_primary_ip, char *conn_local_ip,
                     int conn_primary_port, int conn_local_port);

/* After finish_reason (and the usage asked for), this much silence ends a stream that sends
 * neither [DONE] nor a close; longer while the usage asked for has not come. */
#define FINISH_GRACE_NS (1000 * 1000 * 1000ULL)
#define FINISH_GRACE_NO_USAGE_NS (3 * FINISH_GRACE_NS)

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
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(c, CURLOPT_PRIVATE, s);
    http_apply_common(c, cfg, url);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    /* Seeing each send is how a re-send curl does on its own (a reused connection found dead
     * after the request went out) is counted rather than hidden. */
    s->attempts_known = curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, on_prereq) == CURLE_OK &&
                        curl_easy_setopt(c, CURLOPT_PREREQDATA, s) == CURLE_OK;
    /* The engine keeps the request and connect deadlines itself (engine/slots' lists): curl's
     * put every transfer in its timer tree, which it then searches on every read. Seeing the
     * connection come up needs the pre-request callback; without it curl keeps that one. */
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 0L);
    if (s->attempts_known)
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 0L);
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
    s->urgent_fd = -1;
    s->api_key = cfg->api_key;
    s->streaming = !cfg->no_stream;
    s->usage_asked = !cfg->no_stream && !cfg->no_usage;
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
    free(s->whole);
    free(s->wl_buf);
    workload_convo_free(&s->convo);
    prompt_free(&s->body);
    prompt_free(&s->input_body);
    memset(s, 0, sizeof *s);
}

/* Everything the response fills in: cleared for a new request and for its re-send. */
static void reset_response(req_slot *s)
{
    s->aborted = REQ_ABORT_NONE;
    s->connected = false;
    s->t_first_byte = s->t_first_token = s->t_first_output = s->t_last_content = s->t_done = 0;
    s->t_read = s->t_last_event = 0;
    s->content_events = s->read_tokens = s->content_reads = 0;
    s->usage_completion = s->usage_prompt = s->cached_tokens = 0;
    s->cached = false;
    s->timings.has_timings = false;
    s->usage = s->finish = s->done_seen = s->stream_error = s->overflow = false;
    s->finish_grace = s->id_reported = false;
    s->http_status = 0;
    s->error_body = s->got_header = false;
    s->errbody_len = s->whole_len = 0;
    s->stream_msg[0] = '\0';
    s->content_type[0] = s->content_encoding[0] = s->location[0] = '\0';
    sse_init(&s->sse, s->sse_buf, REQUEST_SSE_BUF);
}

void request_begin(req_slot *s, uint64_t request_number, uint64_t t_sched, uint64_t now,
                   uint32_t step, bool warmup, prompt_body *body)
{
    s->busy = true;
    s->warmup = warmup;
    s->step = step;
    s->t_sched = t_sched;
    s->t0 = now;
    reset_response(s);
    if (s->reconnects) {
        s->reconnects = 0;
        /* Cannot fail for a long option on a live handle; were it to, this request would
         * only open a connection of its own. */
        CURLcode rc = curl_easy_setopt(s->easy, CURLOPT_FRESH_CONNECT, 0L);
        (void)rc;
    }
    s->reconnect_lost_ns = 0;
    s->attempts = 0;
    s->t_attempt_first = s->t_attempt_last = 0;
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

/* Only the final chunk carries timings: a copy of its few numbers, no allocation. */
static void request_keep_timings(req_slot *s, const chunk_info *ci)
{
    s->timings.has_timings = true;
    s->timings.prompt_ms = ci->prompt_ms;
    s->timings.predicted_ms = ci->predicted_ms;
    s->timings.prompt_n = ci->prompt_n;
    s->timings.predicted_n = ci->predicted_n;
    s->timings.cache_n = ci->cache_n;
}

static uint32_t ms_to_us(double ms)
{
    return ms <= 0 ? 0 : ms >= 4e6 ? UINT32_MAX : (uint32_t)(ms * 1000.0 + 0.5);
}

static uint32_t clamp_u32(long v)
{
    return v <= 0 ? 0 : v >= (long)UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static void fill_server_timings(const req_slot *s, ev_done *d)
{
    if (!s->timings.has_timings)
        return;
    d->srv_timings = 1;
    d->srv_prefill_us = ms_to_us(s->timings.prompt_ms);
    d->srv_decode_us = ms_to_us(s->timings.predicted_ms);
    d->srv_prompt_n = clamp_u32(s->timings.prompt_n);
    d->srv_predicted_n = clamp_u32(s->timings.predicted_n);
    d->srv_cache_n = clamp_u32(s->timings.cache_n);
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
    if (!s->id_reported && (ci->model_len || ci->fingerprint_len)) {
        s->id_reported = true;
        if (s->on_server_id)
            s->on_server_id(s, ci->model, ci->model_len, ci->fingerprint, ci->fingerprint_len);
    }
    if (ci->has_timings)
        request_keep_timings(s, ci);
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
    s->t_last_event = now;
    chunk_info ci;
    chunk_decode_event(event, event_len, data, data_len, &ci);
    switch (ci.kind) {
    case CHUNK_DONE:
        s->done_seen = true;
        s->t_done = now;
        break;
    case CHUNK_ERROR: {
        char msg[96];
        llm_format_scrubbed(msg, sizeof msg, s->api_key, "error event in stream: %s", ci.message);
        mark_stream_error(s, msg);
        break;
    }
    case CHUNK_MALFORMED: {
        char msg[96];
        llm_format_scrubbed(msg, sizeof msg, s->api_key, "malformed chunk: %s", ci.message);
        mark_stream_error(s, msg);
        break;
    }
    case CHUNK_DATA:
        on_chunk(s, &ci, now);
        break;
    }
    return 0;
}

/* Room for need bytes of a --no-stream answer; the buffer stays with the slot, so it grows
 * only when an answer is larger than every earlier one. */
static bool whole_reserve(req_slot *s, size_t need)
{
    if (need <= s->whole_cap)
        return true;
    if (need > REQUEST_WHOLE_MAX)
        return false;
    size_t cap = s->whole_cap ? s->whole_cap : REQUEST_SSE_BUF;
    while (cap < need)
        cap *= 2;
    if (cap > REQUEST_WHOLE_MAX)
        cap = REQUEST_WHOLE_MAX;
    char *p = realloc(s->whole, cap);
    if (!p)
        return false;
    s->whole = p;
    s->whole_cap = cap;
    return true;
}

static size_t keep_whole(req_slot *s, const char *ptr, size_t n)
{
    if (s->overflow)
        return n;
    if (!whole_reserve(s, s->whole_len + n)) {
        char msg[96];
        snprintf(msg, sizeof msg, "HTTP %ld: %s", s->http_status,
                 s->whole_len + n > REQUEST_WHOLE_MAX
                     ? "the answer exceeded 16 MiB: lower --max-tokens or drop --no-stream"
                     : "out of memory keeping the answer");
        s->overflow = true;
        mark_stream_error(s, msg);
        return n;
    }
    memcpy(s->whole + s->whole_len, ptr, n);
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
    s->content_reads++;
}

/* --no-stream: the whole answer counts as one event that carries every token. */
static void decode_whole(req_slot *s, uint64_t now)
{
    chunk_info ci;
    if (s->whole_len == 0) {
        char msg[96];
        snprintf(msg, sizeof msg, "HTTP %ld with an empty body", s->http_status);
        mark_stream_error(s, msg);
        return;
    }
    chunk_decode_message(s->whole, s->whole_len, &ci);
    if (ci.kind == CHUNK_ERROR || ci.kind == CHUNK_MALFORMED) {
        char msg[96];
        llm_format_scrubbed(msg, sizeof msg, s->api_key, "%s answer: %s",
                            ci.kind == CHUNK_ERROR ? "error" : "malformed", ci.message);
        mark_stream_error(s, msg);
        return;
    }
    s->t_done = now;
    s->done_seen = true;
    on_chunk(s, &ci, now);
    flush_read_tokens(s);
}

/* Copies the value of header line h[0..n) into out when its name is `name`. */
static void header_value(const char *h, size_t n, const char *name, char *out, size_t cap)
{
    size_t k = strlen(name);
    if (n <= k || h[k] != ':' || strncasecmp(h, name, k) != 0)
        return;
    const char *v = h + k + 1, *end = h + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t len = (size_t)(end - v) < cap - 1 ? (size_t)(end - v) : cap - 1;
    for (size_t i = 0; i < len; i++)
        out[i] = (unsigned char)v[i] < 0x20 ? ' ' : v[i];
    out[len] = '\0';
}

/* Once per response header line (not per token): the few the failure messages need. A status
 * line starts a new response (after a 100 Continue), so it clears what an earlier one set. */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    req_slot *s = userdata;
    size_t n = size * nmemb;
    s->got_header = true;
    if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
        s->content_type[0] = s->content_encoding[0] = s->location[0] = '\0';
        return n;
    }
    switch (ptr[0] | 0x20) {
    case 'c':
        header_value(ptr, n, "content-type", s->content_type, sizeof s->content_type);
        header_value(ptr, n, "content-encoding", s->content_encoding, sizeof s->content_encoding);
        break;
    case 'l':
        header_value(ptr, n, "location", s->location, sizeof s->location);
        break;
    }
    return n;
}

/* Right before the request goes out on a connection (new or reused): once per send. */
static int on_prereq(void *clientp, char *conn_primary_ip, char *conn_local_ip,
                     int conn_primary_port, int conn_local_port)
{
    (void)conn_primary_ip;
    (void)conn_local_ip;
    (void)conn_primary_port;
    (void)conn_local_port;
    req_slot *s = clientp;
    s->t_attempt_last = llm_now_ns();
    s->connected = true;
    if (s->attempts++ == 0)
        s->t_attempt_first = s->t_attempt_last;
    return CURL_PREREQFUNC_OK;
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

/* A Location header, credentials dropped (scheme://user:pass@host → scheme://host). */
static void location_shown(const char *loc, char *out, size_t cap)
{
    const char *scheme = strstr(loc, "://"), *at = scheme ? strchr(scheme + 3, '@') : NULL;
    const char *slash = scheme ? strchr(scheme + 3, '/') : NULL;
    if (!loc[0])
        snprintf(out, cap, "(no Location given)");
    else if (at && (!slash || at < slash))
        snprintf(out, cap, "%.*s%s", (int)(scheme + 3 - loc), loc, at + 1);
    else
        snprintf(out, cap, "%s", loc);
}

/* The status for a message: three digits (the modulo tells the compiler so, and -O2's
 * format-truncation checks then see that every message fits the event's 96 bytes). */
static int status_shown(const req_slot *s)
{
    return (int)(s->http_status % 1000);
}

static void http_error_message(req_slot *s, char *out, size_t cap)
{
    int st = status_shown(s);
    if (st >= 300 && st < 400) {
        char loc[sizeof s->location];
        location_shown(s->location, loc, sizeof loc);
        snprintf(out, cap, "HTTP %d: the server redirected to %.48s: fix --url", st, loc);
        return;
    }
    if (s->errbody_len == 0) {
        snprintf(out, cap, "HTTP %d with an empty body%s", st,
                 st == 429   ? ": the server is rate limiting"
                 : st >= 500 ? ": the server failed or is overloaded"
                             : "");
        return;
    }
    chunk_info ci;
    chunk_decode(s->errbody, s->errbody_len, &ci);
    if (s->sent->image && (st == 400 || st == 415 || st == 422))
        llm_format_scrubbed(out, cap, s->api_key,
                            "HTTP %d to an image request: does the model take images? %s", st,
                            ci.kind == CHUNK_ERROR ? ci.message : "");
    else if (ci.kind == CHUNK_ERROR && http_rejected_field_advice(ci.message))
        snprintf(out, cap, "HTTP %d: %s", st, http_rejected_field_advice(ci.message));
    else if (ci.kind == CHUNK_ERROR && ci.message[0])
        llm_format_scrubbed(out, cap, s->api_key, "HTTP %d: %s", st, ci.message);
    else if (s->errbody[0] == '<')
        snprintf(out, cap, "HTTP %d with an HTML page, not JSON", st);
    else
        llm_format_scrubbed(out, cap, s->api_key, "HTTP %d: %s", st, s->errbody);
}

/* Content-Encoding other than identity: curl is not asked to decode, so nothing parses. */
static bool body_compressed(const req_slot *s)
{
    return s->content_encoding[0] && strcasecmp(s->content_encoding, "identity") != 0;
}

/* A 2xx that did not give an answer: say which of the usual causes it was. */
static void answer_message(req_slot *s, char *out, size_t cap)
{
    int st = status_shown(s);
    if (body_compressed(s))
        snprintf(out, cap,
                 "HTTP %d: the server compressed the %s (Content-Encoding: %.12s): turn it off", st,
                 s->streaming ? "stream" : "answer", s->content_encoding);
    else if (s->stream_error)
        snprintf(out, cap, "%s", s->stream_msg);
    else if (s->streaming && !s->t_first_byte)
        snprintf(out, cap, "HTTP %d with an empty body", st);
    else if (s->streaming && s->sse.events == 0 &&
             strncasecmp(s->content_type, "application/json", 16) == 0)
        snprintf(out, cap,
                 "HTTP %d: one JSON document, not an SSE stream (stream set to false, e.g. by "
                 "--body-json?)",
                 st);
    else if (s->streaming && s->sse.events == 0)
        snprintf(out, cap, "HTTP %d (%.30s) but no SSE events: does the server stream?", st,
                 s->content_type[0] ? s->content_type : "no Content-Type");
    else
        snprintf(out, cap, "stream ended without [DONE] or a finish_reason (cut)");
}

static void fail_message(req_slot *s, CURLcode rc, err_class cls, char *out, size_t cap)
{
    if (s->aborted == REQ_ABORT_TTFT)
        snprintf(out, cap, "no first token within %g s (--ttft-timeout)", s->abort_limit_s);
    else if (s->aborted == REQ_ABORT_CONNECT)
        snprintf(out, cap, "not connected within %g s (--connect-timeout)", s->abort_limit_s);
    else if (s->aborted == REQ_ABORT_REQUEST)
        snprintf(out, cap, "the answer did not end within %g s (--request-timeout)",
                 s->abort_limit_s);
    else if (rc != CURLE_OK)
        snprintf(out, cap, "%s%s", curl_easy_strerror(rc),
                 cls == ERR_STREAM ? " (stream cut mid-way)" : "");
    else if (s->error_body)
        http_error_message(s, out, cap);
    else
        answer_message(s, out, cap);
    /* One line on screen: newlines from server bodies become spaces. */
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    /* Servers sometimes echo the key ("Incorrect API key provided: sk-…"): every server
     * text above was masked before it was cut (llm_format_scrubbed); this catches the rest. */
    llm_scrub_key(out, cap, s->api_key);
}

static err_class classify(req_slot *s, CURLcode rc, bool *ok)
{
    *ok = false;
    if (s->aborted != REQ_ABORT_NONE)
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

/* Phases only for a request that opened its connection: on a reused one curl still reports a
 * few microseconds of "lookup", which would pollute the DNS/connect/TLS histograms. */
static void fill_connection_times(req_slot *s, ev_done *d)
{
    long conns = 0;
    curl_off_t dns = 0, conn = 0, tls = 0;
    if (curl_easy_getinfo(s->easy, CURLINFO_NUM_CONNECTS, &conns) != CURLE_OK || conns <= 0)
        return;
    if (curl_easy_getinfo(s->easy, CURLINFO_NAMELOOKUP_TIME_T, &dns) != CURLE_OK ||
        curl_easy_getinfo(s->easy, CURLINFO_CONNECT_TIME_T, &conn) != CURLE_OK ||
        curl_easy_getinfo(s->easy, CURLINFO_APPCONNECT_TIME_T, &tls) != CURLE_OK)
        return;
    d->new_conn = 1;
    d->dns_us = (uint32_t)dns;
    d->connect_us = conn > dns ? (uint32_t)(conn - dns) : 0;
    d->tls_us = tls > conn ? (uint32_t)(tls - conn) : 0;
}

/* A request sent more than once was re-sent on a fresh connection, by llmload or by curl's own
 * retry of a reused connection that died: either way a reconnect, and the time lost is from
 * the first send to the last. */
static void settle_reconnects(req_slot *s)
{
    if (!s->attempts_known || s->attempts < 2)
        return;
    s->reconnects = 1;
    s->reconnect_lost_ns = s->t_attempt_last - s->t_attempt_first;
}

static uint32_t lost_us(const req_slot *s)
{
    uint64_t us = s->reconnect_lost_ns / 1000;
    return us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void fill_done(req_slot *s, uint64_t now, ev_done *d)
{
    uint64_t end = s->done_seen ? s->t_done : s->finish_grace ? s->t_last_event : now;
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
    d->finish_grace = s->finish_grace;
    /* A buffering proxy delivers the whole stream at once: every ITL 0, TTFT = E2E. */
    d->one_read = s->content_reads == 1 && s->content_events > 1;
    d->reconnects = s->reconnects;
    d->reconnect_lost_us = lost_us(s);
    d->asked_input_tokens = (uint32_t)s->sent->input_tokens;
    d->asked_output_tokens = s->sent->max_tokens > 0 ? (uint32_t)s->sent->max_tokens : 0;
    d->cached_reported = s->cached;
    d->cached_tokens = (uint32_t)s->cached_tokens;
    d->turn = s->turn_sent;
    d->history_overflow = s->turn_sent && s->convo.cut && s->convo.turn < s->convo.turns;
    fill_connection_times(s, d);
    fill_server_timings(s, d);
    if (!d->cached_reported && d->srv_timings) { /* llama.cpp: its cache in timings.cache_n */
        d->cached_reported = 1;
        d->cached_tokens = d->srv_cache_n;
    }
}

/* The status line of a response whose body never came (a 429 with an empty body). */
static void read_status(req_slot *s)
{
    long code = 0;
    if (s->http_status || curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK ||
        code == 0)
        return;
    s->http_status = code;
    s->error_body = code < 200 || code >= 300;
}

void request_finish(req_slot *s, CURLcode result, uint64_t now, llm_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->t_ns = now;
    ev->step = s->step;
    ev->warmup = s->warmup;
    read_status(s);
    settle_reconnects(s);
    if (!s->streaming && result == CURLE_OK && !s->error_body && !s->overflow &&
        !body_compressed(s))
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
        ev->u.failed.reconnects = s->reconnects;
        ev->u.failed.reconnect_lost_us = lost_us(s);
        fail_message(s, result, cls, ev->u.failed.message, sizeof ev->u.failed.message);
    }
    s->busy = false;
}

bool request_reconnect(req_slot *s, CURLcode result, uint64_t now)
{
    if (s->reconnects || s->aborted != REQ_ABORT_NONE || s->got_header || s->t_first_byte)
        return false;
    if (result != CURLE_SEND_ERROR && result != CURLE_RECV_ERROR && result != CURLE_GOT_NOTHING)
        return false;
    long conns = -1;
    if (curl_easy_getinfo(s->easy, CURLINFO_NUM_CONNECTS, &conns) != CURLE_OK || conns != 0)
        return false;
    if (curl_easy_setopt(s->easy, CURLOPT_FRESH_CONNECT, 1L) != CURLE_OK)
        return false;
    s->reconnects = 1;
    s->reconnect_lost_ns = now - s->t0;
    reset_response(s);
    return true;
}

bool request_finish_by_grace(req_slot *s, uint64_t now)
{
    if (!s->streaming || !s->finish || s->done_seen || s->stream_error || s->error_body)
        return false;
    uint64_t grace = s->usage || !s->usage_asked ? FINISH_GRACE_NS : FINISH_GRACE_NO_USAGE_NS;
    if (now - s->t_read < grace)
        return false;
    s->finish_grace = true;
    return true;
}
