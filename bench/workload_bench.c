/* workload_bench: the cost of one request body with drawn lengths (engine/workload.c), the
 * work the engine does per request on top of the classic fixed body: draw an input and an
 * output length, write the template, the nonce, the prompt text and max_tokens into the
 * slot's buffer. Prints ns per body (median of 5 runs of N bodies). bench/RESULTS.md. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/dist.h"
#include "engine/workload.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    const char *in = argc > 1 ? argv[1] : "uniform:64:4096";
    long n = argc > 2 ? atol(argv[2]) : 200000;
    llm_config c;
    memset(&c, 0, sizeof c);
    c.max_tokens = 64;
    c.temperature = -1;
    c.ignore_eos = true;
    char err[256];
    if (dist_parse(in, &c.input_tokens, err, sizeof err) != 0 ||
        dist_parse("uniform:1:64", &c.output_tokens, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    workload w;
    if (workload_init(&w, &c, "llmload-sim", err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    /* "exact": bodies cut from a calibrated pool (run/poolcal's map), here with the
     * simulator's costs (a word is one token per 3 letters), as against a real server */
    bool exact = argc > 3 && strcmp(argv[3], "exact") == 0;
    wl_tokmap map;
    if (exact) {
        size_t nw;
        const char *const *words = workload_words(&nw);
        long cost[64];
        for (size_t i = 0; i < nw && i < 64; i++)
            cost[i] = ((long)strlen(words[i]) + 2) / 3;
        if (workload_tokmap_build(&w, cost, &map) != 0)
            return 2;
        map.nonce_tokens = 4;
        map.tag_tokens[0] = map.tag_tokens[1] = 4;
        map.first[WL_FIRST_NONCE] = map.first[WL_FIRST_GROUP] = map.first[WL_FIRST_BLOCK] = 11;
        w.map = &map;
        w.body_cap = workload_body_size(&w, w.input.max, 0);
    }
    char *buf = malloc(w.body_cap);
    uint64_t rng = 1;
    double runs[5], bytes = 0;
    for (int r = 0; r < 5; r++) {
        double t0 = now_s();
        for (long i = 0; i < n; i++) {
            wl_request req;
            prompt_body pb;
            workload_draw(&w, &rng, &req);
            workload_write(&w, &req, (uint64_t)i, &rng, buf, &pb);
            bytes += (double)pb.len;
        }
        runs[r] = (now_s() - t0) / (double)n * 1e9;
    }
    qsort(runs, 5, sizeof *runs, cmp);
    printf("FIGURE workload-body %s%s: %.0f ns per body (median of 5 x %ld; mean body %.0f B)\n",
           in, exact ? " exact" : "", runs[2], n, bytes / (5.0 * (double)n));
    free(buf);
    if (exact)
        workload_tokmap_free(&map);
    workload_free(&w);
    return 0;
}
