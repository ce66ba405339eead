/* config: the one configuration struct, filled from flags > environment > .env > defaults,
 * and validated. Filled and freed by the main thread before any other thread starts. */
#ifndef LLM_CONFIG_H
#define LLM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/dist.h"
#include "sim/sim.h"

/* Exit codes: DESIGN.md §12. */
enum {
    LLM_EXIT_OK = 0,
    LLM_EXIT_FAILED = 1,      /* finished, but over --max-error-rate or --fail-on-slo */
    LLM_EXIT_USAGE = 2,       /* usage or configuration error */
    LLM_EXIT_UNREACHABLE = 3, /* target unreachable before any request succeeded */
};

/* The most tokens a request may ask for (--max-tokens, a --prompts line's max_tokens). */
#define LLM_MAX_TOKENS 10000000
/* Most engine threads (--threads). */
#define LLM_MAX_THREADS 256

typedef enum {
    LLM_CMD_RUN,
    LLM_CMD_CHECK,
    LLM_CMD_SIM,
    LLM_CMD_REPORT,
    LLM_CMD_MERGE,
    LLM_CMD_COMPARE,
    LLM_CMD_WATCH, /* the dashboard over several workers' --listen endpoints */
    LLM_CMD_COUNT
} llm_command;
typedef enum { LLM_ENDPOINT_CHAT, LLM_ENDPOINT_COMPLETIONS } llm_endpoint;
typedef enum {
    LLM_ARRIVALS_POISSON,
    LLM_ARRIVALS_GAMMA,
    LLM_ARRIVALS_CONSTANT,
    LLM_ARRIVALS_TRACE /* --dataset trace:FILE: the recorded times x --speedup */
} llm_arrivals;
/* --dataset KIND:FILE */
typedef enum {
    LLM_DATASET_NONE,
    LLM_DATASET_JSONL,
    LLM_DATASET_SHAREGPT,
    LLM_DATASET_TRACE
} llm_dataset;

/* Where a value came from; kept for the target keys so `check` and errors can say. */
typedef enum { LLM_SRC_DEFAULT, LLM_SRC_ENVFILE, LLM_SRC_ENV, LLM_SRC_FLAG } llm_source;

typedef struct {
    char *name; /* "Header-Name" */
    char *value;
} llm_header;

typedef struct {
    double ttft_s, tpot_s, e2e_s; /* 0 = not set */
    double errors_pct;            /* < 0 = not set */
} llm_slo;

/* True when at least one limit is set. */
bool llm_slo_given(const llm_slo *s);

