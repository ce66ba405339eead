/* report/compare: the comparison as Markdown, CSV and HTML, and the subcommand. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/fileout.h"
#include "report/compare.h"
#include "report/report.h"

static void load_text(const cmp_row *row, char *buf, size_t cap)
{
    if (row->rate)
        snprintf(buf, cap, "%.4g req/s", row->load);
    else
        snprintf(buf, cap, "c=%.0f", row->load);
}

static void fmt_value(char *buf, size_t cap, double v)
{
    if (isnan(v))
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, "%.4g", v);
}

static void fmt_change(char *buf, size_t cap, const cmp_change *c)
{
    if (isnan(c->delta))
        snprintf(buf, cap, "-");
    else if (isnan(c->pct))
        snprintf(buf, cap, "%+.4g", c->delta);
    else
        snprintf(buf, cap, "%+.4g (%+.1f %%)", c->delta, c->pct);
}

/* "TPOT p50 +98.4 % at c=4" for the summary line: the figure most worse, else most better. */
static const cmp_change *headline(const cmp_result *r, const cmp_row **row, cmp_figure *fig)
{
    const cmp_change *best = NULL;
    double best_size = -1;
    for (int want = CMP_WORSE; want >= CMP_BETTER && !best; want--)
        for (size_t i = 0; i < r->n_rows; i++)
            for (int f = 0; f < CMP_FIGURES; f++) {
                const cmp_change *c = &r->rows[i].c[f];
                double size = f == CMP_ERROR_RATE ? fabs(c->delta) : fabs(c->pct);
                if (c->verdict == (cmp_verdict)want && isfinite(size) && size > best_size) {
                    best = c, best_size = size, *row = &r->rows[i], *fig = (cmp_figure)f;
                }
            }
    return best;
}

static void verdict_sentence(const cmp_result *r, char *buf, size_t cap)
{
    const cmp_row *row = NULL;
    cmp_figure f = CMP_RPS;
    const cmp_change *c = headline(r, &row, &f);
    if (r->n_rows == 0) {
        snprintf(buf, cap, "no load of one run was applied in the other: nothing to compare");
        return;
    }
    if (!c) {
        snprintf(buf, cap, "within noise at all %zu matched load%s", r->n_rows,
                 r->n_rows == 1 ? "" : "s");
        return;
    }
    char load[32], chg[64];
    load_text(row, load, sizeof load);
    fmt_change(chg, sizeof chg, c);
    snprintf(buf, cap, "%s: %s %s at %s (%s)", cmp_verdict_name(r->verdict), cmp_figure_label(f),
             chg, load, cmp_verdict_name(c->verdict));
}

static const char *knee_name(int k)
{
    static const char *const names[] = {"throughput knee", "latency knee", "best load"};
    return names[k];
}

static const snap_load_note *knee_of(const snap_doc *d, int k)
{
    const snap_load_note *n[] = {&d->analysis.throughput_knee, &d->analysis.latency_knee,
                                 &d->analysis.best_load};
    return n[k];
}

static void knee_text(const snap_doc *d, int k, char *buf, size_t cap)
{
    const snap_load_note *n = knee_of(d, k);
    if (!n->found)
        snprintf(buf, cap, "none");
    else if (d->analysis.knee_is_rate)
        snprintf(buf, cap, "%.4g req/s", n->load);
    else
        snprintf(buf, cap, "c=%.0f", n->load);
}

static const char k_rule[] =
    "Verdicts come from each run's own spread, not a fixed threshold: latency percentiles "
    "are better or worse when their 95 % confidence intervals (order statistics of the "
    "histogram) do not overlap; RPS and TPS when the change exceeds 1.96 x the combined "
    "relative standard error (from the per-second series inside the step, the spread of "
    "--repeat steps, or else Poisson counting); the error rate by a two-proportion z-test.";

/* ---- Markdown ---- */

