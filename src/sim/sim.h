/* sim: the built-in OpenAI-compatible simulator server (DESIGN.md §7) on its own libuv
 * loop and thread. sim_start/sim_stop/sim_port are called by one controlling thread. */
#ifndef LLM_SIM_H
#define LLM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One generation request as the simulator received it (for tests: sim_options.received). */
typedef struct {
    uint64_t t_ns;      /* when its body had arrived (CLOCK_MONOTONIC) */
    long prompt_tokens; /* its prompt, by the simulator's tokenizer */
    long max_tokens;    /* what it asked for */
    long cached_tokens; /* what the prefix cache held of it */
} sim_received;

typedef struct {
    char host[64];         /* default "127.0.0.1" */
    int port;              /* 0 = any free port */
    int slots;             /* concurrent sequences (continuous batching); default 8 */
    double base_latency_s; /* fixed part of TTFT; default 0.02 */
    double prefill_rate;   /* prompt tokens/s; default 5000 */
    double decode_rate;    /* tokens/s of one sequence alone; default 50 */
    double batch_penalty;  /* per-seq rate = decode_rate / (1 + penalty*(batch-1)); default 0.05 */
    long default_max_tokens; /* when a request gives none; default 256 */
    double mean_output;      /* mean output length without ignore_eos (capped by max_tokens); 0 =
                                max_tokens */
    char model[128];         /* served model name; default "llmload-sim" */
    char api_key[256];       /* empty = no auth; else 401 without "Bearer <key>" */
    uint64_t seed;           /* default 1 */
    /* fault injection, each a percentage of requests (0..100) */
    double error_rate_pct;     /* split evenly among 429 (Retry-After), 500, 503 */
    double cut_rate_pct;       /* stream cut mid-way (connection closed, no [DONE]) */
    double malformed_rate_pct; /* one chunk of the stream is not valid JSON */
    double stall_rate_pct;     /* the stream stops for stall_s mid-way */
    double stall_s;            /* default 5 */
    double slow_headers_s;     /* delay before response headers, every request; 0 = none */
    /* after the last byte of a streamed response that advertised keep-alive, stop reading
     * and close the connection this many ms later (0 = at once), like llama.cpp's server;
     * requests sent on it meanwhile get no answer. -1 = never (default) */
    int close_after_stream_ms;
    /* streams end with finish_reason (and usage) but neither [DONE] nor the end of the
     * response: the connection stays open until the client gives up */
    bool no_done;
    /* top-level body fields answered 400 "Unrecognized request argument supplied: NAME",
     * comma-separated (a strict server: OpenAI's own for ignore_eos); "" = none */
    char reject_fields[128];
    bool quiet;               /* no access/log lines on stderr */
    bool timings;             /* llama.cpp `timings` in the final chunk (or the whole answer) */
    double drop_last_pct;     /* % of streams whose last token chunk is not sent (a cutting proxy);
                                 the server's own counts still include it */
    long prefix_cache_tokens; /* LRU prefix cache size in tokens (16-token blocks); 0 = none */
    /* tests: a server that counts no tokens for the client: no /tokenize (404) and
     * "usage": null, so nothing can calibrate prompt lengths */
    bool no_token_counts;
    bool no_tokenize; /* tests: no /tokenize (404); usage as usual */
    /* tests: the first received_cap generation requests are written to received[], their
     * count to *received_n, by the server's thread; read them after sim_stop. NULL = off */
    sim_received *received;
    size_t received_cap, *received_n;
} sim_options;

typedef struct sim_server sim_server;

/* Defaults for every field above. */
void sim_options_default(sim_options *o);

/* Binds, starts the server thread and returns 0 with *out set; or -1 with a sentence in
 * err (e.g. "port 8000 is in use: pick another with --port"). */
int sim_start(const sim_options *o, sim_server **out, char *err, size_t errlen);

/* The bound TCP port (useful with port 0). */
int sim_port(const sim_server *s);

/* Stops accepting, closes every connection, joins the thread, frees. NULL is ignored. */
void sim_stop(sim_server *s);

/* `llmload sim`: runs in the foreground, prints "listening on http://H:P/v1", returns on
 * SIGINT/SIGTERM with an exit code. */
int sim_main(const sim_options *o);

#endif
