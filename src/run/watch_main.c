/* run/watch_main: the headless watch (see watch_main.h). */
#include "run/watch_main.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base/stop.h"
#include "base/util.h"

void watch_install_signals(void)
{
    (void)llm_stop_install(NULL); /* without them ^C ends watch the default way: no harm */
}

int watch_exit_code(const watch_net *n, int signal)
{
    if (signal)
        return 128 + signal;
    if (watch_net_ever_up(n))
        return LLM_EXIT_OK;
    size_t count;
    const watch_worker *w = watch_net_workers(n, &count);
    fprintf(stderr,
            "llmload: no worker answered (%s: %s): check the URLs, each an `llmload run "
            "--listen` address\n",
            count ? w[0].shown : "-", count && w[0].error[0] ? w[0].error : "no answer");
    return LLM_EXIT_UNREACHABLE;
}

int watch_headless(const llm_config *cfg)
{
    watch_net *n;
    char err[512];
    if (watch_net_open(cfg, &n, err, sizeof err) != 0) {
        fprintf(stderr, "llmload: %s\n", err);
        return LLM_EXIT_USAGE;
    }
    watch_install_signals();
    uint64_t start = llm_now_ns();
    uint64_t end = cfg->duration_s > 0 ? start + (uint64_t)(cfg->duration_s * 1e9) : 0;
    while (!llm_stop_signal() && (!end || llm_now_ns() < end)) {
        bool unused;
        bool round = watch_net_step(n, 200, -1, &unused);
        watch_note note;
        while (watch_net_note(n, &note))
            fprintf(stderr, "llmload: %s\n", note.text);
        if (!round)
            continue;
        watch_fleet f;
        char line[768];
        watch_net_fleet(n, &f);
        watch_line(&f, (double)(llm_now_ns() - start) / 1e9, line, sizeof line);
        printf("%s\n", line);
        fflush(stdout);
    }
    int rc = watch_exit_code(n, llm_stop_signal());
    watch_net_close(n);
    return rc;
}
