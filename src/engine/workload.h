/* engine/workload: production-like request bodies — prompt and answer lengths drawn per
 * request (--input-tokens / --output-tokens), shared prefixes (--prefix-tokens /
 * --prefix-groups) and prefix blocks by id (trace hash_ids) — written into a slot's own
 * buffer from one template and one shared text pool, so no request allocates. Built on the
 * main thread (workload_init); workload_fill / workload_write on the engine thread. */
#ifndef LLM_WORKLOAD_H
#define LLM_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/dist.h"
#include "config/config.h"
#include "engine/prompt.h"

/* llmload's rule until the server's tokenizer calibrates it: a token is 4 characters of
 * the generated words (so every input length shown is approximate, and marked so). */
#define WORKLOAD_CHARS_PER_TOKEN 4
/* A trace's hash_id names a block of this many tokens (the Mooncake trace's block). */
#define WORKLOAD_BLOCK_TOKENS 512
#define WORKLOAD_MAX_BLOCKS 64 /* hash_ids kept per trace record */

typedef struct {
    size_t off, len; /* literal template bytes */
    int hole;        /* what follows them: WL_HOLE_* */
} wl_piece;

typedef struct {
    bool active;            /* any of the options above: bodies come from here */
    llm_dist input, output; /* tokens; input is the unique part (after the prefix) */
    long prefix_tokens, prefix_groups;
    char *tmpl; /* the template (cJSON_free) and its pieces */
    wl_piece pieces[8];
    int n_pieces;
    char *pool; /* random words every prompt is cut from */
    size_t pool_len;
    size_t body_cap; /* the longest body it writes, NUL included: each slot's buffer */
} workload;

/* What one request asks for. */
typedef struct {
    long input_tokens;      /* unique part, nonce included */
    long output_tokens;     /* max_tokens */
    long group;             /* prefix group; -1 = none */
    const uint32_t *blocks; /* trace hash_ids: shared blocks before the unique part */
    int n_blocks;
} wl_request;

/* Reads the workload options of cfg; active false when none is set (the classic bodies
 * then serve). Returns 0, or -1 with a sentence. */
int workload_init(workload *w, const llm_config *cfg, const char *model, char *err, size_t errlen);

/* Draws request number n's lengths and prefix group from rng. */
void workload_draw(const workload *w, uint64_t *rng, wl_request *req);

/* Writes the body of req into buf (w->body_cap bytes) and describes it in *out (json = buf,
 * no nonce left to stamp: number n is written). No allocation. */
void workload_write(const workload *w, const wl_request *req, uint64_t n, uint64_t *rng, char *buf,
                    prompt_body *out);

/* The longest body for a request of up to input_tokens (unique part) and n_blocks
 * blocks: to size buffers for a trace. */
size_t workload_body_size(const workload *w, long input_tokens, int n_blocks);

void workload_free(workload *w);

#endif