typedef struct llm_config {
    llm_command command;
    bool demo; /* --demo: in-process simulator + ramp */

    /* target */
    char *url; /* base URL without trailing slash or credentials, e.g. http://host:8000/v1 */
    char *url_user, *url_password; /* from http://user:password@host/v1, percent-decoded:
                                      sent as HTTP basic auth, never printed or stored */
    char *api_key;
    char *model;
    llm_source url_source, key_source, model_source;
    llm_endpoint endpoint;
    char *env_file; /* the env file read: --env-file PATH, or ".env" when ./.env existed; NULL =
                       none */
    bool insecure, http2;
    char *server_metrics;     /* --server-metrics: the server's Prometheus URL, "off"; NULL = the
                                 base URL's /metrics, given up on if it does not answer */
    char *server_metrics_key; /* --server-metrics-key KEY|api|none; NULL = the API key, only
                                 when the metrics URL has the API's origin */

    /* load */
    long concurrency;                     /* -c; default 1 */
    long requests;                        /* -n; 0 = not set */
    double duration_s;                    /* --duration; 0 = not set */
    long ramp_start, ramp_end, ramp_step; /* --ramp A:B:STEP; ramp_end 0 = no ramp */
    bool ramp_multiply;                   /* STEP given as xK */
    bool rate_ramp;         /* --rate-ramp: the ramp's levels are rates (requests/s), not users */
    bool suite;             /* --suite: run_benchmarks.py's steps (c 1, 50, 100, 200, 300) */
    long step_requests;     /* 0 = not set (the plan runs `requests` per step) */
    double step_duration_s; /* 0 = not set */
    double cooldown_s;
    long repeat; /* default 1 */
    double rate; /* --rate; 0 = closed loop */
    llm_arrivals arrivals;
    long max_inflight; /* 0 = unlimited */
    long warmup;
    bool search;       /* --search: the highest load that meets --slo, grown then bisected */
    double search_max; /* --search-max: upper bound of the search (users, or requests/s) */

    /* workload */
    long prompt_chars;  /* default 256 */
    long prompt_tokens; /* 0 = not set; else prompt_chars = 4 * tokens */
    long max_tokens;    /* default 128 */
    bool ignore_eos;
    llm_dist
        input_tokens; /* --input-tokens SPEC (unique part of the prompt); DIST_NONE = not set */
    llm_dist output_tokens; /* --output-tokens SPEC (max_tokens per request); DIST_NONE = not set */
    long prefix_tokens;     /* --prefix-tokens P: a shared prefix before each prompt; 0 = none */
    long prefix_groups;     /* --prefix-groups G: how many different prefixes (default 1) */
    long turns;             /* --turns N: each virtual user holds an N-turn conversation; 1 */
    double think_time_s;    /* --think-time D: pause between a user's turns */
    llm_dataset dataset;    /* --dataset KIND:FILE (jsonl also sets prompts_file) */
    char *dataset_file;
    double speedup;        /* --speedup X: a trace replays X times faster; default 1 */
    long max_input_tokens; /* --max-input-tokens: longer dataset prompts are left out; 0 = all */
    long dataset_records;  /* filled by the run when it read the dataset: records kept ... */
    long dataset_skipped;  /* ... records that could not be read ... */
    long dataset_filtered; /* ... and ShareGPT prompts over --max-input-tokens */
    /* filled by the run before the load (run/poolcal): the workload's text as the server's
     * tokenizer counts it, so input lengths are exact; NULL = chars/4 (approximate) */
    const struct wl_tokmap *input_map;
    bool input_exact;             /* the map's lengths include the template (usage measured) */
    const char *input_calib;      /* "tokenize", "probe", "failed"; NULL = nothing drawn */
    const char *input_calib_note; /* what the calibration did, or what is sent instead */
    char *prompts_file;
    bool prompts_shuffle; /* --shuffle: prompts in a seeded random order, not file order */
    char *image_file;
    char *image_prompt;
    llm_header *headers;
    size_t n_headers;
    char *body_json; /* extra top-level JSON fields merged into every request body */
    bool no_usage;
    bool no_stream;     /* stream: false; the whole answer arrives at once */
    double temperature; /* < 0 = not sent */
    uint64_t seed;
    bool seed_set;

    /* limits */
    double connect_timeout_s;  /* default 10 */
    double ttft_timeout_s;     /* 0 = none */
    double request_timeout_s;  /* default 600 */
    double drain_timeout_s;    /* the run's end waits this long for in-flight requests; 30 */
    double max_error_rate_pct; /* default 5 */
    llm_slo slo;
    bool fail_on_slo;

    /* output */
    char *json_path;
    char *out_dir; /* default ./llmload-out */
    double autosave_s;
    bool no_tui;
    char *theme;
    double fps;     /* default 10 */
    char *log_file; /* -l: every printed result line also goes here */

    /* seed tools (llm-test.py, llm_benchmark.py / run_benchmarks.py): recorded as given and
     * already mapped onto the fields above by config_load */
    bool test_input;            /* -i/--input: prefill test (the engine sends max_tokens = 1) */
    bool test_output;           /* -o/--output (run only): generation test */
    bool test_multimodal;       /* -mm/--multimodal: image + text (image_file is set) */
    bool long_context;          /* --long-context/--use_long_context: long prompt preset */
    char *output_format;        /* --output_format json|line|text|md|csv; NULL = not given */
    bool seed_steps_used;       /* any of -st -et -ts -d was given */
    long seed_start_threads;    /* -st; 0 = not given */
    long seed_end_threads;      /* -et; 0 = not given */
    long seed_step_threads;     /* -ts; 0 = not given */
    double seed_duration_hours; /* -d; 0 = step mode */
    bool requests_set;          /* -n given (else requests is the default: 100, or 0 with a
                                   duration) */

    /* vLLM bench serve and GuideLLM options that need the whole command line (cli_peers) */
    char peer_rate_type[16];    /* GuideLLM --rate-type; "" = not given */
    char peer_dataset_name[16]; /* vLLM --dataset-name random|custom; "" = not given */
    long peer_max_concurrency;  /* vLLM --max-concurrency; 0 = not given */
    bool peer_rate_inf;         /* vLLM --request-rate inf */

    /* report / merge */
    char **files;
    size_t n_files;
    char *report_format;      /* md|csv|html */
    char *output_path;        /* -o */
    bool force;               /* merge --force: merge runs that differ in target, model, endpoint
                                 or plan, or a file given twice (compare: of different tests) */
    double fail_if_worse_pct; /* compare --fail-if-worse PCT; < 0 = not given */

    /* scale-out (DESIGN §13; config/cli_scale.c) */
    long shard_index, shard_count; /* --shard I/N (I from 0, as JOB_COMPLETION_INDEX);
                                      shard_count 0 = the whole plan */
    double start_at;               /* --start-at: Unix seconds (wall clock); 0 = at once */
    char *listen;                  /* --listen ADDR:PORT; NULL = off */
    char *control_token;           /* --control-token or the file's first line; NULL = no
                                      control endpoint (POSTs refused) */
    long threads;                  /* --threads: engine shards in this process; 0 = 1,
                                      -1 = auto (the cores but one), at most LLM_MAX_THREADS */

    /* sim */
    sim_options sim;
} llm_config;

/* Fills cfg from argv, the environment and the env file, then validates.
 * Returns 0, or LLM_EXIT_USAGE with one sentence (naming the flag or key and what is
 * allowed) in err. Returns 0 with *help_shown set when --help/--version printed text. */
int config_load(llm_config *cfg, int argc, char **argv, char *err, size_t errlen, bool *help_shown);

/* Releases every string config_load allocated. */
void config_free(llm_config *cfg);

/* Full URL of an API path: base + "/chat/completions" etc. Caller frees. */
char *config_endpoint_url(const llm_config *cfg, const char *path);

#endif
