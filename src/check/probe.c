/* check/probe: blocking requests for `llmload check`. Streams go through the same SSE
 * parser and chunk decoder the engine uses, so check sees what a run will see. */
#include "check/probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/stop.h"
#include "base/util.h"
#include "proto/chunk.h"
#include "proto/http.h"

#define PROBE_SSE_CAP (256u * 1024u)

static void probe_keep_body(probe *p, const char *data, size_t n)
{
    size_t room = PROBE_BODY_MAX - p->body_len;
    if (n > room)
        n = room;
    if (n == 0)
        return;
    char *grown = realloc(p->body, p->body_len + n + 1);
    if (!grown)
        return;
    p->body = grown;
    memcpy(p->body + p->body_len, data, n);
    p->body_len += n;
    p->body[p->body_len] = '\0';
}

/* Kept masked: a server may echo the key in its error (mask first, then cut). */
static void probe_note_error(probe *p, const char *msg)
{
    if (!p->s.error[0])
        llm_format_scrubbed(p->s.error, sizeof p->s.error, p->key, "%s", msg);
}

static int probe_on_event(void *user, const char *event, size_t event_len, const char *data,
                          size_t len)
{
    probe *p = user;
    probe_stream *s = &p->s;
    uint64_t t = llm_now_ns() - p->t0_ns;
    chunk_info ci;
    chunk_decode_event(event, event_len, data, len, &ci);
    s->events++;
    if (ci.kind == CHUNK_DONE) {
        s->done = true;
        s->done_ns = t;
    } else if (ci.kind == CHUNK_ERROR) {
        s->errors++;
        probe_note_error(p, ci.message);
    } else if (ci.kind == CHUNK_MALFORMED) {
        s->malformed++;
        probe_note_error(p, ci.message);
    }
    if (ci.content_events + ci.reasoning_events > 0) {
        if (!s->first_token_ns)
            s->first_token_ns = t;
        s->last_token_ns = t;
    }
    s->content_events += ci.content_events;
    s->reasoning_events += ci.reasoning_events;
    s->finish |= ci.finish;
    if (ci.has_usage) {
        s->has_usage = true;
        s->completion_tokens = ci.completion_tokens;
        s->prompt_tokens = ci.prompt_tokens;
    }
    return 0;
}

static size_t probe_write(char *data, size_t size, size_t nmemb, void *user)
{
    probe *p = user;
    size_t n = size * nmemb;
    probe_keep_body(p, data, n);
    if (p->stream && p->sse_buf &&
        sse_feed(&p->sse, data, n, probe_on_event, p) == SSE_ERR_OVERFLOW)
        p->s.overflow = true;
    return n;
}

static struct curl_slist *probe_headers(const llm_config *cfg, bool post, bool stream)
{
    struct curl_slist *h = NULL;
    char line[4096];
    if (cfg->api_key && cfg->api_key[0]) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", cfg->api_key);
        h = curl_slist_append(h, line);
    }
    if (post)
        h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, stream ? "Accept: text/event-stream" : "Accept: application/json");
    for (size_t k = 0; k < cfg->n_headers; k++) {
        snprintf(line, sizeof line, "%s: %s", cfg->headers[k].name, cfg->headers[k].value);
        h = curl_slist_append(h, line);
    }
    return h;
}

/* Called by curl at least once a second, even while nothing arrives: a stop asked by a
 * signal ends the transfer (CURLE_ABORTED_BY_CALLBACK) instead of waiting for a timeout. */
static int probe_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                          curl_off_t ulnow)
{
    (void)user, (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return llm_stop_signal() != 0;
}

static void probe_options(CURL *c, const llm_config *cfg, const char *url, probe *p)
{
    http_apply_common(c, cfg, url);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, probe_progress);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, p->curl_err);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, probe_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, p);
}

static void probe_collect(CURL *c, probe *p)
{
    char *ct = NULL;
    curl_off_t connect_us = 0, total_us = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &p->status);
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &connect_us);
    curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &total_us);
    if (ct)
        llm_strlcpy(p->content_type, ct, sizeof p->content_type);
    p->connected = connect_us > 0 || p->status > 0;
    p->total_ms = (double)total_us / 1000.0;
}

CURLcode probe_run(probe *p, const llm_config *cfg, const char *url, const char *body, bool stream)
{
    memset(p, 0, sizeof *p);
    p->stream = stream;
    p->key = cfg->api_key;
    if (stream) {
        p->sse_buf = malloc(PROBE_SSE_CAP);
        if (p->sse_buf)
            sse_init(&p->sse, p->sse_buf, PROBE_SSE_CAP);
    }
    CURL *c = curl_easy_init();
    if (!c) {
        p->code = CURLE_FAILED_INIT;
        return p->code;
    }
    struct curl_slist *h = probe_headers(cfg, body != NULL, stream);
    probe_options(c, cfg, url, p);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    p->t0_ns = llm_now_ns();
    p->code = curl_easy_perform(c);
    probe_collect(c, p);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return p->code;
}

void probe_free(probe *p)
{
    free(p->body);
    free(p->sse_buf);
    p->body = NULL;
    p->sse_buf = NULL;
}
