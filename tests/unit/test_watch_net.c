/* Tests for run/watch_net against real --listen endpoints in this process (run/listen), a
 * refusing port, a server that never answers and one that answers garbage: the workers up
 * are read and summed, the others are down with their reason, and no step blocks longer
 * than asked; the keys reach every worker with the token (the command is queued there),
 * a wrong token is refused with 401 and queues nothing, a worker without control says 403,
 * and no token sends nothing; p pauses, or resumes a fleet that is all paused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "run/listen.h"
#include "run/watch_net.h"
#include "testutil.h"

#define TOKEN "watch-net-token-0123456789"

typedef struct {
    listen_srv *srv[2];
    int port[2];
    char *urls[6];
    size_t n_urls;
    int refusing_holder, silent_holder;
    tu_canned *garbage;
} fleet;

static void publish(fleet *f, int i, uint32_t target, engine_state state)
{
    listen_figures *fig = calloc(1, sizeof *fig);
    assert_non_null(fig);
    hist_init(&fig->ttft);
    hist_init(&fig->e2e);
    hist_init(&fig->itl);
    fig->ok = 10 * (uint64_t)(i + 1);
    fig->output_tokens = 100;
    fig->target = target;
    fig->inflight = target;
    fig->state = state;
    hist_record_n(&fig->ttft, 1000 * (uint64_t)(i + 1), 5);
    listen_publish(f->srv[i], fig);
    free(fig);
}

static char *url_of(int port, const char *path)
{
    char *u = malloc(64);
    assert_non_null(u);
    snprintf(u, 64, "http://127.0.0.1:%d%s", port, path);
    return u;
}

/* Two workers (worker_token: their --control-token, NULL = none); with others, a refusing
 * port, a silent one and a garbage server after them. */
static void fleet_start(fleet *f, const char *worker_token, bool others)
{
    memset(f, 0, sizeof *f);
    char err[200];
    for (int i = 0; i < 2; i++) {
        assert_int_equal(
            listen_start("127.0.0.1:0", worker_token, &f->srv[i], &f->port[i], err, sizeof err), 0);
        publish(f, i, (uint32_t)(i + 2), ENGINE_RUNNING);
        f->urls[f->n_urls++] = url_of(f->port[i], i ? "/metrics" : "");
    }
    if (!others)
        return;
    static const char garbage[] = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world";
    f->garbage = tu_canned_start(garbage, sizeof garbage - 1);
    f->urls[f->n_urls++] = url_of(tu_refusing_port(&f->refusing_holder), "");
    f->urls[f->n_urls++] = url_of(tu_silent_port(&f->silent_holder), "");
    f->urls[f->n_urls++] = url_of(tu_canned_port(f->garbage), "/metrics");
}

static void fleet_stop(fleet *f)
{
    for (int i = 0; i < 2; i++)
        listen_stop(f->srv[i]);
    for (size_t i = 0; i < f->n_urls; i++)
        free(f->urls[i]);
    if (f->garbage) {
        tu_canned_stop(f->garbage);
        close(f->refusing_holder);
        close(f->silent_holder);
    }
}

static watch_net *net_open(fleet *f, const char *token)
{
    llm_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.files = f->urls;
    cfg.n_files = f->n_urls;
    cfg.control_token = (char *)token;
    watch_net *n = NULL;
    char err[200];
    assert_int_equal(watch_net_open(&cfg, &n, err, sizeof err), 0);
    return n;
}

/* Steps until a round of polls completes (5 s at most); every step within its bound. */
static void one_round(watch_net *n)
{
    uint64_t until = llm_now_ns() + 5 * LLM_NS_PER_SEC;
    bool done = false, fd;
    while (!done && llm_now_ns() < until) {
        uint64_t t0 = llm_now_ns();
        done = watch_net_step(n, 100, -1, &fd);
        assert_true(llm_now_ns() - t0 < 400 * LLM_NS_PER_MS); /* asked 100 ms */
    }
    assert_true(done);
}

/* The next note whose text holds `want` (5 s at most, other notes skipped). */
static bool note_with(watch_net *n, const char *want, watch_note *out)
{
    uint64_t until = llm_now_ns() + 5 * LLM_NS_PER_SEC;
    bool fd;
    while (llm_now_ns() < until) {
        watch_net_step(n, 50, -1, &fd);
        while (watch_net_note(n, out))
            if (strstr(out->text, want))
                return true;
    }
    return false;
}

