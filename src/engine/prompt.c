#include "engine/prompt.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const vocabulary[] = {
    "the",     "model",   "server",   "token",   "latency", "river",  "mountain", "quiet",
    "garden",  "system",  "measure",  "signal",  "bright",  "window", "number",   "paper",
    "engine",  "stream",  "forest",   "ocean",   "coffee",  "market", "winter",   "summer",
    "history", "science", "music",    "planet",  "village", "theory", "machine",  "language",
    "simple",  "careful", "rapid",    "ancient", "modern",  "silver", "golden",   "purple",
    "explain", "compare", "describe", "imagine", "analyse", "write",  "story",    "answer",
};

const char *const *prompt_vocabulary(size_t *n)
{
    *n = sizeof vocabulary / sizeof vocabulary[0];
    return vocabulary;
}

uint64_t prompt_rng_next(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

void prompt_fill_text(char *out, size_t chars, uint64_t *rng)
{
    size_t n = 0, words = sizeof vocabulary / sizeof vocabulary[0];
    while (n < chars) {
        const char *w = vocabulary[prompt_rng_next(rng) % words];
        size_t wl = strlen(w);
        if (n > 0)
            out[n++] = ' ';
        for (size_t i = 0; i < wl && n < chars; i++)
            out[n++] = w[i];
    }
    /* A prompt never ends on a space: some servers trim it and the counts would differ. */
    if (chars > 0 && out[chars - 1] == ' ')
        out[chars - 1] = '.';
    out[chars] = '\0';
}

static const char nonce_digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";

static void nonce_write(char *at, uint64_t n)
{
    for (int i = PROMPT_NONCE_LEN - 1; i >= 0; i--) {
        at[i] = nonce_digits[n % 36];
        n /= 36;
    }
}

static cJSON *prompt_payload(const llm_config *cfg, const char *text)
{
    if (cfg->endpoint == LLM_ENDPOINT_COMPLETIONS)
        return cJSON_CreateString(text);
    cJSON *messages = cJSON_CreateArray();
    cJSON *msg = cJSON_CreateObject();
    cJSON_AddStringToObject(msg, "role", "user");
    cJSON_AddStringToObject(msg, "content", text);
    cJSON_AddItemToArray(messages, msg);
    return messages;
}

static int merge_body_json(cJSON *body, const char *extra, char *err, size_t errlen)
{
    cJSON *fields = cJSON_Parse(extra);
    if (!cJSON_IsObject(fields)) {
        cJSON_Delete(fields);
        snprintf(err, errlen, "--body-json must be a JSON object like '{\"top_p\":0.9}'");
        return -1;
    }
    cJSON *f = fields->child;
    while (f) {
        cJSON *next = f->next;
        cJSON_DetachItemViaPointer(fields, f);
        cJSON_DeleteItemFromObjectCaseSensitive(body, f->string);
        cJSON_AddItemToObject(body, f->string, f);
        f = next;
    }
    cJSON_Delete(fields);
    return 0;
}

static cJSON *body_with(const llm_config *cfg, const char *model, const char *key, cJSON *payload)
{
    cJSON *body = cJSON_CreateObject();
    if (model)
        cJSON_AddStringToObject(body, "model", model);
    cJSON_AddItemToObject(body, key, payload);
    cJSON_AddNumberToObject(body, "max_tokens", (double)cfg->max_tokens);
    cJSON_AddBoolToObject(body, "stream", !cfg->no_stream);
    if (!cfg->no_usage && !cfg->no_stream) {
        cJSON *opts = cJSON_AddObjectToObject(body, "stream_options");
        cJSON_AddBoolToObject(opts, "include_usage", 1);
    }
    if (cfg->ignore_eos) {
        cJSON_AddBoolToObject(body, "ignore_eos", 1);
        cJSON_AddNumberToObject(body, "min_tokens", (double)cfg->max_tokens);
    }
    if (cfg->temperature >= 0)
        cJSON_AddNumberToObject(body, "temperature", cfg->temperature);
    if (cfg->seed_set)
        cJSON_AddNumberToObject(body, "seed", (double)cfg->seed);
    return body;
}

uint64_t prompt_text_seed(const llm_config *cfg, uint64_t seed)
{
    if (cfg->prompt_tokens <= 0)
        return seed;
    return cfg->seed_set ? cfg->seed : 1;
}

int prompt_build(const llm_config *cfg, const char *model, uint64_t seed, prompt_body *out,
                 char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t chars =
        cfg->prompt_chars > PROMPT_NONCE_LEN + 1 ? (size_t)cfg->prompt_chars : PROMPT_NONCE_LEN + 1;
    char *text = malloc(chars + 1);
    if (!text) {
        snprintf(err, errlen, "out of memory building the prompt");
        return -1;
    }
    uint64_t rng = prompt_text_seed(cfg, seed) * 0x9E3779B97F4A7C15ULL + 1;
    prompt_fill_text(text, chars, &rng);
    /* A marker no vocabulary word contains, replaced by the nonce after printing. */
    memset(text, '~', PROMPT_NONCE_LEN);
    text[PROMPT_NONCE_LEN] = ' ';
    bool chat = cfg->endpoint != LLM_ENDPOINT_COMPLETIONS;
    cJSON *body = body_with(cfg, model, chat ? "messages" : "prompt", prompt_payload(cfg, text));
    free(text);
    if (cfg->body_json && merge_body_json(body, cfg->body_json, err, errlen) != 0) {
        cJSON_Delete(body);
        return -1;
    }
    out->json = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    char *marker = out->json ? strstr(out->json, "~~~~~~~~~~~~") : NULL;
    if (!marker) {
        snprintf(err, errlen,
                 "could not build the request body (--body-json replaced the prompt?)");
        prompt_free(out);
        return -1;
    }
    out->len = strlen(out->json);
    out->nonce_offset = (size_t)(marker - out->json);
    out->prompt_chars = (long)chars;
    out->max_tokens = cfg->max_tokens;
    prompt_set_nonce(out, seed);
    return 0;
}

/* Merges --body-json, prints and frees body into a body without a nonce (shared by every
 * virtual user). Returns 0 or -1 with a sentence. */
static int finish_shared(const llm_config *cfg, cJSON *body, long prompt_chars, prompt_body *out,
                         char *err, size_t errlen)
{
    if (cfg->body_json && merge_body_json(body, cfg->body_json, err, errlen) != 0) {
        cJSON_Delete(body);
        return -1;
    }
    out->json = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (!out->json) {
        snprintf(err, errlen, "out of memory building a request body");
        return -1;
    }
    out->len = strlen(out->json);
    out->nonce_offset = PROMPT_NO_NONCE;
    out->prompt_chars = prompt_chars;
    out->max_tokens = cfg->max_tokens;
    return 0;
}

static cJSON *image_message(const char *text, const char *data_url)
{
    cJSON *content = cJSON_CreateArray();
    cJSON *part = cJSON_CreateObject();
    cJSON_AddStringToObject(part, "type", "text");
    cJSON_AddStringToObject(part, "text", text);
    cJSON_AddItemToArray(content, part);
    part = cJSON_CreateObject();
    cJSON_AddStringToObject(part, "type", "image_url");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(part, "image_url"), "url", data_url);
    cJSON_AddItemToArray(content, part);
    cJSON *msg = cJSON_CreateObject();
    cJSON_AddStringToObject(msg, "role", "user");
    cJSON_AddItemToObject(msg, "content", content);
    cJSON *messages = cJSON_CreateArray();
    cJSON_AddItemToArray(messages, msg);
    return messages;
}

