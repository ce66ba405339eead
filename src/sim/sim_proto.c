/* sim_proto: the bytes of every response: status lines, JSON bodies, and the SSE chunks of
 * a stream in vLLM's shape, each framed as one HTTP chunk. The per-token path is memcpy of
 * pre-formatted pieces into the connection's output buffer: no allocation, no printf. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/sim_internal.h"

typedef struct {
    const char *p;
    size_t n;
} piece;

#define LIT(s)                                                                                     \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }

/* Short word-like tokens; none needs JSON escaping. */
static const piece words[64] = {
    LIT(" the"),    LIT(" of"),    LIT(" and"),   LIT(" a"),     LIT(" to"),    LIT(" in"),
    LIT(" is"),     LIT(" that"),  LIT(" it"),    LIT(" for"),   LIT(" on"),    LIT(" with"),
    LIT(" as"),     LIT(" was"),   LIT(" model"), LIT(" token"), LIT(" load"),  LIT(" test"),
    LIT(" server"), LIT(" queue"), LIT(" slot"),  LIT(" batch"), LIT(" fast"),  LIT(" slow"),
    LIT(" light"),  LIT(" river"), LIT(" stone"), LIT(" cloud"), LIT(" green"), LIT(" quiet"),
    LIT(" bright"), LIT(" small"), LIT(" large"), LIT(" early"), LIT(" late"),  LIT(" time"),
    LIT(" day"),    LIT(" night"), LIT(" road"),  LIT(" house"), LIT(" water"), LIT(" tree"),
    LIT(" bird"),   LIT(" song"),  LIT(" word"),  LIT(" line"),  LIT(" page"),  LIT(" book"),
    LIT(" hand"),   LIT(" eye"),   LIT(" mind"),  LIT(" heart"), LIT(" way"),   LIT(" world"),
    LIT("."),       LIT(","),      LIT(" we"),    LIT(" they"),  LIT(" you"),   LIT(" I"),
    LIT(" new"),    LIT(" old"),   LIT(" one"),   LIT(" two"),
};
#define MAX_WORD 8

static const piece chat_token_a = LIT("\"choices\":[{\"index\":0,\"delta\":{\"content\":\"");
static const piece chat_token_b = LIT("\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n");
static const piece cmpl_token_a = LIT("\"choices\":[{\"index\":0,\"text\":\"");
static const piece cmpl_token_b =
    LIT("\",\"logprobs\":null,\"finish_reason\":null,\"stop_reason\":null}]}\n\n");
static const piece chat_role = LIT("\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
                                   "\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}"
                                   "\n\n");
static const piece malformed = LIT("data: {\"choices\":[{\n\n");
static const piece done = LIT("data: [DONE]\n\n");

static const char *status_text(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 413:
        return "Payload Too Large";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Unknown";
    }
}

/* Writes s as a quoted JSON string; returns the length, or 0 when it does not fit. */
size_t proto_json_string(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    if (cap < 3)
        return 0;
    out[n++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (n + 8 >= cap)
            return 0;
        if (*p == '"' || *p == '\\') {
            out[n++] = '\\';
            out[n++] = (char)*p;
        } else if (*p < 0x20) {
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", *p);
        } else {
            out[n++] = (char)*p;
        }
    }
    out[n++] = '"';
    out[n] = '\0';
    return n;
}

/* ---- plain responses ---- */

static void proto_head(sim_conn *c, int status, const char *ctype, size_t len, const char *extra)
{
    char *w = conn_reserve(c, 512);
    int n = snprintf(w, 512,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: %s\r\nServer: llmload-sim\r\n%s\r\n",
                     status, status_text(status), ctype, len,
                     c->keep_alive ? "keep-alive" : "close", extra ? extra : "");
    c->out_len += (size_t)n;
    c->status = status;
}

void proto_text(sim_conn *c, int status, const char *ctype, const char *body, size_t len)
{
    proto_head(c, status, ctype, len, NULL);
    conn_append(c, body, len);
}

void proto_json(sim_conn *c, int status, const char *extra_headers, const char *body, size_t len)
{
    proto_head(c, status, "application/json", len, extra_headers);
    conn_append(c, body, len);
}

/* OpenAI's error shape (the one llama.cpp and vLLM also use). */
void proto_error(sim_conn *c, int status, const char *type, const char *message)
{
    char msg[600], body[800];
    if (!proto_json_string(message, msg, sizeof msg))
        proto_json_string("error", msg, sizeof msg);
    int n = snprintf(body, sizeof body, "{\"error\":{\"message\":%s,\"type\":\"%s\",\"code\":%d}}",
                     msg, type, status);
    proto_json(c, status, status == 429 ? "Retry-After: 1\r\n" : NULL, body, (size_t)n);
}

