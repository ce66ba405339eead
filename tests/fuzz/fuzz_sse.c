/* libFuzzer target: the SSE parser must give the same events, the same overflow verdict
 * and the same pending count whether a stream arrives whole or cut at the points the
 * input's first bytes choose (tests/fuzz/run.sh builds and runs it). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/sse.h"

typedef struct {
    uint64_t hash, n;
} digest;

static void mix(digest *d, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        d->hash = (d->hash ^ (unsigned char)p[i]) * 1099511628211ULL;
    d->hash = (d->hash ^ 0xff) * 1099511628211ULL; /* field separator */
}

static int on_event(void *user, const char *event, size_t event_len, const char *data,
                    size_t data_len)
{
    digest *d = user;
    mix(d, event, event_len);
    mix(d, data, data_len);
    d->n++;
    return 0;
}

static int feed(const char *s, size_t n, const size_t *cuts, size_t ncuts, size_t cap, digest *d,
                size_t *pending)
{
    char *buf = malloc(cap);
    sse_parser p;
    sse_init(&p, buf, cap);
    int verdict = SSE_OK;
    size_t at = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        if (sse_feed(&p, s + at, end - at, on_event, d) == SSE_ERR_OVERFLOW)
            verdict = SSE_ERR_OVERFLOW;
        at = end;
    }
    *pending = sse_finish(&p);
    free(buf);
    return verdict;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    size_t cap = 16 + (size_t)data[0] * 4; /* small buffers reach the overflow paths */
    unsigned seed = data[1];
    const char *s = (const char *)data + 2;
    size_t n = size - 2;
    size_t cuts[8], ncuts = 0;
    for (size_t i = 0; i < 8 && n > 0; i++) { /* increasing cut points from the seed */
        size_t c = (seed * 2654435761u + i * 40503u) % (n + 1);
        if ((ncuts == 0 || c > cuts[ncuts - 1]) && c < n)
            cuts[ncuts++] = c;
    }
    digest whole = {14695981039346656037ULL, 0}, split = whole;
    size_t pend_whole, pend_split;
    int v_whole = feed(s, n, NULL, 0, cap, &whole, &pend_whole);
    int v_split = feed(s, n, cuts, ncuts, cap, &split, &pend_split);
    if (v_whole != v_split || whole.hash != split.hash || whole.n != split.n ||
        pend_whole != pend_split)
        abort();
    return 0;
}
