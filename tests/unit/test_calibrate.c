/* Tests for run/calibrate: --prompt-tokens N exact by the server's own tokenizer, against
 * the simulator, whose word-piece tokenizer is unlike llmload's chars/4 (issue 13). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/probe.h"
#include "engine/prompt.h"
#include "proto/chunk.h"
#include "run/calibrate.h"
#include "sim/sim.h"

typedef struct {
    sim_server *sim;
    char url[64];
    llm_config cfg;
} fixture;

static fixture *start(const char *reject)
{
    fixture *f = calloc(1, sizeof *f);
    sim_options o;
    sim_options_default(&o);
    o.port = 0;
    o.quiet = true;
    o.base_latency_s = 0.001;
    o.decode_rate = 2000;
    if (reject)
        snprintf(o.reject_fields, sizeof o.reject_fields, "%s", reject);
    char err[256];
    if (sim_start(&o, &f->sim, err, sizeof err) != 0)
        fail_msg("sim_start: %s", err);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d/v1", sim_port(f->sim));
    f->cfg.url = f->url;
    f->cfg.max_tokens = 16;
    f->cfg.temperature = -1;
    f->cfg.connect_timeout_s = 5;
    f->cfg.request_timeout_s = 30;
    return f;
}

static void stop(fixture *f)
{
    sim_stop(f->sim);
    free(f);
}

static void want_tokens(fixture *f, long n)
{
    f->cfg.prompt_tokens = n;
    f->cfg.prompt_chars = 4 * n; /* what --prompt-tokens sets before calibration */
}

/* The server's prompt_tokens for the body virtual user `slot` sends with cfg. */
static long usage_of_slot(const llm_config *cfg, uint64_t slot)
{
    llm_config c = *cfg;
    c.no_stream = true;
    prompt_body b;
    char err[256];
    assert_int_equal(
        prompt_build(&c, "llmload-sim", 0x5eed * 1000003ULL + slot, &b, err, sizeof err), 0);
    prompt_set_nonce(&b, 1000 + slot);
    char url[128];
    snprintf(url, sizeof url, "%s%s", cfg->url,
             cfg->endpoint == LLM_ENDPOINT_COMPLETIONS ? "/completions" : "/chat/completions");
    probe p;
    probe_run(&p, &c, url, b.json, false);
    assert_int_equal(p.status, 200);
    chunk_info ci;
    chunk_decode_message(p.body, p.body_len, &ci);
    probe_free(&p);
    prompt_free(&b);
    assert_true(ci.has_usage);
    return ci.prompt_tokens;
}

/* chars/4 is what llmload assumed; the simulator's word pieces count ~30 % more. After
 * calibration every virtual user's prompt is N tokens by the server's count, chat (with
 * its template) and completions alike. */
static void prompt_tokens_are_exact_by_the_servers_count(void **state)
{
    (void)state;
    fixture *f = start(NULL);
    static const long sizes[] = {40, 333, 1500};
    for (int ep = 0; ep < 2; ep++) {
        f->cfg.endpoint = ep ? LLM_ENDPOINT_COMPLETIONS : LLM_ENDPOINT_CHAT;
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            long n = sizes[i];
            want_tokens(f, n);
            long uncalibrated = usage_of_slot(&f->cfg, 0);
            assert_true(labs(uncalibrated - n) > n / 10); /* the error the issue measured */
            calib_result c;
            calibrate_prompt(&f->cfg, "llmload-sim", &c);
            assert_int_equal(c.method, CALIB_TOKENIZE);
            assert_true(c.tokenize);
            assert_int_equal(c.measured, n);
            assert_true(c.probes >= 1 && c.probes <= CALIB_MAX_PROBES);
            assert_true(fabs(c.overhead_tokens - (ep ? 1.0 : 7.0)) < 0.5); /* BOS; template */
            assert_non_null(strstr(c.note, "prompt tokens by the server's own count"));
            f->cfg.prompt_chars = c.chars;
            for (uint64_t slot = 0; slot < 4; slot++)
                assert_int_equal(usage_of_slot(&f->cfg, slot), n);
            /* a length of a distribution: within a few tokens by the same model */
            long half = calibrate_chars_for(&c, n / 2 + 10);
            assert_true(half > 0 && half < c.chars);
        }
    }
    stop(f);
}

/* A server that reports no prompt tokens: the run says calibration was impossible and what
 * it sends instead (the /tokenize count of the text, without the template). */
static void impossible_calibration_says_what_is_sent(void **state)
{
    (void)state;
    fixture *f = start("max_tokens"); /* every probe answered 400 */
    want_tokens(f, 200);
    calib_result c;
    calibrate_prompt(&f->cfg, "llmload-sim", &c);
    assert_int_equal(c.method, CALIB_FAILED);
    assert_int_equal(c.measured, -1);
    assert_non_null(strstr(c.note, "could not be calibrated"));
    assert_non_null(strstr(c.note, "its /tokenize count, without the chat template"));
    assert_true(c.chars != 800);
    assert_string_equal(calib_method_name(c.method), "failed");
    stop(f);
}

/* No --prompt-tokens, or prompts from a file: nothing is sent, nothing changes. */
static void nothing_to_calibrate_sends_nothing(void **state)
{
    (void)state;
    fixture *f = start(NULL);
    f->cfg.prompt_chars = 256;
    calib_result c;
    calibrate_prompt(&f->cfg, "llmload-sim", &c);
    assert_int_equal(c.method, CALIB_NONE);
    assert_int_equal(c.chars, 256);
    assert_int_equal(c.probes, 0);
    assert_null(calib_method_name(c.method));
    want_tokens(f, 100);
    f->cfg.prompts_file = "prompts.jsonl";
    calibrate_prompt(&f->cfg, "llmload-sim", &c);
    assert_int_equal(c.method, CALIB_NONE);
    assert_int_equal(calibrate_chars_for(&c, 100), 400);
    stop(f);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prompt_tokens_are_exact_by_the_servers_count),
        cmocka_unit_test(impossible_calibration_says_what_is_sent),
        cmocka_unit_test(nothing_to_calibrate_sends_nothing),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
