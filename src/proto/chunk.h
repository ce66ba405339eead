/* proto/chunk: decodes one OpenAI-style streaming chunk (the `data:` of an SSE event) into
 * the few facts the metrics need. No allocation (except for a chunk of more than 512 JSON
 * tokens, see slow_path); any thread, one call at a time per out. */
#ifndef LLM_CHUNK_H
#define LLM_CHUNK_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    CHUNK_DATA = 0,  /* a JSON chunk (see fields) */
    CHUNK_DONE,      /* data: [DONE] */
    CHUNK_ERROR,     /* {"error": …} object, or an `event: error` */
    CHUNK_MALFORMED, /* not JSON, or not an object */
} chunk_kind;

typedef struct {
    chunk_kind kind;
    /* content-bearing choices in this chunk: non-empty delta.content / text (content) or
     * delta.reasoning_content / delta.reasoning (reasoning). A role-only chunk with ""
     * or null content has neither. */
    int content_events;
    int reasoning_events;
    size_t content_bytes;
    bool finish;    /* some choice has a non-null finish_reason */
    bool has_usage; /* a usage object with numbers */
    long completion_tokens;
    long prompt_tokens;
    /* top-level "model" and "system_fingerprint" strings: raw contents inside the data given
     * (escapes not undone, see chunk_copy_string); NULL / 0 when absent or not a string */
    const char *model;
    size_t model_len;
    const char *fingerprint;
    size_t fingerprint_len;
    /* llama.cpp's `timings` object (final chunk): the server's own prefill and decode of
     * the request. Times in ms, counts in tokens; has_timings false when absent. */
    bool has_timings;
    double prompt_ms, predicted_ms;
    long prompt_n, predicted_n, cache_n;
    /* the first content string of the chunk as it stands in the JSON (still escaped, so it
     * can be copied into another JSON string as is); points into the decoded data */
    const char *content_raw;
    size_t content_raw_len;
    bool has_cached;    /* usage.prompt_tokens_details.cached_tokens was a number */
    long cached_tokens; /* prompt tokens the server's prefix cache answered for */
    char message[256];  /* CHUNK_ERROR / CHUNK_MALFORMED: short human text */
    bool slow_path;     /* more JSON tokens than the stack array: decoded with heap tokens */
} chunk_info;

/* Decodes data[0..len). Always fills *out (kind tells what it was). */
void chunk_decode(const char *data, size_t len, chunk_info *out);

/* Like chunk_decode, for the data of an SSE event named event[0..event_len): an
 * `event: error` is CHUNK_ERROR whatever its data says (message from the data's
 * error.message, else the data text). */
void chunk_decode_event(const char *event, size_t event_len, const char *data, size_t len,
                        chunk_info *out);

/* Decodes a whole non-streaming response body: choices[].message.content (chat) or
 * choices[].text (completions) count as content, usage and errors as in chunk_decode. */
void chunk_decode_message(const char *data, size_t len, chunk_info *out);

/* Copies the raw contents of a JSON string (as in model/fingerprint above) into dst[cap],
 * NUL-terminated, cut to fit: common escapes undone, control and non-ASCII \u escapes as
 * '?'. No allocation. */
void chunk_copy_string(char *dst, size_t cap, const char *raw, size_t len);

#endif
