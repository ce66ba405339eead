#include "engine/workload.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { WL_HOLE_END = 0, WL_HOLE_PROMPT, WL_HOLE_MAXTOK };

#define POOL_SPREAD (1u << 20)      /* extra text, so slices start at a million places */
#define TAG_LEN (WL_TAG_DIGITS + 2) /* "g0000000001 " / "b0000000001 " before a block */
#define MAXTOK_DIGITS 20
#define SLICE_TRIES 32 /* start places tried for a slice of exactly the tokens asked */

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

/* Characters for `tokens` of pool text: 4 each by llmload's rule, or with a map as many as
 * its wordiest word needs (a slice may end one word long). */
static long chars_of(const workload *w, long tokens)
{
    if (tokens < 0)
        tokens = 0;
    if (w->map)
        return (long)((double)tokens * w->map->chars_per_token_max) + 32;
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
            n += (size_t)n_blocks * ((size_t)chars_of(w, WORKLOAD_BLOCK_TOKENS) + TAG_LEN + 1) +
                 (size_t)chars_of(w, w->prefix_tokens) + TAG_LEN + 1 +
                 (size_t)chars_of(w, input_tokens) + PROMPT_NONCE_LEN + 1;
    }
    return n;
}

static int make_pool(workload *w, const llm_config *cfg, char *err, size_t errlen)
{
    long longest = w->input.max;
    if (w->prefix_tokens > longest)
        longest = w->prefix_tokens;
    if (WORKLOAD_BLOCK_TOKENS > longest)
        longest = WORKLOAD_BLOCK_TOKENS;
    /* room for the longest slice at twice the 4 characters a token it is sized by: a
     * tokenizer with long tokens still finds it in the pool */
    w->pool_len = (size_t)longest * 2 * WORKLOAD_CHARS_PER_TOKEN + POOL_SPREAD;
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
    const wl_tokmap *m = cfg->input_map;
    if (m && m->pool_len == w->pool_len && m->first[WL_FIRST_NONCE] >= 0 &&
        (w->prefix_groups == 0 || m->first[WL_FIRST_GROUP] >= 0) &&
        (cfg->dataset != LLM_DATASET_TRACE || m->first[WL_FIRST_BLOCK] >= 0))
        w->map = m;
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

/* `width` decimal digits of v: a fixed-width number costs the same tokens whatever its
 * value in the tokenizers that split digits or group them by three. */
static char *put_decimal(char *at, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        at[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return at + width;
}

void workload_nonce_text(uint64_t n, char *out)
{
    *put_decimal(out, n, PROMPT_NONCE_LEN) = '\0';
}

void workload_tag_text(char kind, uint64_t id, char *out)
{
    out[0] = kind;
    *put_decimal(out + 1, id, WL_TAG_DIGITS) = '\0';
}

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
    at = put_decimal(at, id, WL_TAG_DIGITS);
    *at++ = ' ';
    size_t len = (size_t)chars - TAG_LEN;
    uint64_t h = (id + 1) * 0x9E3779B97F4A7C15ULL ^ (uint64_t)kind;
    size_t off = (size_t)(h % (w->pool_len - len + 1));
    memcpy(at, w->pool + off, len);
    return at + len;
}

/* ---- exact lengths: slices of the calibrated pool ---- */

/* The first word k with cum[k] >= v (n_words + 1 when none). */
static uint32_t cum_lower(const wl_tokmap *m, uint64_t v)
{
    uint32_t lo = 0, hi = m->n_words + 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->cum[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Whole words of the pool making `tokens` (the closest whole-word count), from a start drawn
 * from rng: a few starts are tried for an exact count. Returns the end, *got its tokens. */
static char *put_slice(const wl_tokmap *m, const char *pool, char *at, long tokens, uint64_t *rng,
                       long *got)
{
    *got = 0;
    if (tokens <= 0 || m->n_words == 0)
        return at;
    uint64_t total = m->cum[m->n_words], want = (uint64_t)tokens;
    /* the last start that leaves `tokens` after it */
    uint32_t last = total > want ? cum_lower(m, total - want + 1) : 1;
    last = last > 0 ? last - 1 : 0;
    uint32_t best_i = 0, best_j = 0;
    uint64_t best_err = UINT64_MAX;
    for (int t = 0; t < SLICE_TRIES && best_err; t++) {
        uint32_t i = (uint32_t)(prompt_rng_next(rng) % ((uint64_t)last + 1));
        uint32_t j = cum_lower(m, m->cum[i] + want);
        if (j > m->n_words)
            j = m->n_words;
        if (j > i + 1 && m->cum[j] - m->cum[i] > want &&
            m->cum[j] - m->cum[i] - want > want - (m->cum[j - 1] - m->cum[i]))
            j--; /* one word short is closer than one word long */
        uint64_t have = m->cum[j] - m->cum[i];
        uint64_t err = have > want ? have - want : want - have;
        if (err < best_err)
            best_err = err, best_i = i, best_j = j;
    }
    size_t len = m->start[best_j] - m->start[best_i];
    memcpy(at, pool + m->start[best_i], len);
    *got = (long)(m->cum[best_j] - m->cum[best_i]);
    return at + len;
}

/* A unit that opens the prompt (no space before it: the template's text is) or follows
 * other text (" " first). Returns its cost in tokens. */
static long unit_cost(const wl_tokmap *m, bool *first, wl_first kind, long after)
{
    long c = *first ? m->first[kind] : after;
    *first = false;
    return c;
}

/* An exact shared block: its tag, then whole words making `tokens` with it, from a place
 * fixed by its id and by whether it opens the prompt. */
static char *put_block_exact(const workload *w, char *at, char kind, uint64_t id, long tokens,
                             bool *first, long *total)
{
    const wl_tokmap *m = w->map;
    bool opens = *first;
    long head = unit_cost(m, first, kind == 'g' ? WL_FIRST_GROUP : WL_FIRST_BLOCK,
                          m->tag_tokens[kind == 'g' ? 0 : 1]);
    if (!opens)
        *at++ = ' ';
    *at++ = kind;
    at = put_decimal(at, id, WL_TAG_DIGITS);
    uint64_t rng = ((id + 1) * 0x9E3779B97F4A7C15ULL ^ (uint64_t)kind) + opens;
    long got;
    at = put_slice(m, w->pool, at, tokens - head, &rng, &got);
    *total += head + got;
    return at;
}

/* Exact: blocks, the group's prefix, the nonce, then words making the rest of the tokens
 * asked. The tokens the server will count (template included) go to *total. */
static char *put_prompt_exact(const workload *w, const wl_request *req, uint64_t n, uint64_t *rng,
                              char *at, long *total)
{
    bool first = true;
    *total = 0;
    for (int i = 0; i < req->n_blocks; i++)
        at = put_block_exact(w, at, 'b', req->blocks[i], WORKLOAD_BLOCK_TOKENS, &first, total);
    if (req->group >= 0 && w->prefix_tokens > 0)
        at = put_block_exact(w, at, 'g', (uint64_t)req->group, w->prefix_tokens, &first, total);
    bool opens = first;
    long head = unit_cost(w->map, &first, WL_FIRST_NONCE, w->map->nonce_tokens);
    if (!opens)
        *at++ = ' ';
    at = put_decimal(at, n, PROMPT_NONCE_LEN);
    long got;
    at = put_slice(w->map, w->pool, at, req->input_tokens - head, rng, &got);
    *total += head + got;
    return at;
}

/* Shared blocks, then the nonce, then the unique text: the nonce after what is shared, so a
 * prefix cache can answer for the shared part and for nothing else. */
static char *put_prompt(const workload *w, const wl_request *req, uint64_t n, uint64_t *rng,
                        char *at)
{
    if (w->map) {
        long total;
        return put_prompt_exact(w, req, n, rng, at, &total);
    }
    for (int i = 0; i < req->n_blocks; i++)
        at = put_block(w, at, 'b', req->blocks[i], chars_of(w, WORKLOAD_BLOCK_TOKENS));
    if (req->group >= 0 && w->prefix_tokens > 0)
        at = put_block(w, at, 'g', (uint64_t)req->group, chars_of(w, w->prefix_tokens));
    at = put_decimal(at, n, PROMPT_NONCE_LEN);
    *at++ = ' ';
    long unique = chars_of(w, req->input_tokens) - PROMPT_NONCE_LEN - 1;
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
    long prompt_chars = 0, exact = -1;
    for (int i = 0; i < w->n_pieces; i++) {
        const wl_piece *pc = &w->pieces[i];
        memcpy(at, w->tmpl + pc->off, pc->len);
        at += pc->len;
        if (pc->hole == WL_HOLE_PROMPT) {
            prompt_start = at;
            if (w->map)
                at = put_prompt_exact(w, req, n, rng, at, &exact);
            else
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
    out->input_tokens =
        exact >= 0 ? exact
                   : (prompt_chars + WORKLOAD_CHARS_PER_TOKEN - 1) / WORKLOAD_CHARS_PER_TOKEN;
    out->image = false;
}

void workload_write_text(const workload *w, const char *text, size_t len, long max_tokens,
                         char *buf, prompt_body *out)
{
    char *at = buf;
    for (int i = 0; i < w->n_pieces; i++) {
        const wl_piece *pc = &w->pieces[i];
        memcpy(at, w->tmpl + pc->off, pc->len);
        at += pc->len;
        if (pc->hole == WL_HOLE_PROMPT) {
            memcpy(at, text, len);
            at += len;
        } else if (pc->hole == WL_HOLE_MAXTOK) {
            at = put_long(at, max_tokens);
        }
    }
    *at = '\0';
    out->json = buf;
    out->len = (size_t)(at - buf);
    out->nonce_offset = PROMPT_NO_NONCE;
    out->prompt_chars = (long)len;
    out->max_tokens = max_tokens;
    out->input_tokens = 0;
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
           (size_t)turns * ((size_t)chars_of(w, w->input.max) +
                            (size_t)w->input.max * WORKLOAD_CHARS_PER_TOKEN + PROMPT_NONCE_LEN + 1 +
                            sizeof glue_a + sizeof glue_u) +
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
    long unique = c->user_tokens[t] * WORKLOAD_CHARS_PER_TOKEN - PROMPT_NONCE_LEN - 3;
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

const char *const *workload_words(size_t *n)
{
    return prompt_vocabulary(n);
}

int workload_tokmap_build(const workload *w, const long *cost, wl_tokmap *m)
{
    memset(m, 0, sizeof *m);
    for (int k = 0; k < WL_FIRST_KINDS; k++)
        m->first[k] = -1;
    m->pool_len = w->pool_len;
    size_t n_vocab, words = 0;
    const char *const *vocab = workload_words(&n_vocab);
    for (size_t i = 0; i < w->pool_len; i++)
        words += w->pool[i] == ' ';
    m->start = malloc((words + 1) * sizeof *m->start);
    m->cum = malloc((words + 1) * sizeof *m->cum);
    if (!m->start || !m->cum) {
        workload_tokmap_free(m);
        return -1;
    }
    /* every word after a space, but the pool's last (it may be cut short) */
    uint64_t tokens = 0;
    uint32_t k = 0;
    for (size_t i = 0; i < w->pool_len; i++) {
        if (w->pool[i] != ' ')
            continue;
        size_t len = 1;
        while (i + len < w->pool_len && w->pool[i + len] != ' ')
            len++;
        if (i + len >= w->pool_len)
            break;
        size_t v = 0;
        while (v < n_vocab &&
               !(strlen(vocab[v]) == len - 1 && !memcmp(vocab[v], w->pool + i + 1, len - 1)))
            v++;
        if (v == n_vocab || cost[v] < 1)
            break; /* not a word it knows: the map ends here */
        m->start[k] = (uint32_t)i;
        m->cum[k] = (uint32_t)tokens;
        tokens += (uint64_t)cost[v];
        double cpt = (double)len / (double)cost[v];
        if (cpt > m->chars_per_token_max)
            m->chars_per_token_max = cpt;
        k++;
        i += len - 1;
    }
    m->n_words = k;
    m->start[k] = k ? m->start[k - 1] : 0;
    if (k) { /* the end: after the last word */
        size_t e = m->start[k - 1] + 1;
        while (e < w->pool_len && w->pool[e] != ' ')
            e++;
        m->start[k] = (uint32_t)e;
    }
    m->cum[k] = (uint32_t)tokens;
    return 0;
}

void workload_tokmap_free(wl_tokmap *m)
{
    free(m->start);
    free(m->cum);
    memset(m, 0, sizeof *m);
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
        PUT("in %s %s", spec, cfg->input_exact ? "tok" : "~tok");
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
