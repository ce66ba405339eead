/* core/sysmon: telemetry of the machine running llmload (DESIGN.md §10): CPU use total and
 * per core, hottest temperature sensor, load average, llmload's own CPU and RSS, read from
 * procfs and sysfs. One consumer thread owns a sysmon and samples it about once a second. */
#ifndef LLM_SYSMON_H
#define LLM_SYSMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYSMON_MAX_CORES 256
#define SYSMON_MAX_TEMPS 64   /* temperature sensors remembered at init */
#define SYSMON_ROOT_MAX 256   /* longest proc or sys root accepted */
#define SYSMON_PATH_MAX 384   /* a root plus the longest relative path built under it */
#define SYSMON_LABEL_MAX 48   /* "coretemp Package id 0", "x86_pkg_temp" */
#define SYSMON_STAT_BUF 65536 /* head of /proc/stat read per sample: its cpu lines */

/* One sample. A figure that could not be read is NaN (self_rss_bytes 0, has_temp false);
 * the CPU percentages are NaN on the first sample, which has nothing to compare with. */
typedef struct {
    double cpu_total_pct;              /* all cores since the previous sample, 0..100 */
    int n_cores;                       /* highest cpuN in /proc/stat + 1, at most 256 */
    double core_pct[SYSMON_MAX_CORES]; /* 0..100 per core; NaN when unknown */
    bool has_temp;                     /* false where there is no sensor (most VMs) */
    double temp_c;                     /* hottest sensor in °C; NaN when none */
    char temp_label[SYSMON_LABEL_MAX]; /* that sensor's type or label; "" when none */
    double load1;                      /* 1-minute load average; NaN when unknown */
    double self_cpu_pct;               /* llmload's own CPU in % of one core (can pass 100) */
    uint64_t self_rss_bytes;           /* llmload's resident set size; 0 when unknown */
} sysmon_reading;

/* jiffies of one /proc/stat cpu line, kept from one sample to the next */
typedef struct {
    uint64_t busy, idle;
    bool valid;
} sysmon_ticks;

typedef struct {
    char path[SYSMON_PATH_MAX];
    char label[SYSMON_LABEL_MAX];
} sysmon_sensor;

/* Plain data, about 100 KB: embed it in a heap or static struct, not a small stack. It
 * owns no allocation, so there is nothing to destroy. */
typedef struct {
    char proc_root[SYSMON_ROOT_MAX], sys_root[SYSMON_ROOT_MAX];
    long ticks_per_sec, page_size;
    sysmon_ticks prev_total, prev_core[SYSMON_MAX_CORES];
    uint64_t prev_self_ticks, prev_self_ns;
    bool prev_self_valid;
    int n_sensors;
    sysmon_sensor sensors[SYSMON_MAX_TEMPS];
    char buf[SYSMON_STAT_BUF];
} sysmon;

/* Remembers the roots (NULL = "/proc" and "/sys"; tests pass fixture trees) and finds the
 * temperature sensors: every thermal zone's temp and every hwmon temp*_input. Returns 0,
 * or -1 when a root is too long (every figure is then absent). A missing directory is not
 * an error: its figures are simply absent. The only call that allocates (opendir). */
int sysmon_init(sysmon *m, const char *proc_root, const char *sys_root);

/* Reads every figure now (CLOCK_MONOTONIC for llmload's own CPU %) into *out. Reads a few
 * small files with open/read; allocates nothing; never fails. */
void sysmon_sample(sysmon *m, sysmon_reading *out);

/* The same with the caller's CLOCK_MONOTONIC time in ns (tests use it for exact CPU %). */
void sysmon_sample_at(sysmon *m, uint64_t now_ns, sysmon_reading *out);

/* "63 °C" (whole degrees), or "n/a" when celsius is NaN or infinite. */
void sysmon_format_temp(double celsius, char *out, size_t cap);

#endif
