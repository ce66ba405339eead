/* engine/srvmon: the server-metrics poller (see srvmon.h). */
#include "engine/srvmon.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/util.h"
#include "engine/request.h"
#include "proto/http.h"

#define POLL_NS LLM_NS_PER_SEC
/* A /metrics page larger than this is not a serving engine's (vLLM's is ~100 kB). */
#define BODY_MAX (8u << 20)

struct srvmon {
    const llm_config *cfg;
    char url[512];
    bool insist;
    pthread_t thread;
    pthread_mutex_t lock; /* guards reading and stopping (1 Hz: no hot path here) */
    pthread_cond_t wake;
    bool stopping;
    _Atomic bool abort; /* stop asked: a poll in progress gives up */
    CURLM *multi;       /* one transfer at a time; curl_multi_wakeup interrupts it */
    srvmon_reading reading;
    char *body;
    size_t len, cap;
    bool too_big;
};

void srvmon_default_url(const char *base, char *out, size_t cap)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    if (n >= 3 && memcmp(base + n - 3, "/v1", 3) == 0)
        n -= 3;
    snprintf(out, cap, "%.*s/metrics", (int)n, base);
}

bool srvmon_url_of(const llm_config *cfg, char *out, size_t cap, bool *given)
{
    const char *url = cfg->server_metrics;
    *given = url != NULL;
    if (url && strcmp(url, "off") == 0)
        return false;
    if (url)
        llm_strlcpy(out, url, cap);
    else
        srvmon_default_url(cfg->url, out, cap);
    return true;
}

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
    srvmon *m = user;
    size_t len = size * n;
    if (m->len + len > BODY_MAX) {
        m->too_big = true;
        return 0;
    }
    if (m->len + len > m->cap) {
        size_t cap = m->cap ? m->cap : 64 * 1024;
        while (cap < m->len + len)
            cap *= 2;
        char *grown = realloc(m->body, cap);
        if (!grown)
            return 0;
        m->body = grown;
        m->cap = cap;
    }
    memcpy(m->body + m->len, data, len);
    m->len += len;
    return len;
}

/* curl_easy_perform, but through the poller's own multi handle so srvmon_stop can wake it
 * (curl_multi_wakeup) instead of waiting out a silent server. */
static CURLcode perform(srvmon *m, CURL *c)
{
    CURLcode rc = CURLE_ABORTED_BY_CALLBACK;
    if (curl_multi_add_handle(m->multi, c) != CURLM_OK)
        return CURLE_OUT_OF_MEMORY;
    int running = 1;
    while (running && !atomic_load_explicit(&m->abort, memory_order_acquire)) {
        if (curl_multi_perform(m->multi, &running) != CURLM_OK)
            break;
        if (running)
            curl_multi_poll(m->multi, NULL, 0, 1000, NULL);
    }
    int left;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(m->multi, &left)) != NULL)
        if (msg->msg == CURLMSG_DONE)
            rc = msg->data.result;
    curl_multi_remove_handle(m->multi, c);
    return rc;
}

