/* Tests for report/: Markdown, CSV and HTML from snapshot files, merge (exact figures, the
 * refusals), outputs that would overwrite an input, and every bad input. */
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

#include "core/snapshot.h"
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

/* ---- a snapshot in the window format of DESIGN §4, built as the writer builds one ---- */

/* One step: its window, what completed and arrived inside it, its flags. Each of its ok
 * requests gets a TTFT, an E2E and a per-stream TPS (values on bucket edges, so that the
 * histogram gives them back exactly). */
typedef struct {
    double rate, dur, send_rate, inflight, target;
    int ok, failed, reconnects, slo_met;
    double win_tokens, win_completed;
    bool manual, cut_short;
} fx_step;

/* A --search over rate: 8/s missed the SLO and was cut short; the last step was taken by
 * hand. Completions and tokens inside each window differ from the step's own requests. */
static const fx_step k_search[] = {
    {2, 10.5, 1.98, 4.1, 4.2, 20, 0, 0, 20, 410, 19, false, false},
    {4, 10.25, 3.9, 8.3, 8.4, 40, 1, 1, 38, 790, 38, false, false},
    {8, 4.75, 7.2, 19.5, 20, 30, 6, 0, 3, 560, 25, false, true},
    {6, 12, 5.96, 12.2, 12.5, 70, 0, 2, 66, 1390, 69, true, false},
};
#define FX_STEPS (sizeof k_search / sizeof k_search[0])

static double r3(double v)
{
    return round(v * 1000.0) / 1000.0;
}

static uint64_t on_edge(uint64_t v)
{
    return hist_bucket_low(hist_bucket_of(v));
}

/* TTFT, E2E (µs) and per-stream TPS (mtok/s) of the steps [from, to). */
static void fx_record(size_t from, size_t to, hist h[3])
{
    for (int m = 0; m < 3; m++)
        hist_init(&h[m]);
    for (size_t i = from; i < to; i++)
        for (int j = 0; j < k_search[i].ok; j++) {
            hist_record(&h[0], on_edge(30000 + 9000 * i + 1100 * (uint64_t)j));
            hist_record(&h[1], on_edge(900000 + 70000 * i + 23000 * (uint64_t)j));
            hist_record(&h[2], on_edge(38000 + 500 * (uint64_t)j));
        }
}

static void fx_metric(cJSON *s, cJSON *hists, const char *key, const char *unit, const hist *h,
                      double ratio)
{
    static const char *const names[] = {"p50", "p90", "p95", "p99", "p999", "max"};
    static const double pcts[] = {50, 90, 95, 99, 99.9, 100};
    cJSON *o = cJSON_AddObjectToObject(s, key);
    cJSON_AddNumberToObject(o, "count", (double)h->total);
    cJSON_AddNumberToObject(o, "mean", r3(hist_mean(h) / 1000.0));
    for (size_t i = 0; i < 6; i++)
        cJSON_AddNumberToObject(o, names[i], r3((double)hist_percentile(h, pcts[i]) / 1000.0));
    if (isfinite(ratio))
        cJSON_AddNumberToObject(o, "ratio", ratio);
    cJSON *hj = cJSON_AddObjectToObject(hists, key);
    cJSON_AddStringToObject(hj, "unit", unit);
    cJSON_AddNumberToObject(hj, "overflow", 0);
    cJSON *b = cJSON_AddArrayToObject(hj, "buckets");
    for (size_t i = 0; i < HIST_BUCKETS; i++)
        if (h->counts[i]) {
            double row[3] = {(double)hist_bucket_low(i), (double)hist_bucket_high(i),
                             (double)h->counts[i]};
            cJSON_AddItemToArray(b, cJSON_CreateDoubleArray(row, 3));
        }
}

/* The STEP object of s (one step, or the totals with the sums); windows = false writes
 * what a writer from before the step windows wrote (no window, manual, reconnects). */
static cJSON *fx_step_json(const fx_step *s, size_t from, size_t to, bool windows)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "concurrency", 0);
    cJSON_AddNumberToObject(o, "rate", s->rate);
    cJSON_AddNumberToObject(o, "duration_s", s->dur);
    cJSON_AddStringToObject(o, "test", "output");
    cJSON_AddBoolToObject(o, "cut_short", s->cut_short);
    cJSON *req = cJSON_AddObjectToObject(o, "requests");
    cJSON_AddNumberToObject(req, "ok", s->ok);
    cJSON_AddNumberToObject(req, "failed", s->failed);
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(req, "errors"), "stream", s->failed);
    cJSON *tok = cJSON_AddObjectToObject(o, "tokens");
    cJSON_AddNumberToObject(tok, "output", 20.0 * s->ok);
    cJSON_AddNumberToObject(tok, "prompt", 64.0 * s->ok);
    cJSON_AddBoolToObject(tok, "estimated", false);
    cJSON_AddNumberToObject(o, "rps", r3(s->win_completed / s->dur));
    cJSON_AddNumberToObject(o, "tps", r3(s->win_tokens / s->dur));
    cJSON_AddNumberToObject(o, "slo_met", s->slo_met);
    cJSON_AddNumberToObject(o, "goodput_rps", r3(s->slo_met / s->dur));
    cJSON *ach = cJSON_AddObjectToObject(o, "achieved");
    cJSON_AddNumberToObject(ach, "mean_inflight", s->inflight);
    cJSON_AddNumberToObject(ach, "mean_target", s->target);
    cJSON_AddNumberToObject(ach, "ratio", r3(s->inflight / s->target));
    cJSON_AddNumberToObject(ach, "rate", s->send_rate);
    cJSON_AddBoolToObject(ach, "missed_target", s->send_rate < 0.95 * s->rate);
    if (windows) {
        cJSON_AddBoolToObject(o, "manual", s->manual);
        cJSON_AddNumberToObject(o, "reconnects", s->reconnects);
        cJSON *w = cJSON_AddObjectToObject(o, "window");
        cJSON_AddNumberToObject(w, "output_tokens", s->win_tokens);
        cJSON_AddNumberToObject(w, "completed", s->win_completed);
    }
    hist h[3];
    fx_record(from, to, h);
    cJSON *hists = cJSON_CreateObject();
    fx_metric(o, hists, "ttft_ms", "us", &h[0], NAN);
    fx_metric(o, hists, "e2e_ms", "us", &h[1], NAN);
    fx_metric(o, hists, "per_stream_tps", "mtok/s", &h[2], windows ? 41.25 : NAN);
    cJSON_AddItemToObject(o, "histograms", hists);
    return o;
}

/* The whole run: sums of the steps; an older writer's totals span the run from the first
 * start to the last end, shorter than the steps' spans laid end to end. */
