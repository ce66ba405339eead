/* proto/chunk: OpenAI-style chunk decoding with jsmn. A chunk is tokenised into a fixed
 * stack array; only the few keys the metrics need are looked at, in any order. */
#include "proto/chunk.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

/* A vLLM token chunk is ~25 tokens, a llama.cpp usage chunk with timings ~45: 512 covers
 * every realistic chunk, and anything larger still decodes on the slow path. */
#define CHUNK_TOKENS 512

typedef struct {
    const char *js;
    const jsmntok_t *t;
    int n;
    const char *holder; /* "delta" (stream chunks) or "message" (whole responses) */
} chunk_doc;

static void chunk_clear(chunk_info *out)
{
    memset(out, 0, offsetof(chunk_info, message));
    out->message[0] = '\0';
    out->slow_path = false;
}

static int chunk_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void chunk_trim(const char **s, size_t *len)
{
    while (*len > 0 && chunk_is_space(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && chunk_is_space((*s)[*len - 1]))
        (*len)--;
}

static size_t tok_len(const jsmntok_t *t)
{
    return (size_t)(t->end - t->start);
}

static int tok_is(const chunk_doc *d, int i, const char *s, size_t slen)
{
    const jsmntok_t *t = &d->t[i];
    return t->type == JSMN_STRING && tok_len(t) == slen && memcmp(d->js + t->start, s, slen) == 0;
}

#define TOK_IS(d, i, lit) tok_is((d), (i), (lit), sizeof(lit) - 1)

/* Index of the token after the whole subtree rooted at i: children start before their
 * parent ends, the next sibling after it. */
static int tok_skip(const chunk_doc *d, int i)
{
    int end = d->t[i].end, j = i + 1;
    while (j < d->n && d->t[j].start < end)
        j++;
    return j;
}

static int tok_is_null(const chunk_doc *d, int i)
{
    return d->t[i].type == JSMN_PRIMITIVE && d->js[d->t[i].start] == 'n';
}

/* Integer value of a number primitive; -1 when it is not one. */
static long tok_long(const chunk_doc *d, int i)
{
    const jsmntok_t *t = &d->t[i];
    if (t->type != JSMN_PRIMITIVE)
        return -1;
    long v = 0;
    int k = t->start;
    if (k >= t->end || d->js[k] < '0' || d->js[k] > '9')
        return -1;
    for (; k < t->end && d->js[k] >= '0' && d->js[k] <= '9'; k++)
        v = v < (LONG_MAX - 9) / 10 ? v * 10 + (d->js[k] - '0') : LONG_MAX;
    return v;
}

/* Value of a non-negative number primitive (llama.cpp's "4.676"); -1 when it is not one. */
static double tok_double(const chunk_doc *d, int i)
{
    const jsmntok_t *t = &d->t[i];
    char num[40];
    size_t n = tok_len(t);
    if (t->type != JSMN_PRIMITIVE || n == 0 || n >= sizeof num || d->js[t->start] < '0' ||
        d->js[t->start] > '9')
        return -1;
    memcpy(num, d->js + t->start, n);
    num[n] = '\0';
    char *stop;
    double v = strtod(num, &stop);
    return *stop == '\0' ? v : -1;
}

/* Value of the 4 hex digits after a \u (jsmn already checked they are hex). */
static unsigned hex4(const char *s)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

/* Bytes of UTF-8 a JSON string decodes to (jsmn already checked its escapes). */
static size_t str_decoded_len(const char *s, size_t n)
{
    if (!memchr(s, '\\', n))
        return n;
    size_t out = 0;
    for (size_t k = 0; k < n; k++) {
        if (s[k] != '\\' || k + 1 >= n) {
            out++;
            continue;
        }
        if (s[k + 1] != 'u' || k + 5 >= n) {
            out++;
            k++;
            continue;
        }
        unsigned cp = hex4(s + k + 2);
        /* Each half of a surrogate pair counts 2: the pair is one 4-byte sequence. */
        out += cp < 0x80 ? 1 : cp < 0x800 ? 2 : (cp >= 0xD800 && cp < 0xE000) ? 2 : 3;
        k += 5;
    }
    return out;
}

/* Copies a JSON string token into dst, undoing the common escapes; \u escapes become
 * '?' when not ASCII (the text is only ever shown to a person). */
static void str_copy(char *dst, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t k = 0; k < n && o + 1 < cap; k++) {
        char c = s[k];
        if (c == '\\' && k + 1 < n) {
            char e = s[++k];
            c = e == 'n' ? ' ' : e == 't' ? ' ' : e == 'r' ? ' ' : e == 'b' || e == 'f' ? ' ' : e;
            if (e == 'u') {
                unsigned cp = k + 4 < n ? hex4(s + k + 1) : 0;
                c = (cp >= 0x20 && cp < 0x7f) ? (char)cp : '?';
                k += 4;
            }
        }
        dst[o++] = c;
    }
    dst[o] = '\0';
}

