/* Tests for engine/workload: bodies written per request (lengths drawn, shared prefixes,
 * trace blocks), and the workloads end to end — the llmload binary against the simulator,
 * checking what the server received. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/dist.h"
#include "engine/workload.h"
#include "run/poolcal.h"
#include "sim/sim.h"
#include "sim/sim_tok.h"
#include "testutil.h"

/* The simulator's chat template: what it counts beyond the text of one user message. */
#define SIM_CHAT_TOKENS (SIMTOK_PRIMER + SIMTOK_PER_MESSAGE)

/* The calibration's probes (before the load) ask for one token: the load's requests, in
 * order, are the rest. */
static void drop_probes(sim_received *got, size_t *n)
{
    size_t k = 0;
    for (size_t i = 0; i < *n; i++)
        if (got[i].max_tokens != 1)
            got[k++] = got[i];
    *n = k;
}

static llm_config base_config(void)
{
    llm_config c;
    memset(&c, 0, sizeof c);
    c.prompt_chars = 200;
    c.max_tokens = 64;
    c.temperature = -1;
    return c;
}

static void parse_spec(llm_dist *d, const char *spec)
{
    char err[256];
    if (dist_parse(spec, d, err, sizeof err) != 0)
        fail_msg("%s", err);
}

static const char *content_of(cJSON *body)
{
    cJSON *msgs = cJSON_GetObjectItem(body, "messages");
    if (msgs)
        return cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 0), "content")->valuestring;
    return cJSON_GetObjectItem(body, "prompt")->valuestring;
}

/* Writes one body and parses it back. */
static cJSON *write_one(const workload *w, const wl_request *req, uint64_t n, char *buf,
                        prompt_body *pb)
{
    uint64_t rng = n * 31 + 1;
    workload_write(w, req, n, &rng, buf, pb);
    assert_true(pb->len < w->body_cap);
    assert_int_equal(strlen(buf), pb->len);
    cJSON *doc = cJSON_Parse(buf);
    if (!doc)
        fail_msg("not JSON: %.200s", buf);
    return doc;
}

static void drawn_lengths_set_the_prompt_and_max_tokens_of_each_body(void **state)
{
    (void)state;
    llm_config c = base_config();
    c.ignore_eos = true;
    parse_spec(&c.input_tokens, "uniform:10:400");
    parse_spec(&c.output_tokens, "lognormal:100:0.7:5:900");
    workload w;
    char err[256];
    assert_int_equal(workload_init(&w, &c, "m", err, sizeof err), 0);
    assert_true(w.active);
    char *buf = malloc(w.body_cap);
    uint64_t rng = 5;
    for (uint64_t n = 1; n <= 300; n++) {
        wl_request req;
        workload_draw(&w, &rng, &req);
        assert_true(req.input_tokens >= 10 && req.input_tokens <= 400);
        assert_true(req.output_tokens >= 5 && req.output_tokens <= 900);
        prompt_body pb;
        cJSON *doc = write_one(&w, &req, n, buf, &pb);
        assert_int_equal(strlen(content_of(doc)), 4 * req.input_tokens);
        assert_int_equal(pb.prompt_chars, 4 * req.input_tokens);
        assert_int_equal(pb.input_tokens, req.input_tokens);
        assert_int_equal(cJSON_GetObjectItem(doc, "max_tokens")->valueint, req.output_tokens);
        assert_int_equal(cJSON_GetObjectItem(doc, "min_tokens")->valueint, req.output_tokens);
        assert_int_equal(pb.max_tokens, req.output_tokens);
        assert_string_equal(cJSON_GetObjectItem(doc, "model")->valuestring, "m");
        cJSON_Delete(doc);
    }
    free(buf);
    workload_free(&w);
}

/* The shared prefix comes first and is the same for one group; the nonce right after it
 * makes each request's remainder its own. */
static void requests_of_one_group_share_the_prefix_and_then_differ(void **state)
{
    (void)state;
    llm_config c = base_config();
    c.endpoint = LLM_ENDPOINT_COMPLETIONS;
    c.prefix_tokens = 100;
    c.prefix_groups = 3;
    parse_spec(&c.input_tokens, "50");
    workload w;
    char err[256];
    assert_int_equal(workload_init(&w, &c, NULL, err, sizeof err), 0);
    char *buf = malloc(w.body_cap);
    char *first[3] = {NULL, NULL, NULL};
    int seen[3] = {0, 0, 0};
    uint64_t rng = 9;
    for (uint64_t n = 1; n <= 60; n++) {
        wl_request req;
        workload_draw(&w, &rng, &req);
        assert_true(req.group >= 0 && req.group < 3);
        seen[req.group]++;
        prompt_body pb;
        cJSON *doc = write_one(&w, &req, n, buf, &pb);
        const char *text = content_of(doc);
        assert_int_equal(strlen(text), 4 * (100 + 50));
        if (!first[req.group]) {
            first[req.group] = strdup(text);
        } else {
            assert_memory_equal(text, first[req.group], 400);                /* the prefix */
            assert_memory_not_equal(text + 400, first[req.group] + 400, 12); /* the nonce */
        }
        cJSON_Delete(doc);
    }
    for (int g = 0; g < 3; g++) {
        assert_true(seen[g] > 5);
        for (int h = g + 1; h < 3; h++)
            assert_memory_not_equal(first[g], first[h], 400);
        free(first[g]);
    }
    free(buf);
    workload_free(&w);
}

/* A trace's hash_ids: the same id gives the same block wherever it appears. */
static void trace_blocks_with_the_same_id_send_the_same_text(void **state)
{
    (void)state;
    llm_config c = base_config();
    c.endpoint = LLM_ENDPOINT_COMPLETIONS;
    parse_spec(&c.input_tokens, "20");
    workload w;
    char err[256];
    assert_int_equal(workload_init(&w, &c, NULL, err, sizeof err), 0);
    size_t cap = workload_body_size(&w, 20, 3);
    char *a = malloc(cap), *b = malloc(cap);
    uint32_t ids_a[3] = {7, 8, 9}, ids_b[2] = {7, 8};
    wl_request ra = {20, 10, -1, ids_a, 3}, rb = {20, 10, -1, ids_b, 2};
    prompt_body pa, pbb;
    uint64_t rng = 1;
    workload_write(&w, &ra, 1, &rng, a, &pa);
    workload_write(&w, &rb, 2, &rng, b, &pbb);
    assert_true(pa.len < cap);
    cJSON *da = cJSON_Parse(a), *db = cJSON_Parse(b);
    const char *ta = content_of(da), *tb = content_of(db);
    size_t block = 4 * WORKLOAD_BLOCK_TOKENS;
    assert_int_equal(strlen(ta), 3 * block + 80);
    assert_memory_equal(ta, tb, 2 * block);
    assert_memory_not_equal(ta + 2 * block, tb + 2 * block, 16);
    cJSON_Delete(da);
    cJSON_Delete(db);
    free(a);
    free(b);
    workload_free(&w);
}