static fx_step fx_totals(bool windows)
{
    fx_step t = {.rate = 8, .send_rate = 4.1, .inflight = 11.2, .target = 11.5};
    for (size_t i = 0; i < FX_STEPS; i++) {
        t.dur += k_search[i].dur;
        t.ok += k_search[i].ok;
        t.failed += k_search[i].failed;
        t.reconnects += k_search[i].reconnects;
        t.slo_met += k_search[i].slo_met;
        t.win_tokens += k_search[i].win_tokens;
        t.win_completed += k_search[i].win_completed;
    }
    if (!windows)
        t.dur = 23.75;
    return t;
}

typedef struct {
    const char *url, *model, *endpoint, *plan;
    bool windows;
} fx_run;

#define FX_RUN                                                                                     \
    {                                                                                              \
        "http://10.0.0.5:8000/v1", "m1", "chat", "search", true                                    \
    }

static char *fx_write(const char *name, fx_run r)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "schema", "llmload.snapshot/1");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(d, "tool"), "version", "0.2.0");
    cJSON_AddStringToObject(d, "started_at", "2026-12-01T10:00:00Z");
    cJSON_AddStringToObject(d, "ended_at", "2026-12-01T10:00:40Z");
    cJSON *cfg = cJSON_AddObjectToObject(d, "config");
    cJSON_AddStringToObject(cfg, "url", r.url);
    cJSON_AddStringToObject(cfg, "model", r.model);
    cJSON_AddStringToObject(cfg, "endpoint", r.endpoint);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(cfg, "plan"), "kind", r.plan);
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(cfg, "slo"), "ttft_s", 0.2);
    cJSON_AddStringToObject(cfg, "a_key_from_a_newer_writer", "is passed on");
    cJSON *steps = cJSON_AddArrayToObject(d, "steps");
    for (size_t i = 0; i < FX_STEPS; i++)
        cJSON_AddItemToArray(steps, fx_step_json(&k_search[i], i, i + 1, r.windows));
    fx_step t = fx_totals(r.windows);
    cJSON_AddItemToObject(d, "totals", fx_step_json(&t, 0, FX_STEPS, r.windows));
    cJSON *rep = cJSON_CreateObject();
    cJSON_AddNumberToObject(rep, "first_step", 1);
    cJSON_AddNumberToObject(rep, "steps", 2);
    cJSON_AddNumberToObject(rep, "concurrency", 0);
    cJSON_AddNumberToObject(rep, "rate", 4);
    cJSON_AddStringToObject(rep, "test", "output");
    static const char *const figs[] = {"rps", "tps", "ttft_p50_ms", "e2e_p50_ms"};
    for (int f = 0; f < 4; f++) {
        cJSON *fig = cJSON_AddObjectToObject(rep, figs[f]);
        cJSON_AddNumberToObject(fig, "mean", 3.5 + f);
        cJSON_AddNumberToObject(fig, "sd", 0.25 * f);
    }
    cJSON_AddItemToArray(cJSON_AddArrayToObject(d, "repeats"), rep);
    cJSON *series = cJSON_AddArrayToObject(d, "series");
    for (int i = 0; i < 3; i++) {
        cJSON *row = cJSON_CreateObject();
        cJSON_AddNumberToObject(row, "t", i);
        cJSON_AddNumberToObject(row, "tps", 40 + i);
        cJSON_AddItemToArray(series, row);
    }
    cJSON *an = cJSON_AddObjectToObject(d, "analysis");
    cJSON_AddNullToObject(an, "knee");
    cJSON *search = cJSON_AddObjectToObject(an, "search");
    cJSON_AddStringToObject(search, "load", "rate");
    cJSON_AddNumberToObject(search, "best", 6);
    cJSON_AddNumberToObject(search, "first_miss", 8);
    cJSON_AddNumberToObject(search, "steps", 4);
    cJSON_AddBoolToObject(search, "finished", true);
    cJSON *slo = cJSON_AddObjectToObject(an, "slo");
    cJSON_AddNumberToObject(slo, "met_up_to", 6);
    cJSON_AddNumberToObject(slo, "goodput_rps", r3(t.slo_met / t.dur));
    cJSON_AddItemToObject(
        an, "findings",
        cJSON_CreateStringArray((const char *[]){"search: the highest rate that meets the SLO is "
                                                 "6/s; 8/s misses it (4 steps)"},
                                1));
    cJSON_AddNumberToObject(d, "lost_events", 0);
    char *text = cJSON_PrintUnformatted(d);
    char *path = write_tmp(name, text);
    cJSON_free(text);
    cJSON_Delete(d);
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

static char *tmp_path(const char *name);
static cJSON *read_json(const char *path);
static const cJSON *at(const cJSON *o, const char *path);

/* Issue 13: a run with llama.cpp timings gets a client-vs-server table (per step and the
 * run, its source, the overhead, the tokens each side counted) in Markdown and CSV; a run
 * without a server source gets none. */
