/* run/watch_net: the fleet's HTTP (see watch_net.h). One easy handle per worker for its
 * /metrics (a poll never overlaps the previous one of the same worker); one per control
 * request, freed when it ends. A control round counts its answers and, once every worker
 * has answered, leaves one note saying what happened. */
#include "run/watch_net.h"

#include <curl/curl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

#ifndef LLMLOAD_VERSION
#define LLMLOAD_VERSION "0.0.0"
#endif

#define POLL_NS LLM_NS_PER_SEC
#define POLL_TIMEOUT_MS 900L /* a poll ends before the next is due */
#define CONNECT_TIMEOUT_MS 500L
#define CONTROL_TIMEOUT_MS 3000L
#define BODY_MAX (1u << 20) /* a worker's page is ~15 kB */
#define NOTES 32
#define ROUNDS 8

typedef struct watch_xfer watch_xfer;

/* One control round: a key sent to every worker. */
typedef struct {
    char what[64]; /* "target +1 on each worker" */
    size_t sent, done, ok, unauthorized, forbidden, failed;
    char first_failure[160];
} control_round;

struct watch_xfer {
    watch_net *net;
    CURL *easy;
    size_t worker;
    int round; /* control round; -1 = a /metrics poll */
    bool busy;
    char *body;
    size_t len, cap;
    bool too_big;
    char errbuf[CURL_ERROR_SIZE];
    struct curl_slist *headers;
    watch_xfer *next; /* control transfers in flight: a list, for watch_net_close */
};

struct watch_net {
    CURLM *multi;
    char *token; /* NULL = no control */
    watch_worker *workers;
    watch_xfer *polls; /* one per worker */
    size_t n;
    uint64_t next_round_ns;
    size_t polls_pending;
    bool round_open, ever_up;
    watch_xfer *controls; /* in flight */
    control_round rounds[ROUNDS];
    int next_round_slot;
    watch_note notes[NOTES];
    size_t note_head, note_n;
};

/* ---- notes ---- */

static void note_add(watch_net *n, bool bad, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note_add(watch_net *n, bool bad, const char *fmt, ...)
{
    watch_note *slot = &n->notes[(n->note_head + n->note_n) % NOTES];
    if (n->note_n == NOTES)
        n->note_head = (n->note_head + 1) % NOTES; /* the oldest goes */
    else
        n->note_n++;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(slot->text, sizeof slot->text, fmt, ap);
    va_end(ap);
    llm_scrub_key(slot->text, sizeof slot->text, n->token);
    slot->bad = bad;
}

bool watch_net_note(watch_net *n, watch_note *out)
{
    if (!n->note_n)
        return false;
    *out = n->notes[n->note_head];
    n->note_head = (n->note_head + 1) % NOTES;
    n->note_n--;
    return true;
}

/* ---- transfers ---- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    watch_xfer *x = user;
    size_t len = size * nmemb;
    if (x->len + len + 1 > BODY_MAX) {
        x->too_big = true;
        return 0;
    }
    if (x->len + len + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 32 * 1024;
        while (cap < x->len + len + 1)
            cap *= 2;
        char *grown = realloc(x->body, cap);
        if (!grown)
            return 0;
        x->body = grown;
        x->cap = cap;
    }
    memcpy(x->body + x->len, data, len);
    x->len += len;
    x->body[x->len] = '\0';
    return len;
}

/* Sets up x->easy for url; false when curl cannot. */
static bool xfer_setup(watch_xfer *x, const char *url, long timeout_ms)
{
    if (!x->easy && !(x->easy = curl_easy_init()))
        return false;
    CURL *c = x->easy;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "llmload/" LLMLOAD_VERSION " watch");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(c, CURLOPT_PRIVATE, x);
    x->len = 0;
    x->too_big = false;
    x->errbuf[0] = '\0';
    return true;
}

static bool xfer_start(watch_net *n, watch_xfer *x)
{
    if (curl_multi_add_handle(n->multi, x->easy) != CURLM_OK)
        return false;
    x->busy = true;
    return true;
}

