/* sim_cache: the simulator's prefix cache (--prefix-cache-tokens). A prompt is cut into
 * blocks of SIM_CACHE_BLOCK_TOKENS tokens by the simulator's own tokenizer (sim_tok: word
 * pieces of up to 3 letters or digits, each other visible character; whitespace joins the
 * token after it), so cached tokens are counted as usage counts the prompt; each block is named by
 * a hash chained over every block before it, so a block matches only when the whole prefix up to it
 * matches (vLLM's automatic prefix caching works so). The leading blocks found are cached; every
 * block is then kept, least recently used first out. Loop thread only. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_internal.h"

#define NIL (-1)

static uint64_t fnv1a(uint64_t h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static size_t slot_of(const sim_cache *c, uint64_t key)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 20) & (c->index_cap - 1);
}

int cache_init(sim_cache *c, long tokens)
{
    memset(c, 0, sizeof *c);
    c->cap = tokens / SIM_CACHE_BLOCK_TOKENS;
    if (c->cap <= 0)
        return 0;
    c->index_cap = 16;
    while (c->index_cap < (size_t)c->cap * 2)
        c->index_cap *= 2;
    c->entries = calloc((size_t)c->cap, sizeof *c->entries);
    c->index = malloc(c->index_cap * sizeof *c->index);
    if (!c->entries || !c->index) {
        cache_free(c);
        return -1;
    }
    for (size_t i = 0; i < c->index_cap; i++)
        c->index[i] = NIL;
    c->head = c->tail = NIL;
    return 0;
}

void cache_free(sim_cache *c)
{
    free(c->entries);
    free(c->index);
    memset(c, 0, sizeof *c);
}

/* Index position of key, or of the empty place where it would go. */
static size_t probe(const sim_cache *c, uint64_t key)
{
    size_t i = slot_of(c, key);
    while (c->index[i] != NIL && c->entries[c->index[i]].key != key)
        i = (i + 1) & (c->index_cap - 1);
    return i;
}

/* Linear probing's deletion: later entries of the run move back into the hole. */
static void index_remove(sim_cache *c, size_t hole)
{
    c->index[hole] = NIL;
    for (size_t i = (hole + 1) & (c->index_cap - 1); c->index[i] != NIL;
         i = (i + 1) & (c->index_cap - 1)) {
        int32_t e = c->index[i];
        size_t home = slot_of(c, c->entries[e].key);
        /* e may fill the hole when its home is not in (hole, i] (cyclically) */
        bool between = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
        if (!between) {
            c->index[hole] = e;
            c->index[i] = NIL;
            hole = i;
        }
    }
}

static void lru_unlink(sim_cache *c, int32_t e)
{
    sim_cache_entry *x = &c->entries[e];
    if (x->prev != NIL)
        c->entries[x->prev].next = x->next;
    else
        c->head = x->next;
    if (x->next != NIL)
        c->entries[x->next].prev = x->prev;
    else
        c->tail = x->prev;
}

static void lru_push_front(sim_cache *c, int32_t e)
{
    sim_cache_entry *x = &c->entries[e];
    x->prev = NIL;
    x->next = c->head;
    if (c->head != NIL)
        c->entries[c->head].prev = e;
    c->head = e;
    if (c->tail == NIL)
        c->tail = e;
}

/* Finds key (and makes it the most recent); false when absent. */
static bool cache_touch(sim_cache *c, uint64_t key)
{
    size_t i = probe(c, key);
    if (c->index[i] == NIL)
        return false;
    lru_unlink(c, c->index[i]);
    lru_push_front(c, c->index[i]);
    return true;
}

static void cache_insert(sim_cache *c, uint64_t key)
{
    if (cache_touch(c, key))
        return;
    int32_t e;
    if (c->used < c->cap) {
        e = (int32_t)c->used++;
    } else { /* evict the least recently used */
        e = c->tail;
        lru_unlink(c, e);
        index_remove(c, probe(c, c->entries[e].key));
    }
    c->entries[e].key = key;
    c->index[probe(c, key)] = e;
    lru_push_front(c, e);
}

void cache_hasher_init(sim_cache_hasher *h)
{
    memset(h, 0, sizeof *h);
    h->chain = 0xcbf29ce484222325ULL;
}

/* Bytes of the token at p (n > 0 left), whitespace before it included; 0 when only
 * whitespace is left. As sim_tok counts: a run of letters and digits is one token per 3. */
static size_t next_token(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && (isspace((unsigned char)p[i]) || ((unsigned char)p[i] & 0xC0) == 0x80))
        i++;
    if (i == n)
        return 0;
    size_t start = i;
    if (isalnum((unsigned char)p[i])) {
        while (i < n && i - start < 3 && isalnum((unsigned char)p[i]))
            i++;
        return i;
    }
    i++; /* one visible character, with its UTF-8 continuation bytes */
    while (i < n && ((unsigned char)p[i] & 0xC0) == 0x80)
        i++;
    return i;
}

/* Feeds one text (a message's content: runs never span two); every full block's chained
 * hash is looked up, the leading run of hits counted, and the block kept. */
void cache_feed(sim_cache *c, sim_cache_hasher *h, const char *p, size_t n)
{
    while (n > 0 && c->cap > 0) {
        size_t take = next_token(p, n);
        if (take == 0)
            return;
        h->chain = fnv1a(h->chain, p, take);
        p += take;
        n -= take;
        /* a run longer than 3 goes on: its next piece is a token of its own */
        if (++h->fill < SIM_CACHE_BLOCK_TOKENS)
            continue;
        h->fill = 0;
        h->chain = fnv1a(h->chain, "|", 1); /* the block boundary is part of the name */
        bool hit = !h->missed && cache_touch(c, h->chain);
        if (hit)
            h->hit_blocks++;
        else
            h->missed = true;
        if (!hit)
            cache_insert(c, h->chain);
    }
}