static void reports_have_a_client_vs_server_table(void **state)
{
    (void)state;
    stats *st = malloc(sizeof *st);
    assert_non_null(st);
    stats_init(st, 1000, NULL);
    llm_event step = {.kind = EV_STEP, .t_ns = 1000};
    step.u.step_change.total = 1;
    step.u.step_change.concurrency = 2;
    stats_consume(st, &step);
    for (int i = 0; i < 10; i++) {
        llm_event ev = {.kind = EV_REQUEST_DONE, .t_ns = 2000000000ULL + (uint64_t)i};
        ev.u.done.t0_ns = 1000000000ULL;
        ev.u.done.ttft_ns = 30000000; /* 30 ms */
        ev.u.done.e2e_ns = 230000000; /* 230 ms */
        ev.u.done.output_tokens = 21;
        ev.u.done.content_events = 21;
        ev.u.done.usage_reported = 1;
        ev.u.done.prompt_tokens = 9;
        ev.u.done.srv_timings = 1;
        ev.u.done.srv_prefill_us = 25000;
        ev.u.done.srv_decode_us = 200000;
        ev.u.done.srv_predicted_n = 21;
        stats_consume(st, &ev);
    }
    llm_config cfg = {.url = "http://127.0.0.1:9/v1", .model = "m"};
    char *path = tmp_path("server.json"), err[256];
    assert_int_equal(snapshot_write(path, st, &cfg, 0, 0, 0, err, sizeof err), 0);
    stats_free(st);
    free(st);
    char *md = render(report_markdown, path);
    assert_non_null(strstr(md, "## Client vs server"));
    assert_non_null(
        strstr(md, "| 1 | 2 | timings (per request) | 30.0 | 25.0 | 230.0 | 225.0 | - |"));
    assert_non_null(strstr(md, "| 5.0 | 210 | 210 | +0.00 % |"));
    assert_non_null(strstr(md, "| run | 2 | timings"));
    free(md);
    char *html = render(html_one, path);
    assert_non_null(strstr(html, "<h3>Client vs server</h3>"));
    assert_non_null(strstr(html,
                           "<tr><td>run</td><td>timings (per request)</td><td>30</td><td>25</td>"
                           "<td>230</td><td>225</td><td>-</td>"));
    free(html);
    char *csv = render(csv_with_header, path);
    assert_non_null(strstr(csv, ",server_source,server_ttft_p50_ms,"));
    /* the server columns, then the workload columns (none in this file: empty) */
    assert_non_null(strstr(csv, ",timings,,225,,25,10,5,210,210,"));
    free(csv);
    /* merge keeps the server's view in the totals: the source and the tokens added up */
    char *merged = tmp_path("server-merged.json");
    char *argv[] = {LLM_BINARY, "merge", path, path, "--force", "-o", merged, NULL};
    tu_result r;
    tu_run(argv, NULL, NULL, 30, &r);
    assert_int_equal(r.exit_code, 0);
    tu_result_free(&r);
    cJSON *doc = read_json(merged);
    assert_string_equal(at(doc, "totals.server.source")->valuestring, "timings");
    assert_int_equal(at(doc, "totals.server.tokens.server")->valueint, 420);
    assert_string_equal(at(doc, "totals.client_overhead_ms.method")->valuestring, "per_request");
    cJSON_Delete(doc);
    md = render(report_markdown, merged);
    assert_non_null(strstr(md, "| run | 2 | timings (per request) |"));
    free(md);
    unlink(merged);
    free(merged);
    free(path);
    path = write_tmp("plain.json", k_snapshot);
    md = render(report_markdown, path);
    assert_null(strstr(md, "Client vs server"));
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
    assert_int_equal(svgs, 7); /* TPS, RPS, TTFT, E2E vs load; TPS, RPS, TTFT over time */
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

/* ---- the HTML page, looked at (issue 16) ---- */

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* k_snapshot with edit applied, written as name. */
static char *fx_variant(const char *name, void (*edit)(cJSON *))
{
    cJSON *d = cJSON_Parse(k_snapshot);
    assert_non_null(d);
    edit(d);
    char *text = cJSON_PrintUnformatted(d);
    char *path = write_tmp(name, text);
    cJSON_free(text);
    cJSON_Delete(d);
    return path;
}

/* A number attribute of the element starting at el: NAN when absent. */
static double attr_of(const char *el, const char *name)
{
    char key[32];
    snprintf(key, sizeof key, " %s=\"", name);
    const char *end = strchr(el, '>'), *at = strstr(el, key);
    return at && at < end ? strtod(at + strlen(key), NULL) : NAN;
}

/* Every chart is a width-100 % SVG with a viewBox; every point has a <title> with its values;
 * every legend box lies above the plot, inside the picture; nothing is loaded from elsewhere. */
static void html_charts_fill_the_width_with_a_title_on_every_point(void **state)
{
    (void)state;
    char *path = write_tmp("snap.json", k_snapshot);
    char *html = render(html_one, path);
    size_t svgs = 0, legends = 0;
    for (const char *p = html; (p = strstr(p, "<svg")); p++) {
        svgs++;
        const char *end = strstr(p, "</svg>");
        assert_non_null(end);
        assert_true(strncmp(p, "<svg class=\"chart\" viewBox=\"0 0 960 ", 36) == 0);
        assert_non_null(strstr(p, " width=\"100%\""));
        assert_true(strstr(p, " width=\"100%\"") < strchr(p, '>'));
        double vb_h = strtod(p + 36, NULL);
        const char *plot = strstr(p, "class=\"plot\"");
        assert_true(plot && plot < end);
        double py = attr_of(plot, "y"), px = attr_of(plot, "x"), pw = attr_of(plot, "width"),
               ph = attr_of(plot, "height");
        assert_true(py + ph < vb_h && px + pw <= 960);
        for (const char *b = strstr(p, "class=\"lgbox\""); b && b < end;
             b = strstr(b + 1, "class=\"lgbox\"")) {
            legends++;
            double y = attr_of(b, "y"), h = attr_of(b, "height"), x = attr_of(b, "x"),
                   w = attr_of(b, "width");
            assert_true(y >= 0 && y + h <= py); /* above the plot: clear of every line */
            assert_true(x >= 0 && x + w <= 960);
        }
    }
    assert_int_equal(svgs, 7);
    assert_int_equal(legends, 10); /* TPS; RPS; TTFT p50, p99; E2E p50, p99; TPS; RPS, in
                                      flight; TTFT p50 (p99 has no point over time) */
    /* points: 3 steps x (TPS, RPS, TTFT p50, p99, E2E p50, p99); over time TPS 2, RPS 2,
     * in flight 2, TTFT p50 1 (the other second is null) */
    assert_int_equal(count_of(html, "<circle "), 25);
    for (const char *p = html; (p = strstr(p, "<circle ")); p++)
        assert_true(strncmp(strchr(p, '>'), "><title>", 8) == 0);
    assert_non_null(strstr(html, "<title>concurrency 2 \xc2\xb7 TPS 100 tokens/s</title>"));
    assert_non_null(strstr(html, "<title>concurrency 4 \xc2\xb7 TTFT p99 1200 ms</title>"));
    assert_non_null(strstr(html, "<title>1 s \xc2\xb7 in flight 2 requests</title>"));
    /* self-contained: no script, nothing fetched; the only "http" is the run's target */
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "src="));
    assert_null(strstr(html, "href="));
    assert_null(strstr(html, "url("));
    assert_null(strstr(html, "@import"));
    assert_int_equal(count_of(html, "http"), count_of(html, "http://127.0.0.1:9/v1?a=&lt;b&gt;"));
    free(html);
    free(path);
}

/* The layout keeps legend boxes off the plot and off each other, however many and long. */
static void legend_boxes_never_overlap_the_plot(void **state)
{
    (void)state;
    const char *names[REPORT_CHART_LINES] = {
        "TTFT client", "TTFT server (prefill)",        "a much longer name of a line",
        "E2E server",  "GPU 0: NVIDIA H100 80GB HBM3", "GPU 1: NVIDIA H100 80GB HBM3",
        "x",           "GPU 3: AMD Instinct MI300X"};
    for (size_t n = 0; n <= REPORT_CHART_LINES; n++) {
        svg_layout l;
        report_svg_layout(names, n, &l);
        assert_int_equal(l.n_legend, n);
        assert_true(l.plot.x == SVG_PAD_L && l.plot.x + l.plot.w == SVG_W - SVG_PAD_R);
        assert_true(l.plot.y + l.plot.h + SVG_PAD_B == l.height);
        for (size_t i = 0; i < n; i++) {
            const svg_box *a = &l.legend[i];
            assert_true(a->y + a->h <= l.plot.y - SVG_LEGEND_GAP);
            assert_true(a->x >= SVG_PAD_L && a->x + a->w <= SVG_W - SVG_PAD_R);
            assert_true(a->y > SVG_TITLE_Y);
            for (size_t j = 0; j < i; j++) {
                const svg_box *b = &l.legend[j];
                bool apart = a->x >= b->x + b->w || b->x >= a->x + a->w || a->y >= b->y + b->h ||
                             b->y >= a->y + a->h;
                assert_true(apart);
            }
        }
    }
}

