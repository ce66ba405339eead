#include "run/demo.h"

#include <stdio.h>
#include <string.h>

/* 8 decode slots at 60 tok/s each, slowing as the batch grows: a ramp to 32 users
 * overtakes the slots at step 5 (c = 16) and TTFT climbs from the queue. */
static void demo_sim_defaults(sim_options *o)
{
    sim_options d;
    sim_options_default(&d);
    if (o->slots == d.slots)
        o->slots = 8;
    if (o->decode_rate == d.decode_rate)
        o->decode_rate = 60;
    if (o->batch_penalty == d.batch_penalty)
        o->batch_penalty = 0.03;
    if (o->base_latency_s == d.base_latency_s)
        o->base_latency_s = 0.05;
    if (o->prefill_rate == d.prefill_rate)
        o->prefill_rate = 4000;
    snprintf(o->host, sizeof o->host, "127.0.0.1");
    o->port = 0;
    o->quiet = true;
}

static void demo_plan_defaults(llm_config *cfg)
{
    if (!cfg->search && cfg->ramp_end == 0 && !cfg->requests_set && cfg->duration_s <= 0) {
        cfg->ramp_start = 1;
        cfg->ramp_end = 32;
        cfg->ramp_step = 2;
        cfg->ramp_multiply = true;
    }
    if ((cfg->ramp_end > 0 || cfg->search) && cfg->step_requests == 0 && cfg->step_duration_s <= 0)
        cfg->step_duration_s = 10;
    /* Short answers: several completions a second even at c = 1 (128 is the default). */
    if (cfg->max_tokens == 128)
        cfg->max_tokens = 48;
}

int demo_start(llm_config *cfg, demo_server *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    demo_sim_defaults(&cfg->sim);
    demo_plan_defaults(cfg);
    if (sim_start(&cfg->sim, &d->sim, err, errlen) != 0)
        return -1;
    snprintf(d->url, sizeof d->url, "http://127.0.0.1:%d/v1", sim_port(d->sim));
    cfg->url = d->url;
    cfg->model = NULL;
    if (cfg->sim.api_key[0])
        cfg->api_key = cfg->sim.api_key;
    return 0;
}

void demo_stop(demo_server *d)
{
    sim_stop(d->sim);
    d->sim = NULL;
}
