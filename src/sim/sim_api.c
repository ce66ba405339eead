/* sim_api: what each request means: routing (only /v1/… plus /metrics and /health), the
 * API key, the JSON body of a generation (cJSON), its output length and its faults. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/sim_internal.h"
#include "sim/sim_tok.h"

typedef enum {
    R_NOT_FOUND,
    R_MODELS,
    R_CHAT,
    R_COMPLETIONS,
    R_METRICS,
    R_HEALTH,
    R_TOKENIZE,
} route_id;

typedef struct {
    const char *path;
    route_id id;
    int method;
} route;

static const route routes[] = {
    {"/v1/models", R_MODELS, HTTP_GET},
    {"/v1/chat/completions", R_CHAT, HTTP_POST},
    {"/v1/completions", R_COMPLETIONS, HTTP_POST},
    {"/metrics", R_METRICS, HTTP_GET},
    {"/health", R_HEALTH, HTTP_GET},
    {"/tokenize", R_TOKENIZE, HTTP_POST},
};

static const route *route_find(const char *url)
{
    size_t len = strcspn(url, "?#");
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (strlen(routes[i].path) == len && !strncmp(routes[i].path, url, len))
            return &routes[i];
    return NULL;
}

void api_log(sim_conn *c, const char *what)
{
    if (c->srv->opt.quiet)
        return;
    double ms = (double)(llm_now_ns() - c->start_ns) / 1e6;
    size_t len = strcspn(c->url, "?");
    const sim_req *r = &c->req;
    if (r->ep != SIM_EP_OTHER && c->status == 200)
        fprintf(stderr, "llmload sim: %s %.*s %d %s prompt=%ld tokens=%ld %.1f ms\n",
                http_method_str(c->method), (int)len, c->url, c->status, what, r->prompt_tokens,
                r->sent, ms);
    else
        fprintf(stderr, "llmload sim: %s %.*s %d %s %.1f ms\n", http_method_str(c->method),
                (int)len, c->url, c->status, what, ms);
}

/* A plain response: written whole, then the connection moves on to its next request. */
static void api_done(sim_conn *c)
{
    api_log(c, "json");
    conn_finish_request(c);
}

static void api_error(sim_conn *c, int status, const char *type, const char *message)
{
    proto_error(c, status, type, message);
    api_done(c);
}

static bool api_authorized(const sim_conn *c)
{
    const char *key = c->srv->opt.api_key;
    if (!key[0])
        return true;
    return !strncmp(c->auth, "Bearer ", 7) && !strcmp(c->auth + 7, key);
}

/* ---- generation requests ---- */

static void cache_feed_content(sim_cache *c, sim_cache_hasher *h, const cJSON *content)
{
    if (cJSON_IsString(content)) {
        cache_feed(c, h, content->valuestring, strlen(content->valuestring));
        return;
    }
    const cJSON *part;
    cJSON_ArrayForEach(part, content)
    {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(part, "text");
        if (cJSON_IsString(part))
            cache_feed(c, h, part->valuestring, strlen(part->valuestring));
        else if (cJSON_IsString(text))
            cache_feed(c, h, text->valuestring, strlen(text->valuestring));
    }
}

/* --prefix-cache-tokens: the prompt tokens its cache holds already (never the whole prompt:
 * the last token is always computed, as vLLM does). */
static long cached_prefix(sim_server *s, const cJSON *root, sim_endpoint ep, long prompt_tokens)
{
    if (s->cache.cap <= 0)
        return 0;
    sim_cache_hasher h;
    cache_hasher_init(&h);
    if (ep == SIM_EP_COMPLETIONS) {
        cache_feed_content(&s->cache, &h, cJSON_GetObjectItemCaseSensitive(root, "prompt"));
    } else {
        const cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(root, "messages"))
            cache_feed_content(&s->cache, &h, cJSON_GetObjectItemCaseSensitive(m, "content"));
    }
    long cached = h.hit_blocks * SIM_CACHE_BLOCK_TOKENS;
    return cached < prompt_tokens ? cached : prompt_tokens - 1;
}

static double json_number(const cJSON *root, const char *name, double fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    return cJSON_IsNumber(v) ? v->valuedouble : fallback;
}

static bool json_true(const cJSON *obj, const char *name)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, name));
}

