/* Tests for engine/slots: the busy list and the two lists of requests in flight in start
 * order (the engine checks --request-timeout and --connect-timeout at their heads alone). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "engine/slots.h"

static void assert_order(const slot_pool *p, int which, const req_slot *const *want, size_t n)
{
    const req_slot *s = p->fifo_head[which], *prev = NULL;
    for (size_t i = 0; i < n; i++, prev = s, s = s->fifo_next[which]) {
        assert_ptr_equal(s, want[i]);
        assert_ptr_equal(s->fifo_prev[which], prev);
        assert_true(s->fifo_t[which] != 0);
    }
    assert_null(s);
    assert_ptr_equal(p->fifo_tail[which], n ? want[n - 1] : NULL);
}

static void requests_in_flight_are_kept_in_start_order(void **state)
{
    (void)state;
    slot_pool p;
    assert_int_equal(slot_pool_alloc(&p, 4), 0);
    req_slot *a = &p.slots[0], *b = &p.slots[1], *c = &p.slots[2], *d = &p.slots[3];
    a->t0 = 10, b->t0 = 20, c->t0 = 30, d->t0 = 40;
    slot_pool_busy_add(&p, a);
    slot_pool_busy_add(&p, b);
    slot_pool_busy_add(&p, c);
    slot_pool_busy_add(&p, d);
    for (int k = 0; k < REQ_FIFOS; k++)
        assert_order(&p, k, (const req_slot *[]){a, b, c, d}, 4);
    assert_int_equal(b->fifo_t[REQ_FIFO_STARTED], 20);

    /* one in the middle ends, the head ends, the tail ends */
    slot_pool_busy_remove(&p, c);
    assert_order(&p, REQ_FIFO_STARTED, (const req_slot *[]){a, b, d}, 3);
    slot_pool_busy_remove(&p, a);
    assert_order(&p, REQ_FIFO_STARTED, (const req_slot *[]){b, d}, 2);
    slot_pool_busy_remove(&p, d);
    assert_order(&p, REQ_FIFO_CONNECTING, (const req_slot *[]){b}, 1);
    assert_int_equal(p.n_busy, 1);
    assert_int_equal(a->fifo_t[REQ_FIFO_STARTED], 0);

    /* connected: off the connecting list only; removing twice is harmless */
    slot_fifo_remove(&p, REQ_FIFO_CONNECTING, b);
    slot_fifo_remove(&p, REQ_FIFO_CONNECTING, b);
    assert_order(&p, REQ_FIFO_CONNECTING, NULL, 0);
    assert_order(&p, REQ_FIFO_STARTED, (const req_slot *[]){b}, 1);

    /* a re-sent request moves to the tail with its new start */
    a->t0 = 50;
    slot_pool_busy_add(&p, a);
    slot_fifo_push(&p, REQ_FIFO_STARTED, b, 60);
    slot_fifo_push(&p, REQ_FIFO_CONNECTING, b, 60);
    assert_order(&p, REQ_FIFO_STARTED, (const req_slot *[]){a, b}, 2);
    assert_order(&p, REQ_FIFO_CONNECTING, (const req_slot *[]){a, b}, 2);
    assert_int_equal(b->fifo_t[REQ_FIFO_STARTED], 60);

    slot_pool_busy_remove(&p, b);
    slot_pool_busy_remove(&p, a);
    for (int k = 0; k < REQ_FIFOS; k++)
        assert_order(&p, k, NULL, 0);
    assert_int_equal(p.n_busy, 0);
    slot_pool_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(requests_in_flight_are_kept_in_start_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
