/* engine/srvmon: polls the server's Prometheus /metrics once a second on its own thread
 * (blocking curl, never the engine's loop) for running/waiting requests and KV-cache use.
 * start/read/stop are called by the controlling thread. */
#ifndef LLM_SRVMON_H
#define LLM_SRVMON_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "proto/prom.h"

typedef enum {
    SRVMON_STARTING = 0, /* no answer yet */
    SRVMON_OK,           /* fig holds the last answer */
    SRVMON_UNAVAILABLE,  /* note says why; polling stopped unless the URL was given */
} srvmon_state;

typedef struct {
    srvmon_state state;
    prom_figures fig;  /* the last good answer (NaNs before one) */
    unsigned long seq; /* good answers so far: a new one since the last read when it grew */
    char note[640];    /* why unavailable, as a sentence (holds a whole URL); "" otherwise */
    char url[512];     /* the URL polled, without credentials */
} srvmon_reading;

typedef struct srvmon srvmon;

/* The /metrics URL of an API base URL: "http://h:8000/v1" → "http://h:8000/metrics". */
void srvmon_default_url(const char *base, char *out, size_t cap);

/* The URL --server-metrics asks for: the one given (*given = true), or the base URL's
 * /metrics. False with --server-metrics off. */
bool srvmon_url_of(const llm_config *cfg, char *out, size_t cap, bool *given);

/* The key sent to the metrics url: --server-metrics-key KEY, the API key with "api", none
 * with "none"; by default the API key only when url has the API's origin (scheme, host,
 * port), else none. */
const char *srvmon_key_for(const llm_config *cfg, const char *url);

/* Starts polling url (cfg gives the timeouts, TLS settings and headers; the key as
 * srvmon_key_for says, the --url's basic auth only to the API's origin).
 * insist: keep polling after a failure (the user named the URL) instead of giving up.
 * Returns NULL when out of memory or the thread cannot start. */
srvmon *srvmon_start(const llm_config *cfg, const char *url, bool insist);

void srvmon_read(srvmon *m, srvmon_reading *out);

/* Aborts a poll in progress, joins the thread, frees. NULL is ignored. */
void srvmon_stop(srvmon *m);

#endif
