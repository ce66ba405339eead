/* main: subcommand dispatch only (DESIGN.md §12). */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check/check.h"
#include "config/config.h"
#include "report/compare.h"
#include "report/report.h"
#include "run/run.h"
#include "run/watch_main.h"
#include "sim/sim.h"
#include "ui.h"
#include "watch_view.h"

static int run_command(llm_config *cfg)
{
    switch (cfg->command) {
    case LLM_CMD_SIM:
        return sim_main(&cfg->sim);
    case LLM_CMD_CHECK:
        return check_main(cfg, stdout);
    case LLM_CMD_RUN:
        /* The dashboard needs a terminal on both ends; anything else runs headless. */
        if (!cfg->no_tui && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
            return ui_main(cfg);
        return run_headless(cfg);
    case LLM_CMD_REPORT:
        return report_main(cfg);
    case LLM_CMD_MERGE:
        return merge_main(cfg);
    case LLM_CMD_COMPARE:
        return compare_main(cfg);
    case LLM_CMD_WATCH:
        if (!cfg->no_tui && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
            return watch_view_main(cfg);
        return watch_headless(cfg);
    case LLM_CMD_COUNT:
        break;
    }
    return LLM_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    llm_config cfg;
    char err[512] = "";
    bool help_shown = false;
    int rc = config_load(&cfg, argc, argv, err, sizeof err, &help_shown);
    if (rc != 0) {
        fprintf(stderr, "llmload: %s\n", err);
        config_free(&cfg);
        return LLM_EXIT_USAGE;
    }
    if (!help_shown) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        rc = run_command(&cfg);
        curl_global_cleanup();
    }
    config_free(&cfg);
    return rc;
}
