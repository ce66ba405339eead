/* Tests for compare: `llmload compare` on ramps recorded from the simulator — identical runs
 * are within noise, a run with half the decode rate is worse by the right amount in every
 * format, runs of different tests are refused unless --force, --fail-if-worse gates. */
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

#include "core/hist.h"
#include "report/compare.h"
#include "sim/sim.h"
#include "testutil.h"

typedef struct {
    char base[256], same[256], slow[256];
} runs;

/* One ramp c=2→4, 6 s a step, 32 tokens. A step's throughput noise comes from the seconds of
 * the series inside it, less the first and last (at least 3 needed); 5 s steps left 2 or 3 by
 * where the seconds fell, and with 2 the noise fell back to 1/√completions, wide enough that
 * a halved TPS read "within noise" in about one run of six. */
static void record(const char *url, const char *json)
{
    char *argv[] = {LLM_BINARY, "run",          "--no-tui",        "--url",      (char *)url,
                    "--ramp",   "2:4:x2",       "--step-duration", "6s",         "--max-tokens",
                    "32",       "--ignore-eos", "--json",          (char *)json, NULL};
    tu_result res;
    assert_int_equal(tu_run(argv, NULL, NULL, 60, &res), 0);
    if (res.exit_code != 0)
        fail_msg("run exited %d: %s", res.exit_code, res.err);
    tu_result_free(&res);
}

/* A simulator at decode_rate on port (0 = any); the same port again after a stop, so both
 * runs name one endpoint. */
static sim_server *sim_at(int port, double decode_rate)
{
    sim_options o;
    sim_options_default(&o);
    o.quiet = true;
    o.port = port;
    o.decode_rate = decode_rate;
    char err[256];
    sim_server *s = NULL;
    for (int i = 0; i < 40 && sim_start(&o, &s, err, sizeof err) != 0; i++)
        usleep(50 * 1000); /* the port is free again once the last connection closed */
    if (!s)
        fail_msg("sim_start: %s", err);
    return s;
}

static int record_runs(void **state)
{
    runs *r = calloc(1, sizeof *r);
    const char *dir = tu_tmpdir();
    snprintf(r->base, sizeof r->base, "%s/base.json", dir);
    snprintf(r->same, sizeof r->same, "%s/same.json", dir);
    snprintf(r->slow, sizeof r->slow, "%s/slow.json", dir);
    sim_server *s = sim_at(0, 50);
    int port = sim_port(s);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", port);
    record(url, r->base);
    record(url, r->same);
    sim_stop(s);
    s = sim_at(port, 25);
    record(url, r->slow);
    sim_stop(s);
    *state = r;
    return 0;
}

static int remove_runs(void **state)
{
    runs *r = *state;
    unlink(r->base);
    unlink(r->same);
    unlink(r->slow);
    free(r);
    return 0;
}

static tu_result compare(const char *a, const char *b, const char *const *extra)
{
    char *argv[16] = {LLM_BINARY, "compare", (char *)a, (char *)b};
    int n = 4;
    for (; extra && *extra && n < 15; extra++)
        argv[n++] = (char *)*extra;
    argv[n] = NULL;
    tu_result res;
    assert_int_equal(tu_run(argv, NULL, NULL, 30, &res), 0);
    return res;
}

static void load(const char *path, snap_doc *d)
{
    char err[256];
    if (snap_load(path, d, err, sizeof err) != 0)
        fail_msg("%s", err);
}

static void identical_runs_are_within_noise(void **state)
{
    runs *r = *state;
    snap_doc d[2];
    load(r->base, &d[0]);
    load(r->same, &d[1]);
    cmp_result c;
    assert_int_equal(cmp_build(&d[0], &d[1], &c), 0);
    assert_int_equal(c.n_rows, 2);
    for (size_t i = 0; i < c.n_rows; i++)
        for (int f = 0; f < CMP_FIGURES; f++)
            if (c.rows[i].c[f].verdict != CMP_NOISE)
                fail_msg("c=%.0f %s: %s (%.4g -> %.4g)", c.rows[i].load,
                         cmp_figure_key((cmp_figure)f), cmp_verdict_name(c.rows[i].c[f].verdict),
                         c.rows[i].c[f].base, c.rows[i].c[f].next);
    assert_int_equal(c.verdict, CMP_NOISE);
    cmp_free(&c);
    snap_free(&d[0]);
    snap_free(&d[1]);
    tu_result res = compare(r->base, r->same, (const char *const[]){"--fail-if-worse", "0", NULL});
    assert_int_equal(res.exit_code, 0);
    assert_non_null(strstr(res.out, "**Verdict: within noise at all 2 matched loads**"));
    tu_result_free(&res);
}