/* Why a transfer failed, as a phrase; "" when it answered. */
static void xfer_failure(const watch_xfer *x, CURLcode rc, char *out, size_t cap)
{
    out[0] = '\0';
    if (x->too_big)
        snprintf(out, cap, "its answer is over 1 MiB: not an llmload worker");
    else if (rc != CURLE_OK)
        llm_strlcpy(out, x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc), cap);
}

/* ---- polls ---- */

static void start_round(watch_net *n)
{
    char url[WATCH_URL_MAX + 16];
    for (size_t i = 0; i < n->n; i++) {
        watch_xfer *x = &n->polls[i];
        if (x->busy)
            continue;
        snprintf(url, sizeof url, "%s/metrics", n->workers[i].base);
        if (!xfer_setup(x, url, POLL_TIMEOUT_MS) || !xfer_start(n, x)) {
            watch_worker_fail(&n->workers[i], "cannot start a transfer (out of memory)");
            continue;
        }
        n->polls_pending++;
    }
    n->round_open = true;
}

static void poll_done(watch_net *n, watch_xfer *x, CURLcode rc)
{
    watch_worker *w = &n->workers[x->worker];
    char why[WATCH_ERR_MAX];
    long status = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    xfer_failure(x, rc, why, sizeof why);
    watch_figures fig;
    if (!why[0] && status != 200)
        snprintf(why, sizeof why, "HTTP %ld from /metrics: is it a worker's --listen address?",
                 status);
    if (!why[0] && watch_read(x->body ? x->body : "", x->len, &fig, why, sizeof why)) {
        if (w->link == WATCH_LINK_DOWN)
            note_add(n, false, "%s is up again", w->shown);
        watch_worker_read(w, &fig, llm_now_ns());
        n->ever_up = true;
        return;
    }
    if (w->link != WATCH_LINK_DOWN) /* once: the worker's row shows the latest reason */
        note_add(n, true, "%s down: %s", w->shown, why);
    watch_worker_fail(w, why);
}

/* ---- control ---- */

static const char *cmd_path(const watch_net *n, watch_cmd cmd, bool *resume)
{
    *resume = false;
    switch (cmd) {
    case WATCH_CMD_UP:
        return "adjust?value=1";
    case WATCH_CMD_DOWN:
        return "adjust?value=-1";
    case WATCH_CMD_NEXT:
        return "next";
    case WATCH_CMD_PAUSE:
        break;
    }
    /* resume only when every worker up is paused: the fleet ends in one state */
    size_t up = 0, paused = 0;
    for (size_t i = 0; i < n->n; i++)
        if (n->workers[i].link == WATCH_LINK_UP) {
            up++;
            paused += n->workers[i].fig.state == ENGINE_PAUSED;
        }
    *resume = up > 0 && paused == up;
    return *resume ? "resume" : "pause";
}

static void round_finish(watch_net *n, control_round *r)
{
    if (r->ok == r->sent) {
        note_add(n, false, "%s: %zu of %zu accepted", r->what, r->ok, r->sent);
        return;
    }
    char detail[WATCH_NOTE_LEN] = "";
    size_t len = 0;
    if (r->unauthorized)
        len += (size_t)snprintf(detail + len, sizeof detail - len,
                                "; %zu refused the token (401): wrong --control-token",
                                r->unauthorized);
    if (r->forbidden && len < sizeof detail)
        len += (size_t)snprintf(detail + len, sizeof detail - len,
                                "; %zu have control off (403: no --control-token there)",
                                r->forbidden);
    if (r->failed && len < sizeof detail)
        snprintf(detail + len, sizeof detail - len, "; %zu failed (%s)", r->failed,
                 r->first_failure);
    note_add(n, true, "%s: %zu of %zu accepted%s", r->what, r->ok, r->sent, detail);
}

