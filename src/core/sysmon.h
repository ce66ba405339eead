/* core/sysmon: telemetry of the machine running llmload (DESIGN.md §10): CPU use total and
 * per core, temperature, llmload's own CPU and RSS. One consumer thread calls it ~1/s. */
#ifndef LLM_SYSMON_H
#define LLM_SYSMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYSMON_MAX_CORES 256

typedef struct {
    double cpu_total_pct; /* all cores, since the previous sample; NaN on the first */
    int n_cores;
    double core_pct[SYSMON_MAX_CORES];
    bool has_temp;
    double temp_c; /* hottest sensor; NaN when none (most VMs) */
    char temp_label[48];
    double self_cpu_pct;     /* llmload's own CPU, % of one core; NaN on the first sample */
    uint64_t self_rss_bytes; /* 0 when unknown */
    double load1;            /* NaN when unknown */
} sysmon_reading;

typedef struct {
    char proc_root[256], sys_root[256];
    uint64_t prev_busy[SYSMON_MAX_CORES + 1], prev_total[SYSMON_MAX_CORES + 1];
    bool have_prev;
    uint64_t prev_self_ticks, prev_mono_ns;
    bool have_self;
    long ticks_per_sec, page_size;
} sysmon;

/* proc_root / sys_root: NULL = "/proc" and "/sys" (tests pass fixture trees). */
void sysmon_init(sysmon *m, const char *proc_root, const char *sys_root);

/* Fills *out; a figure whose source is missing or unreadable is NaN / 0, never a crash. */
void sysmon_sample(sysmon *m, sysmon_reading *out);

/* "63 °C" or "n/a". */
void sysmon_format_temp(double celsius, char *out, size_t cap);

#endif
