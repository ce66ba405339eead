/* core/gpuhist: the GPU figures a run keeps — its devices, one sample per second of the
 * series, the highest figures and whether throttling was seen — for the snapshot, the
 * summary and the dashboard's chart. Consumer thread only (it is fed from gpumon). */
#ifndef LLM_GPUHIST_H
#define LLM_GPUHIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/gpumon.h"

#define GPUHIST_MAX_ROWS 86400u /* a day of seconds, as the series (STATS_SERIES_MAX) */

typedef struct {
    int index; /* 0-based, NVIDIA first then AMD, as gpumon found them */
    char name[GPUMON_NAME_MAX];
    gpu_vendor vendor;
    double mem_total_mb; /* as last sampled; NaN = not known */
} gpuhist_device;

/* One device in one second, packed (about 12 bytes): 1 MB per device per day. */
typedef struct {
    uint32_t mem_used_mb; /* MiB; UINT32_MAX = n/a */
    uint16_t power_dw;    /* tenths of a watt; UINT16_MAX = n/a */
    int16_t temp_dc;      /* tenths of a degree; INT16_MIN = n/a */
    uint8_t util_pct;     /* UINT8_MAX = n/a */
    int8_t throttling;    /* 1, 0, -1 = not known */
} gpuhist_cell;

typedef struct gpuhist {
    int n_dev; /* 0 = no GPU: nothing else is set */
    gpuhist_device dev[GPUMON_MAX];
    uint32_t *t;         /* the series second of each row */
    gpuhist_cell *cells; /* n_rows x n_dev */
    size_t n_rows, cap_rows;
    uint64_t rows_dropped; /* seconds not kept (after a day, or out of memory) */
    /* over every sample and device (kept past the last row); NaN = never read */
    double max_temp_c, max_power_w, max_util_pct;
    bool throttling_seen;
} gpuhist;

/* Takes the devices of m (none: an empty history). Allocates nothing yet. */
void gpuhist_init(gpuhist *h, const gpumon *m);
void gpuhist_free(gpuhist *h);

/* The reading of series second t: a new row, or the last one again when it is the same
 * second (the later reading wins). Rows go up in t; an earlier t is ignored. Maxima and
 * throttling are taken from every reading. */
void gpuhist_record(gpuhist *h, uint32_t t, const gpumon_reading *r);

/* The row holding second t: the latest at or before t (a second without a reading shows
 * the one before, as the series carries its gauges); -1 when there is none. */
long gpuhist_row_at(const gpuhist *h, uint32_t t);

/* Device dev's figures in row (NaN / -1 where n/a; mem_total_mb from the device). */
void gpuhist_get(const gpuhist *h, size_t row, int dev, gpumon_figures *out);

/* The mean utilisation of the devices that reported one in row; NaN when none did. */
double gpuhist_mean_util(const gpuhist *h, size_t row);

#endif
