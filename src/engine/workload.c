#include "engine/workload.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { WL_HOLE_END = 0, WL_HOLE_PROMPT, WL_HOLE_MAXTOK };

#define POOL_SPREAD (1u << 20) /* extra text, so slices start at a million places */
#define TAG_LEN 9              /* "g0000001 " / "b0000001 " before a shared block */
#define MAXTOK_DIGITS 20

/* Splits the template at its holes: the prompt's marker and max_tokens' placeholder. */
static int split_template(workload *w, char *err, size_t errlen)
{
    char maxtok[24];
    snprintf(maxtok, sizeof maxtok, "%ld", PROMPT_MAXTOK_MARK);
    const char *p = w->tmpl;
    w->n_pieces = 0;
    for (;;) {
        const char *a = strstr(p, PROMPT_TEXT_MARK), *b = strstr(p, maxtok);
        const char *hit = a && (!b || a < b) ? a : b;
        if (w->n_pieces == (int)(sizeof w->pieces / sizeof w->pieces[0]) - 1) {
            snprintf(err, errlen, "the request body has too many length fields");
            return -1;
        }
        wl_piece *pc = &w->pieces[w->n_pieces++];
        pc->off = (size_t)(p - w->tmpl);
        if (!hit) {
            pc->len = strlen(p);
            pc->hole = WL_HOLE_END;
            return 0;
        }
        pc->len = (size_t)(hit - p);
        pc->hole = hit == a ? WL_HOLE_PROMPT : WL_HOLE_MAXTOK;
        p = hit + (hit == a ? strlen(PROMPT_TEXT_MARK) : strlen(maxtok));
    }
}

static long chars_of(long tokens)
{
    return tokens * WORKLOAD_CHARS_PER_TOKEN;
}

size_t workload_body_size(const workload *w, long input_tokens, int n_blocks)
{
    size_t n = 1;
    for (int i = 0; i < w->n_pieces; i++) {
        n += w->pieces[i].len;
        if (w->pieces[i].hole == WL_HOLE_MAXTOK)
            n += MAXTOK_DIGITS;
        else if (w->pieces[i].hole == WL_HOLE_PROMPT)
            n += (size_t)n_blocks * chars_of(WORKLOAD_BLOCK_TOKENS) +
                 (size_t)chars_of(w->prefix_tokens) + (size_t)chars_of(input_tokens) +
                 PROMPT_NONCE_LEN + 1;
    }
    return n;
}

static int make_pool(workload *w, const llm_config *cfg, char *err, size_t errlen)
{
    long longest = chars_of(w->input.max);
    if (chars_of(w->prefix_tokens) > longest)
        longest = chars_of(w->prefix_tokens);
    if (chars_of(WORKLOAD_BLOCK_TOKENS) > longest)
        longest = chars_of(WORKLOAD_BLOCK_TOKENS);
    w->pool_len = (size_t)longest + POOL_SPREAD;
    w->pool = malloc(w->pool_len + 1);
    if (!w->pool) {
        snprintf(err, errlen, "out of memory for %zu bytes of prompt text", w->pool_len);
        return -1;
    }
    uint64_t rng = (cfg->seed_set ? cfg->seed : 0x5eed) * 0x9E3779B97F4A7C15ULL + 3;
    prompt_fill_text(w->pool, w->pool_len, &rng);
    return 0;
}

int workload_init(workload *w, const llm_config *cfg, const char *model, char *err, size_t errlen)
{
    memset(w, 0, sizeof *w);
    w->active = cfg->input_tokens.kind != DIST_NONE || cfg->output_tokens.kind != DIST_NONE ||
                cfg->prefix_tokens > 0 || cfg->dataset == LLM_DATASET_TRACE || cfg->turns > 1;
    if (!w->active)
        return 0;
    w->input = cfg->input_tokens;
    if (w->input.kind == DIST_NONE) { /* --prompt-chars, in ~tokens */
        long t = (cfg->prompt_chars + WORKLOAD_CHARS_PER_TOKEN - 1) / WORKLOAD_CHARS_PER_TOKEN;
        w->input = (llm_dist){DIST_FIXED, (double)t, 0, t, t};
    }
    w->output = cfg->output_tokens;
    if (w->output.kind == DIST_NONE)
        w->output =
            (llm_dist){DIST_FIXED, (double)cfg->max_tokens, 0, cfg->max_tokens, cfg->max_tokens};
    w->prefix_tokens = cfg->prefix_tokens;
    w->prefix_groups =
        cfg->prefix_tokens > 0 ? (cfg->prefix_groups > 0 ? cfg->prefix_groups : 1) : 0;
    if (!(w->tmpl = prompt_build_template(cfg, model, err, errlen)))
        return -1;
    if (split_template(w, err, errlen) != 0 || make_pool(w, cfg, err, errlen) != 0) {
        workload_free(w);
        return -1;
    }
    w->body_cap = workload_body_size(w, w->input.max, 0);
    return 0;
}

