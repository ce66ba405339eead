/* sim: the simulator's life cycle: options, binding, its loop (on a thread for sim_start, in
 * the foreground for sim_main), the per-tick flush, and a shutdown that closes every handle. */
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "base/util.h"
#include "sim/sim_internal.h"

void sim_options_default(sim_options *o)
{
    memset(o, 0, sizeof *o);
    llm_strlcpy(o->host, "127.0.0.1", sizeof o->host);
    o->port = 8000;
    o->slots = 8;
    o->base_latency_s = 0.02;
    o->prefill_rate = 5000;
    o->decode_rate = 50;
    o->batch_penalty = 0.05;
    o->default_max_tokens = 256;
    o->mean_output = 0;
    llm_strlcpy(o->model, "llmload-sim", sizeof o->model);
    o->seed = 1;
    o->stall_s = 5;
    o->close_after_stream_ms = -1;
}

static int options_check(const sim_options *o, char *err, size_t errlen)
{
    const char *bad = o->slots < 1                     ? "--slots must be at least 1"
                      : !(o->decode_rate > 0)          ? "--decode-rate must be above 0"
                      : !(o->prefill_rate > 0)         ? "--prefill-rate must be above 0"
                      : o->default_max_tokens < 1      ? "--max-tokens must be at least 1"
                      : o->port < 0 || o->port > 65535 ? "--port must be 0..65535"
                      : !o->model[0]                   ? "--model must not be empty"
                      : o->close_after_stream_ms < -1  ? "--close-after-stream must be 0 or more"
                                                       : NULL;
    if (bad)
        snprintf(err, errlen, "%s", bad);
    return bad ? -1 : 0;
}

/* ---- per-tick work ---- */

/* Connections written per phase. A tick that released thousands of tokens (a late timer
 * catches up) is written a chunk at a time with the poll phase between chunks, so a request
 * that arrives meanwhile is read within a chunk's time, not after the whole tick's writes
 * (bench/RESULTS.md §5). */
#define FLUSH_CHUNK 64

static void on_idle(uv_idle_t *h)
{
    (void)h; /* only keeps the poll phase from blocking while output waits */
}

/* Before the loop blocks (after timers and write callbacks), and after I/O callbacks: the
 * connections that got output are written once each, oldest first, a chunk per phase; the
 * timer follows the heap. */
static void flush_some(sim_server *s)
{
    bool more = conn_flush_dirty(s, FLUSH_CHUNK);
    if (more && !uv_is_active((uv_handle_t *)&s->idle))
        uv_idle_start(&s->idle, on_idle);
    else if (!more && uv_is_active((uv_handle_t *)&s->idle))
        uv_idle_stop(&s->idle);
    model_rearm(s);
}

static void on_prepare(uv_prepare_t *h)
{
    flush_some(h->data);
}

static void on_check(uv_check_t *h)
{
    flush_some(h->data);
}

static void server_shutdown(sim_server *s)
{
    if (s->stopping)
        return;
    s->stopping = true;
    uv_close((uv_handle_t *)&s->listener, NULL);
    ptimer_close(&s->timer);
    uv_close((uv_handle_t *)&s->prepare, NULL);
    uv_close((uv_handle_t *)&s->check, NULL);
    uv_close((uv_handle_t *)&s->idle, NULL);
    uv_close((uv_handle_t *)&s->stop_async, NULL);
    if (s->signals) {
        uv_close((uv_handle_t *)&s->sigint, NULL);
        uv_close((uv_handle_t *)&s->sigterm, NULL);
    }
    conn_close_all(s);
}

static void on_stop(uv_async_t *h)
{
    server_shutdown(h->data);
}

static void on_signal(uv_signal_t *h, int signum)
{
    (void)signum;
    server_shutdown(h->data);
}

/* ---- binding ---- */

static int resolve(const char *host, int port, struct sockaddr_storage *ss)
{
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0)
        return 0;
    if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0)
        return 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (getaddrinfo(host, NULL, &hints, &ai) != 0 || !ai)
        return -1;
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
    freeaddrinfo(ai);
    return 0;
}

static void bind_error(const sim_options *o, int rc, char *err, size_t errlen)
{
    if (rc == UV_EADDRINUSE)
        snprintf(err, errlen,
                 "port %d is in use: choose another with --port, or --port 0 for any free port",
                 o->port);
    else if (rc == UV_EACCES)
        snprintf(err, errlen, "port %d needs privileges: choose one above 1023 with --port",
                 o->port);
    else if (rc == UV_EADDRNOTAVAIL)
        snprintf(err, errlen, "%s is not an address of this machine: check --host", o->host);
    else
        snprintf(err, errlen, "cannot listen on %s port %d (%s): check --host and --port", o->host,
                 o->port, uv_strerror(rc));
}

static int server_listen(sim_server *s, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (resolve(s->opt.host, s->opt.port, &ss) != 0) {
        snprintf(err, errlen, "cannot resolve host %s: check --host", s->opt.host);
        return -1;
    }
    int rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->listener, 4096, http_on_connection);
    if (rc != 0) {
        bind_error(&s->opt, rc, err, errlen);
        return -1;
    }
    int len = sizeof ss;
    uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len);
    s->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                            : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

static void server_free(sim_server *s)
{
    uv_run(&s->loop, UV_RUN_DEFAULT); /* finishes every pending close */
    uv_loop_close(&s->loop);
    model_clear(s);
    cache_free(&s->cache);
    free(s);
}