/* --turns: turn k's body holds user 1, the answers as streamed (escaped bytes copied in),
 * ..., user k — valid JSON that grows by turn. */
static void each_turn_carries_the_history_with_the_streamed_answers(void **state)
{
    (void)state;
    llm_config c = base_config();
    c.turns = 3;
    parse_spec(&c.input_tokens, "uniform:10:30");
    parse_spec(&c.output_tokens, "8");
    workload w;
    char err[256];
    assert_int_equal(workload_init(&w, &c, "m", err, sizeof err), 0);
    wl_convo conv;
    assert_int_equal(workload_convo_init(&w, 3, &conv), 0);
    conv.turns = 3;
    size_t cap = workload_convo_body_size(&w, 3);
    char *buf = malloc(cap);
    uint64_t rng = 4;
    workload_convo_start(&w, &conv, 77, &rng, 3, NULL);
    static const char *const answers[2][2] = {{"Hello", " \\\"world\\\""}, {"caf\\u00e9", " ok"}};
    size_t last_len = 0;
    for (int t = 0; t < 3; t++) {
        prompt_body pb;
        workload_write_turn(&w, &conv, buf, &pb);
        assert_true(pb.len < cap);
        assert_true(pb.len > last_len);
        last_len = pb.len;
        cJSON *doc = cJSON_Parse(buf);
        if (!doc)
            fail_msg("turn %d is not JSON: %s", t + 1, buf);
        cJSON *msgs = cJSON_GetObjectItem(doc, "messages");
        assert_int_equal(cJSON_GetArraySize(msgs), 2 * t + 1);
        if (t >= 1) {
            cJSON *a = cJSON_GetArrayItem(msgs, 1);
            assert_string_equal(cJSON_GetObjectItem(a, "role")->valuestring, "assistant");
            assert_string_equal(cJSON_GetObjectItem(a, "content")->valuestring, "Hello \"world\"");
        }
        if (t == 2) {
            cJSON *a = cJSON_GetArrayItem(msgs, 3);
            assert_string_equal(cJSON_GetObjectItem(a, "content")->valuestring, "caf\xC3\xA9 ok");
            assert_string_equal(
                cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 4), "role")->valuestring, "user");
        }
        assert_int_equal(cJSON_GetObjectItem(doc, "max_tokens")->valueint, 8);
        cJSON_Delete(doc);
        if (t < 2)
            for (int k = 0; k < 2; k++) /* the stream's content pieces, escaped as sent */
                workload_convo_capture(&conv, answers[t][k], strlen(answers[t][k]));
        conv.capturing = false;
    }
    assert_int_equal(conv.turn, 3);
    free(buf);
    workload_convo_free(&conv);
    workload_free(&w);
}

static void no_workload_option_leaves_the_classic_bodies(void **state)
{
    (void)state;
    llm_config c = base_config();
    workload w;
    char err[256];
    assert_int_equal(workload_init(&w, &c, "m", err, sizeof err), 0);
    assert_false(w.active);
    workload_free(&w);
}

/* ---- end to end, against the simulator ---- */

static cJSON *path_of(cJSON *o, const char *a, const char *b)
{
    cJSON *x = cJSON_GetObjectItem(o, a);
    return b ? cJSON_GetObjectItem(x, b) : x;
}

/* Counts per value from a snapshot histogram whose values are all below 128 (one bucket
 * per value: exact). */
static long hist_counts(cJSON *h, long *count, long cap)
{
    long total = 0;
    cJSON *b;
    cJSON_ArrayForEach(b, cJSON_GetObjectItem(h, "buckets"))
    {
        long low = (long)cJSON_GetArrayItem(b, 0)->valuedouble;
        long high = (long)cJSON_GetArrayItem(b, 1)->valuedouble;
        long n = (long)cJSON_GetArrayItem(b, 2)->valuedouble;
        assert_int_equal(high, low + 1);
        assert_true(low < cap);
        count[low] += n;
        total += n;
    }
    return total;
}

/* Chi-square of exact counts against the asked distribution, over bins of >= 5% mass;
 * asserts it passes at the 0.001 level. */
static void assert_counts_fit(const long *count, long total, const char *spec)
{
    llm_dist d;
    parse_spec(&d, spec);
    double chi = 0, prev = 0;
    long have = 0;
    int bins = 0;
    for (long k = d.min; k <= d.max; k++) {
        have += count[k];
        double p = dist_cdf(&d, k) - prev;
        if (p < 0.05 && k < d.max)
            continue;
        double expect = p * (double)total;
        chi += (have - expect) * (have - expect) / expect;
        prev += p;
        have = 0;
        bins++;
    }
    int df = bins - 1;
    double h = 2.0 / (9.0 * df), crit = df * pow(1 - h + 3.0902 * sqrt(h), 3);
    if (chi > crit)
        fail_msg("%s: chi-square %.1f > %.1f (df %d)", spec, chi, crit, df);
    for (long k = 0; k < d.min; k++)
        assert_int_equal(count[k], 0);
}

/* What the server received: its usage counts the prompt it got and the tokens it made for
 * max_tokens (ignore_eos); the snapshot's exact histograms hold one count per request. */
static void lengths_the_server_received_fit_the_asked_distributions(void **state)
{
    (void)state;
    sim_options o;
    sim_options_default(&o);
    o.decode_rate = 20000;
    o.prefill_rate = 1e6;
    o.base_latency_s = 0.001;
    o.slots = 64;
    tu_sim *f = tu_sim_start(&o);
    char *argv[] = {LLM_BINARY,
                    "run",
                    "--url",
                    f->url,
                    "-c",
                    "16",
                    "-n",
                    "1500",
                    "--input-tokens",
                    "uniform:20:120",
                    "--output-tokens",
                    "normal:50:20:2:110",
                    "--ignore-eos",
                    "--seed",
                    "11",
                    "--json",
                    f->json,
                    NULL};
    tu_result r;
    tu_run(argv, NULL, NULL, 120, &r);
    if (r.exit_code != 0)
        fail_msg("exit %d: %s", r.exit_code, r.err);
    /* the header says what is sent: lengths exact by the server's tokenizer */
    assert_non_null(strstr(r.err, "; in uniform:20:120 tok, out normal:50:20:2:110"));
    assert_non_null(strstr(r.err, "input lengths exact by the server's tokenizer: /tokenize"));
    tu_result_free(&r);
    cJSON *doc = tu_load_json(f->json);
    cJSON *totals = cJSON_GetObjectItem(doc, "totals");
    long in[128] = {0}, out[128] = {0};
    long n_in = hist_counts(path_of(totals, "histograms", "input_tokens"), in, 128);
    long n_out = hist_counts(path_of(totals, "histograms", "output_tokens"), out, 128);
    assert_int_equal(n_in, 1500);
    assert_int_equal(n_out, 1500);
    assert_counts_fit(in, n_in, "uniform:20:120");
    assert_counts_fit(out, n_out, "normal:50:20:2:110");
    /* the summary and what the config says was sent */
    cJSON *sum = cJSON_GetObjectItem(totals, "output_tokens");
    assert_true(fabs(cJSON_GetObjectItem(sum, "mean")->valuedouble - 50) < 3);
    assert_true(cJSON_GetObjectItem(sum, "max")->valuedouble <= 110);
    assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(totals, "input_tokens"), "p90") != NULL);
    cJSON *wl = path_of(doc, "config", "workload");
    assert_string_equal(cJSON_GetObjectItem(wl, "input_tokens")->valuestring, "uniform:20:120");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(wl, "input_exact")));
    assert_string_equal(path_of(wl, "input_calibration", "method")->valuestring, "tokenize");
    /* with ignore_eos nothing ends early */
    assert_int_equal(path_of(totals, "tokens", "ended_early")->valueint, 0);
    cJSON_Delete(doc);
    tu_sim_stop(f);
}

