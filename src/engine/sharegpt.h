/* engine/sharegpt: --dataset sharegpt:FILE — the ShareGPT JSON format (a list of
 * {"conversations": [{"from": "human"|"gpt", "value": …}, …]}) streamed from disk (the
 * top-level array is split into elements here; cJSON parses one element at a time), sampled
 * with --seed, filtered by --max-input-tokens, into request bodies every virtual user shares.
 * Main thread before the run. */
#ifndef LLM_SHAREGPT_H
#define LLM_SHAREGPT_H

#include <stddef.h>
#include <stdio.h>

#include "config/config.h"
#include "engine/prompts.h"
#include "engine/workload.h"

/* Called with each element of the top-level array that is an object (not NUL-terminated).
 * Returns 0 to go on, -1 to stop. */
typedef int (*json_elem_fn)(void *user, const char *elem, size_t len);

/* Splits a file that holds one JSON array into its elements without reading it whole:
 * brace/bracket depth outside strings (escapes understood), read in chunk-byte pieces. An
 * element longer than max_elem, one that is not an object, or one the file ends inside of
 * is counted in *skipped and not passed on. Returns 0, -1 when the file is not an array
 * (nothing but whitespace before a '['), or fn's -1. */
int json_array_split(FILE *f, size_t chunk, size_t max_elem, json_elem_fn fn, void *user,
                     size_t *skipped);

typedef struct {
    size_t records;  /* conversations read */
    size_t kept;     /* sampled into bodies */
    size_t skipped;  /* unreadable, or without a human turn and an answer */
    size_t filtered; /* prompt longer than --max-input-tokens */
} sharegpt_counts;

/* The first human turn of each conversation as the prompt, the recorded answer's length
 * (characters / 4) as max_tokens; keeps at most `keep` conversations (a seeded reservoir
 * sample, so memory is bounded by what is kept), in a seeded random order. Returns 0, or -1
 * with a sentence. */
int sharegpt_load(const llm_config *cfg, const char *model, size_t keep, prompt_set *out,
                  sharegpt_counts *counts, char *err, size_t errlen);

/* --turns: the same sample as recorded conversations (each human message that had an
 * answer, up to --turns, escaped; the answers' chars / 4), for the engine to replay with
 * the live answers in the history. *out holds *n_out scripts in a seeded order; free each
 * with sharegpt_script_free, then the array. Returns 0, or -1 with a sentence. */
int sharegpt_load_scripts(const llm_config *cfg, size_t keep, wl_script **out, size_t *n_out,
                          sharegpt_counts *counts, char *err, size_t errlen);
void sharegpt_script_free(wl_script *sc);

#endif