static uint64_t rng_step(uint64_t *rng)
{
    return prompt_rng_next(rng);
}

void workload_draw(const workload *w, uint64_t *rng, wl_request *req)
{
    memset(req, 0, sizeof *req);
    req->input_tokens = dist_draw(&w->input, rng);
    req->output_tokens = dist_draw(&w->output, rng);
    req->group = w->prefix_groups > 0 ? (long)(rng_step(rng) % (uint64_t)w->prefix_groups) : -1;
}

static const char base36[] = "0123456789abcdefghijklmnopqrstuvwxyz";

/* `width` base-36 digits of v, most significant first. */
static char *put_base36(char *at, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        at[i] = base36[v % 36];
        v /= 36;
    }
    return at + width;
}

static char *put_long(char *at, long v)
{
    char tmp[MAXTOK_DIGITS];
    int n = 0;
    unsigned long u = v < 0 ? 0 : (unsigned long)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u && n < MAXTOK_DIGITS);
    while (n)
        *at++ = tmp[--n];
    return at;
}

/* A shared block: a tag naming it, then text from the pool at a place fixed by its id, so
 * every request with that id sends the same bytes. */
static char *put_block(const workload *w, char *at, char kind, uint64_t id, long chars)
{
    *at++ = kind;
    at = put_base36(at, id, TAG_LEN - 2);
    *at++ = ' ';
    size_t len = (size_t)chars - TAG_LEN;
    uint64_t h = (id + 1) * 0x9E3779B97F4A7C15ULL ^ (uint64_t)kind;
    size_t off = (size_t)(h % (w->pool_len - len + 1));
    memcpy(at, w->pool + off, len);
    return at + len;
}

/* Shared blocks, then the nonce, then the unique text: the nonce after what is shared, so a
 * prefix cache can answer for the shared part and for nothing else. */
static char *put_prompt(const workload *w, const wl_request *req, uint64_t n, uint64_t *rng,
                        char *at)
{
    for (int i = 0; i < req->n_blocks; i++)
        at = put_block(w, at, 'b', req->blocks[i], chars_of(WORKLOAD_BLOCK_TOKENS));
    if (req->group >= 0 && w->prefix_tokens > 0)
        at = put_block(w, at, 'g', (uint64_t)req->group, chars_of(w->prefix_tokens));
    at = put_base36(at, n, PROMPT_NONCE_LEN);
    *at++ = ' ';
    long unique = chars_of(req->input_tokens) - PROMPT_NONCE_LEN - 1;
    if (unique > 0) {
        size_t off = (size_t)(rng_step(rng) % (w->pool_len - (size_t)unique + 1));
        memcpy(at, w->pool + off, (size_t)unique);
        at += unique;
    }
    /* A prompt never ends on a space: some servers trim it and the counts would differ. */
    if (at[-1] == ' ')
        at[-1] = '.';
    return at;
}

void workload_write(const workload *w, const wl_request *req, uint64_t n, uint64_t *rng, char *buf,
                    prompt_body *out)
{
    char *at = buf, *prompt_start = NULL;
    long prompt_chars = 0;
    for (int i = 0; i < w->n_pieces; i++) {
        const wl_piece *pc = &w->pieces[i];
        memcpy(at, w->tmpl + pc->off, pc->len);
        at += pc->len;
        if (pc->hole == WL_HOLE_PROMPT) {
            prompt_start = at;
            at = put_prompt(w, req, n, rng, at);
            prompt_chars += (long)(at - prompt_start);
        } else if (pc->hole == WL_HOLE_MAXTOK) {
            at = put_long(at, req->output_tokens);
        }
    }
    *at = '\0';
    out->json = buf;
    out->len = (size_t)(at - buf);
    out->nonce_offset = PROMPT_NO_NONCE;
    out->prompt_chars = prompt_chars;
    out->max_tokens = req->output_tokens;
    out->input_tokens = (prompt_chars + WORKLOAD_CHARS_PER_TOKEN - 1) / WORKLOAD_CHARS_PER_TOKEN;
    out->image = false;
}

