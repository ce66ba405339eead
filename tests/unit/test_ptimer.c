/* Tests for base/ptimer: fires once, not before its time, re-arming replaces the earlier
 * time, a stopped timer stays quiet; the timerfd backend and the uv_timer fallback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <uv.h>

#include "base/util.h"
#include "base/ptimer.h"

#define WAIT_NS (2 * LLM_NS_PER_SEC)

typedef struct {
    uv_loop_t loop;
    ptimer t;
    int fired;
    uint64_t fired_at;
} fixture;

static void on_fire(ptimer *t)
{
    fixture *f = t->data;
    f->fired++;
    f->fired_at = llm_now_ns();
}

static void open_fixture(fixture *f, bool portable)
{
    *f = (fixture){0};
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(ptimer_init(&f->t, &f->loop, portable, on_fire, f), 0);
    assert_true(portable ? f->t.tfd < 0 : f->t.tfd >= 0);
}

static void close_fixture(fixture *f)
{
    ptimer_close(&f->t);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

static void run_for(fixture *f, int fired, uint64_t ns)
{
    uint64_t end = llm_now_ns() + ns;
    while (f->fired < fired && llm_now_ns() < end)
        uv_run(&f->loop, UV_RUN_NOWAIT);
}

static void fires_once_and_not_early(bool portable)
{
    fixture f;
    open_fixture(&f, portable);
    uint64_t when = llm_now_ns() + 3 * LLM_NS_PER_MS + 300 * 1000; /* 3.3 ms */
    ptimer_arm_at(&f.t, when);
    run_for(&f, 1, WAIT_NS);
    assert_int_equal(f.fired, 1);
    assert_true(f.fired_at >= when);
    run_for(&f, 2, 20 * LLM_NS_PER_MS);
    assert_int_equal(f.fired, 1); /* one-shot */
    close_fixture(&f);
}

static void a_passed_time_fires_at_once(bool portable)
{
    fixture f;
    open_fixture(&f, portable);
    ptimer_arm_at(&f.t, llm_now_ns() - LLM_NS_PER_SEC);
    run_for(&f, 1, WAIT_NS);
    assert_int_equal(f.fired, 1);
    close_fixture(&f);
}

static void rearming_replaces_the_earlier_time(bool portable)
{
    fixture f;
    open_fixture(&f, portable);
    uint64_t start = llm_now_ns();
    ptimer_arm_at(&f.t, start + 10 * LLM_NS_PER_SEC);
    ptimer_arm_at(&f.t, start + 2 * LLM_NS_PER_MS);
    run_for(&f, 1, WAIT_NS);
    assert_int_equal(f.fired, 1);
    assert_true(f.fired_at - start < 5 * LLM_NS_PER_SEC);
    /* ...and a later time replaces an earlier one too. */
    ptimer_arm_at(&f.t, llm_now_ns() + 2 * LLM_NS_PER_MS);
    ptimer_arm_at(&f.t, llm_now_ns() + 10 * LLM_NS_PER_SEC);
    run_for(&f, 2, 50 * LLM_NS_PER_MS);
    assert_int_equal(f.fired, 1);
    close_fixture(&f);
}

static void stopped_timer_stays_quiet(bool portable)
{
    fixture f;
    open_fixture(&f, portable);
    ptimer_arm_at(&f.t, llm_now_ns() + 2 * LLM_NS_PER_MS);
    ptimer_stop(&f.t);
    run_for(&f, 1, 50 * LLM_NS_PER_MS);
    assert_int_equal(f.fired, 0);
    close_fixture(&f);
}

#define BOTH(name)                                                                                 \
    static void name##_timerfd(void **state)                                                       \
    {                                                                                              \
        (void)state;                                                                               \
        name(false);                                                                               \
    }                                                                                              \
    static void name##_uv_timer(void **state)                                                      \
    {                                                                                              \
        (void)state;                                                                               \
        name(true);                                                                                \
    }

BOTH(fires_once_and_not_early)
BOTH(a_passed_time_fires_at_once)
BOTH(rearming_replaces_the_earlier_time)
BOTH(stopped_timer_stays_quiet)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fires_once_and_not_early_timerfd),
        cmocka_unit_test(fires_once_and_not_early_uv_timer),
        cmocka_unit_test(a_passed_time_fires_at_once_timerfd),
        cmocka_unit_test(a_passed_time_fires_at_once_uv_timer),
        cmocka_unit_test(rearming_replaces_the_earlier_time_timerfd),
        cmocka_unit_test(rearming_replaces_the_earlier_time_uv_timer),
        cmocka_unit_test(stopped_timer_stays_quiet_timerfd),
        cmocka_unit_test(stopped_timer_stays_quiet_uv_timer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
