/* check: `llmload check`. Probes in order (reachable, authenticated, model served, chat,
 * streaming, usage) and a speed line; stops at the first probe whose failure makes the
 * rest meaningless, so the last ✗ line is the thing to fix. */
#include "check/check.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/util.h"
#include "check/advice.h"
#include "check/probe.h"
#include "engine/srvmon.h"
#include "proto/chunk.h"

#define CHECK_MAX_TOKENS 16

typedef enum { LINE_PASS, LINE_FAIL, LINE_INFO } line_kind;

typedef struct {
    const llm_config *cfg;
    FILE *out;
    bool utf8;
    char base[2048]; /* cfg->url without trailing slashes */
    char model[256]; /* the model the probes ask for */
    int passed, failed;
} check_ctx;

/* UTF-8 glyphs only when the locale says UTF-8 (LC_ALL > LC_CTYPE > LANG). */
static bool check_locale_utf8(void)
{
    const char *names[] = {"LC_ALL", "LC_CTYPE", "LANG"};
    for (int k = 0; k < 3; k++) {
        const char *v = getenv(names[k]);
        if (v && *v)
            return strcasestr(v, "utf-8") || strcasestr(v, "utf8");
    }
    return false;
}

static const char *check_glyph(const check_ctx *c, line_kind k)
{
    if (k == LINE_PASS)
        return c->utf8 ? "\xE2\x9C\x93" : "ok  ";
    if (k == LINE_FAIL)
        return c->utf8 ? "\xE2\x9C\x97" : "FAIL";
    return c->utf8 ? "\xE2\x80\xA2" : "--  ";
}

/* One result line: glyph, label, text, timing. The key is scrubbed from the text in case
 * the server echoed it. */
static void check_line(check_ctx *c, line_kind k, const char *label, double ms, const char *fmt,
                       ...)
{
    char text[1024], when[32] = "";
    va_list ap;
    va_start(ap, fmt);
    llm_vformat_scrubbed(text, sizeof text, c->cfg->api_key, fmt, ap); /* mask, then cut */
    va_end(ap);
    if (ms >= 0) {
        char t[24];
        llm_format_ms(ms, t, sizeof t, !c->utf8);
        snprintf(when, sizeof when, " (%s)", t);
    }
    fprintf(c->out, "%s %-15s %s%s\n", check_glyph(c, k), label, text, when);
    c->passed += k == LINE_PASS;
    c->failed += k == LINE_FAIL;
}

static void check_url(const check_ctx *c, const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s", c->base, path);
}

/* The path part of a URL for short lines: "/v1/models". */
static const char *check_path(const char *url)
{
    const char *s = strstr(url, "://");
    s = s ? strchr(s + 3, '/') : NULL;
    return s ? s : url;
}

static void check_transport_fail(check_ctx *c, const char *label, const probe *p, const char *url)
{
    char why[768];
    advice_transport((int)p->code, p->curl_err, url, p->connected,
                     c->cfg->connect_timeout_s > 0 ? c->cfg->connect_timeout_s : 10,
                     c->cfg->request_timeout_s, why, sizeof why);
    check_line(c, LINE_FAIL, label, -1, "%s", why);
}

static void check_http_fail(check_ctx *c, const char *label, const probe *p, const char *method,
                            const char *url, bool models)
{
    char what[600], why[900];
    snprintf(what, sizeof what, "%.8s %.580s", method, url);
    advice_http(p->status, what, c->base, models, c->cfg->api_key && c->cfg->api_key[0],
                p->content_type, p->body ? p->body : "", p->body_len, why, sizeof why);
    check_line(c, LINE_FAIL, label, p->total_ms, "%s", why);
}

/* Steps 1-2: GET /models answers (reachable) and accepts the key (authenticated).
 * Returns -1 when nothing answered at all, 0 to stop, 1 to go on with *p kept. */
static int check_reach(check_ctx *c, probe *p)
{
    char url[2200];
    check_url(c, "/models", url, sizeof url);
    if (probe_run(p, c->cfg, url, NULL, false) != CURLE_OK) {
        check_transport_fail(c, "reachable", p, url);
        return -1;
    }
    if (p->status == 401 || p->status == 403) {
        check_line(c, LINE_PASS, "reachable", p->total_ms, "GET %s answered HTTP %ld",
                   check_path(url), p->status);
        check_http_fail(c, "authenticated", p, "GET", url, true);
        return 0;
    }
    if (p->status < 200 || p->status > 299 ||
        advice_is_html(p->content_type, p->body ? p->body : "", p->body_len)) {
        check_http_fail(c, "reachable", p, "GET", url, true);
        return 0;
    }
    check_line(c, LINE_PASS, "reachable", p->total_ms, "GET %s answered HTTP %ld", check_path(url),
               p->status);
    char masked[64];
    llm_mask_key(c->cfg->api_key, masked, sizeof masked);
    if (c->cfg->api_key && c->cfg->api_key[0])
        check_line(c, LINE_PASS, "authenticated", -1, "the server accepted the key %s", masked);
    else
        check_line(c, LINE_PASS, "authenticated", -1, "no key set, and none needed");
    return 1;
}