/* One poll: 0 with fig set, or -1 with a sentence in note. */
static int poll_once(srvmon *m, CURL *c, prom_figures *fig, char *note, size_t cap)
{
    m->len = 0;
    m->too_big = false;
    CURLcode rc = perform(m, c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    const char *shown = m->reading.url; /* without credentials */
    if (m->too_big)
        snprintf(note, cap, "%s is over 8 MiB: not a serving engine's metrics", shown);
    else if (rc != CURLE_OK)
        snprintf(note, cap, "cannot read %s: %s", shown, curl_easy_strerror(rc));
    else if (status != 200)
        snprintf(note, cap,
                 "%s answered HTTP %ld (llama.cpp serves it only with --metrics; give "
                 "another with --server-metrics URL)",
                 shown, status);
    else if (!prom_parse(m->body, m->len, fig))
        snprintf(note, cap, "%s has no vLLM, SGLang, TGI or llama.cpp metrics", shown);
    else
        return 0;
    llm_scrub_key(note, cap, m->cfg->api_key);
    llm_scrub_key(note, cap, m->cfg->server_metrics_key);
    return -1;
}

const char *srvmon_key_for(const llm_config *cfg, const char *url)
{
    const char *k = cfg->server_metrics_key;
    if (k && strcmp(k, "api") == 0)
        return cfg->api_key;
    if (k && strcmp(k, "none") == 0)
        return NULL;
    if (k)
        return k;
    return llm_url_same_origin(cfg->url, url) ? cfg->api_key : NULL;
}

static void *poller(void *arg)
{
    srvmon *m = arg;
    CURL *c = curl_easy_init();
    /* The API's credentials go to the API's own origin only (--server-metrics-key). */
    llm_config own = *m->cfg;
    own.api_key = (char *)srvmon_key_for(m->cfg, m->url);
    if (!llm_url_same_origin(m->cfg->url, m->url)) {
        /* --header values are often credentials too (a gateway's own key): the API's */
        own.url_user = own.url_password = NULL;
        own.n_headers = 0;
    }
    struct curl_slist *headers = c ? request_headers(&own) : NULL;
    if (c) {
        http_apply_common(c, &own, m->url);
        /* A metrics page that takes longer than a poll is no use live. */
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
        curl_easy_setopt(c, CURLOPT_URL, m->url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, m);
    }
    bool polling = c != NULL && m->multi != NULL;
    pthread_mutex_lock(&m->lock);
    while (!m->stopping) {
        pthread_mutex_unlock(&m->lock);
        uint64_t next = llm_now_ns() + POLL_NS;
        if (polling) {
            prom_figures fig;
            char note[sizeof m->reading.note] = "";
            int rc = poll_once(m, c, &fig, note, sizeof note);
            pthread_mutex_lock(&m->lock);
            if (rc == 0) {
                m->reading.state = SRVMON_OK;
                m->reading.fig = fig;
                m->reading.seq++;
                m->reading.note[0] = 0;
            } else if (!m->stopping) {
                /* Once it worked, a miss is a hiccup; before, auto-discovery gives up. */
                if (m->reading.state != SRVMON_OK)
                    m->reading.state = SRVMON_UNAVAILABLE;
                llm_strlcpy(m->reading.note, note, sizeof m->reading.note);
                polling = m->insist || m->reading.state == SRVMON_OK;
            }
        } else {
            pthread_mutex_lock(&m->lock);
        }
        struct timespec until = {.tv_sec = (time_t)(next / LLM_NS_PER_SEC),
                                 .tv_nsec = (long)(next % LLM_NS_PER_SEC)};
        while (!m->stopping && llm_now_ns() < next)
            pthread_cond_timedwait(&m->wake, &m->lock, &until);
    }
    pthread_mutex_unlock(&m->lock);
    curl_slist_free_all(headers);
    if (c)
        curl_easy_cleanup(c);
    return NULL;
}

srvmon *srvmon_start(const llm_config *cfg, const char *url, bool insist)
{
    srvmon *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->cfg = cfg;
    m->insist = insist;
    m->multi = curl_multi_init();
    llm_strlcpy(m->url, url, sizeof m->url);
    llm_url_without_userinfo(url, m->reading.url, sizeof m->reading.url);
    llm_scrub_key(m->reading.url, sizeof m->reading.url, cfg->api_key);
    prom_parse("", 0, &m->reading.fig);
    pthread_mutex_init(&m->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* llm_now_ns is monotonic */
    pthread_cond_init(&m->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&m->thread, NULL, poller, m) != 0) {
        pthread_cond_destroy(&m->wake);
        pthread_mutex_destroy(&m->lock);
        curl_multi_cleanup(m->multi);
        free(m);
        return NULL;
    }
    return m;
}

void srvmon_read(srvmon *m, srvmon_reading *out)
{
    pthread_mutex_lock(&m->lock);
    *out = m->reading;
    pthread_mutex_unlock(&m->lock);
}

void srvmon_stop(srvmon *m)
{
    if (!m)
        return;
    atomic_store_explicit(&m->abort, true, memory_order_release);
    if (m->multi)
        curl_multi_wakeup(m->multi);
    pthread_mutex_lock(&m->lock);
    m->stopping = true;
    pthread_cond_signal(&m->wake);
    pthread_mutex_unlock(&m->lock);
    pthread_join(m->thread, NULL);
    pthread_cond_destroy(&m->wake);
    pthread_mutex_destroy(&m->lock);
    curl_multi_cleanup(m->multi);
    free(m->body);
    free(m);
}
