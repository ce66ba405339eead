/* Tests for report/snapread: the model read back from what core/snapshot writes, histograms
 * that give back the writer's percentiles, older and newer files, the run identity. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/snapshot.h"
#include "report/snapread.h"
#include "testutil.h"

#define MS 1000000ULL
#define SEC 1000000000ULL
#define START (1000 * SEC)

static void add(stats *st, llm_event ev)
{
    stats_consume(st, &ev);
}

/* Two closed-loop steps of 9 requests with spread latencies (several buckets each, a
 * minimum inside its bucket), connect times all in one bucket above its midpoint (so the
 * writer's percentiles are its exact minimum), one failure. */
static stats *two_steps(void)
{
    stats *st = malloc(sizeof *st);
    assert_non_null(st);
    stats_init(st, START, NULL);
    for (uint32_t s = 0; s < 2; s++) {
        llm_event step = {.kind = EV_STEP, .step = s, .t_ns = START + s * 5 * SEC};
        step.u.step_change = (ev_step){.index = s, .total = 2, .concurrency = 1 + 3 * s};
        add(st, step);
        for (uint64_t i = 0; i < 9; i++) {
            uint64_t t0 = START + s * 5 * SEC + i * 300 * MS;
            uint64_t ttft = 41 * MS + 3217 * i * 1000 + s * 7 * MS + 123456;
            llm_event d = {.kind = EV_REQUEST_DONE, .step = s, .t_ns = t0 + 900 * MS};
            d.u.done = (ev_done){.t0_ns = t0,
                                 .ttfb_ns = ttft - 5 * MS,
                                 .ttft_ns = ttft,
                                 .ttfo_ns = ttft,
                                 .e2e_ns = 800 * MS + i * 13 * MS + 777,
                                 .output_tokens = 16 + (uint32_t)i,
                                 .prompt_tokens = 64,
                                 .content_events = 16 + (uint32_t)i,
                                 .usage_reported = 1,
                                 .connect_us = 1549 + (uint32_t)i % 2};
            add(st, d);
        }
    }
    llm_event f = {.kind = EV_REQUEST_FAILED, .step = 1, .t_ns = START + 7 * SEC};
    f.u.failed = (ev_failed){.t0_ns = START + 6 * SEC, .err_class = ERR_HTTP_5XX};
    snprintf(f.u.failed.message, sizeof f.u.failed.message, "500 from the server");
    add(st, f);
    stats_tick(st, START + 10 * SEC);
    return st;
}

static void fill_config(llm_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->url = "http://127.0.0.1:8000/v1";
    cfg->model = "test-model";
    cfg->concurrency = 4;
    cfg->ramp_start = 1;
    cfg->ramp_end = 4;
    cfg->ramp_step = 3;
    cfg->temperature = -1;
    cfg->slo.ttft_s = 2.0;
    cfg->slo.errors_pct = -1;
}

static char *written(stats *st, const llm_config *cfg)
{
    char *path = malloc(strlen(tu_tmpdir()) + 16);
    assert_non_null(path);
    sprintf(path, "%s/snap.json", tu_tmpdir());
    char err[256];
    assert_int_equal(snapshot_write(path, st, cfg, 0, 10, 0, err, sizeof err), 0);
    return path;
}

static void reader_gives_back_what_the_writer_wrote(void **state)
{
    (void)state;
    stats *st = two_steps();
    llm_config cfg;
    fill_config(&cfg);
    char *path = written(st, &cfg);
    snap_doc d;
    char err[256];
    assert_int_equal(snap_load(path, &d, err, sizeof err), 0);
    assert_string_equal(d.config.url, "http://127.0.0.1:8000/v1");
    assert_string_equal(d.config.model, "test-model");
    assert_string_equal(d.config.endpoint, "chat");
    assert_string_equal(d.config.plan, "ramp");
    assert_true(d.config.slo.ttft_s == 2.0 && d.config.slo.errors_pct < 0);
    assert_int_equal(d.n_steps, 2);
    assert_true(d.has_totals);
    assert_true(d.steps[1].concurrency == 4 && d.steps[1].index == 2);
    assert_true(d.steps[1].ok == 9 && d.steps[1].failed == 1);
    assert_true(d.steps[1].errors[ERR_HTTP_5XX] == 1);
    assert_string_equal(d.steps[1].error_messages[ERR_HTTP_5XX], "500 from the server");
    assert_true(d.totals.ok == 18 && d.totals.index == 0);
    assert_true(d.totals.output_tokens == 2 * (9 * 16 + 36));
    assert_string_equal(d.steps[0].test, "output");
    assert_false(d.steps[0].cut_short);
    assert_true(d.n_series > 0);
    assert_true(d.steps[0].m[STATS_TTFT].count == 9);
    /* the rates and the summaries as written */
    assert_true(fabs(d.steps[0].rps - stats_agg_rps(&st->steps[0])) < 0.0006);
    assert_true(fabs(d.steps[0].m[STATS_E2E].p99 - stats_agg_value(&st->steps[0], STATS_E2E, 99)) <
                0.0006);
    snap_free(&d);
    stats_free(st);
    free(st);
    free(path);
}

