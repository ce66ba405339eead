/* report_svg: line and bar charts as inline SVG (see report_svg.h). */
#include "report/report_svg.h"

#include <math.h>
#include <string.h>

static const char *const k_colors[REPORT_CHART_LINES] = {
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};

void report_html_text(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '&':
            fputs("&amp;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&#39;", out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

/* A number for a tick or a title: whole numbers whole, else 4 significant digits. */
static void num_text(char *buf, size_t cap, double v)
{
    if (fabs(v) < 1e9 && v == floor(v))
        snprintf(buf, cap, "%.0f", v);
    else if (fabs(v) >= 1e9)
        snprintf(buf, cap, "%.3g", v);
    else
        snprintf(buf, cap, "%.4g", v);
}

static void put_num(FILE *out, double v)
{
    char buf[32];
    num_text(buf, sizeof buf, v);
    fputs(buf, out);
}

/* Characters of a UTF-8 string (its continuation bytes not counted). */
static size_t text_chars(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

void report_svg_layout(const char *const *names, size_t n, svg_layout *l)
{
    memset(l, 0, sizeof *l);
    double x = SVG_PAD_L, y = SVG_LEGEND_TOP, right = SVG_W - SVG_PAD_R;
    bool any = false;
    for (size_t i = 0; i < n && i < REPORT_CHART_LINES; i++) {
        double w = SVG_SWATCH + 6 + SVG_CHAR_W * (double)text_chars(names[i]);
        if (x > SVG_PAD_L && x + w > right) { /* the next row */
            x = SVG_PAD_L;
            y += SVG_LEGEND_ROW;
        }
        l->legend[l->n_legend++] = (svg_box){x, y, w, SVG_LEGEND_ROW - 4};
        x += w + SVG_LEGEND_SPACE;
        any = true;
    }
    double top = any ? y + SVG_LEGEND_ROW + SVG_LEGEND_GAP : SVG_LEGEND_TOP + 4;
    l->plot = (svg_box){SVG_PAD_L, top, right - SVG_PAD_L, SVG_PLOT_H};
    l->height = top + SVG_PLOT_H + SVG_PAD_B;
}

/* A round axis top a little above the data: 4 grid steps of 1, 2, 2.5 or 5 x 10^k. */
static double nice_step(double max, int steps, bool quarter)
{
    if (!(max > 0))
        return 1.0 / steps;
    double raw = max / steps, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : quarter && f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
}

static void svg_open(FILE *out, const char *title, const svg_layout *l)
{
    fprintf(out,
            "<figure><svg class=\"chart\" viewBox=\"0 0 %d %.0f\" width=\"100%%\" "
            "preserveAspectRatio=\"xMidYMid meet\" role=\"img\" font-family=\"sans-serif\" "
            "font-size=\"%d\">\n<title>",
            SVG_W, l->height, SVG_FONT);
    report_html_text(out, title);
    fprintf(
        out,
        "</title>\n<text class=\"ttl\" x=\"%d\" y=\"%d\" font-size=\"16\" font-weight=\"bold\">",
        SVG_PAD_L, SVG_TITLE_Y);
    report_html_text(out, title);
    fputs("</text>\n", out);
}

static void svg_close(FILE *out, const char *note)
{
    fputs("</svg>", out);
    if (note) {
        fputs("<figcaption>", out);
        report_html_text(out, note);
        fputs("</figcaption>", out);
    }
    fputs("</figure>\n", out);
}

/* The plot's frame, horizontal grid and y ticks (0 to top in 4 steps), the y label. */
static void svg_y_axis(FILE *out, const svg_layout *l, double top, const char *y_label)
{
    const svg_box *p = &l->plot;
    fprintf(out,
            "<rect class=\"plot\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
            "fill=\"#fcfcfc\" stroke=\"#bbb\"/>\n<g stroke=\"#e4e4e4\">",
            p->x, p->y, p->w, p->h);
    for (int k = 1; k < 4; k++) {
        double y = p->y + p->h - p->h * k / 4;
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", p->x, y,
                p->x + p->w, y);
    }
    fputs("</g>\n<g class=\"ax\" fill=\"#444\" text-anchor=\"end\">", out);
    for (int k = 0; k <= 4; k++) {
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">", p->x - 6, p->y + p->h - p->h * k / 4 + 4);
        put_num(out, top * k / 4);
        fputs("</text>", out);
    }
    double mid = p->y + p->h / 2;
    fprintf(out,
            "</g>\n<text class=\"ax\" x=\"16\" y=\"%.1f\" fill=\"#444\" transform=\"rotate(-90 16 "
            "%.1f)\" "
            "text-anchor=\"middle\">",
            mid, mid);
    report_html_text(out, y_label);
    fputs("</text>\n", out);
}

static void svg_x_label(FILE *out, const svg_layout *l, const char *x_label)
{
    fprintf(out, "<text class=\"ax\" x=\"%.1f\" y=\"%.1f\" fill=\"#444\" text-anchor=\"middle\">",
            l->plot.x + l->plot.w / 2, l->height - 10);
    report_html_text(out, x_label);
    fputs("</text>\n", out);
}

static void svg_legend(FILE *out, const svg_layout *l, const char *const *names, const bool *dashed)
{
    fputs("<g class=\"legend\">", out);
    for (size_t i = 0; i < l->n_legend; i++) {
        const svg_box *b = &l->legend[i];
        fprintf(out,
                "<rect class=\"lgbox\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                "fill=\"none\"/>",
                b->x, b->y, b->w, b->h);
        double mid = b->y + b->h / 2;
        if (dashed && dashed[i])
            fprintf(out,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                    "stroke-width=\"3\" stroke-dasharray=\"4 3\"/>",
                    b->x, mid, b->x + SVG_SWATCH, mid, k_colors[i]);
        else
            fprintf(out,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"%s\" "
                    "rx=\"2\"/>",
                    b->x, mid - SVG_SWATCH / 2.0, SVG_SWATCH, SVG_SWATCH, k_colors[i]);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#222\">", b->x + SVG_SWATCH + 6,
                mid + 4.5);
        report_html_text(out, names[i]);
        fputs("</text>", out);
    }
    fputs("</g>\n", out);
}

