/* engine/prompts: --prompts FILE — JSONL ({"prompt": …} or {"messages": […]}, optional
 * "max_tokens") or plain text, one prompt a line — read once into request bodies that every
 * virtual user shares, taken in file order or shuffled. Main thread before a run; then the
 * engine thread reads it. */
#ifndef LLM_PROMPTS_H
#define LLM_PROMPTS_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "engine/prompt.h"

typedef struct {
    prompt_body *bodies;
    size_t n;
    size_t *order; /* the sequence requests take them in */
    size_t next;
} prompt_set;

/* Reads cfg->prompts_file. Returns 0, or -1 with a sentence naming the file and, for a bad
 * line, its number and what a good line looks like. */
int prompts_load(const llm_config *cfg, const char *model, prompt_set *out, char *err,
                 size_t errlen);

/* The next body in order (wrapping around). */
prompt_body *prompts_next(prompt_set *ps);

void prompts_free(prompt_set *ps);

#endif
