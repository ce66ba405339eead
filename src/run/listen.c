/* listen: one thread, one connection at a time (a scrape or a command is one short request):
 * poll() on the listening socket and a wake-up pipe, read one request (bounded in size and
 * time), parse it with http_parser, answer, close. The figures it serves are the consumer's
 * copy under `mu`; the commands it takes wait in a small queue under the same mutex. */
#include "run/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <http_parser.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/util.h"
#include "config/cli_scale.h"

#ifndef LLMLOAD_VERSION
#define LLMLOAD_VERSION "0.0.0"
#endif

#define LISTEN_QUEUE 64      /* commands waiting for the consumer */
#define LISTEN_REQ_MAX 16384 /* a larger request is refused (413) */
#define LISTEN_READ_MS 2000  /* a client that sends nothing for this long is dropped */
#define LISTEN_TOKEN_MAX 512

struct listen_srv {
    int fd, wake[2];
    pthread_t thread;
    bool started;
    char *token;
    pthread_mutex_t mu; /* guards figures and the queue */
    listen_figures *figures;
    engine_cmd queue[LISTEN_QUEUE];
    size_t q_head, q_len;
};

/* ---- text building ---- */

typedef struct {
    char *p;
    size_t len, cap;
    bool failed;
} tbuf;

static void tb_printf(tbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tb_printf(tbuf *b, const char *fmt, ...)
{
    for (int tries = 0; tries < 2 && !b->failed; tries++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if (b->p && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap : 16384;
        while (cap <= b->len + (size_t)n)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

/* ---- the Prometheus text ---- */

/* The le edges (µs): 1 µs to 64 µs by powers of two, then four per power of two up to 2^36
 * µs (19 h). Each is an edge of core/hist's buckets, so the cumulative counts are exact: le
 * counts the values below the edge in whole microseconds. The set is fixed, so the series of
 * every worker line up for sum by (le). */
static size_t edges_us(uint64_t *out, size_t cap)
{
    size_t n = 0;
    for (uint64_t e = 1; e < 128 && n < cap; e *= 2)
        out[n++] = e;
    for (int k = 7; k < 36; k++)
        for (uint64_t j = 0; j < 4 && n < cap; j++)
            out[n++] = ((uint64_t)1 << k) + j * ((uint64_t)1 << k) / 4;
    if (n < cap)
        out[n++] = (uint64_t)1 << 36;
    return n;
}

static void render_hist(tbuf *b, const char *name, const char *help, const hist *h)
{
    uint64_t edges[160];
    size_t n_edges = edges_us(edges, 160), i = 0;
    uint64_t below = 0;
    tb_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (size_t k = 0; k < n_edges; k++) {
        while (i < HIST_BUCKETS && hist_bucket_high(i) <= edges[k])
            below += h->counts[i++];
        tb_printf(b, "%s_bucket{le=\"%.6g\"} %llu\n", name, (double)edges[k] / 1e6,
                  (unsigned long long)below);
    }
    tb_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
              (unsigned long long)h->total, name, h->sum / 1e6, name, (unsigned long long)h->total);
}

const char *listen_state_name(engine_state s)
{
    static const char *const names[] = {"starting", "warmup",   "running", "paused",
                                        "cooldown", "draining", "done"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "unknown";
}

static void gauge(tbuf *b, const char *name, const char *type, const char *help, double v)
{
    tb_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
}

static void render_requests(tbuf *b, const listen_figures *f)
{
    tb_printf(b, "# HELP llmload_requests_total Requests that ended, by class: ok, or the "
                 "error class.\n# TYPE llmload_requests_total counter\n");
    tb_printf(b, "llmload_requests_total{class=\"ok\"} %llu\n", (unsigned long long)f->ok);
    for (int c = 0; c < ERR_CLASSES; c++)
        tb_printf(b, "llmload_requests_total{class=\"%s\"} %llu\n", err_class_name((err_class)c),
                  (unsigned long long)f->errors[c]);
}

static void render_state(tbuf *b, const listen_figures *f)
{
    tb_printf(b, "# HELP llmload_state The engine's state (1 for the current one).\n"
                 "# TYPE llmload_state gauge\n");
    for (int s = ENGINE_STARTING; s <= ENGINE_DONE; s++)
        tb_printf(b, "llmload_state{state=\"%s\"} %d\n", listen_state_name((engine_state)s),
                  f->state == (engine_state)s);
}

char *listen_render(const listen_figures *f)
{
    tbuf b = {0};
    tb_printf(&b,
              "# HELP llmload_info This worker: version and shard.\n# TYPE llmload_info "
              "gauge\nllmload_info{version=\"%s\",shard=\"%ld\",shards=\"%ld\"} 1\n",
              LLMLOAD_VERSION, f->shard_count ? f->shard_index : 0,
              f->shard_count ? f->shard_count : 1);
    gauge(&b, "llmload_up", "gauge", "1 once the run has published its first figures.", f->valid);
    render_requests(&b, f);
    gauge(&b, "llmload_requests_cut_total", "counter",
          "Requests still in flight when the run ended (neither ok nor failed).", (double)f->cut);
    gauge(&b, "llmload_output_tokens_total", "counter",
          "Output tokens of the requests that completed.", (double)f->output_tokens);
    gauge(&b, "llmload_prompt_tokens_total", "counter",
          "Prompt tokens of the requests that completed.", (double)f->prompt_tokens);
    gauge(&b, "llmload_inflight", "gauge", "Requests in flight now.", f->inflight);
    gauge(&b, "llmload_target", "gauge", "Users (or in-flight cap) the load aims at now.",
          f->target);
    gauge(&b, "llmload_step", "gauge", "The plan step running, from 1.", f->step + 1.0);
    gauge(&b, "llmload_steps", "gauge", "Steps in the plan (so far, in a search).", f->n_steps);
    gauge(&b, "llmload_manual", "gauge", "1 while a hand-set target holds the load.", f->manual);
    gauge(&b, "llmload_lost_events_total", "counter",
          "Events the engine could not publish: the figures are incomplete when > 0.",
          (double)f->lost_events);
    render_state(&b, f);
    render_hist(&b, "llmload_ttft_seconds", "Time to first token of completed requests.", &f->ttft);
    render_hist(&b, "llmload_e2e_seconds", "End-to-end latency of completed requests.", &f->e2e);
    render_hist(&b, "llmload_itl_seconds", "Gaps between content events of one request.", &f->itl);
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ---- control ---- */

static int parse_value(const char *value, long *out, bool signed_ok)
{
    if (!value || !*value)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    while (*end == ' ' || *end == '\n' || *end == '\r')
        end++;
    if (errno || *end || end == value || (!signed_ok && v < 0) || v > 100000 || v < -100000)
        return -1;
    *out = v;
    return 0;
}

int listen_parse_command(const char *name, const char *value, engine_cmd *out, char *err,
                         size_t errlen)
{
    static const struct {
        const char *name;
        int kind;
    } plain[] = {{"pause", ENGINE_CMD_PAUSE},
                 {"resume", ENGINE_CMD_RESUME},
                 {"next", ENGINE_CMD_NEXT_STEP},
                 {"stop", ENGINE_CMD_STOP},
                 {"plan", ENGINE_CMD_PLAN_CONTROL}};
    *out = (engine_cmd){0};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (strcmp(name, plain[i].name) == 0) {
            out->kind = plain[i].kind;
            return 0;
        }
    bool set = strcmp(name, "target") == 0, adjust = strcmp(name, "adjust") == 0;
    if (!set && !adjust) {
        snprintf(err, errlen,
                 "unknown command \"%.40s\": use pause, resume, next, stop, plan, "
                 "target?value=N or adjust?value=+N|-N",
                 name);
        return -1;
    }
    long v;
    if (parse_value(value, &v, adjust) != 0 || (set && v < 1)) {
        snprintf(err, errlen, "%s needs value=%s (in the query or as the body)", name,
                 set ? "N, a whole number of users from 1" : "N, a change of users like 4 or -4");
        return -1;
    }
    out->kind = set ? ENGINE_CMD_SET_TARGET : ENGINE_CMD_ADJUST_TARGET;
    out->value = v;
    return 0;
}

bool listen_token_ok(const char *header, const char *token)
{
    if (!header || !token || strncasecmp(header, "Bearer ", 7) != 0)
        return false;
    const char *given = header + 7;
    size_t ng = strlen(given), nt = strlen(token);
    unsigned diff = (unsigned)(ng ^ nt);
    for (size_t i = 0; i < nt; i++) /* same time whatever the first difference */
        diff |= (unsigned)(token[i] ^ given[i < ng ? i : 0]);
    return diff == 0;
}

/* ---- one request ---- */

typedef struct {
    char url[512];
    size_t url_len;
    char field[32];
    size_t field_len;
    bool in_value, is_auth;
    char auth[LISTEN_TOKEN_MAX];
    size_t auth_len;
    char body[64];
    size_t body_len;
    bool done;
} req;

static void append(char *dst, size_t *len, size_t cap, const char *at, size_t n)
{
    if (n > cap - 1 - *len)
        n = cap - 1 - *len;
    memcpy(dst + *len, at, n);
    *len += n;
    dst[*len] = '\0';
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    req *r = p->data;
    append(r->url, &r->url_len, sizeof r->url, at, n);
    return 0;
}

static int on_field(http_parser *p, const char *at, size_t n)
{
    req *r = p->data;
    if (r->in_value) {
        r->in_value = false;
        r->field_len = 0;
        r->field[0] = '\0';
    }
    append(r->field, &r->field_len, sizeof r->field, at, n);
    return 0;
}

static int on_value(http_parser *p, const char *at, size_t n)
{
    req *r = p->data;
    if (!r->in_value) {
        r->in_value = true;
        r->is_auth = strcasecmp(r->field, "authorization") == 0;
        if (r->is_auth)
            r->auth_len = 0;
    }
    if (r->is_auth)
        append(r->auth, &r->auth_len, sizeof r->auth, at, n);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    req *r = p->data;
    append(r->body, &r->body_len, sizeof r->body, at, n);
    return 0;
}

static int on_complete(http_parser *p)
{
    ((req *)p->data)->done = true;
    return 0;
}

static void reply(int fd, int status, const char *reason, const char *type, const char *extra,
                  const char *body, size_t len)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                     "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                     status, reason, type, len, extra ? extra : "");
    if (n > 0 && (size_t)n < sizeof head && send(fd, head, (size_t)n, MSG_NOSIGNAL) == n)
        for (size_t off = 0; off < len;) {
            ssize_t w = send(fd, body + off, len - off, MSG_NOSIGNAL);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
}

static void reply_text(int fd, int status, const char *reason, const char *extra, const char *msg)
{
    char body[400];
    int n = snprintf(body, sizeof body, "%s\n", msg);
    reply(fd, status, reason, "text/plain; charset=utf-8", extra, body,
          n > 0 && (size_t)n < sizeof body ? (size_t)n : strlen(body));
}

static void serve_metrics(listen_srv *l, int fd)
{
    listen_figures *copy = malloc(sizeof *copy);
    char *text = NULL;
    if (copy) {
        pthread_mutex_lock(&l->mu);
        memcpy(copy, l->figures, sizeof *copy);
        pthread_mutex_unlock(&l->mu);
        text = listen_render(copy);
        free(copy);
    }
    if (!text) {
        reply_text(fd, 503, "Service Unavailable", NULL, "out of memory");
        return;
    }
    reply(fd, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", NULL, text, strlen(text));
    free(text);
}

static bool enqueue(listen_srv *l, engine_cmd c)
{
    pthread_mutex_lock(&l->mu);
    bool ok = l->q_len < LISTEN_QUEUE;
    if (ok)
        l->queue[(l->q_head + l->q_len++) % LISTEN_QUEUE] = c;
    pthread_mutex_unlock(&l->mu);
    return ok;
}

/* POST /control/NAME[?value=V]: the token first, then the command (the answer never echoes
 * the token or anything the run was given). */
static void serve_control(listen_srv *l, int fd, req *r, const char *name)
{
    if (!l->token) {
        reply_text(fd, 403, "Forbidden", NULL,
                   "control is off: start llmload with --control-token (or "
                   "--control-token-file) to accept commands");
        return;
    }
    if (!listen_token_ok(r->auth, l->token)) {
        reply_text(fd, 401, "Unauthorized", "WWW-Authenticate: Bearer realm=\"llmload\"\r\n",
                   "a control request needs \"Authorization: Bearer TOKEN\" with the worker's "
                   "--control-token");
        return;
    }
    char cmd[32], err[200];
    const char *q = strchr(name, '?');
    size_t n = q ? (size_t)(q - name) : strlen(name);
    snprintf(cmd, sizeof cmd, "%.*s", (int)(n < sizeof cmd ? n : sizeof cmd - 1), name);
    const char *value = q && strncmp(q + 1, "value=", 6) == 0 ? q + 7 : r->body;
    engine_cmd c;
    if (listen_parse_command(cmd, value, &c, err, sizeof err) != 0) {
        reply_text(fd, 400, "Bad Request", NULL, err);
        return;
    }
    if (!enqueue(l, c)) {
        reply_text(fd, 503, "Service Unavailable", NULL, "too many commands waiting; retry");
        return;
    }
    char body[96];
    int k = snprintf(body, sizeof body, "{\"accepted\":\"%s\",\"value\":%ld}\n", cmd, c.value);
    reply(fd, 202, "Accepted", "application/json", NULL, body, (size_t)k);
}

static void route(listen_srv *l, int fd, req *r, int method)
{
    if (strcmp(r->url, "/metrics") == 0) {
        if (method == HTTP_GET)
            serve_metrics(l, fd);
        else
            reply_text(fd, 405, "Method Not Allowed", "Allow: GET\r\n", "GET /metrics");
    } else if (strncmp(r->url, "/control/", 9) == 0) {
        if (method == HTTP_POST)
            serve_control(l, fd, r, r->url + 9);
        else
            reply_text(fd, 405, "Method Not Allowed", "Allow: POST\r\n",
                       "control commands are POST requests");
    } else if (strcmp(r->url, "/") == 0) {
        reply_text(fd, 200, "OK", NULL,
                   "llmload worker: GET /metrics (Prometheus text); POST /control/{pause,resume,"
                   "next,stop,plan,target?value=N,adjust?value=N} with a bearer token");
    } else {
        reply_text(fd, 404, "Not Found", NULL, "not found: GET /metrics or POST /control/...");
    }
}

static void serve_conn(listen_srv *l, int fd)
{
    static http_parser_settings st = {.on_url = on_url,
                                      .on_header_field = on_field,
                                      .on_header_value = on_value,
                                      .on_body = on_body,
                                      .on_message_complete = on_complete};
    req *r = calloc(1, sizeof *r);
    http_parser p;
    http_parser_init(&p, HTTP_REQUEST);
    p.data = r;
    size_t total = 0;
    char buf[4096];
    while (r && !r->done) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, LISTEN_READ_MS) <= 0)
            break;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        total += (size_t)n;
        size_t used = http_parser_execute(&p, &st, buf, (size_t)n);
        if (HTTP_PARSER_ERRNO(&p) != HPE_OK || used != (size_t)n) {
            reply_text(fd, 400, "Bad Request", NULL, "malformed HTTP request");
            break;
        }
        if (total > LISTEN_REQ_MAX) {
            reply_text(fd, 413, "Payload Too Large", NULL, "request too large");
            break;
        }
    }
    if (r && r->done)
        route(l, fd, r, (int)p.method);
    if (r)
        memset(r->auth, 0, sizeof r->auth);
    free(r);
    close(fd);
}

static void *listen_thread(void *arg)
{
    listen_srv *l = arg;
    for (;;) {
        struct pollfd pf[2] = {{.fd = l->fd, .events = POLLIN},
                               {.fd = l->wake[0], .events = POLLIN}};
        if (poll(pf, 2, -1) < 0 && errno != EINTR)
            break;
        if (pf[1].revents)
            break;
        if (!(pf[0].revents & POLLIN))
            continue;
        int c = accept(l->fd, NULL, NULL);
        if (c >= 0)
            serve_conn(l, c);
    }
    return NULL;
}

/* ---- life ---- */

static int bind_spec(const char *spec, int *port, char *err, size_t errlen)
{
    char host[SCALE_HOST_MAX], service[8];
    if (scale_parse_listen(spec, host, sizeof host, port) != 0) {
        snprintf(err, errlen, "--listen %s: not ADDR:PORT", spec);
        return -1;
    }
    snprintf(service, sizeof service, "%d", *port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
                    *ai = NULL;
    int e = getaddrinfo(host, service, &hints, &ai);
    if (e != 0) {
        snprintf(err, errlen, "--listen %s: %s", spec, gai_strerror(e));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0) {
        snprintf(err, errlen, "--listen %s: cannot listen there (%s); choose another port", spec,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        *port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

int listen_start(const char *spec, const char *token, listen_srv **out, int *port, char *err,
                 size_t errlen)
{
    *out = NULL;
    listen_srv *l = calloc(1, sizeof *l);
    if (l)
        l->fd = l->wake[0] = l->wake[1] = -1;
    if (!l || !(l->figures = calloc(1, sizeof *l->figures)) ||
        (token && !(l->token = strdup(token)))) {
        snprintf(err, errlen, "out of memory");
        listen_stop(l);
        return -1;
    }
    pthread_mutex_init(&l->mu, NULL);
    if ((l->fd = bind_spec(spec, port, err, errlen)) < 0 || pipe2(l->wake, O_CLOEXEC) != 0 ||
        pthread_create(&l->thread, NULL, listen_thread, l) != 0) {
        if (l->fd >= 0)
            snprintf(err, errlen, "--listen: cannot start its thread (%s)", strerror(errno));
        listen_stop(l);
        return -1;
    }
    l->started = true;
    *out = l;
    return 0;
}

void listen_publish(listen_srv *l, const listen_figures *f)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    memcpy(l->figures, f, sizeof *f);
    l->figures->valid = true;
    pthread_mutex_unlock(&l->mu);
}

bool listen_take(listen_srv *l, engine_cmd *out)
{
    if (!l)
        return false;
    pthread_mutex_lock(&l->mu);
    bool got = l->q_len > 0;
    if (got) {
        *out = l->queue[l->q_head];
        l->q_head = (l->q_head + 1) % LISTEN_QUEUE;
        l->q_len--;
    }
    pthread_mutex_unlock(&l->mu);
    return got;
}

void listen_stop(listen_srv *l)
{
    if (!l)
        return;
    if (l->started) {
        char b = 1;
        if (write(l->wake[1], &b, 1) < 0) { /* the pipe is ours and empty: cannot fail */
        }
        pthread_join(l->thread, NULL);
        pthread_mutex_destroy(&l->mu);
    }
    for (int i = 0; i < 2; i++)
        if (l->wake[i] >= 0)
            close(l->wake[i]);
    if (l->fd >= 0)
        close(l->fd);
    if (l->token) {
        memset(l->token, 0, strlen(l->token));
        free(l->token);
    }
    free(l->figures);
    free(l);
}
