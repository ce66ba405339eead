/* libFuzzer target: the /metrics reader on any bytes (tests/fuzz/run.sh). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/prom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    prom_figures f;
    if (prom_parse(copy, size, &f) && f.engine == NULL)
        abort(); /* a recognised name always names its engine */
    free(copy);
    return 0;
}
