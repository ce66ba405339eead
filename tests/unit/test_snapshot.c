/* Tests for core/snapshot (the §12 JSON keys, no API key, atomic write) and core/summary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "base/version.h"
#include "core/gpuhist.h"
#include "core/snapshot.h"
#include "core/summary.h"
#include "testutil.h"

#define MS 1000000ULL
#define SEC 1000000000ULL
#define START (1000 * SEC)
#define KEY "sk-test-SECRET-0123456789abcdef"

/* ---- fixtures ---- */

static llm_header headers[] = {{"Authorization", "Bearer " KEY}, {"X-Team", "perf"}};

static void fill_config(llm_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->url = "http://127.0.0.1:8000/v1?token=" KEY;
    cfg->api_key = KEY;
    cfg->model = "test-model";
    cfg->endpoint = LLM_ENDPOINT_CHAT;
    cfg->concurrency = 4;
    cfg->requests = 10;
    cfg->ramp_start = 1;
    cfg->ramp_end = 4;
    cfg->ramp_step = 2;
    cfg->ramp_multiply = true;
    cfg->repeat = 1;
    cfg->prompt_chars = 256;
    cfg->max_tokens = 128;
    cfg->ignore_eos = true;
    cfg->headers = headers;
    cfg->n_headers = 2;
    cfg->body_json = "{\"user\":\"" KEY "\"}";
    cfg->temperature = -1;
    cfg->slo.ttft_s = 2.0;
    cfg->slo.errors_pct = -1;
}

static void add(stats *st, llm_event ev)
{
    stats_consume(st, &ev);
}

static stats *synthetic_stats(void)
{
    stats *st = malloc(sizeof *st);
    assert_non_null(st);
    stats_init(st, START, &(llm_slo){.ttft_s = 2.0, .errors_pct = -1});
    for (uint32_t s = 0; s < 2; s++) {
        llm_event step = {.kind = EV_STEP, .step = s, .t_ns = START + s * 2 * SEC};
        step.u.step_change = (ev_step){.index = s, .total = 2, .concurrency = 1 + 3 * s};
        add(st, step);
        for (uint64_t i = 0; i < 5; i++) {
            uint64_t t0 = START + s * 2 * SEC + i * 100 * MS;
            llm_event d = {.kind = EV_REQUEST_DONE, .step = s, .t_ns = t0 + 800 * MS};
            d.u.done = (ev_done){.t0_ns = t0,
                                 .ttfb_ns = 20 * MS,
                                 .ttft_ns = 50 * MS,
                                 .ttfo_ns = 50 * MS,
                                 .e2e_ns = 800 * MS,
                                 .output_tokens = 16,
                                 .prompt_tokens = 64,
                                 .content_events = 16,
                                 .usage_reported = 1,
                                 .connect_us = i == 0 ? 1500 : 0};
            add(st, d);
            llm_event t = {.kind = EV_TOKENS, .step = s, .t_ns = t0 + 60 * MS};
            t.u.tokens = (ev_tokens){.count = 1, .gap_ns = 10 * MS};
            add(st, t);
        }
    }
    llm_event f = {.kind = EV_REQUEST_FAILED, .step = 1, .t_ns = START + 3 * SEC};
    f.u.failed = (ev_failed){.t0_ns = START + 2 * SEC, .err_class = ERR_HTTP_5XX};
    snprintf(f.u.failed.message, sizeof f.u.failed.message, "500 from the server, key %s", KEY);
    add(st, f);
    stats_set_gauges(st, 4, 4, 20.0, NAN);
    stats_tick(st, START + 4 * SEC);
    return st;
}

