/* core/gpumon: NVML through dlopen and the amdgpu sysfs files. Only the few NVML entry
 * points used are declared here, with NVML's own types spelled out, so that nothing of
 * NVIDIA's is needed to build. Files are read with open/read and parsed strictly: anything
 * unexpected gives NaN. */
#include "core/gpumon.h"

#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

/* ---- NVML (nvml.h, declared here) ----------------------------------------------------- */

typedef int nvml_return;       /* nvmlReturn_t: 0 = NVML_SUCCESS */
typedef void *nvml_device;     /* nvmlDevice_t: an opaque pointer */
#define NVML_TEMPERATURE_GPU 0 /* nvmlTemperatureSensors_t */
#define NVML_NAME_BUFFER 96    /* NVML_DEVICE_NAME_V2_BUFFER_SIZE */
typedef struct {
    unsigned int gpu, memory; /* nvmlUtilization_t, % */
} nvml_utilization;
typedef struct {
    unsigned long long total, free, used; /* nvmlMemory_t, bytes */
} nvml_memory;

/* nvmlClocksThrottleReasons that mean "held down": SwPowerCap 0x4, HwSlowdown 0x8,
 * SwThermalSlowdown 0x20, HwThermalSlowdown 0x40, HwPowerBrakeSlowdown 0x80 (idle, the
 * application clock setting, sync boost and the display clock are not throttling). */
#define NVML_THROTTLE_MASK 0xECULL

struct gpumon_nvml {
    nvml_return (*init)(void);
    nvml_return (*shutdown)(void);
    nvml_return (*count)(unsigned int *);
    nvml_return (*handle)(unsigned int, nvml_device *);
    nvml_return (*name)(nvml_device, char *, unsigned int);
    nvml_return (*util)(nvml_device, nvml_utilization *);
    nvml_return (*memory)(nvml_device, nvml_memory *);
    nvml_return (*temp)(nvml_device, int, unsigned int *);
    nvml_return (*power)(nvml_device, unsigned int *);
    nvml_return (*throttle)(nvml_device, unsigned long long *);
};

/* dlsym into a function pointer (POSIX's way round ISO C's object/function split). */
static void sym(void *lib, const char *name, void *fn_ptr)
{
    void *p = dlsym(lib, name);
    memcpy(fn_ptr, &p, sizeof p);
}

static bool nvml_bind(void *lib, struct gpumon_nvml *f)
{
    sym(lib, "nvmlInit_v2", &f->init);
    sym(lib, "nvmlShutdown", &f->shutdown);
    sym(lib, "nvmlDeviceGetCount_v2", &f->count);
    sym(lib, "nvmlDeviceGetHandleByIndex_v2", &f->handle);
    sym(lib, "nvmlDeviceGetName", &f->name);
    sym(lib, "nvmlDeviceGetUtilizationRates", &f->util);
    sym(lib, "nvmlDeviceGetMemoryInfo", &f->memory);
    sym(lib, "nvmlDeviceGetTemperature", &f->temp);
    sym(lib, "nvmlDeviceGetPowerUsage", &f->power);
    sym(lib, "nvmlDeviceGetCurrentClocksThrottleReasons", &f->throttle);
    /* the others are optional: a figure without its entry point is n/a */
    return f->init && f->shutdown && f->count && f->handle;
}

static void nvml_add_device(gpumon *g, unsigned int i)
{
    const struct gpumon_nvml *f = g->nvml;
    nvml_device h = NULL;
    if (g->n >= GPUMON_MAX || f->handle(i, &h) != 0 || !h)
        return;
    gpumon_device *d = &g->dev[g->n++];
    memset(d, 0, sizeof *d);
    d->vendor = GPU_VENDOR_NVIDIA;
    d->nvml_dev = h;
    char name[NVML_NAME_BUFFER] = "";
    if (!f->name || f->name(h, name, sizeof name) != 0 || !name[0])
        snprintf(name, sizeof name, "NVIDIA GPU %u", i);
    name[sizeof name - 1] = '\0';
    llm_cut_utf8(d->name, sizeof d->name, name);
}

