/* run/poolcal: the workload's input lengths (--input-tokens, --prefix-tokens, a trace's)
 * exact by the server's own tokenizer (issues 13, 14). Main thread, before the engine starts.
 * It learns what each word of the workload's text pool costs (/tokenize, else probes'
 * usage), what the chat template and a prompt's first unit cost (a probe's usage), and
 * checks the sum on one more probe; engine/workload then cuts every prompt at word
 * boundaries of known length. */
#ifndef LLM_POOLCAL_H
#define LLM_POOLCAL_H

#include <stdbool.h>

#include "config/config.h"
#include "engine/workload.h"
#include "run/calibrate.h"

typedef struct {
    calib_method method; /* CALIB_NONE (nothing drawn), _TOKENIZE, _PROBE or _FAILED */
    bool have_map;       /* map is built: lengths are cut by it */
    bool exact;          /* the template is counted and the check probe agreed */
    wl_tokmap map;
    int requests;               /* /tokenize calls and probes sent */
    long check_want, check_got; /* the check probe: tokens meant and counted; -1 = none */
    char note[400];             /* one sentence: what was done, or why not and what is sent */
} poolcal_result;

/* "tokenize", "probe", "failed", or NULL when nothing is drawn (no workload lengths). */
const char *poolcal_method_name(const poolcal_result *r);

/* Calibrates when cfg draws input lengths from the pool; always fills *out. */
void poolcal_run(const llm_config *cfg, const char *model, poolcal_result *out);

void poolcal_free(poolcal_result *out);

#endif