static char *path_in(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    assert_non_null(p);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

/* Removes path and its (now empty) directory. */
static void remove_with_dir(char *path)
{
    unlink(path);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    rmdir(path);
    free(path);
}

/* ---- key checks ---- */

static const cJSON *need(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        fail_msg("missing key \"%s\"", key);
    return v;
}

static void need_number(const cJSON *o, const char *key)
{
    if (!cJSON_IsNumber(need(o, key)))
        fail_msg("\"%s\" is not a number", key);
}

static void need_number_or_null(const cJSON *o, const char *key)
{
    const cJSON *v = need(o, key);
    if (!cJSON_IsNumber(v) && !cJSON_IsNull(v))
        fail_msg("\"%s\" is neither a number nor null", key);
}

static void need_string(const cJSON *o, const char *key)
{
    if (!cJSON_IsString(need(o, key)))
        fail_msg("\"%s\" is not a string", key);
}

static const cJSON *need_object(const cJSON *o, const char *key)
{
    const cJSON *v = need(o, key);
    if (!cJSON_IsObject(v))
        fail_msg("\"%s\" is not an object", key);
    return v;
}

static const char *const metric_keys[] = {"ttft_ms",     "ttfo_ms", "ttfb_ms",        "e2e_ms",
                                          "itl_ms",      "tpot_ms", "per_stream_tps", "send_lag_ms",
                                          "prefill_tps", "dns_ms",  "connect_ms",     "tls_ms"};
static const char *const summary_keys[] = {"mean", "p50", "p90", "p95", "p99", "p999", "max"};
static const char *const class_keys[] = {"connect",  "tls",      "timeout", "http_4xx",
                                         "http_429", "http_5xx", "stream",  "other"};
static const char *const row_keys[] = {"t",       "target",      "inflight",    "rps",
                                       "tps",     "ttft_p50_ms", "ttft_p99_ms", "errors",
                                       "cpu_pct", "temp_c"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void check_histogram(const cJSON *h)
{
    need_string(h, "unit");
    const cJSON *b = need(h, "buckets");
    assert_true(cJSON_IsArray(b));
    const cJSON *row;
    cJSON_ArrayForEach(row, b)
    {
        assert_int_equal(cJSON_GetArraySize(row), 3);
        assert_true(cJSON_GetArrayItem(row, 0)->valuedouble <
                    cJSON_GetArrayItem(row, 1)->valuedouble);
        assert_true(cJSON_GetArrayItem(row, 2)->valuedouble > 0);
    }
}

static void check_step(const cJSON *s)
{
    need_number(s, "concurrency");
    need_number(s, "duration_s");
    const cJSON *r = need_object(s, "requests");
    need_number(r, "ok");
    need_number(r, "failed");
    const cJSON *e = need_object(r, "errors");
    for (size_t i = 0; i < COUNT(class_keys); i++)
        need_number(e, class_keys[i]);
    need_object(s, "error_messages");
    const cJSON *t = need_object(s, "tokens");
    need_number(t, "output");
    need_number(t, "prompt");
    assert_true(cJSON_IsBool(need(t, "estimated")));
    need_number(s, "rps");
    need_number(s, "tps");
    const cJSON *h = need_object(s, "histograms");
    for (size_t m = 0; m < COUNT(metric_keys); m++) {
        const cJSON *sum = need_object(s, metric_keys[m]);
        for (size_t k = 0; k < COUNT(summary_keys); k++)
            need_number_or_null(sum, summary_keys[k]);
        check_histogram(need_object(h, metric_keys[m]));
    }
}

static void check_series(const cJSON *series)
{
    assert_true(cJSON_IsArray(series));
    assert_true(cJSON_GetArraySize(series) >= 1);
    const cJSON *row;
    cJSON_ArrayForEach(row, series)
    {
        for (size_t k = 0; k < COUNT(row_keys); k++)
            need_number_or_null(row, row_keys[k]);
    }
}

static cJSON *write_and_parse(const char *path, char **text_out)
{
    llm_config cfg;
    fill_config(&cfg);
    stats *st = synthetic_stats();
    char err[256] = "";
    assert_int_equal(snapshot_write(path, st, &cfg, 1700000000, 1700000060, 3, err, sizeof err), 0);
    stats_free(st);
    free(st);
    size_t len = 0;
    char *text = tu_read_file(path, &len);
    assert_non_null(text);
    cJSON *doc = cJSON_Parse(text);
    assert_non_null(doc);
    *text_out = text;
    return doc;
}

/* ---- tests ---- */

static void snapshot_has_every_contract_key(void **state)
{
    (void)state;
    char *path = path_in(tu_tmpdir(), "snap.json"), *text;
    cJSON *doc = write_and_parse(path, &text);
    assert_string_equal(need(doc, "schema")->valuestring, "llmload.snapshot/1");
    const cJSON *tool = need_object(doc, "tool");
    assert_string_equal(need(tool, "name")->valuestring, "llmload");
    need_string(tool, "version");
    /* the build that wrote it, when the build knew its git describe */
    if (llm_version_git()[0])
        assert_string_equal(need(tool, "git")->valuestring, llm_version_git());
    else
        assert_null(cJSON_GetObjectItem(tool, "git"));
    assert_string_equal(need(doc, "started_at")->valuestring, "2023-11-14T22:13:20Z");
    assert_string_equal(need(doc, "ended_at")->valuestring, "2023-11-14T22:14:20Z");
    const cJSON *cfg = need_object(doc, "config");
    need_string(cfg, "url");
    assert_string_equal(need(cfg, "model")->valuestring, "test-model");
    assert_string_equal(need(cfg, "endpoint")->valuestring, "chat");
    const cJSON *plan = need_object(cfg, "plan");
    assert_string_equal(need(plan, "kind")->valuestring, "ramp");
    need_number(plan, "concurrency");
    need_object(plan, "ramp");
    const cJSON *steps = need(doc, "steps");
    assert_int_equal(cJSON_GetArraySize(steps), 2);
    const cJSON *s;
    cJSON_ArrayForEach(s, steps) check_step(s);
    check_step(need_object(doc, "totals"));
    check_series(need(doc, "series"));
    const cJSON *an = need_object(doc, "analysis");
    /* {concurrency|rate, reason} or null; here the earlier of the two knees: c=4 adds no TPS
     * to c=1 (the throughput knee, c=1) and is where errors start (the latency knee) */
    const cJSON *knee = need_object(an, "knee");
    assert_int_equal(need(knee, "concurrency")->valuedouble, 1);
    assert_non_null(strstr(need(knee, "reason")->valuestring, "no higher load adds 10 %"));
    const cJSON *slo = need_object(an, "slo");
    need_number_or_null(slo, "met_up_to");
    need_number(slo, "goodput_rps");
    assert_true(cJSON_IsArray(need(an, "findings")));
    assert_int_equal(need(doc, "lost_events")->valuedouble, 3);
    cJSON_Delete(doc);
    free(text);
    remove_with_dir(path);
}

static void snapshot_figures_match_the_stats(void **state)
{
    (void)state;
    char *path = path_in(tu_tmpdir(), "snap.json"), *text;
    cJSON *doc = write_and_parse(path, &text);
    const cJSON *tot = need(doc, "totals");
    assert_int_equal(need(need(tot, "requests"), "ok")->valuedouble, 10);
    assert_int_equal(need(need(tot, "requests"), "failed")->valuedouble, 1);
    assert_int_equal(need(need(need(tot, "requests"), "errors"), "http_5xx")->valuedouble, 1);
    assert_int_equal(need(need(tot, "tokens"), "output")->valuedouble, 160);
    assert_true(cJSON_IsFalse(need(need(tot, "tokens"), "estimated")));
    assert_true(fabs(need(need(tot, "ttft_ms"), "p50")->valuedouble - 50.0) < 1e-9);
    assert_int_equal(need(tot, "concurrency")->valuedouble, 4);
    /* one new connection per step (1.5 ms), the other requests reused theirs */
    assert_int_equal(need(need(tot, "connect_ms"), "count")->valuedouble, 2);
    assert_true(fabs(need(need(tot, "connect_ms"), "max")->valuedouble - 1.5) < 1e-9);
    const cJSON *step1 = cJSON_GetArrayItem(need(doc, "steps"), 1);
    assert_int_equal(need(step1, "concurrency")->valuedouble, 4);
    const cJSON *buckets = need(need(need(tot, "histograms"), "ttft_ms"), "buckets");
    assert_int_equal(cJSON_GetArraySize(buckets), 1); /* every TTFT is 50 ms */
    assert_int_equal(cJSON_GetArrayItem(cJSON_GetArrayItem(buckets, 0), 2)->valuedouble, 10);
    /* every TTFT is 50 ms, but step 2 (c=4) has a failure, and a failure is over every
     * latency limit (its p99 of 6 requests is that failure): the SLO is met up to c=1 */
    assert_int_equal(need(need(need(doc, "analysis"), "slo"), "met_up_to")->valuedouble, 1);
    const cJSON *row0 = cJSON_GetArrayItem(need(doc, "series"), 0);
    assert_true(cJSON_IsNull(need(row0, "temp_c")));
    assert_int_equal(need(row0, "rps")->valuedouble, 2); /* ends at 0.8 s and 0.9 s */
    cJSON_Delete(doc);
    free(text);
    remove_with_dir(path);
}

static void api_key_is_never_written(void **state)
{
    (void)state;
    char *path = path_in(tu_tmpdir(), "snap.json"), *text;
    cJSON *doc = write_and_parse(path, &text);
    assert_null(strstr(text, KEY));
    assert_null(strstr(text, "SECRET"));
    assert_null(strstr(text, "Bearer"));               /* header values are not written */
    assert_non_null(strstr(text, "Authorization"));    /* names are */
    assert_non_null(strstr(text, "token=[redacted]")); /* the key in the URL is masked */
    cJSON_Delete(doc);
    free(text);
    remove_with_dir(path);
}

static void atomic_write_leaves_no_temp_file_and_replaces(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir();
    char *path = path_in(dir, "snap.json"), *tmp = path_in(dir, "snap.json.tmp"), *text;
    FILE *old = fopen(path, "w");
    assert_non_null(old);
    fputs("old contents", old);
    fclose(old);
    cJSON *doc = write_and_parse(path, &text);
    assert_int_not_equal(access(tmp, F_OK), 0);
    assert_null(strstr(text, "old contents"));
    cJSON_Delete(doc);
    free(text);
    free(tmp);
    remove_with_dir(path);
}

static void write_into_missing_directory_fails_with_a_sentence(void **state)
{
    (void)state;
    llm_config cfg;
    fill_config(&cfg);
    stats *st = synthetic_stats();
    char err[256] = "";
    const char *path = "/nonexistent-llmload-dir/x/snap.json";
    assert_int_equal(snapshot_write(path, st, &cfg, 0, 0, 0, err, sizeof err), -1);
    assert_string_equal(err, "cannot write /nonexistent-llmload-dir/x/snap.json: No such file "
                             "or directory");
    assert_int_not_equal(access("/nonexistent-llmload-dir/x/snap.json.tmp", F_OK), 0);
    stats_free(st);
    free(st);
}

static void write_over_a_directory_fails_and_removes_the_temp(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir();
    char *path = path_in(dir, "taken"), *tmp = path_in(dir, "taken.tmp");
    char *inner = path_in(path, "file");
    assert_int_equal(mkdir(path, 0700), 0);
    FILE *f = fopen(inner, "w"); /* a non-empty directory: rename onto it fails */
    assert_non_null(f);
    fclose(f);
    llm_config cfg;
    fill_config(&cfg);
    stats *st = synthetic_stats();
    char err[256] = "";
    assert_int_equal(snapshot_write(path, st, &cfg, 0, 0, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot write "));
    assert_int_not_equal(access(tmp, F_OK), 0);
    stats_free(st);
    free(st);
    unlink(inner);
    free(inner);
    free(tmp);
    rmdir(path);
    free(path);
    remove_with_dir(path_in(dir, "x")); /* removes the test directory */
}

/* cJSON's heap, counted: the high-water mark of bytes it holds at once. */
static size_t json_live, json_peak;

static void *counting_malloc(size_t n)
{
    size_t *p = malloc(n + 16);
    if (!p)
        return NULL;
    *p = n;
    json_live += n;
    if (json_live > json_peak)
        json_peak = json_live;
    return (char *)p + 16;
}

static void counting_free(void *q)
{
    if (!q)
        return;
    size_t *p = (size_t *)((char *)q - 16);
    json_live -= *p;
    free(p);
}

/* A soak's autosave: the series is streamed, so the JSON memory a save needs does not grow
 * with the length of the run (a tree of 20,000 rows would hold megabytes). */
static size_t peak_json_bytes_of_a_save(uint64_t seconds, const char *path)
{
    llm_config cfg;
    fill_config(&cfg);
    stats *st = synthetic_stats();
    stats_tick(st, START + seconds * SEC);
    cJSON_Hooks hooks = {counting_malloc, counting_free};
    cJSON_InitHooks(&hooks);
    json_live = json_peak = 0;
    char err[256] = "";
    int rc = snapshot_write(path, st, &cfg, 0, 0, 0, err, sizeof err);
    cJSON_InitHooks(NULL);
    assert_int_equal(rc, 0);
    assert_int_equal(json_live, 0);
    stats_free(st);
    free(st);
    return json_peak;
}

static void a_long_series_needs_no_more_memory_to_save(void **state)
{
    (void)state;
    char *path = path_in(tu_tmpdir(), "long.json");
    size_t short_run = peak_json_bytes_of_a_save(4, path);
    size_t long_run = peak_json_bytes_of_a_save(20000, path);
    assert_true(short_run > 0);
    assert_true(long_run < short_run + 4096);
    remove_with_dir(path);
}

/* The streamed file is the document snapshot_build makes, series and all. */
static void streamed_file_equals_the_built_document(void **state)
{
    (void)state;
    llm_config cfg;
    fill_config(&cfg);
    stats *st = synthetic_stats();
    stats_set_gauges(st, 2, 3, NAN, 61.5);
    stats_tick(st, START + 300 * SEC);
    char *path = path_in(tu_tmpdir(), "same.json");
    char err[256] = "";
    assert_int_equal(snapshot_write(path, st, &cfg, 1700000000, 1700000300, 7, err, sizeof err), 0);
    size_t len = 0;
    char *text = tu_read_file(path, &len);
    assert_non_null(text);
    assert_int_equal(text[len - 1], '\n');
    cJSON *written = cJSON_Parse(text);
    cJSON *built = snapshot_build(st, &cfg, 1700000000, 1700000300, 7);
    assert_non_null(written);
    assert_non_null(built);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(written, "series")), st->n_series);
    assert_true(st->n_series >= 300);
    assert_true(cJSON_Compare(written, built, 1));

    char *line = NULL;
    size_t line_len = 0;
    FILE *out = open_memstream(&line, &line_len);
    assert_non_null(out);
    assert_int_equal(snapshot_print(out, st, &cfg, 1700000000, 1700000300, 7), 0);
    fclose(out);
    assert_int_equal(line_len, len - 1);
    assert_memory_equal(line, text, line_len);

    free(line);
    cJSON_Delete(written);
    cJSON_Delete(built);
    free(text);
    stats_free(st);
    free(st);
    remove_with_dir(path);
}

static void summary_prints_counts_percentiles_and_errors(void **state)
{
    (void)state;
    stats *st = synthetic_stats();
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    stats_print_summary(out, st, 2);
    fclose(out);
    assert_non_null(strstr(buf, "10 ok, 1 failed"));
    assert_non_null(strstr(buf, "160 output"));
    assert_non_null(strstr(buf, "TTFT (ms)"));
    assert_non_null(strstr(buf, "TPOT (ms)"));
    assert_non_null(strstr(buf, "per-stream TPS (tok/s)"));
    assert_non_null(strstr(buf, "http_5xx"));
    assert_non_null(strstr(buf, "500 from the server"));
    assert_non_null(strstr(buf, "lost events  2"));
    assert_non_null(strstr(buf, "steps"));
    free(buf);
    stats_free(st);
    free(st);
}

/* ---- GPU telemetry (issue 16) ---- */

static gpuhist gh;

/* Two GPUs read at seconds 1 and 3 of the synthetic run's four. */
static void fill_gpu_history(void)
{
    gpumon m;
    memset(&m, 0, sizeof m);
    m.n = 2;
    strcpy(m.dev[0].name, "NVIDIA A100-SXM4-80GB");
    strcpy(m.dev[1].name, "AMD Radeon RX 7900 XTX");
    m.dev[1].vendor = GPU_VENDOR_AMD;
    gpuhist_init(&gh, &m);
    gpumon_reading r = {.n = 2};
    r.dev[0] = (gpumon_figures){87, 40960, 81920, 64, 312.5, 0};
    r.dev[1] = (gpumon_figures){37, 4096, 24560, 58, 212, -1};
    gpuhist_record(&gh, 1, &r);
    r.dev[0] = (gpumon_figures){91, 41000, 81920, 71, 330, 1};
    r.dev[1].power_w = NAN;
    gpuhist_record(&gh, 3, &r);
}

static cJSON *gpu_doc(bool with_gpu)
{
    llm_config cfg;
    fill_config(&cfg);
    stats *st = synthetic_stats();
    if (with_gpu) {
        fill_gpu_history();
        st->gpu = &gh;
    }
    char *path = path_in(tu_tmpdir(), "snap.json"), err[256] = "";
    assert_int_equal(snapshot_write(path, st, &cfg, 1700000000, 1700000060, 0, err, sizeof err), 0);
    char *text = tu_read_file(path, NULL);
    assert_non_null(text);
    cJSON *doc = cJSON_Parse(text);
    assert_non_null(doc);
    free(text);
    remove_with_dir(path);
    stats_free(st);
    free(st);
    return doc;
}

static void assert_number(const cJSON *o, const char *key, double want)
{
    const cJSON *v = need(o, key);
    if (!cJSON_IsNumber(v) || fabs(v->valuedouble - want) > 1e-9)
        fail_msg("\"%s\": want %g", key, want);
}

static void series_entries_carry_each_gpu_and_the_run_its_gpu_summary(void **state)
{
    (void)state;
    cJSON *doc = gpu_doc(true);
    const cJSON *series = need(doc, "series");
    assert_int_equal(cJSON_GetArraySize(series), 4);
    /* second 0: nothing read yet, so no key */
    assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(series, 0), "gpu"));
    /* second 2 had no reading: second 1's shows, as the other gauges carry */
    const cJSON *g2 = need(cJSON_GetArrayItem(series, 2), "gpu");
    assert_int_equal(cJSON_GetArraySize(g2), 2);
    const cJSON *d0 = cJSON_GetArrayItem(g2, 0), *d1 = cJSON_GetArrayItem(g2, 1);
    assert_number(d0, "index", 0);
    assert_string_equal(need(d0, "name")->valuestring, "NVIDIA A100-SXM4-80GB");
    assert_number(d0, "util_pct", 87);
    assert_number(d0, "mem_used_mb", 40960);
    assert_number(d0, "mem_total_mb", 81920);
    assert_number(d0, "temp_c", 64);
    assert_number(d0, "power_w", 312.5);
    assert_number(d1, "index", 1);
    assert_number(d1, "util_pct", 37);
    const cJSON *g3 = need(cJSON_GetArrayItem(series, 3), "gpu");
    assert_number(cJSON_GetArrayItem(g3, 0), "temp_c", 71);
    assert_true(cJSON_IsNull(need(cJSON_GetArrayItem(g3, 1), "power_w")));
    const cJSON *gpu = need_object(doc, "gpu");
    const cJSON *devs = need(gpu, "devices");
    assert_int_equal(cJSON_GetArraySize(devs), 2);
    assert_number(cJSON_GetArrayItem(devs, 1), "index", 1);
    assert_string_equal(need(cJSON_GetArrayItem(devs, 0), "vendor")->valuestring, "nvidia");
    assert_string_equal(need(cJSON_GetArrayItem(devs, 1), "vendor")->valuestring, "amd");
    assert_string_equal(need(cJSON_GetArrayItem(devs, 1), "name")->valuestring,
                        "AMD Radeon RX 7900 XTX");
    assert_number(gpu, "max_temp_c", 71);
    assert_number(gpu, "max_power_w", 330);
    assert_number(gpu, "max_util_pct", 91);
    assert_true(cJSON_IsTrue(need(gpu, "throttling_seen")));
    cJSON_Delete(doc);
    gpuhist_free(&gh);
}

