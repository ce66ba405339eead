/* base/ptimer: a one-shot timer on a uv loop that fires at an absolute llm_now_ns() time
 * to within tens of microseconds (uv timers count whole milliseconds). Loop thread only.
 *
 * A timerfd watched by a uv_poll_t on Linux; elsewhere a uv_timer rounded up to the next
 * millisecond. */
#ifndef LLM_PTIMER_H
#define LLM_PTIMER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct ptimer ptimer;
typedef void (*ptimer_cb)(ptimer *t);

struct ptimer {
    ptimer_cb cb;
    void *data; /* the owner's */
    int tfd;    /* -1 when the uv_timer is used */
    uv_poll_t poll;
    uv_timer_t fallback;
    uint64_t due_ns; /* the uv_timer's absolute time: it is re-armed if it fires early */
};

/* portable: use the uv_timer even where timerfd exists. 0 or -1. */
int ptimer_init(ptimer *t, uv_loop_t *loop, bool portable, ptimer_cb cb, void *data);
/* Fires cb once at when_ns (now if it has passed); replaces an earlier arming. */
void ptimer_arm_at(ptimer *t, uint64_t when_ns);
void ptimer_stop(ptimer *t);
/* Closes the loop handles; run the loop afterwards to finish closing them. */
void ptimer_close(ptimer *t);

#endif