/* Loads the library and lists its devices; quietly nothing when any of it fails. */
static void nvml_open(gpumon *g, const char *lib_name)
{
    void *lib = dlopen(lib_name, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        dlerror(); /* clear it: a missing library is not a message */
        return;
    }
    struct gpumon_nvml *f = calloc(1, sizeof *f);
    if (!f || !nvml_bind(lib, f) || f->init() != 0) {
        free(f);
        dlclose(lib);
        return;
    }
    g->lib = lib;
    g->nvml = f;
    unsigned int count = 0;
    if (f->count(&count) != 0)
        count = 0;
    for (unsigned int i = 0; i < count; i++)
        nvml_add_device(g, i);
}

static void nvml_sample(const gpumon *g, const gpumon_device *d, gpumon_figures *out)
{
    const struct gpumon_nvml *f = g->nvml;
    nvml_utilization u;
    nvml_memory m;
    unsigned int t, mw;
    unsigned long long reasons;
    if (f->util && f->util(d->nvml_dev, &u) == 0 && u.gpu <= 100)
        out->util_pct = u.gpu;
    if (f->memory && f->memory(d->nvml_dev, &m) == 0 && m.total > 0) {
        out->mem_used_mb = (double)m.used / (1024.0 * 1024.0);
        out->mem_total_mb = (double)m.total / (1024.0 * 1024.0);
    }
    if (f->temp && f->temp(d->nvml_dev, NVML_TEMPERATURE_GPU, &t) == 0)
        out->temp_c = t;
    if (f->power && f->power(d->nvml_dev, &mw) == 0)
        out->power_w = mw / 1000.0;
    if (f->throttle && f->throttle(d->nvml_dev, &reasons) == 0)
        out->throttling = (reasons & NVML_THROTTLE_MASK) != 0;
}

/* ---- AMD (amdgpu sysfs) ---------------------------------------------------------------- */

/* snprintf into a path buffer; false when the result did not fit. */
__attribute__((format(printf, 3, 4))) static bool path_fmt(char *out, size_t cap, const char *fmt,
                                                           ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    return n > 0 && (size_t)n < cap;
}

/* The first line of a small file, trailing whitespace removed; false if unreadable/empty. */
static bool read_line(const char *path, char *out, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n;
    do
        n = read(fd, out, cap - 1);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n <= 0)
        return false;
    out[n] = '\0';
    out[strcspn(out, "\n")] = '\0';
    size_t len = strlen(out);
    while (len > 0 && isspace((unsigned char)out[len - 1]))
        out[--len] = '\0';
    return len > 0;
}

/* A file holding one unsigned decimal and nothing else; NaN otherwise. */
static double read_u64(const char *dir, const char *name)
{
    char path[GPUMON_PATH_MAX], buf[48];
    if (!path_fmt(path, sizeof path, "%s/%s", dir, name) || !read_line(path, buf, sizeof buf) ||
        !isdigit((unsigned char)buf[0]))
        return NAN;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno == ERANGE || *end != '\0')
        return NAN;
    return (double)v;
}

/* The first hwmonN directory of a card's device directory; "" when none. */
static void amd_find_hwmon(const char *dev_dir, char *out, size_t cap)
{
    char dir[GPUMON_PATH_MAX];
    out[0] = '\0';
    if (!path_fmt(dir, sizeof dir, "%s/hwmon", dev_dir))
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char best[64] = "";
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, "hwmon", 5) == 0 && (!best[0] || strcmp(e->d_name, best) < 0))
            llm_strlcpy(best, e->d_name, sizeof best);
    closedir(d);
    if (best[0] && !path_fmt(out, cap, "%s/%s", dir, best))
        out[0] = '\0';
}

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

