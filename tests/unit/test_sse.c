/* Tests for proto/sse: the incremental SSE parser against the llama.cpp recordings and the
 * synthetic vLLM/OpenAI/reasoning streams, split every way, with every line ending. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "proto/sse.h"
#include "testutil.h"

/* Every dispatched event, serialised as "<event>|<data>\x1e" so two runs compare as
 * strings. */
typedef struct {
    char *log;
    size_t len, cap;
    int events;
    int stop_after; /* callback returns 7 after this many events; 0 = never */
} rec;

static void rec_add(rec *r, const char *s, size_t n)
{
    if (r->len + n + 1 > r->cap) {
        r->cap = (r->len + n + 1) * 2;
        r->log = realloc(r->log, r->cap);
        assert_non_null(r->log);
    }
    memcpy(r->log + r->len, s, n);
    r->len += n;
    r->log[r->len] = '\0';
}

static int rec_event(void *user, const char *event, size_t event_len, const char *data,
                     size_t data_len)
{
    rec *r = user;
    rec_add(r, event, event_len);
    rec_add(r, "|", 1);
    rec_add(r, data, data_len);
    rec_add(r, "\x1e", 1);
    r->events++;
    return (r->stop_after && r->events >= r->stop_after) ? 7 : 0;
}

static void rec_reset(rec *r)
{
    r->len = 0;
    r->events = 0;
    if (r->log)
        r->log[0] = '\0';
}

static const char *rec_str(rec *r)
{
    return r->log ? r->log : "";
}

/* Feeds s in pieces cut at the given offsets (ascending); returns the OR of non-OK
 * results (any overflow shows) and the sse_finish pending count in *pending. */
static int feed_cuts(const char *s, size_t n, const size_t *cuts, size_t ncuts, size_t cap, rec *r,
                     size_t *pending)
{
    char *buf = malloc(cap);
    sse_parser p;
    sse_init(&p, buf, cap);
    int result = SSE_OK;
    size_t at = 0;
    for (size_t k = 0; k <= ncuts; k++) {
        size_t to = k < ncuts ? cuts[k] : n;
        int rc = sse_feed(&p, s + at, to - at, rec_event, r);
        if (rc != SSE_OK)
            result = rc;
        at = to;
    }
    size_t pend = sse_finish(&p);
    if (pending)
        *pending = pend;
    free(buf);
    return result;
}

static int feed_whole(const char *s, size_t n, size_t cap, rec *r)
{
    return feed_cuts(s, n, NULL, 0, cap, r, NULL);
}

static void feed_bytewise(const char *s, size_t n, size_t cap, rec *r)
{
    char *buf = malloc(cap);
    sse_parser p;
    sse_init(&p, buf, cap);
    for (size_t k = 0; k < n; k++)
        assert_int_equal(sse_feed(&p, s + k, 1, rec_event, r), SSE_OK);
    assert_int_equal(sse_finish(&p), 0);
    free(buf);
}

static const char *fixtures[] = {
    "llama.cpp/chat-stream-usage.sse",        "llama.cpp/chat-stream.sse",
    "llama.cpp/completions-stream-usage.sse", "streams/vllm-chat-usage.sse",
    "streams/openai-chat-usage.sse",          "streams/reasoning-chat-usage.sse",
};
#define N_FIXTURES (sizeof fixtures / sizeof fixtures[0])

static char *load(const char *rel, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", LLM_FIXTURES, rel);
    char *s = tu_read_file(path, len);
    assert_non_null(s);
    return s;
}

/* What the stream must yield: one event per "data: " line of the LF fixture. */
static void expected_from_lines(const char *s, rec *want)
{
    const char *line = s;
    while (*line) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if (n > 6 && memcmp(line, "data: ", 6) == 0)
            rec_event(want, "", 0, line + 6, n - 6);
        line = nl ? nl + 1 : line + n;
    }
}