/* A client that vanishes mid-write must not kill the process that hosts the simulator. */
static void ignore_sigpipe(void)
{
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
    }
}

static int server_handles_init(sim_server *s)
{
    if (ptimer_init(&s->timer, &s->loop, false, model_on_timer, s) != 0)
        return -1;
    uv_tcp_init(&s->loop, &s->listener);
    uv_prepare_init(&s->loop, &s->prepare);
    uv_check_init(&s->loop, &s->check);
    uv_idle_init(&s->loop, &s->idle);
    uv_async_init(&s->loop, &s->stop_async, on_stop);
    s->listener.data = s->prepare.data = s->check.data = s->idle.data = s;
    s->stop_async.data = s;
    uv_prepare_start(&s->prepare, on_prepare);
    uv_check_start(&s->check, on_check);
    return 0;
}

static int server_open(const sim_options *o, sim_server **out, char *err, size_t errlen)
{
    *out = NULL;
    if (options_check(o, err, errlen) != 0)
        return -1;
    sim_server *s = calloc(1, sizeof *s);
    if (!s || uv_loop_init(&s->loop) != 0) {
        free(s);
        snprintf(err, errlen, "out of memory starting the simulator");
        return -1;
    }
    s->opt = *o;
    if (cache_init(&s->cache, o->prefix_cache_tokens) != 0) {
        uv_loop_close(&s->loop);
        free(s);
        snprintf(err, errlen, "out of memory for a prefix cache of %ld tokens",
                 o->prefix_cache_tokens);
        return -1;
    }
    s->model_json_len = proto_json_string(o->model, s->model_json, sizeof s->model_json);
    http_settings_init(&s->settings);
    if (server_handles_init(s) != 0) {
        uv_loop_close(&s->loop);
        cache_free(&s->cache);
        free(s);
        snprintf(err, errlen, "cannot create the simulator's timer");
        return -1;
    }
    ignore_sigpipe();
    if (server_listen(s, err, errlen) != 0) {
        server_shutdown(s);
        server_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

/* ---- the public API ---- */

static void server_thread(void *arg)
{
    sim_server *s = arg;
    uv_run(&s->loop, UV_RUN_DEFAULT);
}

int sim_start(const sim_options *o, sim_server **out, char *err, size_t errlen)
{
    sim_server *s;
    if (server_open(o, &s, err, errlen) != 0) {
        *out = NULL;
        return -1;
    }
    if (uv_thread_create(&s->thread, server_thread, s) != 0) {
        server_shutdown(s);
        server_free(s);
        snprintf(err, errlen, "cannot start the simulator thread");
        *out = NULL;
        return -1;
    }
    *out = s;
    return 0;
}

int sim_port(const sim_server *s)
{
    return s ? s->port : 0;
}

void sim_stop(sim_server *s)
{
    if (!s)
        return;
    uv_async_send(&s->stop_async);
    uv_thread_join(&s->thread);
    server_free(s);
}

/* Thousands of client connections need thousands of descriptors. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void print_banner(const sim_server *s)
{
    const sim_options *o = &s->opt;
    bool v6 = strchr(o->host, ':') != NULL;
    printf("llmload sim: listening on http://%s%s%s:%d/v1\n", v6 ? "[" : "", o->host, v6 ? "]" : "",
           s->port);
    printf("llmload sim: model %s: %d slots, %g tok/s per sequence (batch penalty %g), "
           "prefill %g tok/s, base latency %g ms, max_tokens %ld, ",
           s->model_json, o->slots, o->decode_rate, o->batch_penalty, o->prefill_rate,
           o->base_latency_s * 1e3, o->default_max_tokens);
    if (o->mean_output > 0)
        printf("mean output %g tokens", o->mean_output);
    else
        printf("output = max_tokens");
    printf(", seed %llu%s\n", (unsigned long long)o->seed,
           o->api_key[0] ? ", API key required" : "");
    if (o->error_rate_pct > 0 || o->cut_rate_pct > 0 || o->malformed_rate_pct > 0 ||
        o->stall_rate_pct > 0 || o->slow_headers_s > 0)
        printf("llmload sim: faults: errors %g%%, cut %g%%, malformed %g%%, stalls %g%% of %g s, "
               "slow headers %g s\n",
               o->error_rate_pct, o->cut_rate_pct, o->malformed_rate_pct, o->stall_rate_pct,
               o->stall_s, o->slow_headers_s);
    if (o->close_after_stream_ms >= 0)
        printf("llmload sim: keep-alive connections close %d ms after each stream\n",
               o->close_after_stream_ms);
    if (o->no_done)
        printf("llmload sim: streams end without [DONE] and stay open\n");
    fflush(stdout);
}

int sim_main(const sim_options *o)
{
    char err[256];
    sim_server *s;
    raise_fd_limit();
    if (server_open(o, &s, err, sizeof err) != 0) {
        fprintf(stderr, "llmload sim: %s\n", err);
        return 2;
    }
    uv_signal_init(&s->loop, &s->sigint);
    uv_signal_init(&s->loop, &s->sigterm);
    s->sigint.data = s->sigterm.data = s;
    uv_signal_start(&s->sigint, on_signal, SIGINT);
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);
    s->signals = true;
    print_banner(s);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    server_free(s);
    if (!o->quiet)
        fprintf(stderr, "llmload sim: stopped\n");
    return 0;
}
