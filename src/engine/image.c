#include "engine/image.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *image_mime(const unsigned char *b, size_t n)
{
    if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
        return "image/jpeg";
    if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "image/png";
    if (n >= 6 && (memcmp(b, "GIF87a", 6) == 0 || memcmp(b, "GIF89a", 6) == 0))
        return "image/gif";
    if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0)
        return "image/webp";
    return NULL;
}

static unsigned char *read_all(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "--image %s: cannot read it (%s)", path, strerror(errno));
        return NULL;
    }
    unsigned char *buf = malloc(IMAGE_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, IMAGE_MAX_BYTES + 1, f) : 0;
    fclose(f);
    if (!buf) {
        snprintf(err, errlen, "out of memory reading --image %s", path);
        return NULL;
    }
    if (n > IMAGE_MAX_BYTES) {
        snprintf(err, errlen, "--image %s: larger than %u MiB; use a smaller image", path,
                 IMAGE_MAX_BYTES >> 20);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

int image_data_url(const char *path, char **url, char *err, size_t errlen)
{
    *url = NULL;
    size_t n = 0;
    unsigned char *bytes = read_all(path, &n, err, errlen);
    if (!bytes)
        return -1;
    const char *mime = image_mime(bytes, n);
    if (!mime) {
        snprintf(err, errlen,
                 "--image %s: not a JPEG, PNG, GIF or WebP image (checked by its "
                 "first bytes)",
                 path);
        free(bytes);
        return -1;
    }
    size_t head = strlen("data:;base64,") + strlen(mime);
    char *out = malloc(head + 4 * ((n + 2) / 3) + 1);
    if (out) {
        int w = snprintf(out, head + 1, "data:%s;base64,", mime);
        EVP_EncodeBlock((unsigned char *)out + w, bytes, (int)n);
    }
    free(bytes);
    if (!out) {
        snprintf(err, errlen, "out of memory encoding --image %s", path);
        return -1;
    }
    *url = out;
    return 0;
}
