/* cli: the one option table (names, aliases, value, subcommands, help, setter), the parser
 * that applies argv to an llm_config, and the help screens generated from the table.
 * Main thread, during config_load. */
#ifndef LLM_CONFIG_CLI_H
#define LLM_CONFIG_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config/config.h"

#define CLI_CMD(c) (1u << (c))
#define CLI_RUN CLI_CMD(LLM_CMD_RUN)
#define CLI_CHECK CLI_CMD(LLM_CMD_CHECK)
#define CLI_SIM CLI_CMD(LLM_CMD_SIM)
#define CLI_REPORT CLI_CMD(LLM_CMD_REPORT)
#define CLI_MERGE CLI_CMD(LLM_CMD_MERGE)
#define CLI_COMPARE CLI_CMD(LLM_CMD_COMPARE)
#define CLI_WATCH CLI_CMD(LLM_CMD_WATCH)
#define CLI_ALL (CLI_RUN | CLI_CHECK | CLI_SIM | CLI_REPORT | CLI_MERGE | CLI_COMPARE | CLI_WATCH)
#define CLI_DEMO_ONLY (1u << 8) /* under `run`, accepted only with --demo */
#define CLI_MAX_OPTIONS 160
#define CLI_MAX_ALIASES 4

typedef enum {
    CLI_G_TARGET,
    CLI_G_LOAD,
    CLI_G_WORK,
    CLI_G_LIMITS,
    CLI_G_OUTPUT,
    CLI_G_SCALE,
    CLI_G_SEED,
    CLI_G_PEERS,
    CLI_G_SIM,
    CLI_G_REPORT,
    CLI_G_GENERAL,
    CLI_G_COUNT
} cli_group;

struct cli_state;
typedef struct cli_option cli_option;

/* Applies one value (NULL for a flag). Returns 0, or -1 with a sentence in state->err. */
typedef int (*cli_setter)(struct cli_state *st, const cli_option *o, const char *val);

struct cli_option {
    const char *name;                   /* canonical long name, "--concurrency" */
    const char *alias[CLI_MAX_ALIASES]; /* other spellings, "-c", "--num_requests" */
    const char *metavar;                /* value placeholder; NULL = a flag */
    unsigned cmds;                      /* CLI_RUN | ... : where the option is accepted */
    cli_group group;                    /* help section */
    size_t offset;                      /* field written by the generic setters */
    long min;                           /* lower bound for the generic number setters */
    cli_setter set;
    const char *help;
    double max; /* upper bound for the generic number, count and duration setters; 0 = the
                   setter's own (durations: CLI_MAX_DURATION_S) */
};

/* No duration llmload takes is longer than a year: a typo (5200000h) is refused, not run. */
#define CLI_MAX_DURATION_S (365.0 * 86400.0)
/* Users (closed loop) or requests in flight: each is a connection and a curl handle. */
#define CLI_MAX_USERS 100000
/* Requests per second of --rate, --rate-ramp and --search-max with --rate. */
#define CLI_MAX_RATE 1e6
#define CLI_MIN_RATE 1e-3
#define CLI_MAX_REPEAT 1000
#define CLI_MAX_TOKENS LLM_MAX_TOKENS

/* Parser state: the config being filled, what was seen (and how it was spelled). */
typedef struct cli_state {
    llm_config *cfg;
    char *err;
    size_t errlen;
    const char *spelled;               /* the spelling of the option being applied, for messages */
    const char *seen[CLI_MAX_OPTIONS]; /* spelling used per table row; NULL = not given */
} cli_state;

extern const cli_option cli_options[];
extern const size_t cli_n_options;

/* Parses argv[first..argc) for cfg->command: options into cfg, positional FILEs into
 * cfg->files (report/merge). Returns 0 or -1 with a sentence in st->err. */
int cli_parse(cli_state *st, int first, int argc, char **argv);

/* The spelling under which the option named `name` (valid for cmd) was given, or NULL. */
const char *cli_seen(const cli_state *st, const char *name);

/* "run", "check", ...; NULL out of range. */
const char *cli_command_name(llm_command cmd);
/* A help group's title ("Target", ...); NULL out of range. */
const char *cli_group_title(cli_group g);
/* The "Usage: ..." lines of a subcommand's help (help.c). */
const char *cli_usage(llm_command cmd);

/* Help for one subcommand, generated from the table. */
void cli_print_help(FILE *f, llm_command cmd);
void cli_print_version(FILE *f);

/* Smallest edit distance (Levenshtein), for "did you mean". */
size_t cli_edit_distance(const char *a, const char *b);

#endif