/* Step 3: the model is in the list (or, with none given, the first one is chosen). */
static bool check_model(check_ctx *c, const probe *p)
{
    char list[512], first[256];
    bool found;
    const char *want = c->cfg->model && c->cfg->model[0] ? c->cfg->model : NULL;
    int n = advice_models(p->body ? p->body : "", p->body_len, want, list, sizeof list, first,
                          sizeof first, &found);
    if (n <= 0) {
        check_line(c, LINE_FAIL, "model served", -1,
                   n < 0 ? "GET /models did not return a model list: is this an "
                           "OpenAI-compatible API?"
                         : "the server lists no models: is a model loaded?");
        return false;
    }
    if (!want) {
        llm_strlcpy(c->model, first, sizeof c->model);
        check_line(c, LINE_PASS, "model served", -1,
                   "no model given; using %s, the first of %d served (set MODEL_NAME or --model)",
                   first, n);
        return true;
    }
    if (!found) {
        check_line(c, LINE_FAIL, "model served", -1, "model %s is not served here; served: %s",
                   want, list);
        return false;
    }
    llm_strlcpy(c->model, want, sizeof c->model);
    check_line(c, LINE_PASS, "model served", -1, "%s (%d served)", want, n);
    return true;
}

/* The probe request body: tiny, and with the user's extra fields (--body-json). */
static char *check_body(const check_ctx *c, bool stream)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "model", c->model);
    if (c->cfg->endpoint == LLM_ENDPOINT_COMPLETIONS) {
        cJSON_AddStringToObject(b, "prompt", "Once upon a time");
    } else {
        cJSON *msgs = cJSON_AddArrayToObject(b, "messages");
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "role", "user");
        cJSON_AddStringToObject(m, "content", "Say hello in a few words.");
        cJSON_AddItemToArray(msgs, m);
    }
    cJSON_AddNumberToObject(b, "max_tokens", CHECK_MAX_TOKENS);
    cJSON_AddBoolToObject(b, "stream", stream);
    if (stream && !c->cfg->no_usage)
        cJSON_AddItemToObject(cJSON_AddObjectToObject(b, "stream_options"), "include_usage",
                              cJSON_CreateTrue());
    if (c->cfg->temperature >= 0)
        cJSON_AddNumberToObject(b, "temperature", c->cfg->temperature);
    cJSON *extra = c->cfg->body_json ? cJSON_Parse(c->cfg->body_json) : NULL;
    cJSON *item = extra ? extra->child : NULL;
    while (item) {
        cJSON *next = item->next;
        cJSON_DeleteItemFromObjectCaseSensitive(b, item->string);
        cJSON_AddItemToObject(b, item->string, cJSON_Duplicate(item, true));
        item = next;
    }
    cJSON_Delete(extra);
    char *s = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    return s;
}

/* First words of the answer for the chat line, on one line. */
static void check_excerpt(const probe *p, char *out, size_t cap)
{
    out[0] = '\0';
    cJSON *root = cJSON_ParseWithLength(p->body, p->body_len);
    cJSON *ch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "choices"), 0);
    cJSON *msg = cJSON_GetObjectItemCaseSensitive(ch, "message");
    cJSON *text = cJSON_GetObjectItemCaseSensitive(msg, "content");
    if (!cJSON_IsString(text) || !text->valuestring[0])
        text = cJSON_GetObjectItemCaseSensitive(msg, "reasoning_content");
    if (!cJSON_IsString(text))
        text = cJSON_GetObjectItemCaseSensitive(ch, "text");
    if (cJSON_IsString(text)) {
        size_t o = 0;
        const char *s = text->valuestring;
        for (; *s && o + 4 < cap && o < 48; s++)
            out[o++] = (unsigned char)*s < 0x20 ? ' ' : *s;
        if (*s && ((unsigned char)*s & 0xC0) == 0x80) {
            /* Cut inside a UTF-8 character: drop its first bytes too. */
            while (o > 0 && ((unsigned char)out[o - 1] & 0xC0) == 0x80)
                o--;
            if (o > 0 && ((unsigned char)out[o - 1] & 0xC0) == 0xC0)
                o--;
        }
        if (*s) {
            memcpy(out + o, "...", 3);
            o += 3;
        }
        out[o] = '\0';
    }
    cJSON_Delete(root);
}

