/* engine/image: the multimodal test's image — read once, checked by its magic bytes (jpg,
 * png, gif, webp) and size, and turned into a base64 data URL. Main thread, before a run. */
#ifndef LLM_IMAGE_H
#define LLM_IMAGE_H

#include <stddef.h>

#define IMAGE_MAX_BYTES (20u * 1024 * 1024)

/* "image/jpeg", "image/png", "image/gif", "image/webp", or NULL when bytes[0..len) is none
 * of them. */
const char *image_mime(const unsigned char *bytes, size_t len);

/* Reads path and returns a malloc'd "data:<mime>;base64,…" in *url. Returns 0, or -1 with
 * a sentence naming the file and what is wrong. */
int image_data_url(const char *path, char **url, char *err, size_t errlen);

#endif