/* Half the decode rate: TPOT doubles and TPS halves at every load, beyond noise. */
static void half_decode_rate_is_worse_by_the_right_amount(void **state)
{
    runs *r = *state;
    snap_doc d[2];
    load(r->base, &d[0]);
    load(r->slow, &d[1]);
    cmp_result c;
    assert_int_equal(cmp_build(&d[0], &d[1], &c), 0);
    assert_int_equal(c.n_rows, 2);
    for (size_t i = 0; i < c.n_rows; i++) {
        const cmp_change *tpot = &c.rows[i].c[CMP_TPOT_P50], *tps = &c.rows[i].c[CMP_TPS];
        assert_int_equal(tpot->verdict, CMP_WORSE);
        assert_true(tpot->pct > 85 && tpot->pct < 115);
        assert_int_equal(tps->verdict, CMP_WORSE);
        assert_true(tps->pct < -35 && tps->pct > -60);
        assert_int_equal(c.rows[i].verdict, CMP_WORSE);
        assert_int_equal(c.rows[i].c[CMP_ERROR_RATE].verdict, CMP_NOISE);
    }
    assert_int_equal(c.verdict, CMP_WORSE);
    assert_true(c.worst_pct > 85);
    cmp_free(&c);
    snap_free(&d[0]);
    snap_free(&d[1]);
}

static void every_format_says_worse(void **state)
{
    runs *r = *state;
    tu_result md = compare(r->base, r->slow, NULL);
    assert_int_equal(md.exit_code, 0);
    assert_non_null(strstr(md.out, "**Verdict: worse: "));
    assert_non_null(strstr(md.out, "| throughput knee |"));
    assert_non_null(strstr(md.out, "| latency knee |"));
    assert_non_null(strstr(md.out, "## c=4 (output): worse"));
    assert_non_null(strstr(md.out, "| TPOT p50 (ms) |"));
    tu_result_free(&md);

    tu_result csv = compare(r->base, r->slow, (const char *const[]){"--format", "csv", NULL});
    assert_int_equal(csv.exit_code, 0);
    assert_true(
        strncmp(csv.out, "test,load_kind,load,figure,base,new,change,change_pct,verdict", 61) == 0);
    assert_non_null(strstr(csv.out, "output,concurrency,4,tpot_p50_ms,"));
    const char *row = strstr(csv.out, "output,concurrency,4,tpot_p50_ms,");
    assert_non_null(strstr(row, ",worse,"));
    assert_true(strstr(row, ",worse,") < strchr(row, '\n'));
    tu_result_free(&csv);

    char out[300];
    snprintf(out, sizeof out, "%s/cmp.html", tu_tmpdir());
    tu_result html =
        compare(r->base, r->slow, (const char *const[]){"--format", "html", "-o", out, NULL});
    assert_int_equal(html.exit_code, 0);
    char *page = tu_read_file(out, NULL);
    assert_non_null(page);
    assert_non_null(strstr(page, "TPS vs load: base and new"));
    assert_non_null(strstr(page, "TTFT vs load: base and new"));
    /* both runs drawn on one chart: two paths and the two names */
    const char *chart = strstr(page, "TPS vs load: base and new");
    const char *end = strstr(chart, "</svg>");
    const char *p1 = strstr(chart, "<path"), *p2 = p1 ? strstr(p1 + 1, "<path") : NULL;
    assert_true(p1 && p2 && p2 < end);
    assert_non_null(strstr(page, "<span class=\"worse\">worse</span>"));
    free(page);
    unlink(out);
    tu_result_free(&html);
}