static void set_models(cJSON *d, const char *model, const char *server_model)
{
    cJSON *c = cJSON_GetObjectItem(d, "config");
    cJSON_DeleteItemFromObject(c, "model");
    if (model)
        cJSON_AddStringToObject(c, "model", model);
    if (server_model)
        cJSON_AddStringToObject(c, "server_model", server_model);
}

static void models_both(cJSON *d)
{
    set_models(d, "asked-model", "served <b>model</b>");
}

static void models_asked(cJSON *d)
{
    set_models(d, "asked-model", NULL);
}

static void models_none(cJSON *d)
{
    set_models(d, NULL, NULL);
}

static void models_evil(cJSON *d)
{
    set_models(d, NULL, "<script>alert(\"x\")</script> & 'q'");
}

/* The model is what the server named; else the one asked for; "(server default)" only when
 * neither is known. Every string from the file is escaped. */
static void html_model_is_what_the_server_named(void **state)
{
    (void)state;
    char *path = fx_variant("m-both.json", models_both);
    char *html = render(html_one, path);
    assert_non_null(strstr(html, "<dd>served &lt;b&gt;model&lt;/b&gt; <span class=\"dim\">(asked "
                                 "for asked-model)</span>"));
    assert_null(strstr(html, "(server default)"));
    free(html);
    html = render(report_markdown, path); /* the Markdown report says the same */
    assert_non_null(strstr(html, "| model | served <b>model</b> (asked for asked-model) |"));
    free(html);
    free(path);
    path = fx_variant("m-asked.json", models_asked);
    html = render(html_one, path);
    assert_non_null(strstr(html, "<dd>asked-model <span class=\"dim\">(as asked"));
    assert_null(strstr(html, "(server default)"));
    free(html);
    free(path);
    path = fx_variant("m-none.json", models_none);
    html = render(html_one, path);
    assert_non_null(strstr(html, "<dd>(server default)</dd>"));
    free(html);
    free(path);
    path = fx_variant("m-evil.json", models_evil);
    html = render(html_one, path);
    assert_non_null(
        strstr(html, "<dd>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;"));
    assert_null(strstr(html, "<script"));
    free(html);
    free(path);
}

static cJSON *summary(double mean, double p50, double p99)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "count", 10);
    cJSON_AddNumberToObject(o, "mean", mean);
    cJSON_AddNumberToObject(o, "p50", p50);
    cJSON_AddNumberToObject(o, "p90", p99);
    cJSON_AddNumberToObject(o, "p99", p99);
    cJSON_AddNumberToObject(o, "max", p99);
    return o;
}

/* Every figure issue 16 shows: the server's view, the workload (lengths, cache, turns),
 * reconnects, GPU telemetry (the keys of DESIGN §10 as the GPU helper writes them). */
static void add_everything(cJSON *d)
{
    cJSON *steps = cJSON_GetObjectItem(d, "steps"), *s;
    int i = 0;
    cJSON *all[4];
    cJSON_ArrayForEach(s, steps) all[i++] = s;
    all[i++] = cJSON_GetObjectItem(d, "totals");
    for (int k = 0; k < i; k++) {
        s = all[k];
        cJSON *srv = cJSON_AddObjectToObject(s, "server");
        cJSON_AddStringToObject(srv, "source", "timings");
        cJSON *tok = cJSON_AddObjectToObject(srv, "tokens");
        cJSON_AddNumberToObject(tok, "server", 1000 + k);
        cJSON_AddNumberToObject(tok, "client", 1000);
        cJSON_AddNumberToObject(tok, "diff_pct", 0.1 * k);
        cJSON_AddStringToObject(cJSON_AddObjectToObject(s, "client_overhead_ms"), "method",
                                "per_request");
        cJSON_AddItemToObject(s, "server_prefill_ms", summary(30, 30 + k, 35));
        cJSON_AddItemToObject(s, "server_e2e_ms", summary(200, 190 + k, 250));
        cJSON_AddItemToObject(s, "server_decode_ms_per_token", summary(2.5, 2.5, 3));
        cJSON_AddItemToObject(s, "client_overhead_e2e_ms", summary(1, 1, 2));
        cJSON_AddItemToObject(s, "input_tokens", summary(500, 480, 900));
        cJSON_AddItemToObject(s, "output_tokens", summary(60, 64, 64));
        cJSON_AddItemToObject(s, "ttft_cache_hit_ms", summary(30, 30, 40));
        cJSON_AddItemToObject(s, "ttft_cache_miss_ms", summary(90, 90, 120));
        cJSON *cache = cJSON_AddObjectToObject(s, "cache");
        cJSON_AddNumberToObject(cache, "hit_share", 0.25 * k);
        cJSON_AddNumberToObject(cache, "cached_tokens", 300 * k);
        cJSON_AddNumberToObject(cache, "hits", 3 * k);
        cJSON_AddNumberToObject(cache, "reported", 10);
        cJSON_AddNumberToObject(s, "reconnects", k);
        cJSON_AddNumberToObject(s, "reconnect_lost_ms", 1.5 * k);
        cJSON *h = cJSON_AddObjectToObject(s, "histograms");
        cJSON *in = cJSON_AddObjectToObject(h, "input_tokens");
        cJSON_AddStringToObject(in, "unit", "tokens");
        cJSON *b = cJSON_AddArrayToObject(in, "buckets");
        cJSON_AddItemToArray(b, cJSON_CreateDoubleArray((const double[]){400, 416, 4}, 3));
        cJSON_AddItemToArray(b, cJSON_CreateDoubleArray((const double[]){896, 912, 6}, 3));
        cJSON *out = cJSON_AddObjectToObject(h, "output_tokens");
        cJSON_AddStringToObject(out, "unit", "tokens");
        cJSON_AddItemToArray(cJSON_AddArrayToObject(out, "buckets"),
                             cJSON_CreateDoubleArray((const double[]){64, 65, 10}, 3));
    }
    cJSON *turns = cJSON_AddArrayToObject(all[i - 1], "turns");
    for (int t = 1; t <= 2; t++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "turn", t);
        cJSON_AddNumberToObject(o, "requests", 5);
        cJSON_AddNumberToObject(o, "ttft_mean_ms", 40 + 10 * t);
        cJSON_AddNumberToObject(o, "prompt_tokens_mean", 300 * t);
        cJSON_AddNumberToObject(o, "cached_tokens_mean", 200 * (t - 1));
        cJSON_AddItemToArray(turns, o);
    }
    cJSON *g = cJSON_AddObjectToObject(d, "gpu");
    cJSON *dev = cJSON_CreateObject();
    cJSON_AddNumberToObject(dev, "index", 0);
    cJSON_AddStringToObject(dev, "name", "Stub <GPU> & co");
    cJSON_AddStringToObject(dev, "vendor", "nvidia");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(g, "devices"), dev);
    cJSON_AddNumberToObject(g, "max_temp_c", 71);
    cJSON_AddNumberToObject(g, "max_power_w", 250);
    cJSON_AddNumberToObject(g, "max_util_pct", 97);
    cJSON_AddBoolToObject(g, "throttling_seen", true);
    cJSON *row;
    cJSON_ArrayForEach(row, cJSON_GetObjectItem(d, "series"))
    {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "index", 0);
        cJSON_AddStringToObject(x, "name", "Stub <GPU> & co");
        cJSON_AddNumberToObject(x, "util_pct", 90);
        cJSON_AddNumberToObject(x, "mem_used_mb", 4000);
        cJSON_AddNumberToObject(x, "mem_total_mb", 8000);
        cJSON_AddNumberToObject(x, "temp_c", 70);
        cJSON_AddNumberToObject(x, "power_w", 240);
        cJSON_AddItemToArray(cJSON_AddArrayToObject(row, "gpu"), x);
    }
}