/* Without ignore_eos the simulator stops early (its mean output is 20): the share of
 * answers that ended before max_tokens is recorded. */
static void answers_that_end_before_max_tokens_are_counted(void **state)
{
    (void)state;
    sim_options o;
    sim_options_default(&o);
    o.decode_rate = 20000;
    o.mean_output = 20;
    tu_sim *f = tu_sim_start(&o);
    char *argv[] = {LLM_BINARY, "run", "--url",           f->url,           "-c",     "8",
                    "-n",       "200", "--output-tokens", "uniform:60:100", "--json", f->json,
                    NULL};
    tu_result r;
    tu_run(argv, NULL, NULL, 120, &r);
    assert_int_equal(r.exit_code, 0);
    tu_result_free(&r);
    cJSON *doc = tu_load_json(f->json);
    cJSON *tokens = path_of(doc, "totals", "tokens");
    assert_int_equal(cJSON_GetObjectItem(tokens, "asked_output")->valueint, 200);
    assert_true(cJSON_GetObjectItem(tokens, "ended_early_share")->valuedouble > 0.8);
    cJSON_Delete(doc);
    tu_sim_stop(f);
}

/* One prefix run against the simulator's cache; returns the snapshot. */
static cJSON *prefix_run(const char *groups, char *report, size_t report_cap)
{
    sim_options o;
    sim_options_default(&o);
    o.decode_rate = 5000;
    o.prefill_rate = 20000; /* a 1024-token prefix takes 51 ms to prefill */
    o.base_latency_s = 0.005;
    o.prefix_cache_tokens = 1000000;
    tu_sim *f = tu_sim_start(&o);
    char *argv[] = {LLM_BINARY,
                    "run",
                    "--url",
                    f->url,
                    "-c",
                    "2",
                    "-n",
                    "80",
                    "--prefix-tokens",
                    "1024",
                    "--prefix-groups",
                    (char *)groups,
                    "--input-tokens",
                    "32",
                    "--output-tokens",
                    "4",
                    "--ignore-eos",
                    "--seed",
                    "3",
                    "--json",
                    f->json,
                    NULL};
    tu_result r;
    tu_run(argv, NULL, NULL, 120, &r);
    if (r.exit_code != 0)
        fail_msg("exit %d: %s", r.exit_code, r.err);
    tu_result_free(&r);
    cJSON *doc = tu_load_json(f->json);
    if (report) {
        char *rep[] = {LLM_BINARY, "report", f->json, NULL};
        tu_run(rep, NULL, NULL, 30, &r);
        assert_int_equal(r.exit_code, 0);
        snprintf(report, report_cap, "%s", r.out);
        tu_result_free(&r);
        char *csv[] = {LLM_BINARY, "report", f->json, "--format", "csv", NULL};
        tu_run(csv, NULL, NULL, 30, &r);
        assert_int_equal(r.exit_code, 0);
        assert_non_null(strstr(r.out, ",cache_hit_pct,cached_tokens,ttft_cache_hit_p50_ms,"));
        tu_result_free(&r);
    }
    tu_sim_stop(f);
    return doc;
}

