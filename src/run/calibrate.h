/* run/calibrate: makes --prompt-tokens N exact by the server's own tokenizer (issue 13).
 * Before the load it measures what llmload's prompt text costs on this server: characters
 * per token from its /tokenize, the chat template's overhead and the final length from
 * max_tokens = 1 probes' usage.prompt_tokens. Main thread only, before the engine starts. */
#ifndef LLM_CALIBRATE_H
#define LLM_CALIBRATE_H

#include <stdbool.h>

#include "config/config.h"

typedef enum {
    CALIB_NONE = 0, /* nothing to calibrate (no --prompt-tokens, or prompts from a file) */
    CALIB_TOKENIZE, /* /tokenize gave the first estimate, probes' usage the final length */
    CALIB_PROBE,    /* no /tokenize: probes' usage alone */
    CALIB_FAILED,   /* the server reported no prompt tokens: chars/4 is sent (note says) */
} calib_method;

typedef struct {
    calib_method method;
    long target;            /* N asked for */
    long chars;             /* prompt characters to send (cfg->prompt_chars) */
    long measured;          /* the server's prompt_tokens at `chars` (a probe); -1 = none */
    double chars_per_token; /* of llmload's prompt text on this server; NaN = unknown */
    double overhead_tokens; /* the template (and BOS) on every prompt; NaN = unknown */
    int probes;             /* max_tokens = 1 requests sent */
    bool tokenize;          /* the server answered /tokenize */
    char note[320];         /* one sentence: what was done, or why not and what is sent */
} calib_result;

/* "tokenize", "probe", "failed", or NULL for CALIB_NONE. */
const char *calib_method_name(calib_method m);

/* Calibrates cfg->prompt_tokens (when set and the prompts are generated) against the
 * server at cfg->url for model (may be NULL). Always fills *out; out->chars is what to send
 * (cfg->prompt_chars when nothing could be measured). Sends at most CALIB_MAX_PROBES
 * generation requests of one output token, plus one or two /tokenize calls. */
#define CALIB_MAX_PROBES 5
void calibrate_prompt(const llm_config *cfg, const char *model, calib_result *out);

/* Prompt characters for `tokens` by the calibrated model (overhead + chars/chars_per_token):
 * for prompt lengths drawn from a distribution. tokens * 4 when not calibrated. */
long calibrate_chars_for(const calib_result *c, long tokens);

/* Tokens of text by the server's /tokenize (llama.cpp's or vLLM's shape, no special
 * tokens); -1 when it has none. */
long calibrate_tokenize(const llm_config *cfg, const char *model, const char *text);

/* usage.prompt_tokens of one non-streamed request `body` POSTed to url; -1 when none. */
long calibrate_usage(const llm_config *cfg, const char *url, const char *body);

#endif
