#include "base/util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

void llm_scrub_key(char *text, size_t cap, const char *key)
{
    size_t klen = key ? strlen(key) : 0;
    if (klen < 4 || cap == 0 || !strstr(text, key))
        return;
    char masked[64], out[2048];
    llm_mask_key(key, masked, sizeof masked);
    size_t o = 0, mlen = strlen(masked);
    for (const char *s = text; *s && o + 1 < sizeof out;) {
        if (strncmp(s, key, klen) == 0) {
            size_t n = mlen < sizeof out - 1 - o ? mlen : sizeof out - 1 - o;
            memcpy(out + o, masked, n);
            o += n;
            s += klen;
        } else {
            out[o++] = *s++;
        }
    }
    out[o] = '\0';
    llm_strlcpy(text, out, cap);
}
