#include "core/sysmon.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

void sysmon_init(sysmon *m, const char *proc_root, const char *sys_root)
{
    memset(m, 0, sizeof *m);
    llm_strlcpy(m->proc_root, proc_root ? proc_root : "/proc", sizeof m->proc_root);
    llm_strlcpy(m->sys_root, sys_root ? sys_root : "/sys", sizeof m->sys_root);
    m->ticks_per_sec = sysconf(_SC_CLK_TCK);
    m->page_size = sysconf(_SC_PAGESIZE);
}

static FILE *open_under(const char *root, const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    return fopen(path, "r");
}

static double pct(uint64_t busy, uint64_t total)
{
    return total ? 100.0 * (double)busy / (double)total : NAN;
}

/* One /proc/stat "cpu" line: busy = total - idle - iowait. Returns false if malformed. */
static bool parse_cpu_line(const char *line, int *index, uint64_t *busy, uint64_t *total)
{
    unsigned long long v[10] = {0};
    char name[16];
    int n = sscanf(line, "%15s %llu %llu %llu %llu %llu %llu %llu %llu", name, &v[0], &v[1], &v[2],
                   &v[3], &v[4], &v[5], &v[6], &v[7]);
    if (n < 5 || strncmp(name, "cpu", 3) != 0)
        return false;
    *index = name[3] ? atoi(name + 3) + 1 : 0;
    uint64_t sum = 0;
    for (int i = 0; i < 8; i++)
        sum += v[i];
    *total = sum;
    *busy = sum - v[3] - v[4];
    return true;
}

static void sample_cpu(sysmon *m, sysmon_reading *out)
{
    out->cpu_total_pct = NAN;
    out->n_cores = 0;
    FILE *f = open_under(m->proc_root, "stat");
    if (!f)
        return;
    char line[512];
    bool had_prev = m->have_prev;
    while (fgets(line, sizeof line, f)) {
        int idx;
        uint64_t busy, total;
        if (!parse_cpu_line(line, &idx, &busy, &total) || idx > SYSMON_MAX_CORES)
            continue;
        double p = had_prev && total >= m->prev_total[idx] && busy >= m->prev_busy[idx]
                       ? pct(busy - m->prev_busy[idx], total - m->prev_total[idx])
                       : NAN;
        if (idx == 0)
            out->cpu_total_pct = p;
        else if (idx - 1 < SYSMON_MAX_CORES) {
            out->core_pct[idx - 1] = p;
            if (idx > out->n_cores)
                out->n_cores = idx;
        }
        m->prev_busy[idx] = busy;
        m->prev_total[idx] = total;
        m->have_prev = true;
    }
    fclose(f);
}

static void consider_temp(sysmon_reading *out, double milli, const char *label)
{
    double c = milli / 1000.0;
    if (!isfinite(c) || c < -50 || c > 200)
        return;
    if (!out->has_temp || c > out->temp_c) {
        out->has_temp = true;
        out->temp_c = c;
        llm_strlcpy(out->temp_label, label, sizeof out->temp_label);
    }
}

static bool read_line(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool ok = fgets(buf, (int)cap, f) != NULL;
    fclose(f);
    if (ok)
        buf[strcspn(buf, "\n")] = '\0';
    return ok;
}

static void read_sensor(sysmon_reading *out, const char *value_path, const char *label)
{
    char buf[64], *end;
    if (!read_line(value_path, buf, sizeof buf))
        return;
    double v = strtod(buf, &end);
    if (end != buf)
        consider_temp(out, v, label);
}

static void scan_thermal(sysmon *m, sysmon_reading *out)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/class/thermal", m->sys_root);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "thermal_zone", 12) != 0)
            continue;
        char path[700], label[48] = "thermal";
        snprintf(path, sizeof path, "%s/%s/type", dir, e->d_name);
        read_line(path, label, sizeof label);
        snprintf(path, sizeof path, "%s/%s/temp", dir, e->d_name);
        read_sensor(out, path, label);
    }
    closedir(d);
}

static void scan_hwmon_dir(const char *dir, sysmon_reading *out)
{
    char name[32] = "hwmon", path[700];
    snprintf(path, sizeof path, "%s/name", dir);
    read_line(path, name, sizeof name);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, "temp", 4) != 0 || n < 10 ||
            strcmp(e->d_name + n - 6, "_input") != 0)
            continue;
        char label[48], sensor[24] = "";
        snprintf(path, sizeof path, "%s/%.*slabel", dir, (int)(n - 5), e->d_name);
        read_line(path, sensor, sizeof sensor);
        snprintf(label, sizeof label, "%.23s%s%.23s", name, sensor[0] ? " " : "", sensor);
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        read_sensor(out, path, label);
    }
    closedir(d);
}

static void scan_hwmon(sysmon *m, sysmon_reading *out)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/class/hwmon", m->sys_root);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "hwmon", 5) != 0)
            continue;
        char sub[600];
        snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        scan_hwmon_dir(sub, out);
    }
    closedir(d);
}

/* utime + stime from /proc/self/stat (fields 14 and 15, after the "(comm)" field). */
static bool self_ticks(sysmon *m, uint64_t *ticks)
{
    FILE *f = open_under(m->proc_root, "self/stat");
    if (!f)
        return false;
    char buf[1024];
    bool ok = fgets(buf, sizeof buf, f) != NULL;
    fclose(f);
    char *p = ok ? strrchr(buf, ')') : NULL;
    unsigned long long ut, st;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return false;
    *ticks = ut + st;
    return true;
}

static void sample_self(sysmon *m, sysmon_reading *out)
{
    out->self_cpu_pct = NAN;
    uint64_t ticks, now = llm_now_ns();
    if (self_ticks(m, &ticks)) {
        if (m->have_self && now > m->prev_mono_ns && ticks >= m->prev_self_ticks)
            out->self_cpu_pct = 100.0 * (double)(ticks - m->prev_self_ticks) /
                                (double)m->ticks_per_sec / ((double)(now - m->prev_mono_ns) / 1e9);
        m->prev_self_ticks = ticks;
        m->prev_mono_ns = now;
        m->have_self = true;
    }
    FILE *f = open_under(m->proc_root, "self/statm");
    unsigned long long size, resident;
    if (f && fscanf(f, "%llu %llu", &size, &resident) == 2)
        out->self_rss_bytes = resident * (uint64_t)m->page_size;
    if (f)
        fclose(f);
}

static void sample_load(sysmon *m, sysmon_reading *out)
{
    out->load1 = NAN;
    FILE *f = open_under(m->proc_root, "loadavg");
    if (!f)
        return;
    double l;
    if (fscanf(f, "%lf", &l) == 1)
        out->load1 = l;
    fclose(f);
}

void sysmon_sample(sysmon *m, sysmon_reading *out)
{
    memset(out, 0, sizeof *out);
    out->temp_c = NAN;
    sample_cpu(m, out);
    scan_thermal(m, out);
    scan_hwmon(m, out);
    sample_self(m, out);
    sample_load(m, out);
}

void sysmon_format_temp(double celsius, char *out, size_t cap)
{
    if (isnan(celsius))
        snprintf(out, cap, "n/a");
    else
        snprintf(out, cap,
                 "%.0f \xC2\xB0"
                 "C",
                 celsius);
}
