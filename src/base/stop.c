#include "base/stop.h"

#include <signal.h>
#include <stddef.h>
#include <string.h>

/* The only global mutable state of base/: what a signal handler must reach. */
static volatile sig_atomic_t g_stop_signal;

void llm_stop_set(int sig)
{
    if (!g_stop_signal)
        g_stop_signal = sig;
}

static void record(int sig)
{
    llm_stop_set(sig);
}

int llm_stop_install(void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = handler ? handler : record;
    int rc = 0;
    static const int quit[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof quit / sizeof quit[0]; i++)
        rc |= sigaction(quit[i], &sa, NULL);
    return signal(SIGPIPE, SIG_IGN) == SIG_ERR || rc ? -1 : 0;
}

int llm_stop_signal(void)
{
    return g_stop_signal;
}

void llm_stop_clear(void)
{
    g_stop_signal = 0;
}
