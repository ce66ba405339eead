#include "base/ptimer.h"

#include <string.h>
#include <unistd.h>

#include "base/util.h"

#ifdef __linux__
#include <sys/timerfd.h>
#define PTIMER_HAVE_TIMERFD 1
#endif

static void arm_fallback(ptimer *t);

/* libuv's clock counts whole (and possibly coarse) milliseconds: a timer can come due a
 * little before its time on llm_now_ns()'s clock; then it waits out the rest. */
static void on_fallback(uv_timer_t *h)
{
    ptimer *t = h->data;
    if (llm_now_ns() < t->due_ns) {
        arm_fallback(t);
        return;
    }
    t->cb(t);
}

static void arm_fallback(ptimer *t)
{
    uv_update_time(t->fallback.loop);
    uint64_t now = llm_now_ns();
    uint64_t wait_ms = t->due_ns > now ? (t->due_ns - now + LLM_NS_PER_MS - 1) / LLM_NS_PER_MS : 0;
    uv_timer_start(&t->fallback, on_fallback, wait_ms, 0);
}

#ifdef PTIMER_HAVE_TIMERFD
static void on_tfd(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    ptimer *t = h->data;
    uint64_t expirations;
    /* Nothing to read: re-armed or stopped since the loop saw it readable. */
    if (read(t->tfd, &expirations, sizeof expirations) != (ssize_t)sizeof expirations)
        return;
    t->cb(t);
}
#endif

int ptimer_init(ptimer *t, uv_loop_t *loop, bool portable, ptimer_cb cb, void *data)
{
    memset(t, 0, sizeof *t);
    t->cb = cb;
    t->data = data;
    t->tfd = -1;
    if (uv_timer_init(loop, &t->fallback) != 0)
        return -1;
    t->fallback.data = t;
#ifdef PTIMER_HAVE_TIMERFD
    if (!portable) {
        int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (fd >= 0 && uv_poll_init(loop, &t->poll, fd) == 0) {
            t->poll.data = t;
            if (uv_poll_start(&t->poll, UV_READABLE, on_tfd) == 0) {
                t->tfd = fd;
            } else { /* the uv_timer serves instead */
                uv_close((uv_handle_t *)&t->poll, NULL);
                close(fd);
            }
        } else if (fd >= 0) {
            close(fd);
        }
    }
#else
    (void)portable;
#endif
    return 0;
}

void ptimer_arm_at(ptimer *t, uint64_t when_ns)
{
#ifdef PTIMER_HAVE_TIMERFD
    if (t->tfd >= 0) {
        /* llm_now_ns() is CLOCK_MONOTONIC, so the time is absolute on the same clock; 0
         * would disarm, so "now" becomes 1 ns. */
        struct itimerspec its = {0};
        if (when_ns == 0)
            when_ns = 1;
        its.it_value.tv_sec = (time_t)(when_ns / LLM_NS_PER_SEC);
        its.it_value.tv_nsec = (long)(when_ns % LLM_NS_PER_SEC);
        if (timerfd_settime(t->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
            return;
        /* cannot happen with a valid timerfd; if it does, the uv_timer fires instead */
    }
#endif
    /* libuv counts the wait from the loop's cached time, which lags the clock by however
     * long this iteration has run: arm_fallback refreshes it first. */
    t->due_ns = when_ns;
    arm_fallback(t);
}

void ptimer_stop(ptimer *t)
{
#ifdef PTIMER_HAVE_TIMERFD
    if (t->tfd >= 0) {
        struct itimerspec off = {0};
        (void)timerfd_settime(t->tfd, 0, &off, NULL); /* disarming a valid timerfd */
    }
#endif
    uv_timer_stop(&t->fallback);
}

void ptimer_close(ptimer *t)
{
    if (!uv_is_closing((uv_handle_t *)&t->fallback))
        uv_close((uv_handle_t *)&t->fallback, NULL);
    if (t->tfd >= 0) {
        /* uv_close takes the descriptor out of the loop at once, so it may close now. */
        uv_close((uv_handle_t *)&t->poll, NULL);
        close(t->tfd);
        t->tfd = -1;
    }
}
