/* run/listen: the --listen endpoint — live figures as Prometheus text (GET /metrics) and the
 * authenticated control endpoint (POST /control/...) — served by its own thread. The consumer
 * thread publishes figures (listen_publish) and takes the commands (listen_take); the listener
 * never touches stats, the engine or curl. */
#ifndef LLM_RUN_LISTEN_H
#define LLM_RUN_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "core/hist.h"
#include "engine/engine.h"

/* What a scrape shows: the consumer's copy of the run so far (totals). */
typedef struct {
    bool valid; /* published at least once */
    uint64_t ok, errors[ERR_CLASSES];
    uint64_t output_tokens, prompt_tokens, cut;
    uint32_t target, inflight, step, n_steps; /* step: 0-based */
    uint64_t lost_events;
    engine_state state;
    bool manual;
    long shard_index, shard_count; /* shard_count 0 = not a shard */
    hist ttft, e2e, itl;           /* µs, as core/stats records them */
} listen_figures;

typedef struct listen_srv listen_srv;

/* Binds spec (ADDR:PORT, config/cli_scale) and starts the thread. token NULL: every POST is
 * refused (403). Returns 0 with *port the bound port, or -1 with a sentence in err. */
int listen_start(const char *spec, const char *token, listen_srv **out, int *port, char *err,
                 size_t errlen);
/* Copies f for the next scrapes (consumer thread; takes the listener's mutex briefly). */
void listen_publish(listen_srv *l, const listen_figures *f);
/* The oldest command a control request queued, if any (consumer thread). */
bool listen_take(listen_srv *l, engine_cmd *out);
/* Stops the thread, closes the socket, frees. NULL is ignored. */
void listen_stop(listen_srv *l);

/* The Prometheus text of f (exposition format 0.0.4). Caller frees; NULL when out of memory. */
char *listen_render(const listen_figures *f);
/* "pause", "resume", "next", "stop", "plan", "target", "adjust" with its value (the query's
 * value= or the body's number) into a command. Returns 0, or -1 with a sentence. */
int listen_parse_command(const char *name, const char *value, engine_cmd *out, char *err,
                         size_t errlen);
/* The state label of llmload_state: "starting", "warmup", "running", "paused", "cooldown",
 * "draining", "done" ("unknown" out of range). */
const char *listen_state_name(engine_state s);
/* Constant-time check of an Authorization header value against "Bearer <token>". */
bool listen_token_ok(const char *header, const char *token);

#endif