/* ---- multi-turn ---- */

#define ANSWER_BYTES_PER_TOKEN 16 /* escaped text of one token, with room */

static const char glue_a[] = "\"},{\"role\":\"assistant\",\"content\":\"";
static const char glue_u[] = "\"},{\"role\":\"user\",\"content\":\"";

static size_t answers_size(const workload *w, uint32_t turns)
{
    return (size_t)turns * ((size_t)w->output.max * ANSWER_BYTES_PER_TOKEN + 256);
}

size_t workload_convo_body_size(const workload *w, uint32_t turns)
{
    return workload_body_size(w, w->input.max, 0) +
           (size_t)turns * ((size_t)chars_of(w->input.max) + PROMPT_NONCE_LEN + 1 + sizeof glue_a +
                            sizeof glue_u) +
           answers_size(w, turns);
}

size_t workload_script_body_size(const workload *w, const wl_script *sc, uint32_t max_turns,
                                 long max_output)
{
    size_t n = workload_body_size(w, 0, 0);
    for (uint32_t t = 0; t < sc->n && t < max_turns; t++)
        n += sc->len[t] + sizeof glue_a + sizeof glue_u;
    return n + (size_t)max_turns * ((size_t)max_output * ANSWER_BYTES_PER_TOKEN + 256);
}

int workload_convo_init(const workload *w, uint32_t turns, wl_convo *c)
{
    memset(c, 0, sizeof *c);
    c->answers_cap = answers_size(w, turns);
    c->answers = malloc(c->answers_cap);
    return c->answers ? 0 : -1;
}

void workload_convo_start(const workload *w, wl_convo *c, uint64_t id, uint64_t *rng,
                          uint32_t max_turns, const wl_script *script)
{
    c->turn = 0;
    c->id = id;
    c->answers_len = 0;
    c->cut = c->capturing = false;
    c->script = script;
    c->turns = script && script->n < max_turns ? script->n : max_turns;
    for (uint32_t t = 0; t < c->turns; t++) {
        c->user_tokens[t] = script ? (long)(script->len[t] + 3) / 4 : dist_draw(&w->input, rng);
        c->output_tokens[t] = script ? script->output_tokens[t] : dist_draw(&w->output, rng);
    }
    c->group = w->prefix_groups > 0 ? (long)(rng_step(rng) % (uint64_t)w->prefix_groups) : -1;
}

/* A later user message: a tag naming the conversation and turn, then pool text. */
static char *put_followup(const workload *w, const wl_convo *c, uint32_t t, uint64_t *rng, char *at)
{
    at = put_base36(at, c->id, PROMPT_NONCE_LEN);
    *at++ = ' ';
    *at++ = 't';
    at = put_base36(at, t, 2);
    long unique = chars_of(c->user_tokens[t]) - PROMPT_NONCE_LEN - 3;
    if (unique > 0) {
        size_t off = (size_t)(rng_step(rng) % (w->pool_len - (size_t)unique + 1));
        memcpy(at, w->pool + off, (size_t)unique);
        at += unique;
    }
    if (at[-1] == ' ')
        at[-1] = '.';
    return at;
}

/* The history in the user message's place: user 1, assistant 1, ..., user k. The template
 * holds one user message; the glue closes and opens messages inside it. */
static char *put_history(const workload *w, wl_convo *c, char *at)
{
    for (uint32_t t = 0; t <= c->turn; t++) {
        /* a message's text is fixed by its conversation and turn: the same in every later
         * turn's history, so a prefix cache can recognise it */
        uint64_t text_rng = (c->id + 1) * 0x9E3779B97F4A7C15ULL + t;
        if (c->script) { /* a recorded message, escaped already */
            memcpy(at, c->script->text[t], c->script->len[t]);
            at += c->script->len[t];
        } else if (t == 0) {
            wl_request first = {c->user_tokens[0], c->output_tokens[0], c->group, NULL, 0};
            at = put_prompt(w, &first, c->id, &text_rng, at);
        } else {
            at = put_followup(w, c, t, &text_rng, at);
        }
        if (t == c->turn)
            break;
        memcpy(at, glue_a, sizeof glue_a - 1);
        at += sizeof glue_a - 1;
        memcpy(at, c->answers + c->answer_off[t], c->answer_len[t]);
        at += c->answer_len[t];
        memcpy(at, glue_u, sizeof glue_u - 1);
        at += sizeof glue_u - 1;
    }
    return at;
}

