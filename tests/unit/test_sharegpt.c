/* Tests for engine/sharegpt: the streaming splitter of a top-level JSON array (the same
 * elements whatever the read size, strings and escapes understood, bad elements counted),
 * and ShareGPT conversations into sampled, filtered request bodies. */
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

#include "engine/sharegpt.h"
#include "testutil.h"

typedef struct {
    char text[16][256];
    int n;
} elems;

static int collect(void *user, const char *elem, size_t len)
{
    elems *e = user;
    assert_true(e->n < 16 && len < 256);
    memcpy(e->text[e->n], elem, len);
    e->text[e->n++][len] = '\0';
    return 0;
}

static FILE *file_of(const char *text)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    fputs(text, f);
    rewind(f);
    return f;
}

static const char tricky[] =
    " \n[ {\"a\": \"}{][\\\"\\\\\"}, 12, \"not {an} object\", [1, {\"b\": 2}],\n"
    "  {\"c\": [{\"d\": \"\\\\\"}], \"e\": \"\\\\\\\"}\"} ,{}]  ";

static void elements_are_the_same_at_every_read_size(void **state)
{
    (void)state;
    for (size_t chunk = 1; chunk <= sizeof tricky; chunk++) {
        FILE *f = file_of(tricky);
        elems e = {0};
        size_t skipped = 0;
        assert_int_equal(json_array_split(f, chunk, 1 << 20, collect, &e, &skipped), 0);
        fclose(f);
        assert_int_equal(e.n, 3);
        assert_string_equal(e.text[0], "{\"a\": \"}{][\\\"\\\\\"}");
        assert_string_equal(e.text[1], "{\"c\": [{\"d\": \"\\\\\"}], \"e\": \"\\\\\\\"}\"}");
        assert_string_equal(e.text[2], "{}");
        assert_int_equal(skipped, 3); /* 12, the string, the array */
        for (int i = 0; i < e.n; i++) {
            cJSON *doc = cJSON_Parse(e.text[i]);
            assert_true(cJSON_IsObject(doc));
            cJSON_Delete(doc);
        }
    }
}

static void a_truncated_file_and_an_oversized_element_are_skipped(void **state)
{
    (void)state;
    FILE *f = file_of("[{\"x\": 1}, {\"long\": \"0123456789012345678901234567890123456789\"}, "
                      "{\"y\": 2}, {\"cut\": \"he");
    elems e = {0};
    size_t skipped = 0;
    assert_int_equal(json_array_split(f, 7, 32, collect, &e, &skipped), 0);
    fclose(f);
    assert_int_equal(e.n, 2);
    assert_string_equal(e.text[1], "{\"y\": 2}");
    assert_int_equal(skipped, 2);
    f = file_of("{\"not\": \"an array\"}");
    assert_int_equal(json_array_split(f, 7, 32, collect, &e, &skipped), -1);
    fclose(f);
}

static const char *write_file(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tu_tmpdir(), name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static llm_config sharegpt_config(const char *path)
{
    llm_config c;
    memset(&c, 0, sizeof c);
    c.max_tokens = 64;
    c.temperature = -1;
    c.dataset = LLM_DATASET_SHAREGPT;
    c.dataset_file = (char *)path;
    return c;
}

static void first_human_turn_is_the_prompt_and_the_answer_sets_max_tokens(void **state)
{
    (void)state;
    const char *path = write_file(
        "sg.json",
        "[{\"id\": \"a\", \"conversations\": [{\"from\": \"system\", \"value\": \"be kind\"}, "
        "{\"from\": \"human\", \"value\": \"What is a river?\"}, {\"from\": \"gpt\", \"value\": "
        "\"Water that flows, usually to the sea, forty chars.\"}]},\n"
        " {\"id\": \"b\", \"conversations\": [{\"from\": \"human\", \"value\": \"no answer\"}]},\n"
        " {\"id\": \"c\", \"conversations\": [{\"from\": \"human\", \"value\": \"x\"}, ]},\n"
        " {\"id\": \"d\", \"conversations\": [{\"from\": \"human\", \"value\": \"" /* long */
        "0123456789012345678901234567890123456789012345678901234567890123456789\"}, "
        "{\"from\": \"gpt\", \"value\": \"ok\"}]},\n"
        " 7]");
    llm_config c = sharegpt_config(path);
    c.max_input_tokens = 10;
    prompt_set ps;
    sharegpt_counts n;
    char err[512];
    assert_int_equal(sharegpt_load(&c, "m", 100, &ps, &n, err, sizeof err), 0);
    assert_int_equal(n.records, 5);
    assert_int_equal(n.kept, 1);
    assert_int_equal(n.skipped, 3); /* no answer, bad JSON, not an object */
    assert_int_equal(n.filtered, 1);
    assert_int_equal(ps.n, 1);
    cJSON *body = cJSON_Parse(ps.bodies[0].json);
    cJSON *msg = cJSON_GetArrayItem(cJSON_GetObjectItem(body, "messages"), 0);
    assert_string_equal(cJSON_GetObjectItem(msg, "content")->valuestring, "What is a river?");
    assert_int_equal(cJSON_GetObjectItem(body, "max_tokens")->valueint, (50 + 3) / 4);
    assert_int_equal(ps.bodies[0].max_tokens, 13);
    cJSON_Delete(body);
    prompts_free(&ps);
    unlink(path);
}

/* A reservoir of `keep`: memory bounded by what is kept, the sample set by the seed. */
static void a_large_file_is_sampled_to_what_is_kept_by_the_seed(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/big.json", tu_tmpdir());
    FILE *f = fopen(path, "w");
    fputs("[", f);
    for (int i = 0; i < 3000; i++)
        fprintf(f,
                "%s{\"conversations\": [{\"from\": \"human\", \"value\": \"question %d\"}, "
                "{\"from\": \"gpt\", \"value\": \"answer\"}]}",
                i ? ",\n" : "", i);
    fputs("]", f);
    fclose(f);
    llm_config c = sharegpt_config(path);
    c.seed_set = true;
    char first[3][64];
    for (int run = 0; run < 3; run++) {
        c.seed = run == 2 ? 99 : 5;
        prompt_set ps;
        sharegpt_counts n;
        char err[512];
        assert_int_equal(sharegpt_load(&c, NULL, 50, &ps, &n, err, sizeof err), 0);
        assert_int_equal(n.records, 3000);
        assert_int_equal(ps.n, 50);
        int late = 0; /* the reservoir reaches the whole file, not its first 50 */
        for (size_t i = 0; i < ps.n; i++) {
            const char *q = strstr(ps.bodies[i].json, "question ");
            late += q && atoi(q + 9) >= 1500;
        }
        assert_true(late > 10);
        const char *q = strstr(prompts_next(&ps)->json, "question ");
        snprintf(first[run], sizeof first[run], "%.14s", q);
        prompts_free(&ps);
    }
    assert_string_equal(first[0], first[1]);
    assert_string_not_equal(first[0], first[2]);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(elements_are_the_same_at_every_read_size),
        cmocka_unit_test(a_truncated_file_and_an_oversized_element_are_skipped),
        cmocka_unit_test(first_human_turn_is_the_prompt_and_the_answer_sets_max_tokens),
        cmocka_unit_test(a_large_file_is_sampled_to_what_is_kept_by_the_seed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