/* The percentiles a snapshot gives (p50 to max) come back exactly from the rebuilt
 * histograms, though the file has no minimum: a percentile in the lowest bucket gives it. */
static void rebuilt_histograms_give_the_writers_percentiles(void **state)
{
    (void)state;
    stats *st = two_steps();
    llm_config cfg;
    fill_config(&cfg);
    char *path = written(st, &cfg);
    snap_doc d;
    char err[256];
    assert_int_equal(snap_load(path, &d, err, sizeof err), 0);
    static const double pcts[] = {50, 90, 95, 99, 99.9, 100};
    for (size_t s = 0; s < 2; s++) {
        for (int m = 0; m < STATS_METRICS; m++) {
            hist h;
            snap_hist_build(&d.steps[s], (stats_metric)m, &h);
            const hist *w = &st->steps[s].h[m];
            assert_int_equal(h.total, w->total);
            for (size_t k = 0; w->total && k < sizeof pcts / sizeof pcts[0]; k++)
                if (hist_percentile(&h, pcts[k]) != hist_percentile(w, pcts[k]))
                    fail_msg("step %zu %s p%g: rebuilt %llu, written %llu", s,
                             stats_metric_key((stats_metric)m), pcts[k],
                             (unsigned long long)hist_percentile(&h, pcts[k]),
                             (unsigned long long)hist_percentile(w, pcts[k]));
            if (w->total && fabs(hist_mean(&h) - hist_mean(w)) > 0.5)
                fail_msg("%s mean: %g vs %g", stats_metric_key((stats_metric)m), hist_mean(&h),
                         hist_mean(w));
        }
    }
    snap_free(&d);
    stats_free(st);
    free(st);
    free(path);
}

