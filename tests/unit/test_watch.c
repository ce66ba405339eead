/* Tests for run/watch: workers' --listen texts (rendered by run/listen itself) summed and
 * their histograms merged exactly — the merge equals one worker that saw every value, the
 * percentiles are Prometheus' histogram_quantile of the summed buckets; a worker that is
 * down keeps its counters out of the gauges; garbage is refused with a sentence and never
 * crashes; rates over the last reads; the URL forms accepted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/listen.h"
#include "run/watch.h"

#define NS 1000000000ULL

static listen_figures *figures_new(void)
{
    listen_figures *f = calloc(1, sizeof *f);
    assert_non_null(f);
    hist_init(&f->ttft);
    hist_init(&f->e2e);
    hist_init(&f->itl);
    f->valid = true;
    f->state = ENGINE_RUNNING;
    return f;
}

/* The text a worker with figures f serves, read back by watch. */
static void read_worker(const listen_figures *f, watch_figures *out)
{
    char *text = listen_render(f);
    assert_non_null(text);
    char err[200] = "";
    assert_true(watch_read(text, strlen(text), out, err, sizeof err));
    assert_string_equal(err, "");
    free(text);
}

static bool close_to(double a, double b)
{
    return fabs(a - b) <= 1e-12 * (fabs(b) > 1 ? fabs(b) : 1);
}

/* Three workers: A (3 TTFTs of 1000 µs), B (one of 3000 µs), C (none). */
static void three_workers(watch_worker w[3])
{
    listen_figures *a = figures_new(), *b = figures_new(), *c = figures_new();
    a->ok = 10, a->errors[ERR_HTTP_5XX] = 2, a->output_tokens = 100, a->target = 4;
    a->inflight = 3, a->step = 0, a->lost_events = 1;
    hist_record_n(&a->ttft, 1000, 3);
    b->ok = 5, b->errors[ERR_CONNECT] = 1, b->output_tokens = 50, b->target = 2, b->inflight = 2;
    b->step = 1;
    hist_record(&b->ttft, 3000);
    c->ok = 1, c->output_tokens = 7, c->target = 1, c->inflight = 0, c->step = 1;
    c->state = ENGINE_PAUSED;
    listen_figures *all[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        char url[64];
        snprintf(url, sizeof url, "http://10.0.0.%d:9464", i + 1);
        watch_worker_init(&w[i], url);
        watch_figures f;
        read_worker(all[i], &f);
        watch_worker_read(&w[i], &f, 5 * NS);
        free(all[i]);
    }
}

static void three_workers_sum_exactly(void **state)
{
    (void)state;
    watch_worker w[3];
    three_workers(w);
    watch_fleet f;
    watch_fleet_sum(w, 3, &f);
    assert_int_equal(f.n, 3);
    assert_int_equal(f.n_up, 3);
    assert_true(f.ok == 16 && f.failed == 3);
    assert_true(f.errors[ERR_HTTP_5XX] == 2 && f.errors[ERR_CONNECT] == 1);
    assert_true(f.output_tokens == 157 && f.lost == 1);
    assert_true(f.target == 7 && f.inflight == 5);
    assert_true(f.step_min == 1 && f.step_max == 2);
    assert_int_equal(f.state, -2); /* one is paused */
    assert_true(isnan(f.rps));     /* one read each: no rate yet */
    assert_true(f.h[WATCH_H_TTFT].total == 4);
    assert_true(close_to(f.h[WATCH_H_TTFT].sum, 0.006));
}

/* 1000 µs is below the edge 1024 µs (above 896); 3000 µs below 3072 (above 2560): the
 * quantiles interpolate inside those buckets of the summed counts, as histogram_quantile. */
