/* core/sysmon: procfs and sysfs readers. Files are read whole with open/read into fixed
 * buffers (no FILE, no malloc) and parsed strictly: anything unexpected gives NaN. */
#include "core/sysmon.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

/* Sensors outside this range (°C) are broken or unplugged, not hot. */
#define SYSMON_TEMP_MIN (-50.0)
#define SYSMON_TEMP_MAX 150.0

/* ---- files ------------------------------------------------------------------------- */

/* Reads up to cap-1 bytes of path and terminates them. Returns the length or -1. */
static ssize_t file_read(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    while (len + 1 < cap) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n < 0)
                len = (size_t)-1;
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    if (len == (size_t)-1)
        return -1;
    buf[len] = '\0';
    return (ssize_t)len;
}

/* root + "/" + rel into out; false when it does not fit. */
/* snprintf into a path buffer; false when the result did not fit (nothing is used then). */
__attribute__((format(printf, 3, 4))) static bool path_fmt(char *out, size_t cap, const char *fmt,
                                                           ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    return n > 0 && (size_t)n < cap;
}

static bool path_join(char *out, size_t cap, const char *root, const char *rel)
{
    return path_fmt(out, cap, "%s/%s", root, rel);
}

static ssize_t file_read_under(const char *root, const char *rel, char *buf, size_t cap)
{
    char path[SYSMON_PATH_MAX];
    if (!path_join(path, sizeof path, root, rel))
        return -1;
    return file_read(path, buf, cap);
}

/* The first line of a small text file, trailing whitespace removed; false if unreadable
 * or empty. */
static bool file_first_line(const char *path, char *out, size_t cap)
{
    if (file_read(path, out, cap) < 0)
        return false;
    out[strcspn(out, "\n")] = '\0';
    size_t n = strlen(out);
    while (n > 0 && isspace((unsigned char)out[n - 1]))
        out[--n] = '\0';
    return n > 0;
}

/* ---- number parsing ---------------------------------------------------------------- */