/* Issue 13: a /metrics server view whose E2E bucket is wide (res) or narrow. */
static void metrics_view(cJSON *d, double res)
{
    cJSON *t = cJSON_GetObjectItem(d, "totals");
    cJSON *srv = cJSON_AddObjectToObject(t, "server");
    cJSON_AddStringToObject(srv, "source", "metrics");
    cJSON_AddItemToObject(t, "server_e2e_ms", summary(3750, 3424, 4685));
    cJSON *ovh = cJSON_AddObjectToObject(t, "client_overhead_ms");
    cJSON_AddStringToObject(ovh, "method", "difference_of_percentiles");
    cJSON *e2e = cJSON_AddObjectToObject(ovh, "e2e");
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(e2e, "resolution_ms"), "p50", res);
}

static void metrics_wide(cJSON *d)
{
    metrics_view(d, 1e7);
}

static void metrics_narrow(cJSON *d)
{
    metrics_view(d, 0.001);
}

/* A client-minus-server difference of p50s smaller than the server bucket the p50 fell in
 * is not an overhead: the table says it is within the bucket instead of printing it. */
static void overhead_within_the_server_bucket_is_not_a_figure(void **state)
{
    (void)state;
    char *path = fx_variant("ovh-wide.json", metrics_wide);
    char *md = render(report_markdown, path);
    assert_non_null(strstr(md, "within the 10000000 ms bucket"));
    assert_null(strstr(md, "(diff. of p50s)"));
    free(md);
    free(path);
    path = fx_variant("ovh-narrow.json", metrics_narrow);
    md = render(report_markdown, path);
    assert_null(strstr(md, "within the"));
    assert_non_null(strstr(md, "(diff. of p50s)"));
    free(md);
    free(path);
}

static void gpu_null(cJSON *d)
{
    cJSON_AddNullToObject(d, "gpu");
}

static void html_has_the_new_sections_when_the_file_has_their_figures(void **state)
{
    (void)state;
    static const char *const sections[] = {
        "<h3>Client vs server</h3>",
        "Client vs server: TTFT and E2E (p50)",
        "Server queue, prefill and client overhead (p50)",
        "Decode: client TPOT vs server per token (p50)",
        "Output tokens: server vs client count",
        "<h3>Workload</h3>",
        "Input tokens per request (the whole run)",
        "Output tokens per request (the whole run)",
        "Prefix cache: share of requests served from it",
        "TTFT by cache hit and miss (p50)",
        "<h3>Turns</h3>",
        "TTFT by turn (mean)",
        "<h3>Reconnects</h3>",
        "<h3>GPU</h3>",
        "GPU utilisation",
        "GPU memory used (of 8000 MB)",
        "GPU temperature",
        "GPU power",
    };
    char *path = fx_variant("all.json", add_everything);
    char *html = render(html_one, path);
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        if (!strstr(html, sections[i]))
            fail_msg("missing: %s", sections[i]);
    }
    assert_non_null(strstr(html, "<td class=\"l\">Stub &lt;GPU&gt; &amp; co</td>"));
    assert_non_null(strstr(html, "throttling <b>seen</b>"));
    assert_non_null(strstr(html, "<title>1 s \xc2\xb7 GPU 0: Stub &lt;GPU&gt; &amp; co 90 "
                                 "%</title>"));
    assert_non_null(strstr(html, "3 requests were re-sent once on a fresh connection"));
    assert_non_null(strstr(html, "<td>+0.20 %</td>")); /* tokens diff of step 3 */
    /* bars: 400-449 holds 4 of 10, 900-949 6 */
    assert_non_null(strstr(html, "<title>tokens 400-449: 4 requests (40.0 %)</title>"));
    assert_non_null(strstr(html, "<title>tokens 900-949: 6 requests (60.0 %)</title>"));
    assert_non_null(strstr(html, "<title>tokens 64: 10 requests (100.0 %)</title>"));
    assert_null(strstr(html, "<script"));
    free(html);
    free(path);
    /* none of them in a file without their figures (gpu: null included) */
    path = fx_variant("plain.json", gpu_null);
    html = render(html_one, path);
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        if (strstr(html, sections[i]))
            fail_msg("there without its figures: %s", sections[i]);
    }
    free(html);
    free(path);
}

static void long_series(cJSON *d)
{
    cJSON_DeleteItemFromObject(d, "series");
    cJSON *a = cJSON_AddArrayToObject(d, "series");
    for (int t = 0; t < 1000; t++) {
        cJSON *row = cJSON_CreateObject();
        cJSON_AddNumberToObject(row, "t", t);
        cJSON_AddNumberToObject(row, "tps", 100 + t % 7);
        cJSON_AddItemToArray(a, row);
    }
}

/* A soak's series (up to 86,400 s) is drawn with at most 480 points a line, each still with
 * its title, and the page says what a point is. */