void proto_models(sim_conn *c)
{
    const sim_server *s = c->srv;
    char body[2048];
    int n = snprintf(body, sizeof body,
                     "{\"object\":\"list\",\"data\":[{\"id\":%s,\"object\":\"model\","
                     "\"created\":%lld,\"owned_by\":\"llmload-sim\",\"root\":%s,"
                     "\"parent\":null}]}",
                     s->model_json, (long long)time(NULL), s->model_json);
    proto_json(c, 200, NULL, body, (size_t)n);
}

/* One vLLM-named histogram in the text format (cumulative buckets, +Inf, sum, count). */
static int metrics_hist(char *out, size_t cap, const sim_server *s, int which, const char *name,
                        const char *help)
{
    const char *model = s->opt.model;
    int n = snprintf(out, cap, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    unsigned long long cum = 0;
    for (int i = 0; i <= SIM_HIST_BUCKETS && n >= 0 && (size_t)n < cap; i++) {
        cum += s->hist[which][i];
        char le[32];
        if (i < SIM_HIST_BUCKETS)
            snprintf(le, sizeof le, "%g", sim_hist_le[i]);
        else
            snprintf(le, sizeof le, "+Inf");
        n += snprintf(out + n, cap - (size_t)n, "%s_bucket{le=\"%s\",model_name=\"%s\"} %llu\n",
                      name, le, model, cum);
    }
    if (n >= 0 && (size_t)n < cap)
        n += snprintf(out + n, cap - (size_t)n,
                      "%s_sum{model_name=\"%s\"} %.6f\n%s_count{model_name=\"%s\"} %llu\n", name,
                      model, s->hist_sum[which], name, model, cum);
    return n;
}

void proto_metrics(sim_conn *c)
{
    const sim_server *s = c->srv;
    char body[20480];
    int n = snprintf(
        body, sizeof body,
        "# HELP llmload_sim:requests_running Requests in a decode slot.\n"
        "# TYPE llmload_sim:requests_running gauge\n"
        "llmload_sim:requests_running %ld\n"
        "# HELP llmload_sim:requests_waiting Requests queued for a slot.\n"
        "# TYPE llmload_sim:requests_waiting gauge\n"
        "llmload_sim:requests_waiting %ld\n"
        "# HELP llmload_sim:num_slots Decode slots (continuous batching).\n"
        "# TYPE llmload_sim:num_slots gauge\n"
        "llmload_sim:num_slots %d\n"
        "# HELP llmload_sim:prompt_tokens_total Prompt tokens prefilled.\n"
        "# TYPE llmload_sim:prompt_tokens_total counter\n"
        "llmload_sim:prompt_tokens_total %llu\n"
        "# HELP llmload_sim:generation_tokens_total Tokens generated.\n"
        "# TYPE llmload_sim:generation_tokens_total counter\n"
        "llmload_sim:generation_tokens_total %llu\n"
        "# HELP llmload_sim:requests_total Generation requests received.\n"
        "# TYPE llmload_sim:requests_total counter\n"
        "llmload_sim:requests_total %llu\n"
        "# HELP llmload_sim:requests_success_total Generations that finished.\n"
        "# TYPE llmload_sim:requests_success_total counter\n"
        "llmload_sim:requests_success_total %llu\n"
        "# HELP llmload_sim:requests_failed_total Generations answered with an error or cut.\n"
        "# TYPE llmload_sim:requests_failed_total counter\n"
        "llmload_sim:requests_failed_total %llu\n"
        "# HELP llmload_sim:connections Open client connections.\n"
        "# TYPE llmload_sim:connections gauge\n"
        "llmload_sim:connections %ld\n"
        /* the same counters under vLLM's names, beside its histograms (issue 13) */
        "# HELP vllm:prompt_tokens_total Number of prefill tokens processed.\n"
        "# TYPE vllm:prompt_tokens_total counter\n"
        "vllm:prompt_tokens_total{model_name=\"%s\"} %llu\n"
        "# HELP vllm:generation_tokens_total Number of generation tokens processed.\n"
        "# TYPE vllm:generation_tokens_total counter\n"
        "vllm:generation_tokens_total{model_name=\"%s\"} %llu\n",
        s->running, s->waiting, s->opt.slots, s->prompt_tokens_total, s->gen_tokens_total,
        s->requests_total, s->requests_ok, s->requests_failed, s->n_conns, s->opt.model,
        s->prompt_tokens_total, s->opt.model, s->gen_tokens_total);
    static const struct {
        int which;
        const char *name, *help;
    } hists[] = {
        {SIM_H_TTFT, "vllm:time_to_first_token_seconds",
         "Histogram of time to first token in seconds."},
        {SIM_H_E2E, "vllm:e2e_request_latency_seconds",
         "Histogram of e2e request latency in seconds."},
        {SIM_H_ITL, "vllm:inter_token_latency_seconds",
         "Histogram of inter-token latency in seconds."},
        {SIM_H_QUEUE, "vllm:request_queue_time_seconds",
         "Histogram of time spent in WAITING phase for request."},
    };
    for (size_t i = 0; i < sizeof hists / sizeof hists[0] && n > 0 && (size_t)n < sizeof body; i++)
        n += metrics_hist(body + n, sizeof body - (size_t)n, s, hists[i].which, hists[i].name,
                          hists[i].help);
    if (n < 0 || (size_t)n >= sizeof body)
        n = (int)strlen(body);
    proto_text(c, 200, "text/plain; version=0.0.4", body, (size_t)n);
}

/* ---- streams ---- */

static size_t put_hex(char *w, size_t v)
{
    char tmp[16];
    size_t n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    for (size_t i = 0; i < n; i++)
        w[i] = tmp[n - 1 - i];
    return n;
}

/* One HTTP chunk holding the concatenated pieces. */
/* One HTTP chunk; an HTTP/1.0 client knows no chunks, so it gets the bare bytes. */
static void chunk_put(sim_conn *c, const piece *pc, int count)
{
    size_t len = 0;
    for (int i = 0; i < count; i++)
        len += pc[i].n;
    char *w = conn_reserve(c, len + 24);
    char *start = w;
    if (!c->http10) {
        w += put_hex(w, len);
        *w++ = '\r';
        *w++ = '\n';
    }
    for (int i = 0; i < count; i++) {
        memcpy(w, pc[i].p, pc[i].n);
        w += pc[i].n;
    }
    if (!c->http10) {
        *w++ = '\r';
        *w++ = '\n';
    }
    c->out_len += (size_t)(w - start);
}

static bool head_reserve(sim_conn *c, size_t need)
{
    if (c->head_cap >= need)
        return true;
    char *h = realloc(c->head, need);
    if (!h)
        return false;
    c->head = h;
    c->head_cap = need;
    return true;
}

/* The part every chunk of this stream shares, formatted once per request. */
static void proto_build_head(sim_conn *c, const sim_req *r, const char *prefix)
{
    const sim_server *s = c->srv;
    bool chat = r->ep == SIM_EP_CHAT;
    size_t need = s->model_json_len + 200;
    c->head_len = 0;
    if (!head_reserve(c, need))
        return;
    int n = snprintf(c->head, need,
                     "%s{\"id\":\"%s-%016llx\",\"object\":\"%s\",\"created\":%lld,"
                     "\"model\":%s,",
                     prefix, chat ? "chatcmpl" : "cmpl", r->id,
                     chat ? (r->stream ? "chat.completion.chunk" : "chat.completion")
                          : "text_completion",
                     r->created, s->model_json);
    c->head_len = n > 0 ? (size_t)n : 0;
}

void proto_stream_start(sim_conn *c, sim_req *r)
{
    static const char hdr[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                              "Cache-Control: no-cache\r\n"
                              "X-Accel-Buffering: no\r\nServer: llmload-sim\r\n";
    conn_append(c, hdr, sizeof hdr - 1);
    if (c->http10)
        c->keep_alive = false; /* no length and no chunks: the close ends the stream */
    else
        conn_append(c, "Transfer-Encoding: chunked\r\n", 28);
    if (c->keep_alive)
        conn_append(c, "Connection: keep-alive\r\n\r\n", 26);
    else
        conn_append(c, "Connection: close\r\n\r\n", 21);
    c->status = 200;
    proto_build_head(c, r, "data: ");
}

void proto_stream_role(sim_conn *c, sim_req *r)
{
    if (r->ep != SIM_EP_CHAT)
        return;
    piece pc[2] = {{c->head, c->head_len}, chat_role};
    chunk_put(c, pc, 2);
}

void proto_stream_token(sim_conn *c, sim_req *r)
{
    const piece *w = &words[sim_rng_next(&r->words) & 63];
    bool chat = r->ep == SIM_EP_CHAT;
    piece pc[4] = {{c->head, c->head_len},
                   chat ? chat_token_a : cmpl_token_a,
                   *w,
                   chat ? chat_token_b : cmpl_token_b};
    chunk_put(c, pc, 4);
}

void proto_stream_malformed(sim_conn *c)
{
    chunk_put(c, &malformed, 1);
}

static const char *finish_reason(const sim_req *r)
{
    return r->n_out >= r->max_tokens ? "length" : "stop";
}

/* With a prefix cache, usage says how much of the prompt it served, as vLLM and OpenAI do. */
static int usage_json(const sim_req *r, char *out, size_t cap)
{
    char details[80] = "";
    if (r->conn && r->conn->srv->opt.no_token_counts) /* a server that counts nothing */
        return snprintf(out, cap, "\"usage\":null");
    if (r->conn && r->conn->srv->cache.cap > 0)
        snprintf(details, sizeof details, ",\"prompt_tokens_details\":{\"cached_tokens\":%ld}",
                 r->cached_tokens);
    return snprintf(out, cap,
                    "\"usage\":{\"prompt_tokens\":%ld,\"total_tokens\":%ld,"
                    "\"completion_tokens\":%ld%s}",
                    r->prompt_tokens, r->prompt_tokens + r->sent, r->sent, details);
}

/* llama.cpp's `timings` (with --timings): the model's own prefill (slot entry to first
 * token) and decode (first token to now) of the request, as `,"timings":{…}`; "" without. */
static int timings_json(const sim_conn *c, const sim_req *r, char *out, size_t cap)
{
    out[0] = '\0';
    if (!c->srv->opt.timings)
        return 0;
    uint64_t now = llm_now_ns();
    double prompt_ms = r->first_ns > r->admit_ns ? (double)(r->first_ns - r->admit_ns) / 1e6 : 0;
    double predicted_ms = r->first_ns && now > r->first_ns ? (double)(now - r->first_ns) / 1e6 : 0;
    return snprintf(out, cap,
                    ",\"timings\":{\"cache_n\":0,\"prompt_n\":%ld,\"prompt_ms\":%.3f,"
                    "\"predicted_n\":%ld,\"predicted_ms\":%.3f}",
                    r->prompt_tokens, prompt_ms, r->sent, predicted_ms);
}

void proto_stream_end(sim_conn *c, sim_req *r)
{
    char tail[512], usage[240], timings[192];
    int t = timings_json(c, r, timings, sizeof timings);
    /* like llama.cpp: timings ride on the usage chunk, else on the finish chunk */
    const char *fin_timings = r->include_usage ? "" : timings;
    int n = r->ep == SIM_EP_CHAT
                ? snprintf(tail, sizeof tail,
                           "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,"
                           "\"finish_reason\":\"%s\",\"stop_reason\":null}]%s}\n\n",
                           finish_reason(r), fin_timings)
                : snprintf(tail, sizeof tail,
                           "\"choices\":[{\"index\":0,\"text\":\"\",\"logprobs\":null,"
                           "\"finish_reason\":\"%s\",\"stop_reason\":null}]%s}\n\n",
                           finish_reason(r), fin_timings);
    piece fin[2] = {{c->head, c->head_len}, {tail, (size_t)n}};
    chunk_put(c, fin, 2);
    if (r->include_usage) {
        int u = usage_json(r, usage, sizeof usage);
        n = snprintf(tail, sizeof tail, "\"choices\":[],%.*s%.*s}\n\n", u, usage, t, timings);
        piece pc[2] = {{c->head, c->head_len}, {tail, (size_t)n}};
        chunk_put(c, pc, 2);
    }
    if (c->srv->opt.no_done)
        return; /* --no-done: finish_reason and usage, then silence on an open response */
    chunk_put(c, &done, 1);
    if (!c->http10)
        conn_append(c, "0\r\n\r\n", 5);
}

/* The non-streaming answer: the same words a stream would have carried. */
void proto_full(sim_conn *c, sim_req *r)
{
    proto_build_head(c, r, "");
    size_t cap = c->head_len + (size_t)r->sent * MAX_WORD + 768;
    char *body = malloc(cap);
    if (!body) {
        proto_error(c, 500, "InternalServerError", "out of memory");
        return;
    }
    size_t n =
        (size_t)snprintf(body, cap, "%.*s\"choices\":[{\"index\":0,%s", (int)c->head_len, c->head,
                         r->ep == SIM_EP_CHAT ? "\"message\":{\"role\":\"assistant\",\"content\":\""
                                              : "\"text\":\"");
    for (long i = 0; i < r->sent; i++) {
        const piece *w = &words[sim_rng_next(&r->words) & 63];
        memcpy(body + n, w->p, w->n);
        n += w->n;
    }
    char usage[240], timings[192];
    usage_json(r, usage, sizeof usage);
    timings_json(c, r, timings, sizeof timings);
    n += (size_t)snprintf(body + n, cap - n,
                          "\"%s,\"logprobs\":null,\"finish_reason\":\"%s\",\"stop_reason\":null}],"
                          "%s%s}",
                          r->ep == SIM_EP_CHAT ? "}" : "", finish_reason(r), usage, timings);
    proto_json(c, 200, NULL, body, n);
    free(body);
}
