/* Tests for core/ring: SPSC order, no loss or duplication across threads, full ring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "core/ring.h"

#define N_RECORDS 1000000ULL
#define DEADLINE_S 60.0

typedef struct {
    uint64_t seq;
    uint64_t check; /* seq * a constant: a torn copy shows */
    char payload[40];
} rec;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static rec make_rec(uint64_t seq)
{
    rec r;
    memset(&r, 0, sizeof r);
    r.seq = seq;
    r.check = seq * 0x9E3779B97F4A7C15ULL;
    r.payload[seq % sizeof r.payload] = (char)seq;
    return r;
}

static void full_ring_rejects_push_until_a_pop(void **state)
{
    (void)state;
    spsc_ring r;
    assert_int_equal(ring_init(&r, 60, sizeof(rec)), 0);
    assert_int_equal(ring_capacity(&r), 64);
    for (uint64_t i = 0; i < 64; i++) {
        rec x = make_rec(i);
        assert_true(ring_push_spsc(&r, &x));
    }
    rec extra = make_rec(64), out;
    assert_false(ring_push_spsc(&r, &extra));
    assert_int_equal(ring_count(&r), 64);
    assert_int_equal(ring_pop_burst_spsc(&r, &out, 1), 1);
    assert_int_equal(out.seq, 0);
    assert_true(ring_push_spsc(&r, &extra));
    assert_false(ring_push_spsc(&r, &extra));
    ring_free(&r);
}

static size_t pop_and_check(spsc_ring *r, size_t max, uint64_t *next_pop)
{
    rec out[16];
    size_t n = ring_pop_burst_spsc(r, out, max);
    for (size_t i = 0; i < n; i++, (*next_pop)++) {
        assert_int_equal(out[i].seq, *next_pop);
        assert_int_equal(out[i].check, *next_pop * 0x9E3779B97F4A7C15ULL);
    }
    return n;
}

static void burst_pop_across_the_wrap_keeps_order(void **state)
{
    (void)state;
    spsc_ring r;
    assert_int_equal(ring_init(&r, 8, sizeof(rec)), 0);
    uint64_t next_push = 0, next_pop = 0, refused = 0;
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 7; i++) {
            rec x = make_rec(next_push);
            if (ring_push_spsc(&r, &x))
                next_push++;
            else
                refused++;
        }
        /* alternate short and long bursts so reads start at every offset and wrap */
        pop_and_check(&r, round % 2 ? 3 : 16, &next_pop);
    }
    while (pop_and_check(&r, 16, &next_pop) > 0)
        ;
    assert_true(refused > 0);
    assert_true(next_push > 8 * 4);
    assert_int_equal(next_pop, next_push);
    ring_free(&r);
}

static void init_rounds_capacity_up_to_a_power_of_two(void **state)
{
    (void)state;
    spsc_ring r;
    assert_int_equal(ring_init(&r, 1000, 8), 0);
    assert_int_equal(ring_capacity(&r), 1024);
    ring_free(&r);
    assert_int_equal(ring_init(&r, 0, 8), 0);
    assert_int_equal(ring_capacity(&r), 2);
    ring_free(&r);
    assert_int_equal(ring_init(&r, 16, 0), -1);
    ring_free(&r);
}

typedef struct {
    spsc_ring ring;
    atomic_bool timed_out;
    uint64_t received, out_of_order, corrupt, full_seen;
} shared;

static void *producer(void *arg)
{
    shared *s = arg;
    double deadline = now_s() + DEADLINE_S;
    for (uint64_t seq = 0; seq < N_RECORDS; seq++) {
        rec x = make_rec(seq);
        while (!ring_push_spsc(&s->ring, &x)) {
            s->full_seen++;
            if (atomic_load(&s->timed_out) || now_s() > deadline) {
                atomic_store(&s->timed_out, true);
                return NULL;
            }
            sched_yield();
        }
    }
    return NULL;
}

static void *consumer(void *arg)
{
    shared *s = arg;
    rec batch[16];
    double deadline = now_s() + DEADLINE_S;
    while (s->received < N_RECORDS) {
        size_t n = ring_pop_burst_spsc(&s->ring, batch, 16);
        for (size_t i = 0; i < n; i++) {
            rec want = make_rec(s->received);
            if (batch[i].seq != s->received)
                s->out_of_order++;
            if (memcmp(&batch[i], &want, sizeof want) != 0)
                s->corrupt++;
            s->received++;
        }
        if (n == 0) {
            if (atomic_load(&s->timed_out) || now_s() > deadline) {
                atomic_store(&s->timed_out, true);
                return NULL;
            }
            sched_yield();
        }
    }
    return NULL;
}

static void million_records_cross_threads_in_order_none_lost(void **state)
{
    (void)state;
    static shared s;
    memset(&s, 0, sizeof s);
    atomic_init(&s.timed_out, false);
    assert_int_equal(ring_init(&s.ring, 64, sizeof(rec)), 0);
    pthread_t p, c;
    assert_int_equal(pthread_create(&c, NULL, consumer, &s), 0);
    assert_int_equal(pthread_create(&p, NULL, producer, &s), 0);
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    assert_false(atomic_load(&s.timed_out));
    assert_int_equal(s.received, N_RECORDS);
    assert_int_equal(s.out_of_order, 0);
    assert_int_equal(s.corrupt, 0);
    assert_int_equal(ring_count(&s.ring), 0); /* nothing duplicated or left over */
    ring_free(&s.ring);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_ring_rejects_push_until_a_pop),
        cmocka_unit_test(burst_pop_across_the_wrap_keeps_order),
        cmocka_unit_test(init_rounds_capacity_up_to_a_power_of_two),
        cmocka_unit_test(million_records_cross_threads_in_order_none_lost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