static void html_long_series_are_merged_into_points(void **state)
{
    (void)state;
    char *path = fx_variant("long.json", long_series);
    char *html = render(html_one, path);
    const char *chart = strstr(html, "<title>TPS over time</title>");
    assert_non_null(chart);
    const char *end = strstr(chart, "</svg>");
    size_t points = 0;
    for (const char *p = chart; (p = strstr(p, "<circle ")) && p < end; p++)
        points++;
    assert_int_equal(points, 334); /* 1000 s in points of 3 s */
    assert_non_null(strstr(chart, "Each point is the mean of 3 seconds"));
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

/* ---- merge ---- */

static int run_merge(const char **files, size_t n, const char *out)
{
    llm_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.command = LLM_CMD_MERGE;
    cfg.files = (char **)files;
    cfg.n_files = n;
    cfg.output_path = (char *)out;
    return merge_main(&cfg);
}

static char *tmp_path(const char *name)
{
    char *p = malloc(strlen(tu_tmpdir()) + strlen(name) + 2);
    assert_non_null(p);
    sprintf(p, "%s/%s", tu_tmpdir(), name);
    return p;
}

static cJSON *read_json(const char *path)
{
    char *text = tu_read_file(path, NULL);
    assert_non_null(text);
    cJSON *d = cJSON_Parse(text);
    free(text);
    assert_non_null(d);
    return d;
}

/* The value at a dotted path ("achieved.rate"); NULL when absent. */
static const cJSON *at(const cJSON *o, const char *path)
{
    char key[64];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        snprintf(key, sizeof key, "%.*s", (int)n, path);
        o = cJSON_GetObjectItemCaseSensitive(o, key);
        path += n + (path[n] == '.');
    }
    return o;
}

/* Every figure a report, the analysis or compare reads of a STEP is the same in got. */
static void same_figures(const cJSON *want, const cJSON *got, const char *where)
{
    static const char *const paths[] = {"duration_s",
                                        "rps",
                                        "tps",
                                        "goodput_rps",
                                        "rate",
                                        "manual",
                                        "cut_short",
                                        "reconnects",
                                        "slo_met",
                                        "requests.ok",
                                        "requests.failed",
                                        "requests.errors.stream",
                                        "tokens.output",
                                        "tokens.prompt",
                                        "window.output_tokens",
                                        "window.completed",
                                        "achieved.rate",
                                        "achieved.mean_inflight",
                                        "achieved.mean_target",
                                        "achieved.ratio",
                                        "achieved.missed_target",
                                        "ttft_ms.count",
                                        "ttft_ms.mean",
                                        "ttft_ms.p50",
                                        "ttft_ms.p90",
                                        "ttft_ms.p99",
                                        "ttft_ms.max",
                                        "e2e_ms.mean",
                                        "e2e_ms.p50",
                                        "e2e_ms.p99",
                                        "per_stream_tps.p50",
                                        "per_stream_tps.ratio",
                                        "per_stream_tps.mean"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        const cJSON *w = at(want, paths[i]), *g = at(got, paths[i]);
        if (!w)
            continue; /* not in this fixture */
        if (!g || !cJSON_Compare(w, g, true))
            fail_msg("%s %s: merged %s, input %s", where, paths[i],
                     g ? cJSON_PrintUnformatted(g) : "(missing)", cJSON_PrintUnformatted(w));
    }
}

/* A merge of one file is that file: the same steps and totals figures (windows, rates,
 * send rate, percentiles from the histograms, flags) and its search's answer. */
static void one_file_merge_reproduces_steps_totals_and_analysis(void **state)
{
    (void)state;
    char *in = fx_write("search.json", (fx_run)FX_RUN), *out = tmp_path("merged.json");
    const char *files[] = {in};
    assert_int_equal(run_merge(files, 1, out), 0);
    cJSON *want = read_json(in), *got = read_json(out);
    const cJSON *ws = at(want, "steps"), *gs = at(got, "steps");
    assert_int_equal(cJSON_GetArraySize(gs), (int)FX_STEPS);
    for (int i = 0; i < (int)FX_STEPS; i++) {
        char where[32];
        snprintf(where, sizeof where, "step %d", i + 1);
        same_figures(cJSON_GetArrayItem(ws, i), cJSON_GetArrayItem(gs, i), where);
    }
    same_figures(at(want, "totals"), at(got, "totals"), "totals");
    assert_true(cJSON_Compare(at(want, "analysis"), at(got, "analysis"), true));
    assert_true(cJSON_Compare(at(want, "repeats"), at(got, "repeats"), true));
    assert_string_equal(at(got, "config.a_key_from_a_newer_writer")->valuestring, "is passed on");
    assert_int_equal(cJSON_GetArraySize(at(got, "series")), 3);
    cJSON_Delete(want);
    cJSON_Delete(got);
    free(in);
    free(out);
}

/* A file from before the step windows: its totals' run time is the run's (shorter than its
 * steps' spans laid end to end), and its rates stay what it says. */
static void merge_of_an_older_file_keeps_its_run_time_and_rates(void **state)
{
    (void)state;
    fx_run r = FX_RUN;
    r.windows = false;
    char *in = fx_write("old.json", r), *out = tmp_path("merged.json");
    const char *files[] = {in};
    assert_int_equal(run_merge(files, 1, out), 0);
    cJSON *want = read_json(in), *got = read_json(out);
    same_figures(at(want, "totals"), at(got, "totals"), "totals");
    assert_true(at(got, "totals.duration_s")->valuedouble == 23.75);
    cJSON_Delete(want);
    cJSON_Delete(got);
    free(in);
    free(out);
}

