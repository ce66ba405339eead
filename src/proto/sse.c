/* proto/sse: incremental Server-Sent Events parser (WHATWG "event stream" rules, minus
 * id/retry which a load tester has no use for). See sse.h for the contract. */
#include "proto/sse.h"

#include <stdbool.h>
#include <string.h>

/* p->state bits. The BOM counter holds how many bytes of EF BB BF matched so far, so a
 * BOM split across feeds is still recognised. */
enum {
    ST_BOM_COUNT = 0x03, /* 0..2 bytes of the BOM seen */
    ST_BOM_DONE = 0x04,  /* past the stream start: no BOM check any more */
    ST_CR = 0x08,        /* the last line ended with CR: a following LF belongs to it */
    ST_DISCARD = 0x10,   /* after an overflow: skip lines until a blank one */
    ST_HAS_DATA = 0x20,  /* the current event has at least one data line */
};

static const unsigned char sse_bom[3] = {0xEF, 0xBB, 0xBF};

void sse_init(sse_parser *p, char *buf, size_t cap)
{
    memset(p, 0, sizeof *p);
    p->buf = buf;
    p->cap = cap;
}

static void sse_reset_event(sse_parser *p)
{
    p->data_len = 0;
    p->event_len = 0;
    p->event[0] = '\0';
    p->state &= (uint8_t)~ST_HAS_DATA;
}

/* Enters discard mode: the event being built is dropped. */
static int sse_overflow(sse_parser *p)
{
    sse_reset_event(p);
    p->state |= ST_DISCARD;
    return SSE_ERR_OVERFLOW;
}

/* Consumes BOM bytes at the stream start. On a mismatch the bytes already matched were
 * ordinary text: they become the start of the first line. */
static const char *sse_skip_bom(sse_parser *p, const char *s, const char *end)
{
    unsigned k = p->state & ST_BOM_COUNT;
    while (s < end && k < 3) {
        if ((unsigned char)*s != sse_bom[k]) {
            if (k <= p->cap) {
                memcpy(p->buf, sse_bom, k);
                p->line_len = k;
            }
            p->state = (uint8_t)((p->state & ~ST_BOM_COUNT) | ST_BOM_DONE);
            return s;
        }
        k++;
        s++;
    }
    p->state = (uint8_t)((p->state & ~ST_BOM_COUNT) | (k == 3 ? ST_BOM_DONE : k));
    return s;
}

static int sse_dispatch(sse_parser *p, sse_event_fn fn, void *user)
{
    int rc = 0;
    if (p->state & ST_HAS_DATA) {
        p->events++;
        rc = fn(user, p->event, p->event_len, p->buf, p->data_len);
    }
    sse_reset_event(p);
    return rc;
}

/* Appends one data line's value to the event; the value may live inside buf (a line that
 * was buffered across feeds sits right after the data), hence memmove. */
static int sse_append_data(sse_parser *p, const char *v, size_t vlen)
{
    size_t sep = (p->state & ST_HAS_DATA) ? 1 : 0;
    if (p->data_len + sep + vlen > p->cap)
        return sse_overflow(p);
    if (sep)
        p->buf[p->data_len++] = '\n';
    memmove(p->buf + p->data_len, v, vlen);
    p->data_len += vlen;
    p->state |= ST_HAS_DATA;
    return SSE_OK;
}

static void sse_set_event(sse_parser *p, const char *v, size_t vlen)
{
    /* Event names are short ("error", "message"); a longer one is kept truncated. */
    if (vlen >= sizeof p->event)
        vlen = sizeof p->event - 1;
    memcpy(p->event, v, vlen);
    p->event[vlen] = '\0';
    p->event_len = vlen;
}

static bool sse_field_is(const char *f, size_t flen, const char *name, size_t nlen)
{
    return flen == nlen && memcmp(f, name, nlen) == 0;
}

/* Handles one complete line (without its terminator). Returns SSE_OK, SSE_ERR_OVERFLOW
 * or the callback's non-zero value. */