static void fail_if_worse_exits_1_beyond_its_percentage_only(void **state)
{
    runs *r = *state;
    tu_result res = compare(r->base, r->slow, (const char *const[]){"--fail-if-worse", "10", NULL});
    assert_int_equal(res.exit_code, 1);
    assert_non_null(strstr(res.err, "more than --fail-if-worse 10"));
    tu_result_free(&res);
    res = compare(r->base, r->slow, (const char *const[]){"--fail-if-worse", "500", NULL});
    assert_int_equal(res.exit_code, 0);
    tu_result_free(&res);
}

/* A copy of src with config.KEY set to a number. */
static void copy_with(const char *src, const char *dst, const char *key, double v)
{
    char *text = tu_read_file(src, NULL);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    cJSON *cfg = cJSON_GetObjectItem(doc, "config");
    cJSON_ReplaceItemInObject(cfg, key, cJSON_CreateNumber(v));
    char *out = cJSON_Print(doc);
    FILE *f = fopen(dst, "w");
    fputs(out, f);
    fclose(f);
    free(out);
    cJSON_Delete(doc);
}

static void runs_of_another_workload_are_refused_unless_forced(void **state)
{
    runs *r = *state;
    char other[300];
    snprintf(other, sizeof other, "%s/other.json", tu_tmpdir());
    copy_with(r->base, other, "max_tokens", 256);
    tu_result res = compare(r->base, other, NULL);
    assert_int_equal(res.exit_code, 2);
    assert_non_null(strstr(res.err, "config.max_tokens differs"));
    tu_result_free(&res);
    res = compare(r->base, other, (const char *const[]){"--force", NULL});
    assert_int_equal(res.exit_code, 0);
    tu_result_free(&res);
    unlink(other);
}

static void usage_errors_are_exit_2(void **state)
{
    runs *r = *state;
    char *one[] = {LLM_BINARY, "compare", r->base, NULL};
    tu_result res;
    assert_int_equal(tu_run(one, NULL, NULL, 10, &res), 0);
    assert_int_equal(res.exit_code, 2);
    assert_non_null(strstr(res.err, "compare needs exactly two snapshots"));
    tu_result_free(&res);
    res = compare(r->base, r->slow, (const char *const[]){"-o", r->base, NULL});
    assert_int_equal(res.exit_code, 2);
    assert_non_null(strstr(res.err, "is also an input"));
    tu_result_free(&res);
    res = compare(r->base, r->slow, (const char *const[]){"--format", "vllm-json", NULL});
    assert_int_equal(res.exit_code, 2);
    tu_result_free(&res);
}

/* ---- synthetic snapshots: the rules on known numbers ---- */

typedef struct {
    double c, ok, failed, tps;
    const double *ttft_ms; /* ok values */
} fake_step;

static cJSON *fake_metric(cJSON *step, cJSON *hists, const char *key, const double *ms, size_t n)
{
    hist h;
    hist_init(&h);
    for (size_t i = 0; i < n; i++)
        hist_record(&h, (uint64_t)llround(ms[i] * 1000));
    cJSON *sum = cJSON_AddObjectToObject(step, key);
    cJSON_AddNumberToObject(sum, "count", (double)n);
    cJSON_AddNumberToObject(sum, "mean", hist_mean(&h) / 1000);
    cJSON_AddNumberToObject(sum, "min", (double)h.min / 1000);
    cJSON_AddNumberToObject(sum, "max", (double)h.max / 1000);
    cJSON_AddNumberToObject(sum, "p50", (double)hist_percentile(&h, 50) / 1000);
    cJSON_AddNumberToObject(sum, "p99", (double)hist_percentile(&h, 99) / 1000);
    cJSON *rows = cJSON_AddArrayToObject(cJSON_AddObjectToObject(hists, key), "buckets");
    for (size_t b = 0; b < HIST_BUCKETS; b++)
        if (h.counts[b]) {
            const double row[] = {(double)hist_bucket_low(b), (double)hist_bucket_high(b),
                                  (double)h.counts[b]};
            cJSON_AddItemToArray(rows, cJSON_CreateDoubleArray(row, 3));
        }
    return sum;
}

