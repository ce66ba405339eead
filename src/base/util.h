/* base/util: monotonic clock, duration/number parsing and formatting, API-key masking,
 * URL credentials and origins.
 * Pure functions with no state: any thread may call them. */
#ifndef LLM_BASE_UTIL_H
#define LLM_BASE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdarg.h>
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
 * server or a message that echoes the key can never make llmload print it; a text that
 * ends with the first 4 or more characters of the key (a key already cut) has that end
 * masked too. Keys shorter than 4 characters are left alone: they would mask ordinary
 * words. Mask before cutting: use llm_format_scrubbed rather than snprintf + scrub. */
void llm_scrub_key(char *text, size_t cap, const char *key);

/* snprintf that masks key in the whole formatted text first and cuts it to cap after
 * (never inside a UTF-8 sequence), so no part of the key survives the cut. Returns the
 * length written, or -1 (out empty) when out of memory. */
int llm_format_scrubbed(char *out, size_t cap, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int llm_vformat_scrubbed(char *out, size_t cap, const char *key, const char *fmt, va_list ap);

/* Copies src cut to cap-1 bytes, never ending inside a UTF-8 sequence; returns strlen(src). */
size_t llm_cut_utf8(char *dst, size_t cap, const char *src);

/* URL credentials (http://user:password@host/...) are never printed or stored. */
/* url without its userinfo, for display and storage. */
void llm_url_without_userinfo(const char *url, char *out, size_t cap);
/* Removes "user:password@" from url in place; returns it (without '@', caller frees) or NULL
 * when there was none. */
char *llm_url_take_userinfo(char *url);

/* True when both URLs have the same scheme, host and port (the default port filled in):
 * where the API key may be sent. */
bool llm_url_same_origin(const char *a, const char *b);

/* Copies at most cap-1 bytes and always terminates; returns strlen(src). */
size_t llm_strlcpy(char *dst, const char *src, size_t cap);

#endif
