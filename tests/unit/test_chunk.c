/* Tests for proto/chunk: what each recorded or synthetic chunk means for the metrics
 * (content, reasoning, finish, usage, done, errors, malformed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "proto/chunk.h"
#include "proto/sse.h"
#include "testutil.h"

static char *load(const char *rel, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", LLM_FIXTURES, rel);
    char *s = tu_read_file(path, len);
    assert_non_null(s);
    return s;
}

static chunk_info decode(const char *s)
{
    chunk_info ci;
    chunk_decode(s, strlen(s), &ci);
    return ci;
}

/* Totals of a whole stream decoded event by event, as the engine will do it. */
typedef struct {
    int chunks, content, reasoning, finishes, usage_chunks, done, errors, malformed;
    size_t bytes;
    long completion_tokens, prompt_tokens;
    int timings_chunks;
    chunk_info timings; /* the chunk that carried llama.cpp's timings */
    int first_is_role_only;
    int done_was_last;
} totals;

static int tally(void *user, const char *event, size_t event_len, const char *data, size_t len)
{
    totals *t = user;
    chunk_info ci;
    chunk_decode_event(event, event_len, data, len, &ci);
    if (t->chunks == 0)
        t->first_is_role_only =
            ci.kind == CHUNK_DATA && ci.content_events == 0 && ci.reasoning_events == 0;
    t->chunks++;
    t->done_was_last = ci.kind == CHUNK_DONE;
    t->done += ci.kind == CHUNK_DONE;
    t->errors += ci.kind == CHUNK_ERROR;
    t->malformed += ci.kind == CHUNK_MALFORMED;
    t->content += ci.content_events;
    t->reasoning += ci.reasoning_events;
    t->bytes += ci.content_bytes;
    t->finishes += ci.finish;
    if (ci.has_usage) {
        t->usage_chunks++;
        t->completion_tokens = ci.completion_tokens;
        t->prompt_tokens = ci.prompt_tokens;
    }
    if (ci.has_timings) {
        t->timings_chunks++;
        t->timings = ci;
    }
    return 0;
}

static totals tally_stream(const char *rel)
{
    size_t n;
    char *s = load(rel, &n);
    char buf[65536];
    sse_parser p;
    totals t = {0};
    sse_init(&p, buf, sizeof buf);
    assert_int_equal(sse_feed(&p, s, n, tally, &t), SSE_OK);
    assert_int_equal(sse_finish(&p), 0);
    free(s);
    return t;
}

static void llama_role_chunk_with_null_content_is_not_content(void **state)
{
    (void)state;
    chunk_info ci =
        decode("{\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"role\":"
               "\"assistant\",\"content\":null}}],\"object\":\"chat.completion.chunk\"}");
    assert_int_equal(ci.kind, CHUNK_DATA);
    assert_int_equal(ci.content_events, 0);
    assert_int_equal(ci.reasoning_events, 0);
    assert_false(ci.finish);
    assert_false(ci.has_usage);
    totals t = tally_stream("llama.cpp/chat-stream-usage.sse");
    assert_true(t.first_is_role_only);
}

static void llama_usage_matches_count_of_content_chunks(void **state)
{
    (void)state;
    totals t = tally_stream("llama.cpp/chat-stream-usage.sse");
    assert_int_equal(t.content, 12);
    assert_int_equal(t.usage_chunks, 1);
    assert_int_equal(t.completion_tokens, 12);
    assert_int_equal(t.prompt_tokens, 49);
    assert_int_equal(t.finishes, 1);
    assert_int_equal(t.done, 1);
    assert_true(t.done_was_last);
    assert_int_equal(t.malformed + t.errors, 0);
}

