/* base/util: monotonic clock, duration/number parsing and formatting, API-key masking.
 * Pure functions with no state: any thread may call them. */
#ifndef LLM_BASE_UTIL_H
#define LLM_BASE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LLM_NS_PER_SEC 1000000000ULL
#define LLM_NS_PER_MS 1000000ULL

/* CLOCK_MONOTONIC in nanoseconds: every latency in llmload is measured with this. */
uint64_t llm_now_ns(void);

/* "250ms", "30s", "5m", "8h", "1.5s", or a bare number of seconds. Returns 0 and sets
 * *seconds, or -1 when the text is not a non-negative duration. */
int llm_parse_duration(const char *text, double *seconds);

/* Whole non-negative decimal number that fits in a long; -1 otherwise. */
int llm_parse_count(const char *text, long *out);

/* Finite non-negative decimal number; -1 otherwise. */
int llm_parse_number(const char *text, double *out);

/* Writes "12.3 ms", "1.20 s", "850 µs" (ASCII "us" when ascii is true). */
void llm_format_ms(double ms, char *out, size_t cap, bool ascii);

/* The only way an API key is ever shown: "sk-…abcd" (prefix up to the first '-',
 * an ellipsis, the last four characters); "(none)" when empty; "…" when short. */
void llm_mask_key(const char *key, char *out, size_t cap);

/* Replaces every occurrence of key in text (capacity cap) with its masked form, so a
 * server or a message that echoes the key can never make llmload print it. Keys shorter
 * than 4 characters are left alone: they would mask ordinary words. */
void llm_scrub_key(char *text, size_t cap, const char *key);

/* Copies at most cap-1 bytes and always terminates; returns strlen(src). */
size_t llm_strlcpy(char *dst, const char *src, size_t cap);

#endif
