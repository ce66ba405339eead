/* check/advice: failure sentences for `llmload check`. Each names the thing to change
 * (the URL, the port, the key, --insecure, a timeout flag). */
#include "check/advice.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"
#include "proto/chunk.h"
#include "proto/http.h"

/* One URL part via curl's own parser, so we agree with curl on what the URL means. */
static bool advice_url_part(const char *url, CURLUPart part, unsigned flags, char *out, size_t cap)
{
    CURLU *u = curl_url();
    char *v = NULL;
    bool ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
              curl_url_get(u, part, &v, flags) == CURLUE_OK;
    if (ok)
        llm_strlcpy(out, v, cap);
    curl_free(v);
    curl_url_cleanup(u);
    return ok;
}

void advice_origin(const char *url, char *out, size_t cap)
{
    char scheme[16], host[256], port[16];
    if (advice_url_part(url, CURLUPART_SCHEME, 0, scheme, sizeof scheme) &&
        advice_url_part(url, CURLUPART_HOST, 0, host, sizeof host) &&
        advice_url_part(url, CURLUPART_PORT, CURLU_DEFAULT_PORT, port, sizeof port))
        snprintf(out, cap, "%s://%s:%s", scheme, host, port);
    else
        llm_strlcpy(out, url, cap);
}

void advice_host(const char *url, char *out, size_t cap)
{
    if (!advice_url_part(url, CURLUPART_HOST, 0, out, cap) && cap)
        out[0] = '\0';
}

bool advice_suggest_v1(const char *url, char *out, size_t cap)
{
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    if (n >= 3 && memcmp(url + n - 3, "/v1", 3) == 0)
        return false;
    snprintf(out, cap, "%.*s/v1", (int)n, url);
    return true;
}

static void advice_tls(const char *err, const char *host, char *out, size_t cap)
{
    /* An https URL pointed at a plain-http port fails with "wrong version number". */
    if (strstr(err, "wrong version number") || strstr(err, "packet length too long"))
        snprintf(out, cap,
                 "TLS handshake with %s failed: %s; the server seems to speak plain HTTP: "
                 "use http:// in the URL",
                 host, err);
    else
        snprintf(out, cap,
                 "TLS handshake with %s failed: %s; use --insecure to skip verification for a "
                 "self-signed certificate",
                 host, err);
}

void advice_transport(int code, const char *err, const char *url, bool connected,
                      double connect_timeout_s, double request_timeout_s, char *out, size_t cap)
{
    char origin[300], host[256];
    advice_origin(url, origin, sizeof origin);
    advice_host(url, host, sizeof host);
    if (!err || !*err)
        err = curl_easy_strerror((CURLcode)code);
    if (http_code_is_tls((CURLcode)code)) {
        advice_tls(err, host, out, cap);
        return;
    }
    switch (code) {
    case CURLE_COULDNT_CONNECT:
        if (strstr(err, "refused") || strstr(err, "Couldn't connect"))
            snprintf(out, cap,
                     "nothing is listening at %s: is the server running, and is the port right?",
                     origin);
        else
            snprintf(out, cap, "cannot connect to %s (%s): is the host up and reachable from here?",
                     origin, err);
        return;
    case CURLE_COULDNT_RESOLVE_HOST:
        snprintf(out, cap, "cannot resolve host %s: check the URL", host);
        return;
    case CURLE_OPERATION_TIMEDOUT:
        if (connected)
            snprintf(out, cap, "no answer from %s within %g s (--request-timeout)", origin,
                     request_timeout_s);
        else
            snprintf(out, cap, "no answer from %s within %g s (--connect-timeout)", origin,
                     connect_timeout_s);
        return;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        snprintf(out, cap, "the URL %s is not valid (%s): use e.g. http://host:8000/v1", url, err);
        return;
    case CURLE_GOT_NOTHING:
    case CURLE_WEIRD_SERVER_REPLY:
        snprintf(out, cap,
                 "%s did not answer with HTTP (%s): is it the API server, and is the scheme "
                 "(http or https) right?",
                 origin, err);
        return;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
        snprintf(out, cap,
                 "the connection to %s broke (%s): is the server or a proxy "
                 "restarting?",
                 origin, err);
        return;
    default:
        snprintf(out, cap, "the request to %s failed: %s", origin, err);
    }
}

