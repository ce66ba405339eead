/* parser_bench: SSE parsing + chunk decoding throughput on a realistic vLLM-style chat
 * stream (role chunk, one chunk per token, finish, usage, [DONE]). Single thread.
 * Usage: parser_bench [runs=5] [feed_bytes=4096]; prints the median events/s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "proto/chunk.h"
#include "proto/sse.h"

#define TOKENS 2000

typedef struct {
    long content, finish, usage, done, other;
} sink;

static int on_event(void *user, const char *event, size_t event_len, const char *data, size_t len)
{
    sink *s = user;
    chunk_info ci;
    chunk_decode_event(event, event_len, data, len, &ci);
    s->content += ci.content_events;
    s->finish += ci.finish;
    s->usage += ci.has_usage;
    s->done += ci.kind == CHUNK_DONE;
    s->other += ci.kind == CHUNK_ERROR || ci.kind == CHUNK_MALFORMED;
    return 0;
}

static size_t put_chunk(char *out, const char *delta, const char *finish)
{
    return (size_t)sprintf(out,
                           "data: {\"id\":\"chatcmpl-9f2c4e1a7b3d4c8e9a0b1c2d3e4f5a6b\","
                           "\"object\":\"chat.completion.chunk\",\"created\":1795400000,"
                           "\"model\":\"meta-llama/Llama-3.1-8B-Instruct\",\"choices\":[{"
                           "\"index\":0,\"delta\":%s,\"logprobs\":null,\"finish_reason\":%s}]}"
                           "\n\n",
                           delta, finish);
}

/* The stream: TOKENS content chunks with word-like tokens, as vLLM sends them. */
static char *make_stream(size_t *len, long *events)
{
    static const char *words[] = {" the",     " model", " answered", ",",
                                  " quickly", " and",   " then",     " a",
                                  " token",   ".",      "\\n",       " \\u00e9t\\u00e9"};
    char *s = malloc((size_t)(TOKENS + 8) * 512);
    size_t o = put_chunk(s, "{\"role\":\"assistant\",\"content\":\"\"}", "null");
    char delta[64];
    for (int k = 0; k < TOKENS; k++) {
        snprintf(delta, sizeof delta, "{\"content\":\"%s\"}", words[k % 12]);
        o += put_chunk(s + o, delta, "null");
    }
    o += put_chunk(s + o, "{\"content\":\"\"}", "\"length\"");
    o += (size_t)sprintf(s + o, "data: {\"id\":\"chatcmpl-9f2c4e1a7b3d4c8e9a0b1c2d3e4f5a6b\","
                                "\"object\":\"chat.completion.chunk\",\"created\":1795400000,"
                                "\"model\":\"meta-llama/Llama-3.1-8B-Instruct\",\"choices\":[],"
                                "\"usage\":{\"prompt_tokens\":512,\"total_tokens\":2512,"
                                "\"completion_tokens\":2000}}\n\n"
                                "data: [DONE]\n\n");
    *len = o;
    *events = TOKENS + 4;
    return s;
}

/* One run: parses the stream repeatedly for about a second; returns events/s. */
static double run_once(const char *s, size_t len, long events_per_stream, size_t feed)
{
    char buf[16384];
    sse_parser p;
    sink k = {0};
    long streams = 0;
    uint64_t t0 = llm_now_ns(), t1;
    do {
        for (int rep = 0; rep < 20; rep++, streams++) {
            sse_init(&p, buf, sizeof buf);
            for (size_t at = 0; at < len; at += feed)
                sse_feed(&p, s + at, at + feed <= len ? feed : len - at, on_event, &k);
            sse_finish(&p);
        }
        t1 = llm_now_ns();
    } while (t1 - t0 < LLM_NS_PER_SEC);
    if (k.content != streams * TOKENS || k.done != streams || k.usage != streams || k.other) {
        fprintf(stderr, "parser_bench: wrong counts (content %ld, done %ld, usage %ld)\n",
                k.content, k.done, k.usage);
        exit(1);
    }
    return (double)(streams * events_per_stream) / ((double)(t1 - t0) / LLM_NS_PER_SEC);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    size_t feed = argc > 2 ? (size_t)atol(argv[2]) : 4096;
    if (runs < 1 || runs > 99 || feed < 1) {
        fprintf(stderr, "usage: parser_bench [runs 1..99] [feed_bytes >= 1]\n");
        return 2;
    }
    size_t len;
    long events;
    char *s = make_stream(&len, &events);
    double rate[99];
    for (int r = 0; r < runs; r++) {
        rate[r] = run_once(s, len, events, feed);
        printf("run %d: %.0f events/s\n", r + 1, rate[r]);
    }
    qsort(rate, (size_t)runs, sizeof rate[0], cmp_double);
    printf("median: %.0f events/s (%zu-byte stream of %ld events, %zu-byte feeds, "
           "%.0f bytes/event)\n",
           rate[runs / 2], len, events, feed, (double)len / (double)events);
    free(s);
    return 0;
}