static void merged_percentiles_are_histogram_quantile_of_the_summed_buckets(void **state)
{
    (void)state;
    watch_worker w[3];
    three_workers(w);
    watch_fleet f;
    watch_fleet_sum(w, 3, &f);
    const watch_hist *h = &f.h[WATCH_H_TTFT];
    assert_true(close_to(watch_quantile(h, 0.50), 0.000896 + 0.000128 * 2.0 / 3.0));
    assert_true(close_to(watch_quantile(h, 0.90), 0.00256 + 0.000512 * 0.6));
    assert_true(close_to(watch_quantile(h, 0.99), 0.00256 + 0.000512 * 0.96));
    assert_true(isnan(watch_quantile(&f.h[WATCH_H_E2E], 0.5))); /* nothing recorded */
}

/* Adding the workers' buckets gives exactly the buckets of one worker that saw it all. */
static void merge_equals_one_worker_with_every_value(void **state)
{
    (void)state;
    listen_figures *a = figures_new(), *b = figures_new(), *ab = figures_new();
    uint64_t seed = 7;
    for (int i = 0; i < 5000; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t v = (seed >> 33) % 5000000; /* up to 5 s in µs */
        hist_record(i % 3 ? &a->e2e : &b->e2e, v);
        hist_record(&ab->e2e, v);
    }
    watch_figures fa, fb, fab;
    read_worker(a, &fa);
    read_worker(b, &fb);
    read_worker(ab, &fab);
    watch_hist m = fa.h[WATCH_H_E2E];
    watch_hist_add(&m, &fb.h[WATCH_H_E2E]);
    const watch_hist *one = &fab.h[WATCH_H_E2E];
    assert_int_equal(m.n, one->n);
    for (int i = 0; i < m.n; i++) {
        assert_true(m.le[i] == one->le[i]);
        assert_true(m.cum[i] == one->cum[i]);
    }
    assert_true(m.total == 5000 && one->total == 5000);
    for (double q = 0.01; q < 1; q += 0.01)
        assert_true(watch_quantile(&m, q) == watch_quantile(one, q));
    free(a);
    free(b);
    free(ab);
}

/* A side without an edge counts with its cumulative count at the edge below. */
static void edges_missing_on_one_side_count_from_the_edge_below(void **state)
{
    (void)state;
    watch_hist a = {.n = 2, .le = {1, 4}, .cum = {1, 3}, .total = 3};
    watch_hist b = {.n = 2, .le = {2, 4}, .cum = {2, 2}, .total = 5};
    watch_hist_add(&a, &b);
    assert_int_equal(a.n, 3);
    assert_true(a.le[0] == 1 && a.le[1] == 2 && a.le[2] == 4);
    assert_true(a.cum[0] == 1 && a.cum[1] == 3 && a.cum[2] == 5);
    assert_true(a.total == 8);
    assert_true(watch_quantile(&a, 1) == 4); /* in +Inf: the highest finite edge */
}

static void a_down_worker_keeps_its_counters_but_leaves_the_gauges(void **state)
{
    (void)state;
    watch_worker w[3];
    three_workers(w);
    watch_worker_fail(&w[0], "Failed to connect");
    watch_fleet f;
    watch_fleet_sum(w, 3, &f);
    assert_int_equal(f.n_up, 2);
    assert_true(f.ok == 16);                       /* its requests happened */
    assert_true(f.h[WATCH_H_TTFT].total == 4);     /* and its latencies */
    assert_true(f.target == 3 && f.inflight == 2); /* but it steers nothing now */
    assert_int_equal(w[0].link, WATCH_LINK_DOWN);
    assert_string_equal(w[0].error, "Failed to connect");
    /* a worker never read counts nowhere */
    watch_worker never;
    watch_worker_init(&never, "http://10.0.0.9:1");
    watch_worker_fail(&never, "refused");
    watch_fleet g;
    watch_fleet_sum(&never, 1, &g);
    assert_true(g.n_up == 0 && g.ok == 0 && g.target == 0 && g.step_min == 0);
}