static const char *skip_blanks(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* One unsigned decimal at *p (after blanks); advances *p. False if there is none. */
static bool parse_u64(const char **p, uint64_t *v)
{
    const char *s = skip_blanks(*p);
    if (!isdigit((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno == ERANGE)
        return false;
    *v = x;
    *p = end;
    return true;
}

/* True when nothing but blanks is left before the end of the line. */
static bool at_line_end(const char *p)
{
    p = skip_blanks(p);
    return *p == '\0' || *p == '\n';
}

/* ---- CPU from /proc/stat ------------------------------------------------------------ */

/* The numbers after "cpu" / "cpuN": user nice system idle iowait irq softirq steal guest
 * guest_nice. guest and guest_nice are already counted in user and nice, so they are left
 * out; idle time is idle + iowait. At least the first four must be there. */
static bool stat_parse_ticks(const char *p, sysmon_ticks *t)
{
    uint64_t v[10] = {0};
    int n = 0;
    while (n < 10 && parse_u64(&p, &v[n]))
        n++;
    if (n < 4 || (n < 10 && !at_line_end(p)))
        return false;
    t->idle = v[3] + v[4];
    t->busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    t->valid = true;
    return true;
}

/* Busy share of the time between two readings. Busy time never runs backwards, so that
 * means the counters were reset: NaN. Per-cpu iowait can dip on tickless kernels, so a
 * dip in idle time counts as no idle time. */
static double ticks_pct(const sysmon_ticks *prev, const sysmon_ticks *cur)
{
    if (!prev->valid || !cur->valid || cur->busy < prev->busy)
        return NAN;
    uint64_t busy = cur->busy - prev->busy;
    uint64_t idle = cur->idle >= prev->idle ? cur->idle - prev->idle : 0;
    if (busy + idle == 0)
        return NAN;
    return 100.0 * (double)busy / (double)(busy + idle);
}

/* The cpu number of a "cpuN " line: -1 for the "cpu " total, -2 when not a cpu line,
 * SYSMON_MAX_CORES for a cpu beyond the ones kept. *rest points after the name. */
static int stat_line_cpu(const char *line, const char **rest)
{
    if (strncmp(line, "cpu", 3) != 0)
        return -2;
    const char *p = line + 3;
    if (*p == ' ' || *p == '\t') {
        *rest = p;
        return -1;
    }
    if (!isdigit((unsigned char)*p))
        return -2;
    char *end;
    unsigned long n = strtoul(p, &end, 10);
    if (*end != ' ' && *end != '\t')
        return -2;
    *rest = end;
    return n < SYSMON_MAX_CORES ? (int)n : SYSMON_MAX_CORES;
}

/* One line: a cpu line's percentage into out, its ticks into the previous-sample slot.
 * Returns the cpu number as stat_line_cpu does. */
static int stat_take_line(sysmon *m, sysmon_reading *out, const char *line)
{
    const char *rest = NULL;
    int cpu = stat_line_cpu(line, &rest);
    if (cpu < -1 || cpu >= SYSMON_MAX_CORES)
        return cpu;
    sysmon_ticks cur = {0};
    stat_parse_ticks(rest, &cur);
    sysmon_ticks *prev = cpu < 0 ? &m->prev_total : &m->prev_core[cpu];
    double pct = ticks_pct(prev, &cur);
    *prev = cur;
    if (cpu < 0) {
        out->cpu_total_pct = pct;
        return cpu;
    }
    out->core_pct[cpu] = pct;
    if (cpu + 1 > out->n_cores)
        out->n_cores = cpu + 1;
    return cpu;
}

/* Cores absent from this sample (offline, or a malformed file) start afresh later. */
static void stat_forget_unseen(sysmon *m, const bool *seen, bool total_seen)
{
    for (int i = 0; i < SYSMON_MAX_CORES; i++)
        if (!seen[i])
            m->prev_core[i].valid = false;
    if (!total_seen)
        m->prev_total.valid = false;
}

static void sample_cpu(sysmon *m, sysmon_reading *out)
{
    bool seen[SYSMON_MAX_CORES] = {false};
    bool total_seen = false;
    ssize_t len = file_read_under(m->proc_root, "stat", m->buf, sizeof m->buf);
    char *line = len > 0 ? m->buf : NULL;
    while (line) {
        char *nl = strchr(line, '\n');
        if (!nl && (size_t)len + 1 >= sizeof m->buf)
            break; /* a line cut by the end of the buffer is not parsed */
        if (nl)
            *nl = '\0';
        int cpu = stat_take_line(m, out, line);
        if (cpu == -1)
            total_seen = true;
        else if (cpu >= 0 && cpu < SYSMON_MAX_CORES)
            seen[cpu] = true;
        line = nl && nl[1] ? nl + 1 : NULL;
    }
    stat_forget_unseen(m, seen, total_seen);
}

/* ---- temperature ---------------------------------------------------------------------- */

static void sensor_add(sysmon *m, const char *path, const char *label)
{
    if (m->n_sensors >= SYSMON_MAX_TEMPS || access(path, R_OK) != 0)
        return;
    sysmon_sensor *s = &m->sensors[m->n_sensors];
    if (llm_strlcpy(s->path, path, sizeof s->path) >= sizeof s->path)
        return;
    llm_strlcpy(s->label, label, sizeof s->label);
    m->n_sensors++;
}

/* thermal_zoneN/temp, labelled by thermal_zoneN/type ("x86_pkg_temp", "acpitz"). */
static void scan_thermal_zone(sysmon *m, const char *dir, const char *zone)
{
    char path[SYSMON_PATH_MAX], label[SYSMON_LABEL_MAX];
    if (!path_fmt(path, sizeof path, "%s/%s/type", dir, zone) ||
        !file_first_line(path, label, sizeof label))
        llm_strlcpy(label, zone, sizeof label);
    if (path_fmt(path, sizeof path, "%s/%s/temp", dir, zone))
        sensor_add(m, path, label);
}

/* "temp3_input" -> 3; 0 when the name is not a temperature input. */
static int hwmon_input_index(const char *name)
{
    int idx = 0, used = 0;
    if (sscanf(name, "temp%d_input%n", &idx, &used) != 1 || name[used] != '\0' || idx <= 0)
        return 0;
    return idx;
}

/* Label "<chip name> <tempN_label>" ("coretemp Package id 0"), or "<chip> tempN". */
static void hwmon_add_input(sysmon *m, const char *dir, const char *chip, int idx)
{
    char path[SYSMON_PATH_MAX], what[SYSMON_LABEL_MAX], label[SYSMON_LABEL_MAX];
    if (!path_fmt(path, sizeof path, "%s/temp%d_label", dir, idx) ||
        !file_first_line(path, what, sizeof what))
        path_fmt(what, sizeof what, "temp%d", idx);
    size_t used = llm_strlcpy(label, chip, sizeof label);
    if (used + 1 < sizeof label) {
        label[used] = ' ';
        llm_strlcpy(label + used + 1, what, sizeof label - used - 1);
    }
    if (path_fmt(path, sizeof path, "%s/temp%d_input", dir, idx))
        sensor_add(m, path, label);
}

/* Every tempN_input in dir (a hwmonN directory, or its device/ on older kernels). */
static void hwmon_scan_inputs(sysmon *m, const char *dir, const char *chip)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int idx = hwmon_input_index(e->d_name);
        if (idx > 0)
            hwmon_add_input(m, dir, chip, idx);
    }
    closedir(d);
}

/* The chip's name file sits in hwmonN/ or, on older kernels, in hwmonN/device/. */
static void scan_hwmon_chip(sysmon *m, const char *dir, const char *entry)
{
    char chip_dir[SYSMON_PATH_MAX], dev_dir[SYSMON_PATH_MAX], path[SYSMON_PATH_MAX];
    char chip[SYSMON_LABEL_MAX];
    if (!path_fmt(chip_dir, sizeof chip_dir, "%s/%s", dir, entry) ||
        !path_fmt(dev_dir, sizeof dev_dir, "%s/device", chip_dir))
        return;
    bool named =
        path_join(path, sizeof path, chip_dir, "name") && file_first_line(path, chip, sizeof chip);
    if (!named && !(path_join(path, sizeof path, dev_dir, "name") &&
                    file_first_line(path, chip, sizeof chip)))
        llm_strlcpy(chip, entry, sizeof chip);
    hwmon_scan_inputs(m, chip_dir, chip);
    hwmon_scan_inputs(m, dev_dir, chip);
}

/* Calls scan(m, dir, entry) for every entry of sys_root/class_dir whose name starts with
 * prefix (thermal_zoneN, hwmonN). */
static void scan_class(sysmon *m, const char *class_dir, const char *prefix,
                       void (*scan)(sysmon *, const char *, const char *))
{
    char dir[SYSMON_PATH_MAX];
    if (!path_join(dir, sizeof dir, m->sys_root, class_dir))
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    size_t plen = strlen(prefix);
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, plen) == 0)
            scan(m, dir, e->d_name);
    closedir(d);
}