/* ---- lines ---- */

typedef struct {
    double lo, hi;
    bool log_x;
    const svg_box *p;
} x_axis;

static double x_pos(const x_axis *a, double x)
{
    double f = a->log_x ? (log(x) - log(a->lo)) / (log(a->hi) - log(a->lo))
                        : (x - a->lo) / (a->hi - a->lo);
    if (!isfinite(f))
        f = 0.5;
    return a->p->x + SVG_X_INSET + f * (a->p->w - 2 * SVG_X_INSET);
}

static double y_pos(const svg_box *p, double y, double top)
{
    return p->y + p->h - (y / top) * p->h;
}

static void x_tick(FILE *out, const x_axis *a, double x, double y)
{
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">", x_pos(a, x), y);
    put_num(out, x);
    fputs("</text>", out);
}

/* Ticks at the data's x when there are few distinct ones (the loads of a ramp, the turns),
 * else at round steps; none closer than SVG_TICK_SPACE units to the previous. */
static void x_ticks(FILE *out, const report_chart *c, const x_axis *a)
{
    double y = a->p->y + a->p->h + 18;
    size_t distinct = 0;
    for (size_t i = 0; i < c->n; i++)
        if (isfinite(c->x[i]) && (i == 0 || c->x[i] != c->x[i - 1]))
            distinct++;
    fputs("<g class=\"ax\" fill=\"#444\" text-anchor=\"middle\">", out);
    double last = -INFINITY;
    if (distinct <= 16 || a->log_x) {
        for (size_t i = 0; i < c->n; i++) {
            if (!isfinite(c->x[i]) || x_pos(a, c->x[i]) - last < SVG_TICK_SPACE)
                continue;
            last = x_pos(a, c->x[i]);
            x_tick(out, a, c->x[i], y);
        }
    } else {
        double step = nice_step(a->hi - a->lo, 8, false);
        for (double x = ceil(a->lo / step) * step; x <= a->hi + step * 1e-9; x += step) {
            if (x_pos(a, x) - last < SVG_TICK_SPACE)
                continue;
            last = x_pos(a, x);
            x_tick(out, a, x, y);
        }
    }
    fputs("</g>\n", out);
}

