/* run/session: one load-test session as the consumer thread sees it — the demo server,
 * the resolved model, the plan, the engine, the stats — shared by the headless loop and
 * the dashboard. Every function is called by that one consumer thread. */
#ifndef LLM_SESSION_H
#define LLM_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "config/config.h"
#include "core/gpuhist.h"
#include "core/gpumon.h"
#include "core/search.h"
#include "core/stats.h"
#include "core/sysmon.h"
#include "engine/engine.h"
#include "engine/plan.h"
#include "engine/srvmon.h"
#include "run/calibrate.h"
#include "run/demo.h"
#include "run/listen.h"
#include "run/poolcal.h"

#define SESSION_BURST 1024

typedef struct {
    llm_config cfg; /* shallow copy: demo mode rewrites the URL and the plan */
    demo_server demo;
    char *model;         /* sent in every body; NULL = omitted */
    char plan_text[320]; /* the plan, then what it sends (workload_describe) */
    calib_result calib;  /* --prompt-tokens by the server's tokenizer (issue 13) */
    poolcal_result pool; /* --input-tokens & co by the server's tokenizer (cfg.input_map) */
    plan plan;
    llm_trace trace;    /* --dataset trace: the records the plan replays */
    prompt_set dataset; /* --dataset sharegpt: the bodies the plan's requests take */
    wl_script *scripts; /* ... or, with --turns, the conversations it replays */
    size_t n_scripts;
    engine *eng;
    stats *st;
    engine_gauges gauges; /* as of the last session_second */
    sysmon sys;
    sysmon_reading sysr;   /* as of the last session_second */
    gpumon gpu;            /* the GPUs (none: "no GPU", quietly) */
    gpumon_reading gpur;   /* as of the last session_second */
    gpuhist gpuh;          /* every second's reading, for the snapshot (stats.gpu) */
    srvmon *srv;           /* the server's /metrics poller; NULL = off */
    srvmon_reading srvr;   /* as of the last session_second */
    unsigned long srv_seq; /* srvr.seq whose histograms stats has taken */
    time_t started;
    uint64_t start_ns, last_save_ns;
    char autosave_path[1024]; /* --json (a file), else one in --out; "" until the first save */
    search_state search;      /* --search: the loads tried and the next */
    uint32_t search_judged;   /* steps below this index have been judged */
    /* the run was stopped before any success because every request would fail: the exit
     * code (3: unreachable; 2: a model or endpoint the server rejects) and why; 0 = not */
    int stop_code;
    char stop_msg[512];
    listen_srv *lsn;                /* --listen: live figures and control; NULL = off */
    listen_figures *lfig;           /* what the next publish copies (built once a second) */
    int listen_port;                /* the port --listen bound (0 asked = any) */
    llm_event burst[SESSION_BURST]; /* one drain's worth of events */
} run_session;

/* Starts the demo server (with --demo), resolves the model, builds the plan, starts the
 * engine. Returns 0, or an exit code with a sentence in err. */
int session_open(run_session *s, const llm_config *cfg, char *err, size_t errlen);

/* Moves every published event into the stats; stops the engine when the target proved
 * unreachable, or answered 404 (model or endpoint), before any request succeeded. With --search,
 * judges each step that ended against --slo and sends the engine the next (or stops it with the
 * answer). */
void session_drain(run_session *s);

/* Where autosaves go: --json (unless it is a FIFO or device, which takes the final results
 * only), else a new timestamped file in --out (created). Fixed at the
 * first call. Returns 0 or -1 with a sentence. */
int session_autosave_path(run_session *s, char *err, size_t errlen);

/* Once a second: closes the stats second, records gauges, autosaves when due (a long run
 * is never lost with the terminal), ends a search step that clearly misses the SLO. */
void session_second(run_session *s, uint64_t now_ns);

/* Writes the snapshot JSON to path (atomically); partial: the run goes on (an autosave,
 * the `s` key), so the file says so. Returns 0 or -1 with a sentence. */
int session_save(run_session *s, const char *path, bool partial, char *err, size_t errlen);

/* The run is being stopped before its plan's end: by signal sig (0 = none, e.g. `q`),
 * for the reason given. The first reason given stands. */
void session_note_stop(run_session *s, int sig, const char *reason);

/* 128 + the signal that stopped the run, or 0 (DESIGN §12): after the results are written. */
int session_signal_exit(const run_session *s);

/* The exit code of DESIGN.md §12 for the finished run; prints the reason on stderr. */
int session_exit_code(run_session *s);

void session_close(run_session *s);

/* After the results: one notice per thing the run could not do as asked (--turns
 * conversations cut short by their history's buffer). Nothing when all went as asked. */
void session_print_end_notes(const run_session *s, FILE *f);

/* After the load and its drain: waits (at most 1.2 s) for the server's next /metrics
 * reading and takes it, so its counters' deltas cover the run's last second (issue 13).
 * Not after a stop by signal. */
void session_server_final(run_session *s);

#endif
