/* run/calibrate: --prompt-tokens by the server's tokenizer (see calibrate.h). */
#include "run/calibrate.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/probe.h"
#include "engine/prompt.h"
#include "proto/chunk.h"

#define CALIB_MIN_CHARS (PROMPT_NONCE_LEN + 4)

static long calib_tokenize(const llm_config *cfg, const char *model, const char *text);

/* The first engine slot's prompt seed (engine/request.c): the probe sends its text. */
static uint64_t calib_seed(const llm_config *cfg)
{
    return (cfg->seed_set ? cfg->seed : 0x5eed) * 1000003ULL;
}

const char *calib_method_name(calib_method m)
{
    switch (m) {
    case CALIB_TOKENIZE:
        return "tokenize";
    case CALIB_PROBE:
        return "probe";
    case CALIB_FAILED:
        return "failed";
    default:
        return NULL;
    }
}

/* The server's prompt_tokens for a prompt of `chars` characters, as the load will send it
 * (same text, template and nonce; max_tokens 1, not streamed); -1 when it gives none. */
static long calib_probe(const llm_config *cfg, const char *model, const char *url, long chars,
                        calib_result *out)
{
    llm_config c = *cfg;
    c.prompt_chars = chars;
    c.max_tokens = 1;
    c.no_stream = true;
    c.ignore_eos = false;
    prompt_body b;
    char err[256];
    if (prompt_build(&c, model, calib_seed(cfg), &b, err, sizeof err) != 0)
        return -1;
    probe p;
    probe_run(&p, &c, url, b.json, false);
    out->probes++;
    long v = -1;
    if (p.code == CURLE_OK && p.status == 200 && p.body) {
        chunk_info ci;
        chunk_decode_message(p.body, p.body_len, &ci);
        if (ci.has_usage && ci.prompt_tokens > 0)
            v = ci.prompt_tokens;
    }
    probe_free(&p);
    prompt_free(&b);
    return v;
}

/* The server's origin + /tokenize (vLLM, SGLang and llama.cpp serve it beside /v1). */
static void calib_tokenize_url(const char *base, char *out, size_t cap)
{
    size_t n = strlen(base);
    if (n >= 3 && strcmp(base + n - 3, "/v1") == 0)
        n -= 3;
    snprintf(out, cap, "%.*s/tokenize", (int)n, base);
}

long calibrate_tokenize(const llm_config *cfg, const char *model, const char *text)
{
    return calib_tokenize(cfg, model, text);
}

/* Tokens of text by the server's /tokenize: llama.cpp's {"content"} → "tokens", vLLM's
 * {"model","prompt"} → "count". -1 when neither answers. */
static long calib_tokenize(const llm_config *cfg, const char *model, const char *text)
{
    char url[600];
    calib_tokenize_url(cfg->url, url, sizeof url);
    for (int shape = 0; shape < 2; shape++) {
        cJSON *req = cJSON_CreateObject();
        if (shape == 1 && model)
            cJSON_AddStringToObject(req, "model", model);
        cJSON_AddStringToObject(req, shape == 0 ? "content" : "prompt", text);
        if (shape == 1)
            cJSON_AddBoolToObject(req, "add_special_tokens", 0);
        char *body = cJSON_PrintUnformatted(req);
        cJSON_Delete(req);
        if (!body)
            return -1;
        probe p;
        probe_run(&p, cfg, url, body, false);
        free(body);
        long n = -1;
        cJSON *doc = p.code == CURLE_OK && p.status == 200 && p.body ? cJSON_Parse(p.body) : NULL;
        const cJSON *count = cJSON_GetObjectItemCaseSensitive(doc, "count");
        const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(doc, "tokens");
        if (cJSON_IsNumber(count) && count->valuedouble > 0)
            n = (long)count->valuedouble;
        else if (cJSON_IsArray(tokens) && cJSON_GetArraySize(tokens) > 0)
            n = cJSON_GetArraySize(tokens);
        cJSON_Delete(doc);
        probe_free(&p);
        if (n > 0)
            return n;
    }
    return -1;
}

/* Tokens of llmload's prompt text of `chars` characters (the text the probe sends, nonce
 * aside) by the server's /tokenize; -1 when it has none. */
static long calib_text_tokens(const llm_config *cfg, const char *model, long chars)
{
    char *text = malloc((size_t)chars + 1);
    if (!text)
        return -1;
    uint64_t rng = prompt_text_seed(cfg, calib_seed(cfg)) * 0x9E3779B97F4A7C15ULL + 1;
    prompt_fill_text(text, (size_t)chars, &rng); /* as prompt_build fills it */
    long n = calib_tokenize(cfg, model, text);
    free(text);
    return n;
}

static bool calib_applies(const llm_config *cfg)
{
    return cfg->prompt_tokens > 0 && !cfg->prompts_file && !cfg->test_multimodal;
}

