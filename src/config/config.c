/* Placeholder until the config module lands. */
#include "config/config.h"

#include <stdio.h>
#include <string.h>

int config_load(llm_config *cfg, int argc, char **argv, char *err, size_t errlen, bool *help_shown)
{
    (void)argc;
    (void)argv;
    memset(cfg, 0, sizeof *cfg);
    *help_shown = false;
    snprintf(err, errlen, "configuration is not built yet");
    return 2;
}

void config_free(llm_config *cfg)
{
    (void)cfg;
}

char *config_endpoint_url(const llm_config *cfg, const char *path)
{
    (void)cfg;
    (void)path;
    return NULL;
}