int prompt_build_image(const llm_config *cfg, const char *model, const char *data_url,
                       prompt_body *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (cfg->endpoint == LLM_ENDPOINT_COMPLETIONS) {
        snprintf(err, errlen,
                 "the multimodal test sends chat messages: use it with "
                 "--endpoint chat");
        return -1;
    }
    char generated[1024];
    const char *text = cfg->image_prompt;
    if (!text) {
        uint64_t rng = 7;
        size_t chars =
            cfg->prompt_chars > 0 && cfg->prompt_chars < 1000 ? (size_t)cfg->prompt_chars : 200;
        prompt_fill_text(generated, chars, &rng);
        text = generated;
    }
    cJSON *body = body_with(cfg, model, "messages", image_message(text, data_url));
    if (finish_shared(cfg, body, (long)strlen(text), out, err, errlen) != 0)
        return -1;
    out->image = true;
    return 0;
}

static long payload_chars(const cJSON *payload)
{
    if (cJSON_IsString(payload))
        return (long)strlen(payload->valuestring);
    long n = 0;
    const cJSON *msg;
    cJSON_ArrayForEach(msg, payload)
    {
        const cJSON *content = cJSON_GetObjectItem(msg, "content");
        if (cJSON_IsString(content))
            n += (long)strlen(content->valuestring);
    }
    return n;
}

int prompt_build_payload(const llm_config *cfg, const char *model, cJSON *payload, long max_tokens,
                         prompt_body *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    bool chat = cfg->endpoint != LLM_ENDPOINT_COMPLETIONS;
    if (!chat && !cJSON_IsString(payload)) {
        cJSON_Delete(payload);
        snprintf(err, errlen, "\"messages\" need the chat endpoint (--endpoint chat)");
        return -1;
    }
    long chars = payload_chars(payload);
    if (chat && cJSON_IsString(payload)) {
        cJSON *messages = prompt_payload(cfg, payload->valuestring);
        cJSON_Delete(payload);
        payload = messages;
    }
    llm_config sized = *cfg;
    if (max_tokens > 0)
        sized.max_tokens = max_tokens;
    cJSON *body = body_with(&sized, model, chat ? "messages" : "prompt", payload);
    return finish_shared(&sized, body, chars, out, err, errlen);
}

char *prompt_build_template(const llm_config *cfg, const char *model, char *err, size_t errlen)
{
    llm_config marked = *cfg;
    marked.max_tokens = PROMPT_MAXTOK_MARK;
    bool chat = cfg->endpoint != LLM_ENDPOINT_COMPLETIONS;
    cJSON *body = body_with(&marked, model, chat ? "messages" : "prompt",
                            prompt_payload(cfg, PROMPT_TEXT_MARK));
    if (cfg->body_json && merge_body_json(body, cfg->body_json, err, errlen) != 0) {
        cJSON_Delete(body);
        return NULL;
    }
    char *json = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (!json || !strstr(json, PROMPT_TEXT_MARK)) {
        snprintf(err, errlen,
                 "could not build the request body (--body-json replaced the prompt?)");
        cJSON_free(json);
        return NULL;
    }
    return json;
}

void prompt_set_nonce(prompt_body *b, uint64_t n)
{
    if (b->nonce_offset == PROMPT_NO_NONCE)
        return;
    nonce_write(b->json + b->nonce_offset, n);
}

void prompt_free(prompt_body *b)
{
    if (b->json)
        cJSON_free(b->json);
    memset(b, 0, sizeof *b);
}