static void chunk_message_tok(chunk_info *out, const chunk_doc *d, int i)
{
    const jsmntok_t *t = &d->t[i];
    str_copy(out->message, sizeof out->message, d->js + t->start, tok_len(t));
}

/* The first content string, escaped as sent (multi-turn histories copy it). */
static void keep_raw(const chunk_doc *d, const jsmntok_t *v, chunk_info *out)
{
    if (out->content_raw)
        return;
    out->content_raw = d->js + v->start;
    out->content_raw_len = tok_len(v);
}

/* delta / message object of one choice. */
static void chunk_holder(const chunk_doc *d, int obj, chunk_info *out)
{
    for (int i = obj + 1; i + 1 < d->n && d->t[i].start < d->t[obj].end; i = tok_skip(d, i + 1)) {
        const jsmntok_t *v = &d->t[i + 1];
        if (v->type != JSMN_STRING || v->end == v->start)
            continue;
        if (TOK_IS(d, i, "content")) {
            out->content_events++;
            out->content_bytes += str_decoded_len(d->js + v->start, tok_len(v));
            keep_raw(d, v, out);
        } else if (TOK_IS(d, i, "reasoning_content") || TOK_IS(d, i, "reasoning")) {
            out->reasoning_events++;
        }
    }
}

static void chunk_choice(const chunk_doc *d, int obj, chunk_info *out)
{
    for (int i = obj + 1; i + 1 < d->n && d->t[i].start < d->t[obj].end; i = tok_skip(d, i + 1)) {
        const jsmntok_t *v = &d->t[i + 1];
        if (tok_is(d, i, d->holder, strlen(d->holder)) && v->type == JSMN_OBJECT) {
            chunk_holder(d, i + 1, out);
        } else if (TOK_IS(d, i, "text") && v->type == JSMN_STRING && v->end > v->start) {
            out->content_events++;
            out->content_bytes += str_decoded_len(d->js + v->start, tok_len(v));
            keep_raw(d, v, out);
        } else if (TOK_IS(d, i, "finish_reason") && !tok_is_null(d, i + 1)) {
            out->finish = true;
        }
    }
}

static void chunk_choices(const chunk_doc *d, int arr, chunk_info *out)
{
    for (int i = arr + 1; i < d->n && d->t[i].start < d->t[arr].end; i = tok_skip(d, i))
        if (d->t[i].type == JSMN_OBJECT)
            chunk_choice(d, i, out);
}

/* usage.prompt_tokens_details (vLLM, SGLang, OpenAI): the prefix cache's share. */
static void chunk_prompt_details(const chunk_doc *d, int obj, chunk_info *out)
{
    for (int i = obj + 1; i + 1 < d->n && d->t[i].start < d->t[obj].end; i = tok_skip(d, i + 1)) {
        long v = tok_long(d, i + 1);
        if (v >= 0 && TOK_IS(d, i, "cached_tokens")) {
            out->cached_tokens = v;
            out->has_cached = true;
        }
    }
}

static void chunk_usage(const chunk_doc *d, int obj, chunk_info *out)
{
    for (int i = obj + 1; i + 1 < d->n && d->t[i].start < d->t[obj].end; i = tok_skip(d, i + 1)) {
        if (TOK_IS(d, i, "prompt_tokens_details") && d->t[i + 1].type == JSMN_OBJECT) {
            chunk_prompt_details(d, i + 1, out);
            continue;
        }
        long v = tok_long(d, i + 1);
        if (v < 0)
            continue;
        if (TOK_IS(d, i, "completion_tokens")) {
            out->completion_tokens = v;
            out->has_usage = true;
        } else if (TOK_IS(d, i, "prompt_tokens")) {
            out->prompt_tokens = v;
            out->has_usage = true;
        }
    }
}

