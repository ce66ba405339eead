/* Placeholder until the check module lands. */
#include "check/check.h"

int check_main(const llm_config *cfg, FILE *out)
{
    (void)cfg;
    fprintf(out, "check is not built yet\n");
    return LLM_EXIT_USAGE;
}
