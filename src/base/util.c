#include "base/util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

uint64_t llm_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * LLM_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

int llm_parse_number(const char *text, double *out)
{
    if (!text || !*text || isspace((unsigned char)*text))
        return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v) || v < 0)
        return -1;
    *out = v;
    return 0;
}

int llm_parse_count(const char *text, long *out)
{
    if (!text || !isdigit((unsigned char)*text))
        return -1;
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || v < 0)
        return -1;
    *out = v;
    return 0;
}

int llm_parse_duration(const char *text, double *seconds)
{
    if (!text || !*text || !(isdigit((unsigned char)*text) || *text == '.'))
        return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || !isfinite(v) || v < 0)
        return -1;
    static const struct {
        const char *suffix;
        double scale;
    } units[] = {{"", 1}, {"s", 1}, {"ms", 1e-3}, {"us", 1e-6}, {"m", 60}, {"h", 3600}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].suffix) == 0) {
            *seconds = v * units[i].scale;
            return 0;
        }
    }
    return -1;
}

void llm_format_ms(double ms, char *out, size_t cap, bool ascii)
{
    if (!isfinite(ms))
        snprintf(out, cap, "-");
    else if (ms < 1.0)
        snprintf(out, cap, "%.0f %s", ms * 1000.0, ascii ? "us" : "\xC2\xB5s");
    else if (ms < 1000.0)
        snprintf(out, cap, ms < 10 ? "%.2f ms" : ms < 100 ? "%.1f ms" : "%.0f ms", ms);
    else
        snprintf(out, cap, "%.2f s", ms / 1000.0);
}

void llm_mask_key(const char *key, char *out, size_t cap)
{
    size_t n = key ? strlen(key) : 0;
    if (n == 0) {
        snprintf(out, cap, "(none)");
        return;
    }
    if (n < 12) {
        snprintf(out, cap, "\xE2\x80\xA6");
        return;
    }
    const char *dash = strchr(key, '-');
    int prefix = (dash && dash - key < 8) ? (int)(dash - key + 1) : 0;
    snprintf(out, cap, "%.*s\xE2\x80\xA6%s", prefix, key, key + n - 4);
}

size_t llm_strlcpy(char *dst, const char *src, size_t cap)
{
    size_t n = strlen(src);
    if (cap) {
        size_t k = n < cap - 1 ? n : cap - 1;
        memcpy(dst, src, k);
        dst[k] = '\0';
    }
    return n;
}

/* Bytes at the end of text that are the first bytes of key (at least 4, or the whole
 * key): what a cut made of a key that was echoed in full. */
static size_t cut_key_tail(const char *text, size_t tlen, const char *key, size_t klen)
{
    size_t most = tlen < klen ? tlen : klen;
    for (size_t k = most; k >= 4; k--)
        if (memcmp(text + tlen - k, key, k) == 0)
            return k;
    return 0;
}

void llm_scrub_key(char *text, size_t cap, const char *key)
{
    size_t klen = key ? strlen(key) : 0;
    if (klen < 4 || cap == 0)
        return;
    size_t tlen = strlen(text), tail = cut_key_tail(text, tlen, key, klen);
    if (!tail && !strstr(text, key))
        return;
    char masked[64];
    llm_mask_key(key, masked, sizeof masked);
    size_t mlen = strlen(masked);
    /* Each key becomes its mask: at most mlen + klen bytes per key-sized piece of text. */
    char *out = malloc(tlen + (tlen / klen + 2) * mlen + 1);
    if (!out) {
        memset(text, '*', tlen); /* never leave the key in place */
        return;
    }
    size_t o = 0, end = tlen - tail;
    for (size_t i = 0; i < end;) {
        if (i + klen <= tlen && memcmp(text + i, key, klen) == 0) {
            memcpy(out + o, masked, mlen);
            o += mlen;
            i += klen;
        } else {
            out[o++] = text[i++];
        }
    }
    if (tail) { /* the text ended inside a key (it was cut): mask what is left of it */
        memcpy(out + o, masked, mlen);
        o += mlen;
    }
    out[o] = '\0';
    llm_cut_utf8(text, cap, out);
    free(out);
}

