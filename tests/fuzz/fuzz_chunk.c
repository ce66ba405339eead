/* libFuzzer target: the chunk decoder on any bytes, as a stream chunk, an `event: error`
 * and a whole response; every answer is well formed (tests/fuzz/run.sh). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/chunk.h"

static void check(const chunk_info *ci)
{
    if (memchr(ci->message, 0, sizeof ci->message) == NULL)
        abort(); /* the message is always a terminated string */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes: ASan catches any read past the end. */
    char *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    chunk_info ci;
    chunk_decode(copy, size, &ci);
    check(&ci);
    chunk_decode_event("error", 5, copy, size, &ci);
    check(&ci);
    if (ci.kind != CHUNK_ERROR)
        abort(); /* an `event: error` is an error whatever its data */
    chunk_decode_message(copy, size, &ci);
    check(&ci);
    free(copy);
    return 0;
}
