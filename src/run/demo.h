/* run/demo: `--demo` — the simulator started in-process with a capacity that makes queueing
 * visible within a minute, and a ramp against it. Main thread only. */
#ifndef LLM_DEMO_H
#define LLM_DEMO_H

#include <stddef.h>

#include "config/config.h"
#include "sim/sim.h"

typedef struct {
    sim_server *sim;
    char url[64];
} demo_server;

/* Starts the simulator and points cfg (a copy the run owns) at it; fills the demo's plan
 * and simulator knobs where the user gave none. Returns 0 or -1 with a sentence. */
int demo_start(llm_config *cfg, demo_server *d, char *err, size_t errlen);
void demo_stop(demo_server *d);

#endif
