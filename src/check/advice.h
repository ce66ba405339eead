/* check/advice: the one-line sentences `llmload check` prints when something is wrong, each
 * saying what to fix; pure string work (no I/O). Any thread. */
#ifndef LLM_CHECK_ADVICE_H
#define LLM_CHECK_ADVICE_H

#include <stdbool.h>
#include <stddef.h>

/* "http://host:port" of url (default port filled in); url itself when unparsable. */
void advice_origin(const char *url, char *out, size_t cap);

/* Host name of url ("" when unparsable). */
void advice_host(const char *url, char *out, size_t cap);

/* url + "/v1" when url does not already end with /v1; false (out untouched) otherwise. */
bool advice_suggest_v1(const char *url, char *out, size_t cap);

/* Why a transfer failed before any HTTP answer. curl_code is a CURLcode, curl_err curl's
 * error buffer, connected whether TCP connected before the failure (a timeout then is the
 * request timeout, not the connect timeout). */
void advice_transport(int curl_code, const char *curl_err, const char *url, bool connected,
                      double connect_timeout_s, double request_timeout_s, char *out, size_t cap);

/* An HTML page rather than JSON (by Content-Type, or a body starting with '<'). */
bool advice_is_html(const char *content_type, const char *body, size_t len);

/* Why a non-2xx answer to `what` (e.g. "GET http://h/v1/models") failed: the key for
 * 401/403, the /v1 hint for a 404 on /models, HTML pages, else the server's error
 * message. */
void advice_http(long status, const char *what, const char *url, bool models_request, bool have_key,
                 const char *content_type, const char *body, size_t len, char *out, size_t cap);

/* Parses a /models answer ({"data":[{"id":…}]}). Returns the number of models, or -1
 * when it is not that shape. Fills list ("a, b, c", truncated with "…"), first (the
 * first id) and *found (want is among them; want may be NULL). */
int advice_models(const char *body, size_t len, const char *want, char *list, size_t list_cap,
                  char *first, size_t first_cap, bool *found);

#endif
