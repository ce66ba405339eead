/* config/cli_scale: the scale-out options (DESIGN §13) — --threads, --shard I/N, --shards N with
 * JOB_COMPLETION_INDEX, --start-at, --listen, --control-token[-file] — their setters, their
 * checks once argv is read, and the parsers the listener and tests share. Main thread
 * (config_load); the parsers are pure and may be called from any thread. */
#ifndef LLM_CONFIG_CLI_SCALE_H
#define LLM_CONFIG_CLI_SCALE_H

#include <stddef.h>

#include "config/cli.h"

/* Shortest --control-token accepted: anything shorter is guessable by a scanner. */
#define SCALE_TOKEN_MIN 16
#define SCALE_HOST_MAX 64

int set_shard(cli_state *st, const cli_option *o, const char *val);
int set_shards(cli_state *st, const cli_option *o, const char *val);
int set_threads(cli_state *st, const cli_option *o, const char *val);
int set_start_at(cli_state *st, const cli_option *o, const char *val);
int set_listen(cli_state *st, const cli_option *o, const char *val);
int set_control_token(cli_state *st, const cli_option *o, const char *val);
int set_control_token_file(cli_state *st, const cli_option *o, const char *val);

/* After argv: the shard index from JOB_COMPLETION_INDEX (--shards N), the options that do
 * not go together. Returns 0, or -1 with one sentence in err. */
int cli_scale_check(llm_config *cfg, const cli_state *st, char *err, size_t errlen);

/* "2026-12-02T07:00:00Z", "…+01:00", "…T07:00:00.250Z" (RFC 3339) or Unix seconds
 * ("1796108400", "1796108400.5") into Unix seconds. Returns 0 or -1. */
int scale_parse_time(const char *text, double *out);

/* "ADDR:PORT", "[v6]:PORT", ":PORT" or "PORT" (address 127.0.0.1); PORT 0 = any free port.
 * Returns 0 or -1. */
int scale_parse_listen(const char *text, char *host, size_t cap, int *port);

#endif