static void md_header(FILE *out, const cmp_result *r)
{
    const snap_doc *d[2] = {r->base, r->next};
    fputs("# llmload compare\n\n| | base | new |\n|---|---|---|\n", out);
    fprintf(out, "| file | %s | %s |\n", d[0]->path, d[1]->path);
    fprintf(out, "| target | %s | %s |\n", d[0]->config.url ? d[0]->config.url : "-",
            d[1]->config.url ? d[1]->config.url : "-");
    fprintf(out, "| model | %s | %s |\n", d[0]->config.model ? d[0]->config.model : "-",
            d[1]->config.model ? d[1]->config.model : "-");
    fprintf(out, "| started | %s | %s |\n", d[0]->started ? d[0]->started : "-",
            d[1]->started ? d[1]->started : "-");
    for (int k = 0; k < 3; k++) {
        char a[48], b[48];
        knee_text(d[0], k, a, sizeof a);
        knee_text(d[1], k, b, sizeof b);
        fprintf(out, "| %s | %s | %s |\n", knee_name(k), a, b);
    }
    char s[300];
    verdict_sentence(r, s, sizeof s);
    fprintf(out, "\n**Verdict: %s**\n", s);
    if (r->unmatched[0] || r->unmatched[1])
        fprintf(out, "\n%zu load(s) only in base, %zu only in new: not compared.\n",
                r->unmatched[0], r->unmatched[1]);
}

void cmp_markdown(FILE *out, const cmp_result *r)
{
    md_header(out, r);
    for (size_t i = 0; i < r->n_rows; i++) {
        const cmp_row *row = &r->rows[i];
        char load[32];
        load_text(row, load, sizeof load);
        fprintf(out,
                "\n## %s (%s): %s\n\n| figure | base | new | change | verdict |\n"
                "|---|---:|---:|---:|---|\n",
                load, row->test, cmp_verdict_name(row->verdict));
        for (int f = 0; f < CMP_FIGURES; f++) {
            const cmp_change *c = &row->c[f];
            char b[32], n[32], chg[64];
            fmt_value(b, sizeof b, c->base);
            fmt_value(n, sizeof n, c->next);
            fmt_change(chg, sizeof chg, c);
            fprintf(out, "| %s | %s | %s | %s | %s |\n", cmp_figure_label((cmp_figure)f), b, n, chg,
                    cmp_verdict_name(c->verdict));
        }
    }
    fprintf(out, "\n## How the verdict is decided\n\n%s\n", k_rule);
    const snap_doc *d[2] = {r->base, r->next};
    for (int k = 0; k < 2; k++)
        for (int j = 0; j < 2; j++)
            if (knee_of(d[j], k)->found && knee_of(d[j], k)->reason)
                fprintf(out, "\n- %s %s: %s", j ? "new" : "base", knee_name(k),
                        knee_of(d[j], k)->reason);
    fputc('\n', out);
}

/* ---- CSV: one row per load and figure ---- */

static void csv_num(FILE *out, double v)
{
    fputc(',', out);
    if (isfinite(v))
        fprintf(out, "%.6g", v);
}

void cmp_csv(FILE *out, const cmp_result *r)
{
    fputs("test,load_kind,load,figure,base,new,change,change_pct,verdict,base_lo,base_hi,"
          "new_lo,new_hi\n",
          out);
    for (size_t i = 0; i < r->n_rows; i++) {
        const cmp_row *row = &r->rows[i];
        for (int f = 0; f < CMP_FIGURES; f++) {
            const cmp_change *c = &row->c[f];
            fprintf(out, "%s,%s,%.6g,%s", row->test, row->rate ? "rate" : "concurrency", row->load,
                    cmp_figure_key((cmp_figure)f));
            csv_num(out, c->base);
            csv_num(out, c->next);
            csv_num(out, c->delta);
            csv_num(out, c->pct);
            fprintf(out, ",%s", cmp_verdict_name(c->verdict));
            csv_num(out, c->lo[0]);
            csv_num(out, c->hi[0]);
            csv_num(out, c->lo[1]);
            csv_num(out, c->hi[1]);
            fputc('\n', out);
        }
    }
}

/* ---- HTML: the tables and both runs overlaid on each chart ---- */

static void html_cell(FILE *out, const char *text)
{
    fputs("<td>", out);
    report_html_text(out, text);
    fputs("</td>", out);
}