/* Two runs one after the other: durations and windows add, histograms add bucket by bucket. */
static void two_runs_add_up_windows_and_histograms(void **state)
{
    (void)state;
    char *a = fx_write("a.json", (fx_run)FX_RUN), *b = fx_write("b.json", (fx_run)FX_RUN);
    char *out = tmp_path("merged.json");
    const char *files[] = {a, b};
    assert_int_equal(run_merge(files, 2, out), 0);
    cJSON *one = read_json(a), *got = read_json(out);
    const cJSON *t1 = at(one, "totals"), *t = at(got, "totals");
    assert_int_equal(cJSON_GetArraySize(at(got, "steps")), 2 * (int)FX_STEPS);
    assert_true(at(t, "duration_s")->valuedouble == 2 * at(t1, "duration_s")->valuedouble);
    assert_true(at(t, "window.completed")->valuedouble ==
                2 * at(t1, "window.completed")->valuedouble);
    assert_true(at(t, "requests.ok")->valuedouble == 2 * at(t1, "requests.ok")->valuedouble);
    assert_true(at(t, "ttft_ms.count")->valuedouble == 2 * at(t1, "ttft_ms.count")->valuedouble);
    /* the same run twice: the same rates, percentiles and send rate */
    static const char *const same[] = {"rps",         "tps",        "ttft_ms.p50",  "ttft_ms.p99",
                                       "ttft_ms.max", "e2e_ms.p90", "achieved.rate"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        if (fabs(at(t, same[i])->valuedouble - at(t1, same[i])->valuedouble) > 0.0015)
            fail_msg("totals %s: merged %g, one run %g", same[i], at(t, same[i])->valuedouble,
                     at(t1, same[i])->valuedouble);
    assert_true(cJSON_IsTrue(at(cJSON_GetArrayItem(at(got, "steps"), 6), "cut_short")));
    assert_true(cJSON_IsObject(at(got, "analysis.search")));
    assert_true(at(got, "analysis.search.best")->valuedouble == 6);
    assert_true(at(cJSON_GetArrayItem(at(got, "series"), 3), "t")->valuedouble == 3);
    const cJSON *reps = at(got, "repeats"); /* the second file's, at its merged step numbers */
    assert_int_equal(cJSON_GetArraySize(reps), 2);
    assert_true(at(cJSON_GetArrayItem(reps, 1), "first_step")->valuedouble == 1 + FX_STEPS);
    assert_true(at(cJSON_GetArrayItem(reps, 1), "tps.sd")->valuedouble == 0.25);
    cJSON_Delete(one);
    cJSON_Delete(got);
    free(a);
    free(b);
    free(out);
}

/* Runs the binary; returns its exit code, stderr in *err (caller frees). */
static int run_cli(char **argv, char **err)
{
    tu_result r;
    tu_run(argv, NULL, NULL, 30, &r);
    *err = strdup(r.err ? r.err : "");
    int rc = r.exit_code;
    tu_result_free(&r);
    return rc;
}

static void expect_refused(char **argv, const char *says)
{
    char *err;
    int rc = run_cli(argv, &err);
    if (rc != 2 || !strstr(err, says))
        fail_msg("exit %d, stderr: %s (wanted 2 and \"%s\")", rc, err, says);
    free(err);
}

static void expect_merged(char **argv)
{
    char *err;
    int rc = run_cli(argv, &err);
    if (rc != 0)
        fail_msg("exit %d, stderr: %s", rc, err);
    free(err);
}

/* A file of fx_write made the share `index` of `count` of one run (config.shard). */
static void fx_make_shard(const char *path, int index, int count)
{
    cJSON *d = read_json(path);
    cJSON *sh = cJSON_AddObjectToObject(cJSON_GetObjectItemCaseSensitive(d, "config"), "shard");
    cJSON_AddNumberToObject(sh, "index", index);
    cJSON_AddNumberToObject(sh, "count", count);
    cJSON_AddNumberToObject(sh, "start_at", 1796194800);
    char *text = cJSON_PrintUnformatted(d);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    cJSON_free(text);
    cJSON_Delete(d);
}

/* Shards of one run ran side by side: the same steps, their counts and histograms added, the
 * loads added, the window the common one (not the sum), the series added second by second. */
static void shards_add_up_side_by_side(void **state)
{
    (void)state;
    char *a = fx_write("a.json", (fx_run)FX_RUN), *b = fx_write("b.json", (fx_run)FX_RUN);
    fx_make_shard(a, 0, 2);
    fx_make_shard(b, 1, 2);
    char *out = tmp_path("merged.json");
    const char *files[] = {a, b};
    assert_int_equal(run_merge(files, 2, out), 0);
    cJSON *one = read_json(a), *got = read_json(out);
    const cJSON *t1 = at(one, "totals"), *t = at(got, "totals");
    assert_int_equal(cJSON_GetArraySize(at(got, "steps")), (int)FX_STEPS);
    assert_true(at(t, "duration_s")->valuedouble == at(t1, "duration_s")->valuedouble);
    assert_true(at(t, "requests.ok")->valuedouble == 2 * at(t1, "requests.ok")->valuedouble);
    assert_true(at(t, "ttft_ms.count")->valuedouble == 2 * at(t1, "ttft_ms.count")->valuedouble);
    assert_true(fabs(at(t, "tps")->valuedouble - 2 * at(t1, "tps")->valuedouble) < 0.01);
    for (int k = 0; k < (int)FX_STEPS; k++) {
        const cJSON *s1 = cJSON_GetArrayItem(at(one, "steps"), k);
        const cJSON *s = cJSON_GetArrayItem(at(got, "steps"), k);
        assert_true(at(s, "rate")->valuedouble == 2 * at(s1, "rate")->valuedouble);
        assert_true(at(s, "duration_s")->valuedouble == at(s1, "duration_s")->valuedouble);
        assert_true(at(s, "window.completed")->valuedouble ==
                    2 * at(s1, "window.completed")->valuedouble);
        /* the same requests twice: the same percentiles */
        assert_true(fabs(at(s, "ttft_ms.p50")->valuedouble - at(s1, "ttft_ms.p50")->valuedouble) <
                    0.0015);
    }
    assert_true(at(cJSON_GetArrayItem(at(got, "series"), 1), "tps")->valuedouble == 2 * 41);
    assert_true(at(got, "config.merged_shards")->valuedouble == 2);
    assert_null(cJSON_GetObjectItemCaseSensitive(at(got, "config"), "shard"));
    assert_true(cJSON_IsObject(at(got, "analysis")));
    cJSON_Delete(one);
    cJSON_Delete(got);
    free(a);
    free(b);
    free(out);
}

/* A worker missing, a whole run among shards, two files of the same shard: one sentence. */
static void merge_refuses_an_incomplete_or_mixed_set_of_shards(void **state)
{
    (void)state;
    char *a = fx_write("a.json", (fx_run)FX_RUN), *b = fx_write("b.json", (fx_run)FX_RUN);
    char *c = fx_write("c.json", (fx_run)FX_RUN), *out = tmp_path("m.json");
    fx_make_shard(a, 0, 3);
    fx_make_shard(b, 2, 3);
    char *missing[] = {LLM_BINARY, "merge", a, b, "-o", out, NULL};
    expect_refused(missing, "shard 1 of 3 is missing");
    char *forced[] = {LLM_BINARY, "merge", a, b, "-o", out, "--force", NULL};
    expect_merged(forced);
    char *mixed[] = {LLM_BINARY, "merge", a, c, "-o", out, NULL};
    expect_refused(mixed, "is a shard of a run and");
    fx_make_shard(c, 0, 3);
    char *twice[] = {LLM_BINARY, "merge", a, c, b, "-o", out, NULL};
    expect_refused(twice, "the same shard index");
    free(a);
    free(b);
    free(c);
    free(out);
}

/* Runs of another target, model, endpoint or plan are not one run: refused, naming the
 * field, unless --force; credentials in the URL and a trailing '/' do not make another
 * target (and are never printed). */
static void merge_refuses_runs_of_different_tests_unless_forced(void **state)
{
    (void)state;
    fx_run base = FX_RUN;
    char *a = fx_write("a.json", base), *out = tmp_path("m.json");
    static const struct {
        const char *field, *value;
    } other[] = {{"config.url", "http://user:pw@10.0.0.6:8000/v1"},
                 {"config.model", "m2"},
                 {"config.endpoint", "completions"},
                 {"config.plan.kind", "ramp"}};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        fx_run r = base;
        if (i == 0)
            r.url = other[i].value;
        else if (i == 1)
            r.model = other[i].value;
        else if (i == 2)
            r.endpoint = other[i].value;
        else
            r.plan = other[i].value;
        char *b = fx_write("b.json", r);
        char *argv[] = {LLM_BINARY, "merge", a, b, "-o", out, NULL};
        char *err;
        assert_int_equal(run_cli(argv, &err), 2);
        if (!strstr(err, other[i].field) || !strstr(err, "--force merges anyway") ||
            strstr(err, "pw"))
            fail_msg("the refusal should name %s and --force, and no credentials: %s",
                     other[i].field, err);
        free(err);
        char *forced[] = {LLM_BINARY, "merge", a, b, "-o", out, "--force", NULL};
        expect_merged(forced);
        free(b);
    }
    fx_run same = base;
    same.url = "http://user:pw@10.0.0.5:8000/v1/";
    char *b = fx_write("b.json", same);
    char *argv[] = {LLM_BINARY, "merge", a, b, "-o", out, NULL};
    expect_merged(argv);
    free(b);
    free(a);
    free(out);
}

