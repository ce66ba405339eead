/* Tests for engine/prompt: request bodies built once, distinct prompts per request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "engine/prompt.h"

static llm_config base_config(void)
{
    llm_config c;
    memset(&c, 0, sizeof c);
    c.prompt_chars = 200;
    c.max_tokens = 64;
    c.temperature = -1;
    return c;
}

static const char *prompt_text(cJSON *body)
{
    cJSON *msgs = cJSON_GetObjectItem(body, "messages");
    if (msgs)
        return cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 0), "content")->valuestring;
    return cJSON_GetObjectItem(body, "prompt")->valuestring;
}

static void chat_body_streams_with_usage_and_exact_prompt_length(void **state)
{
    (void)state;
    llm_config c = base_config();
    prompt_body b;
    char err[256];
    assert_int_equal(prompt_build(&c, "m1", 7, &b, err, sizeof err), 0);
    cJSON *body = cJSON_Parse(b.json);
    assert_non_null(body);
    assert_string_equal(cJSON_GetObjectItem(body, "model")->valuestring, "m1");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(body, "stream")));
    assert_true(cJSON_IsTrue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(body, "stream_options"), "include_usage")));
    assert_int_equal(cJSON_GetObjectItem(body, "max_tokens")->valueint, 64);
    assert_null(cJSON_GetObjectItem(body, "temperature"));
    assert_null(cJSON_GetObjectItem(body, "ignore_eos"));
    assert_int_equal(strlen(prompt_text(body)), 200);
    cJSON_Delete(body);
    prompt_free(&b);
}

static void nonce_changes_the_prompt_prefix_per_request(void **state)
{
    (void)state;
    llm_config c = base_config();
    prompt_body b;
    char err[256];
    assert_int_equal(prompt_build(&c, NULL, 1, &b, err, sizeof err), 0);
    prompt_set_nonce(&b, 1);
    cJSON *first = cJSON_Parse(b.json);
    prompt_set_nonce(&b, 2);
    cJSON *second = cJSON_Parse(b.json);
    const char *p1 = prompt_text(first), *p2 = prompt_text(second);
    assert_int_not_equal(memcmp(p1, p2, PROMPT_NONCE_LEN), 0);
    assert_string_equal(p1 + PROMPT_NONCE_LEN, p2 + PROMPT_NONCE_LEN);
    assert_null(cJSON_GetObjectItem(first, "model"));
    cJSON_Delete(first);
    cJSON_Delete(second);
    prompt_free(&b);
}

static void prompt_text_is_varied_words_not_one_repeated_token(void **state)
{
    (void)state;
    char text[501];
    uint64_t rng = 42;
    prompt_fill_text(text, 500, &rng);
    assert_int_equal(strlen(text), 500);
    char first[16] = "";
    sscanf(text, "%15s", first);
    int different = 0;
    for (const char *p = strchr(text, ' '); p; p = strchr(p + 1, ' '))
        if (strncmp(p + 1, first, strlen(first)) != 0)
            different++;
    assert_true(different > 20);
}

static void ignore_eos_completions_and_body_json_are_applied(void **state)
{
    (void)state;
    llm_config c = base_config();
    c.endpoint = LLM_ENDPOINT_COMPLETIONS;
    c.ignore_eos = true;
    c.temperature = 0.5;
    c.body_json = "{\"top_p\":0.9,\"max_tokens\":7}";
    prompt_body b;
    char err[256];
    assert_int_equal(prompt_build(&c, "m", 3, &b, err, sizeof err), 0);
    cJSON *body = cJSON_Parse(b.json);
    assert_true(cJSON_IsString(cJSON_GetObjectItem(body, "prompt")));
    assert_null(cJSON_GetObjectItem(body, "messages"));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(body, "ignore_eos")));
    assert_int_equal(cJSON_GetObjectItem(body, "min_tokens")->valueint, 64);
    assert_int_equal(cJSON_GetObjectItem(body, "max_tokens")->valueint, 7);
    assert_true(cJSON_GetObjectItem(body, "top_p")->valuedouble == 0.9);
    assert_true(cJSON_GetObjectItem(body, "temperature")->valuedouble == 0.5);
    cJSON_Delete(body);
    prompt_free(&b);
}

static void body_json_that_is_not_an_object_is_refused(void **state)
{
    (void)state;
    llm_config c = base_config();
    c.body_json = "[1,2]";
    prompt_body b;
    char err[256] = "";
    assert_int_equal(prompt_build(&c, "m", 3, &b, err, sizeof err), -1);
    assert_non_null(strstr(err, "--body-json"));
}

static void image_body_is_openai_vision_format_without_nonce(void **state)
{
    (void)state;
    llm_config c = base_config();
    c.image_prompt = "Describe the contents of this image.";
    prompt_body b;
    char err[256];
    assert_int_equal(prompt_build_image(&c, "m", "data:image/png;base64,AAAA", &b, err, sizeof err),
                     0);
    assert_true(b.nonce_offset == PROMPT_NO_NONCE);
    prompt_set_nonce(&b, 42); /* a shared body is never written */
    cJSON *body = cJSON_Parse(b.json);
    cJSON *content = cJSON_GetObjectItem(
        cJSON_GetArrayItem(cJSON_GetObjectItem(body, "messages"), 0), "content");
    assert_int_equal(cJSON_GetArraySize(content), 2);
    cJSON *text = cJSON_GetArrayItem(content, 0), *image = cJSON_GetArrayItem(content, 1);
    assert_string_equal(cJSON_GetObjectItem(text, "type")->valuestring, "text");
    assert_string_equal(cJSON_GetObjectItem(text, "text")->valuestring, c.image_prompt);
    assert_string_equal(cJSON_GetObjectItem(image, "type")->valuestring, "image_url");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(image, "image_url"), "url")->valuestring,
        "data:image/png;base64,AAAA");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(body, "stream")));
    cJSON_Delete(body);
    prompt_free(&b);
}

static void image_body_needs_the_chat_endpoint(void **state)
{
    (void)state;
    llm_config c = base_config();
    c.endpoint = LLM_ENDPOINT_COMPLETIONS;
    prompt_body b;
    char err[256] = "";
    assert_int_equal(prompt_build_image(&c, "m", "data:image/png;base64,AAAA", &b, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "--endpoint chat"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chat_body_streams_with_usage_and_exact_prompt_length),
        cmocka_unit_test(nonce_changes_the_prompt_prefix_per_request),
        cmocka_unit_test(prompt_text_is_varied_words_not_one_repeated_token),
        cmocka_unit_test(ignore_eos_completions_and_body_json_are_applied),
        cmocka_unit_test(body_json_that_is_not_an_object_is_refused),
        cmocka_unit_test(image_body_is_openai_vision_format_without_nonce),
        cmocka_unit_test(image_body_needs_the_chat_endpoint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