static int sensor_cmp(const void *a, const void *b)
{
    return strcmp(((const sysmon_sensor *)a)->path, ((const sysmon_sensor *)b)->path);
}

/* A sensor file holds millidegrees: "63000\n". NaN when unreadable or implausible. */
static double sensor_read(const char *path)
{
    char buf[32];
    if (file_read(path, buf, sizeof buf) <= 0)
        return NAN;
    const char *p = skip_blanks(buf);
    bool neg = *p == '-';
    uint64_t v;
    if (neg)
        p++;
    if (!parse_u64(&p, &v) || !at_line_end(p))
        return NAN;
    double c = (neg ? -(double)v : (double)v) / 1000.0;
    return c > SYSMON_TEMP_MIN && c < SYSMON_TEMP_MAX ? c : NAN;
}

static void sample_temp(sysmon *m, sysmon_reading *out)
{
    for (int i = 0; i < m->n_sensors; i++) {
        double c = sensor_read(m->sensors[i].path);
        if (isnan(c) || (out->has_temp && c <= out->temp_c))
            continue;
        out->has_temp = true;
        out->temp_c = c;
        llm_strlcpy(out->temp_label, m->sensors[i].label, sizeof out->temp_label);
    }
}

/* ---- llmload itself, and the load average ------------------------------------------- */

/* utime + stime (fields 14 and 15 of /proc/self/stat). The command name (field 2) may
 * hold spaces and parentheses, so counting starts after its last ')'. */
static bool self_ticks(sysmon *m, uint64_t *ticks)
{
    char buf[1024];
    if (file_read_under(m->proc_root, "self/stat", buf, sizeof buf) <= 0)
        return false;
    const char *p = strrchr(buf, ')');
    if (!p)
        return false;
    p = skip_blanks(p + 1);
    for (int field = 3; field < 14; field++) {
        p += strcspn(p, " \n");
        if (*p != ' ')
            return false;
        p = skip_blanks(p);
    }
    uint64_t ut, st;
    if (!parse_u64(&p, &ut) || !parse_u64(&p, &st))
        return false;
    *ticks = ut + st;
    return true;
}