static void garbage_is_refused_with_a_sentence_and_never_crashes(void **state)
{
    (void)state;
    watch_figures f;
    char err[200] = "";
    const char *sim = "# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running 3\n";
    assert_false(watch_read(sim, strlen(sim), &f, err, sizeof err));
    assert_non_null(strstr(err, "not an llmload worker"));
    const char *html = "<html><body>404 not found</body></html>";
    assert_false(watch_read(html, strlen(html), &f, err, sizeof err));
    /* every prefix and single-byte change of a real page: no crash, no sanitizer report */
    listen_figures *lf = figures_new();
    hist_record_n(&lf->ttft, 12345, 10);
    char *text = listen_render(lf);
    size_t len = strlen(text);
    for (size_t cut = 0; cut < len; cut += 7)
        watch_read(text, cut, &f, err, sizeof err);
    for (size_t i = 0; i < len; i += 3) {
        char saved = text[i];
        text[i] = (char)(i * 37);
        watch_read(text, len, &f, err, sizeof err);
        text[i] = saved;
    }
    free(text);
    free(lf);
}

static void rates_come_from_the_last_reads_and_restart_with_the_worker(void **state)
{
    (void)state;
    watch_worker w;
    watch_worker_init(&w, "http://h:1");
    watch_figures f = {.ok = 100, .output_tokens = 1000, .state = ENGINE_RUNNING};
    watch_worker_read(&w, &f, 10 * NS);
    assert_true(isnan(w.rps));
    f.ok = 110, f.failed = 2, f.output_tokens = 1500;
    watch_worker_read(&w, &f, 12 * NS);
    assert_true(w.rps == 6 && w.tps == 250);
    for (int i = 0; i < WATCH_RATE_READS; i++) { /* the span slides: 10/s for the last reads */
        f.ok += 10;
        watch_worker_read(&w, &f, (13 + (uint64_t)i) * NS);
    }
    assert_true(w.rps == 10 && w.tps == 0);
    f.ok = 3; /* restarted */
    watch_worker_read(&w, &f, 20 * NS);
    assert_true(isnan(w.rps));
}

static void url_forms(void **state)
{
    (void)state;
    char base[WATCH_URL_MAX], err[200];
    assert_int_equal(watch_url_base("http://h:9464/metrics", base, sizeof base, err, sizeof err),
                     0);
    assert_string_equal(base, "http://h:9464");
    assert_int_equal(watch_url_base("h:9464", base, sizeof base, err, sizeof err), 0);
    assert_string_equal(base, "http://h:9464");
    assert_int_equal(
        watch_url_base("HTTPS://u:pw@h/x/metrics/", base, sizeof base, err, sizeof err), 0);
    assert_string_equal(base, "HTTPS://u:pw@h/x");
    watch_worker w;
    watch_worker_init(&w, base);
    assert_null(strstr(w.shown, "pw")); /* credentials never shown */
    const char *bad[] = {"ftp://h:1", "", "http://", "http://h:1/metrics?x=1", "http://u@/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(watch_url_base(bad[i], base, sizeof base, err, sizeof err), -1);
        assert_true(strlen(err) > 10);
    }
}

static void the_headless_line_names_every_figure(void **state)
{
    (void)state;
    watch_worker w[3];
    three_workers(w);
    watch_fleet f;
    watch_fleet_sum(w, 3, &f);
    char line[768];
    watch_line(&f, 3, line, sizeof line);
    assert_non_null(strstr(line, "t=3 up=3/3 step=1-2 target=7 inflight=5 ok=16 failed=3 "));
    assert_non_null(strstr(line, " ttft_p50=0.0010 "));
    assert_non_null(strstr(line, " e2e_p99=nan "));
    assert_non_null(strstr(line, " lost=1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(three_workers_sum_exactly),
        cmocka_unit_test(merged_percentiles_are_histogram_quantile_of_the_summed_buckets),
        cmocka_unit_test(merge_equals_one_worker_with_every_value),
        cmocka_unit_test(edges_missing_on_one_side_count_from_the_edge_below),
        cmocka_unit_test(a_down_worker_keeps_its_counters_but_leaves_the_gauges),
        cmocka_unit_test(garbage_is_refused_with_a_sentence_and_never_crashes),
        cmocka_unit_test(rates_come_from_the_last_reads_and_restart_with_the_worker),
        cmocka_unit_test(url_forms),
        cmocka_unit_test(the_headless_line_names_every_figure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
