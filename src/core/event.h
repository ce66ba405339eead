/* core/event: the fixed-size record the engine thread publishes to the consumer (UI or
 * headless loop) over the SPSC ring, and the error classes of DESIGN.md §4. Plain data. */
#ifndef LLM_EVENT_H
#define LLM_EVENT_H

#include <stdint.h>

typedef enum {
    ERR_CONNECT = 0, /* refused, DNS, unreachable */
    ERR_TLS,
    ERR_TIMEOUT, /* connect, first-token or whole-request timeout */
    ERR_HTTP_4XX,
    ERR_HTTP_429,
    ERR_HTTP_5XX,
    ERR_STREAM, /* malformed chunk, `error` event, or cut mid-stream */
    ERR_OTHER,
    ERR_CLASSES
} err_class;

/* Stable names used in JSON and on screen: "connect", "tls", ... */
const char *err_class_name(err_class c);

/* What a step's requests are (the seeds' -o, -i and -mm tests). */
typedef enum {
    TEST_OUTPUT = 0, /* generation: --max-tokens, tokens/s */
    TEST_INPUT,      /* max_tokens 1: prefill speed */
    TEST_MULTIMODAL, /* image + text prompt */
    TEST_KINDS
} llm_test_kind;

/* "output", "input", "multimodal". */
const char *test_kind_name(llm_test_kind k);

typedef enum {
    EV_REQUEST_DONE = 1, /* a request completed successfully */
    EV_REQUEST_FAILED,   /* a request ended in an error (fail.err_class) */
    EV_TOKENS,           /* one content-bearing SSE event arrived */
    EV_STEP,             /* the plan entered a new step */
    EV_STEP_END,         /* --search: the step's last request ended; the engine waits */
    EV_WINDOW_END,       /* the current step's load stopped: its window closes at t_ns (the
                            run's last step at its deadline or last request, a search step
                            when drained); requests still in flight are followed to their end */
    EV_PAUSE,            /* sending stopped (the `p` key or a cool-down): the window's clock */
    EV_RESUME,           /* stands still from EV_PAUSE's t_ns to EV_RESUME's (DESIGN §4) */
    EV_SERVER_ID,        /* the first `model` / `system_fingerprint` a response carried */
    EV_REQUEST_CUT,      /* still in flight when the run ended (after the drain, or at a
                            stop): counted, neither ok nor failed; payload u.failed (t0_ns,
                            elapsed_ns) */
} ev_kind;

/* Durations are nanoseconds relative to t0 (the moment the request was handed to curl)
 * unless named otherwise; 0 = did not happen. */
typedef struct {
    uint64_t t_sched_ns;  /* intended send time (absolute, monotonic) */
    uint64_t t0_ns;       /* actual hand-off to curl (absolute, monotonic) */
    uint64_t ttfb_ns;     /* first body byte */
    uint64_t ttft_ns;     /* first content or reasoning */
    uint64_t ttfo_ns;     /* first non-reasoning content */
    uint64_t e2e_ns;      /* [DONE] or clean close after finish_reason */
    uint64_t send_lag_ns; /* t0 - t_sched */
    uint32_t output_tokens;
    uint32_t prompt_tokens;
    uint32_t content_events;             /* content-bearing SSE events counted by the client */
    uint32_t dns_us, connect_us, tls_us; /* curl's connection timings (0 = reused) */
    uint8_t usage_reported;              /* output_tokens came from the server's usage */
    uint8_t prompt_estimated;            /* prompt_tokens is chars/4 */
    uint8_t new_conn;     /* the request opened a connection: dns/connect/tls are its phases */
    uint8_t reconnects;   /* re-sent once on a fresh connection (a reused one failed first) */
    uint8_t finish_grace; /* ended by the grace after finish_reason: no [DONE], no close */
    uint8_t one_read;     /* every content event arrived in one read (a buffering proxy?) */
    uint32_t reconnect_lost_us; /* time spent on the failed reused connection */
    /* The server's own view of the request, from llama.cpp's `timings` (final chunk);
     * all 0 unless srv_timings. Times in microseconds. */
    uint8_t srv_timings;
    uint32_t srv_prefill_us;  /* timings.prompt_ms: prompt processing */
    uint32_t srv_decode_us;   /* timings.predicted_ms: generation */
    uint32_t srv_prompt_n;    /* timings.prompt_n: prompt tokens processed (cache excluded) */
    uint32_t srv_predicted_n; /* timings.predicted_n: tokens the server generated */
    uint32_t srv_cache_n;     /* timings.cache_n: prompt tokens reused from the cache */
    /* the workload (engine/workload): what the body asked, what the server cached */
    uint32_t asked_input_tokens;  /* ~tokens of prompt the body was built with; 0 = not drawn */
    uint32_t asked_output_tokens; /* the body's max_tokens (0 = none known) */
    uint32_t cached_tokens;       /* usage.prompt_tokens_details.cached_tokens */
    uint8_t cached_reported;      /* the server reported cached_tokens (0 counts as a miss) */
    uint8_t turn;                 /* multi-turn: the turn it was (1-based); 0 = single request */
    uint8_t history_overflow;     /* multi-turn: its answer outgrew the conversation's history
                                     buffer, so the conversation ended before its last turn */
} ev_done;

typedef struct {
    uint64_t t0_ns;
    uint64_t elapsed_ns;
    uint16_t http_status; /* 0 when none */
    uint8_t err_class;
    uint8_t reconnects;         /* as in ev_done: the retry on a fresh connection failed too */
    uint32_t reconnect_lost_us; /* as in ev_done */
    char message[96];           /* last message of the class; never contains the API key */
} ev_failed;

typedef struct {
    /* Content events of one request that arrived in one read. The first is gap_ns after
     * the request's previous content event (0: it is the request's first, no ITL); the
     * other count - 1 arrived with it, an ITL of 0 each. */
    uint32_t count;
    uint64_t gap_ns;
} ev_tokens;

typedef struct {
    uint32_t index;       /* 0-based, in the order steps ran (manual steps included) */
    uint32_t total;       /* steps in the plan */
    uint32_t plan_index;  /* the plan step it runs (a manual step: the one it interrupted) */
    uint32_t concurrency; /* target concurrency applied (closed loop) */
    double rate;          /* target rate (open loop), 0 otherwise */
    uint8_t test;         /* llm_test_kind of the step's requests */
    uint8_t manual;       /* a hand change of the target started it */
} ev_step;

/* EV_SERVER_ID: what the server says it runs (NUL-terminated, cut to fit). */
typedef struct {
    char model[64];
    char fingerprint[40];
} ev_server_id;

typedef struct {
    uint8_t kind;
    uint8_t warmup; /* request belongs to the warm-up and is not counted */
    uint16_t pad;
    uint32_t step; /* plan step the request started in */
    uint64_t t_ns; /* when the event happened (absolute, monotonic) */
    union {
        ev_done done;
        ev_failed failed;
        ev_tokens tokens;
        ev_step step_change;
        ev_server_id server_id;
    } u;
} llm_event;

#endif
