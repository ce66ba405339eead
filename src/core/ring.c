/* core/ring: SPSC ring after ck_ring / DPDK rte_ring (see ring.h). */
#include "core/ring.h"

#include <stdlib.h>
#include <string.h>

static size_t round_pow2(size_t n)
{
    size_t c = 2;
    while (c < n && c <= SIZE_MAX / 2)
        c <<= 1;
    return c;
}

int ring_init(spsc_ring *r, size_t capacity, size_t rec_size)
{
    memset(r, 0, sizeof *r);
    size_t cap = round_pow2(capacity);
    if (rec_size == 0 || cap > SIZE_MAX / rec_size)
        return -1;
    r->slots = calloc(cap, rec_size);
    if (!r->slots)
        return -1;
    r->mask = cap - 1;
    r->rec_size = rec_size;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    return 0;
}

void ring_free(spsc_ring *r)
{
    free(r->slots);
    r->slots = NULL;
    r->mask = 0;
}

size_t ring_capacity(const spsc_ring *r)
{
    return r->slots ? r->mask + 1 : 0;
}

bool ring_push_spsc(spsc_ring *r, const void *rec)
{
    /* Relaxed: head is written only by this thread, so our own last store is visible. */
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (head - r->tail_cache > r->mask) {
        /* Acquire pairs with the consumer's release store of tail: once we see a slot
         * freed, the consumer's reads of that slot are finished, so overwriting it
         * cannot race with them. */
        r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (head - r->tail_cache > r->mask)
            return false;
    }
    memcpy(r->slots + (head & r->mask) * r->rec_size, rec, r->rec_size);
    /* Release: the record's bytes above become visible to the consumer before (or with)
     * the new head that tells it the slot is filled. */
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
    return true;
}

/* Copies n records starting at index from, in at most two pieces (the wrap). */
static void copy_out(const spsc_ring *r, size_t from, size_t n, unsigned char *out)
{
    size_t cap = r->mask + 1, first = from & r->mask;
    size_t n1 = n < cap - first ? n : cap - first;
    memcpy(out, r->slots + first * r->rec_size, n1 * r->rec_size);
    if (n > n1)
        memcpy(out + n1 * r->rec_size, r->slots, (n - n1) * r->rec_size);
}

size_t ring_pop_burst_spsc(spsc_ring *r, void *out, size_t max)
{
    /* Relaxed: tail is written only by this thread. */
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t avail = r->head_cache - tail;
    if (avail < max) {
        /* Acquire pairs with the producer's release store of head: every record below
         * the head we read is fully written and visible to our copy below. */
        r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
        avail = r->head_cache - tail;
    }
    size_t n = avail < max ? avail : max;
    if (n == 0)
        return 0;
    copy_out(r, tail, n, out);
    /* Release: our reads of the slots complete before the producer can see them free
     * and overwrite them. */
    atomic_store_explicit(&r->tail, tail + n, memory_order_release);
    return n;
}

size_t ring_count(const spsc_ring *r)
{
    /* Acquire on both: a coherent-enough view from either thread; the result is advisory
     * (it may be stale at once) and never used to touch slots. Load tail first so that
     * head - tail cannot go negative when the consumer advances in between. */
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    return head - tail;
}