static void control_done(watch_net *n, watch_xfer *x, CURLcode rc)
{
    control_round *r = &n->rounds[x->round];
    char why[160];
    long status = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    xfer_failure(x, rc, why, sizeof why);
    if (!why[0] && status == 202)
        r->ok++;
    else if (!why[0] && status == 401)
        r->unauthorized++;
    else if (!why[0] && status == 403)
        r->forbidden++;
    else {
        if (!why[0]) { /* the worker's one-line reason, e.g. a command it does not know */
            size_t k = x->body ? strcspn(x->body, "\r\n") : 0;
            snprintf(why, sizeof why, "HTTP %ld%s%.*s", status, k ? ": " : "",
                     (int)(k < 100 ? k : 100), x->body ? x->body : "");
        }
        if (!r->failed++)
            snprintf(r->first_failure, sizeof r->first_failure, "%.60s: %.90s",
                     n->workers[x->worker].shown, why);
    }
    if (++r->done == r->sent)
        round_finish(n, r);
}

static void control_unlink(watch_net *n, watch_xfer *x)
{
    for (watch_xfer **p = &n->controls; *p; p = &(*p)->next)
        if (*p == x) {
            *p = x->next;
            return;
        }
}

static void control_free(watch_xfer *x)
{
    curl_slist_free_all(x->headers);
    curl_easy_cleanup(x->easy);
    free(x->body);
    free(x);
}

/* One POST to worker i; false when it could not start. */
static bool control_start(watch_net *n, size_t i, const char *path, int round)
{
    watch_xfer *x = calloc(1, sizeof *x);
    char url[WATCH_URL_MAX + 64], auth[600];
    if (!x)
        return false;
    x->net = n;
    x->worker = i;
    x->round = round;
    snprintf(url, sizeof url, "%s/control/%s", n->workers[i].base, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", n->token);
    x->headers = curl_slist_append(NULL, auth);
    memset(auth, 0, sizeof auth);
    if (!x->headers || !xfer_setup(x, url, CONTROL_TIMEOUT_MS)) {
        control_free(x);
        return false;
    }
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, 0L);
    if (!xfer_start(n, x)) {
        control_free(x);
        return false;
    }
    x->next = n->controls;
    n->controls = x;
    return true;
}

bool watch_net_send(watch_net *n, watch_cmd cmd, char *note, size_t cap)
{
    static const char *const what[] = {"target +1", "target -1", "", "next step"};
    if (!n->token) {
        snprintf(note, cap, "not sent: watch has no --control-token (give it the workers' token)");
        return false;
    }
    bool resume;
    const char *path = cmd_path(n, cmd, &resume);
    int slot = n->next_round_slot;
    n->next_round_slot = (slot + 1) % ROUNDS;
    control_round *r = &n->rounds[slot];
    memset(r, 0, sizeof *r);
    if (cmd == WATCH_CMD_PAUSE)
        snprintf(r->what, sizeof r->what, "%s", resume ? "resume" : "pause");
    else
        snprintf(r->what, sizeof r->what, "%s", what[cmd]);
    size_t at_one = 0, down = 0;
    for (size_t i = 0; i < n->n; i++) {
        const watch_worker *w = &n->workers[i];
        if (w->link == WATCH_LINK_DOWN) {
            down++; /* its row says why; it gets the next key once it is back */
            continue;
        }
        if (cmd == WATCH_CMD_DOWN && w->link == WATCH_LINK_UP && w->fig.target <= 1) {
            at_one++; /* the floor of one user, as the run's own `-` keeps */
            continue;
        }
        if (control_start(n, i, path, slot))
            r->sent++;
        else
            note_add(n, true, "%s: cannot send to %s (out of memory)", r->what, w->shown);
    }
    snprintf(note, cap, "%s sent to %zu worker%s%s%s", r->what, r->sent, r->sent == 1 ? "" : "s",
             down ? " (not to the workers down)" : "", at_one ? " (not to those at target 1)" : "");
    if (r->sent == 0)
        r->done = r->sent = 1, r->ok = 1; /* nothing to wait for */
    return true;
}

/* ---- the loop ---- */