static const char *check_api_path(const check_ctx *c)
{
    return c->cfg->endpoint == LLM_ENDPOINT_COMPLETIONS ? "/completions" : "/chat/completions";
}

/* Step 4: a non-streaming completion answers with content. */
static bool check_chat(check_ctx *c)
{
    const char *label = c->cfg->endpoint == LLM_ENDPOINT_COMPLETIONS ? "completion" : "chat";
    char url[2200];
    check_url(c, check_api_path(c), url, sizeof url);
    char *body = check_body(c, false);
    probe p;
    probe_run(&p, c->cfg, url, body, false);
    free(body);
    bool ok = false;
    chunk_info ci;
    chunk_decode_message(p.body ? p.body : "", p.body_len, &ci);
    if (p.code != CURLE_OK) {
        check_transport_fail(c, label, &p, url);
    } else if (p.status < 200 || p.status > 299 ||
               advice_is_html(p.content_type, p.body ? p.body : "", p.body_len)) {
        check_http_fail(c, label, &p, "POST", url, false);
    } else if (ci.kind != CHUNK_DATA) {
        check_line(c, LINE_FAIL, label, p.total_ms, "POST %s answered HTTP %ld but %s",
                   check_path(url), p.status, ci.message);
    } else if (ci.content_events + ci.reasoning_events == 0) {
        check_line(c, LINE_FAIL, label, p.total_ms,
                   "POST %s answered without any content: does the model generate text?",
                   check_path(url));
    } else {
        char ex[64];
        check_excerpt(&p, ex, sizeof ex);
        char tokens[48] = "";
        if (ci.has_usage)
            snprintf(tokens, sizeof tokens, " (%ld tokens)", ci.completion_tokens);
        check_line(c, LINE_PASS, label, p.total_ms, "answered \"%s\"%s", ex, tokens);
        ok = true;
    }
    probe_free(&p);
    return ok;
}

/* Why a stream that answered 200 is not usable, or NULL when it is. */
static const char *check_stream_problem(const probe *p, char *why, size_t cap)
{
    const probe_stream *s = &p->s;
    if (s->events == 0 && p->body_len > 0 && p->body[0] == '{')
        return "the server answered with JSON, not an event stream: it ignored \"stream\": true";
    if (s->events == 0)
        return "no SSE events arrived: is a proxy buffering or rewriting the response?";
    if (s->errors || s->malformed) {
        snprintf(why, cap, "the stream carried %s: %s",
                 s->errors ? "an error" : "a malformed chunk", s->error);
        return why;
    }
    if (s->overflow)
        return "an SSE event was larger than 256 KiB";
    if (!s->done && !s->finish)
        return "the stream ended without [DONE] or a finish_reason: was it cut by a proxy or "
               "a timeout?";
    if (s->content_events + s->reasoning_events == 0)
        return "the stream carried no content: every chunk was empty";
    return NULL;
}

static void check_speed(check_ctx *c, const probe *p)
{
    const probe_stream *s = &p->s;
    long tokens = s->has_usage ? s->completion_tokens : s->content_events + s->reasoning_events;
    double ttft_ms = (double)s->first_token_ns / 1e6;
    double e2e_ms = s->done_ns ? (double)s->done_ns / 1e6 : p->total_ms;
    char ttft[24];
    llm_format_ms(ttft_ms, ttft, sizeof ttft, !c->utf8);
    if (tokens < 2 || e2e_ms <= ttft_ms) {
        check_line(c, LINE_INFO, "speed", -1, "TTFT %s; too few tokens for a rate", ttft);
        return;
    }
    check_line(c, LINE_INFO, "speed", -1, "TTFT %s, %.1f tokens/s (%ld tokens%s)", ttft,
               (double)tokens / ((e2e_ms - ttft_ms) / 1000.0), tokens,
               s->has_usage ? "" : ", estimated");
}

