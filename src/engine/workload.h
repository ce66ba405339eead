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

/* The pool as the server's tokenizer counts it (run/poolcal fills it before the load): word
 * k of the pool, with the space before it, at start[k]; cum[k] tokens before it. A request's
 * text is cut at word boundaries, so its length is a sum of known costs. Each kind of
 * content's first unit (the template around it included) costs first[kind]; a nonce or tag
 * after other text costs nonce/tag tokens. Read-only once built: shared by threads. */
typedef enum { WL_FIRST_NONCE = 0, WL_FIRST_GROUP, WL_FIRST_BLOCK, WL_FIRST_KINDS } wl_first;
typedef struct wl_tokmap {
    size_t pool_len;            /* the pool it was built for (a check) */
    uint32_t n_words;           /* usable words; start/cum hold n_words + 1 */
    uint32_t *start;            /* offset of the space before word k; start[n_words] = the end */
    uint32_t *cum;              /* tokens of the words before k, each with its space */
    long nonce_tokens;          /* " " + nonce after a prefix or block */
    long tag_tokens[2];         /* " " + group tag, " " + block tag after other text */
    long first[WL_FIRST_KINDS]; /* template + the first unit; -1 = not measured */
    double chars_per_token_max; /* of any word: sizes buffers */
} wl_tokmap;

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
    size_t body_cap;      /* the longest body it writes, NUL included: each slot's buffer */
    const wl_tokmap *map; /* cfg->input_map when built for this pool: exact lengths; else NULL */
} workload;

/* A recorded conversation to replay (--dataset sharegpt with --turns): its user messages,
 * JSON-escaped (copied into bodies as they are), and each recorded answer's length. */
typedef struct {
    uint32_t n;          /* user messages that had an answer */
    char **text;         /* n escaped texts (no quotes) */
    size_t *len;         /* their bytes */
    long *output_tokens; /* the recorded answers' lengths: max_tokens per turn */
} wl_script;

/* Multi-turn (--turns N): one virtual user's conversation. Its answers (as the server
 * streamed them, JSON-escaped) are kept in `answers`, sized once; the history is written
 * again into each turn's body. Engine thread. */
#define WORKLOAD_MAX_TURNS 64
typedef struct {
    uint32_t turn;  /* turns sent so far; 0 = no conversation */
    uint32_t turns; /* its length */
    uint64_t id;    /* the conversation's number: names its messages */
    long group;     /* prefix group of its first message; -1 = none */
    long user_tokens[WORKLOAD_MAX_TURNS], output_tokens[WORKLOAD_MAX_TURNS];
    size_t answer_off[WORKLOAD_MAX_TURNS], answer_len[WORKLOAD_MAX_TURNS];
    char *answers;
    size_t answers_len, answers_cap;
    bool capturing;          /* the request in flight appends its content to answers */
    bool cut;                /* an answer did not fit: the history holds its start only */
    uint64_t ready_ns;       /* thinking (--think-time) until then */
    const wl_script *script; /* the recorded conversation it replays; NULL = generated */
} wl_convo;

/* What one request asks for. */
typedef struct {
    long input_tokens;      /* unique part, nonce included (with a map: template included too
                               when no prefix or block comes first) */
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

/* A conversation's answer buffer and the body size its last turn needs (the slot's). */
int workload_convo_init(const workload *w, uint32_t turns, wl_convo *c);
size_t workload_convo_body_size(const workload *w, uint32_t turns);
/* Starts conversation `id` of at most max_turns: draws every turn's lengths and the prefix
 * group, or takes the script's messages and answer lengths (then it has
 * min(max_turns, script->n) turns). */
void workload_convo_start(const workload *w, wl_convo *c, uint64_t id, uint64_t *rng,
                          uint32_t max_turns, const wl_script *script);
/* The body size a script's last turn needs (its messages, answers, glue). */
size_t workload_script_body_size(const workload *w, const wl_script *sc, uint32_t max_turns,
                                 long max_output);
/* Writes the next turn's body (the history: user and assistant messages so far, then the
 * new user message) into buf; c->turn counts it. Chat only. No allocation. */
void workload_write_turn(const workload *w, wl_convo *c, char *buf, prompt_body *out);
/* Appends streamed content (escaped JSON string bytes) to the turn in flight. */
void workload_convo_capture(wl_convo *c, const char *raw, size_t n);
void workload_convo_free(wl_convo *c);

/* What the run sends, in a few words for the header ("in uniform:100:300 ~tok, out 128,
 * prefix 512x4, 3 turns, trace:FILE x2"); "" when nothing but the classic bodies. */
void workload_describe(const llm_config *cfg, char *out, size_t cap);

void workload_free(workload *w);

/* ---- calibration (run/poolcal, main thread) ---- */

/* Words of the pool's text, each once (the vocabulary it was made from). */
const char *const *workload_words(size_t *n);
/* Builds m for w's pool from cost[i], the tokens of " " + workload_words()[i] (each >= 1);
 * m's nonce/tag/first costs are left for the caller. 0, or -1 (out of memory). */
int workload_tokmap_build(const workload *w, const long *cost, wl_tokmap *m);
void workload_tokmap_free(wl_tokmap *m);
/* Writes a body whose prompt is `text` (len bytes, JSON-safe) asking max_tokens. */
void workload_write_text(const workload *w, const char *text, size_t len, long max_tokens,
                         char *buf, prompt_body *out);
/* The nonce (decimal, PROMPT_NONCE_LEN digits) and a tag ('g' or 'b', then WL_TAG_DIGITS
 * digits) for number n, NUL-terminated, as the bodies carry them. */
#define WL_TAG_DIGITS 10
void workload_nonce_text(uint64_t n, char *out);
void workload_tag_text(char kind, uint64_t id, char *out);

#endif