static void without_a_gpu_the_gpu_key_is_null_and_rows_have_none(void **state)
{
    (void)state;
    cJSON *doc = gpu_doc(false);
    assert_true(cJSON_IsNull(need(doc, "gpu")));
    const cJSON *row;
    cJSON_ArrayForEach(row, need(doc, "series"))
        assert_null(cJSON_GetObjectItemCaseSensitive(row, "gpu"));
    cJSON_Delete(doc);
}

static void summary_says_the_hottest_gpu_and_throttling(void **state)
{
    (void)state;
    stats *st = synthetic_stats();
    fill_gpu_history();
    st->gpu = &gh;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    stats_print_summary(out, st, 0);
    fclose(out);
    assert_non_null(strstr(buf, "gpu          2 devices: NVIDIA A100-SXM4-80GB, AMD Radeon"));
    assert_non_null(strstr(buf, "highest 71 \xC2\xB0"
                                "C 330 W 91 % busy; throttling seen"));
    free(buf);
    gpuhist_free(&gh);
    stats_free(st);
    free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(snapshot_has_every_contract_key),
        cmocka_unit_test(snapshot_figures_match_the_stats),
        cmocka_unit_test(api_key_is_never_written),
        cmocka_unit_test(atomic_write_leaves_no_temp_file_and_replaces),
        cmocka_unit_test(write_into_missing_directory_fails_with_a_sentence),
        cmocka_unit_test(write_over_a_directory_fails_and_removes_the_temp),
        cmocka_unit_test(streamed_file_equals_the_built_document),
        cmocka_unit_test(a_long_series_needs_no_more_memory_to_save),
        cmocka_unit_test(summary_prints_counts_percentiles_and_errors),
        cmocka_unit_test(series_entries_carry_each_gpu_and_the_run_its_gpu_summary),
        cmocka_unit_test(without_a_gpu_the_gpu_key_is_null_and_rows_have_none),
        cmocka_unit_test(summary_says_the_hottest_gpu_and_throttling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