/* A run of steps of 10 s each; the window counts follow rps = ok / 10, tps as given. */
static void fake_run(const char *path, const fake_step *steps, size_t n)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "schema", "llmload.snapshot/1");
    cJSON *cfg = cJSON_AddObjectToObject(doc, "config");
    cJSON_AddStringToObject(cfg, "url", "http://127.0.0.1:8000/v1");
    cJSON_AddNumberToObject(cfg, "max_tokens", 128);
    cJSON *arr = cJSON_AddArrayToObject(doc, "steps");
    for (size_t i = 0; i < n; i++) {
        const fake_step *f = &steps[i];
        cJSON *s = cJSON_CreateObject();
        cJSON_AddNumberToObject(s, "concurrency", f->c);
        cJSON_AddNumberToObject(s, "duration_s", 10);
        cJSON *req = cJSON_AddObjectToObject(s, "requests");
        cJSON_AddNumberToObject(req, "ok", f->ok);
        cJSON_AddNumberToObject(req, "failed", f->failed);
        cJSON *win = cJSON_AddObjectToObject(s, "window");
        cJSON_AddNumberToObject(win, "completed", f->ok);
        cJSON_AddNumberToObject(win, "output_tokens", f->tps * 10);
        cJSON_AddNumberToObject(s, "rps", f->ok / 10);
        cJSON_AddNumberToObject(s, "tps", f->tps);
        fake_metric(s, cJSON_AddObjectToObject(s, "histograms"), "ttft_ms", f->ttft_ms,
                    (size_t)f->ok);
        cJSON_AddItemToArray(arr, s);
    }
    char *text = cJSON_Print(doc);
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    fputs(text, out);
    fclose(out);
    free(text);
    cJSON_Delete(doc);
}

static void judge(const fake_step *a, size_t na, const fake_step *b, size_t nb, cmp_result *r,
                  snap_doc d[2])
{
    char pa[300], pb[300], err[256];
    snprintf(pa, sizeof pa, "%s/fa.json", tu_tmpdir());
    snprintf(pb, sizeof pb, "%s/fb.json", tu_tmpdir());
    fake_run(pa, a, na);
    fake_run(pb, b, nb);
    if (snap_load(pa, &d[0], err, sizeof err) || snap_load(pb, &d[1], err, sizeof err))
        fail_msg("%s", err);
    assert_int_equal(cmp_build(&d[0], &d[1], r), 0);
    unlink(pa);
    unlink(pb);
}

static void release(cmp_result *r, snap_doc d[2])
{
    cmp_free(r);
    snap_free(&d[0]);
    snap_free(&d[1]);
}

/* 20 requests cannot bound a p99 from above: doubling the slowest one is within noise. */
static void a_p99_of_twenty_requests_is_within_noise_even_doubled(void **state)
{
    (void)state;
    double base[20], slow[20];
    for (int i = 0; i < 20; i++)
        base[i] = slow[i] = 100 + i;
    slow[19] = 2 * base[19];
    fake_step a = {4, 20, 0, 100, base}, b = {4, 20, 0, 100, slow};
    cmp_result r;
    snap_doc d[2];
    judge(&a, 1, &b, 1, &r, d);
    assert_true(r.rows[0].c[CMP_TTFT_P99].pct > 90);
    assert_int_equal(r.rows[0].c[CMP_TTFT_P99].verdict, CMP_NOISE);
    assert_true(isinf(r.rows[0].c[CMP_TTFT_P99].hi[0]));
    release(&r, d);
}

/* 400 requests each: a median 10 % higher is beyond its confidence interval. */
static void a_median_shifted_by_ten_percent_over_400_requests_is_worse(void **state)
{
    (void)state;
    static double base[400], slow[400];
    for (int i = 0; i < 400; i++) {
        base[i] = 95 + (i % 11);
        slow[i] = 1.1 * base[i];
    }
    fake_step a = {4, 400, 0, 100, base}, b = {4, 400, 0, 100, slow};
    cmp_result r;
    snap_doc d[2];
    judge(&a, 1, &b, 1, &r, d);
    assert_int_equal(r.rows[0].c[CMP_TTFT_P50].verdict, CMP_WORSE);
    assert_true(fabs(r.rows[0].c[CMP_TTFT_P50].pct - 10) < 2);
    release(&r, d);
    judge(&b, 1, &a, 1, &r, d);
    assert_int_equal(r.rows[0].c[CMP_TTFT_P50].verdict, CMP_BETTER);
    release(&r, d);
}