/* The recorded usage chunk's timings: the server's own prefill and decode of the request. */
static void llama_final_chunk_gives_the_server_timings(void **state)
{
    (void)state;
    totals t = tally_stream("llama.cpp/chat-stream-usage.sse");
    assert_int_equal(t.timings_chunks, 1);
    assert_true(t.timings.has_usage); /* the same chunk */
    assert_int_equal(t.timings.prompt_n, 49);
    assert_int_equal(t.timings.predicted_n, 12);
    assert_int_equal(t.timings.cache_n, 0);
    assert_true(fabs(t.timings.prompt_ms - 4.676) < 1e-9);
    assert_true(fabs(t.timings.predicted_ms - 3.223) < 1e-9);
    /* a timings object without both times, or with strings, is not timings */
    chunk_info ci = decode("{\"choices\":[],\"timings\":{\"prompt_n\":3,\"prompt_ms\":1.5}}");
    assert_false(ci.has_timings);
    ci = decode("{\"choices\":[],\"timings\":{\"prompt_ms\":\"1\",\"predicted_ms\":2}}");
    assert_false(ci.has_timings);
    /* without include_usage llama.cpp puts them on the finish chunk */
    t = tally_stream("llama.cpp/chat-stream.sse");
    assert_int_equal(t.timings_chunks, 1);
    assert_false(t.timings.has_usage);
    assert_int_equal(t.timings.predicted_n, t.content);
    ci = decode("{\"timings\":{\"predicted_ms\":2e1,\"prompt_ms\":0,\"predicted_n\":3}}");
    assert_true(ci.has_timings);
    assert_true(ci.predicted_ms == 20.0);
    assert_int_equal(ci.predicted_n, 3);
}

static void llama_stream_without_include_usage_has_no_usage(void **state)
{
    (void)state;
    totals t = tally_stream("llama.cpp/chat-stream.sse");
    assert_int_equal(t.content, 8);
    assert_int_equal(t.usage_chunks, 0);
    assert_int_equal(t.finishes, 1);
    assert_true(t.done_was_last);
}

static void completions_text_counts_as_content(void **state)
{
    (void)state;
    totals t = tally_stream("llama.cpp/completions-stream-usage.sse");
    assert_int_equal(t.content, 8);
    assert_int_equal(t.bytes, strlen(", there was a little boy"));
    /* Usage arrives in the same chunk as the finish (and an empty text). */
    assert_int_equal(t.usage_chunks, 1);
    assert_int_equal(t.completion_tokens, 8);
    assert_int_equal(t.finishes, 1);
    assert_true(t.done_was_last);
}

static void vllm_role_chunk_with_empty_content_and_usage_chunk(void **state)
{
    (void)state;
    totals t = tally_stream("streams/vllm-chat-usage.sse");
    assert_true(t.first_is_role_only);
    assert_int_equal(t.content, 16);
    assert_int_equal(t.completion_tokens, 16);
    assert_int_equal(t.prompt_tokens, 27);
    /* UTF-8 bytes: "été" is 5 bytes for 3 characters. */
    assert_int_equal(t.bytes, strlen("The quick brown fox jumps over the lazy dog. It was a sunny "
                                     "day\xC3\xA9t\xC3\xA9"));
    assert_int_equal(t.finishes, 1);
    assert_true(t.done_was_last);
}

static void openai_usage_null_is_not_usage(void **state)
{
    (void)state;
    chunk_info ci = decode("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},"
                           "\"finish_reason\":null}],\"usage\":null}");
    assert_int_equal(ci.content_events, 1);
    assert_false(ci.has_usage);
    totals t = tally_stream("streams/openai-chat-usage.sse");
    assert_int_equal(t.content, 9);
    assert_int_equal(t.usage_chunks, 1);
    assert_int_equal(t.completion_tokens, 9);
    assert_int_equal(t.finishes, 1);
}

static void reasoning_stream_counts_reasoning_then_content(void **state)
{
    (void)state;
    totals t = tally_stream("streams/reasoning-chat-usage.sse");
    assert_int_equal(t.reasoning, 10);
    assert_int_equal(t.content, 7);
    assert_int_equal(t.completion_tokens, 17);
    chunk_info ci = decode("{\"choices\":[{\"delta\":{\"reasoning\":\"hmm\"}}]}");
    assert_int_equal(ci.reasoning_events, 1);
    assert_int_equal(ci.content_events, 0);
    ci = decode("{\"choices\":[{\"delta\":{\"reasoning_content\":\"\",\"content\":null}}]}");
    assert_int_equal(ci.reasoning_events + ci.content_events, 0);
}

static void done_marker_with_surrounding_whitespace(void **state)
{
    (void)state;
    assert_int_equal(decode("[DONE]").kind, CHUNK_DONE);
    assert_int_equal(decode("  [DONE] \r\n").kind, CHUNK_DONE);
    assert_int_equal(decode("[DONE]x").kind, CHUNK_MALFORMED);
    assert_int_equal(decode("[done]").kind, CHUNK_MALFORMED);
}

