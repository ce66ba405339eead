#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "testutil.h"

#include "engine/prompt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

const char *tu_tmpdir(void)
{
    static char slots[16][64];
    static int next;
    char *p = slots[next++ % 16];
    snprintf(p, 64, "/tmp/llmload-test-XXXXXX");
    return mkdtemp(p);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int tu_run(char *const argv[], char *const extra_env[], const char *cwd, double timeout_s,
           tu_result *res)
{
    return tu_run_signal(argv, extra_env, cwd, timeout_s, 0, 0, res);
}

int tu_run_signal(char *const argv[], char *const extra_env[], const char *cwd, double timeout_s,
                  int sig, double after_s, tu_result *res)
{
    memset(res, 0, sizeof *res);
    res->exit_code = -1;
    char out_path[] = "/tmp/llmload-out-XXXXXX", err_path[] = "/tmp/llmload-err-XXXXXX";
    int out_fd = mkstemp(out_path), err_fd = mkstemp(err_path);
    if (out_fd < 0 || err_fd < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out_fd, 1);
        dup2(err_fd, 2);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        if (cwd && chdir(cwd) != 0)
            _exit(127);
        for (size_t i = 0; extra_env && extra_env[i]; i++)
            putenv(extra_env[i]);
        execv(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    double start = now_s(), deadline = start + timeout_s, sent = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (sig && !sent && now_s() >= start + after_s) {
            kill(pid, sig);
            sent = now_s();
        }
        if (now_s() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            status = -1;
            break;
        }
        usleep(5000);
    }
    if (status != -1 && WIFEXITED(status))
        res->exit_code = WEXITSTATUS(status);
    res->elapsed_s = now_s() - start;
    res->after_signal_s = sent ? now_s() - sent : -1;
    close(out_fd);
    close(err_fd);
    res->out = tu_read_file(out_path, &res->out_len);
    res->err = tu_read_file(err_path, &res->err_len);
    unlink(out_path);
    unlink(err_path);
    return 0;
}

void tu_result_free(tu_result *res)
{
    free(res->out);
    free(res->err);
    res->out = res->err = NULL;
}

int tu_silent_port(int *holder)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *holder = fd;
    return ntohs(a.sin_port);
}

int tu_refusing_port(int *holder)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *holder = fd;
    return ntohs(a.sin_port);
}

uint64_t tu_rand(uint64_t *state)
{
    return prompt_rng_next(state); /* the engine's xorshift64* */
}

uint64_t tu_fuzz_seed(uint64_t fallback)
{
    const char *env = getenv("LLM_FUZZ_SEED");
    return env ? strtoull(env, NULL, 0) : fallback;
}

char *tu_mutate(uint64_t *rng, const char *in, size_t n, size_t *out_len)
{
    static const char interesting[] = "\n\r:\"{}[]\\\0\xEF\xBB\xBF ,0-e";
    size_t cap = 2 * n + 64, len = n;
    char *out = malloc(cap);
    if (!out)
        abort();
    memcpy(out, in, n);
    int edits = 1 + (int)(tu_rand(rng) % 8);
    for (int e = 0; e < edits; e++) {
        size_t at = len ? (size_t)(tu_rand(rng) % len) : 0;
        size_t span = 1 + (size_t)(tu_rand(rng) % 32);
        if (at + span > len)
            span = len - at;
        switch (tu_rand(rng) % 6) {
        case 0: /* flip a bit */
            if (len)
                out[at] = (char)(out[at] ^ (1u << (tu_rand(rng) % 8)));
            break;
        case 1: /* insert an interesting byte */
            if (len + 1 < cap) {
                memmove(out + at + 1, out + at, len - at);
                out[at] = interesting[tu_rand(rng) % (sizeof interesting - 1)];
                len++;
            }
            break;
        case 2: /* delete a range */
            memmove(out + at, out + at + span, len - at - span);
            len -= span;
            break;
        case 3: /* duplicate a range */
            if (len + span < cap) {
                memmove(out + at + span, out + at, len - at);
                len += span;
            }
            break;
        case 4: /* truncate */
            len = at;
            break;
        default: /* overwrite with a random byte */
            if (len)
                out[at] = (char)tu_rand(rng);
        }
    }
    *out_len = len;
    return out;
}

/* ---- the canned server ---- */

#define CANNED_CONNS 64

struct tu_canned {
    int listener, port;
    const char *reply;
    size_t len;
    int keepalive_once;
    pthread_t thread;
    atomic_bool stop;
    atomic_int accepts;
    struct {
        int fd;
        int answered;
        size_t got;
        char head[8192];
    } conn[CANNED_CONNS];
};

/* True once conn i holds a whole request: headers, then Content-Length bytes of body. */
static int canned_request_done(struct tu_canned *c, int i)
{
    char *end = memmem(c->conn[i].head, c->conn[i].got, "\r\n\r\n", 4);
    if (!end)
        return c->conn[i].got == sizeof c->conn[i].head; /* too large: answer anyway */
    *end = '\0';
    const char *cl = strcasestr(c->conn[i].head, "content-length:");
    size_t body = cl ? strtoul(cl + 15, NULL, 10) : 0;
    *end = '\r';
    return c->conn[i].got >= (size_t)(end + 4 - c->conn[i].head) + body;
}