static double num_at(cJSON *doc, const char *a, const char *b)
{
    cJSON *v = path_of(cJSON_GetObjectItem(doc, "totals"), a, b);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

/* One shared prefix: after the first request the simulator's cache serves it, so the hit
 * share is high and TTFT low; 500 prefixes for 80 requests rarely repeat. The split by hit
 * and miss, and the Markdown report, show it. */
static void a_shared_prefix_hits_the_cache_and_lowers_ttft(void **state)
{
    (void)state;
    static char report[64 * 1024];
    cJSON *shared = prefix_run("1", report, sizeof report);
    cJSON *unique = prefix_run("500", NULL, 0);
    double hit_shared = num_at(shared, "cache", "hit_share");
    double hit_unique = num_at(unique, "cache", "hit_share");
    double ttft_shared = num_at(shared, "ttft_ms", "p50");
    double ttft_unique = num_at(unique, "ttft_ms", "p50");
    if (!(hit_shared >= 0.9 && hit_unique < 0.3 && ttft_shared < 0.5 * ttft_unique))
        fail_msg("hit share %.2f vs %.2f, TTFT p50 %.1f vs %.1f ms", hit_shared, hit_unique,
                 ttft_shared, ttft_unique);
    /* cached tokens: the prefix's whole 16-token blocks, per hit (the prefix's 1024 tokens
     * hold the template's 7, which the cache does not see) */
    assert_true(num_at(shared, "cache", "cached_tokens") >= 72 * 1008);
    /* TTFT split by hit and miss: hits are the fast ones */
    assert_true(num_at(shared, "ttft_cache_hit_ms", "p50") <
                0.5 * num_at(unique, "ttft_cache_miss_ms", "p50"));
    /* the prompt the server saw: prefix + unique part, within 1 % by its tokenizer */
    assert_true(fabs(num_at(shared, "input_tokens", "min") - 1056) <= 10);
    assert_true(fabs(num_at(shared, "input_tokens", "max") - 1056) <= 10);
    assert_non_null(strstr(report, "## Workload"));
    assert_non_null(strstr(report, "| all |"));
    assert_non_null(strstr(report, "cache hit %"));
    cJSON_Delete(shared);
    cJSON_Delete(unique);
}

static int by_time(const void *a, const void *b)
{
    uint64_t x = ((const sim_received *)a)->t_ns, y = ((const sim_received *)b)->t_ns;
    return x < y ? -1 : x > y;
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int by_shape(const void *a, const void *b)
{
    const sim_received *x = a, *y = b;
    if (x->prompt_tokens != y->prompt_tokens)
        return x->prompt_tokens < y->prompt_tokens ? -1 : 1;
    return (x->max_tokens > y->max_tokens) - (x->max_tokens < y->max_tokens);
}

#define TRACE_N 30

/* A Mooncake-style trace replayed at 2x: the simulator received each request within 1 ms
 * of its recorded time / 2 (relative to the first), with the recorded lengths, and the
 * records that share hash_ids found them in its prefix cache. */
static void a_trace_replays_at_its_times_lengths_and_shared_blocks(void **state)
{
    (void)state;
    static const int gaps_ms[] = {37, 5, 80, 12, 60, 4, 45, 21, 9, 33};
    char path[512];
    snprintf(path, sizeof path, "%s/trace.jsonl", tu_tmpdir());
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    sim_received want[TRACE_N];
    long t_ms = 1000;
    for (int k = 0; k < TRACE_N; k++) {
        bool even = k % 2 == 0;
        long in = even ? 1100 : 600, out = 5 + k % 7;
        fprintf(fp,
                "{\"timestamp\": %ld, \"input_length\": %ld, \"output_length\": %ld, "
                "\"hash_ids\": %s}\n",
                t_ms, in, out, even ? "[1, 2]" : "[3]");
        want[k] = (sim_received){(uint64_t)(t_ms - 1000) * 1000000ULL / 2, in, out, 0};
        t_ms += gaps_ms[k % 10];
    }
    fputs("{\"timestamp\": 5, \"input_length\": \"many\"}\n", fp); /* skipped */
    fclose(fp);

    sim_options o;
    sim_options_default(&o);
    o.decode_rate = 20000;
    o.prefill_rate = 1e6;
    o.base_latency_s = 0.001;
    o.slots = 64;
    o.prefix_cache_tokens = 100000;
    sim_received all[TRACE_N + 16], *got = all + 1; /* all[0]: the warm-up */
    size_t n_got = 0;
    o.received = all;
    o.received_cap = TRACE_N + 16;
    o.received_n = &n_got;
    tu_sim *f = tu_sim_start(&o);
    char dataset[600];
    snprintf(dataset, sizeof dataset, "trace:%s", path);
    /* the warm-up request opens the connection the replay then reuses */
    char *argv[] = {LLM_BINARY, "run",      "--url", f->url,   "--dataset", dataset, "--speedup",
                    "2",        "--warmup", "1",     "--json", f->json,     NULL};
    tu_result r;
    tu_run(argv, NULL, NULL, 60, &r);
    if (r.exit_code != 0)
        fail_msg("exit %d: %s", r.exit_code, r.err);
    assert_non_null(strstr(r.err, "1 records skipped"));
    tu_result_free(&r);
    cJSON *doc = tu_load_json(f->json);
    tu_sim_stop(f); /* joins the simulator's thread: got[] is complete */
    drop_probes(all, &n_got);
    assert_int_equal(n_got, TRACE_N + 1);
    n_got--;
    qsort(got, n_got, sizeof *got, by_time);
    /* Arrival k's error: its time after the first arrival minus its recorded time / 2, less
     * the median error (the server's clock origin is the first request's arrival, and that
     * one may pay for a connection the others reuse). Within 1 ms each; a shared 2-core
     * machine running others' builds and AddressSanitizer delays some past it (seen: up to 4
     * of 30 at load average 5), so at most one in five may be, none past 10 ms. A replay at
     * the trace's mean rate instead of its times would be tens of ms off. */
    double err_ms[TRACE_N], sorted[TRACE_N];
    for (int k = 0; k < TRACE_N; k++) {
        err_ms[k] = (double)(got[k].t_ns - got[0].t_ns) / 1e6 - (double)want[k].t_ns / 1e6;
        sorted[k] = err_ms[k];
    }
    qsort(sorted, TRACE_N, sizeof *sorted, by_double);
    double median = sorted[TRACE_N / 2];
    int late = 0;
    for (int k = 0; k < TRACE_N; k++) {
        double e = fabs(err_ms[k] - median);
        late += e >= 1.0;
        if (e >= 10.0)
            fail_msg("arrival %d was %.3f ms off its time x 1/2", k, e);
    }
    if (late > TRACE_N / 5)
        fail_msg("%d of %d arrivals were 1 ms or more off their times x 1/2", late, TRACE_N);
    long cached_even = 0, cached_odd = 0;
    for (int k = 0; k < TRACE_N; k++) { /* the blocks' whole 16-token cache blocks, less
                                              the template's 7 tokens the cache does not see */
        cached_even += got[k].prompt_tokens == 1100 && got[k].cached_tokens >= 1008;
        cached_odd += got[k].prompt_tokens == 600 && got[k].cached_tokens >= 496;
    }
    assert_int_equal(cached_even, TRACE_N / 2); /* the warm-up sent the first one's blocks */
    assert_int_equal(cached_odd, TRACE_N / 2 - 1);
    qsort(got, n_got, sizeof *got, by_shape);
    qsort(want, TRACE_N, sizeof *want, by_shape);
    for (int k = 0; k < TRACE_N; k++) {
        assert_int_equal(got[k].prompt_tokens, want[k].prompt_tokens);
        assert_int_equal(got[k].max_tokens, want[k].max_tokens);
    }
    cJSON *plan = path_of(doc, "config", "plan");
    assert_string_equal(cJSON_GetObjectItem(plan, "arrivals")->valuestring, "trace");
    cJSON *ds = path_of(path_of(doc, "config", "workload"), "dataset", NULL);
    assert_int_equal(cJSON_GetObjectItem(ds, "records")->valueint, TRACE_N);
    assert_int_equal(cJSON_GetObjectItem(ds, "skipped")->valueint, 1);
    cJSON_Delete(doc);
    unlink(path);
}

/* ShareGPT: the server receives the conversations' first human turns, each with max_tokens
 * the recorded answer's length (characters / 4). */
static void sharegpt_prompts_and_answer_lengths_reach_the_server(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/sg.json", tu_tmpdir());
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("[", fp);
    for (int k = 0; k < 10; k++) { /* prompt k: 40 + 8k chars (10 + 2k tokens); answer 4(k+3) */
        fprintf(fp, "%s{\"id\": \"c%d\", \"conversations\": [{\"from\": \"human\", \"value\": \"",
                k ? ",\n" : "", k);
        for (int i = 0; i < 40 + 8 * k; i++)
            fputc('a' + (i + k) % 26, fp);
        fputs("\"}, {\"from\": \"gpt\", \"value\": \"", fp);
        for (int i = 0; i < 4 * (k + 3); i++)
            fputc('z', fp);
        fputs("\"}]}", fp);
    }
    fputs(", {\"conversations\": 5}]", fp);
    fclose(fp);
    sim_options o;
    sim_options_default(&o);
    o.decode_rate = 20000;
    sim_received got[40];
    size_t n_got = 0;
    o.received = got;
    o.received_cap = 40;
    o.received_n = &n_got;
    tu_sim *f = tu_sim_start(&o);
    char dataset[600];
    snprintf(dataset, sizeof dataset, "sharegpt:%s", path);
    char *argv[] = {LLM_BINARY, "run", "--url", f->url,         "--dataset", dataset, "-n",
                    "20",       "-c",  "2",     "--ignore-eos", "--json",    f->json, NULL};
    tu_result r;
    tu_run(argv, NULL, NULL, 60, &r);
    if (r.exit_code != 0)
        fail_msg("exit %d: %s", r.exit_code, r.err);
    tu_result_free(&r);
    cJSON *doc = tu_load_json(f->json);
    tu_sim_stop(f);
    assert_int_equal(n_got, 20);
    int seen[10] = {0};
    for (size_t i = 0; i < n_got; i++) {
        long k = 0; /* prompt k: one word of 40 + 8k letters, by the simulator's tokenizer */
        while (k < 10 && got[i].prompt_tokens != SIM_CHAT_TOKENS + (40 + 8 * k + 2) / 3)
            k++;
        assert_true(k < 10);
        assert_int_equal(got[i].max_tokens, k + 3);
        seen[k]++;
    }
    for (int k = 0; k < 10; k++) /* -n 20 keeps all 10, each sent twice */
        assert_int_equal(seen[k], 2);
    cJSON *ds = path_of(path_of(doc, "config", "workload"), "dataset", NULL);
    assert_string_equal(cJSON_GetObjectItem(ds, "kind")->valuestring, "sharegpt");
    assert_int_equal(cJSON_GetObjectItem(ds, "records")->valueint, 10);
    assert_int_equal(cJSON_GetObjectItem(ds, "skipped")->valueint, 1);
    cJSON_Delete(doc);
    unlink(path);
}

/* --turns 4 against the simulator's cache: the prompt grows by turn (the history), and from
 * turn 2 on the cache holds the earlier prompt; per-turn figures are in the snapshot. A
 * conversation is one user: 2 users never have more than 2 requests at the server. */
static void conversations_grow_by_turn_and_hit_the_cache(void **state)
{
    (void)state;
    sim_options o;
    sim_options_default(&o);
    o.decode_rate = 2000;
    o.prefix_cache_tokens = 100000;
    sim_received got[64];
    size_t n_got = 0;
    o.received = got;
    o.received_cap = 64;
    o.received_n = &n_got;
    tu_sim *f = tu_sim_start(&o);
    char *argv[] = {LLM_BINARY,
                    "run",
                    "--url",
                    f->url,
                    "-c",
                    "2",
                    "-n",
                    "24",
                    "--turns",
                    "4",
                    "--think-time",
                    "20ms",
                    "--input-tokens",
                    "64",
                    "--output-tokens",
                    "24",
                    "--ignore-eos",
                    "--json",
                    f->json,
                    NULL};
    tu_result r;
    tu_run(argv, NULL, NULL, 60, &r);
    if (r.exit_code != 0)
        fail_msg("exit %d: %s", r.exit_code, r.err);
    tu_result_free(&r);
    cJSON *doc = tu_load_json(f->json);
    char *rep[] = {LLM_BINARY, "report", f->json, NULL};
    tu_run(rep, NULL, NULL, 30, &r);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "## Turns"));
    assert_non_null(strstr(r.out, "| 4 | 6 |"));
    tu_result_free(&r);
    /* merge adds the turns of its parts up (the same file twice, with --force) */
    char merged[300];
    snprintf(merged, sizeof merged, "%s/merged.json", tu_tmpdir());
    char *mg[] = {LLM_BINARY, "merge", f->json, f->json, "-o", merged, "--force", NULL};
    tu_run(mg, NULL, NULL, 30, &r);
    assert_int_equal(r.exit_code, 0);
    tu_result_free(&r);
    cJSON *m = tu_load_json(merged);
    cJSON *mt = cJSON_GetArrayItem(path_of(m, "totals", "turns"), 3);
    assert_int_equal(cJSON_GetObjectItem(mt, "requests")->valueint, 12);
    assert_int_equal(path_of(m, "totals", "cache")->child != NULL, 1);
    cJSON_Delete(m);
    unlink(merged);
    tu_sim_stop(f);
    drop_probes(got, &n_got);
    assert_int_equal(n_got, 24);
    cJSON *turns = path_of(doc, "totals", "turns");
    assert_int_equal(cJSON_GetArraySize(turns), 4);
    double last_prompt = 0;
    for (int k = 0; k < 4; k++) {
        cJSON *t = cJSON_GetArrayItem(turns, k);
        assert_int_equal(cJSON_GetObjectItem(t, "turn")->valueint, k + 1);
        assert_int_equal(cJSON_GetObjectItem(t, "requests")->valueint, 6);
        double prompt = cJSON_GetObjectItem(t, "prompt_tokens_mean")->valuedouble;
        double cached = cJSON_GetObjectItem(t, "cached_tokens_mean")->valuedouble;
        /* each turn adds an answer (~24 tokens) and a user message (64) */
        if (k > 0 && !(prompt > last_prompt + 64))
            fail_msg("turn %d: prompt %.1f after %.1f", k + 1, prompt, last_prompt);
        if (k == 0)
            assert_true(fabs(prompt - 64) < 1e-9 && cached == 0);
        else /* all but the last partial block and the template (not cached) */
            assert_true(cached >=
                        last_prompt - 16 - SIMTOK_PRIMER - SIMTOK_PER_MESSAGE * (2 * k - 1));
        last_prompt = prompt;
    }
    cJSON_Delete(doc);
}

