#include "proto/http.h"

#include <string.h>

double http_connect_timeout_s(const llm_config *cfg)
{
    return cfg->connect_timeout_s > 0 ? cfg->connect_timeout_s : 10;
}

void http_apply_common(CURL *c, const llm_config *cfg, const char *url)
{
    double connect_s = http_connect_timeout_s(cfg);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "llmload/" LLMLOAD_VERSION);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(connect_s * 1000));
    if (cfg->request_timeout_s > 0)
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(cfg->request_timeout_s * 1000));
    if (cfg->url_user) { /* credentials of the --url, kept out of the URL itself */
        curl_easy_setopt(c, CURLOPT_USERNAME, cfg->url_user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, cfg->url_password ? cfg->url_password : "");
    }
    if (cfg->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (cfg->http2)
        curl_easy_setopt(c, CURLOPT_HTTP_VERSION,
                         strncmp(url, "https", 5) == 0 ? (long)CURL_HTTP_VERSION_2TLS
                                                       : (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    else
        curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    /* Never follow a redirect: every request is measured as it happened. */
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
}

bool http_code_is_tls(CURLcode code)
{
    switch (code) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_USE_SSL_FAILED:
        return true;
    default:
        return false;
    }
}

/* Servers that refuse a field llmload sends say so in their message (OpenAI: "Unrecognized
 * request argument supplied: ignore_eos"); the fix is an option, so the sentence names it. */
const char *http_rejected_field_advice(const char *message)
{
    if (strstr(message, "stream_options") || strstr(message, "include_usage"))
        return "the server rejects stream_options: run with --no-usage";
    if (strstr(message, "ignore_eos") || strstr(message, "min_tokens"))
        return "the server rejects ignore_eos/min_tokens: run without --ignore-eos";
    return NULL;
}