static void canned_read(struct tu_canned *c, int i)
{
    char sink[4096];
    size_t room = sizeof c->conn[i].head - c->conn[i].got;
    char *dst = room ? c->conn[i].head + c->conn[i].got : sink;
    ssize_t n = recv(c->conn[i].fd, dst, room ? room : sizeof sink, 0);
    if (n <= 0) {
        close(c->conn[i].fd);
        c->conn[i].fd = -1;
        return;
    }
    if (room)
        c->conn[i].got += (size_t)n;
    if (!c->reply || !room || !canned_request_done(c, i))
        return;
    if (c->keepalive_once && c->conn[i].answered) {
        close(c->conn[i].fd);
        c->conn[i].fd = -1;
        return;
    }
    size_t off = 0;
    while (off < c->len) {
        ssize_t w = send(c->conn[i].fd, c->reply + off, c->len - off, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    if (c->keepalive_once) {
        c->conn[i].answered = 1;
        c->conn[i].got = 0;
        return;
    }
    close(c->conn[i].fd);
    c->conn[i].fd = -1;
}

static void canned_accept(struct tu_canned *c)
{
    int fd = accept(c->listener, NULL, NULL);
    if (fd < 0)
        return;
    atomic_fetch_add(&c->accepts, 1);
    for (int i = 0; i < CANNED_CONNS; i++)
        if (c->conn[i].fd < 0) {
            c->conn[i].fd = fd;
            c->conn[i].got = 0;
            c->conn[i].answered = 0;
            return;
        }
    close(fd);
}

static void *canned_thread(void *arg)
{
    struct tu_canned *c = arg;
    while (!atomic_load(&c->stop)) {
        struct pollfd p[CANNED_CONNS + 1];
        int idx[CANNED_CONNS + 1], n = 0;
        p[n] = (struct pollfd){.fd = c->listener, .events = POLLIN};
        idx[n++] = -1;
        for (int i = 0; i < CANNED_CONNS; i++)
            if (c->conn[i].fd >= 0) {
                p[n] = (struct pollfd){.fd = c->conn[i].fd, .events = POLLIN};
                idx[n++] = i;
            }
        if (poll(p, (nfds_t)n, 50) <= 0)
            continue;
        for (int k = 0; k < n; k++) {
            if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (idx[k] < 0)
                canned_accept(c);
            else if (c->conn[idx[k]].fd >= 0)
                canned_read(c, idx[k]);
        }
    }
    return NULL;
}

static tu_canned *canned_start(const char *reply, size_t len, int keepalive_once)
{
    struct tu_canned *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    for (int i = 0; i < CANNED_CONNS; i++)
        c->conn[i].fd = -1;
    c->reply = reply;
    c->len = len;
    c->keepalive_once = keepalive_once;
    c->listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    if (c->listener < 0 || bind(c->listener, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(c->listener, 64) != 0 ||
        getsockname(c->listener, (struct sockaddr *)&a, &alen) != 0 ||
        pthread_create(&c->thread, NULL, canned_thread, c) != 0) {
        if (c->listener >= 0)
            close(c->listener);
        free(c);
        return NULL;
    }
    c->port = ntohs(a.sin_port);
    return c;
}

tu_canned *tu_canned_start(const char *reply, size_t len)
{
    return canned_start(reply, len, 0);
}

tu_canned *tu_canned_start_keepalive_once(const char *reply, size_t len)
{
    return canned_start(reply, len, 1);
}

int tu_canned_port(const tu_canned *c)
{
    return c->port;
}

int tu_canned_accepts(tu_canned *c)
{
    return atomic_load(&c->accepts);
}

void tu_canned_stop(tu_canned *c)
{
    if (!c)
        return;
    atomic_store(&c->stop, true);
    pthread_join(c->thread, NULL);
    for (int i = 0; i < CANNED_CONNS; i++)
        if (c->conn[i].fd >= 0)
            close(c->conn[i].fd);
    close(c->listener);
    free(c);
}

tu_sim *tu_sim_start(sim_options *o)
{
    tu_sim *f = calloc(1, sizeof *f);
    assert_non_null(f);
    char err[256];
    o->quiet = true;
    o->port = 0;
    if (sim_start(o, &f->sim, err, sizeof err) != 0)
        fail_msg("sim_start: %s", err);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d/v1", sim_port(f->sim));
    snprintf(f->json, sizeof f->json, "%s/out.json", tu_tmpdir());
    return f;
}

void tu_sim_stop(tu_sim *f)
{
    sim_stop(f->sim);
    unlink(f->json);
    free(f);
}

cJSON *tu_load_json(const char *path)
{
    char *text = tu_read_file(path, NULL);
    assert_non_null(text);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    assert_non_null(doc);
    return doc;
}
