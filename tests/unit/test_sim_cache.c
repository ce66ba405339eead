/* Tests for sim_cache: the simulator's prefix cache — chained block hashes, the leading run
 * of cached blocks, least-recently-used eviction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "sim/sim_internal.h"

/* One block of text: 16 tokens of the simulator's tokenizer (3 digits each). */
#define SIM_CACHE_BLOCK_CHARS (SIM_CACHE_BLOCK_TOKENS * 3)

/* Blocks of the prompt found cached (and every block kept). */
static long lookup(sim_cache *c, const char *text)
{
    sim_cache_hasher h;
    cache_hasher_init(&h);
    cache_feed(c, &h, text, strlen(text));
    return h.hit_blocks;
}

/* n blocks of text; block i is "A<i>" padded, or "B<i>" from block `diverge` on. */
static void make_text(char *out, int n, int diverge)
{
    for (int i = 0; i < n; i++)
        snprintf(out + i * SIM_CACHE_BLOCK_CHARS, SIM_CACHE_BLOCK_CHARS + 1, "%c%047d",
                 i >= diverge ? 'B' : 'A', i);
}

static void a_repeated_prefix_is_found_block_by_block(void **state)
{
    (void)state;
    sim_cache c;
    assert_int_equal(cache_init(&c, 100 * SIM_CACHE_BLOCK_TOKENS), 0);
    char a[10 * SIM_CACHE_BLOCK_CHARS + 8], b[10 * SIM_CACHE_BLOCK_CHARS + 8];
    make_text(a, 10, 10);
    make_text(b, 10, 6); /* the same first 6 blocks, then different */
    assert_int_equal(lookup(&c, a), 0);
    assert_int_equal(lookup(&c, a), 10);
    assert_int_equal(lookup(&c, b), 6);
    /* a block equal to a cached one but after a different prefix is not a hit */
    char shifted[sizeof a + 1];
    snprintf(shifted, sizeof shifted, "X%s", a);
    assert_int_equal(lookup(&c, shifted), 0);
    cache_free(&c);
}

static void the_least_recently_used_prefix_is_evicted_first(void **state)
{
    (void)state;
    sim_cache c;
    assert_int_equal(cache_init(&c, 8 * SIM_CACHE_BLOCK_TOKENS), 0); /* 8 blocks */
    char p[3][4 * SIM_CACHE_BLOCK_CHARS + 8];
    for (int k = 0; k < 3; k++) {
        make_text(p[k], 4, 4);
        p[k][1] = (char)('x' + k); /* three prompts of 4 blocks, different from block 0 */
    }
    assert_int_equal(lookup(&c, p[0]), 0);
    assert_int_equal(lookup(&c, p[1]), 0); /* full: p0, p1 */
    assert_int_equal(lookup(&c, p[0]), 4); /* p0 is now the most recent */
    assert_int_equal(lookup(&c, p[2]), 0); /* evicts p1's blocks */
    assert_int_equal(lookup(&c, p[0]), 4);
    assert_int_equal(lookup(&c, p[1]), 0);
    cache_free(&c);
}

/* Many insertions and evictions keep the index consistent (deletion by backward shift). */
static void churn_keeps_every_recent_block_findable(void **state)
{
    (void)state;
    sim_cache c;
    assert_int_equal(cache_init(&c, 64 * SIM_CACHE_BLOCK_TOKENS), 0);
    char text[SIM_CACHE_BLOCK_CHARS + 1];
    for (int i = 0; i < 5000; i++) {
        snprintf(text, sizeof text, "%048d", i);
        assert_int_equal(lookup(&c, text), 0);
        if (i % 500 != 499)
            continue;
        for (int k = i - 63; k <= i; k++) { /* the last 64, oldest first: all hits */
            snprintf(text, sizeof text, "%048d", k);
            assert_int_equal(lookup(&c, text), 1);
        }
        snprintf(text, sizeof text, "%048d", i - 64); /* the one before them is gone */
        assert_int_equal(lookup(&c, text), 0);
    }
    cache_free(&c);
}

static void a_cache_of_zero_tokens_finds_nothing(void **state)
{
    (void)state;
    sim_cache c;
    assert_int_equal(cache_init(&c, 0), 0);
    char a[4 * SIM_CACHE_BLOCK_CHARS + 8];
    make_text(a, 4, 4);
    assert_int_equal(lookup(&c, a), 0);
    assert_int_equal(lookup(&c, a), 0);
    cache_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_repeated_prefix_is_found_block_by_block),
        cmocka_unit_test(the_least_recently_used_prefix_is_evicted_first),
        cmocka_unit_test(churn_keeps_every_recent_block_findable),
        cmocka_unit_test(a_cache_of_zero_tokens_finds_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
