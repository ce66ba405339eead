/* Tests against a REAL llama.cpp server (issue 13): its timings beside the client's figures
 * and --prompt-tokens by its own tokenizer. Runs only when LLMLOAD_LLAMA_SERVER (the
 * llama-server binary) and LLMLOAD_LLAMA_MODEL (a .gguf) are set; otherwise every test
 * skips with a notice. The test starts the server on a free 127.0.0.1 port and stops it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
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

#include "base/dist.h"
#include "engine/workload.h"
#include "run/calibrate.h"
#include "run/poolcal.h"
#include "testutil.h"

extern char **environ;

typedef struct {
    pid_t pid;
    int port;
    char url[64];
    char json[256];
} live;

static live g_live;

static int free_port(void)
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
    close(fd);
    return ntohs(a.sin_port);
}

static size_t discard(char *p, size_t size, size_t n, void *user)
{
    (void)p;
    (void)user;
    return size * n;
}

static bool healthy(int port)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/health", port);
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 1000L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    long status = 0;
    if (curl_easy_perform(e) == CURLE_OK)
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(e);
    return status == 200;
}

static void stop_server(void)
{
    if (g_live.pid <= 0)
        return;
    kill(g_live.pid, SIGTERM);
    for (int i = 0; i < 100; i++) { /* 10 s, then SIGKILL */
        if (waitpid(g_live.pid, NULL, WNOHANG) == g_live.pid) {
            g_live.pid = 0;
            return;
        }
        usleep(100000);
    }
    kill(g_live.pid, SIGKILL);
    waitpid(g_live.pid, NULL, 0);
    g_live.pid = 0;
}

static int start_server(void **state)
{
    (void)state;
    const char *bin = getenv("LLMLOAD_LLAMA_SERVER"), *model = getenv("LLMLOAD_LLAMA_MODEL");
    if (!bin || !*bin || !model || !*model || access(bin, X_OK) != 0 || access(model, R_OK) != 0) {
        fprintf(stderr, "NOTICE: live llama.cpp tests skipped: set LLMLOAD_LLAMA_SERVER=/path/to/"
                        "llama-server and LLMLOAD_LLAMA_MODEL=/path/to/model.gguf to run them\n");
        return 0;
    }
    g_live.port = free_port();
    char port[16], log[300];
    snprintf(port, sizeof port, "%d", g_live.port);
    snprintf(log, sizeof log, "%s/llama-server.log", tu_tmpdir());
    char *argv[] = {(char *)bin, "-m",        (char *)model, "--alias",   "live",
                    "--host",    "127.0.0.1", "--port",      port,        "-np",
                    "4",         "-c",        "4096",        "--metrics", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int rc = posix_spawn(&g_live.pid, bin, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, "NOTICE: live llama.cpp tests skipped: cannot start %s\n", bin);
        g_live.pid = 0;
        return 0;
    }
    for (int i = 0; i < 600 && !healthy(g_live.port); i++) /* 60 s to load the model */
        usleep(100000);
    if (!healthy(g_live.port)) {
        fprintf(stderr,
                "NOTICE: live llama.cpp tests skipped: the server did not answer "
                "/health within 60 s (log: %s)\n",
                log);
        stop_server();
        return 0;
    }
    snprintf(g_live.url, sizeof g_live.url, "http://127.0.0.1:%d/v1", g_live.port);
    snprintf(g_live.json, sizeof g_live.json, "%s/live.json", tu_tmpdir());
    return 0;
}

static int stop_group(void **state)
{
    (void)state;
    stop_server();
    return 0;
}

static cJSON *run_llmload(char **args, size_t n)
{
    char *argv[32] = {LLM_BINARY, "run", "--url", g_live.url, "--model", "live", "--no-tui",
                      /* the server closes each streamed connection: until the engine's
                         resend lands a few requests may fail as `other` */
                      "--max-error-rate", "50", "--json", g_live.json};
    size_t k = 11;
    for (size_t i = 0; i < n && k < 31; i++)
        argv[k++] = args[i];
    argv[k] = NULL;
    tu_result r;
    tu_run(argv, NULL, NULL, 180, &r);
    fprintf(stderr, "%s", r.err);
    assert_int_equal(r.exit_code, 0);
    tu_result_free(&r);
    char *text = tu_read_file(g_live.json, NULL);
    assert_non_null(text);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    assert_non_null(doc);
    return doc;
}

static double num_at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItem(cJSON_GetObjectItem(o, a), b);
    assert_true(cJSON_IsNumber(x));
    return x->valuedouble;
}

/* At c=1 the server's decode time per token (timings) and the client's TPOT agree within
 * 10 %, and the tokens the server generated are the tokens usage reported and (within 1 %)
 * the content events that arrived. */