/* Steps 5-7: a streaming completion arrives as SSE and ends; usage; TTFT and rate. */
static void check_stream(check_ctx *c)
{
    char url[2200], why[400];
    check_url(c, check_api_path(c), url, sizeof url);
    char *body = check_body(c, true);
    probe p;
    probe_run(&p, c->cfg, url, body, true);
    free(body);
    const char *problem = NULL;
    if (p.code != CURLE_OK) {
        check_transport_fail(c, "streaming", &p, url);
    } else if (p.status < 200 || p.status > 299 ||
               advice_is_html(p.content_type, p.body ? p.body : "", p.body_len)) {
        check_http_fail(c, "streaming", &p, "POST", url, false);
    } else if ((problem = check_stream_problem(&p, why, sizeof why)) != NULL) {
        check_line(c, LINE_FAIL, "streaming", p.total_ms, "%s", problem);
    } else {
        check_line(c, LINE_PASS, "streaming", p.total_ms, "%ld events, %ld with content%s",
                   p.s.events, p.s.content_events + p.s.reasoning_events,
                   p.s.done ? ", [DONE] seen" : ", ended after finish_reason (no [DONE])");
        if (c->cfg->no_usage)
            check_line(c, LINE_INFO, "usage", -1, "not requested (--no-usage)");
        else if (p.s.has_usage)
            check_line(c, LINE_PASS, "usage", -1,
                       "%ld completion tokens reported for %ld content events",
                       p.s.completion_tokens, p.s.content_events + p.s.reasoning_events);
        else
            check_line(c, LINE_FAIL, "usage", -1,
                       "the stream reported no usage (stream_options.include_usage): output "
                       "tokens will be estimated from content events");
        check_speed(c, &p);
    }
    probe_free(&p);
}

/* Information: whether the server's /metrics can be shown during a run (see srvmon). */
static void check_server_metrics(check_ctx *c)
{
    char url[512];
    bool given;
    srvmon *m =
        srvmon_url_of(c->cfg, url, sizeof url, &given) ? srvmon_start(c->cfg, url, false) : NULL;
    if (!m)
        return;
    srvmon_reading r;
    uint64_t deadline = llm_now_ns() + 3 * LLM_NS_PER_SEC;
    do {
        usleep(10 * 1000);
        srvmon_read(m, &r);
    } while (r.state == SRVMON_STARTING && llm_now_ns() < deadline);
    srvmon_stop(m);
    if (r.state == SRVMON_OK) {
        char kv[32] = "";
        if (!isnan(r.fig.kv_used))
            snprintf(kv, sizeof kv, ", KV cache %.0f %%", r.fig.kv_used * 100);
        check_line(c, LINE_INFO, "server metrics", -1, "%s at %s: %.0f running, %.0f waiting%s",
                   r.fig.engine, r.url, r.fig.running, r.fig.waiting, kv);
    } else {
        check_line(c, LINE_INFO, "server metrics", -1, "%s",
                   r.state == SRVMON_UNAVAILABLE ? r.note : "no answer within 3 s");
    }
}

static void check_header(check_ctx *c)
{
    char masked[64];
    llm_mask_key(c->cfg->api_key, masked, sizeof masked);
    fprintf(c->out, "llmload check: %s (key %s, model %s, %s endpoint)\n", c->base, masked,
            c->cfg->model && c->cfg->model[0] ? c->cfg->model : "not set",
            c->cfg->endpoint == LLM_ENDPOINT_COMPLETIONS ? "completions" : "chat");
}

static int check_summary(check_ctx *c, int reach)
{
    int planned = c->cfg->no_usage ? 5 : 6; /* the ✓/✗ probes; speed is information */
    if (c->failed == 0 && c->passed == planned) {
        fprintf(c->out, "all %d checks passed: ready for a load test\n", c->passed);
        return LLM_EXIT_OK;
    }
    fprintf(c->out, "%d check%s failed%s\n", c->failed, c->failed == 1 ? "" : "s",
            c->passed + c->failed < planned ? "; the later ones were not run" : "");
    return reach < 0 ? LLM_EXIT_UNREACHABLE : LLM_EXIT_FAILED;
}

int check_main(const llm_config *cfg, FILE *out)
{
    if (!cfg->url || !cfg->url[0]) {
        fprintf(out, "no URL to check: set MODEL_URL or --url (e.g. http://localhost:8000/v1)\n");
        return LLM_EXIT_USAGE;
    }
    check_ctx c = {.cfg = cfg, .out = out, .utf8 = check_locale_utf8()};
    llm_strlcpy(c.base, cfg->url, sizeof c.base);
    for (size_t n = strlen(c.base); n > 0 && c.base[n - 1] == '/'; n--)
        c.base[n - 1] = '\0';
    curl_global_init(CURL_GLOBAL_DEFAULT);
    check_header(&c);
    probe models;
    int reach = check_reach(&c, &models);
    if (reach > 0 && !check_model(&c, &models))
        reach = 0;
    probe_free(&models);
    if (reach > 0 && check_chat(&c))
        check_stream(&c);
    if (reach > 0)
        check_server_metrics(&c);
    fflush(out);
    curl_global_cleanup();
    return check_summary(&c, reach);
}
