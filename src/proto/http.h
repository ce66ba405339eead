/* proto/http: the curl settings every llmload request shares (timeouts, TLS, HTTP version,
 * no signals), what a curl result code means, and what a server's refusal of a field asks. Any
 * thread, on its own easy handles. */
#ifndef LLM_HTTP_H
#define LLM_HTTP_H

#include <curl/curl.h>
#include <stdbool.h>

#include "config/config.h"

/* Applies --connect-timeout, --request-timeout, --insecure and --http2 (HTTP/2 over TLS
 * for https, prior knowledge for http), the --url's user:password as basic auth, NOSIGNAL
 * and the user agent. */
void http_apply_common(CURL *c, const llm_config *cfg, const char *url);
/* --connect-timeout, or its default of 10 s. */
double http_connect_timeout_s(const llm_config *cfg);

/* True for the codes of a failed TLS handshake or certificate check. */
bool http_code_is_tls(CURLcode code);

/* The option that avoids a refusal, when a server's error message names a body field llmload
 * sends ("Unrecognized request argument supplied: ignore_eos"): a sentence, or NULL. */
const char *http_rejected_field_advice(const char *message);

#endif
