/* core/gpuhist: the per-second GPU history of a run (see gpuhist.h). */
#include "core/gpuhist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

void gpuhist_init(gpuhist *h, const gpumon *m)
{
    memset(h, 0, sizeof *h);
    h->max_temp_c = h->max_power_w = h->max_util_pct = NAN;
    int n = gpumon_count(m);
    for (int i = 0; i < n && i < GPUMON_MAX; i++) {
        h->dev[i].index = i;
        llm_strlcpy(h->dev[i].name, m->dev[i].name, sizeof h->dev[i].name);
        h->dev[i].vendor = m->dev[i].vendor;
        h->dev[i].mem_total_mb = NAN;
    }
    h->n_dev = n < GPUMON_MAX ? n : GPUMON_MAX;
}

void gpuhist_free(gpuhist *h)
{
    free(h->t);
    free(h->cells);
    h->t = NULL;
    h->cells = NULL;
    h->n_rows = h->cap_rows = 0;
}

static void keep_max(double *to, double v)
{
    if (!isnan(v) && (isnan(*to) || v > *to))
        *to = v;
}

/* A figure into its packed field: rounded, clamped below the n/a value. */
static gpuhist_cell pack(const gpumon_figures *f)
{
    gpuhist_cell c = {UINT32_MAX, UINT16_MAX, INT16_MIN, UINT8_MAX, (int8_t)f->throttling};
    if (isfinite(f->mem_used_mb) && f->mem_used_mb >= 0)
        c.mem_used_mb = f->mem_used_mb < 4e9 ? (uint32_t)lround(f->mem_used_mb) : UINT32_MAX - 1;
    if (isfinite(f->power_w) && f->power_w >= 0)
        c.power_dw = f->power_w < 6553 ? (uint16_t)lround(f->power_w * 10) : UINT16_MAX - 1;
    if (isfinite(f->temp_c) && fabs(f->temp_c) < 3000)
        c.temp_dc = (int16_t)lround(f->temp_c * 10);
    if (isfinite(f->util_pct) && f->util_pct >= 0 && f->util_pct <= 100)
        c.util_pct = (uint8_t)lround(f->util_pct);
    return c;
}

/* Room for one more row; false when the day is full or memory ran out. */
static bool grow(gpuhist *h)
{
    if (h->n_rows < h->cap_rows)
        return true;
    if (h->n_rows >= GPUHIST_MAX_ROWS)
        return false;
    size_t cap = h->cap_rows ? h->cap_rows * 2 : 256;
    cap = cap > GPUHIST_MAX_ROWS ? GPUHIST_MAX_ROWS : cap;
    uint32_t *t = realloc(h->t, cap * sizeof *t);
    if (!t)
        return false;
    h->t = t;
    gpuhist_cell *c = realloc(h->cells, cap * (size_t)h->n_dev * sizeof *c);
    if (!c)
        return false;
    h->cells = c;
    h->cap_rows = cap;
    return true;
}

void gpuhist_record(gpuhist *h, uint32_t t, const gpumon_reading *r)
{
    if (h->n_dev == 0 || r->n != h->n_dev)
        return;
    for (int i = 0; i < r->n; i++) {
        const gpumon_figures *f = &r->dev[i];
        keep_max(&h->max_temp_c, f->temp_c);
        keep_max(&h->max_power_w, f->power_w);
        keep_max(&h->max_util_pct, f->util_pct);
        h->throttling_seen |= f->throttling == 1;
        if (!isnan(f->mem_total_mb))
            h->dev[i].mem_total_mb = f->mem_total_mb;
    }
    size_t row;
    if (h->n_rows && h->t[h->n_rows - 1] == t) {
        row = h->n_rows - 1;
    } else if (h->n_rows && h->t[h->n_rows - 1] > t) {
        return;
    } else if (grow(h)) {
        row = h->n_rows++;
        h->t[row] = t;
    } else {
        h->rows_dropped++;
        return;
    }
    for (int i = 0; i < r->n; i++)
        h->cells[row * (size_t)h->n_dev + (size_t)i] = pack(&r->dev[i]);
}

long gpuhist_row_at(const gpuhist *h, uint32_t t)
{
    size_t lo = 0, hi = h->n_rows; /* the first row with t' > t is at hi */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->t[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (long)lo - 1;
}

void gpuhist_get(const gpuhist *h, size_t row, int dev, gpumon_figures *out)
{
    const gpuhist_cell *c = &h->cells[row * (size_t)h->n_dev + (size_t)dev];
    out->util_pct = c->util_pct == UINT8_MAX ? NAN : c->util_pct;
    out->mem_used_mb = c->mem_used_mb == UINT32_MAX ? NAN : c->mem_used_mb;
    out->mem_total_mb = h->dev[dev].mem_total_mb;
    out->temp_c = c->temp_dc == INT16_MIN ? NAN : c->temp_dc / 10.0;
    out->power_w = c->power_dw == UINT16_MAX ? NAN : c->power_dw / 10.0;
    out->throttling = c->throttling;
}

double gpuhist_mean_util(const gpuhist *h, size_t row)
{
    double sum = 0;
    int n = 0;
    for (int i = 0; i < h->n_dev; i++) {
        uint8_t u = h->cells[row * (size_t)h->n_dev + (size_t)i].util_pct;
        if (u != UINT8_MAX) {
            sum += u;
            n++;
        }
    }
    return n ? sum / n : NAN;
}
