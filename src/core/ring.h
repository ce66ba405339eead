/* core/ring: bounded single-producer single-consumer lock-free ring of fixed-size records.
 * Exactly one producer thread calls *_push, exactly one consumer thread calls *_pop. */
#ifndef LLM_RING_H
#define LLM_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RING_CACHE_LINE 64

/* The producer's and the consumer's fields sit on cache lines of their own (explicit
 * padding rather than _Alignas, so a ring inside a calloc'd struct is still correctly
 * aligned for the sanitizers): the two threads never write the same line. head and tail
 * count records forever (they wrap at SIZE_MAX, which the unsigned arithmetic absorbs);
 * the slot of index i is i & mask. */
typedef struct {
    char pad0[RING_CACHE_LINE];
    _Atomic size_t head; /* next slot to write; written by the producer only */
    size_t tail_cache;   /* producer's last view of tail (producer-private) */
    char pad1[RING_CACHE_LINE - sizeof(size_t) * 2];
    _Atomic size_t tail; /* next slot to read; written by the consumer only */
    size_t head_cache;   /* consumer's last view of head (consumer-private) */
    char pad2[RING_CACHE_LINE - sizeof(size_t) * 2];
    size_t mask; /* capacity - 1 (capacity is a power of two); read-only after init */
    size_t rec_size;
    unsigned char *slots;
    char pad3[RING_CACHE_LINE];
} spsc_ring;

/* capacity is rounded up to a power of two (at least 2). Returns 0 or -1 (out of memory
 * or a zero record size). Before either thread starts. */
int ring_init(spsc_ring *r, size_t capacity, size_t rec_size);
/* After both threads stopped using the ring. Safe on a zeroed or freed ring. */
void ring_free(spsc_ring *r);
/* Producer only. Copies rec; false when the ring is full (the caller counts the loss). */
bool ring_push_spsc(spsc_ring *r, const void *rec);
/* Consumer only. Copies up to max records into out; returns how many (burst dequeue). */
size_t ring_pop_burst_spsc(spsc_ring *r, void *out, size_t max);
/* Either thread; a snapshot that may be stale by the time it returns. */
size_t ring_count(const spsc_ring *r);
/* Records the ring can hold. */
size_t ring_capacity(const spsc_ring *r);

#endif