static void malformed_chunks_say_why(void **state)
{
    (void)state;
    const char *bad[] = {"not json",
                         "{\"choices\":[{\"delta\":{\"content\":\"a",
                         "{\"choices\":[",
                         "[1,2]",
                         "\"just a string\"",
                         "42",
                         "",
                         "   ",
                         "{} trailing",
                         "{\"a\":1}{\"b\":2}",
                         "{\"a\":}",
                         "{\"a\" 1}",
                         "{\"a\":1 \"b\":2}",
                         "{\"a\":1,\"b\"}",
                         "<html><body>502 Bad Gateway</body></html>",
                         "{\"a\":\"\\x\"}"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        chunk_info ci = decode(bad[k]);
        if (ci.kind != CHUNK_MALFORMED)
            fail_msg("[%s] decoded as kind %d", bad[k], ci.kind);
        assert_true(strlen(ci.message) > 0);
        assert_int_equal(ci.content_events, 0);
    }
    assert_non_null(strstr(decode("{\"choices\":[").message, "truncated"));
    assert_non_null(strstr(decode("[1]").message, "not an object"));
}

static void error_objects_give_their_message(void **state)
{
    (void)state;
    size_t n;
    char *s = load("llama.cpp/error-400-context.json", &n);
    chunk_info ci;
    chunk_decode(s, n, &ci);
    assert_int_equal(ci.kind, CHUNK_ERROR);
    assert_string_equal(ci.message, "request (2741 tokens) exceeds the available context size "
                                    "(512 tokens), try increasing it");
    free(s);
    s = load("llama.cpp/error-404.json", &n);
    chunk_decode_message(s, n, &ci);
    assert_int_equal(ci.kind, CHUNK_ERROR);
    assert_string_equal(ci.message, "File Not Found");
    free(s);

    ci = decode("{\"error\":\"model overloaded\"}");
    assert_int_equal(ci.kind, CHUNK_ERROR);
    assert_string_equal(ci.message, "model overloaded");
    ci = decode("{\"object\":\"error\",\"message\":\"max_tokens is too large\",\"type\":"
                "\"BadRequestError\",\"code\":400}");
    assert_int_equal(ci.kind, CHUNK_ERROR);
    assert_string_equal(ci.message, "max_tokens is too large");
    ci = decode("{\"error\":{\"type\":\"server_error\",\"code\":500}}");
    assert_string_equal(ci.message, "server_error");
    ci = decode("{\"error\":{\"message\":\"line\\none \\\"quoted\\\" \\u00e9\"}}");
    assert_string_equal(ci.message, "line one \"quoted\" ?");
    /* "error": null is not an error. */
    ci = decode("{\"error\":null,\"choices\":[{\"delta\":{\"content\":\"x\"}}]}");
    assert_int_equal(ci.kind, CHUNK_DATA);
    assert_int_equal(ci.content_events, 1);
}

static void error_event_is_an_error_whatever_its_data(void **state)
{
    (void)state;
    chunk_info ci;
    const char *d = "upstream timed out";
    chunk_decode_event("error", 5, d, strlen(d), &ci);
    assert_int_equal(ci.kind, CHUNK_ERROR);
    assert_string_equal(ci.message, "upstream timed out");
    d = "{\"error\":{\"message\":\"boom\"}}";
    chunk_decode_event("error", 5, d, strlen(d), &ci);
    assert_string_equal(ci.message, "boom");
    d = "{\"choices\":[{\"delta\":{\"content\":\"x\"}}]}";
    chunk_decode_event("", 0, d, strlen(d), &ci);
    assert_int_equal(ci.kind, CHUNK_DATA);
    chunk_decode_event("error", 5, d, strlen(d), &ci);
    assert_int_equal(ci.kind, CHUNK_ERROR);
    assert_int_equal(ci.content_events, 0);
}

