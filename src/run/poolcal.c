/* run/poolcal: the workload's input lengths by the server's tokenizer (see poolcal.h). */
#include "run/poolcal.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PC_FIRST_TOKENS 64 /* the unique part of a template probe */
#define PC_CHECK_MAX 2000  /* the check probe's length: the longest drawn, up to this */
#define PC_NONCE 123456789 /* the nonce and tags of the word probes: any fixed-width number */
#define PC_ANCHOR "the"    /* the word each probe starts with: its cost is subtracted */

typedef struct {
    llm_config cfg; /* the load's, not streamed, no ignore_eos: for probes */
    const char *model;
    char url[600];
    workload w; /* the same pool (and template) the engine will build */
    char *buf;
    size_t cap;
    bool tokenize; /* counts by /tokenize; else by probes' usage */
    poolcal_result *out;
} pc_ctx;

const char *poolcal_method_name(const poolcal_result *r)
{
    return calib_method_name(r->method);
}

static bool pc_applies(const llm_config *cfg)
{
    if (cfg->prompts_file || cfg->test_multimodal || cfg->dataset == LLM_DATASET_SHAREGPT ||
        cfg->dataset == LLM_DATASET_JSONL)
        return false;
    return cfg->input_tokens.kind != DIST_NONE || cfg->prefix_tokens > 0 ||
           cfg->dataset == LLM_DATASET_TRACE;
}

/* Tokens of text by the method chosen: /tokenize's count, or a probe's usage (template and
 * all: the anchor's subtraction removes it). */
static long pc_count(pc_ctx *c, const char *text)
{
    c->out->requests++;
    if (c->tokenize)
        return calibrate_tokenize(&c->cfg, c->model, text);
    prompt_body b;
    workload_write_text(&c->w, text, strlen(text), 1, c->buf, &b);
    return calibrate_usage(&c->cfg, c->url, b.json);
}

/* The prompt text of a body (its one message's content, or the prompt). */
static char *pc_content(const char *json)
{
    cJSON *doc = cJSON_Parse(json);
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(doc, "messages");
    const cJSON *t = msgs ? cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(msgs, 0), "content")
                          : cJSON_GetObjectItemCaseSensitive(doc, "prompt");
    char *text = cJSON_IsString(t) ? strdup(t->valuestring) : NULL;
    cJSON_Delete(doc);
    return text;
}

/* A probe request opening with `kind` (plain nonce, group prefix, trace block). */
static void pc_request(pc_ctx *c, wl_first kind, long tokens, wl_request *req)
{
    static const uint32_t block = 1;
    memset(req, 0, sizeof *req);
    req->input_tokens = tokens;
    req->output_tokens = 1;
    req->group = kind == WL_FIRST_GROUP ? 0 : -1;
    if (kind == WL_FIRST_BLOCK) {
        req->blocks = &block;
        req->n_blocks = 1;
    }
    (void)c;
}

/* first[kind]: what the server counts beyond the words, tags and nonce after the first unit
 * (the template and the first unit itself). By usage; else by /tokenize of the text alone
 * (then *template_known turns false). -1 when neither counts. */
static long pc_first(pc_ctx *c, wl_first kind, bool *template_known)
{
    wl_request req;
    pc_request(c, kind, PC_FIRST_TOKENS, &req);
    c->out->map.first[kind] = 0;
    uint64_t rng = 77;
    prompt_body b;
    workload_write(&c->w, &req, 1, &rng, c->buf, &b);
    long rest = b.input_tokens;
    c->out->requests++;
    long u = calibrate_usage(&c->cfg, c->url, b.json);
    if (u > 0)
        return u - rest;
    *template_known = false;
    if (!c->tokenize)
        return -1;
    char *text = pc_content(b.json);
    long t = text ? pc_count(c, text) : -1;
    free(text);
    return t > 0 ? t - rest : -1;
}

/* The word costs and the map; -1 with out->note when the server counts nothing. */
static int pc_words(pc_ctx *c)
{
    poolcal_result *out = c->out;
    long base = calibrate_tokenize(&c->cfg, c->model, PC_ANCHOR);
    out->requests++;
    c->tokenize = base > 0;
    if (!c->tokenize)
        base = pc_count(c, PC_ANCHOR);
    if (base <= 0)
        return -1;
    out->method = c->tokenize ? CALIB_TOKENIZE : CALIB_PROBE;
    size_t n;
    const char *const *words = workload_words(&n);
    long *cost = calloc(n, sizeof *cost);
    if (!cost)
        return -1;
    char text[96], unit[32];
    for (size_t v = 0; v < n; v++) {
        snprintf(text, sizeof text, PC_ANCHOR " %s", words[v]);
        cost[v] = pc_count(c, text) - base;
        if (cost[v] < 1) { /* a word that costs nothing: the counts cannot be summed */
            free(cost);
            return -1;
        }
    }
    int rc = workload_tokmap_build(&c->w, cost, &out->map);
    free(cost);
    if (rc != 0 || out->map.n_words == 0)
        return -1;
    workload_nonce_text(PC_NONCE, unit);
    snprintf(text, sizeof text, PC_ANCHOR " %s", unit);
    out->map.nonce_tokens = pc_count(c, text) - base;
    for (int k = 0; k < 2; k++) {
        workload_tag_text(k ? 'b' : 'g', PC_NONCE, unit);
        snprintf(text, sizeof text, PC_ANCHOR " %s", unit);
        out->map.tag_tokens[k] = pc_count(c, text) - base;
    }
    return out->map.nonce_tokens > 0 && out->map.tag_tokens[0] > 0 && out->map.tag_tokens[1] > 0
               ? 0
               : -1;
}

