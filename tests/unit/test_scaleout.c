/* End-to-end tests of the scale-out features with the llmload binary: four --shard workers
 * (each in its own network namespace when the machine allows `ip netns`, on loopback
 * otherwise) against one simulator, merged into one run; --listen scraped during a run and
 * steered through its control endpoint. Every process started here is stopped here, and
 * every wait is bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

extern char **environ;

#define WORKERS 4
#define TOKEN "tok-0123456789abcdefXYZ"
#define KEY "sk-never-shown-0123456789"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* argv with stdout and stderr into the file at log; the pid, or -1. */
static pid_t spawn(char *const argv[], const char *log)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? pid : -1;
}

/* Its exit code, or -1 after killing it when it outlives timeout_s. */
static int wait_exit(pid_t pid, double timeout_s)
{
    double end = now_s() + timeout_s;
    int status;
    while (now_s() < end) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        usleep(20000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static void stop_process(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    wait_exit(pid, 5);
}

/* The number after `marker` in the file, waiting for it up to timeout_s; -1 when absent. */
static long wait_number_after(const char *path, const char *marker, double timeout_s)
{
    double end = now_s() + timeout_s;
    while (now_s() < end) {
        char *text = tu_read_file(path, NULL);
        const char *p = text ? strstr(text, marker) : NULL;
        long v = p ? strtol(p + strlen(marker), NULL, 10) : -1;
        free(text);
        if (v > 0)
            return v;
        usleep(20000);
    }
    return -1;
}

static int run_cmd(const char *cmd)
{
    int rc = system(cmd); /* fixed strings of this test only: no user input */
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static cJSON *load_json(const char *path)
{
    char *text = tu_read_file(path, NULL);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    return j;
}

static double num_at(const cJSON *o, const char *a, const char *b, const char *c)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    if (c)
        v = cJSON_GetObjectItemCaseSensitive(v, c);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The count of a histogram as written: the sum of its buckets' counts. */
static double hist_total(const cJSON *step, const char *metric)
{
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(step, "histograms"), metric);
    const cJSON *b, *buckets = cJSON_GetObjectItemCaseSensitive(h, "buckets");
    double n = 0;
    cJSON_ArrayForEach(b, buckets) n += cJSON_GetArrayItem(b, 2)->valuedouble;
    return n;
}

/* ---- the network: a namespace for the simulator and one per worker, or loopback ---- */

typedef struct {
    bool netns;
    char sim_ns[32], worker_ns[WORKERS][32];
    char sim_addr[WORKERS][32]; /* the address worker i reaches the simulator at */
} net;

static void net_down(net *n)
{
    char cmd[128];
    for (int i = 0; n->netns && i < WORKERS; i++) {
        snprintf(cmd, sizeof cmd, "ip netns del %s 2>/dev/null", n->worker_ns[i]);
        run_cmd(cmd);
    }
    if (n->netns) {
        snprintf(cmd, sizeof cmd, "ip netns del %s 2>/dev/null", n->sim_ns);
        run_cmd(cmd);
    }
    n->netns = false;
}

/* Each worker's namespace is joined by a veth pair to a bridge in the simulator's namespace
 * (10.231.0.1/24; worker i is 10.231.0.(10 + i)): each worker has its own network stack, as
 * on separate machines, and every one reaches the simulator at the same URL. */
static bool net_up(net *n)
{
    memset(n, 0, sizeof *n);
    int pid = (int)getpid() % 100000;
    snprintf(n->sim_ns, sizeof n->sim_ns, "lls%d", pid);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "ip netns add %1$s 2>/dev/null && ip -n %1$s link set lo up && "
             "ip -n %1$s link add llbr type bridge && ip -n %1$s addr add 10.231.0.1/24 dev llbr "
             "&& ip -n %1$s link set llbr up",
             n->sim_ns);
    /* LLM_TEST_NO_NETNS=1 takes the loopback path a machine without ip netns takes */
    n->netns = !getenv("LLM_TEST_NO_NETNS") && run_cmd(cmd) == 0;
    for (int i = 0; n->netns && i < WORKERS; i++) {
        snprintf(n->worker_ns[i], sizeof n->worker_ns[i], "llw%d-%d", pid, i);
        snprintf(cmd, sizeof cmd,
                 "ip netns add %1$s && ip -n %1$s link set lo up && "
                 "ip link add llv%3$d-%4$d netns %1$s type veth peer name llp%4$d netns %2$s && "
                 "ip -n %1$s addr add 10.231.0.%5$d/24 dev llv%3$d-%4$d && "
                 "ip -n %1$s link set llv%3$d-%4$d up && "
                 "ip -n %2$s link set llp%4$d master llbr && ip -n %2$s link set llp%4$d up",
                 n->worker_ns[i], n->sim_ns, pid, i, 10 + i);
        if (run_cmd(cmd) != 0) {
            fprintf(stderr, "# ip netns set-up failed: workers fall back to loopback\n");
            net_down(n);
            break;
        }
        snprintf(n->sim_addr[i], sizeof n->sim_addr[i], "10.231.0.1");
    }
    if (!n->netns)
        for (int i = 0; i < WORKERS; i++)
            snprintf(n->sim_addr[i], sizeof n->sim_addr[i], "127.0.0.1");
    return n->netns;
}

/* argv prefixed with `ip netns exec NS` when the worker has a namespace. */
static void argv_in(const net *n, int worker, char **out, char *const *argv)
{
    int k = 0;
    if (n->netns && worker >= 0) {
        out[k++] = "/usr/sbin/ip";
        out[k++] = "netns";
        out[k++] = "exec";
        out[k++] = (char *)(worker == WORKERS ? n->sim_ns : n->worker_ns[worker]);
    }
    for (int i = 0; argv[i]; i++)
        out[k++] = argv[i];
    out[k] = NULL;
}

static pid_t start_sim(const net *n, const char *dir, int *port)
{
    char log[256];
    snprintf(log, sizeof log, "%s/sim.log", dir);
    char *argv[] = {LLM_BINARY,
                    "sim",
                    "--host",
                    n->netns ? "0.0.0.0" : "127.0.0.1",
                    "--port",
                    "0",
                    "--slots",
                    "64",
                    "--decode-rate",
                    "400",
                    "--base-latency",
                    "20ms",
                    "-q",
                    NULL};
    char *full[24];
    argv_in(n, WORKERS, full, argv);
    pid_t pid = spawn(full, log);
    long p = -1;
    double end = now_s() + 10;
    while (pid > 0 && p <= 0 && now_s() < end) { /* "listening on http://H:PORT/v1" */
        char *text = tu_read_file(log, NULL);
        const char *at = text ? strstr(text, "/v1") : NULL;
        if (at) {
            const char *c = at;
            while (c > text && c[-1] != ':')
                c--;
            p = strtol(c, NULL, 10);
        }
        free(text);
        usleep(20000);
    }
    *port = (int)p;
    return pid;
}

static pid_t start_worker(const net *n, int i, int sim_port, const char *dir, const char *shard,
                          const char *start_at, const char *json)
{
    char url[96], log[256];
    snprintf(url, sizeof url, "http://%s:%d/v1", n->sim_addr[i], sim_port);
    snprintf(log, sizeof log, "%s/worker%d.log", dir, i);
    char *argv[24] = {LLM_BINARY, "run",          "--url",      url,
                      "--no-tui", "-c",           "8",          "--duration",
                      "3s",       "--max-tokens", "16",         "--autosave",
                      "0",        "--json",       (char *)json, "--server-metrics",
                      "off"};
    int k = 17;
    if (shard) {
        argv[k++] = "--shard";
        argv[k++] = (char *)shard;
        argv[k++] = "--start-at";
        argv[k++] = (char *)start_at;
    }
    argv[k] = NULL;
    char *full[32];
    argv_in(n, i, full, argv);
    return spawn(full, log);
}

/* |a - b| within the histogram's 1 % and noise: 25 % of b, or 5 ms. */
static bool close_enough(double a, double b)
{
    return fabs(a - b) <= 0.01 * b + fmax(0.25 * b, 5.0);
}

static void four_shards_merge_into_the_run_one_process_makes(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir();
    net n;
    bool isolated = net_up(&n);
    fprintf(stderr, "# workers %s\n",
            isolated ? "each in its own network namespace" : "on loopback (no ip netns here)");
    int sim_port;
    pid_t sim = start_sim(&n, dir, &sim_port);
    assert_true(sim > 0 && sim_port > 0);

    /* the same load from one process (in worker 0's namespace), for the percentiles */
    char one[256];
    snprintf(one, sizeof one, "%s/one.json", dir);
    assert_int_equal(wait_exit(start_worker(&n, 0, sim_port, dir, NULL, NULL, one), 60), 0);

    char start_at[32], shard[WORKERS][8], json[WORKERS][256];
    snprintf(start_at, sizeof start_at, "%ld", (long)time(NULL) + 2);
    pid_t w[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        snprintf(shard[i], sizeof shard[i], "%d/%d", i, WORKERS);
        snprintf(json[i], sizeof json[i], "%s/w%d.json", dir, i);
        w[i] = start_worker(&n, i, sim_port, dir, shard[i], start_at, json[i]);
    }
    for (int i = 0; i < WORKERS; i++)
        assert_int_equal(wait_exit(w[i], 60), 0);
    stop_process(sim);
    net_down(&n);

    /* a worker left out is refused, in one sentence */
    char all[256], out[300];
    snprintf(all, sizeof all, "%s/all.json", dir);
    char *partial[] = {LLM_BINARY, "merge", json[0], json[1], json[3], "-o", all, NULL};
    tu_result r;
    tu_run(partial, NULL, NULL, 30, &r);
    if (!strstr(r.err, "shard 2 of 4 is missing"))
        fprintf(stderr, "# merge said: %s\n", r.err);
    assert_int_equal(r.exit_code, 2);
    assert_non_null(strstr(r.err, "shard 2 of 4 is missing"));
    tu_result_free(&r);

    char *argv[] = {LLM_BINARY, "merge", json[0], json[1], json[2], json[3], "-o", all, NULL};
    tu_run(argv, NULL, NULL, 30, &r);
    assert_int_equal(r.exit_code, 0);
    tu_result_free(&r);

    cJSON *m = load_json(all), *ref = load_json(one), *wj[WORKERS];
    assert_non_null(m);
    assert_non_null(ref);
    double ok = 0, out_tok = 0, win_tok = 0, ttft_n = 0, users = 0, longest = 0;
    for (int i = 0; i < WORKERS; i++) {
        wj[i] = load_json(json[i]);
        assert_non_null(wj[i]);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(wj[i], "totals");
        assert_int_equal((int)num_at(wj[i], "config", "shard", "index"), i);
        ok += num_at(t, "requests", "ok", NULL);
        out_tok += num_at(t, "tokens", "output", NULL);
        win_tok += num_at(t, "window", "output_tokens", NULL);
        ttft_n += hist_total(t, "ttft_ms");
        const cJSON *s0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(wj[i], "steps"), 0);
        users += num_at(s0, "concurrency", NULL, NULL);
        longest = fmax(longest, num_at(s0, "duration_s", NULL, NULL));
    }
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(m, "totals");
    const cJSON *ms = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m, "steps"), 0);
    /* counters exact */
    assert_true(ok > 50);
    assert_true(num_at(mt, "requests", "ok", NULL) == ok);
    assert_true(num_at(mt, "tokens", "output", NULL) == out_tok);
    assert_true(num_at(mt, "window", "output_tokens", NULL) == win_tok);
    assert_true(hist_total(mt, "ttft_ms") == ttft_n);
    /* the step is the workers' side by side: their users added, their common window */
    assert_true(users == 8);
    assert_true(num_at(ms, "concurrency", NULL, NULL) == 8);
    assert_true(fabs(num_at(ms, "duration_s", NULL, NULL) - longest) < 0.01);
    assert_true(num_at(ms, "duration_s", NULL, NULL) < 4);
    assert_true(fabs(num_at(mt, "tps", NULL, NULL) - win_tok / longest) < 1);
    /* percentiles as one process measured the same load */
    const cJSON *rt = cJSON_GetObjectItemCaseSensitive(ref, "totals");
    snprintf(out, sizeof out, "merged ttft p50 %.1f p90 %.1f, one process %.1f %.1f",
             num_at(mt, "ttft_ms", "p50", NULL), num_at(mt, "ttft_ms", "p90", NULL),
             num_at(rt, "ttft_ms", "p50", NULL), num_at(rt, "ttft_ms", "p90", NULL));
    fprintf(stderr, "# %s\n", out);
    assert_true(
        close_enough(num_at(mt, "ttft_ms", "p50", NULL), num_at(rt, "ttft_ms", "p50", NULL)));
    assert_true(close_enough(num_at(mt, "e2e_ms", "p50", NULL), num_at(rt, "e2e_ms", "p50", NULL)));
    assert_true(close_enough(num_at(mt, "e2e_ms", "p90", NULL), num_at(rt, "e2e_ms", "p90", NULL)));
    assert_true(close_enough(num_at(mt, "tps", NULL, NULL), num_at(rt, "tps", NULL, NULL)));
    assert_non_null(cJSON_GetObjectItemCaseSensitive(m, "analysis"));
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m, "series")) >= 3);
    for (int i = 0; i < WORKERS; i++)
        cJSON_Delete(wj[i]);
    cJSON_Delete(m);
    cJSON_Delete(ref);
}