/* llama.cpp's {"timings": {"prompt_n", "prompt_ms", "predicted_n", "predicted_ms",
 * "cache_n", …}}: has_timings once both times are there. */
static void chunk_timings(const chunk_doc *d, int obj, chunk_info *out)
{
    int seen = 0;
    for (int i = obj + 1; i + 1 < d->n && d->t[i].start < d->t[obj].end; i = tok_skip(d, i + 1)) {
        double v = tok_double(d, i + 1);
        if (v < 0)
            continue;
        if (TOK_IS(d, i, "prompt_ms"))
            out->prompt_ms = v, seen |= 1;
        else if (TOK_IS(d, i, "predicted_ms"))
            out->predicted_ms = v, seen |= 2;
        else if (TOK_IS(d, i, "prompt_n"))
            out->prompt_n = (long)v;
        else if (TOK_IS(d, i, "predicted_n"))
            out->predicted_n = (long)v;
        else if (TOK_IS(d, i, "cache_n"))
            out->cache_n = (long)v;
    }
    out->has_timings = seen == 3;
}

/* {"error": {"message": …}} or {"error": "text"}. */
static void chunk_error(const chunk_doc *d, int v, chunk_info *out)
{
    out->kind = CHUNK_ERROR;
    snprintf(out->message, sizeof out->message, "the server sent an error without a message");
    if (d->t[v].type == JSMN_STRING) {
        chunk_message_tok(out, d, v);
        return;
    }
    int type_tok = -1;
    for (int i = v + 1; i + 1 < d->n && d->t[i].start < d->t[v].end; i = tok_skip(d, i + 1)) {
        if (TOK_IS(d, i, "message") && d->t[i + 1].type == JSMN_STRING) {
            chunk_message_tok(out, d, i + 1);
            return;
        }
        if (TOK_IS(d, i, "type") && d->t[i + 1].type == JSMN_STRING)
            type_tok = i + 1;
    }
    if (type_tok >= 0)
        chunk_message_tok(out, d, type_tok);
}

/* Top-level keys. An error wins over anything else in the same object; vLLM's older
 * {"object": "error", "message": …} shape counts as an error too. */
static void chunk_root(const chunk_doc *d, chunk_info *out)
{
    int error_tok = -1;
    bool object_error = false;
    for (int i = 1; i + 1 < d->n && d->t[i].start < d->t[0].end; i = tok_skip(d, i + 1)) {
        const jsmntok_t *v = &d->t[i + 1];
        if (TOK_IS(d, i, "choices") && v->type == JSMN_ARRAY)
            chunk_choices(d, i + 1, out);
        else if (TOK_IS(d, i, "usage") && v->type == JSMN_OBJECT)
            chunk_usage(d, i + 1, out);
        else if (TOK_IS(d, i, "timings") && v->type == JSMN_OBJECT)
            chunk_timings(d, i + 1, out);
        else if (TOK_IS(d, i, "error") && (v->type == JSMN_OBJECT || v->type == JSMN_STRING))
            error_tok = i + 1;
        else if (TOK_IS(d, i, "object") && TOK_IS(d, i + 1, "error"))
            object_error = true;
        else if (TOK_IS(d, i, "model") && v->type == JSMN_STRING) {
            out->model = d->js + v->start;
            out->model_len = tok_len(v);
        } else if (TOK_IS(d, i, "system_fingerprint") && v->type == JSMN_STRING) {
            out->fingerprint = d->js + v->start;
            out->fingerprint_len = tok_len(v);
        }
    }
    if (error_tok >= 0) {
        chunk_error(d, error_tok, out);
    } else if (object_error) {
        chunk_error(d, 0, out); /* message and type sit at the top level */
    }
}

static void chunk_malformed(chunk_info *out, const char *why, const char *data, size_t len)
{
    char excerpt[48];
    size_t n = len < sizeof excerpt - 1 ? len : sizeof excerpt - 1;
    for (size_t k = 0; k < n; k++)
        excerpt[k] = (data[k] >= 0x20 && data[k] < 0x7f) ? data[k] : '?';
    excerpt[n] = '\0';
    out->kind = CHUNK_MALFORMED;
    snprintf(out->message, sizeof out->message, "%s: \"%s%s\"", why, excerpt, len > n ? "..." : "");
}