/* A file twice (by path, or another name of the same file) would count its run twice. */
static void merge_refuses_the_same_file_twice_unless_forced(void **state)
{
    (void)state;
    char *a = fx_write("a.json", (fx_run)FX_RUN), *out = tmp_path("m.json");
    char *sym = tmp_path("link.json"), *hard = tmp_path("hard.json");
    assert_int_equal(symlink(a, sym), 0);
    char *twice[] = {LLM_BINARY, "merge", a, a, "-o", out, NULL};
    expect_refused(twice, "are the same file");
    char *by_link[] = {LLM_BINARY, "merge", a, sym, "-o", out, NULL};
    expect_refused(by_link, "--force merges anyway");
    if (link(a, hard) == 0) { /* another name, the same inode */
        char *by_hard[] = {LLM_BINARY, "merge", hard, a, "-o", out, NULL};
        expect_refused(by_hard, "are the same file");
    }
    char *forced[] = {LLM_BINARY, "merge", a, a, "--force", "-o", out, NULL};
    expect_merged(forced);
    free(a);
    free(out);
    free(sym);
    free(hard);
}

/* `report X.json -o X.json` once replaced the snapshot with Markdown: an output that is an
 * input (the same file by any name) is refused with exit 2 and the input stays as it was. */
static void an_output_that_is_an_input_is_refused(void **state)
{
    (void)state;
    char *a = fx_write("a.json", (fx_run)FX_RUN), *b = fx_write("b.json", (fx_run)FX_RUN);
    char *link = tmp_path("link.json");
    assert_int_equal(symlink(a, link), 0);
    size_t len_a, len_b;
    char *before_a = tu_read_file(a, &len_a), *before_b = tu_read_file(b, &len_b);
    char *report[] = {LLM_BINARY, "report", a, "-o", a, NULL};
    expect_refused(report, "is also an input");
    char *by_link[] = {LLM_BINARY, "report", b, a, "--format", "html", "-o", link, NULL};
    expect_refused(by_link, "is also an input");
    char *merge[] = {LLM_BINARY, "merge", a, b, "-o", b, NULL};
    expect_refused(merge, "is also an input");
    size_t n;
    char *after = tu_read_file(a, &n);
    assert_true(n == len_a && memcmp(after, before_a, n) == 0);
    free(after);
    after = tu_read_file(b, &n);
    assert_true(n == len_b && memcmp(after, before_b, n) == 0);
    free(after);
    free(before_a);
    free(before_b);
    free(a);
    free(b);
    free(link);
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

static void markdown_has_a_gpu_section_when_the_run_had_gpus(void **state)
{
    (void)state;
    char *path = write_tmp("gpu.json", k_gpu_snapshot);
    char *md = render(report_markdown, path);
    assert_non_null(strstr(md, "\n## GPU\n"));
    assert_non_null(strstr(
        md, "| 0 | NVIDIA A100-SXM4-80GB | nvidia | 85.0 | 90 | 40960 | 81920 | 64 | 312.5 |"));
    assert_non_null(strstr(md, "| 1 | NVIDIA L4 | nvidia | 12.0 | 14 | 2048 | 23034 | 43 | - |"));
    assert_non_null(strstr(md, "Highest over the run: 64 \xC2\xB0"
                               "C, 312.5 W, 90 % busy, "
                               "throttling seen"));
    free(md);
    free(path);
    path = write_tmp("snap.json", k_snapshot); /* no GPU: no section */
    md = render(report_markdown, path);
    assert_null(strstr(md, "## GPU"));
    free(md);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(markdown_has_the_seeds_report),
        cmocka_unit_test(markdown_has_a_gpu_section_when_the_run_had_gpus),
        cmocka_unit_test(reports_have_a_client_vs_server_table),
        cmocka_unit_test(csv_has_one_row_per_step),
        cmocka_unit_test(html_is_one_page_with_charts_and_escaped_text),
        cmocka_unit_test(html_charts_fill_the_width_with_a_title_on_every_point),
        cmocka_unit_test(legend_boxes_never_overlap_the_plot),
        cmocka_unit_test(html_model_is_what_the_server_named),
        cmocka_unit_test(overhead_within_the_server_bucket_is_not_a_figure),
        cmocka_unit_test(html_has_the_new_sections_when_the_file_has_their_figures),
        cmocka_unit_test(html_long_series_are_merged_into_points),
        cmocka_unit_test(several_files_make_one_csv),
        cmocka_unit_test(bad_inputs_get_a_sentence_and_exit_2),
        cmocka_unit_test(unwritable_output_is_exit_1),
        cmocka_unit_test(one_file_merge_reproduces_steps_totals_and_analysis),
        cmocka_unit_test(merge_of_an_older_file_keeps_its_run_time_and_rates),
        cmocka_unit_test(two_runs_add_up_windows_and_histograms),
        cmocka_unit_test(shards_add_up_side_by_side),
        cmocka_unit_test(merge_refuses_an_incomplete_or_mixed_set_of_shards),
        cmocka_unit_test(merge_refuses_runs_of_different_tests_unless_forced),
        cmocka_unit_test(merge_refuses_the_same_file_twice_unless_forced),
        cmocka_unit_test(an_output_that_is_an_input_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
