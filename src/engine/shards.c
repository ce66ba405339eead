#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/shard.h"
#include "engine/slots.h"

/* The facade: N shards (engine/shard.h) as the one engine of engine.h. */

/* engine_poll stages at most this many events per call, split among the shards. */
#define POLL_STAGE_CAP 4096

struct engine {
    shard **shards; /* shards[0] leads: commands go to it */
    size_t n;
    llm_event stage[POLL_STAGE_CAP]; /* engine_poll's per-shard batches, merged by time */
};

long engine_threads_for(const llm_config *cfg, const plan *p)
{
    long n = cfg->threads;
    if (n < 0) { /* auto: the cores but one, which the dashboard and the consumer keep */
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        n = cores > 1 ? cores - 1 : 1;
    }
    if (n < 1)
        n = 1;
    /* No shard without a user: at most the plan's most users; an open loop's arrivals need an
     * in-flight place on every shard, so at most its smallest in-flight cap. */
    long most = p->max_concurrency, least = LONG_MAX;
    bool open_loop = false;
    for (size_t k = 0; k < p->n_steps; k++) {
        open_loop |= p->steps[k].rate > 0;
        if (p->steps[k].concurrency < least)
            least = p->steps[k].concurrency;
    }
    long cap = open_loop ? least : most;
    if (p->search || cap < 1)
        cap = 1;
    return n < cap ? n : cap;
}

int engine_start(const llm_config *cfg, const plan *p, const char *model, engine **out, char *err,
                 size_t errlen)
{
    *out = NULL;
    size_t count = (size_t)engine_threads_for(cfg, p);
    long slots = slots_count(p->max_concurrency, err, errlen); /* one open-files limit */
    if (slots < 0)
        return -1;
    if ((long)count > slots)
        count = (size_t)slots;
    engine *e = calloc(1, sizeof *e);
    if (e)
        e->shards = calloc(count, sizeof *e->shards);
    if (!e || !e->shards) {
        free(e);
        snprintf(err, errlen, "out of memory starting the engine");
        return -1;
    }
    /* users divided as --shard divides them: the first slots % count shards take one more */
    long base = 0;
    for (size_t i = 0; i < count; i++) {
        long n = plan_share(slots, (long)i, (long)count);
        if (!(e->shards[i] = shard_new(cfg, p, model, i, count, n, base, err, errlen))) {
            engine_destroy(e);
            return -1;
        }
        e->n = i + 1;
        base += n;
    }
    if (shard_lead(e->shards, count, (size_t)slots) != 0) {
        snprintf(err, errlen, "out of memory starting the engine");
        engine_destroy(e);
        return -1;
    }
    /* followers first: the leader's first directive finds them waiting */
    for (size_t k = count; k-- > 0;)
        if (shard_spawn(e->shards[k]) != 0) {
            snprintf(err, errlen, "cannot start the engine thread");
            engine_destroy(e);
            return -1;
        }
    *out = e;
    return 0;
}

/* Pops up to max events from every shard's ring and merges them by time, so that a follower's
 * records and the leader's step marks (EV_STEP, EV_WINDOW_END, EV_PAUSE…) reach the
 * consumer in the order they happened. The leader's ring is read first: a follower's record
 * that happened before a mark is then in its ring already. */
size_t engine_poll(engine *e, llm_event *out, size_t max)
{
    if (e->n == 1)
        return shard_pop(e->shards[0], out, max);
    size_t cap = max < POLL_STAGE_CAP ? max : POLL_STAGE_CAP;
    size_t quota = cap / e->n ? cap / e->n : 1;
    size_t got[ENGINE_MAX_THREADS], pos[ENGINE_MAX_THREADS], total = 0;
    for (size_t i = 0; i < e->n; i++) {
        size_t want = total >= max ? 0 : quota < max - total ? quota : max - total;
        got[i] = want ? shard_pop(e->shards[i], e->stage + i * quota, want) : 0;
        pos[i] = 0;
        total += got[i];
    }
    for (size_t n = 0; n < total; n++) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < e->n; i++)
            if (pos[i] < got[i] &&
                (best == SIZE_MAX ||
                 e->stage[i * quota + pos[i]].t_ns < e->stage[best * quota + pos[best]].t_ns))
                best = i;
        out[n] = e->stage[best * quota + pos[best]++];
    }
    return total;
}

bool engine_send(engine *e, engine_cmd cmd)
{
    return shard_command(e->shards[0], cmd);
}

void engine_read_gauges(engine *e, engine_gauges *g)
{
    shard_gauges(e->shards[0], g);      /* the step, the state, the time left: the leader's */
    for (size_t i = 1; i < e->n; i++) { /* the shards' figures add up */
        engine_gauges s;
        shard_gauges(e->shards[i], &s);
        g->target += s.target;
        g->inflight += s.inflight;
        g->max_target += s.max_target;
        g->started += s.started;
        g->cancelled += s.cancelled;
        g->lost_events += s.lost_events;
        g->urgent_marked += s.urgent_marked;
        g->urgent_unmarked += s.urgent_unmarked;
    }
}

bool engine_finished(engine *e)
{
    for (size_t i = 0; i < e->n; i++)
        if (!shard_finished(e->shards[i]))
            return false;
    return true;
}

void engine_destroy(engine *e)
{
    if (!e)
        return;
    /* Every thread ends before any loop closes: a follower may wake the leader to the end. */
    for (size_t i = 0; i < e->n; i++)
        shard_stop(e->shards[i]);
    for (size_t i = 0; i < e->n; i++)
        shard_join(e->shards[i]);
    for (size_t i = e->n; i-- > 0;)
        shard_free(e->shards[i]);
    free(e->shards);
    free(e);
}
