/* testutil: helpers shared by the cmocka tests: run the llmload binary with a time bound
 * and capture its output; read a fixture file. Test threads only. */
#ifndef LLM_TESTUTIL_H
#define LLM_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "sim/sim.h"

typedef struct {
    int exit_code; /* -1 when killed by the time bound or a signal */
    char *out;     /* stdout, NUL-terminated (free with tu_result_free) */
    char *err;     /* stderr */
    size_t out_len, err_len;
    double elapsed_s;      /* from start to exit */
    double after_signal_s; /* from the signal (tu_run_signal) to exit; -1 = none sent */
} tu_result;

/* Runs argv (argv[0] is a path) with extra environment entries ("K=V", NULL-terminated;
 * may be NULL) in directory cwd (NULL = current), killing it after timeout_s seconds. */
int tu_run(char *const argv[], char *const extra_env[], const char *cwd, double timeout_s,
           tu_result *res);
/* tu_run that sends signal sig to the child after_s seconds after it started. */
int tu_run_signal(char *const argv[], char *const extra_env[], const char *cwd, double timeout_s,
                  int sig, double after_s, tu_result *res);
void tu_result_free(tu_result *res);

/* Reads a whole file; NULL if unreadable. Caller frees. */
char *tu_read_file(const char *path, size_t *len);

/* A 127.0.0.1 port where nothing listens and nothing else can start listening while
 * *holder stays open (a bound socket that never calls listen): connecting is refused.
 * Close *holder when done. Returns the port, or -1. */
int tu_refusing_port(int *holder);

/* A canned HTTP server on 127.0.0.1 (its own thread, any free port): on every connection it
 * reads one request (headers and Content-Length body) and writes `reply` in one send, then
 * closes the connection; with reply NULL it reads and never answers. It counts the
 * connections it accepted. tu_canned_stop ends it (within 50 ms) and frees it. */
typedef struct tu_canned tu_canned;
tu_canned *tu_canned_start(const char *reply, size_t len);
/* Like tu_canned_start, but the connection stays open after the reply (give it a
 * Content-Length); the next request on it is read and never answered: the connection just
 * closes (a server that drops kept-alive connections). */
tu_canned *tu_canned_start_keepalive_once(const char *reply, size_t len);
int tu_canned_port(const tu_canned *c);
int tu_canned_accepts(tu_canned *c);
void tu_canned_stop(tu_canned *c);
/* A 127.0.0.1 port that accepts connections (the kernel completes the handshake) and never
 * answers, while *holder stays open. Returns the port, or -1. */
int tu_silent_port(int *holder);

/* Mutation fuzzing. tu_rand: xorshift64*, deterministic for a seed (print the seed when a
 * case fails). tu_mutate: a copy of in[0..n) with 1-8 random edits (flip a bit, insert a
 * byte the parsers care about — \n \r : " { } [ ] \\ NUL, a BOM byte —, delete or duplicate
 * a range, truncate); *out_len gets its length. Caller frees. */
uint64_t tu_rand(uint64_t *state);
/* The seed of a fuzz case: LLM_FUZZ_SEED from the environment, else fallback. */
uint64_t tu_fuzz_seed(uint64_t fallback);
char *tu_mutate(uint64_t *rng, const char *in, size_t n, size_t *out_len);

/* Makes a fresh temporary directory; returns its path (static storage per call slot). */
const char *tu_tmpdir(void);

/* A simulator on a free port of 127.0.0.1 for a test that runs the binary against it: its
 * base URL, and a path for the run's --json in the test's own directory. */
typedef struct {
    sim_server *sim;
    char url[64];
    char json[256];
} tu_sim;

/* Starts it quiet with o (o->port is set to 0: tests run in parallel); fails the test when
 * it cannot. tu_sim_stop stops it and removes the --json file. */
tu_sim *tu_sim_start(sim_options *o);
void tu_sim_stop(tu_sim *f);

/* A JSON file parsed; fails the test when it is missing or not JSON. */
cJSON *tu_load_json(const char *path);

#endif
