/* run/watch_net: the fleet's HTTP for `llmload watch` — one curl multi handle that reads
 * every worker's /metrics once a second (bounded in time and size) and carries the control
 * requests (POST /control/... with the bearer token). Driven by the caller's loop: a step
 * never blocks longer than asked. One thread (the caller's). */
#ifndef LLM_RUN_WATCH_NET_H
#define LLM_RUN_WATCH_NET_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "run/watch.h"

/* What a key asks of the fleet. UP/DOWN: each worker's target +1/-1 (a worker at 1 is
 * left alone by DOWN); PAUSE: pause every worker, or resume them all when every worker up
 * is paused; NEXT: every worker's next plan step. */
typedef enum { WATCH_CMD_UP = 0, WATCH_CMD_DOWN, WATCH_CMD_PAUSE, WATCH_CMD_NEXT } watch_cmd;

#define WATCH_NOTE_LEN 320

/* A line for the log: a control round's outcome, a worker going down or coming back. */
typedef struct {
    bool bad;
    char text[WATCH_NOTE_LEN];
} watch_note;

typedef struct watch_net watch_net;

/* The workers of cfg->files (URLs) and cfg->control_token (NULL = no control). Returns 0,
 * or -1 with a sentence in err (a URL that is not one, out of memory). */
int watch_net_open(const llm_config *cfg, watch_net **out, char *err, size_t errlen);

/* Runs transfers for up to wait_ms, returning early when fd (>= 0, e.g. the terminal) is
 * readable (*fd_ready). Starts the second's polls when due. Returns true when a round of
 * polls has just completed (every worker answered or failed). */
bool watch_net_step(watch_net *n, int wait_ms, int fd, bool *fd_ready);

const watch_worker *watch_net_workers(const watch_net *n, size_t *count);
void watch_net_fleet(const watch_net *n, watch_fleet *out);
/* True once any worker has answered. */
bool watch_net_ever_up(const watch_net *n);

/* Sends cmd to every worker. False, with the sentence to show in note, when watch was
 * given no token (nothing is sent); else true with what was sent in note; the outcome
 * comes later from watch_net_note. */
bool watch_net_send(watch_net *n, watch_cmd cmd, char *note, size_t cap);

/* The oldest note not taken yet. */
bool watch_net_note(watch_net *n, watch_note *out);

/* Aborts the transfers, frees. NULL is ignored. */
void watch_net_close(watch_net *n);

#endif
