/* base/stop: the one process-wide "stop asked" flag. The signal handler of `run` sets it;
 * any blocking step (the /models preflight, the run loop) polls it, so every phase
 * reacts to the first SIGINT/SIGTERM/SIGHUP. Set from a signal handler, read anywhere. */
#ifndef LLM_BASE_STOP_H
#define LLM_BASE_STOP_H

/* Records sig if no signal was recorded yet. Async-signal-safe. */
void llm_stop_set(int sig);

/* The first signal recorded, or 0. */
int llm_stop_signal(void);

/* The quit signals (SIGINT, SIGTERM, SIGHUP) to handler (NULL: one that records the signal
 * with llm_stop_set), SIGPIPE ignored. Main thread, before other threads start. Returns 0,
 * or -1 when the system refused one. */
int llm_stop_install(void (*handler)(int));

/* Forgets it (tests, or a new session in the same process). */
void llm_stop_clear(void);

#endif