static void timings_agree_with_the_client_at_c1(void **state)
{
    (void)state;
    if (!g_live.pid)
        skip();
    char *args[] = {"-c", "1", "-n", "20", "--max-tokens", "128", "--ignore-eos"};
    cJSON *doc = run_llmload(args, sizeof args / sizeof args[0]);
    const cJSON *t = cJSON_GetObjectItem(doc, "totals");
    const cJSON *srv = cJSON_GetObjectItem(t, "server");
    assert_string_equal(cJSON_GetObjectItem(srv, "source")->valuestring, "timings");
    double tpot = num_at(t, "tpot_ms", "p50"), dec = num_at(srv, "decode_ms_per_token", "p50");
    fprintf(stderr,
            "live: TPOT p50 %.3f ms, server decode %.3f ms/token; E2E p50 %.1f ms, "
            "server %.1f ms; tokens server %.0f, client %.0f\n",
            tpot, dec, num_at(t, "e2e_ms", "p50"), num_at(srv, "e2e_ms", "p50"),
            num_at(srv, "tokens", "server"), num_at(srv, "tokens", "client"));
    assert_true(fabs(tpot - dec) <= 0.10 * tpot);
    double server = num_at(srv, "tokens", "server"), client = num_at(srv, "tokens", "client");
    assert_true(server == num_at(t, "tokens", "usage_tokens"));
    assert_true(fabs(server - client) <= 0.01 * server);
    cJSON_Delete(doc);
}

/* --prompt-tokens 300 gives prompts of 300 ± 3 tokens by the server's own usage. */
static void prompt_tokens_300_are_300_by_the_servers_usage(void **state)
{
    (void)state;
    if (!g_live.pid)
        skip();
    char *args[] = {"-c", "4", "-n", "24", "--max-tokens", "4", "--prompt-tokens", "300"};
    cJSON *doc = run_llmload(args, sizeof args / sizeof args[0]);
    const cJSON *pr = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "totals"), "tokens"), "prompt_reported");
    double lo = cJSON_GetObjectItem(pr, "min")->valuedouble;
    double hi = cJSON_GetObjectItem(pr, "max")->valuedouble;
    fprintf(stderr, "live: --prompt-tokens 300 -> %.0f..%.0f by the server's usage\n", lo, hi);
    assert_true(lo >= 297 && hi <= 303);
    assert_true(cJSON_GetObjectItem(pr, "count")->valueint >= 20);
    cJSON_Delete(doc);
}

/* --input-tokens uniform:100:400: the pool calibrated by the server's own tokenizer, so
 * every prompt is its drawn length within 1 % by the server's usage. Each body is sent as
 * the load would write it (not streamed, for its usage) and its usage compared with the
 * length drawn for it; then the binary's run says its lengths are exact. */
static void input_tokens_are_exact_by_the_servers_usage(void **state)
{
    (void)state;
    if (!g_live.pid)
        skip();
    llm_config c;
    memset(&c, 0, sizeof c);
    c.url = g_live.url;
    c.model = "live";
    c.max_tokens = 4;
    c.temperature = -1;
    c.connect_timeout_s = 5;
    c.request_timeout_s = 60;
    c.no_stream = true;
    c.seed = 3;
    c.seed_set = true;
    char err[256];
    assert_int_equal(dist_parse("uniform:100:400", &c.input_tokens, err, sizeof err), 0);
    assert_int_equal(dist_parse("4", &c.output_tokens, err, sizeof err), 0);
    poolcal_result pc;
    poolcal_run(&c, "live", &pc);
    fprintf(stderr, "live: %s\n", pc.note);
    assert_true(pc.exact);
    c.input_map = &pc.map;
    workload w;
    assert_int_equal(workload_init(&w, &c, "live", err, sizeof err), 0);
    assert_non_null(w.map);
    char *buf = malloc(w.body_cap), url[128];
    snprintf(url, sizeof url, "%s/chat/completions", g_live.url);
    uint64_t rng = 9;
    long lo = 0, hi = 0, n = 60;
    for (long i = 1; i <= n; i++) {
        wl_request req;
        workload_draw(&w, &rng, &req);
        prompt_body pb;
        workload_write(&w, &req, (uint64_t)i, &rng, buf, &pb);
        long got = calibrate_usage(&c, url, pb.json);
        long off = got - req.input_tokens;
        lo = off < lo ? off : lo;
        hi = off > hi ? off : hi;
        if (got < 0 || labs(off) * 100 > req.input_tokens)
            fail_msg("request %ld: drawn %ld, the server counted %ld", i, req.input_tokens, got);
    }
    fprintf(stderr,
            "live: --input-tokens uniform:100:400, %ld prompts: error %+ld..%+ld tokens "
            "by the server's usage\n",
            n, lo, hi);
    free(buf);
    workload_free(&w);
    poolcal_free(&pc);
    char *args[] = {
        "-c", "4",      "-n", "24", "--input-tokens", "uniform:100:400", "--output-tokens",
        "4",  "--seed", "3"};
    cJSON *doc = run_llmload(args, sizeof args / sizeof args[0]);
    const cJSON *wl = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "config"), "workload");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(wl, "input_exact")));
    const cJSON *pr = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "totals"), "tokens"), "prompt_reported");
    double min = cJSON_GetObjectItem(pr, "min")->valuedouble;
    double max = cJSON_GetObjectItem(pr, "max")->valuedouble;
    fprintf(stderr, "live: the run's prompts %.0f..%.0f tokens by the server's usage\n", min, max);
    assert_true(min >= 99 && max <= 404);
    cJSON_Delete(doc);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timings_agree_with_the_client_at_c1),
        cmocka_unit_test(prompt_tokens_300_are_300_by_the_servers_usage),
        cmocka_unit_test(input_tokens_are_exact_by_the_servers_usage),
    };
    int rc = cmocka_run_group_tests(tests, start_server, stop_group);
    curl_global_cleanup();
    return rc;
}
