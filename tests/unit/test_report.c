/* Tests for report/: Markdown, CSV and HTML from snapshot files, and every bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "testutil.h"

/* A three-step ramp in the snapshot format (only what the report reads). */
#define STEP(c, ok, failed, rps, tps, t50, t99, e2e)                                               \
    "{\"concurrency\":" #c ",\"duration_s\":10,\"test\":\"output\",\"requests\":{\"ok\":" #ok      \
    ",\"failed\":" #failed "},\"tokens\":{\"output\":1000},\"rps\":" #rps ",\"tps\":" #tps         \
    ",\"ttft_ms\":{\"mean\":" #t50 ",\"p50\":" #t50 ",\"p99\":" #t99                               \
    "},\"e2e_ms\":{\"mean\":" #e2e ",\"p50\":" #e2e ",\"p99\":" #e2e                               \
    "},\"tpot_ms\":{\"p50\":20},\"per_stream_tps\":{\"p50\":50}}"

static const char *const k_snapshot =
    "{\"schema\":\"llmload.snapshot/1\",\"tool\":{\"name\":\"llmload\",\"version\":\"0.1.0\"},"
    "\"started_at\":\"2026-11-22T10:00:00Z\",\"ended_at\":\"2026-11-22T10:00:30Z\","
    "\"config\":{\"url\":\"http://127.0.0.1:9/v1?a=<b>\",\"model\":\"m\",\"plan\":{\"kind\":"
    "\"ramp\"}},"
    "\"steps\":[" STEP(1, 10, 0, 1.0, 50, 40, 45, 2000) "," STEP(
        2, 20, 0, 2.0, 100, 41, 46,
        2000) "," STEP(4, 19, 1, 1.9, 95, 900, 1200,
                       3000) "],"
                             "\"totals\":" STEP(
                                 4, 49, 1, 1.6, 80, 41, 1100,
                                 2200) ","
                                       "\"series\":[{\"t\":0,\"rps\":1,\"tps\":50,\"inflight\":1,"
                                       "\"ttft_p50_ms\":40},"
                                       "{\"t\":1,\"rps\":2,\"tps\":100,\"inflight\":2,\"ttft_p50_"
                                       "ms\":null}],"
                                       "\"analysis\":{\"knee\":{\"concurrency\":4,\"reason\":"
                                       "\"from c=2 to c=4 TPS fell <fast>\"},"
                                       "\"slo\":null,\"findings\":[\"TTFT p50 rises & rises\"]}}";

