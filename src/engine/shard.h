/* engine/shard: one engine thread of a run (engine.c) — its uv loop, curl multi handles
 * (curlgroups), slot pool, arrivals and event ring and, on shard 0 (the leader), the scheduler
 * whose directive the other shards follow. The pieces the facade (shards.c: engine_start & co.)
 * makes, links, reads and takes apart; called by the controlling thread. */
#ifndef LLM_SHARD_H
#define LLM_SHARD_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/engine.h"

typedef struct shard shard;

/* Shard `index` of `count` with n_slots users numbered from slot_base; its thread is not
 * started. NULL with a sentence in err. */
shard *shard_new(const llm_config *cfg, const plan *p, const char *model, size_t index,
                 size_t count, long n_slots, long slot_base, char *err, size_t errlen);
/* shards[0] leads shards[0..count) (it borrows the array, which must outlive it). slots_total:
 * every shard's users, the most a target may be. Returns 0, or -1. */
int shard_lead(shard **shards, size_t count, size_t slots_total);
/* Starts the shard's thread: 0, or -1. */
int shard_spawn(shard *s);
/* Asks the thread to end now (requests in flight are cut); shard_join waits for it. */
void shard_stop(shard *s);
void shard_join(shard *s);
/* Frees a shard whose thread ended or never started. */
void shard_free(shard *s);

/* The shard's events, oldest first (its ring's one consumer). */
size_t shard_pop(shard *s, llm_event *out, size_t max);
/* A command to the leader; false when its ring is full or it finished. */
bool shard_command(shard *s, engine_cmd cmd);
/* The shard's own gauges (the leader's say the step, the state and the time left). */
void shard_gauges(shard *s, engine_gauges *g);
bool shard_finished(shard *s);

#endif
