/* proto/chunk: decodes one OpenAI-style streaming chunk (the `data:` of an SSE event) into
 * the few facts the metrics need. No allocation; any thread, one call at a time per out. */
#ifndef LLM_CHUNK_H
#define LLM_CHUNK_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    CHUNK_DATA = 0,   /* a JSON chunk (see fields) */
    CHUNK_DONE,       /* data: [DONE] */
    CHUNK_ERROR,      /* {"error": …} object, or an `event: error` */
    CHUNK_MALFORMED,  /* not JSON, or not an object */
} chunk_kind;

typedef struct {
    chunk_kind kind;
    /* content-bearing choices in this chunk: non-empty delta.content / text (content) or
     * delta.reasoning_content / delta.reasoning (reasoning). A role-only chunk with ""
     * or null content has neither. */
    int content_events;
    int reasoning_events;
    size_t content_bytes;
    bool finish;        /* some choice has a non-null finish_reason */
    bool has_usage;     /* a usage object with numbers */
    long completion_tokens;
    long prompt_tokens;
    char message[256];  /* CHUNK_ERROR / CHUNK_MALFORMED: short human text */
} chunk_info;

/* Decodes data[0..len). Always fills *out (kind tells what it was). */
void chunk_decode(const char *data, size_t len, chunk_info *out);

#endif