static char *write_tmp(const char *name, const char *text)
{
    char *path = malloc(strlen(tu_tmpdir()) + strlen(name) + 2);
    assert_non_null(path);
    sprintf(path, "%s/%s", tu_tmpdir(), name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Runs `fn` on the loaded snapshot into a memory buffer. */
static char *render(void (*fn)(FILE *, const snap_doc *), const char *path)
{
    snap_doc d;
    char err[256];
    assert_int_equal(snap_load(path, &d, err, sizeof err), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    fn(m, &d);
    fclose(m);
    snap_free(&d);
    return buf;
}

static void csv_with_header(FILE *out, const snap_doc *d)
{
    report_csv(out, d, true);
}

static void html_one(FILE *out, const snap_doc *d)
{
    report_html(out, d, 1);
}

static void markdown_has_the_seeds_report(void **state)
{
    (void)state;
    char *path = write_tmp("snap.json", k_snapshot);
    char *md = render(report_markdown, path);
    assert_non_null(strstr(md, "| target | http://127.0.0.1:9/v1?a=<b> |"));
    assert_non_null(strstr(md, "| requests | 49 ok, 1 failed |"));
    assert_non_null(strstr(md, "| 1 | output | 1 | 10 | 100.0 % | 1.00 | 50.0 | 2.000 |"));
    assert_non_null(strstr(md, "| 3 | output | 4 | 20 | 95.0 % | 1.90 |"));
    assert_non_null(strstr(md, "- highest RPS: step 2, load 2 (2.00 req/s)"));
    assert_non_null(strstr(md, "- lowest average latency: step 1, load 1 (2.000 s)"));
    assert_non_null(strstr(md, "- The best load is around 2 (step 2): it reaches 2.00 req/s"));
    assert_non_null(strstr(md, "- **knee** at c=4: from c=2 to c=4"));
    assert_non_null(strstr(md, "- TTFT p50 rises & rises"));
    assert_null(strstr(md, "Only ")); /* 95 % succeeded at the top: no warning */
    free(md);
    free(path);
}

static void csv_has_one_row_per_step(void **state)
{
    (void)state;
    char *path = write_tmp("snap.json", k_snapshot);
    char *csv = render(csv_with_header, path);
    int lines = 0;
    for (char *p = csv; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 4); /* header + 3 steps */
    assert_true(strncmp(csv, "file,step,test,concurrency,rate,", 32) == 0);
    char want[512];
    snprintf(want, sizeof want, "\"%s\",3,output,4,,10,19,1,95,1.9,95,1000,900,900,1200,3000,",
             path);
    assert_non_null(strstr(csv, want));
    free(csv);
    free(path);
}

static void html_is_one_page_with_charts_and_escaped_text(void **state)
{
    (void)state;
    char *path = write_tmp("snap.json", k_snapshot);
    char *html = render(html_one, path);
    int svgs = 0;
    for (const char *p = html; (p = strstr(p, "<svg")); p++)
        svgs++;
    assert_int_equal(svgs, 6); /* TPS, RPS, TTFT vs load; TPS, RPS, TTFT over time */
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "src=")); /* self-contained: nothing loaded from elsewhere */
    assert_null(strstr(html, "href="));
    assert_non_null(strstr(html, "?a=&lt;b&gt;"));
    assert_non_null(strstr(html, "TPS fell &lt;fast&gt;"));
    assert_non_null(strstr(html, "rises &amp; rises"));
    assert_non_null(strstr(html, "<li>highest RPS: step 2, load 2 (2.00 req/s)</li>"));
    assert_non_null(strstr(html, "<li>The best load is around 2 (step 2)"));
    free(html);
    free(path);
}

static int run_report(const char **files, size_t n, const char *format, const char *out)
{
    llm_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.command = LLM_CMD_REPORT;
    cfg.files = (char **)files;
    cfg.n_files = n;
    cfg.report_format = (char *)format;
    cfg.output_path = (char *)out;
    return report_main(&cfg);
}

static void several_files_make_one_csv(void **state)
{
    (void)state;
    char *a = write_tmp("a.json", k_snapshot), *b = write_tmp("b.json", k_snapshot);
    char *out = malloc(strlen(tu_tmpdir()) + 16);
    sprintf(out, "%s/out.csv", tu_tmpdir());
    const char *files[] = {a, b};
    assert_int_equal(run_report(files, 2, "csv", out), 0);
    size_t len;
    char *csv = tu_read_file(out, &len);
    int headers = 0, lines = 0;
    for (const char *p = csv; (p = strstr(p, "file,step")); p++)
        headers++;
    for (size_t i = 0; i < len; i++)
        lines += csv[i] == '\n';
    assert_int_equal(headers, 1);
    assert_int_equal(lines, 7);
    free(csv);
    free(out);
    free(a);
    free(b);
}

static void bad_inputs_get_a_sentence_and_exit_2(void **state)
{
    (void)state;
    char err[512];
    snap_doc d;
    assert_int_equal(snap_load("/nonexistent/x.json", &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot read it"));
    char *p = write_tmp("notjson.json", "{oops");
    assert_int_equal(snap_load(p, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "is not an llmload snapshot (not JSON)"));
    free(p);
    p = write_tmp("other.json", "{\"schema\":\"something/2\"}");
    assert_int_equal(snap_load(p, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "is not an llmload snapshot (no \"schema\""));
    const char *files[] = {p};
    assert_int_equal(run_report(files, 1, "md", NULL), 2);
    assert_int_equal(run_report(files, 0, "md", NULL), 2);
    free(p);
}

static void unwritable_output_is_exit_1(void **state)
{
    (void)state;
    char *p = write_tmp("snap.json", k_snapshot);
    const char *files[] = {p};
    assert_int_equal(run_report(files, 1, "html", "/nonexistent-dir/r.html"), 1);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(markdown_has_the_seeds_report),
        cmocka_unit_test(csv_has_one_row_per_step),
        cmocka_unit_test(html_is_one_page_with_charts_and_escaped_text),
        cmocka_unit_test(several_files_make_one_csv),
        cmocka_unit_test(bad_inputs_get_a_sentence_and_exit_2),
        cmocka_unit_test(unwritable_output_is_exit_1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