/* ---- --listen during a run ---- */

static int http(int port, const char *method, const char *path, const char *auth, char *out,
                size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    char req[512];
    int n =
        snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: x\r\n%s%s%sContent-Length: 0\r\n\r\n",
                 method, path, auth ? "Authorization: " : "", auth ? auth : "", auth ? "\r\n" : "");
    size_t len = 0;
    if (send(fd, req, (size_t)n, 0) == n)
        for (;;) {
            struct pollfd pf = {.fd = fd, .events = POLLIN};
            if (poll(&pf, 1, 3000) <= 0)
                break;
            ssize_t r = recv(fd, out + len, cap - 1 - len, 0);
            if (r <= 0)
                break;
            len += (size_t)r;
        }
    close(fd);
    out[len] = '\0';
    int status = -1;
    sscanf(out, "HTTP/1.1 %d", &status);
    return status;
}

static double sample(const char *text, const char *series)
{
    char line[256];
    snprintf(line, sizeof line, "\n%s ", series);
    const char *p = strstr(text, line);
    return p ? strtod(p + strlen(line), NULL) : NAN;
}

static void scrapes_match_the_snapshot_and_control_obeys_only_the_token(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir();
    net n = {0};
    for (int i = 0; i < WORKERS; i++)
        snprintf(n.sim_addr[i], sizeof n.sim_addr[i], "127.0.0.1");
    int sim_port;
    pid_t sim = start_sim(&n, dir, &sim_port);
    assert_true(sim > 0 && sim_port > 0);
    char url[96], log[256], json[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", sim_port);
    snprintf(log, sizeof log, "%s/run.log", dir);
    snprintf(json, sizeof json, "%s/run.json", dir);
    char *argv[] = {LLM_BINARY,    "run",
                    "--url",       url,
                    "--no-tui",    "-c",
                    "4",           "--duration",
                    "60s",         "--max-tokens",
                    "16",          "--autosave",
                    "0",           "--json",
                    json,          "--listen",
                    "127.0.0.1:0", "--control-token",
                    TOKEN,         "--api-key",
                    KEY,           NULL};
    pid_t run = spawn(argv, log);
    int port = (int)wait_number_after(log, "127.0.0.1:", 10);
    /* the first "127.0.0.1:" in the log may be the target's: take the metrics line's */
    char *text = tu_read_file(log, NULL);
    const char *at = text ? strstr(text, "live figures at http://127.0.0.1:") : NULL;
    port = at ? atoi(at + strlen("live figures at http://127.0.0.1:")) : port;
    free(text);
    assert_true(port > 0);

    static char body[1 << 17];
    double end = now_s() + 15, ok = 0;
    while (now_s() < end && !(ok > 0)) { /* the load runs: counters grow */
        usleep(200000);
        if (http(port, "GET", "/metrics", NULL, body, sizeof body) == 200)
            ok = sample(body, "llmload_requests_total{class=\"ok\"}");
    }
    assert_true(ok > 0);
    assert_true(sample(body, "llmload_state{state=\"running\"}") == 1);
    assert_null(strstr(body, KEY));

    /* control: no token, a wrong one: 401, and the run goes on */
    assert_int_equal(http(port, "POST", "/control/pause", NULL, body, sizeof body), 401);
    assert_int_equal(
        http(port, "POST", "/control/pause", "Bearer tok-wrong-0123456789abcd", body, sizeof body),
        401);
    assert_null(strstr(body, TOKEN));
    usleep(1200000);
    assert_int_equal(http(port, "GET", "/metrics", NULL, body, sizeof body), 200);
    assert_true(sample(body, "llmload_state{state=\"running\"}") == 1);

    /* the right token: the engine pauses, what was in flight ends, the counters stand */
    assert_int_equal(http(port, "POST", "/control/pause", "Bearer " TOKEN, body, sizeof body), 202);
    assert_null(strstr(body, KEY));
    assert_null(strstr(body, TOKEN));
    end = now_s() + 15;
    bool settled = false;
    double last_ok = -1;
    while (now_s() < end && !settled) {
        usleep(1100000);
        assert_int_equal(http(port, "GET", "/metrics", NULL, body, sizeof body), 200);
        double cur = sample(body, "llmload_requests_total{class=\"ok\"}");
        settled = sample(body, "llmload_state{state=\"paused\"}") == 1 &&
                  sample(body, "llmload_inflight") == 0 && cur == last_ok;
        last_ok = cur;
    }
    assert_true(settled);
    double s_ok = sample(body, "llmload_requests_total{class=\"ok\"}");
    double s_tokens = sample(body, "llmload_output_tokens_total");
    double s_ttft = sample(body, "llmload_ttft_seconds_count");
    double s_e2e = sample(body, "llmload_e2e_seconds_count");
    assert_int_equal(http(port, "POST", "/control/stop", "Bearer " TOKEN, body, sizeof body), 202);
    int rc = wait_exit(run, 20);
    stop_process(sim);
    assert_true(rc == 0 || rc == 1);

    cJSON *snap = load_json(json);
    assert_non_null(snap);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(snap, "totals");
    fprintf(stderr, "# scraped ok %.0f tokens %.0f; snapshot ok %.0f tokens %.0f\n", s_ok, s_tokens,
            num_at(t, "requests", "ok", NULL), num_at(t, "tokens", "output", NULL));
    assert_true(num_at(t, "requests", "ok", NULL) == s_ok);
    assert_true(num_at(t, "tokens", "output", NULL) == s_tokens);
    assert_true(hist_total(t, "ttft_ms") == s_ttft);
    assert_true(hist_total(t, "e2e_ms") == s_e2e);
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(snap, "stop_reason");
    assert_true(cJSON_IsString(reason) && strstr(reason->valuestring, "control request"));
    char *all = tu_read_file(json, NULL);
    assert_null(strstr(all, TOKEN)); /* the token is never written */
    free(all);
    cJSON_Delete(snap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(four_shards_merge_into_the_run_one_process_makes),
        cmocka_unit_test(scrapes_match_the_snapshot_and_control_obeys_only_the_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