static void html_table(FILE *out, const cmp_row *row)
{
    char load[32];
    load_text(row, load, sizeof load);
    fputs("<h2>", out);
    report_html_text(out, load);
    fputs(" (", out);
    report_html_text(out, row->test);
    fprintf(out, "): <span class=\"%s\">%s</span></h2>\n", cmp_verdict_name(row->verdict),
            cmp_verdict_name(row->verdict));
    fputs("<table><tr><th>figure</th><th>base</th><th>new</th><th>change</th><th>verdict</th>"
          "</tr>\n",
          out);
    for (int f = 0; f < CMP_FIGURES; f++) {
        const cmp_change *c = &row->c[f];
        char b[32], n[32], chg[64];
        fmt_value(b, sizeof b, c->base);
        fmt_value(n, sizeof n, c->next);
        fmt_change(chg, sizeof chg, c);
        fputs("<tr>", out);
        html_cell(out, cmp_figure_label((cmp_figure)f));
        html_cell(out, b);
        html_cell(out, n);
        html_cell(out, chg);
        html_cell(out, cmp_verdict_name(c->verdict));
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
}

static void html_chart(FILE *out, const cmp_result *r, const char *title, const char *unit,
                       const cmp_figure *figs, size_t n_figs, const char *const *names)
{
    size_t n = r->n_rows;
    double *x = calloc(n + 1, sizeof *x), *y = calloc(4 * (n + 1), sizeof *y);
    if (x && y) {
        report_chart c = {.title = title,
                          .x_label = n && r->rows[0].rate ? "rate (requests/s)" : "concurrency",
                          .y_label = unit,
                          .x = x,
                          .n = n,
                          .n_lines = 2 * n_figs,
                          .log_x = true};
        for (size_t l = 0; l < c.n_lines; l++) {
            c.y[l] = y + l * (n + 1);
            c.names[l] = names[l];
        }
        for (size_t i = 0; i < n; i++) {
            x[i] = r->rows[i].load;
            for (size_t k = 0; k < n_figs; k++) {
                y[(2 * k) * (n + 1) + i] = r->rows[i].c[figs[k]].base;
                y[(2 * k + 1) * (n + 1) + i] = r->rows[i].c[figs[k]].next;
            }
        }
        report_svg_chart(out, &c);
    }
    free(x);
    free(y);
}

static void html_charts(FILE *out, const cmp_result *r)
{
    static const cmp_figure tps[] = {CMP_TPS}, rps[] = {CMP_RPS}, tpot[] = {CMP_TPOT_P50},
                            ttft[] = {CMP_TTFT_P50, CMP_TTFT_P99};
    static const char *const two[] = {"base", "new"};
    static const char *const four[] = {"base p50", "new p50", "base p99", "new p99"};
    html_chart(out, r, "TPS vs load: base and new", "tokens/s", tps, 1, two);
    html_chart(out, r, "RPS vs load: base and new", "requests/s", rps, 1, two);
    html_chart(out, r, "TTFT vs load: base and new", "ms", ttft, 2, four);
    html_chart(out, r, "TPOT p50 vs load: base and new", "ms", tpot, 1, two);
}

void cmp_html(FILE *out, const cmp_result *r)
{
    const snap_doc *d[2] = {r->base, r->next};
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>llmload compare</title>\n"
          "<style>body{font-family:sans-serif;margin:24px;color:#222}"
          "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;"
          "padding:3px 8px;text-align:right}th{background:#f4f4f4}"
          ".worse{color:#b00}.better{color:#070}"
          "figure{margin:16px 0}figure svg{display:block;width:100%;height:auto}"
          "</style></head><body>\n"
          "<h1>llmload compare</h1>\n<table><tr><th></th><th>base</th><th>new</th></tr>\n",
          out);
    const char *rows[][2] = {{d[0]->path, d[1]->path},
                             {d[0]->config.url, d[1]->config.url},
                             {d[0]->config.model, d[1]->config.model},
                             {d[0]->started, d[1]->started}};
    const char *labels[] = {"file", "target", "model", "started"};
    for (int i = 0; i < 4; i++) {
        fputs("<tr>", out);
        html_cell(out, labels[i]);
        html_cell(out, rows[i][0] ? rows[i][0] : "-");
        html_cell(out, rows[i][1] ? rows[i][1] : "-");
        fputs("</tr>\n", out);
    }
    for (int k = 0; k < 3; k++) {
        char a[48], b[48];
        knee_text(d[0], k, a, sizeof a);
        knee_text(d[1], k, b, sizeof b);
        fputs("<tr>", out);
        html_cell(out, knee_name(k));
        html_cell(out, a);
        html_cell(out, b);
        fputs("</tr>\n", out);
    }
    char s[300];
    verdict_sentence(r, s, sizeof s);
    fputs("</table>\n<p><b>Verdict: ", out);
    report_html_text(out, s);
    fputs("</b></p>\n", out);
    for (size_t i = 0; i < r->n_rows; i++)
        html_table(out, &r->rows[i]);
    if (r->n_rows > 0)
        html_charts(out, r);
    fputs("<p>", out);
    report_html_text(out, k_rule);
    fputs("</p>\n</body></html>\n", out);
}