/* A conversation is one user of -c while it thinks: the achieved load counts it, so a run
 * with long pauses between turns does not read as one that missed its target. */
static void thinking_users_count_as_the_closed_loops_load(void **state)
{
    (void)state;
    sim_options o;
    sim_options_default(&o);
    o.decode_rate = 2000;
    tu_sim *f = tu_sim_start(&o);
    char *argv[] = {LLM_BINARY,
                    "run",
                    "--url",
                    f->url,
                    "-c",
                    "2",
                    "-n",
                    "12",
                    "--turns",
                    "3",
                    "--think-time",
                    "500ms",
                    "--input-tokens",
                    "16",
                    "--output-tokens",
                    "4",
                    "--json",
                    f->json,
                    NULL};
    tu_result r;
    tu_run(argv, NULL, NULL, 60, &r);
    if (r.exit_code != 0)
        fail_msg("exit %d: %s", r.exit_code, r.err);
    tu_result_free(&r);
    cJSON *doc = tu_load_json(f->json);
    tu_sim_stop(f);
    cJSON *ach =
        path_of(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "steps"), 0), "achieved", NULL);
    cJSON *mean = cJSON_GetObjectItem(ach, "mean_inflight");
    assert_true(cJSON_IsNumber(mean));
    if (!(mean->valuedouble >= 1.5))
        fail_msg("mean in flight %.2f of 2 users", mean->valuedouble);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(ach, "missed_target")));
    cJSON_Delete(doc);
}

