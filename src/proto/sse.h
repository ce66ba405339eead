/* proto/sse: incremental Server-Sent Events parser (pure, no I/O, no allocation).
 * One parser per stream; called only by the thread that owns that stream. */
#ifndef LLM_SSE_H
#define LLM_SSE_H

#include <stddef.h>
#include <stdint.h>

enum {
    SSE_OK = 0,
    SSE_ERR_OVERFLOW = -1, /* a line or an event's data exceeded the buffer */
};

/* Called once per dispatched event. `event` is the `event:` field ("" when none, which
 * means "message"); `data` is the joined data lines (LF between them), not terminated.
 * Return non-zero to stop parsing (sse_feed then returns that value). */
typedef int (*sse_event_fn)(void *user, const char *event, size_t event_len, const char *data,
                            size_t data_len);

typedef struct {
    char *buf; /* caller-provided: holds the current line and the event's data */
    size_t cap;
    size_t line_len; /* bytes of the current, unfinished line */
    size_t data_len; /* bytes of data accumulated for the current event */
    char event[32];  /* current event type */
    size_t event_len;
    uint8_t state;   /* BOM/CR bookkeeping */
    uint64_t events; /* dispatched so far */
} sse_parser;

/* buf must outlive the parser; cap bounds the longest line and the largest event. */
void sse_init(sse_parser *p, char *buf, size_t cap);

/* Feeds n bytes (any split: mid-line, mid-CRLF, mid-BOM). Returns SSE_OK, SSE_ERR_OVERFLOW
 * (the parser then discards until the next blank line; events after that point in the
 * same bytes are still delivered, so one call may both overflow and dispatch), or the
 * callback's non-zero value (parsing stops at once). `data` given to the callback points
 * into buf and is valid only during the call. */
int sse_feed(sse_parser *p, const char *bytes, size_t n, sse_event_fn fn, void *user);

/* End of stream: per the SSE spec an unterminated event is discarded. Returns the number
 * of bytes that were pending (non-zero means the stream ended mid-event). Leaves the parser
 * ready for a new stream on the same buffer (events count kept). */
size_t sse_finish(sse_parser *p);

#endif