/* ---- the subcommand ---- */

typedef struct {
    const cmp_result *r;
    const char *format;
} cmp_job;

static int write_compare(FILE *out, void *arg)
{
    const cmp_job *j = arg;
    if (strcmp(j->format, "csv") == 0)
        cmp_csv(out, j->r);
    else if (strcmp(j->format, "html") == 0)
        cmp_html(out, j->r);
    else
        cmp_markdown(out, j->r);
    return fflush(out) != 0 || ferror(out) ? (errno ? errno : EIO) : 0;
}

/* Runs of different tests are refused unless --force: the key that differs is named. */
static int refuse_different(const llm_config *cfg, const snap_doc *d)
{
    const char *key = snap_config_differs(&d[0], &d[1]);
    if (!key)
        key = snap_workload_differs(&d[0], &d[1]);
    if (!key || cfg->force)
        return 0;
    fprintf(stderr,
            "llmload: %s and %s are runs of different tests (%s differs): compare runs of one "
            "endpoint and workload, or add --force\n",
            d[0].path, d[1].path, key);
    return -1;
}

static int compare_write(const llm_config *cfg, const cmp_result *r)
{
    char err[512];
    cmp_job job = {r, cfg->report_format ? cfg->report_format : "md"};
    if (cfg->output_path) {
        /* -o was checked before anything was read (config): never an input (DESIGN §11) */
        if (llm_write_file_atomic(cfg->output_path, write_compare, &job, err, sizeof err) != 0) {
            fprintf(stderr, "llmload: %s\n", err);
            return LLM_EXIT_FAILED;
        }
        fprintf(stderr, "llmload: comparison written to %s\n", cfg->output_path);
    } else if (write_compare(stdout, &job) != 0) {
        fprintf(stderr, "llmload: cannot write the comparison to standard output: %s\n",
                strerror(errno));
        return LLM_EXIT_FAILED;
    }
    return LLM_EXIT_OK;
}

static int compare_verdict(const llm_config *cfg, const cmp_result *r)
{
    char s[300];
    verdict_sentence(r, s, sizeof s);
    fprintf(stderr, "llmload: compare: %s\n", s);
    if (cfg->fail_if_worse_pct >= 0 && r->worst_pct > cfg->fail_if_worse_pct) {
        fprintf(stderr,
                "llmload: compare: worse by %.1f %% (or points, for the error rate), more than "
                "--fail-if-worse %g\n",
                r->worst_pct, cfg->fail_if_worse_pct);
        return LLM_EXIT_FAILED;
    }
    return LLM_EXIT_OK;
}

int compare_main(const llm_config *cfg)
{
    if (cfg->n_files != 2) {
        fprintf(stderr,
                "llmload: compare needs two snapshots: llmload compare BASE.json NEW.json\n");
        return LLM_EXIT_USAGE;
    }
    snap_doc d[2];
    memset(d, 0, sizeof d);
    char err[512];
    int rc = LLM_EXIT_OK;
    for (int i = 0; i < 2 && rc == LLM_EXIT_OK; i++)
        if (snap_load(cfg->files[i], &d[i], err, sizeof err) != 0) {
            fprintf(stderr, "llmload: %s\n", err);
            rc = LLM_EXIT_USAGE;
        }
    if (rc == LLM_EXIT_OK && refuse_different(cfg, d) != 0)
        rc = LLM_EXIT_USAGE;
    cmp_result r;
    if (rc == LLM_EXIT_OK && cmp_build(&d[0], &d[1], &r) != 0) {
        fprintf(stderr, "llmload: out of memory\n");
        rc = LLM_EXIT_FAILED;
    } else if (rc == LLM_EXIT_OK) {
        rc = compare_write(cfg, &r);
        if (rc == LLM_EXIT_OK)
            rc = compare_verdict(cfg, &r);
        cmp_free(&r);
    }
    snap_free(&d[0]);
    snap_free(&d[1]);
    return rc;
}