static void drain(watch_net *n)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(n->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        watch_xfer *x = NULL;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(n->multi, easy);
        x->busy = false;
        if (x->round >= 0) {
            control_done(n, x, rc);
            control_unlink(n, x);
            control_free(x);
        } else {
            poll_done(n, x, rc);
            n->polls_pending--;
        }
    }
}

bool watch_net_step(watch_net *n, int wait_ms, int fd, bool *fd_ready)
{
    *fd_ready = false;
    uint64_t now = llm_now_ns();
    if (now >= n->next_round_ns) {
        start_round(n);
        n->next_round_ns += POLL_NS;
        if (n->next_round_ns <= now) /* a stall: no catching up */
            n->next_round_ns = now + POLL_NS;
    }
    int running;
    curl_multi_perform(n->multi, &running);
    drain(n);
    now = llm_now_ns();
    long until = now < n->next_round_ns ? (long)((n->next_round_ns - now) / LLM_NS_PER_MS) : 0;
    if (until < wait_ms)
        wait_ms = (int)until;
    struct curl_waitfd wfd = {.fd = fd, .events = CURL_WAIT_POLLIN, .revents = 0};
    int numfds = 0;
    curl_multi_poll(n->multi, fd >= 0 ? &wfd : NULL, fd >= 0 ? 1 : 0, wait_ms > 0 ? wait_ms : 0,
                    &numfds);
    *fd_ready = fd >= 0 && (wfd.revents & CURL_WAIT_POLLIN);
    curl_multi_perform(n->multi, &running);
    drain(n);
    if (n->round_open && n->polls_pending == 0) {
        n->round_open = false;
        return true;
    }
    return false;
}

/* ---- life ---- */

const watch_worker *watch_net_workers(const watch_net *n, size_t *count)
{
    *count = n->n;
    return n->workers;
}

void watch_net_fleet(const watch_net *n, watch_fleet *out)
{
    watch_fleet_sum(n->workers, n->n, out);
}

bool watch_net_ever_up(const watch_net *n)
{
    return n->ever_up;
}

int watch_net_open(const llm_config *cfg, watch_net **out, char *err, size_t errlen)
{
    *out = NULL;
    if (cfg->n_files == 0) {
        snprintf(err, errlen,
                 "watch needs at least one worker URL: llmload watch http://HOST:PORT... (each "
                 "an `llmload run --listen` address)");
        return -1;
    }
    watch_net *n = calloc(1, sizeof *n);
    if (n) {
        n->n = cfg->n_files;
        n->workers = calloc(n->n, sizeof *n->workers);
        n->polls = calloc(n->n, sizeof *n->polls);
        n->multi = curl_multi_init();
        n->token = cfg->control_token ? strdup(cfg->control_token) : NULL;
    }
    if (!n || !n->workers || !n->polls || !n->multi || (cfg->control_token && !n->token)) {
        snprintf(err, errlen, "out of memory");
        watch_net_close(n);
        return -1;
    }
    for (size_t i = 0; i < n->n; i++) {
        char base[WATCH_URL_MAX];
        if (watch_url_base(cfg->files[i], base, sizeof base, err, errlen) != 0) {
            watch_net_close(n);
            return -1;
        }
        watch_worker_init(&n->workers[i], base);
        n->polls[i] = (watch_xfer){.net = n, .worker = i, .round = -1};
    }
    n->next_round_ns = llm_now_ns();
    *out = n;
    return 0;
}

void watch_net_close(watch_net *n)
{
    if (!n)
        return;
    while (n->controls) {
        watch_xfer *x = n->controls;
        n->controls = x->next;
        curl_multi_remove_handle(n->multi, x->easy);
        control_free(x);
    }
    for (size_t i = 0; n->polls && i < n->n; i++) {
        if (n->polls[i].busy)
            curl_multi_remove_handle(n->multi, n->polls[i].easy);
        curl_easy_cleanup(n->polls[i].easy);
        free(n->polls[i].body);
    }
    curl_multi_cleanup(n->multi);
    if (n->token) {
        memset(n->token, 0, strlen(n->token));
        free(n->token);
    }
    free(n->polls);
    free(n->workers);
    free(n);
}