/* --reject-fields: the first top-level field of the body that is in the list, or NULL. */
static const char *rejected_field(const sim_server *s, const cJSON *root)
{
    const char *list = s->opt.reject_fields;
    if (!list[0])
        return NULL;
    const cJSON *f;
    cJSON_ArrayForEach(f, root)
    {
        size_t n = strlen(f->string);
        for (const char *p = list; (p = strstr(p, f->string)) != NULL; p += n)
            if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == 0))
                return f->string;
    }
    return NULL;
}

/* Fills the request from the body; on a client error answers it and returns false. */
static bool api_parse_generation(sim_conn *c, const cJSON *root, sim_req *r)
{
    sim_server *s = c->srv;
    const char *unknown = rejected_field(s, root);
    if (unknown) {
        char msg[200];
        snprintf(msg, sizeof msg, "Unrecognized request argument supplied: %.100s", unknown);
        api_error(c, 400, "invalid_request_error", msg);
        return false;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (cJSON_IsString(model) && strcmp(model->valuestring, s->opt.model) != 0) {
        char msg[400];
        snprintf(msg, sizeof msg, "The model `%.300s` does not exist.", model->valuestring);
        api_error(c, 404, "NotFoundError", msg);
        return false;
    }
    /* counted by the simulator's own tokenizer, not by llmload's chars/4 (issue 13) */
    long tokens = simtok_prompt(root, r->ep == SIM_EP_CHAT);
    if (tokens < 0) {
        api_error(c, 400, "BadRequestError",
                  r->ep == SIM_EP_CHAT ? "'messages' is required: a non-empty array"
                                       : "'prompt' is required: a string or an array");
        return false;
    }
    r->prompt_tokens = tokens > 0 ? tokens : 1;
    r->cached_tokens = cached_prefix(s, root, r->ep, r->prompt_tokens);
    double mt = json_number(root, "max_completion_tokens",
                            json_number(root, "max_tokens", (double)s->opt.default_max_tokens));
    if (!(mt >= 1) || mt > 1e9) {
        api_error(c, 400, "BadRequestError", "max_tokens must be at least 1");
        return false;
    }
    r->max_tokens = (long)mt;
    r->stream = json_true(root, "stream");
    r->include_usage =
        r->stream &&
        json_true(cJSON_GetObjectItemCaseSensitive(root, "stream_options"), "include_usage");
    bool exact = json_true(root, "ignore_eos") || json_number(root, "min_tokens", 0) >= mt;
    uint64_t rng = s->opt.seed ^ (0xd1b54a32d192ed03ull * ++s->next_id);
    r->id = s->next_id;
    r->created = (long long)time(NULL);
    r->n_out = model_output_length(&s->opt, r->max_tokens, exact, &rng);
    long mid = r->n_out / 2 > 0 ? r->n_out / 2 : 1;
    r->cut_at = sim_rng_unit(&rng) * 100 < s->opt.cut_rate_pct ? mid : 0;
    r->malformed_at = sim_rng_unit(&rng) * 100 < s->opt.malformed_rate_pct ? mid : 0;
    r->stall_at = sim_rng_unit(&rng) * 100 < s->opt.stall_rate_pct ? mid : 0;
    r->words = sim_rng_next(&rng);
    /* drawn after the others so that 0 % leaves every earlier draw as it was */
    r->drop_last = s->opt.drop_last_pct > 0 && sim_rng_unit(&rng) * 100 < s->opt.drop_last_pct;
    /* drawn last so that a 0 % error rate leaves every other draw as it was */
    if (sim_rng_unit(&rng) * 100 < s->opt.error_rate_pct) {
        static const int codes[3] = {429, 500, 503};
        static const char *const types[3] = {"rate_limit_error", "InternalServerError",
                                             "ServiceUnavailableError"};
        static const char *const msgs[3] = {"Rate limit reached (simulated): retry after 1 second",
                                            "Internal server error (simulated)",
                                            "Service unavailable (simulated): overloaded"};
        int k = (int)(sim_rng_next(&rng) % 3);
        s->requests_failed++;
        api_error(c, codes[k], types[k], msgs[k]);
        return false;
    }
    return true;
}

static void record_received(const sim_options *o, const sim_req *r)
{
    if (!o->received || !o->received_n || *o->received_n >= o->received_cap)
        return;
    o->received[(*o->received_n)++] =
        (sim_received){llm_now_ns(), r->prompt_tokens, r->max_tokens, r->cached_tokens};
}

static void api_generate(sim_conn *c, sim_endpoint ep)
{
    sim_req *r = &c->req;
    r->ep = ep;
    r->sent = 0;
    r->prompt_tokens = 0;
    c->srv->requests_total++;
    cJSON *root = cJSON_ParseWithLength(c->body ? c->body : "", c->body_len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        api_error(c, 400, "BadRequestError", "the request body is not a JSON object");
        return;
    }
    bool ok = api_parse_generation(c, root, r);
    cJSON_Delete(root);
    if (!ok)
        return;
    record_received(&c->srv->opt, r);
    if (r->stream)
        proto_stream_start(c, r); /* headers now, like vLLM; tokens as the model makes them */
    model_submit(c->srv, r);
}

/* POST /tokenize with the simulator's tokenizer, in both servers' shapes: llama.cpp's
 * {"content": text} (no BOS) and vLLM's {"prompt": text} (with BOS) or {"messages": […]}
 * (with the chat template). Answers {"count": n, "max_model_len": …, "tokens": [ids]}. */
static void api_tokenize(sim_conn *c)
{
    if (c->srv->opt.no_token_counts || c->srv->opt.no_tokenize) {
        api_error(c, 404, "not_found_error", "File Not Found");
        return;
    }
    cJSON *root = cJSON_ParseWithLength(c->body ? c->body : "", c->body_len);
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(root, "content");
    long n = cJSON_IsString(content) ? simtok_count(content->valuestring)
             : cJSON_GetObjectItemCaseSensitive(root, "messages") ? simtok_prompt(root, true)
                                                                  : simtok_prompt(root, false);
    cJSON_Delete(root);
    if (n < 0) {
        api_error(c, 400, "BadRequestError", "'content', 'prompt' or 'messages' is required");
        return;
    }
    size_t cap = 96 + (size_t)n * 5;
    char *body = malloc(cap);
    if (!body) {
        api_error(c, 500, "InternalServerError", "out of memory");
        return;
    }
    size_t len =
        (size_t)snprintf(body, cap, "{\"count\":%ld,\"max_model_len\":32768,\"tokens\":[", n);
    for (long i = 0; i < n; i++)
        len += (size_t)snprintf(body + len, cap - len, i ? ",%ld" : "%ld", 100 + i % 900);
    len += (size_t)snprintf(body + len, cap - len, "]}");
    proto_json(c, 200, NULL, body, len);
    free(body);
    api_done(c);
}

/* Called once --slow-headers (if any) has passed. */
void api_handle(sim_conn *c)
{
    const route *rt = route_find(c->url);
    c->req.ep = SIM_EP_OTHER;
    if (!strncmp(c->url, "/v1/", 4) && !api_authorized(c)) {
        api_error(c, 401, "invalid_request_error",
                  "Incorrect API key provided. Send it as \"Authorization: Bearer KEY\".");
        return;
    }
    if (!rt) {
        api_error(c, 404, "not_found_error", "File Not Found");
        return;
    }
    if (c->method != rt->method) {
        api_error(c, 405, "invalid_request_error", "Method Not Allowed");
        return;
    }
    switch (rt->id) {
    case R_MODELS:
        proto_models(c);
        api_done(c);
        break;
    case R_METRICS:
        proto_metrics(c);
        api_done(c);
        break;
    case R_HEALTH:
        proto_text(c, 200, "application/json", "{\"status\":\"ok\"}", 15);
        api_done(c);
        break;
    case R_TOKENIZE:
        api_tokenize(c);
        break;
    case R_CHAT:
        api_generate(c, SIM_EP_CHAT);
        break;
    case R_COMPLETIONS:
        api_generate(c, SIM_EP_COMPLETIONS);
        break;
    default:
        api_error(c, 404, "not_found_error", "File Not Found");
        break;
    }
}

/* A whole request has arrived. Monitoring endpoints are never slowed down, so that a
 * scraper can still watch a server that is injecting slow headers. */
void api_on_request(sim_conn *c)
{
    const route *rt = route_find(c->url);
    bool monitor = rt && (rt->id == R_METRICS || rt->id == R_HEALTH);
    if (c->srv->opt.slow_headers_s > 0 && !monitor) {
        model_delay(c->srv, &c->req, c->srv->opt.slow_headers_s);
        return;
    }
    api_handle(c);
}