static void multi_choice_chunk_counts_each_choice(void **state)
{
    (void)state;
    chunk_info ci = decode("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}},"
                           "{\"index\":1,\"delta\":{\"content\":\"bc\"}},"
                           "{\"index\":2,\"delta\":{\"content\":\"\"},\"finish_reason\":\"stop\"},"
                           "{\"index\":3,\"delta\":{\"reasoning_content\":\"r\"}}]}");
    assert_int_equal(ci.content_events, 2);
    assert_int_equal(ci.content_bytes, 3);
    assert_int_equal(ci.reasoning_events, 1);
    assert_true(ci.finish);
}

static void keys_in_any_order_and_lookalike_keys_ignored(void **state)
{
    (void)state;
    /* usage first, finish before delta; "content" inside logprobs and a "choices" key
     * nested in another object must not count. */
    chunk_info ci = decode(
        "{\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3},\"meta\":{\"choices\":[{"
        "\"delta\":{\"content\":\"no\"}}]},\"choices\":[{\"finish_reason\":\"length\","
        "\"logprobs\":{\"content\":[{\"token\":\"x\",\"logprob\":-0.1}]},\"delta\":{\"role\":"
        "\"assistant\",\"content\":\"yes\"},\"index\":0}],\"id\":\"c\"}");
    assert_int_equal(ci.kind, CHUNK_DATA);
    assert_int_equal(ci.content_events, 1);
    assert_int_equal(ci.content_bytes, 3);
    assert_true(ci.finish);
    assert_true(ci.has_usage);
    assert_int_equal(ci.completion_tokens, 3);
    assert_int_equal(ci.prompt_tokens, 5);
}

static void unicode_escapes_are_non_empty_content(void **state)
{
    (void)state;
    chunk_info ci = decode("{\"choices\":[{\"delta\":{\"content\":\"\\u0000\"}}]}");
    assert_int_equal(ci.content_events, 1);
    assert_int_equal(ci.content_bytes, 1);
    ci = decode("{\"choices\":[{\"delta\":{\"content\":\"\\ud83d\\ude00\\u00e9\\n\"}}]}");
    assert_int_equal(ci.content_events, 1);
    assert_int_equal(ci.content_bytes, 4 + 2 + 1);
}

static void usage_needs_numbers(void **state)
{
    (void)state;
    assert_false(decode("{\"choices\":[],\"usage\":{}}").has_usage);
    assert_false(decode("{\"choices\":[],\"usage\":{\"completion_tokens\":null}}").has_usage);
    assert_false(decode("{\"choices\":[],\"usage\":\"none\"}").has_usage);
    chunk_info ci = decode("{\"choices\":[],\"usage\":{\"completion_tokens\":0,"
                           "\"prompt_tokens\":1234567}}");
    assert_true(ci.has_usage);
    assert_int_equal(ci.completion_tokens, 0);
    assert_int_equal(ci.prompt_tokens, 1234567);
}

static void null_finish_reason_is_not_a_finish(void **state)
{
    (void)state;
    assert_false(decode("{\"choices\":[{\"delta\":{},\"finish_reason\":null}]}").finish);
    assert_true(decode("{\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}").finish);
}

/* More tokens than the stack array: still decoded, and marked. */
static void giant_chunk_decodes_on_the_slow_path(void **state)
{
    (void)state;
    size_t cap = 64 * 1024;
    char *s = malloc(cap);
    size_t o = (size_t)snprintf(s, cap, "{\"choices\":[{\"logprobs\":{\"top\":[");
    for (int k = 0; k < 2000; k++)
        o += (size_t)snprintf(s + o, cap - o, "%s%d", k ? "," : "", k);
    snprintf(s + o, cap - o,
             "]},\"delta\":{\"content\":\"tail\"},\"finish_reason\":\"stop\"}],"
             "\"usage\":{\"completion_tokens\":7}}");
    chunk_info ci = decode(s);
    assert_int_equal(ci.kind, CHUNK_DATA);
    assert_true(ci.slow_path);
    assert_int_equal(ci.content_events, 1);
    assert_true(ci.finish);
    assert_int_equal(ci.completion_tokens, 7);
    s[strlen(s) - 2] = '\0'; /* truncated giant chunk: malformed, not a crash */
    ci = decode(s);
    assert_int_equal(ci.kind, CHUNK_MALFORMED);
    free(s);
    assert_false(decode("{\"choices\":[]}").slow_path);
}