/* ShareGPT with --turns replays the recorded conversations: each human message in turn,
 * max_tokens from its recorded answer, the live answers in the history. */
static void sharegpt_turns_replay_the_recorded_conversations(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/sgt.json", tu_tmpdir());
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("[", fp);
    for (int k = 0; k < 4; k++) { /* humans 10/20/30 tokens, answers 4/8/12 */
        fprintf(fp, "%s{\"conversations\": [", k ? ",\n" : "");
        for (int t = 1; t <= 3; t++) {
            fprintf(fp, "%s{\"from\": \"human\", \"value\": \"", t > 1 ? ", " : "");
            for (int i = 0; i < 40 * t; i++)
                fputc(i % 7 ? 'a' + (i + k) % 26 : ' ', fp);
            fputs("\"}, {\"from\": \"gpt\", \"value\": \"", fp);
            for (int i = 0; i < 16 * t; i++)
                fputc('z', fp);
            fputs("\"}", fp);
        }
        fputs("]}", fp);
    }
    fputs("]", fp);
    fclose(fp);
    sim_options o;
    sim_options_default(&o);
    o.decode_rate = 5000;
    sim_received got[16];
    size_t n_got = 0;
    o.received = got;
    o.received_cap = 16;
    o.received_n = &n_got;
    tu_sim *f = tu_sim_start(&o);
    char dataset[600];
    snprintf(dataset, sizeof dataset, "sharegpt:%s", path);
    char *argv[] = {LLM_BINARY, "run", "--url", f->url, "--dataset",    dataset,  "--turns", "3",
                    "-n",       "12",  "-c",    "2",    "--ignore-eos", "--json", f->json,   NULL};
    tu_result r;
    tu_run(argv, NULL, NULL, 60, &r);
    if (r.exit_code != 0)
        fail_msg("exit %d: %s", r.exit_code, r.err);
    tu_result_free(&r);
    cJSON *doc = tu_load_json(f->json);
    tu_sim_stop(f);
    assert_int_equal(n_got, 12);
    /* human message t's tokens by the simulator's tokenizer (the same for every k) */
    long human[4] = {0, 0, 0, 0};
    for (int t = 1; t <= 3; t++) {
        char text[128];
        for (int i = 0; i < 40 * t; i++)
            text[i] = i % 7 ? 'a' : ' ';
        text[40 * t] = '\0';
        human[t] = human[t - 1] + simtok_count(text);
    }
    int per_turn[3] = {0, 0, 0};
    for (size_t i = 0; i < n_got; i++) {
        long t = got[i].max_tokens / 4; /* 1, 2, 3: the recorded answer's length */
        assert_true(t >= 1 && t <= 3 && got[i].max_tokens == 4 * t);
        per_turn[t - 1]++;
        if (t == 1)
            assert_int_equal(got[i].prompt_tokens, SIM_CHAT_TOKENS + human[1]);
        else /* the humans so far and, beyond them, the live answers */
            if (!(got[i].prompt_tokens > human[t]))
                fail_msg("turn %ld: prompt %ld", t, got[i].prompt_tokens);
    }
    assert_int_equal(per_turn[0], 4);
    assert_int_equal(per_turn[1], 4);
    assert_int_equal(per_turn[2], 4);
    assert_int_equal(cJSON_GetArraySize(path_of(doc, "totals", "turns")), 3);
    cJSON_Delete(doc);
    unlink(path);
}

/* --dataset jsonl:FILE is --prompts FILE: the file's prompts, in order. */
static void a_jsonl_dataset_sends_the_files_prompts(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/p.jsonl", tu_tmpdir());
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("{\"prompt\": \"aaaabbbbcccc\", \"max_tokens\": 3}\n"
          "{\"prompt\": \"aaaabbbbccccddddeeee\", \"max_tokens\": 5}\n",
          fp);
    fclose(fp);
    sim_options o;
    sim_options_default(&o);
    o.decode_rate = 20000;
    sim_received got[8];
    size_t n_got = 0;
    o.received = got;
    o.received_cap = 8;
    o.received_n = &n_got;
    tu_sim *f = tu_sim_start(&o);
    char dataset[600];
    snprintf(dataset, sizeof dataset, "jsonl:%s", path);
    char *argv[] = {LLM_BINARY, "run", "--url", f->url, "--dataset", dataset, "-n", "4", NULL};
    tu_result r;
    tu_run(argv, NULL, NULL, 60, &r);
    if (r.exit_code != 0)
        fail_msg("exit %d: %s", r.exit_code, r.err);
    tu_result_free(&r);
    tu_sim_stop(f);
    assert_int_equal(n_got, 4);
    for (size_t i = 0; i < n_got; i++) { /* 12 and 20 letters: 4 and 7 word pieces */
        assert_int_equal(got[i].prompt_tokens, SIM_CHAT_TOKENS + (i % 2 ? 7 : 4));
        assert_int_equal(got[i].max_tokens, i % 2 ? 5 : 3);
    }
    unlink(path);
}

/* ---- exact lengths: the pool calibrated by the server's tokenizer (issues 13, 14) ---- */

/* Calibrates cfg against the simulator at url and writes n bodies: each one's prompt as the
 * simulator counts it (its own word-piece tokenizer, what its usage reports) is the drawn
 * length (+ the prefix) within 1 %, and is what the body said it would be. The counts go to
 * count[] (below cap). Returns the largest error in tokens. */
static long exact_bodies(llm_config *c, int n, long *count, long cap, calib_method method)
{
    poolcal_result pc;
    poolcal_run(c, "llmload-sim", &pc);
    if (!pc.exact)
        fail_msg("not calibrated: %s", pc.note);
    assert_int_equal(pc.method, method);
    assert_true(pc.have_map && pc.check_got == pc.check_want);
    c->input_map = &pc.map;
    workload w;
    char err[256];
    assert_int_equal(workload_init(&w, c, "llmload-sim", err, sizeof err), 0);
    assert_ptr_equal(w.map, &pc.map);
    char *buf = malloc(w.body_cap);
    uint64_t rng = 42;
    long worst = 0;
    for (int i = 1; i <= n; i++) {
        wl_request req;
        workload_draw(&w, &rng, &req);
        prompt_body pb;
        cJSON *doc = write_one(&w, &req, (uint64_t)i, buf, &pb);
        long got = simtok_prompt(doc, c->endpoint != LLM_ENDPOINT_COMPLETIONS);
        long want = req.input_tokens + (req.group >= 0 ? c->prefix_tokens : 0);
        long off = labs(got - want);
        if (off * 100 > want || got != pb.input_tokens)
            fail_msg("request %d: drawn %ld, the server counts %ld, the body said %ld", i, want,
                     got, pb.input_tokens);
        worst = off > worst ? off : worst;
        if (count && got < cap)
            count[got]++;
        cJSON_Delete(doc);
    }
    free(buf);
    workload_free(&w);
    c->input_map = NULL;
    poolcal_free(&pc);
    return worst;
}