static char *write_text(const char *text)
{
    char *path = malloc(strlen(tu_tmpdir()) + 16);
    assert_non_null(path);
    sprintf(path, "%s/x.json", tu_tmpdir());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Keys the reader does not know are ignored; what a file lacks is NaN / NULL / false; the
 * window counts of an older file come from its rates. */
static void unknown_keys_nulls_and_older_files_are_read(void **state)
{
    (void)state;
    char *path = write_text(
        "{\"schema\":\"llmload.snapshot/1\",\"from_the_future\":{\"a\":[1,2]},"
        "\"config\":{\"url\":\"http://h/v1\",\"plan\":{\"kind\":\"fixed\"},\"new\":1},"
        "\"steps\":[{\"concurrency\":2,\"duration_s\":4,\"rps\":2.5,\"tps\":50,\"ttft_ms\":"
        "{\"p50\":null},\"histograms\":{\"ttft_ms\":{\"buckets\":[[1000,1008,3],\"junk\","
        "[5,1]]}},\"window\":{\"completed\":9},\"later\":true},"
        "{\"rate\":3,\"duration_s\":null,\"manual\":true}],"
        "\"analysis\":{\"knee\":{\"rate\":3,\"reason\":\"r\"},\"findings\":[\"f\",7]}}");
    snap_doc d;
    char err[256];
    assert_int_equal(snap_load(path, &d, err, sizeof err), 0);
    assert_int_equal(d.n_steps, 2);
    assert_false(d.has_totals);
    assert_null(d.config.model);
    assert_true(isnan(d.steps[0].m[STATS_TTFT].p50));
    assert_true(d.steps[0].h[STATS_TTFT].present && d.steps[0].h[STATS_TTFT].n_buckets == 1);
    assert_false(d.steps[0].h[STATS_E2E].present);
    assert_true(snap_window_completed(&d.steps[0]) == 9); /* as written */
    assert_true(snap_window_tokens(&d.steps[0]) == 200);  /* tps x duration */
    assert_true(isnan(snap_window_tokens(&d.steps[1])));  /* neither */
    assert_true(d.steps[1].manual && d.steps[1].rate == 3);
    assert_true(isnan(d.steps[1].duration_s));
    assert_true(d.analysis.has_knee && d.analysis.knee_is_rate && d.analysis.knee_load == 3);
    assert_int_equal(d.analysis.n_findings, 1);
    assert_false(d.analysis.has_search);
    hist h;
    snap_hist_build(&d.steps[0], STATS_TTFT, &h);
    assert_int_equal(h.total, 3);
    snap_free(&d);
    free(path);
}

static snap_doc run_of(const char *url, const char *model, const char *endpoint, const char *plan)
{
    snap_doc d;
    memset(&d, 0, sizeof d);
    d.config = (snap_config){.url = url, .model = model, .endpoint = endpoint, .plan = plan};
    return d;
}

/* The run's identity: URL without credentials or a trailing '/', then model, endpoint,
 * plan kind; the first that differs is named. */
static void config_differs_names_the_first_field_and_ignores_credentials(void **state)
{
    (void)state;
    snap_doc a = run_of("http://h:8000/v1", "m", "chat", "ramp");
    snap_doc b = run_of("http://user:secret@h:8000/v1/", "m", "chat", "ramp");
    assert_null(snap_config_differs(&a, &b));
    b.config.url = "https://h:8000/v1";
    assert_string_equal(snap_config_differs(&a, &b), "config.url");
    b = run_of("http://h:8000/v1", NULL, "chat", "ramp");
    assert_string_equal(snap_config_differs(&a, &b), "config.model");
    b = run_of("http://h:8000/v1", "m", "completions", "ramp");
    assert_string_equal(snap_config_differs(&a, &b), "config.endpoint");
    b = run_of("http://h:8000/v1", "m", "chat", "fixed");
    assert_string_equal(snap_config_differs(&a, &b), "config.plan.kind");
}

/* Issue 16: two GPUs over three seconds (the second GPU's power never read). */
static const char *const k_gpu_snapshot =
    "{\"schema\":\"llmload.snapshot/1\",\"config\":{\"url\":\"http://127.0.0.1:9/v1\"},"
    "\"steps\":[],\"series\":["
    "{\"t\":0,\"rps\":1},"
    "{\"t\":1,\"rps\":1,\"gpu\":[{\"index\":0,\"name\":\"NVIDIA A100-SXM4-80GB\",\"util_pct\":80,"
    "\"mem_used_mb\":40000,\"mem_total_mb\":81920,\"temp_c\":60,\"power_w\":300},"
    "{\"index\":1,\"name\":\"NVIDIA L4\",\"util_pct\":10,\"mem_used_mb\":2048,"
    "\"mem_total_mb\":23034,\"temp_c\":41,\"power_w\":null}]},"
    "{\"t\":2,\"rps\":1,\"gpu\":[{\"index\":0,\"name\":\"NVIDIA A100-SXM4-80GB\",\"util_pct\":90,"
    "\"mem_used_mb\":40960,\"mem_total_mb\":81920,\"temp_c\":64,\"power_w\":312.5},"
    "{\"index\":1,\"name\":\"NVIDIA L4\",\"util_pct\":14,\"mem_used_mb\":2048,"
    "\"mem_total_mb\":23034,\"temp_c\":43,\"power_w\":null}]}],"
    "\"gpu\":{\"devices\":[{\"index\":0,\"name\":\"NVIDIA A100-SXM4-80GB\",\"vendor\":\"nvidia\"},"
    "{\"index\":1,\"name\":\"NVIDIA L4\",\"vendor\":\"nvidia\"}],\"max_temp_c\":64,"
    "\"max_power_w\":312.5,\"max_util_pct\":90,\"throttling_seen\":true}}";

static void gpu_devices_are_read_with_their_figures_over_the_series(void **state)
{
    (void)state;
    char *path = write_text(k_gpu_snapshot);
    snap_doc d;
    char err[256];
    assert_int_equal(snap_load(path, &d, err, sizeof err), 0);
    assert_true(d.gpu.present);
    assert_int_equal(d.gpu.n_devices, 2);
    assert_string_equal(d.gpu.devices[1].name, "NVIDIA L4");
    assert_string_equal(d.gpu.devices[0].vendor, "nvidia");
    assert_true(d.gpu.max_temp_c == 64 && d.gpu.max_power_w == 312.5 && d.gpu.max_util_pct == 90);
    assert_true(d.gpu.throttling_seen);
    const snap_gpu_device *a = &d.gpu.devices[0], *b = &d.gpu.devices[1];
    assert_true(a->util_mean_pct == 85 && a->util_max_pct == 90 && a->temp_max_c == 64);
    assert_true(a->power_max_w == 312.5 && a->mem_used_max_mb == 40960 && a->mem_total_mb == 81920);
    assert_true(b->util_mean_pct == 12 && b->temp_max_c == 43 && isnan(b->power_max_w));
    snap_free(&d);
    free(path);
    /* "gpu": null (no GPU) and a file from before the key read the same: none */
    path = write_text("{\"schema\":\"llmload.snapshot/1\",\"gpu\":null}");
    assert_int_equal(snap_load(path, &d, err, sizeof err), 0);
    assert_false(d.gpu.present);
    assert_int_equal(d.gpu.n_devices, 0);
    snap_free(&d);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reader_gives_back_what_the_writer_wrote),
        cmocka_unit_test(rebuilt_histograms_give_the_writers_percentiles),
        cmocka_unit_test(unknown_keys_nulls_and_older_files_are_read),
        cmocka_unit_test(config_differs_names_the_first_field_and_ignores_credentials),
        cmocka_unit_test(gpu_devices_are_read_with_their_figures_over_the_series),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
