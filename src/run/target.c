#include "run/target.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *data;
    size_t len, cap;
} grow_buf;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    grow_buf *b = userdata;
    size_t n = size * nmemb;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        if (cap > (1u << 22))
            return 0; /* a model list is never megabytes; stop reading */
        char *p = realloc(b->data, cap);
        if (!p)
            return 0;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

static char *first_model(const char *json)
{
    cJSON *doc = cJSON_Parse(json);
    cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "data"), 0);
    cJSON *id = cJSON_GetObjectItem(first, "id");
    char *name = cJSON_IsString(id) ? strdup(id->valuestring) : NULL;
    cJSON_Delete(doc);
    return name;
}

static CURLcode fetch_models(const llm_config *cfg, grow_buf *body, long *status)
{
    CURL *c = curl_easy_init();
    if (!c)
        return CURLE_OUT_OF_MEMORY;
    char *url = config_endpoint_url(cfg, "/models");
    struct curl_slist *h = NULL;
    char auth[600] = "";
    if (cfg->api_key && *cfg->api_key) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", cfg->api_key);
        h = curl_slist_append(h, auth);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(cfg->connect_timeout_s * 1000));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(cfg->connect_timeout_s * 1000) + 5000);
    if (cfg->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    memset(auth, 0, sizeof auth);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(url);
    return rc;
}

static const char *unreachable_hint(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
        return "is the server running, and are the host and port right?";
    case CURLE_COULDNT_RESOLVE_HOST:
        return "check the host name in the URL";
    case CURLE_OPERATION_TIMEDOUT:
        return "is the address right, and is a firewall in the way?";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
        return "use --insecure to skip verification of a self-signed certificate";
    default:
        return "run `llmload check` for details";
    }
}

int target_resolve_model(const llm_config *cfg, char **model, char *err, size_t errlen)
{
    *model = NULL;
    grow_buf body = {0};
    long status = 0;
    CURLcode rc = fetch_models(cfg, &body, &status);
    if (rc != CURLE_OK && status == 0) {
        snprintf(err, errlen, "cannot reach %s (%s): %s", cfg->url, curl_easy_strerror(rc),
                 unreachable_hint(rc));
        free(body.data);
        return LLM_EXIT_UNREACHABLE;
    }
    /* Some servers have no /models; the load test itself will say what is wrong. */
    if (cfg->model)
        *model = strdup(cfg->model);
    else if (status == 200 && body.data)
        *model = first_model(body.data);
    free(body.data);
    return 0;
}