/* cardN/device is an amdgpu device when gpu_busy_percent reads as a percentage. */
static void amd_add_card(gpumon *g, const char *drm_dir, int card)
{
    char dir[GPUMON_PATH_MAX], path[GPUMON_PATH_MAX], name[GPUMON_NAME_MAX];
    if (g->n >= GPUMON_MAX || !path_fmt(dir, sizeof dir, "%s/card%d/device", drm_dir, card))
        return;
    double busy = read_u64(dir, "gpu_busy_percent");
    if (isnan(busy) || busy > 100)
        return;
    gpumon_device *d = &g->dev[g->n++];
    memset(d, 0, sizeof *d);
    d->vendor = GPU_VENDOR_AMD;
    llm_strlcpy(d->amd_dir, dir, sizeof d->amd_dir);
    amd_find_hwmon(dir, d->amd_hwmon, sizeof d->amd_hwmon);
    if (!path_fmt(path, sizeof path, "%s/product_name", dir) ||
        !read_line(path, name, sizeof name) || !printable(name))
        snprintf(name, sizeof name, "AMD GPU card%d", card);
    llm_cut_utf8(d->name, sizeof d->name, name);
}

static int int_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Every "cardN" (not "cardN-DP-1", a connector) of class/drm, in card order. */
static void amd_open(gpumon *g, const char *sys_root)
{
    char drm[GPUMON_PATH_MAX];
    if (!path_fmt(drm, sizeof drm, "%s/class/drm", sys_root))
        return;
    DIR *d = opendir(drm);
    if (!d)
        return;
    int cards[64], n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 64) {
        int num = -1, used = 0;
        if (sscanf(e->d_name, "card%d%n", &num, &used) == 1 && e->d_name[used] == '\0' && num >= 0)
            cards[n++] = num;
    }
    closedir(d);
    qsort(cards, (size_t)n, sizeof cards[0], int_cmp);
    for (int i = 0; i < n; i++)
        amd_add_card(g, drm, cards[i]);
}

static void amd_sample(const gpumon_device *d, gpumon_figures *out)
{
    double busy = read_u64(d->amd_dir, "gpu_busy_percent");
    out->util_pct = busy <= 100 ? busy : NAN;
    double used = read_u64(d->amd_dir, "mem_info_vram_used");
    double total = read_u64(d->amd_dir, "mem_info_vram_total");
    if (!isnan(used) && total > 0 && used <= total) {
        out->mem_used_mb = used / (1024.0 * 1024.0);
        out->mem_total_mb = total / (1024.0 * 1024.0);
    }
    if (!d->amd_hwmon[0])
        return;
    double mc = read_u64(d->amd_hwmon, "temp1_input"); /* millidegrees */
    out->temp_c = mc < 150000 ? mc / 1000.0 : NAN;
    double uw = read_u64(d->amd_hwmon, "power1_average"); /* microwatts */
    if (isnan(uw))
        uw = read_u64(d->amd_hwmon, "power1_input"); /* newer kernels, RDNA3 */
    out->power_w = uw / 1e6;
}

/* ---- public ------------------------------------------------------------------------- */

const char *gpu_vendor_name(gpu_vendor v)
{
    return v == GPU_VENDOR_AMD ? "amd" : "nvidia";
}

int gpumon_init(gpumon *g, const char *nvml_lib, const char *sys_root)
{
    memset(g, 0, sizeof *g);
    if (!nvml_lib)
        nvml_lib = getenv(GPUMON_LIB_ENV);
    if (!nvml_lib)
        nvml_lib = GPUMON_LIB_DEFAULT;
    if (nvml_lib[0])
        nvml_open(g, nvml_lib);
    amd_open(g, sys_root ? sys_root : "/sys");
    return g->n;
}

int gpumon_count(const gpumon *g)
{
    return g->n;
}

void gpumon_sample(gpumon *g, gpumon_reading *out)
{
    out->n = g->n;
    for (int i = 0; i < g->n; i++) {
        gpumon_figures *f = &out->dev[i];
        *f = (gpumon_figures){NAN, NAN, NAN, NAN, NAN, -1};
        if (g->dev[i].vendor == GPU_VENDOR_NVIDIA)
            nvml_sample(g, &g->dev[i], f);
        else
            amd_sample(&g->dev[i], f);
    }
}

void gpumon_close(gpumon *g)
{
    if (g->nvml) {
        g->nvml->shutdown();
        free(g->nvml);
    }
    if (g->lib)
        dlclose(g->lib);
    memset(g, 0, sizeof *g);
}
