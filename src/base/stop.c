#include "base/stop.h"

#include <signal.h>

/* The only global mutable state of base/: what a signal handler must reach. */
static volatile sig_atomic_t g_stop_signal;

void llm_stop_set(int sig)
{
    if (!g_stop_signal)
        g_stop_signal = sig;
}

int llm_stop_signal(void)
{
    return g_stop_signal;
}

void llm_stop_clear(void)
{
    g_stop_signal = 0;
}
