/* cli_set: the setters the option table points at: generic ones (flag, count, duration,
 * number, percentage, string) keyed by field offset, and the few that parse a syntax.
 * Main thread, during config_load. */
#ifndef LLM_CONFIG_CLI_SET_H
#define LLM_CONFIG_CLI_SET_H

#include "config/cli.h"

/* Writes "<spelling> <what>" into st->err; returns -1. */
int cli_fail(cli_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int set_none(cli_state *st, const cli_option *o, const char *val);
int set_flag(cli_state *st, const cli_option *o, const char *val);
int set_dataset(cli_state *st, const cli_option *o, const char *val);
int set_dist(cli_state *st, const cli_option *o, const char *val);
int set_count(cli_state *st, const cli_option *o, const char *val);
int set_int_count(cli_state *st, const cli_option *o, const char *val);
int set_duration(cli_state *st, const cli_option *o, const char *val);
int set_number(cli_state *st, const cli_option *o, const char *val);
int set_rate(cli_state *st, const cli_option *o, const char *val);
int set_pct(cli_state *st, const cli_option *o, const char *val);
int set_string(cli_state *st, const cli_option *o, const char *val);
int set_file(cli_state *st, const cli_option *o, const char *val);

int set_url(cli_state *st, const cli_option *o, const char *val);
int set_api_key(cli_state *st, const cli_option *o, const char *val);
int set_model(cli_state *st, const cli_option *o, const char *val);
int set_endpoint(cli_state *st, const cli_option *o, const char *val);
int set_arrivals(cli_state *st, const cli_option *o, const char *val);
int set_rate_ramp(cli_state *st, const cli_option *o, const char *val);
int set_ramp(cli_state *st, const cli_option *o, const char *val);
int set_header(cli_state *st, const cli_option *o, const char *val);
int set_body_json(cli_state *st, const cli_option *o, const char *val);
int set_slo(cli_state *st, const cli_option *o, const char *val);
int set_prompt_tokens(cli_state *st, const cli_option *o, const char *val);
int set_seed(cli_state *st, const cli_option *o, const char *val);
int set_fps(cli_state *st, const cli_option *o, const char *val);
int set_output_format(cli_state *st, const cli_option *o, const char *val);
int set_report_format(cli_state *st, const cli_option *o, const char *val);
int set_hours(cli_state *st, const cli_option *o, const char *val);
int set_demo(cli_state *st, const cli_option *o, const char *val);

int set_sim_host(cli_state *st, const cli_option *o, const char *val);
int set_sim_port(cli_state *st, const cli_option *o, const char *val);
int set_sim_model(cli_state *st, const cli_option *o, const char *val);
int set_sim_key(cli_state *st, const cli_option *o, const char *val);
int set_server_metrics(cli_state *st, const cli_option *o, const char *val);
int set_server_metrics_key(cli_state *st, const cli_option *o, const char *val);
int set_sim_reject_fields(cli_state *st, const cli_option *o, const char *val);
int set_sim_seed(cli_state *st, const cli_option *o, const char *val);

#endif