static void errors_are_judged_by_a_two_proportion_test(void **state)
{
    (void)state;
    static double ms[200];
    for (int i = 0; i < 200; i++)
        ms[i] = 100;
    fake_step clean = {4, 200, 0, 100, ms}, two = {4, 198, 2, 100, ms},
              twenty = {4, 180, 20, 100, ms};
    cmp_result r;
    snap_doc d[2];
    judge(&clean, 1, &two, 1, &r, d);
    assert_int_equal(r.rows[0].c[CMP_ERROR_RATE].verdict, CMP_NOISE); /* 0 % vs 1 % of 200 */
    release(&r, d);
    judge(&clean, 1, &twenty, 1, &r, d);
    assert_int_equal(r.rows[0].c[CMP_ERROR_RATE].verdict, CMP_WORSE);
    assert_true(fabs(r.rows[0].c[CMP_ERROR_RATE].worse_by - 10) < 1e-9); /* points */
    release(&r, d);
}

/* With --repeat, throughput is judged against the repeats' own spread: -5 % between noisy
 * repeats is noise, -10 % between steady ones is not (10000 completions each would make
 * either "worse" by counting alone). */
static void throughput_is_judged_by_the_spread_of_repeats(void **state)
{
    (void)state;
    static double ms[10000];
    for (int i = 0; i < 10000; i++)
        ms[i] = 100;
    const fake_step
        noisy[] = {{4, 10000, 0, 100, ms}, {4, 10000, 0, 80, ms}, {4, 10000, 0, 120, ms}},
        noisy_less[] = {{4, 10000, 0, 95, ms}, {4, 10000, 0, 75, ms}, {4, 10000, 0, 115, ms}},
        steady[] = {{4, 10000, 0, 100, ms}, {4, 10000, 0, 101, ms}, {4, 10000, 0, 99, ms}},
        steady_less[] = {{4, 10000, 0, 90, ms}, {4, 10000, 0, 91, ms}, {4, 10000, 0, 89, ms}};
    cmp_result r;
    snap_doc d[2];
    judge(noisy, 3, noisy_less, 3, &r, d);
    assert_int_equal(r.n_rows, 1);
    assert_int_equal(r.rows[0].steps[0], 3);
    assert_true(fabs(r.rows[0].c[CMP_TPS].pct + 5) < 1e-6);
    assert_int_equal(r.rows[0].c[CMP_TPS].verdict, CMP_NOISE);
    release(&r, d);
    judge(steady, 3, steady_less, 3, &r, d);
    assert_true(fabs(r.rows[0].c[CMP_TPS].pct + 10) < 1e-6);
    assert_int_equal(r.rows[0].c[CMP_TPS].verdict, CMP_WORSE);
    release(&r, d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(identical_runs_are_within_noise),
        cmocka_unit_test(half_decode_rate_is_worse_by_the_right_amount),
        cmocka_unit_test(every_format_says_worse),
        cmocka_unit_test(fail_if_worse_exits_1_beyond_its_percentage_only),
        cmocka_unit_test(runs_of_another_workload_are_refused_unless_forced),
        cmocka_unit_test(usage_errors_are_exit_2),
    };
    const struct CMUnitTest rules[] = {
        cmocka_unit_test(a_p99_of_twenty_requests_is_within_noise_even_doubled),
        cmocka_unit_test(a_median_shifted_by_ten_percent_over_400_requests_is_worse),
        cmocka_unit_test(errors_are_judged_by_a_two_proportion_test),
        cmocka_unit_test(throughput_is_judged_by_the_spread_of_repeats),
    };
    int failed = cmocka_run_group_tests(rules, NULL, NULL);
    return failed + cmocka_run_group_tests(tests, record_runs, remove_runs);
}