static sim_server *start_counting_sim(char *url, size_t cap, bool no_tokenize)
{
    sim_options o;
    sim_options_default(&o);
    o.quiet = true;
    o.port = 0;
    o.base_latency_s = 0.001;
    o.decode_rate = 20000;
    o.prefill_rate = 1e6;
    o.slots = 64;
    o.no_tokenize = no_tokenize;
    sim_server *sim;
    char err[256];
    if (sim_start(&o, &sim, err, sizeof err) != 0)
        fail_msg("sim_start: %s", err);
    snprintf(url, cap, "http://127.0.0.1:%d/v1", sim_port(sim));
    return sim;
}

/* --input-tokens uniform:100:2000 with a seed: every prompt is its drawn length by the
 * simulator's own count (chat and completions; with shared prefixes, prefix + length), and
 * the lengths still fit the distribution. Without the calibration, chars/4 is 20-30 % off. */
static void every_prompt_is_its_drawn_length_by_the_servers_count(void **state)
{
    (void)state;
    char url[64];
    sim_server *sim = start_counting_sim(url, sizeof url, false);
    llm_config c = base_config();
    c.url = url;
    c.connect_timeout_s = 5;
    c.request_timeout_s = 30;
    c.seed = 7;
    c.seed_set = true;
    parse_spec(&c.input_tokens, "uniform:100:2000");
    parse_spec(&c.output_tokens, "4");
    static long count[2100];
    memset(count, 0, sizeof count);
    long worst = exact_bodies(&c, 3000, count, 2100, CALIB_TOKENIZE);
    assert_counts_fit(count, 3000, "uniform:100:2000");
    c.endpoint = LLM_ENDPOINT_COMPLETIONS;
    long worst_completions = exact_bodies(&c, 500, NULL, 0, CALIB_TOKENIZE);
    c.endpoint = LLM_ENDPOINT_CHAT;
    c.prefix_tokens = 300;
    c.prefix_groups = 4;
    long worst_prefix = exact_bodies(&c, 500, NULL, 0, CALIB_TOKENIZE);
    fprintf(stderr,
            "exact lengths: largest error %ld / %ld / %ld tokens (chat, completions, prefix)\n",
            worst, worst_completions, worst_prefix);
    sim_stop(sim);
}

/* A server without /tokenize (usage only): the words' costs come from probes' usage, and
 * every prompt is still its drawn length. */
static void without_tokenize_probes_usage_makes_lengths_exact(void **state)
{
    (void)state;
    char url[64];
    sim_server *sim = start_counting_sim(url, sizeof url, true);
    llm_config c = base_config();
    c.url = url;
    c.connect_timeout_s = 5;
    c.request_timeout_s = 30;
    parse_spec(&c.input_tokens, "uniform:100:1000");
    c.prefix_tokens = 200;
    long worst = exact_bodies(&c, 500, NULL, 0, CALIB_PROBE);
    fprintf(stderr, "exact lengths by probes: largest error %ld tokens\n", worst);
    sim_stop(sim);
}

/* The same end to end: the llmload binary calibrates before the load (its notice says how),
 * the simulator receives prompts that fit uniform:100:2000 and none off its range by more
 * than 1 %, and the snapshot says the lengths are exact and by which method. */
static void the_run_sends_exact_lengths_and_says_so(void **state)
{
    (void)state;
    sim_options o;
    sim_options_default(&o);
    o.decode_rate = 20000;
    o.prefill_rate = 1e7;
    o.base_latency_s = 0.001;
    o.slots = 64;
    static sim_received got[900];
    size_t n_got = 0;
    o.received = got;
    o.received_cap = 900;
    o.received_n = &n_got;
    tu_sim *f = tu_sim_start(&o);
    char *argv[] = {LLM_BINARY,
                    "run",
                    "--url",
                    f->url,
                    "-c",
                    "16",
                    "-n",
                    "800",
                    "--input-tokens",
                    "uniform:100:2000",
                    "--output-tokens",
                    "2",
                    "--ignore-eos",
                    "--seed",
                    "5",
                    "--json",
                    f->json,
                    NULL};
    tu_result r;
    tu_run(argv, NULL, NULL, 180, &r);
    if (r.exit_code != 0)
        fail_msg("exit %d: %s", r.exit_code, r.err);
    assert_non_null(strstr(r.err, "; in uniform:100:2000 tok, out 2"));
    const char *note = strstr(r.err, "input lengths exact by the server's tokenizer: /tokenize");
    assert_non_null(note);
    assert_null(strstr(note + 20, "input lengths exact")); /* one notice */
    tu_result_free(&r);
    cJSON *doc = tu_load_json(f->json);
    tu_sim_stop(f);
    drop_probes(got, &n_got);
    assert_int_equal(n_got, 800);
    static long count[2100];
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n_got; i++) {
        long p = got[i].prompt_tokens;
        if (p < 99 || p > 2020)
            fail_msg("a prompt of %ld tokens for uniform:100:2000", p);
        count[p < 100 ? 100 : p > 2000 ? 2000 : p]++;
    }
    assert_counts_fit(count, (long)n_got, "uniform:100:2000");
    cJSON *wl = path_of(doc, "config", "workload");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(wl, "input_exact")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(wl, "chars_per_token")));
    assert_string_equal(path_of(wl, "input_calibration", "method")->valuestring, "tokenize");
    assert_non_null(strstr(path_of(wl, "input_calibration", "note")->valuestring, "exact"));
    cJSON_Delete(doc);
}

/* A server with neither /tokenize nor usage: the lengths stay llmload's chars/4, the run
 * says once what it sent, and the snapshot marks them approximate. */
static void without_token_counts_lengths_stay_approximate_and_say_so(void **state)
{
    (void)state;
    sim_options o;
    sim_options_default(&o);
    o.decode_rate = 20000;
    o.no_token_counts = true;
    tu_sim *f = tu_sim_start(&o);
    char *argv[] = {LLM_BINARY,
                    "run",
                    "--url",
                    f->url,
                    "-c",
                    "4",
                    "-n",
                    "20",
                    "--input-tokens",
                    "uniform:20:120",
                    "--output-tokens",
                    "4",
                    "--json",
                    f->json,
                    NULL};
    tu_result r;
    tu_run(argv, NULL, NULL, 60, &r);
    if (r.exit_code != 0)
        fail_msg("exit %d: %s", r.exit_code, r.err);
    assert_non_null(strstr(r.err, "; in uniform:20:120 ~tok"));
    static const char notice[] =
        "input lengths could not be calibrated: the server has no /tokenize and reported no "
        "usage.prompt_tokens; sending llmload's estimate of 4 characters a token (lengths "
        "approximate)";
    const char *at = strstr(r.err, notice);
    if (!at)
        fail_msg("no notice: %s", r.err);
    if (strstr(at + strlen(notice), "could not be calibrated"))
        fail_msg("more than one notice: %s", r.err);
    tu_result_free(&r);
    cJSON *doc = tu_load_json(f->json);
    tu_sim_stop(f);
    cJSON *wl = path_of(doc, "config", "workload");
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(wl, "input_exact")));
    assert_int_equal(cJSON_GetObjectItem(wl, "chars_per_token")->valueint, 4);
    assert_string_equal(path_of(wl, "input_calibration", "method")->valuestring, "failed");
    assert_string_equal(path_of(wl, "input_calibration", "note")->valuestring, notice);
    cJSON_Delete(doc);
}

