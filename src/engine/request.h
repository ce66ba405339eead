/* engine/request: one virtual user's slot — its reused curl easy handle, its request body,
 * its SSE parser and the timings of the request in flight. Engine thread only. */
#ifndef LLM_REQUEST_H
#define LLM_REQUEST_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "core/event.h"
#include "engine/prompt.h"
#include "proto/chunk.h"
#include "engine/workload.h"
#include "proto/sse.h"

#define REQUEST_SSE_BUF (64 * 1024)
#define REQUEST_ERRBODY 1024
#define REQUEST_WHOLE_MAX (16u << 20) /* --no-stream: the largest answer kept */

/* Why the engine cut a request short (it keeps these deadlines itself: engine/slots' lists,
 * not curl's timers, which cost a search of curl's timer tree on every read). */
typedef enum {
    REQ_ABORT_NONE,
    REQ_ABORT_TTFT,    /* --ttft-timeout */
    REQ_ABORT_CONNECT, /* --connect-timeout: not connected in time */
    REQ_ABORT_REQUEST, /* --request-timeout: the whole answer not in time */
} req_abort;

/* The engine's lists of requests in flight in the order they (re)started (engine/slots). */
enum { REQ_FIFO_STARTED, REQ_FIFO_CONNECTING, REQ_FIFOS };

struct req_slot;
/* Called once per read that brought content-bearing SSE events: count of them, the first
 * gap_ns after the request's previous one (the engine publishes one EV_TOKENS). */
typedef void (*req_tokens_fn)(struct req_slot *s, uint32_t count, uint64_t gap_ns);
/* Called at most once per request, for its first chunk that names the server's `model`
 * and/or `system_fingerprint`: raw JSON string contents (escapes not undone), len 0 = absent;
 * valid only during the call. NULL: not asked. */
typedef void (*req_server_id_fn)(struct req_slot *s, const char *model, size_t model_len,
                                 const char *fingerprint, size_t fingerprint_len);

typedef struct req_slot {
    CURL *easy;
    CURLM *multi; /* the multi handle of the slot's group (engine/curlgroups) */
    prompt_body body;
    prompt_body input_body; /* max_tokens 1, for input-test steps; json NULL when none */
    prompt_body *sent;      /* the body of the request in flight (may be shared) */
    prompt_body wl_body;    /* engine/workload writes each request's body here ... */
    char *wl_buf;           /* ... into this buffer of the workload's body_cap (NULL: none) */
    wl_convo convo;         /* --turns: the conversation this virtual user holds */
    uint8_t turn_sent;      /* the turn of the request in flight (1-based); 0 = single */
    char *sse_buf;
    sse_parser sse;
    void *owner; /* the engine */
    req_tokens_fn on_tokens;
    req_server_id_fn on_server_id;
    const char *api_key; /* only to scrub it out of server messages */
    struct req_slot *next_free;
    uint32_t index;
    uint32_t busy_pos; /* index in the engine's list of busy slots */

    /* the request in flight */
    bool streaming;   /* false with --no-stream: the body is one JSON answer */
    bool usage_asked; /* stream_options.include_usage is sent: a usage chunk will follow */
    bool busy, warmup;
    req_abort aborted;
    double abort_limit_s; /* the limit that aborted it, named in the failure message */
    bool connected;       /* curl called the pre-request callback: the connection is up */
    int urgent_fd;        /* the socket read first until the first token (engine); -1: none */
    struct req_slot *fifo_prev[REQ_FIFOS], *fifo_next[REQ_FIFOS];
    uint64_t fifo_t[REQ_FIFOS]; /* when it joined that list (0 = not in it) */
    uint32_t step;
    uint64_t t_sched, t0, t_first_byte, t_first_token, t_first_output, t_last_content, t_done;
    uint32_t content_events;
    uint64_t t_read;         /* when the bytes being parsed arrived */
    uint64_t t_last_event;   /* the last SSE event (a finish_grace request ends there) */
    uint32_t read_tokens;    /* content events in the bytes of this read so far */
    uint32_t content_reads;  /* reads that brought content events */
    uint64_t read_first_gap; /* ITL of the first of them */
    long usage_completion, usage_prompt, cached_tokens;
    bool cached;        /* the server reported cached_tokens */
    chunk_info timings; /* the last chunk with llama.cpp `timings` (has_timings) */
    bool usage, finish, done_seen, stream_error, overflow, finish_grace, id_reported;
    long http_status;
    bool error_body;
    bool got_header; /* some response header arrived (so the request reached the server) */
    size_t errbody_len, whole_len; /* whole_len: --no-stream answer bytes in whole */
    char errbody[REQUEST_ERRBODY];
    char stream_msg[96];
    /* response headers the messages need (cut to fit) */
    char content_type[48], content_encoding[24], location[128];
    /* --no-stream answers: grown as needed up to REQUEST_WHOLE_MAX, kept across requests */
    char *whole;
    size_t whole_cap;
    /* the request was re-sent on a fresh connection (by llmload, or by curl itself when it
     * sees the reused one died); time lost on the reused one */
    uint8_t reconnects;
    uint64_t reconnect_lost_ns;
    /* sends of the request in flight (curl's PREREQFUNCTION: once per connection it goes out
     * on), the first's and the last's time; attempts_known false when libcurl lacks it */
    bool attempts_known;
    uint32_t attempts;
    uint64_t t_attempt_first, t_attempt_last;
} req_slot;

/* Creates the easy handle and the body once; headers is shared by every slot.
 * Returns 0 or -1 with a sentence. */
int request_slot_init(req_slot *s, const llm_config *cfg, const char *url,
                      struct curl_slist *headers, const char *model, uint32_t index,
                      bool output_body, bool input_body, char *err, size_t errlen);
void request_slot_free(req_slot *s);

/* Resets per-request state and stamps the nonce; the caller then adds s->easy to the multi. */
void request_begin(req_slot *s, uint64_t request_number, uint64_t t_sched, uint64_t now,
                   uint32_t step, bool warmup, prompt_body *body);

/* Turns the finished transfer into an event (EV_REQUEST_DONE or EV_REQUEST_FAILED). */
void request_finish(req_slot *s, CURLcode result, uint64_t now, llm_event *ev);

/* A transfer that failed (result) on a *reused* connection before any response byte, not yet
 * re-sent: readies it to go once more on a fresh connection, keeping t0 and t_sched, and
 * returns true; the caller takes s->easy out of the multi handle and adds it again. False
 * for anything else (a fresh connection that fails is an error). */
bool request_reconnect(req_slot *s, CURLcode result, uint64_t now);

/* True (and the request marked finish_grace) when a stream that sent finish_reason (and the
 * usage asked for) has been silent for the grace, with neither [DONE] nor a close: the caller
 * then finishes it with CURLE_OK. Called from a periodic check, not per byte. */
bool request_finish_by_grace(req_slot *s, uint64_t now);

/* Builds the shared header list (JSON, event-stream, Authorization, --header extras). */
struct curl_slist *request_headers(const llm_config *cfg);

#endif
