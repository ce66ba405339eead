/* Placeholder until the dashboard lands: the headless run. */
#include "ui.h"

#include "run/run.h"

int ui_main(const llm_config *cfg)
{
    return run_headless(cfg);
}