static int sse_line(sse_parser *p, const char *line, size_t len, sse_event_fn fn, void *user)
{
    if (p->state & ST_DISCARD) {
        if (len == 0)
            p->state &= (uint8_t)~ST_DISCARD;
        return SSE_OK;
    }
    if (len == 0)
        return sse_dispatch(p, fn, user);
    if (line[0] == ':')
        return SSE_OK;
    const char *colon = memchr(line, ':', len);
    size_t flen = colon ? (size_t)(colon - line) : len;
    const char *v = colon ? colon + 1 : line + len;
    size_t vlen = (size_t)(line + len - v);
    if (vlen > 0 && *v == ' ') {
        v++;
        vlen--;
    }
    if (sse_field_is(line, flen, "data", 4))
        return sse_append_data(p, v, vlen);
    if (sse_field_is(line, flen, "event", 5))
        sse_set_event(p, v, vlen);
    /* id, retry and unknown fields are accepted and ignored. */
    return SSE_OK;
}

/* Keeps the tail of a line that continues in the next feed. */
static int sse_buffer_partial(sse_parser *p, const char *s, size_t n)
{
    if (p->state & ST_DISCARD) {
        p->line_len += n; /* only "was the line empty?" matters while discarding */
        return SSE_OK;
    }
    if (p->data_len + p->line_len + n > p->cap) {
        int rc = sse_overflow(p);
        p->line_len += n;
        return rc;
    }
    memcpy(p->buf + p->data_len + p->line_len, s, n);
    p->line_len += n;
    return SSE_OK;
}

/* Position of the next c at or after s, or end; *cache remembers the answer so a feed
 * with many lines is scanned once per byte value, not once per line. */
static const char *sse_next(const char *s, const char *end, char c, const char **cache)
{
    if (*cache == NULL || (*cache != end && *cache < s)) {
        const char *q = memchr(s, c, (size_t)(end - s));
        *cache = q ? q : end;
    }
    return *cache;
}

/* Completes a line ending at eol (exclusive). A line begun in an earlier feed is joined
 * in buf first. */
static int sse_complete(sse_parser *p, const char *s, const char *eol, sse_event_fn fn, void *user)
{
    size_t n = (size_t)(eol - s);
    if (p->line_len == 0) {
        /* A line that would not fit the buffer is an overflow even when it arrives whole,
         * as it is when it arrives in pieces: the verdict must not depend on the splits. */
        if (!(p->state & ST_DISCARD) && p->data_len + n > p->cap)
            return sse_overflow(p);
        return sse_line(p, s, n, fn, user);
    }
    int rc = sse_buffer_partial(p, s, n);
    size_t len = p->line_len;
    p->line_len = 0;
    if (rc != SSE_OK) {
        /* The line itself overflowed; the discard state ends only at a later blank line. */
        return rc;
    }
    return sse_line(p, p->buf + p->data_len, len, fn, user);
}

int sse_feed(sse_parser *p, const char *bytes, size_t n, sse_event_fn fn, void *user)
{
    const char *s = bytes, *end = bytes + n;
    const char *lf = NULL, *cr = NULL;
    int result = SSE_OK;
    if (!(p->state & ST_BOM_DONE))
        s = sse_skip_bom(p, s, end);
    while (s < end) {
        if (p->state & ST_CR) {
            p->state &= (uint8_t)~ST_CR;
            if (*s == '\n') {
                s++;
                continue;
            }
        }
        const char *nl = sse_next(s, end, '\n', &lf);
        const char *rt = sse_next(s, end, '\r', &cr);
        const char *eol = nl < rt ? nl : rt;
        if (eol == end) {
            int rc = sse_buffer_partial(p, s, (size_t)(end - s));
            return rc != SSE_OK ? rc : result;
        }
        if (*eol == '\r')
            p->state |= ST_CR;
        int rc = sse_complete(p, s, eol, fn, user);
        s = eol + 1;
        if (rc == SSE_ERR_OVERFLOW)
            result = rc; /* keep going: events after the resync are still delivered */
        else if (rc != SSE_OK)
            return rc;
    }
    return result;
}

size_t sse_finish(sse_parser *p)
{
    size_t pending = p->data_len + p->line_len + (p->state & ST_BOM_COUNT);
    if (pending == 0 && (p->state & ST_HAS_DATA))
        pending = 1; /* an empty data line was seen but its event never ended */
    uint64_t events = p->events;
    sse_init(p, p->buf, p->cap);
    p->events = events;
    return pending;
}