/* One more probe, of another length: does the sum hold? */
static void pc_check(pc_ctx *c, wl_first kind)
{
    long tokens = c->w.input.max < PC_CHECK_MAX ? c->w.input.max : PC_CHECK_MAX;
    if (tokens < 2 * PC_FIRST_TOKENS)
        tokens = 2 * PC_FIRST_TOKENS;
    wl_request req;
    pc_request(c, kind, tokens, &req);
    uint64_t rng = 991;
    prompt_body b;
    workload_write(&c->w, &req, 2, &rng, c->buf, &b);
    c->out->requests++;
    c->out->check_want = b.input_tokens;
    c->out->check_got = calibrate_usage(&c->cfg, c->url, b.json);
}

static void pc_failed(poolcal_result *out, const char *why)
{
    workload_tokmap_free(&out->map);
    out->have_map = false;
    out->exact = false;
    out->method = CALIB_FAILED;
    snprintf(out->note, sizeof out->note,
             "input lengths could not be calibrated: %s; sending llmload's estimate of 4 "
             "characters a token (lengths approximate)",
             why);
}

static void pc_calibrate(pc_ctx *c)
{
    poolcal_result *out = c->out;
    if (pc_words(c) != 0) {
        pc_failed(out, out->method == CALIB_NONE
                           ? "the server has no /tokenize and reported no usage.prompt_tokens"
                           : "the server's counts of single words did not add up");
        return;
    }
    c->w.map = &out->map;
    size_t cap = workload_body_size(&c->w, PC_CHECK_MAX + c->w.input.max, 1) + 4096;
    char *buf = realloc(c->buf, cap);
    if (!buf) {
        pc_failed(out, "out of memory");
        return;
    }
    c->buf = buf;
    c->cap = cap;
    bool template_known = true;
    wl_first main = c->cfg.prefix_tokens > 0              ? WL_FIRST_GROUP
                    : c->cfg.dataset == LLM_DATASET_TRACE ? WL_FIRST_BLOCK
                                                          : WL_FIRST_NONCE;
    long first[WL_FIRST_KINDS] = {-1, -1, -1};
    for (int k = 0; k < WL_FIRST_KINDS; k++) {
        if ((k == WL_FIRST_GROUP && c->cfg.prefix_tokens <= 0) ||
            (k == WL_FIRST_BLOCK && c->cfg.dataset != LLM_DATASET_TRACE))
            continue;
        if ((first[k] = pc_first(c, (wl_first)k, &template_known)) < 0) {
            pc_failed(out, "the server reported no usage.prompt_tokens for a whole prompt");
            return;
        }
    }
    memcpy(out->map.first, first, sizeof first);
    out->have_map = true;
    const char *by = c->tokenize ? "/tokenize" : "probes' usage";
    if (!template_known) {
        snprintf(out->note, sizeof out->note,
                 "input lengths by the server's tokenizer (%s, %d requests) but without the chat "
                 "template: the server reported no usage.prompt_tokens (lengths approximate)",
                 by, out->requests);
        return;
    }
    pc_check(c, main);
    long want = out->check_want, got = out->check_got, off = labs(got - want);
    out->exact = got > 0 && off * 100 <= want;
    snprintf(out->note, sizeof out->note,
             "input lengths exact by the server's tokenizer: %s counted each word of the prompt "
             "text, a probe's usage the template (%ld tokens); a check of %ld tokens was counted "
             "%ld (%d requests)%s",
             by, first[main], want, got, out->requests,
             out->exact ? "" : ": the counts do not add up, so lengths are approximate");
}

void poolcal_run(const llm_config *cfg, const char *model, poolcal_result *out)
{
    memset(out, 0, sizeof *out);
    out->check_want = out->check_got = -1;
    if (!pc_applies(cfg))
        return;
    pc_ctx c;
    memset(&c, 0, sizeof c);
    c.cfg = *cfg;
    c.cfg.no_stream = true;
    c.cfg.ignore_eos = false;
    c.cfg.input_map = NULL;
    c.model = model;
    c.out = out;
    snprintf(c.url, sizeof c.url, "%s%s", cfg->url,
             cfg->endpoint == LLM_ENDPOINT_COMPLETIONS ? "/completions" : "/chat/completions");
    char err[256];
    if (workload_init(&c.w, &c.cfg, model, err, sizeof err) != 0) {
        pc_failed(out, err);
        return;
    }
    c.cap = c.w.body_cap + 4096;
    if (!(c.buf = malloc(c.cap)))
        pc_failed(out, "out of memory");
    else
        pc_calibrate(&c);
    free(c.buf);
    workload_free(&c.w);
}

void poolcal_free(poolcal_result *out)
{
    workload_tokmap_free(&out->map);
    out->have_map = false;
}
