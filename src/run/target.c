#include "run/target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int target_resolve_model(const llm_config *cfg, char **model, char *err, size_t errlen)
{
    *model = NULL;
    char *url = config_endpoint_url(cfg, "/models");
    probe p;
    CURLcode rc = probe_run(&p, cfg, url, NULL, false);
    int result = 0;
    if (rc != CURLE_OK && p.status == 0) {
        char why[384];
        advice_transport(rc, p.curl_err, url, p.connected, cfg->connect_timeout_s,
                         cfg->connect_timeout_s, why, sizeof why);
        snprintf(err, errlen, "%s", why);
        result = LLM_EXIT_UNREACHABLE;
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
