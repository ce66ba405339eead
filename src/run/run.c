/* Placeholder until the engine lands. */
#include "run/run.h"

#include <stdio.h>

int run_headless(const llm_config *cfg)
{
    (void)cfg;
    fprintf(stderr, "llmload: the load engine is not built yet.\n");
    return LLM_EXIT_USAGE;
}
