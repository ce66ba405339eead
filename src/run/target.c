#include "run/target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/stop.h"
#include "base/util.h"
#include "check/advice.h"
#include "check/probe.h"

/* Not fatal: some servers answer to aliases they do not list. */
static void warn_if_unlisted(const char *model, const probe *p)
{
    char list[256], first[8];
    bool found = false;
    if (p->status == 200 && p->body &&
        advice_models(p->body, p->body_len, model, list, sizeof list, first, sizeof first, &found) >
            0 &&
        !found)
        fprintf(stderr, "llmload: warning: model %s is not in the server's list (%s)\n", model,
                list);
}

double target_preflight_limit_s(const llm_config *cfg)
{
    double connect = cfg->connect_timeout_s > 0 ? cfg->connect_timeout_s : 10;
    double answer = cfg->ttft_timeout_s > 0 ? cfg->ttft_timeout_s : TARGET_PREFLIGHT_ANSWER_S;
    double limit = connect + answer;
    return cfg->request_timeout_s > 0 && cfg->request_timeout_s < limit ? cfg->request_timeout_s
                                                                        : limit;
}

/* The sentence for a preflight that got no HTTP answer, naming the limit that fired. */
static int preflight_failed(const llm_config *cfg, const probe *p, const char *url, double limit,
                            char *err, size_t errlen)
{
    if (p->code == CURLE_ABORTED_BY_CALLBACK && llm_stop_signal()) {
        snprintf(err, errlen, "stopped by signal %d before the load started (nothing was sent)",
                 llm_stop_signal());
        return 128 + llm_stop_signal();
    }
    char shown[1024];
    llm_url_without_userinfo(url, shown, sizeof shown);
    if (p->code == CURLE_OPERATION_TIMEDOUT && p->connected) {
        const char *which = cfg->request_timeout_s > 0 && cfg->request_timeout_s <= limit
                                ? "--request-timeout"
                            : cfg->ttft_timeout_s > 0 ? "--connect-timeout + --ttft-timeout"
                                                      : "--connect-timeout + 30 s";
        snprintf(err, errlen,
                 "GET %s: connected, but no answer within %g s (the preflight's limit, %s): is "
                 "the server stuck? If it is only slow, raise --ttft-timeout",
                 shown, limit, which);
        return LLM_EXIT_UNREACHABLE;
    }
    char why[384];
    advice_transport(p->code, p->curl_err, shown, p->connected, cfg->connect_timeout_s, limit, why,
                     sizeof why);
    snprintf(err, errlen, "%s", why);
    return LLM_EXIT_UNREACHABLE;
}

int target_resolve_model(const llm_config *cfg, char **model, char *err, size_t errlen)
{
    *model = NULL;
    char *url = config_endpoint_url(cfg, "/models");
    /* The preflight is one small GET: its own short limit, not the 600 s of a generation. */
    llm_config pre = *cfg;
    pre.request_timeout_s = target_preflight_limit_s(cfg);
    probe p;
    CURLcode rc = probe_run(&p, &pre, url, NULL, false);
    int result = 0;
    if (rc != CURLE_OK && p.status == 0) {
        result = preflight_failed(cfg, &p, url, pre.request_timeout_s, err, errlen);
    } else if (p.status == 401 || p.status == 403) {
        /* Every request would fail the same way: say so before sending any load. */
        char why[512];
        advice_http(p.status, "GET /models", cfg->url, true, cfg->api_key && cfg->api_key[0],
                    p.content_type, p.body ? p.body : "", p.body_len, why, sizeof why);
        snprintf(err, errlen, "%s", why);
        result = LLM_EXIT_USAGE;
    } else if (cfg->model) {
        *model = strdup(cfg->model);
        warn_if_unlisted(cfg->model, &p);
    } else if (p.status == 200 && p.body) {
        /* Some servers have no /models; then the body omits "model" and the server picks. */
        char list[8], first[256] = "";
        bool found;
        if (advice_models(p.body, p.body_len, NULL, list, sizeof list, first, sizeof first,
                          &found) > 0)
            *model = strdup(first);
    }
    probe_free(&p);
    free(url);
    return result;
}

/* A 404 that names a model ("The model `x` does not exist", "model 'x' not found") is about
 * the model; any other 404 is about the path. */
static bool mentions_model(const char *msg)
{
    return strcasestr(msg, "model") != NULL;
}

void target_rejection_advice(const llm_config *cfg, const char *msg, char *out, size_t cap)
{
    char v1[512];
    if (!mentions_model(msg)) {
        if (advice_suggest_v1(cfg->url, v1, sizeof v1))
            snprintf(out, cap,
                     "%s from the %s endpoint before any request succeeded: did you mean "
                     "--url %s?",
                     msg, cfg->endpoint == LLM_ENDPOINT_COMPLETIONS ? "completions" : "chat", v1);
        else
            snprintf(out, cap,
                     "%s before any request succeeded: the server has no %s endpoint there; "
                     "check --url (and --endpoint)",
                     msg,
                     cfg->endpoint == LLM_ENDPOINT_COMPLETIONS ? "/completions"
                                                               : "/chat/completions");
        return;
    }
    char list[256] = "", first[8];
    bool found = false;
    char *url = config_endpoint_url(cfg, "/models");
    probe p;
    if (url && probe_run(&p, cfg, url, NULL, false) == CURLE_OK && p.status == 200 && p.body)
        advice_models(p.body, p.body_len, cfg->model, list, sizeof list, first, sizeof first,
                      &found);
    if (url)
        probe_free(&p);
    free(url);
    int n = (int)strlen(msg);
    while (n > 0 && (msg[n - 1] == '.' || msg[n - 1] == ' '))
        n--; /* the server's sentence goes on after a semicolon */
    if (list[0])
        snprintf(out, cap, "%.*s; the server serves %s: set --model (or MODEL_NAME) to one of them",
                 n, msg, list);
    else
        snprintf(out, cap, "%.*s: set --model (or MODEL_NAME) to a model the server serves", n,
                 msg);
}
