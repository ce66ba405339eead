/* check/probe: one blocking HTTP request of `llmload check` (libcurl easy), with the
 * response body kept and, for streams, every SSE event decoded and timed. Main thread. */
#ifndef LLM_CHECK_PROBE_H
#define LLM_CHECK_PROBE_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "proto/sse.h"

#define PROBE_BODY_MAX (1u << 20) /* bytes of body kept; the rest is counted, not stored */

typedef struct {
    /* stream facts (probe_run with stream = true) */
    long events, content_events, reasoning_events, malformed, errors;
    bool done, finish, has_usage, overflow;
    long completion_tokens, prompt_tokens;
    uint64_t first_token_ns, last_token_ns, done_ns; /* since the request started; 0 = none */
    char error[256];                                 /* first error or malformed chunk message */
} probe_stream;

typedef struct {
    /* what happened */
    CURLcode code;
    char curl_err[CURL_ERROR_SIZE];
    bool connected; /* TCP connected (so a timeout was not the connect timeout) */
    long status;
    char content_type[128];
    char *body; /* NUL-terminated, up to PROBE_BODY_MAX bytes */
    size_t body_len;
    double total_ms;
    probe_stream s;

    /* private */
    bool stream;
    const char *key; /* masked in s.error */
    uint64_t t0_ns;
    sse_parser sse;
    char *sse_buf;
} probe;

/* Sends GET url (body NULL) or POST body (JSON) with cfg's key, headers, TLS and timeout
 * settings. Always fills *p (free with probe_free); returns p->code, which is
 * CURLE_ABORTED_BY_CALLBACK once a stop was asked (base/stop.h), within a second. */
CURLcode probe_run(probe *p, const llm_config *cfg, const char *url, const char *body, bool stream);

void probe_free(probe *p);

#endif