size_t llm_cut_utf8(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (cap == 0)
        return n;
    size_t k = n < cap - 1 ? n : cap - 1;
    if (k < n) /* do not end inside a UTF-8 sequence (the mask's ellipsis is one) */
        while (k > 0 && ((unsigned char)src[k] & 0xC0) == 0x80)
            k--;
    memcpy(dst, src, k);
    dst[k] = '\0';
    return n;
}

int llm_format_scrubbed(char *out, size_t cap, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = llm_vformat_scrubbed(out, cap, key, fmt, ap);
    va_end(ap);
    return n;
}

int llm_vformat_scrubbed(char *out, size_t cap, const char *key, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    char *full = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!full) {
        va_end(again);
        if (cap)
            out[0] = '\0';
        return -1;
    }
    vsnprintf(full, (size_t)n + 1, fmt, again);
    va_end(again);
    llm_scrub_key(full, (size_t)n + 1, key);
    llm_cut_utf8(out, cap, full);
    free(full);
    return (int)strlen(out);
}

/* [scheme://][userinfo@]host...: the offset of the authority and the userinfo's length
 * including its '@' (0 when there is none). */
static size_t url_userinfo(const char *url, size_t *auth)
{
    const char *sep = strstr(url, "://");
    *auth = sep ? (size_t)(sep + 3 - url) : 0;
    const char *a = url + *auth;
    size_t alen = strcspn(a, "/?#");
    const char *at = NULL;
    for (const char *p = a; p < a + alen; p++)
        if (*p == '@')
            at = p;
    return at ? (size_t)(at + 1 - a) : 0;
}

void llm_url_without_userinfo(const char *url, char *out, size_t cap)
{
    size_t auth, ui = url ? url_userinfo(url, &auth) : 0;
    if (!url) {
        llm_strlcpy(out, "", cap);
        return;
    }
    if (!ui) {
        llm_cut_utf8(out, cap, url);
        return;
    }
    snprintf(out, cap, "%.*s%s", (int)auth, url, url + auth + ui);
}

char *llm_url_take_userinfo(char *url)
{
    size_t auth, ui = url_userinfo(url, &auth);
    if (!ui)
        return NULL;
    char *info = strndup(url + auth, ui - 1);
    if (!info)
        return NULL;
    memmove(url + auth, url + auth + ui, strlen(url + auth + ui) + 1);
    return info;
}

/* Lower-cased scheme, host and port of url (default port by scheme); 0 or -1. */
static int url_origin(const char *url, char *out, size_t cap)
{
    size_t auth, ui = url_userinfo(url, &auth);
    if (auth < 4)
        return -1;
    const char *host = url + auth + ui;
    size_t hlen = strcspn(host, "/?#");
    bool tls = strncasecmp(url, "https://", 8) == 0;
    const char *colon = NULL;
    for (const char *p = host; p < host + hlen; p++)
        if (*p == ':')
            colon = p;
    if (colon && memchr(colon, ']', (size_t)(host + hlen - colon)))
        colon = NULL; /* the colons of an IPv6 literal */
    size_t name = colon ? (size_t)(colon - host) : hlen;
    long port = tls ? 443 : 80;
    if (colon && colon + 1 < host + hlen)
        port = strtol(colon + 1, NULL, 10);
    int n = snprintf(out, cap, "%.*s%.*s:%ld", (int)auth, url, (int)name, host, port);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    for (char *p = out; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return 0;
}

bool llm_url_same_origin(const char *a, const char *b)
{
    char oa[512], ob[512];
    return a && b && url_origin(a, oa, sizeof oa) == 0 && url_origin(b, ob, sizeof ob) == 0 &&
           strcmp(oa, ob) == 0;
}