static void non_streaming_message_content(void **state)
{
    (void)state;
    size_t n;
    char *s = load("llama.cpp/chat.json", &n);
    chunk_info ci;
    chunk_decode_message(s, n, &ci);
    assert_int_equal(ci.kind, CHUNK_DATA);
    assert_int_equal(ci.content_events, 1);
    assert_int_equal(ci.content_bytes, strlen("\"Can you catch the"));
    assert_true(ci.finish);
    assert_true(ci.has_usage);
    assert_int_equal(ci.completion_tokens, 8);
    assert_int_equal(ci.prompt_tokens, 43);
    /* As a stream chunk the same body has no delta, so no content. */
    chunk_decode(s, n, &ci);
    assert_int_equal(ci.content_events, 0);
    free(s);
    ci = (chunk_info){0};
    const char *c = "{\"choices\":[{\"text\":\" once upon\",\"finish_reason\":\"length\"}]}";
    chunk_decode_message(c, strlen(c), &ci);
    assert_int_equal(ci.content_events, 1);
}

/* The server's own name for what it runs: pointers into the chunk itself, no copy. */
static void model_and_fingerprint_point_into_the_chunk(void **state)
{
    (void)state;
    static const char c[] =
        "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,"
        "\"model\":\"meta-llama\\/Llama-3.1-8B\",\"system_fingerprint\":\"fp_44709d6fcb\","
        "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"model\":\"nested\"}]}";
    chunk_info ci = decode(c);
    assert_int_equal(ci.kind, CHUNK_DATA);
    assert_int_equal(ci.content_events, 1);
    assert_true(ci.model > c && ci.model + ci.model_len < c + sizeof c);
    assert_int_equal(ci.model_len, strlen("meta-llama\\/Llama-3.1-8B"));
    assert_memory_equal(ci.fingerprint, "fp_44709d6fcb", ci.fingerprint_len);
    char name[64];
    chunk_copy_string(name, sizeof name, ci.model, ci.model_len);
    assert_string_equal(name, "meta-llama/Llama-3.1-8B");
    chunk_copy_string(name, 8, ci.model, ci.model_len); /* cut to fit, terminated */
    assert_string_equal(name, "meta-ll");

    /* absent, null or not a string: nothing */
    ci = decode("{\"model\":null,\"system_fingerprint\":7,\"choices\":[]}");
    assert_null(ci.model);
    assert_int_equal(ci.model_len, 0);
    assert_null(ci.fingerprint);
    ci = decode("{\"choices\":[{\"delta\":{\"content\":\"x\"}}]}");
    assert_null(ci.model);
    /* a whole --no-stream answer carries them too */
    static const char whole[] =
        "{\"model\":\"m1\",\"choices\":[{\"message\":{\"content\":\"x\"}}]}";
    chunk_decode_message(whole, sizeof whole - 1, &ci);
    assert_int_equal(ci.model_len, 2);
}

/* What any decode must leave: a known kind, a terminated message, counts within the input. */
static void check_info(const chunk_info *ci, size_t len, uint64_t seed, int c)
{
    if ((unsigned)ci->kind > CHUNK_MALFORMED || ci->content_events < 0 ||
        ci->reasoning_events < 0 || ci->content_bytes > len ||
        memchr(ci->message, '\0', sizeof ci->message) == NULL ||
        (ci->kind != CHUNK_DATA && (ci->content_events || ci->reasoning_events)))
        fail_msg("seed 0x%llx case %d: kind %d, %d content, %d reasoning, %zu bytes of %zu",
                 (unsigned long long)seed, c, (int)ci->kind, ci->content_events,
                 ci->reasoning_events, ci->content_bytes, len);
}

/* Recorded chunks mutated at random (and a few hostile shapes) go through every decoder:
 * no crash (the sanitizers watch), and every result is well formed. Bounded to 20,000 cases
 * or 5 s; LLM_FUZZ_SEED overrides the seed. */
