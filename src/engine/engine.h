/* engine: the background threads (shards) that own the libuv loops and the curl multi
 * handles, run the plan and publish llm_event records. Start/poll/send/stop are called by
 * one controlling thread (the UI or the headless loop); nothing else touches curl/uv.
 *
 * --threads N: N shards (engine/shard.h, engine.c), each a thread with its own loop, multi
 * handles (engine/curlgroups.h), slots and event ring, behind this API (the facade,
 * engine/shards.c). Shard 0, the leader, is the one scheduler: it takes every command, keeps the
 * step, the pause and the deadlines, and alone publishes the step marks (EV_STEP, EV_WINDOW_END,
 * EV_PAUSE, EV_RESUME, EV_STEP_END), so stats see one of each per step as with one thread. The
 * other shards follow its directive at once (a new step, a target, a pause, the end). Users are
 * divided as --shard divides them (plan_share: the first total % N shards take one more), the rate
 * is R/N per shard from a seed stream of its own (the union of the Poisson processes is Poisson at
 * R), and a step's requests (and the warm-up's) are one budget every shard draws from, so -n 101
 * sends 101. engine_poll merges the rings by time; the gauges are the shards' sums. N is at most
 * the plan's most users (at most its smallest in-flight cap in an open loop: every shard needs a
 * place), and 1 in a search. */
#ifndef LLM_ENGINE_H
#define LLM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/event.h"
#include "engine/plan.h"

typedef enum {
    ENGINE_CMD_SET_TARGET = 1, /* value = new concurrency; takes manual control: the plan
                                  step ends and a manual step starts at the applied target
                                  (changes within 1 s are one); ignored in a search */
    ENGINE_CMD_ADJUST_TARGET,  /* value = delta (may be negative); as SET_TARGET */
    ENGINE_CMD_PLAN_CONTROL,   /* hand the target back to the plan: its step starts again */
    ENGINE_CMD_PAUSE,
    ENGINE_CMD_RESUME,
    ENGINE_CMD_NEXT_STEP, /* next plan step (ends the warm-up; in a search: end the step now,
                             letting its requests finish; on the last step: finish) */
    ENGINE_CMD_STOP,      /* end now: requests in flight are cut (EV_REQUEST_CUT) */
    ENGINE_CMD_PROBE,     /* search: value = index of the step just added to the plan; run it */
} engine_cmd_kind;

typedef struct {
    int kind;
    long value;
} engine_cmd;

typedef enum {
    ENGINE_STARTING = 0,
    ENGINE_WARMUP,
    ENGINE_RUNNING,
    ENGINE_PAUSED,
    ENGINE_COOLDOWN,
    ENGINE_DRAINING, /* the load ended; requests in flight finish (--drain-timeout) */
    ENGINE_DONE,
} engine_state;

/* Live figures, read by the controlling thread at any time. */
typedef struct {
    uint32_t target;
    uint32_t inflight;    /* requests in flight; with --turns, users holding a conversation
                             (those thinking between turns too) */
    uint32_t step;        /* 0-based index of the current plan step */
    uint32_t seq;         /* 0-based index of the step running (stats' index: manual steps
                             count too) */
    uint32_t max_target;  /* the most users the engine can run (slots, open-files limit) */
    uint32_t n_steps;     /* in a search: the steps the engine has been given so far */
    uint64_t started;     /* requests handed to curl, warm-up included */
    uint64_t cancelled;   /* in flight when the run was stopped: neither ok nor failed */
    uint64_t lost_events; /* events the ring could not take: the measurement is incomplete */
    engine_state state;
    bool manual;
    /* time left in a duration-bounded step, standing still while paused;
     * ENGINE_LEFT_UNKNOWN for a step bounded by requests */
    uint64_t step_left_ms;
    /* time left in a running cool-down (>= 1 while one runs), standing still while paused;
     * 0 outside one */
    uint64_t cooldown_left_ms;
    /* streamed requests whose socket was read before the others while they waited for their
     * first token, and those whose socket went back in turn (first token, or the end without
     * one): equal when no request waits */
    uint64_t urgent_marked, urgent_unmarked;
} engine_gauges;

#define ENGINE_LEFT_UNKNOWN UINT64_MAX

typedef struct engine engine;

/* Most shards (--threads). */
#define ENGINE_MAX_THREADS LLM_MAX_THREADS

/* The shards a run of plan p gets from cfg->threads (auto = the cores but one), within the
 * bounds above. */
long engine_threads_for(const llm_config *cfg, const plan *p);

/* model: the resolved model name to send (NULL = omit the field). Returns 0 with the
 * thread running, or -1 with a sentence in err. cfg and p must outlive the engine. */
int engine_start(const llm_config *cfg, const plan *p, const char *model, engine **out, char *err,
                 size_t errlen);

/* Burst dequeue of up to max events (consumer thread). */
size_t engine_poll(engine *e, llm_event *out, size_t max);

/* Queues a command and wakes the engine; false when the command ring is full. */
bool engine_send(engine *e, engine_cmd cmd);

void engine_read_gauges(engine *e, engine_gauges *g);

/* True once the engine has published its last event (drain with engine_poll after). */
bool engine_finished(engine *e);

/* Stops the run if still going, joins the thread and frees everything. NULL is ignored. */
void engine_destroy(engine *e);

#endif
