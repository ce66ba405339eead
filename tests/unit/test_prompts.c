/* Tests for engine/prompts: --prompts files (JSONL and plain text), bad lines reported by
 * number, file order and a seeded shuffle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/prompts.h"
#include "testutil.h"

static char path[256];

static llm_config with_file(const char *text)
{
    snprintf(path, sizeof path, "%s/prompts.jsonl", tu_tmpdir());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    llm_config c;
    memset(&c, 0, sizeof c);
    c.prompts_file = path;
    c.max_tokens = 50;
    c.temperature = -1;
    return c;
}

/* The user text of a chat body. */
static char *user_text(const prompt_body *b)
{
    cJSON *doc = cJSON_Parse(b->json);
    cJSON *msgs = cJSON_GetObjectItem(doc, "messages");
    cJSON *last = cJSON_GetArrayItem(msgs, cJSON_GetArraySize(msgs) - 1);
    char *text = strdup(cJSON_GetObjectItem(last, "content")->valuestring);
    cJSON_Delete(doc);
    return text;
}

static int max_tokens_of(const prompt_body *b)
{
    cJSON *doc = cJSON_Parse(b->json);
    int v = cJSON_GetObjectItem(doc, "max_tokens")->valueint;
    cJSON_Delete(doc);
    return v;
}

static void jsonl_and_plain_lines_become_bodies_in_file_order(void **state)
{
    (void)state;
    llm_config c =
        with_file("{\"prompt\": \"first\"}\n"
                  "\n"
                  "{\"messages\": [{\"role\": \"system\", \"content\": \"be brief\"},"
                  " {\"role\": \"user\", \"content\": \"second\"}], \"max_tokens\": 7}\r\n"
                  "third, as plain text\n");
    prompt_set ps;
    char err[256];
    assert_int_equal(prompts_load(&c, "m", &ps, err, sizeof err), 0);
    assert_int_equal(ps.n, 3);
    const char *want[] = {"first", "second", "third, as plain text", "first"};
    for (int i = 0; i < 4; i++) {
        prompt_body *b = prompts_next(&ps);
        char *text = user_text(b);
        assert_string_equal(text, want[i]);
        free(text);
        assert_int_equal(max_tokens_of(b), i == 1 ? 7 : 50);
        assert_true(b->nonce_offset == PROMPT_NO_NONCE);
    }
    assert_int_equal(ps.bodies[0].prompt_chars, 5);
    prompts_free(&ps);
    unlink(path);
}

static void a_bad_line_is_reported_by_number(void **state)
{
    (void)state;
    llm_config c = with_file("{\"prompt\": \"ok\"}\n{\"prompt\": \n");
    prompt_set ps;
    char err[256] = "";
    assert_int_equal(prompts_load(&c, "m", &ps, err, sizeof err), -1);
    assert_non_null(strstr(err, "line 2: not a JSON object"));
    unlink(path);

    c = with_file("plain\n\n{\"text\": \"wrong key\"}\n");
    assert_int_equal(prompts_load(&c, "m", &ps, err, sizeof err), -1);
    assert_non_null(strstr(err, "line 3: no \"prompt\" string or \"messages\" array"));
    unlink(path);
}

/* A binary file is refused by line and byte, never sent as invalid UTF-8. */
static void a_binary_prompts_file_is_refused_by_line_and_byte(void **state)
{
    (void)state;
    static const char *const bad[] = {"ok\nab\xFF\xFE\n", "ok\nab\xC3\n", "ok\nab\xED\xA0\x80\n",
                                      "ok\nab\xC0\xAF\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        llm_config c = with_file(bad[i]);
        prompt_set ps;
        char err[256] = "";
        assert_int_equal(prompts_load(&c, "m", &ps, err, sizeof err), -1);
        if (!strstr(err, "line 2: byte 3 is not UTF-8 text"))
            fail_msg("case %zu: %s", i, err);
        unlink(path);
    }
    llm_config c = with_file("caf\xC3\xA9 \xE2\x80\xA6 \xF0\x9F\x98\x80\n"); /* valid */
    prompt_set ps;
    char err[256] = "";
    assert_int_equal(prompts_load(&c, "m", &ps, err, sizeof err), 0);
    prompts_free(&ps);
    unlink(path);
}