bool advice_is_html(const char *content_type, const char *body, size_t len)
{
    if (content_type && strncasecmp(content_type, "text/html", 9) == 0)
        return true;
    size_t k = 0;
    while (k < len && (body[k] == ' ' || body[k] == '\n' || body[k] == '\r' || body[k] == '\t'))
        k++;
    return k < len && body[k] == '<';
}

/* The server's own words: error.message from a JSON body, else a printable excerpt. */
static void advice_server_text(const char *body, size_t len, char *out, size_t cap)
{
    chunk_info ci;
    chunk_decode_message(body, len, &ci);
    if (ci.kind == CHUNK_ERROR) {
        llm_strlcpy(out, ci.message, cap);
        return;
    }
    size_t o = 0;
    for (size_t k = 0; k < len && o + 1 < cap && o < 160; k++)
        out[o++] = (unsigned char)body[k] < 0x20 ? ' ' : body[k];
    if (cap)
        out[o] = '\0';
    if (o == 0)
        llm_strlcpy(out, "empty body", cap);
}

void advice_http(long status, const char *what, const char *url, bool models_request, bool have_key,
                 const char *content_type, const char *body, size_t len, char *out, size_t cap)
{
    char v1[512];
    if (status == 401 || status == 403) {
        if (have_key)
            snprintf(out, cap,
                     "the server rejected the API key (HTTP %ld): check MODEL_KEY or --api-key",
                     status);
        else
            snprintf(out, cap,
                     "the server wants an API key (HTTP %ld) and none is set: set MODEL_KEY or "
                     "--api-key",
                     status);
    } else if (status == 404 && models_request && advice_suggest_v1(url, v1, sizeof v1)) {
        snprintf(out, cap, "%s returned 404: did you mean %s?", what, v1);
    } else if (advice_is_html(content_type, body, len)) {
        snprintf(out, cap,
                 "the server answered with an HTML page (HTTP %ld), not JSON: is the URL "
                 "pointing at a proxy or web UI instead of the API?",
                 status);
    } else {
        char text[200];
        advice_server_text(body, len, text, sizeof text);
        const char *fix = http_rejected_field_advice(text);
        snprintf(out, cap, "%s returned HTTP %ld: %s", what, status, fix ? fix : text);
    }
}

/* Appends ", name" to list unless it is full; a full list ends with an ellipsis. */
static void advice_list_add(char *list, size_t cap, const char *name, bool *full)
{
    size_t n = strlen(list);
    if (*full)
        return;
    if (n + strlen(name) + 2 + 4 >= cap) {
        snprintf(list + n, cap - n, "%s\xE2\x80\xA6", n ? ", " : "");
        *full = true;
        return;
    }
    snprintf(list + n, cap - n, "%s%s", n ? ", " : "", name);
}

int advice_models(const char *body, size_t len, const char *want, char *list, size_t list_cap,
                  char *first, size_t first_cap, bool *found)
{
    list[0] = '\0';
    first[0] = '\0';
    *found = false;
    cJSON *root = cJSON_ParseWithLength(body, len);
    cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (!cJSON_IsArray(data)) {
        cJSON_Delete(root);
        return -1;
    }
    int count = 0;
    bool full = false;
    const cJSON *m;
    cJSON_ArrayForEach(m, data)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
        if (!cJSON_IsString(id))
            continue;
        if (count++ == 0)
            llm_strlcpy(first, id->valuestring, first_cap);
        if (want && strcmp(want, id->valuestring) == 0)
            *found = true;
        advice_list_add(list, list_cap, id->valuestring, &full);
    }
    cJSON_Delete(root);
    return count;
}