/* --turns: an answer longer than the history's buffer was sized for (here --body-json asks
 * the server for 300 tokens while the buffer holds answers of --output-tokens 4) ends its
 * conversation early; the done event says so, each step counts it, the run says it once. */
static void a_history_that_outgrows_its_buffer_is_counted(void **state)
{
    (void)state;
    sim_options o;
    sim_options_default(&o);
    o.decode_rate = 20000;
    tu_sim *f = tu_sim_start(&o);
    char *argv[] = {LLM_BINARY,
                    "run",
                    "--url",
                    f->url,
                    "-c",
                    "2",
                    "-n",
                    "6",
                    "--turns",
                    "3",
                    "--input-tokens",
                    "20",
                    "--output-tokens",
                    "4",
                    "--body-json",
                    "{\"max_completion_tokens\":300}",
                    "--json",
                    f->json,
                    NULL};
    tu_result r;
    tu_run(argv, NULL, NULL, 60, &r);
    if (r.exit_code != 0)
        fail_msg("exit %d: %s", r.exit_code, r.err);
    const char *note = strstr(r.err, "6 conversations ended before their last turn: an answer "
                                     "outgrew the history's buffer");
    if (!note)
        fail_msg("no notice: %s", r.err);
    assert_null(strstr(note + 10, "conversations ended before"));
    tu_result_free(&r);
    cJSON *doc = tu_load_json(f->json);
    cJSON *step = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "steps"), 0);
    assert_int_equal(cJSON_GetObjectItem(step, "turns_history_overflow")->valueint, 6);
    assert_int_equal(path_of(doc, "totals", "turns_history_overflow")->valueint, 6);
    /* every conversation ended after its first turn */
    assert_int_equal(cJSON_GetArraySize(path_of(doc, "totals", "turns")), 1);
    cJSON_Delete(doc);
    /* merge adds them up (the same file twice, with --force) */
    char merged[300];
    snprintf(merged, sizeof merged, "%s/merged.json", tu_tmpdir());
    char *mg[] = {LLM_BINARY, "merge", f->json, f->json, "-o", merged, "--force", NULL};
    tu_run(mg, NULL, NULL, 30, &r);
    assert_int_equal(r.exit_code, 0);
    tu_result_free(&r);
    cJSON *m = tu_load_json(merged);
    assert_int_equal(path_of(m, "totals", "turns_history_overflow")->valueint, 12);
    cJSON_Delete(m);
    unlink(merged);
    tu_sim_stop(f);
}

static void workload_options_are_checked_before_any_load(void **state)
{
    (void)state;
    static const char *const cases[][4] = {
        {"--input-tokens", "normal:100", "", "MEAN:SD"},
        {"--input-tokens", "gamma:1:2", "", "names no distribution"},
        {"--prefix-groups", "4", "", "needs --prefix-tokens"},
        {"--dataset", "csv:" LLM_BINARY, "", "sharegpt:FILE, jsonl:FILE or trace:FILE"},
        {"--dataset", "trace:/nonexistent.jsonl", "", "cannot read it"},
        {"--speedup", "2", "", "use it with --dataset trace:FILE"},
        {"--speedup", "0", "", "must be a number > 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[] = {LLM_BINARY,
                        "run",
                        "--url",
                        "http://127.0.0.1:9/v1",
                        "--model",
                        "m",
                        (char *)cases[i][0],
                        (char *)cases[i][1],
                        NULL};
        tu_result r;
        tu_run(argv, NULL, NULL, 30, &r);
        assert_int_equal(r.exit_code, 2);
        if (!strstr(r.err, cases[i][3]))
            fail_msg("%s %s: %s", cases[i][0], cases[i][1], r.err);
        tu_result_free(&r);
    }
    char *both[] = {
        LLM_BINARY,       "run", "--url", "http://127.0.0.1:9/v1", "--prompt-tokens", "10",
        "--input-tokens", "20",  NULL};
    tu_result r;
    tu_run(both, NULL, NULL, 30, &r);
    assert_int_equal(r.exit_code, 2);
    assert_non_null(strstr(r.err, "the prompt length"));
    tu_result_free(&r);
    /* llm_benchmark.py's --output_tokens is still --max-tokens (a whole number), while
     * --output-tokens takes a SPEC */
    char *seed[] = {LLM_BINARY,        "run",         "--url", "http://127.0.0.1:9/v1",
                    "--output_tokens", "uniform:1:5", NULL};
    tu_run(seed, NULL, NULL, 30, &r);
    assert_int_equal(r.exit_code, 2);
    assert_non_null(strstr(r.err, "--output_tokens must be a whole number"));
    tu_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(drawn_lengths_set_the_prompt_and_max_tokens_of_each_body),
        cmocka_unit_test(requests_of_one_group_share_the_prefix_and_then_differ),
        cmocka_unit_test(trace_blocks_with_the_same_id_send_the_same_text),
        cmocka_unit_test(each_turn_carries_the_history_with_the_streamed_answers),
        cmocka_unit_test(no_workload_option_leaves_the_classic_bodies),
        cmocka_unit_test(lengths_the_server_received_fit_the_asked_distributions),
        cmocka_unit_test(answers_that_end_before_max_tokens_are_counted),
        cmocka_unit_test(a_shared_prefix_hits_the_cache_and_lowers_ttft),
        cmocka_unit_test(a_trace_replays_at_its_times_lengths_and_shared_blocks),
        cmocka_unit_test(sharegpt_prompts_and_answer_lengths_reach_the_server),
        cmocka_unit_test(conversations_grow_by_turn_and_hit_the_cache),
        cmocka_unit_test(thinking_users_count_as_the_closed_loops_load),
        cmocka_unit_test(sharegpt_turns_replay_the_recorded_conversations),
        cmocka_unit_test(a_jsonl_dataset_sends_the_files_prompts),
        cmocka_unit_test(workload_options_are_checked_before_any_load),
        cmocka_unit_test(every_prompt_is_its_drawn_length_by_the_servers_count),
        cmocka_unit_test(without_tokenize_probes_usage_makes_lengths_exact),
        cmocka_unit_test(the_run_sends_exact_lengths_and_says_so),
        cmocka_unit_test(without_token_counts_lengths_stay_approximate_and_say_so),
        cmocka_unit_test(a_history_that_outgrows_its_buffer_is_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