void report_svg_chart(FILE *out, const report_chart *c)
{
    double lo = INFINITY, hi = -INFINITY, max = 0;
    size_t lines = c->n_lines < REPORT_CHART_LINES ? c->n_lines : REPORT_CHART_LINES;
    for (size_t i = 0; i < c->n; i++) {
        bool any = false;
        for (size_t l = 0; l < lines; l++)
            if (isfinite(c->y[l][i])) {
                max = fmax(max, c->y[l][i]);
                any = true;
            }
        if (any && isfinite(c->x[i])) {
            lo = fmin(lo, c->x[i]);
            hi = fmax(hi, c->x[i]);
        }
    }
    if (!isfinite(lo))
        return; /* nothing to draw */
    double top = 4 * nice_step(max * 1.05, 4, true);
    if (c->y_top > 0 && max <= c->y_top)
        top = c->y_top;
    svg_layout l;
    report_svg_layout(c->names, lines, &l);
    x_axis a = {lo, hi, c->log_x && lo > 0 && hi / lo >= 8, &l.plot};
    if (lo == hi) { /* one x: in the middle */
        a.lo = lo - 1;
        a.hi = hi + 1;
        a.log_x = false;
    }
    svg_open(out, c->title, &l);
    svg_legend(out, &l, c->names, c->dashed);
    svg_y_axis(out, &l, top, c->y_label);
    x_ticks(out, c, &a);
    svg_x_label(out, &l, c->x_label);
    for (size_t k = 0; k < lines; k++) {
        /* A missing point breaks the line. */
        fprintf(out, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s d=\"", k_colors[k],
                c->dashed[k] ? " stroke-dasharray=\"7 4\"" : "");
        bool pen = false;
        for (size_t i = 0; i < c->n; i++) {
            if (!isfinite(c->y[k][i]) || !isfinite(c->x[i])) {
                pen = false;
                continue;
            }
            fprintf(out, "%c%.1f %.1f ", pen ? 'L' : 'M', x_pos(&a, c->x[i]),
                    y_pos(&l.plot, c->y[k][i], top));
            pen = true;
        }
        fputs("\"/>\n", out);
    }
    /* The points, each with its values as a hover title: visible dots for a few, else
     * transparent targets over the line. */
    for (size_t k = 0; k < lines; k++) {
        bool dots = c->n <= 64;
        fprintf(out, "<g class=\"pts\" fill=\"%s\">", dots ? k_colors[k] : "transparent");
        const char *unit = c->units[k] ? c->units[k] : c->y_label;
        for (size_t i = 0; i < c->n; i++) {
            if (!isfinite(c->y[k][i]) || !isfinite(c->x[i]))
                continue;
            fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\"><title>", x_pos(&a, c->x[i]),
                    y_pos(&l.plot, c->y[k][i], top), dots ? "4" : "3");
            if (c->x_unit) {
                put_num(out, c->x[i]);
                fputc(' ', out);
                report_html_text(out, c->x_unit);
            } else {
                report_html_text(out, c->x_label);
                fputc(' ', out);
                put_num(out, c->x[i]);
            }
            fputs(" \xc2\xb7 ", out); /* a middle dot */
            report_html_text(out, c->names[k]);
            fputc(' ', out);
            put_num(out, c->y[k][i]);
            fputc(' ', out);
            report_html_text(out, unit);
            fputs("</title></circle>", out);
        }
        fputs("</g>\n", out);
    }
    svg_close(out, c->note);
}

/* ---- bars ---- */

void report_svg_bars(FILE *out, const report_bars *b)
{
    double max = 0, sum = 0;
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++)
        if (isfinite(b->v[i])) {
            max = fmax(max, b->v[i]);
            sum += b->v[i];
            n++;
        }
    if (n == 0)
        return;
    double top = 4 * nice_step(max * 1.05, 4, true);
    svg_layout l;
    report_svg_layout(NULL, 0, &l);
    svg_open(out, b->title, &l);
    svg_y_axis(out, &l, top, b->y_label);
    svg_x_label(out, &l, b->x_label);
    const svg_box *p = &l.plot;
    double slot = p->w / (double)b->n, w = slot > 6 ? fmin(slot * 0.8, 90) : slot;
    fputs("<g class=\"ax\" fill=\"#444\" text-anchor=\"middle\">", out);
    double last = -INFINITY;
    for (size_t i = 0; i < b->n; i++) {
        double mid = p->x + slot * ((double)i + 0.5);
        /* labels as wide as they are long, none over the previous one */
        if (mid - last < SVG_CHAR_W * ((double)text_chars(b->labels[i]) + 1))
            continue;
        last = mid;
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">", mid, p->y + p->h + 18);
        report_html_text(out, b->labels[i]);
        fputs("</text>", out);
    }
    fprintf(out, "</g>\n<g class=\"bars\" fill=\"%s\">", k_colors[0]);
    for (size_t i = 0; i < b->n; i++) {
        if (!isfinite(b->v[i]))
            continue;
        double h = b->v[i] / top * p->h;
        fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>",
                p->x + slot * (double)i + (slot - w) / 2, p->y + p->h - h, w, h);
        report_html_text(out, b->x_label);
        fputc(' ', out);
        report_html_text(out, b->labels[i]);
        fputs(": ", out);
        put_num(out, b->v[i]);
        fputc(' ', out);
        report_html_text(out, b->unit);
        if (b->share && sum > 0)
            fprintf(out, " (%.1f %%)", 100.0 * b->v[i] / sum);
        fputs("</title></rect>", out);
    }
    fputs("</g>\n", out);
    svg_close(out, b->note);
}