static double sample_self_cpu(sysmon *m, uint64_t now_ns)
{
    uint64_t ticks;
    if (!self_ticks(m, &ticks)) {
        m->prev_self_valid = false;
        return NAN;
    }
    double pct = NAN;
    if (m->prev_self_valid && now_ns > m->prev_self_ns && ticks >= m->prev_self_ticks &&
        m->ticks_per_sec > 0) {
        double cpu_s = (double)(ticks - m->prev_self_ticks) / (double)m->ticks_per_sec;
        pct = 100.0 * cpu_s / ((double)(now_ns - m->prev_self_ns) / 1e9);
    }
    m->prev_self_ticks = ticks;
    m->prev_self_ns = now_ns;
    m->prev_self_valid = true;
    return pct;
}

/* VmRSS from /proc/self/status ("VmRSS:\t  4321 kB"); 0 when absent. */
static uint64_t self_rss_status(sysmon *m)
{
    char buf[4096];
    if (file_read_under(m->proc_root, "self/status", buf, sizeof buf) <= 0)
        return 0;
    const char *p = strstr(buf, "VmRSS:");
    if (!p || (p != buf && p[-1] != '\n'))
        return 0;
    p += 6;
    uint64_t kb;
    if (!parse_u64(&p, &kb) || strncmp(skip_blanks(p), "kB", 2) != 0)
        return 0;
    return kb * 1024;
}

/* Resident pages (field 2 of /proc/self/statm) × page size, else VmRSS; 0 when neither. */
static uint64_t sample_self_rss(sysmon *m)
{
    char buf[256];
    const char *p = buf;
    uint64_t size, resident;
    if (m->page_size > 0 && file_read_under(m->proc_root, "self/statm", buf, sizeof buf) > 0 &&
        parse_u64(&p, &size) && parse_u64(&p, &resident) && resident > 0)
        return resident * (uint64_t)m->page_size;
    return self_rss_status(m);
}

/* First field of /proc/loadavg ("0.52 0.58 0.59 2/345 6789"). */
static double sample_load1(sysmon *m)
{
    char buf[128], *end;
    if (file_read_under(m->proc_root, "loadavg", buf, sizeof buf) <= 0)
        return NAN;
    const char *p = skip_blanks(buf);
    if (!isdigit((unsigned char)*p))
        return NAN;
    double v = strtod(p, &end);
    if (end == p || !(*end == ' ' || *end == '\n' || *end == '\0') || !isfinite(v))
        return NAN;
    return v;
}

/* ---- public ------------------------------------------------------------------------- */

int sysmon_init(sysmon *m, const char *proc_root, const char *sys_root)
{
    memset(m, 0, sizeof *m);
    m->ticks_per_sec = sysconf(_SC_CLK_TCK);
    m->page_size = sysconf(_SC_PAGESIZE);
    proc_root = proc_root ? proc_root : "/proc";
    sys_root = sys_root ? sys_root : "/sys";
    if (strlen(proc_root) >= sizeof m->proc_root || strlen(sys_root) >= sizeof m->sys_root) {
        llm_strlcpy(m->proc_root, "/nonexistent-sysmon-root", sizeof m->proc_root);
        llm_strlcpy(m->sys_root, m->proc_root, sizeof m->sys_root);
        return -1;
    }
    llm_strlcpy(m->proc_root, proc_root, sizeof m->proc_root);
    llm_strlcpy(m->sys_root, sys_root, sizeof m->sys_root);
    scan_class(m, "class/thermal", "thermal_zone", scan_thermal_zone);
    scan_class(m, "class/hwmon", "hwmon", scan_hwmon_chip);
    /* A fixed order, so that between equally hot sensors the same one always wins. */
    qsort(m->sensors, (size_t)m->n_sensors, sizeof m->sensors[0], sensor_cmp);
    return 0;
}

void sysmon_sample_at(sysmon *m, uint64_t now_ns, sysmon_reading *out)
{
    memset(out, 0, sizeof *out);
    out->cpu_total_pct = NAN;
    for (int i = 0; i < SYSMON_MAX_CORES; i++)
        out->core_pct[i] = NAN;
    out->temp_c = NAN;
    sample_cpu(m, out);
    sample_temp(m, out);
    out->load1 = sample_load1(m);
    out->self_cpu_pct = sample_self_cpu(m, now_ns);
    out->self_rss_bytes = sample_self_rss(m);
}

void sysmon_sample(sysmon *m, sysmon_reading *out)
{
    sysmon_sample_at(m, llm_now_ns(), out);
}

void sysmon_format_temp(double celsius, char *out, size_t cap)
{
    if (!isfinite(celsius))
        snprintf(out, cap, "n/a");
    else
        snprintf(out, cap,
                 "%.0f \xC2\xB0"
                 "C",
                 celsius);
}
