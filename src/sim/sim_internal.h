/* sim internals: the server, connection and request structures shared by the sim_*.c files.
 * Everything here runs on the simulator's loop thread only (set-up and tear-down excepted). */
#ifndef LLM_SIM_INTERNAL_H
#define LLM_SIM_INTERNAL_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/ptimer.h"
#include "base/util.h"
#include "sim/sim.h"

#define SIM_MAX_BODY (8u << 20)   /* larger request bodies get 413 */
#define SIM_URL_MAX 2048          /* longer URLs are truncated (and then 404) */
#define SIM_AUTH_MAX 320          /* "Bearer " + a 256-byte key, with room */
#define SIM_HELD_HIGH (64u << 10) /* stop reading while this much input waits */
#define SIM_OUT_HIGH (1u << 20)   /* a stream pauses while its client lags this much */
#define SIM_NO_HEAP ((size_t)-1)

typedef enum {
    SIM_PH_IDLE,    /* not in the model */
    SIM_PH_DELAY,   /* waiting out --slow-headers before it is handled */
    SIM_PH_QUEUED,  /* waiting for a slot */
    SIM_PH_PREFILL, /* in a slot, first token not yet out */
    SIM_PH_DECODE,  /* in a slot, emitting tokens */
    SIM_PH_CLOSING, /* stream done, connection closes when due (--close-after-stream) */
} sim_phase;

/* vLLM's time-to-first-token bucket bounds (seconds), used for the three histograms */
#define SIM_HIST_BUCKETS 22
extern const double sim_hist_le[SIM_HIST_BUCKETS];
enum { SIM_H_TTFT, SIM_H_E2E, SIM_H_QUEUE, SIM_H_ITL };
void model_observe(sim_server *s, int which, uint64_t from_ns, uint64_t to_ns);

typedef enum { SIM_EP_OTHER, SIM_EP_CHAT, SIM_EP_COMPLETIONS } sim_endpoint;

typedef struct sim_conn sim_conn;
typedef struct sim_server sim_server;

/* The prefix cache (sim_cache.c): blocks of 16 tokens (by the simulator's tokenizer) named
 * by a chained hash, LRU. */
#define SIM_CACHE_BLOCK_TOKENS 16
typedef struct {
    uint64_t key;
    int32_t prev, next; /* LRU list: head = most recent */
} sim_cache_entry;
typedef struct {
    long cap, used; /* blocks; cap 0 = no cache */
    sim_cache_entry *entries;
    int32_t *index; /* open addressing over entries, index_cap a power of two */
    size_t index_cap;
    int32_t head, tail;
} sim_cache;
typedef struct {
    uint64_t chain; /* hash of every byte so far */
    size_t fill;    /* tokens of the current block */
    long hit_blocks;
    bool missed; /* a block was not cached: the rest cannot be a cached prefix */
} sim_cache_hasher;

/* One generation (or one delayed response): at most one per connection at a time. */
typedef struct sim_req {
    sim_conn *conn;
    sim_phase phase;
    sim_endpoint ep;
    bool stream, include_usage;
    long max_tokens, n_out, prompt_tokens, sent;
    long cached_tokens; /* prompt tokens the prefix cache answered for (skip prefill) */
    long cut_at, malformed_at, stall_at; /* token counts after which a fault hits; 0 = none */
    uint64_t words;                      /* RNG state for the token text */
    uint64_t due_ns;                     /* when the next event fires (heap key) */
    uint64_t first_ns;                   /* first token time, for the access log */
    uint64_t admit_ns;                   /* entered a slot: prefill starts (timings) */
    uint64_t arrive_ns;                  /* submitted to the model (vLLM's histograms) */
    uint64_t last_tok_ns;                /* the previous token (vLLM's ITL histogram) */
    bool drop_last;                      /* --drop-last-rate: the last token chunk is not sent */
    size_t heap_idx;
    struct sim_req *qnext;
    unsigned long long id;
    long long created;
} sim_req;

struct sim_conn {
    uv_tcp_t tcp;
    uv_write_t wreq;
    sim_server *srv;
    http_parser parser;
    /* the request being parsed */
    char url[SIM_URL_MAX];
    size_t url_len;
    char hfield[32];
    size_t hfield_len;
    bool hvalue_seen; /* a value followed the current field name */
    int hkind;        /* which header the current value belongs to */
    char auth[SIM_AUTH_MAX];
    size_t auth_len;
    bool expect_continue, too_large, msg_ready;
    char *body;
    size_t body_len, body_cap;
    /* input not yet parsed (pipelined requests wait here) */
    char *held;
    size_t held_len, held_cap;
    /* output: `out` fills while `wbuf` is being written */
    char *out, *wbuf;
    size_t out_len, out_cap, wbuf_cap;
    bool writing, reading, closing, close_after_flush, busy, pumping, keep_alive;
    bool http10; /* the request was HTTP/1.0: a stream goes unframed and ends with a close */
    bool doomed; /* --close-after-stream: nothing more is read or answered; it closes soon */
    /* chunk head of the current stream: `data: {"id":…,"model":…,` */
    char *head;
    size_t head_len, head_cap;
    /* the current request */
    sim_req req;
    int method, status;
    uint64_t start_ns;
    sim_conn *prev, *next;             /* every open connection */
    sim_conn *dirty_prev, *dirty_next; /* connections with output to flush this tick */
    bool dirty;
};

