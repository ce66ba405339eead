/* Placeholder until the simulator lands. */
#include "sim/sim.h"

#include <stdio.h>
#include <string.h>

void sim_options_default(sim_options *o)
{
    memset(o, 0, sizeof *o);
}

int sim_start(const sim_options *o, sim_server **out, char *err, size_t errlen)
{
    (void)o;
    *out = NULL;
    snprintf(err, errlen, "simulator is not built yet");
    return -1;
}

int sim_port(const sim_server *s)
{
    (void)s;
    return 0;
}

void sim_stop(sim_server *s)
{
    (void)s;
}

int sim_main(const sim_options *o)
{
    (void)o;
    return 2;
}
