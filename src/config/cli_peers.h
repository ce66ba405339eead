/* cli_peers: the options of vLLM's `bench serve` (benchmark_serving.py) and GuideLLM's
 * `benchmark`, accepted under their own names and mapped onto llmload's (README "Options
 * of vLLM and GuideLLM"): setters for the option table and the mapping that needs the whole
 * command line (GuideLLM's --rate means users under --rate-type concurrent). Main thread,
 * during config_load. */
#ifndef LLM_CONFIG_CLI_PEERS_H
#define LLM_CONFIG_CLI_PEERS_H

#include <stddef.h>

#include "config/cli.h"

/* GuideLLM's throughput profile sends at its default concurrency limit. */
#define PEER_THROUGHPUT_USERS 512

int set_peer_requests(cli_state *st, const cli_option *o, const char *val);
int set_peer_duration(cli_state *st, const cli_option *o, const char *val);
int set_peer_input_len(cli_state *st, const cli_option *o, const char *val);
int set_peer_output_len(cli_state *st, const cli_option *o, const char *val);
int set_peer_target(cli_state *st, const cli_option *o, const char *val);
int set_peer_request_rate(cli_state *st, const cli_option *o, const char *val);
int set_peer_max_concurrency(cli_state *st, const cli_option *o, const char *val);
int set_peer_dataset_name(cli_state *st, const cli_option *o, const char *val);
int set_peer_dataset_path(cli_state *st, const cli_option *o, const char *val);
int set_peer_goodput(cli_state *st, const cli_option *o, const char *val);
int set_peer_percentile_metrics(cli_state *st, const cli_option *o, const char *val);
int set_peer_rate_type(cli_state *st, const cli_option *o, const char *val);

/* After parsing (`run` only): --rate-type, --request-rate inf, --max-concurrency and
 * --dataset-name become llmload's plan. 0, or -1 with a sentence in err. */
int cli_peers_apply(llm_config *cfg, const cli_state *st, char *err, size_t errlen);

#endif
