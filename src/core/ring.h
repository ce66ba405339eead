/* core/ring: bounded single-producer single-consumer lock-free ring of fixed-size records.
 * Exactly one producer thread calls *_push, exactly one consumer thread calls *_pop. */
#ifndef LLM_RING_H
#define LLM_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    _Alignas(64) _Atomic size_t head; /* next slot to write; written by the producer */
    _Alignas(64) _Atomic size_t tail; /* next slot to read; written by the consumer */
    _Alignas(64) size_t mask;         /* capacity - 1 (capacity is a power of two) */
    size_t rec_size;
    unsigned char *slots;
} spsc_ring;

/* capacity is rounded up to a power of two. Returns 0 or -1 (out of memory). */
int ring_init(spsc_ring *r, size_t capacity, size_t rec_size);
void ring_free(spsc_ring *r);
/* Producer only. Copies rec; false when the ring is full (the caller counts the loss). */
bool ring_push_spsc(spsc_ring *r, const void *rec);
/* Consumer only. Copies up to max records into out; returns how many (burst dequeue). */
size_t ring_pop_burst_spsc(spsc_ring *r, void *out, size_t max);
/* Either thread; a snapshot that may be stale by the time it returns. */
size_t ring_count(const spsc_ring *r);

#endif