void workload_write_turn(const workload *w, wl_convo *c, char *buf, prompt_body *out)
{
    char *at = buf, *start;
    long chars = 0;
    for (int i = 0; i < w->n_pieces; i++) {
        const wl_piece *pc = &w->pieces[i];
        memcpy(at, w->tmpl + pc->off, pc->len);
        at += pc->len;
        if (pc->hole == WL_HOLE_PROMPT) {
            start = at;
            at = put_history(w, c, at);
            chars += (long)(at - start);
        } else if (pc->hole == WL_HOLE_MAXTOK) {
            at = put_long(at, c->output_tokens[c->turn]);
        }
    }
    *at = '\0';
    out->json = buf;
    out->len = (size_t)(at - buf);
    out->nonce_offset = PROMPT_NO_NONCE;
    out->prompt_chars = chars;
    out->max_tokens = c->output_tokens[c->turn];
    out->input_tokens = (chars + WORKLOAD_CHARS_PER_TOKEN - 1) / WORKLOAD_CHARS_PER_TOKEN;
    out->image = false;
    c->answer_off[c->turn] = c->answers_len;
    c->answer_len[c->turn] = 0;
    c->capturing = true;
    c->turn++;
}

void workload_convo_capture(wl_convo *c, const char *raw, size_t n)
{
    /* the per-token path: a bounded copy, never an allocation */
    size_t room = c->answers_cap - c->answers_len;
    if (n > room) {
        c->cut = true;
        n = room;
        /* never end inside an escape ("\\", "\\u00e9"): cut before the last backslash */
        for (size_t i = n; i > 0 && n - i < 6; i--)
            if (raw[i - 1] == '\\') {
                n = i - 1;
                break;
            }
    }
    memcpy(c->answers + c->answers_len, raw, n);
    c->answers_len += n;
    c->answer_len[c->turn - 1] += n;
}

void workload_convo_free(wl_convo *c)
{
    free(c->answers);
    memset(c, 0, sizeof *c);
}

void workload_free(workload *w)
{
    cJSON_free(w->tmpl);
    free(w->pool);
    memset(w, 0, sizeof *w);
}

void workload_describe(const llm_config *cfg, char *out, size_t cap)
{
    size_t n = 0;
    char spec[96];
    out[0] = '\0';
#define PUT(...)                                                                                   \
    do {                                                                                           \
        int k = snprintf(out + n, n < cap ? cap - n : 0, __VA_ARGS__);                             \
        n += k > 0 ? (size_t)k : 0;                                                                \
    } while (0)
    if (cfg->input_tokens.kind != DIST_NONE) {
        dist_describe(&cfg->input_tokens, spec, sizeof spec);
        PUT("in %s ~tok", spec);
    }
    if (cfg->output_tokens.kind != DIST_NONE) {
        dist_describe(&cfg->output_tokens, spec, sizeof spec);
        PUT("%sout %s", n ? ", " : "", spec);
    }
    if (cfg->prefix_tokens > 0)
        PUT("%sprefix %ldx%ld", n ? ", " : "", cfg->prefix_tokens,
            cfg->prefix_groups > 0 ? cfg->prefix_groups : 1);
    if (cfg->turns > 1)
        PUT("%s%ld turns", n ? ", " : "", cfg->turns);
    static const char *const kinds[] = {"", "jsonl", "sharegpt", "trace"};
    if (cfg->dataset != LLM_DATASET_NONE && cfg->dataset_file) {
        const char *base = strrchr(cfg->dataset_file, '/');
        PUT("%s%s:%s", n ? ", " : "", kinds[cfg->dataset], base ? base + 1 : cfg->dataset_file);
        if (cfg->dataset == LLM_DATASET_TRACE && cfg->speedup != 1)
            PUT(" x%g", cfg->speedup);
    }
#undef PUT
    if (n >= cap && cap > 0)
        out[cap - 1] = '\0';
}