/* "max_tokens": -5 (or 1e12, or "many") is an error on its line, not silently dropped; two
 * objects on one line are one error, not the first object. */
static void a_bad_max_tokens_or_a_second_object_is_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {"{\"prompt\": \"a\", \"max_tokens\": -5}\n",
                                      "{\"prompt\": \"a\", \"max_tokens\": 1e12}\n",
                                      "{\"prompt\": \"a\", \"max_tokens\": \"many\"}\n",
                                      "{\"prompt\": \"a\", \"max_tokens\": 2.5}\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        llm_config c = with_file(bad[i]);
        prompt_set ps;
        char err[256] = "";
        assert_int_equal(prompts_load(&c, "m", &ps, err, sizeof err), -1);
        if (!strstr(err, "line 1: \"max_tokens\" must be a whole number from 1 to 10000000"))
            fail_msg("case %zu: %s", i, err);
        unlink(path);
    }
    llm_config c = with_file("{\"prompt\": \"a\"}{\"prompt\": \"b\"}\n");
    prompt_set ps;
    char err[256] = "";
    assert_int_equal(prompts_load(&c, "m", &ps, err, sizeof err), -1);
    assert_non_null(strstr(err, "line 1: not a JSON object"));
    unlink(path);
}

static void an_empty_or_missing_file_says_so(void **state)
{
    (void)state;
    llm_config c = with_file("\n  \n");
    prompt_set ps;
    char err[256] = "";
    assert_int_equal(prompts_load(&c, "m", &ps, err, sizeof err), -1);
    assert_non_null(strstr(err, "no prompts in it"));
    unlink(path);
    c.prompts_file = "/nonexistent/prompts.txt";
    assert_int_equal(prompts_load(&c, "m", &ps, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/prompts.txt: cannot read it"));
}

static void messages_need_the_chat_endpoint(void **state)
{
    (void)state;
    llm_config c = with_file("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}\n");
    c.endpoint = LLM_ENDPOINT_COMPLETIONS;
    prompt_set ps;
    char err[256] = "";
    assert_int_equal(prompts_load(&c, "m", &ps, err, sizeof err), -1);
    assert_non_null(strstr(err, "line 1"));
    assert_non_null(strstr(err, "--endpoint chat"));
    unlink(path);
}

static void shuffle_is_a_seeded_permutation(void **state)
{
    (void)state;
    char text[1024] = "";
    for (int i = 0; i < 50; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "p%d\n", i);
    llm_config c = with_file(text);
    c.prompts_shuffle = true;
    c.seed = 9;
    c.seed_set = true;
    prompt_set a, b;
    char err[256];
    assert_int_equal(prompts_load(&c, "m", &a, err, sizeof err), 0);
    assert_int_equal(prompts_load(&c, "m", &b, err, sizeof err), 0);
    int seen[50] = {0}, in_place = 0;
    for (size_t i = 0; i < 50; i++) {
        assert_int_equal(a.order[i], b.order[i]); /* same seed, same order */
        seen[a.order[i]]++;
        in_place += a.order[i] == i;
    }
    for (int i = 0; i < 50; i++)
        assert_int_equal(seen[i], 1);
    assert_true(in_place < 10);
    prompts_free(&a);
    prompts_free(&b);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jsonl_and_plain_lines_become_bodies_in_file_order),
        cmocka_unit_test(a_bad_line_is_reported_by_number),
        cmocka_unit_test(an_empty_or_missing_file_says_so),
        cmocka_unit_test(a_binary_prompts_file_is_refused_by_line_and_byte),
        cmocka_unit_test(a_bad_max_tokens_or_a_second_object_is_refused),
        cmocka_unit_test(messages_need_the_chat_endpoint),
        cmocka_unit_test(shuffle_is_a_seeded_permutation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
