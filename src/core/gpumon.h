/* core/gpumon: the GPUs of the machine running llmload (DESIGN.md §10): NVIDIA through NVML
 * loaded at run time (dlopen, no build dependency), AMD through sysfs. One consumer thread
 * owns a gpumon and samples it about once a second. */
#ifndef LLM_GPUMON_H
#define LLM_GPUMON_H

#include <stdbool.h>
#include <stddef.h>

#define GPUMON_MAX 16       /* devices kept (NVIDIA first, then AMD) */
#define GPUMON_NAME_MAX 64  /* "NVIDIA A100-SXM4-80GB" */
#define GPUMON_PATH_MAX 384 /* a sys root plus the longest path built under it */
#define GPUMON_LIB_ENV "LLMLOAD_NVML_LIB"
#define GPUMON_LIB_DEFAULT "libnvidia-ml.so.1"

typedef enum { GPU_VENDOR_NVIDIA, GPU_VENDOR_AMD } gpu_vendor;

/* "nvidia" or "amd" (the snapshot's vendor key). */
const char *gpu_vendor_name(gpu_vendor v);

/* One device's figures in one sample; a figure that could not be read is NaN. */
typedef struct {
    double util_pct;     /* busy share over the driver's last interval, 0..100 */
    double mem_used_mb;  /* MiB */
    double mem_total_mb; /* MiB */
    double temp_c;       /* the GPU's own sensor */
    double power_w;      /* board power (NVML) or average power (AMD hwmon) */
    int throttling;      /* 1: clocks held down for power or heat; 0: not; -1: not known */
} gpumon_figures;

typedef struct {
    int n; /* devices, as gpumon_count */
    gpumon_figures dev[GPUMON_MAX];
} gpumon_reading;

typedef struct {
    char name[GPUMON_NAME_MAX];
    gpu_vendor vendor;
    void *nvml_dev;                  /* NVIDIA: NVML's device handle */
    char amd_dir[GPUMON_PATH_MAX];   /* AMD: .../drm/cardN/device */
    char amd_hwmon[GPUMON_PATH_MAX]; /* AMD: its hwmon directory; "" when none */
} gpumon_device;

struct gpumon_nvml; /* the NVML entry points found by dlsym */

/* Plain data; gpumon_close releases the library. */
typedef struct {
    void *lib; /* dlopen handle; NULL = no NVML */
    struct gpumon_nvml *nvml;
    int n;
    gpumon_device dev[GPUMON_MAX];
} gpumon;

/* Finds the GPUs. nvml_lib: the NVML library to dlopen (NULL = $LLMLOAD_NVML_LIB, else
 * libnvidia-ml.so.1; "" = NVIDIA not looked for); sys_root: where sysfs is (NULL = "/sys";
 * tests pass fixture trees). No library, an NVML that fails to start, or no card is not an
 * error and prints nothing: there are simply no devices. Returns the number of devices. */
int gpumon_init(gpumon *g, const char *nvml_lib, const char *sys_root);

/* Devices found (0 = no GPU). */
int gpumon_count(const gpumon *g);

/* Reads every device's figures now into *out. Allocates nothing; never fails. */
void gpumon_sample(gpumon *g, gpumon_reading *out);

/* Shuts NVML down and unloads it; g then has no devices. Safe to call twice. */
void gpumon_close(gpumon *g);

#endif