/* Replaces every LF with eol. */
static char *with_eol(const char *s, size_t n, const char *eol, size_t *out_len)
{
    size_t el = strlen(eol), o = 0;
    char *out = malloc(n * el + 1);
    for (size_t k = 0; k < n; k++) {
        if (s[k] == '\n') {
            memcpy(out + o, eol, el);
            o += el;
        } else {
            out[o++] = s[k];
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

static void fixtures_whole_yield_one_event_per_data_line(void **state)
{
    (void)state;
    for (size_t f = 0; f < N_FIXTURES; f++) {
        size_t n;
        char *s = load(fixtures[f], &n);
        rec want = {0}, got = {0};
        expected_from_lines(s, &want);
        assert_true(want.events >= 10);
        assert_int_equal(feed_whole(s, n, 65536, &got), SSE_OK);
        assert_int_equal(got.events, want.events);
        assert_string_equal(rec_str(&got), rec_str(&want));
        free(want.log);
        free(got.log);
        free(s);
    }
}

/* For each fixture and line ending (LF, CRLF, CR): whole, byte by byte, and cut at every
 * offset give the same events. The CRLF cut between CR and LF must count as one end. */
static void fixtures_split_at_every_offset_with_every_line_ending(void **state)
{
    (void)state;
    const char *eols[] = {"\n", "\r\n", "\r"};
    for (size_t f = 0; f < N_FIXTURES; f++) {
        size_t n0;
        char *s0 = load(fixtures[f], &n0);
        rec want = {0};
        expected_from_lines(s0, &want);
        for (size_t e = 0; e < 3; e++) {
            size_t n;
            char *s = with_eol(s0, n0, eols[e], &n);
            rec got = {0};
            feed_bytewise(s, n, 65536, &got);
            assert_string_equal(rec_str(&got), rec_str(&want));
            for (size_t cut = 0; cut <= n; cut++) {
                rec_reset(&got);
                size_t pending = 99;
                assert_int_equal(feed_cuts(s, n, &cut, 1, 65536, &got, &pending), SSE_OK);
                assert_int_equal(pending, 0);
                if (strcmp(rec_str(&got), rec_str(&want)) != 0)
                    fail_msg("%s eol %zu cut at %zu: events differ", fixtures[f], e, cut);
            }
            free(got.log);
            free(s);
        }
        free(want.log);
        free(s0);
    }
}

/* A short stream exercising every rule, cut at every pair of offsets. */
static const char tricky[] = "\xEF\xBB\xBF"
                             ": keep-alive\r\n"
                             "event: error\n"
                             "data: {\"error\":\"x\"}\r"
                             "\r"
                             "id: 7\n"
                             "retry: 1000\n"
                             "data:first\r\n"
                             "data:  second\n"
                             "data\n"
                             "\n"
                             "event: ping\n"
                             "\n"
                             "data: [DONE]\r\n\r\n";
static const char tricky_events[] = "error|{\"error\":\"x\"}\x1e"
                                    "|first\n second\n\x1e"
                                    "|[DONE]\x1e";

static void short_stream_split_at_every_pair_of_offsets(void **state)
{
    (void)state;
    size_t n = sizeof tricky - 1;
    rec got = {0};
    for (size_t a = 0; a <= n; a++) {
        for (size_t b = a; b <= n; b++) {
            size_t cuts[2] = {a, b};
            rec_reset(&got);
            size_t pending = 99;
            assert_int_equal(feed_cuts(tricky, n, cuts, 2, 256, &got, &pending), SSE_OK);
            assert_int_equal(pending, 0);
            if (strcmp(rec_str(&got), tricky_events) != 0)
                fail_msg("cuts %zu,%zu: got [%s]", a, b, rec_str(&got));
        }
    }
    free(got.log);
}

static void expect_events(const char *stream, const char *want)
{
    rec got = {0};
    feed_whole(stream, strlen(stream), 256, &got);
    assert_string_equal(rec_str(&got), want);
    free(got.log);
}

static void comment_lines_are_ignored(void **state)
{
    (void)state;
    expect_events(":\n: ping\ndata: a\n:data: b\n\n", "|a\x1e");
}

static void multi_line_data_is_joined_with_lf(void **state)
{
    (void)state;
    expect_events("data: a\ndata: b\ndata:\ndata: c\n\n", "|a\nb\n\nc\x1e");
}

static void only_one_leading_space_is_stripped(void **state)
{
    (void)state;
    expect_events("data:x\n\ndata:  y\n\ndata:\tz\n\n", "|x\x1e| y\x1e|\tz\x1e");
}

static void field_without_colon_has_empty_value(void **state)
{
    (void)state;
    expect_events("data\n\nevent\ndata: v\n\n", "|\x1e|v\x1e");
}

static void event_name_applies_to_one_event_only(void **state)
{
    (void)state;
    expect_events("event: error\ndata: boom\n\ndata: next\n\n", "error|boom\x1e|next\x1e");
}

static void event_without_data_is_not_dispatched(void **state)
{
    (void)state;
    /* Its event name must not leak into the following event either. */
    expect_events("event: ping\n\nid: 3\nretry: 10\n\ndata: x\n\n", "|x\x1e");
}

static void id_retry_and_unknown_fields_are_ignored(void **state)
{
    (void)state;
    expect_events("id: 1\nretry: 5\nfoo: bar\ndata: x\nid\n\n", "|x\x1e");
}

static void bom_is_skipped_also_when_split(void **state)
{
    (void)state;
    const char s[] = "\xEF\xBB\xBF"
                     "data: x\n\n";
    for (size_t a = 0; a <= 3; a++)
        for (size_t b = a; b <= 4; b++) {
            rec got = {0};
            size_t cuts[2] = {a, b};
            feed_cuts(s, sizeof s - 1, cuts, 2, 64, &got, NULL);
            assert_string_equal(rec_str(&got), "|x\x1e");
            free(got.log);
        }
}

static void bom_later_in_stream_or_partial_is_text(void **state)
{
    (void)state;
    /* A partial BOM is a field name, so the line is an unknown field: no event. The
     * second BOM is inside the data. */
    expect_events("\xEF\xBB"
                  "data: x\n\ndata: \xEF\xBB\xBFy\n\n",
                  "|\xEF\xBB\xBFy\x1e");
    expect_events("\xEF"
                  "\n\ndata: z\n\n",
                  "|z\x1e");
}

static void cr_then_lf_in_next_feed_is_one_line_end(void **state)
{
    (void)state;
    const char s[] = "data: a\rdata: b\r\n\r\n";
    size_t cut = 8; /* right after the first CR: "data: a\r" | "data: b..." */
    rec got = {0};
    feed_cuts(s, sizeof s - 1, &cut, 1, 64, &got, NULL);
    assert_string_equal(rec_str(&got), "|a\nb\x1e");
    rec_reset(&got);
    const char t[] = "data: a\r\ndata: b\r\n\r\n";
    size_t cuts[2] = {8, 9}; /* the LF alone in its own feed */
    feed_cuts(t, sizeof t - 1, cuts, 2, 64, &got, NULL);
    assert_string_equal(rec_str(&got), "|a\nb\x1e");
    free(got.log);
}

static void overlong_line_overflows_then_resyncs_at_blank_line(void **state)
{
    (void)state;
    char s[512];
    char big[200];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    snprintf(s, sizeof s, "data: ok1\n\ndata: %s\ndata: still-dropped\n\ndata: ok2\n\n", big);
    size_t n = strlen(s);
    for (size_t cut = 0; cut <= n; cut++) {
        rec got = {0};
        size_t pending = 99;
        int rc = feed_cuts(s, n, &cut, 1, 64, &got, &pending);
        assert_int_equal(rc, SSE_ERR_OVERFLOW);
        assert_int_equal(pending, 0);
        assert_string_equal(rec_str(&got), "|ok1\x1e|ok2\x1e");
        free(got.log);
    }
}

static void overlong_event_of_many_lines_overflows(void **state)
{
    (void)state;
    char s[2048] = "";
    for (int k = 0; k < 40; k++)
        strcat(s, "data: 0123456789\n");
    strcat(s, "\ndata: after\n\n");
    rec got = {0};
    assert_int_equal(feed_whole(s, strlen(s), 256, &got), SSE_ERR_OVERFLOW);
    assert_string_equal(rec_str(&got), "|after\x1e");
    free(got.log);
}

static void event_that_fills_buffer_exactly_fits(void **state)
{
    (void)state;
    /* cap 16: "data: " + 10 bytes is a 16-byte line; the data itself is 10 bytes. */
    rec got = {0};
    assert_int_equal(feed_whole("data: 0123456789\n\n", 18, 16, &got), SSE_OK);
    assert_string_equal(rec_str(&got), "|0123456789\x1e");
    free(got.log);
}

static void finish_reports_a_stream_cut_mid_event(void **state)
{
    (void)state;
    const char *cut_stream[] = {"data: {\"choices\":[", "data: x\n", "data:\n", "data: x\n\ndata"};
    for (size_t k = 0; k < 4; k++) {
        rec got = {0};
        size_t pending = 0;
        feed_cuts(cut_stream[k], strlen(cut_stream[k]), NULL, 0, 64, &got, &pending);
        assert_true(pending > 0);
        free(got.log);
    }
    rec got = {0};
    size_t pending = 99;
    feed_cuts("data: x\n\n", 9, NULL, 0, 64, &got, &pending);
    assert_int_equal(pending, 0);
    assert_int_equal(got.events, 1);
    free(got.log);
}

static void finish_resets_parser_for_reuse(void **state)
{
    (void)state;
    char buf[64];
    sse_parser p;
    rec got = {0};
    sse_init(&p, buf, sizeof buf);
    sse_feed(&p, "data: half", 10, rec_event, &got);
    assert_true(sse_finish(&p) > 0);
    /* A new stream on the same parser: its BOM is skipped again, nothing leaks over. */
    sse_feed(&p,
             "\xEF\xBB\xBF"
             "data: new\n\n",
             14, rec_event, &got);
    assert_string_equal(rec_str(&got), "|new\x1e");
    assert_int_equal(p.events, 1);
    free(got.log);
}

static void callback_nonzero_stops_parsing(void **state)
{
    (void)state;
    char buf[64];
    sse_parser p;
    rec got = {.stop_after = 1};
    sse_init(&p, buf, sizeof buf);
    const char *s = "data: a\n\ndata: b\n\n";
    assert_int_equal(sse_feed(&p, s, strlen(s), rec_event, &got), 7);
    assert_int_equal(got.events, 1);
    free(got.log);
}

/* Mutated recordings: whatever the bytes, nothing crashes, and cutting them anywhere changes
 * nothing — the same events and the same overflow verdict as fed whole. Bounded to 20,000
 * cases or 5 s; the seed is in the failure message (LLM_FUZZ_SEED overrides it). */
static void mutated_streams_parse_the_same_split_or_whole(void **state)
{
    (void)state;
    uint64_t seed = tu_fuzz_seed(0x5EED5EEDULL), rng = seed;
    size_t lens[N_FIXTURES];
    char *src[N_FIXTURES];
    for (size_t f = 0; f < N_FIXTURES; f++)
        src[f] = load(fixtures[f], &lens[f]);
    static const size_t caps[] = {48, 200, 4096, 65536};
    rec whole = {0}, split = {0};
    time_t end = time(NULL) + 5;
    int cases = 0;
    for (; cases < 20000 && time(NULL) < end; cases++) {
        size_t f = tu_rand(&rng) % N_FIXTURES, n;
        char *m = tu_mutate(&rng, src[f], lens[f], &n);
        size_t cap = caps[tu_rand(&rng) % 4], cuts[8], ncuts = n ? tu_rand(&rng) % 8 : 0;
        for (size_t k = 0; k < ncuts; k++)
            cuts[k] = (size_t)(tu_rand(&rng) % (n + 1));
        for (size_t a = 1; a < ncuts; a++) /* ascending */
            for (size_t b = a; b > 0 && cuts[b - 1] > cuts[b]; b--) {
                size_t t = cuts[b];
                cuts[b] = cuts[b - 1];
                cuts[b - 1] = t;
            }
        rec_reset(&whole);
        rec_reset(&split);
        size_t pend_whole, pend_split;
        int rc_whole = feed_cuts(m, n, NULL, 0, cap, &whole, &pend_whole);
        int rc_split = feed_cuts(m, n, cuts, ncuts, cap, &split, &pend_split);
        if (rc_whole != rc_split || strcmp(rec_str(&whole), rec_str(&split)) != 0 ||
            pend_whole != pend_split) {
            char path[512];
            snprintf(path, sizeof path, "%s/fuzz-case.sse", tu_tmpdir());
            FILE *keep = fopen(path, "wb");
            if (keep) {
                fwrite(m, 1, n, keep);
                fclose(keep);
            }
            fail_msg("seed 0x%llx case %d (fixture %s, cap %zu, %zu cuts): fed whole, %d events "
                     "rc %d; cut, %d events rc %d; the bytes are in %s",
                     (unsigned long long)seed, cases, fixtures[f], cap, ncuts, whole.events,
                     rc_whole, split.events, rc_split, path);
        }
        free(m);
    }
    assert_true(cases > 100);
    free(whole.log);
    free(split.log);
    for (size_t f = 0; f < N_FIXTURES; f++)
        free(src[f]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixtures_whole_yield_one_event_per_data_line),
        cmocka_unit_test(fixtures_split_at_every_offset_with_every_line_ending),
        cmocka_unit_test(short_stream_split_at_every_pair_of_offsets),
        cmocka_unit_test(comment_lines_are_ignored),
        cmocka_unit_test(multi_line_data_is_joined_with_lf),
        cmocka_unit_test(only_one_leading_space_is_stripped),
        cmocka_unit_test(field_without_colon_has_empty_value),
        cmocka_unit_test(event_name_applies_to_one_event_only),
        cmocka_unit_test(event_without_data_is_not_dispatched),
        cmocka_unit_test(id_retry_and_unknown_fields_are_ignored),
        cmocka_unit_test(bom_is_skipped_also_when_split),
        cmocka_unit_test(bom_later_in_stream_or_partial_is_text),
        cmocka_unit_test(cr_then_lf_in_next_feed_is_one_line_end),
        cmocka_unit_test(overlong_line_overflows_then_resyncs_at_blank_line),
        cmocka_unit_test(overlong_event_of_many_lines_overflows),
        cmocka_unit_test(event_that_fills_buffer_exactly_fits),
        cmocka_unit_test(finish_reports_a_stream_cut_mid_event),
        cmocka_unit_test(finish_resets_parser_for_reuse),
        cmocka_unit_test(callback_nonzero_stops_parsing),
        cmocka_unit_test(mutated_streams_parse_the_same_split_or_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
