/* Tests for engine/trace: Mooncake-style JSONL and Azure-style CSV traces read into sorted
 * arrival times and lengths; bad records skipped and counted, never fatal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine/trace.h"
#include "testutil.h"

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

static void mooncake_jsonl_is_sorted_relative_and_keeps_hash_ids(void **state)
{
    (void)state;
    const char *path =
        write_file("t.jsonl", "{\"timestamp\": 1500, \"input_length\": 700, \"output_length\": "
                              "20, \"hash_ids\": [4, 5]}\n"
                              "{\"timestamp\": 1000, \"input_length\": 100, "
                              "\"output_length\": 10}\n"
                              "\n"
                              "{\"timestamp\": \"soon\", \"input_length\": 1}\n"
                              "not json at all\n"
                              "{\"timestamp\": 1250, \"input_length\": 300, \"output_length\": "
                              "30, \"hash_ids\": [4]}\n");
    llm_trace t;
    char err[256];
    assert_int_equal(trace_load(path, 0, &t, err, sizeof err), 0);
    assert_string_equal(t.format, "jsonl");
    assert_int_equal(t.n, 3);
    assert_int_equal(t.skipped, 2);
    assert_int_equal(t.first_bad_line, 4);
    assert_int_equal(t.recs[0].t_ns, 0);
    assert_int_equal(t.recs[0].input, 100);
    assert_int_equal(t.recs[1].t_ns, 250000000);
    assert_int_equal(t.recs[1].n_blocks, 1);
    assert_int_equal(t.blocks[t.recs[1].block_off], 4);
    assert_int_equal(t.recs[2].t_ns, 500000000);
    assert_int_equal(t.recs[2].n_blocks, 2);
    assert_int_equal(t.blocks[t.recs[2].block_off + 1], 5);
    assert_int_equal(t.max_input, 700);
    assert_int_equal(t.max_blocks, 2);
    assert_float_equal(trace_rate(&t), 4.0, 1e-9);
    trace_free(&t);
    unlink(path);
}

static void azure_csv_with_its_header_and_datetimes(void **state)
{
    (void)state;
    const char *path = write_file("t.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                           "2023-11-16 18:15:46.6805900,374,44\n"
                                           "2023-11-16 18:15:50.9951690,396,109\r\n"
                                           "2023-11-16 18:15:51,abc,3\n"
                                           "2023-11-16 18:16:06.6805900,879,9\n");
    llm_trace t;
    char err[256];
    assert_int_equal(trace_load(path, 0, &t, err, sizeof err), 0);
    assert_string_equal(t.format, "csv");
    assert_int_equal(t.n, 3);
    assert_int_equal(t.skipped, 1); /* the header is not a bad record */
    assert_int_equal(t.recs[1].t_ns, 4314579000ULL);
    assert_int_equal(t.recs[1].output, 109);
    assert_int_equal(t.recs[2].t_ns, 20000000000ULL);
    trace_free(&t);
    unlink(path);
}

static void a_request_limit_keeps_the_first_records_in_time(void **state)
{
    (void)state;
    const char *path = write_file("n.csv", "3,10,1\n1,10,1\n2,10,1\n0.5,10,1\n");
    llm_trace t;
    char err[256];
    assert_int_equal(trace_load(path, 2, &t, err, sizeof err), 0);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.recs[1].t_ns, 500000000);
    trace_free(&t);
    unlink(path);
}

static void a_file_without_one_good_record_is_refused_with_the_shapes(void **state)
{
    (void)state;
    const char *path = write_file("bad.jsonl", "{\"a\": 1}\n{\"timestamp\": 0}\n");
    llm_trace t;
    char err[512];
    assert_int_equal(trace_load(path, 0, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "no usable record"));
    assert_non_null(strstr(err, "TIMESTAMP,ContextTokens,GeneratedTokens"));
    unlink(path);
    assert_int_equal(trace_load("/nonexistent/trace", 0, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot read"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mooncake_jsonl_is_sorted_relative_and_keeps_hash_ids),
        cmocka_unit_test(azure_csv_with_its_header_and_datetimes),
        cmocka_unit_test(a_request_limit_keeps_the_first_records_in_time),
        cmocka_unit_test(a_file_without_one_good_record_is_refused_with_the_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