struct sim_server {
    sim_options opt;
    uv_loop_t loop;
    uv_tcp_t listener;
    ptimer timer; /* sub-millisecond: token times are fractions of a millisecond apart */
    uv_prepare_t prepare;
    uv_check_t check;
    uv_async_t stop_async;
    uv_signal_t sigint, sigterm;
    bool signals, stopping;
    uv_thread_t thread;
    int port;
    http_parser_settings settings;
    char model_json[800]; /* the served name as a quoted JSON string */
    size_t model_json_len;
    /* model: timed events, slots and the FIFO queue */
    sim_req **heap;
    size_t heap_len, heap_cap;
    uint64_t armed_due;
    uint64_t fired_ns; /* when the timer last fired: the next firing is a tick later at least */
    sim_req *q_head, *q_tail;
    long running, waiting, decoding;
    /* connections */
    sim_conn *conns, *dirty, *dirty_tail; /* dirty: oldest first */
    uv_idle_t idle; /* active while dirty connections wait: the loop polls without blocking */
    long n_conns;
    /* counters for /metrics */
    sim_cache cache; /* --prefix-cache-tokens */
    unsigned long long requests_total, requests_ok, requests_failed, gen_tokens_total,
        prompt_tokens_total, next_id;
    /* vLLM-named latency histograms for /metrics: TTFT, E2E, queue time, ITL (seconds) */
    unsigned long long hist[4][SIM_HIST_BUCKETS + 1]; /* per bucket (not cumulative); the last
                                                        is +Inf */
    double hist_sum[4];
    char readbuf[64 * 1024];
};

/* sim_http.c: connections, parsing, writing */
void http_settings_init(http_parser_settings *st);
void http_on_connection(uv_stream_t *listener, int status);
char *conn_reserve(sim_conn *c, size_t n);
void conn_append(sim_conn *c, const void *p, size_t n);
/* Writes up to max dirty connections, oldest first; true when some still wait. */
bool conn_flush_dirty(sim_server *s, size_t max);
/* Writes c's output now instead of at the end of the tick (a first token). */
void conn_flush_one(sim_conn *c);
void conn_finish_request(sim_conn *c);
void conn_close_when_flushed(sim_conn *c);
void conn_close(sim_conn *c);
void conn_close_all(sim_server *s);
void conn_close_after_stream(sim_conn *c, int ms);

/* sim_api.c: routing, auth, request bodies */
void api_on_request(sim_conn *c);
void api_handle(sim_conn *c);
void api_log(sim_conn *c, const char *what);

/* sim_model.c: seeded RNG, event heap, slots and queue, token emission */
uint64_t sim_rng_next(uint64_t *state);
double sim_rng_unit(uint64_t *state);
void model_delay(sim_server *s, sim_req *r, double seconds);
void model_close_at(sim_server *s, sim_req *r, uint64_t due_ns);
void model_submit(sim_server *s, sim_req *r);
void model_release(sim_server *s, sim_req *r);
void model_on_timer(ptimer *t);
void model_rearm(sim_server *s);
void model_clear(sim_server *s);
long model_output_length(const sim_options *o, long max_tokens, bool exact, uint64_t *rng);

/* sim_cache.c */
int cache_init(sim_cache *c, long tokens);
void cache_free(sim_cache *c);
void cache_hasher_init(sim_cache_hasher *h);
void cache_feed(sim_cache *c, sim_cache_hasher *h, const char *p, size_t n);

/* sim_proto.c: response heads, JSON bodies, SSE chunks */
void proto_json(sim_conn *c, int status, const char *extra_headers, const char *body, size_t len);
void proto_error(sim_conn *c, int status, const char *type, const char *message);
void proto_text(sim_conn *c, int status, const char *ctype, const char *body, size_t len);
void proto_models(sim_conn *c);
void proto_metrics(sim_conn *c);
void proto_stream_start(sim_conn *c, sim_req *r);
void proto_stream_role(sim_conn *c, sim_req *r);
void proto_stream_token(sim_conn *c, sim_req *r);
void proto_stream_malformed(sim_conn *c);
void proto_stream_end(sim_conn *c, sim_req *r);
void proto_full(sim_conn *c, sim_req *r);
size_t proto_json_string(const char *s, char *out, size_t cap);

#endif