static void mutated_chunks_decode_to_well_formed_results(void **state)
{
    (void)state;
    static const char *const files[] = {"llama.cpp/chat-stream-usage.sse",
                                        "llama.cpp/completions-stream-usage.sse",
                                        "streams/vllm-chat-usage.sse",
                                        "streams/reasoning-chat-usage.sse",
                                        "llama.cpp/chat.json",
                                        "llama.cpp/error-400-context.json"};
    enum { N_FILES = sizeof files / sizeof files[0], MAX_LINES = 4096 };
    uint64_t seed = tu_fuzz_seed(0xC0FFEEULL), rng = seed;
    char *texts[N_FILES];
    const char *line[MAX_LINES];
    size_t line_len[MAX_LINES], n_lines = 0;
    for (size_t f = 0; f < N_FILES; f++) {
        size_t n;
        texts[f] = load(files[f], &n);
        /* each "data: " payload of a stream, or the whole JSON body */
        if (texts[f][0] == '{' && n_lines < MAX_LINES) {
            line[n_lines] = texts[f];
            line_len[n_lines++] = n;
            continue;
        }
        for (char *p = texts[f]; (p = strstr(p, "data: ")) && n_lines < MAX_LINES;) {
            p += 6;
            char *e = strchr(p, '\n');
            line[n_lines] = p;
            line_len[n_lines++] = e ? (size_t)(e - p) : strlen(p);
            p = e ? e : p + strlen(p);
        }
    }
    assert_true(n_lines > 10);
    time_t end = time(NULL) + 5;
    int c = 0;
    for (; c < 20000 && time(NULL) < end; c++) {
        size_t k = tu_rand(&rng) % n_lines, n;
        char *m = tu_mutate(&rng, line[k], line_len[k], &n);
        chunk_info ci;
        chunk_decode_event("", 0, m, n, &ci);
        check_info(&ci, n, seed, c);
        chunk_decode_event("error", 5, m, n, &ci);
        check_info(&ci, n, seed, c);
        assert_int_equal(ci.kind, CHUNK_ERROR);
        chunk_decode_message(m, n, &ci);
        check_info(&ci, n, seed, c);
        free(m);
    }
    assert_true(c > 100);
    /* hostile shapes: deep nesting, a huge flat array, an unterminated string */
    size_t big = 200000;
    char *h = malloc(big + 1);
    assert_non_null(h);
    memset(h, '[', big);
    h[big] = '\0';
    chunk_info ci;
    chunk_decode(h, big, &ci);
    check_info(&ci, big, seed, -1);
    for (size_t i = 0; i < big; i++)
        h[i] = i == 0 ? '[' : i + 1 == big ? ']' : (i % 2 ? '0' : ',');
    chunk_decode(h, big, &ci);
    check_info(&ci, big, seed, -2);
    memcpy(h, "{\"choices\":[{\"delta\":{\"content\":\"", 33);
    memset(h + 33, 'x', big - 33);
    chunk_decode(h, big, &ci);
    check_info(&ci, big, seed, -3);
    assert_int_equal(ci.kind, CHUNK_MALFORMED);
    free(h);
    for (size_t f = 0; f < N_FILES; f++)
        free(texts[f]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(llama_role_chunk_with_null_content_is_not_content),
        cmocka_unit_test(llama_usage_matches_count_of_content_chunks),
        cmocka_unit_test(llama_final_chunk_gives_the_server_timings),
        cmocka_unit_test(llama_stream_without_include_usage_has_no_usage),
        cmocka_unit_test(completions_text_counts_as_content),
        cmocka_unit_test(vllm_role_chunk_with_empty_content_and_usage_chunk),
        cmocka_unit_test(openai_usage_null_is_not_usage),
        cmocka_unit_test(reasoning_stream_counts_reasoning_then_content),
        cmocka_unit_test(done_marker_with_surrounding_whitespace),
        cmocka_unit_test(malformed_chunks_say_why),
        cmocka_unit_test(error_objects_give_their_message),
        cmocka_unit_test(error_event_is_an_error_whatever_its_data),
        cmocka_unit_test(multi_choice_chunk_counts_each_choice),
        cmocka_unit_test(keys_in_any_order_and_lookalike_keys_ignored),
        cmocka_unit_test(unicode_escapes_are_non_empty_content),
        cmocka_unit_test(usage_needs_numbers),
        cmocka_unit_test(null_finish_reason_is_not_a_finish),
        cmocka_unit_test(giant_chunk_decodes_on_the_slow_path),
        cmocka_unit_test(non_streaming_message_content),
        cmocka_unit_test(model_and_fingerprint_point_into_the_chunk),
        cmocka_unit_test(mutated_chunks_decode_to_well_formed_results),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