static long calib_clamp(double chars)
{
    return chars < CALIB_MIN_CHARS ? CALIB_MIN_CHARS : chars > 1e8 ? 100000000L : lround(chars);
}

/* Secant steps on P(chars) = overhead + chars / chars_per_token, from the /tokenize ratio
 * (or the first probe's chars/P) until the server counts N within N/200 tokens. */
static void calib_search(const llm_config *cfg, const char *model, const char *url, double ratio,
                         calib_result *out)
{
    long n_target = out->target, tol = 0; /* exact if it can be; else the closest probed */
    long c = out->chars, p = calib_probe(cfg, model, url, c, out);
    if (p < 0)
        return;
    long best_c = c, best_p = p, prev_c = 0, prev_p = 0;
    double slope = isnan(ratio) ? (double)c / (double)p : ratio;
    while (labs(p - n_target) > tol && out->probes < CALIB_MAX_PROBES) {
        if (prev_c && p != prev_p && (double)(c - prev_c) / (double)(p - prev_p) > 0)
            slope = (double)(c - prev_c) / (double)(p - prev_p);
        long next = calib_clamp((double)c + (double)(n_target - p) * slope);
        if (next == c)
            break;
        prev_c = c, prev_p = p;
        c = next;
        p = calib_probe(cfg, model, url, c, out);
        if (p < 0)
            break;
        if (labs(p - n_target) < labs(best_p - n_target))
            best_c = c, best_p = p;
    }
    out->chars = best_c;
    out->measured = best_p;
    out->chars_per_token = slope;
    if (isnan(out->overhead_tokens))
        out->overhead_tokens = (double)best_p - (double)best_c / slope;
}

void calibrate_prompt(const llm_config *cfg, const char *model, calib_result *out)
{
    memset(out, 0, sizeof *out);
    out->chars = cfg->prompt_chars;
    out->measured = -1;
    out->chars_per_token = out->overhead_tokens = NAN;
    if (!calib_applies(cfg))
        return;
    out->target = cfg->prompt_tokens;
    char url[600];
    snprintf(url, sizeof url, "%s%s", cfg->url,
             cfg->endpoint == LLM_ENDPOINT_COMPLETIONS ? "/completions" : "/chat/completions");
    /* /tokenize: characters per token of the text, then the template's tokens: what the
     * server counts for a prompt beyond what /tokenize counts for its text */
    double ratio = NAN;
    long k = calib_text_tokens(cfg, model, out->chars);
    if (k > 0) {
        out->tokenize = true;
        ratio = (double)out->chars / (double)k;
        out->chars = calib_clamp((double)out->target * ratio);
        long k1 = calib_text_tokens(cfg, model, out->chars);
        long p1 = k1 > 0 ? calib_probe(cfg, model, url, out->chars, out) : -1;
        if (p1 > 0) {
            out->overhead_tokens = (double)(p1 - k1);
            out->chars = calib_clamp((double)(out->target - (p1 - k1)) * ratio);
        }
    }
    calib_search(cfg, model, url, ratio, out);
    if (out->measured < 0) {
        out->method = CALIB_FAILED;
        out->chars = out->tokenize ? out->chars : cfg->prompt_chars;
        snprintf(out->note, sizeof out->note,
                 "--prompt-tokens %ld could not be calibrated: the server reported no "
                 "usage.prompt_tokens%s; sending %ld characters (%s)",
                 out->target, out->tokenize ? "" : " and has no /tokenize", out->chars,
                 out->tokenize ? "its /tokenize count, without the chat template"
                               : "llmload's chars/4 estimate");
        return;
    }
    out->method = out->tokenize ? CALIB_TOKENIZE : CALIB_PROBE;
    snprintf(out->note, sizeof out->note,
             "--prompt-tokens %ld: %ld characters make %ld prompt tokens by the server's own "
             "count (%.2f chars/token, %s%.0f tokens of template; %s%d probe%s)",
             out->target, out->chars, out->measured, out->chars_per_token,
             out->tokenize ? "" : "about ", out->overhead_tokens,
             out->tokenize ? "/tokenize and " : "", out->probes, out->probes == 1 ? "" : "s");
}

long calibrate_usage(const llm_config *cfg, const char *url, const char *body)
{
    probe p;
    probe_run(&p, cfg, url, body, false);
    long v = -1;
    if (p.code == CURLE_OK && p.status == 200 && p.body) {
        chunk_info ci;
        chunk_decode_message(p.body, p.body_len, &ci);
        if (ci.has_usage && ci.prompt_tokens > 0)
            v = ci.prompt_tokens;
    }
    probe_free(&p);
    return v;
}

long calibrate_chars_for(const calib_result *c, long tokens)
{
    if (c->method != CALIB_TOKENIZE && c->method != CALIB_PROBE)
        return tokens * 4;
    return calib_clamp(((double)tokens - c->overhead_tokens) * c->chars_per_token);
}
