/* proto/prom: reads a serving engine's Prometheus /metrics text (vLLM, SGLang, TGI,
 * llama.cpp and the simulator's names) into the few figures a load test shows. Pure; any
 * thread. */
#ifndef LLM_PROM_H
#define LLM_PROM_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    double running;           /* requests being generated (in the batch); NaN = not exported */
    double waiting;           /* requests queued for the batch; NaN = not exported */
    double kv_used;           /* KV-cache use, 0..1; NaN = not exported */
    double prompt_tokens;     /* counter since the server started; NaN = not exported */
    double generation_tokens; /* counter since the server started; NaN = not exported */
    const char *engine;       /* "vLLM", "SGLang", "TGI", "llama.cpp", "llmload sim"; NULL =
                                 no name recognised */
} prom_figures;

/* Parses the text exposition format (text need not be NUL-terminated). Series of one name
 * with different labels (vLLM's model_name, say) are added up; for the KV-cache use the
 * highest is kept. Lines that do not parse are
 * skipped. Returns true when at least one known name was found. */
bool prom_parse(const char *text, size_t len, prom_figures *out);

#endif
