/* engine/prompt: request bodies. Each virtual user gets its own body, built once with
 * cJSON; per request only a fixed-width nonce at the prompt's start is rewritten in place,
 * so no two prompts share a prefix (no prefix-cache hits) and nothing is allocated per
 * request. Built on the main thread; a body is then owned by one engine slot. */
#ifndef LLM_PROMPT_H
#define LLM_PROMPT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "config/config.h"

#define PROMPT_NONCE_LEN 12

typedef struct {
    char *json; /* the request body */
    size_t len;
    size_t nonce_offset; /* where the PROMPT_NONCE_LEN nonce bytes sit in json */
    long prompt_chars;   /* characters of prompt text, for chars/4 estimates */
    long max_tokens;     /* the max_tokens it asks for (ended-early share) */
    long input_tokens;   /* the prompt length it was built for, in ~tokens; 0 = not drawn */
    bool image;          /* carries an image (the multimodal test) */
} prompt_body;

/* The words prompt_fill_text draws from (n of them). */
const char *const *prompt_vocabulary(size_t *n);

/* Random words (seeded, not one repeated token) of exactly `chars` characters. */
void prompt_fill_text(char *out, size_t chars, uint64_t *rng);

/* The seed of the prompt text of the body built for `seed`: with --prompt-tokens every
 * virtual user sends the same words after its own nonce (--seed's, else seed 1), so the
 * length run/calibrate measured on one holds for all (random words tokenise ±5 % apart
 * from seed to seed, issue 13); otherwise seed itself. */
uint64_t prompt_text_seed(const llm_config *cfg, uint64_t seed);

/* Builds the body for cfg (chat or completions, stream, usage, max_tokens, ignore_eos,
 * temperature, seed, --body-json merged last). model may differ from cfg->model (resolved).
 * Returns 0 or -1 with a sentence. */
int prompt_build(const llm_config *cfg, const char *model, uint64_t seed, prompt_body *out,
                 char *err, size_t errlen);

/* The multimodal test's body (the seeds' -mm): one user message holding the text
 * (cfg->image_prompt, else generated text) and the image as image_url = data_url. Shared
 * by every virtual user, so it carries no nonce (nonce_offset is PROMPT_NO_NONCE). Chat
 * endpoint only. Returns 0 or -1 with a sentence. */
#define PROMPT_NO_NONCE ((size_t)-1)
int prompt_build_image(const llm_config *cfg, const char *model, const char *data_url,
                       prompt_body *out, char *err, size_t errlen);

/* A body around a prompt taken from a file: payload is a JSON string (the prompt) or a
 * messages array (chat only); it is consumed. max_tokens <= 0 = cfg's. No nonce: real
 * prompts differ by themselves. Returns 0 or -1 with a sentence. */
int prompt_build_payload(const llm_config *cfg, const char *model, cJSON *payload, long max_tokens,
                         prompt_body *out, char *err, size_t errlen);

/* The body for cfg with the prompt text PROMPT_TEXT_MARK and max_tokens (and min_tokens with
 * --ignore-eos) PROMPT_MAXTOK_MARK, --body-json merged: engine/workload's template. NULL with
 * a sentence; else the caller frees it with cJSON_free. */
#define PROMPT_TEXT_MARK "@@llmload-prompt@@"
#define PROMPT_MAXTOK_MARK 987654321L
char *prompt_build_template(const llm_config *cfg, const char *model, char *err, size_t errlen);

/* Writes the nonce for request number `n` (base-36, fixed width) into the body; nothing
 * for a body without one. */
void prompt_set_nonce(prompt_body *b, uint64_t n);

void prompt_free(prompt_body *b);

/* xorshift64*: the engine's deterministic RNG. */
uint64_t prompt_rng_next(uint64_t *state);

#endif