/* jsmn accepts `{"a":}` and `{"a":1 "b":2}`: every member of an object must be a key
 * with exactly one value. */
static int chunk_members_ok(const jsmntok_t *t, int n)
{
    for (int i = 1; i < n; i++) {
        int up = t[i].parent;
        if (up >= 0 && t[up].type == JSMN_OBJECT && (t[i].type != JSMN_STRING || t[i].size != 1))
            return 0;
    }
    return 1;
}

/* Tokenises into toks; on success checks that the text is exactly one JSON object. */
static int chunk_tokenize(const char *data, size_t len, jsmntok_t *toks, unsigned cap,
                          chunk_info *out)
{
    jsmn_parser parser;
    jsmn_init(&parser);
    int r = jsmn_parse(&parser, data, len, toks, cap);
    if (r == JSMN_ERROR_NOMEM)
        return r;
    if (r == JSMN_ERROR_PART)
        chunk_malformed(out, "truncated JSON", data, len);
    else if (r < 0)
        chunk_malformed(out, "not JSON", data, len);
    else if (r == 0)
        chunk_malformed(out, "empty data", data, len);
    else if (toks[0].type != JSMN_OBJECT)
        chunk_malformed(out, "JSON is not an object", data, len);
    else if ((size_t)toks[0].end != len)
        chunk_malformed(out, "not JSON (text after the object)", data, len);
    else if (!chunk_members_ok(toks, r))
        chunk_malformed(out, "not JSON (a key without a value)", data, len);
    return out->kind == CHUNK_MALFORMED ? -1 : r;
}

/* More than CHUNK_TOKENS tokens: count them, then tokenise into a heap array. */
static void chunk_decode_large(const char *data, size_t len, const char *holder, chunk_info *out)
{
    out->slow_path = true;
    jsmn_parser parser;
    jsmn_init(&parser);
    int count = jsmn_parse(&parser, data, len, NULL, 0);
    jsmntok_t *toks = count > 0 ? malloc((size_t)count * sizeof *toks) : NULL;
    if (!toks) {
        chunk_malformed(out, count > 0 ? "chunk too large to decode" : "not JSON", data, len);
        return;
    }
    int r = chunk_tokenize(data, len, toks, (unsigned)count, out);
    if (r > 0) {
        chunk_doc d = {data, toks, r, holder};
        chunk_root(&d, out);
    }
    free(toks);
}

static void chunk_decode_as(const char *data, size_t len, const char *holder, chunk_info *out)
{
    chunk_clear(out);
    chunk_trim(&data, &len);
    if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
        out->kind = CHUNK_DONE;
        return;
    }
    jsmntok_t toks[CHUNK_TOKENS];
    int r = chunk_tokenize(data, len, toks, CHUNK_TOKENS, out);
    if (r == JSMN_ERROR_NOMEM) {
        chunk_decode_large(data, len, holder, out);
        return;
    }
    if (r > 0) {
        chunk_doc d = {data, toks, r, holder};
        chunk_root(&d, out);
    }
}

void chunk_copy_string(char *dst, size_t cap, const char *raw, size_t len)
{
    if (cap == 0)
        return;
    str_copy(dst, cap, raw, len);
    for (char *p = dst; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = '?';
}

void chunk_decode(const char *data, size_t len, chunk_info *out)
{
    chunk_decode_as(data, len, "delta", out);
}

void chunk_decode_message(const char *data, size_t len, chunk_info *out)
{
    chunk_decode_as(data, len, "message", out);
}

void chunk_decode_event(const char *event, size_t event_len, const char *data, size_t len,
                        chunk_info *out)
{
    chunk_decode(data, len, out);
    if (event_len != 5 || memcmp(event, "error", 5) != 0 || out->kind == CHUNK_ERROR)
        return;
    chunk_clear(out);
    out->kind = CHUNK_ERROR;
    chunk_trim(&data, &len);
    if (len == 0) {
        snprintf(out->message, sizeof out->message, "the server sent an error event");
        return;
    }
    size_t n = len < sizeof out->message - 1 ? len : sizeof out->message - 1;
    for (size_t k = 0; k < n; k++)
        out->message[k] = (unsigned char)data[k] < 0x20 ? ' ' : data[k];
    out->message[n] = '\0';
}
