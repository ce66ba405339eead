/* nvml_stub: a stand-in for libnvidia-ml.so.1 (the NVML entry points core/gpumon uses) with
 * two GPUs of fixed figures, so tests and the tmux check see GPU telemetry without a GPU.
 * LLMLOAD_NVML_STUB_FAIL=1 makes nvmlInit_v2 fail as a machine without the driver does.
 * Built as libnvml_stub.so (tests/CMakeLists.txt); loaded with LLMLOAD_NVML_LIB=path. */
#include <stdlib.h>
#include <string.h>

#define STUB_OK 0
#define STUB_UNINITIALIZED 1
#define STUB_INVALID_ARGUMENT 2
#define STUB_DRIVER_NOT_LOADED 9

typedef struct {
    unsigned int gpu, memory;
} stub_util;
typedef struct {
    unsigned long long total, free, used;
} stub_memory;

typedef struct {
    const char *name;
    unsigned int util, temp_c, power_mw;
    unsigned long long mem_used, mem_total, throttle;
} stub_gpu;

#define MIB (1024ULL * 1024ULL)
static const stub_gpu k_gpus[2] = {
    /* busy, not throttled (0x1 idle would not count either) */
    {"NVIDIA A100-SXM4-80GB", 87, 64, 312500, 40960 * MIB, 81920 * MIB, 0x0},
    /* light load, held down by software thermal slowdown (0x20) */
    {"NVIDIA L4", 12, 41, 35000, 2048 * MIB, 23034 * MIB, 0x20},
};

static int g_live; /* nvmlInit_v2 calls not yet matched by nvmlShutdown */

/* How many inits are not shut down (tests check gpumon_close shuts NVML down). */
int nvml_stub_live(void)
{
    return g_live;
}

static const stub_gpu *gpu_of(void *dev)
{
    if (g_live <= 0)
        return NULL;
    for (int i = 0; i < 2; i++)
        if (dev == &k_gpus[i])
            return &k_gpus[i];
    return NULL;
}

int nvmlInit_v2(void)
{
    const char *fail = getenv("LLMLOAD_NVML_STUB_FAIL");
    if (fail && fail[0] == '1')
        return STUB_DRIVER_NOT_LOADED;
    g_live++;
    return STUB_OK;
}

int nvmlShutdown(void)
{
    if (g_live <= 0)
        return STUB_UNINITIALIZED;
    g_live--;
    return STUB_OK;
}

int nvmlDeviceGetCount_v2(unsigned int *count)
{
    if (g_live <= 0)
        return STUB_UNINITIALIZED;
    *count = 2;
    return STUB_OK;
}

int nvmlDeviceGetHandleByIndex_v2(unsigned int index, void **dev)
{
    if (g_live <= 0)
        return STUB_UNINITIALIZED;
    if (index >= 2)
        return STUB_INVALID_ARGUMENT;
    *dev = (void *)&k_gpus[index];
    return STUB_OK;
}

int nvmlDeviceGetName(void *dev, char *name, unsigned int length)
{
    const stub_gpu *g = gpu_of(dev);
    if (!g || length == 0)
        return STUB_INVALID_ARGUMENT;
    strncpy(name, g->name, length - 1);
    name[length - 1] = '\0';
    return STUB_OK;
}

int nvmlDeviceGetUtilizationRates(void *dev, stub_util *u)
{
    const stub_gpu *g = gpu_of(dev);
    if (!g)
        return STUB_INVALID_ARGUMENT;
    u->gpu = g->util;
    u->memory = g->util / 2;
    return STUB_OK;
}

int nvmlDeviceGetMemoryInfo(void *dev, stub_memory *m)
{
    const stub_gpu *g = gpu_of(dev);
    if (!g)
        return STUB_INVALID_ARGUMENT;
    m->total = g->mem_total;
    m->used = g->mem_used;
    m->free = g->mem_total - g->mem_used;
    return STUB_OK;
}

int nvmlDeviceGetTemperature(void *dev, int sensor, unsigned int *temp)
{
    const stub_gpu *g = gpu_of(dev);
    if (!g || sensor != 0)
        return STUB_INVALID_ARGUMENT;
    *temp = g->temp_c;
    return STUB_OK;
}

int nvmlDeviceGetPowerUsage(void *dev, unsigned int *mw)
{
    const stub_gpu *g = gpu_of(dev);
    if (!g)
        return STUB_INVALID_ARGUMENT;
    *mw = g->power_mw;
    return STUB_OK;
}

int nvmlDeviceGetCurrentClocksThrottleReasons(void *dev, unsigned long long *reasons)
{
    const stub_gpu *g = gpu_of(dev);
    if (!g)
        return STUB_INVALID_ARGUMENT;
    *reasons = g->throttle;
    return STUB_OK;
}