static void workers_up_are_summed_and_the_others_are_down_with_a_reason(void **state)
{
    (void)state;
    fleet f;
    fleet_start(&f, TOKEN, true);
    watch_net *n = net_open(&f, TOKEN);
    one_round(n);
    size_t count;
    const watch_worker *w = watch_net_workers(n, &count);
    assert_int_equal(count, 5);
    assert_int_equal(w[0].link, WATCH_LINK_UP);
    assert_int_equal(w[1].link, WATCH_LINK_UP);
    for (size_t i = 2; i < 5; i++) {
        assert_int_equal(w[i].link, WATCH_LINK_DOWN);
        assert_true(strlen(w[i].error) > 10);
    }
    assert_non_null(strstr(w[2].error, "onnect"));                /* refused */
    assert_non_null(strstr(w[3].error, "timed out"));             /* silent */
    assert_non_null(strstr(w[4].error, "not an llmload worker")); /* garbage */
    watch_fleet fl;
    watch_net_fleet(n, &fl);
    assert_true(fl.n_up == 2 && fl.ok == 30 && fl.target == 5 && fl.inflight == 5);
    assert_true(fl.h[WATCH_H_TTFT].total == 10);
    assert_true(watch_net_ever_up(n));
    watch_note note;
    assert_true(watch_net_note(n, &note) && note.bad); /* "... down: ..." */
    watch_net_close(n);
    fleet_stop(&f);
}

static void keys_reach_every_worker_with_the_token(void **state)
{
    (void)state;
    fleet f;
    fleet_start(&f, TOKEN, false);
    watch_net *n = net_open(&f, TOKEN);
    one_round(n);
    char sent[WATCH_NOTE_LEN];
    watch_note note;
    engine_cmd c;
    assert_true(watch_net_send(n, WATCH_CMD_UP, sent, sizeof sent));
    assert_non_null(strstr(sent, "sent to 2 workers"));
    assert_true(note_with(n, "target +1: 2 of 2 accepted", &note));
    assert_false(note.bad);
    for (int i = 0; i < 2; i++) {
        assert_true(listen_take(f.srv[i], &c));
        assert_int_equal(c.kind, ENGINE_CMD_ADJUST_TARGET);
        assert_int_equal(c.value, 1);
    }
    assert_true(watch_net_send(n, WATCH_CMD_PAUSE, sent, sizeof sent));
    assert_true(note_with(n, "pause: 2 of 2 accepted", &note));
    for (int i = 0; i < 2; i++) {
        assert_true(listen_take(f.srv[i], &c));
        assert_int_equal(c.kind, ENGINE_CMD_PAUSE);
        publish(&f, i, 3, ENGINE_PAUSED);
    }
    one_round(n); /* all paused now: p resumes */
    assert_true(watch_net_send(n, WATCH_CMD_PAUSE, sent, sizeof sent));
    assert_true(note_with(n, "resume: 2 of 2 accepted", &note));
    assert_true(listen_take(f.srv[0], &c) && c.kind == ENGINE_CMD_RESUME);
    assert_true(watch_net_send(n, WATCH_CMD_NEXT, sent, sizeof sent));
    assert_true(note_with(n, "next step: 2 of 2 accepted", &note));
    assert_true(listen_take(f.srv[1], &c) && c.kind == ENGINE_CMD_RESUME);
    assert_true(listen_take(f.srv[1], &c) && c.kind == ENGINE_CMD_NEXT_STEP);
    watch_net_close(n);
    fleet_stop(&f);
}

static void a_wrong_token_is_refused_and_queues_nothing(void **state)
{
    (void)state;
    fleet f;
    fleet_start(&f, TOKEN, false);
    watch_net *n = net_open(&f, "not-the-token-0123456789");
    one_round(n);
    char sent[WATCH_NOTE_LEN];
    watch_note note;
    engine_cmd c;
    assert_true(watch_net_send(n, WATCH_CMD_UP, sent, sizeof sent));
    assert_true(note_with(n, "0 of 2 accepted; 2 refused the token (401)", &note));
    assert_true(note.bad);
    assert_null(strstr(note.text, "not-the-token")); /* the token is never shown */
    assert_false(listen_take(f.srv[0], &c));
    assert_false(listen_take(f.srv[1], &c));
    watch_net_close(n);
    fleet_stop(&f);
}

static void workers_without_control_say_403_and_no_token_sends_nothing(void **state)
{
    (void)state;
    fleet f;
    fleet_start(&f, NULL, false);
    watch_net *n = net_open(&f, TOKEN);
    one_round(n);
    char sent[WATCH_NOTE_LEN];
    watch_note note;
    assert_true(watch_net_send(n, WATCH_CMD_NEXT, sent, sizeof sent));
    assert_true(note_with(n, "2 have control off (403", &note));
    watch_net_close(n);
    n = net_open(&f, NULL);
    one_round(n);
    assert_false(watch_net_send(n, WATCH_CMD_UP, sent, sizeof sent));
    assert_non_null(strstr(sent, "no --control-token"));
    bool fd;
    for (int i = 0; i < 5; i++)
        watch_net_step(n, 20, -1, &fd);
    while (watch_net_note(n, &note))
        assert_null(strstr(note.text, "accepted"));
    watch_net_close(n);
    fleet_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(workers_up_are_summed_and_the_others_are_down_with_a_reason),
        cmocka_unit_test(keys_reach_every_worker_with_the_token),
        cmocka_unit_test(a_wrong_token_is_refused_and_queues_nothing),
        cmocka_unit_test(workers_without_control_say_403_and_no_token_sends_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
