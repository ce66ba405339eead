#include "config/cli.h"

#include <stddef.h>

#include "config/cli_peers.h"
#include "config/cli_scale.h"
#include "config/cli_set.h"

#define OFF(field) offsetof(llm_config, field)
#define RC (CLI_RUN | CLI_CHECK)
#define SIMRUN (CLI_SIM | CLI_RUN | CLI_DEMO_ONLY)

/* The one option table: {name, {aliases}, metavar (NULL = switch), subcommands, help group,
 * field offset, lower bound, setter, help[, upper bound]}. Order is help order within a group. A
 * name may appear twice with disjoint subcommands (--model under run vs sim; -o under run vs
 * report). Kept one row per option by hand: clang-format would spread each row over ten lines. */
/* clang-format off */
/* The last column, max, is given only where a row has an upper bound (0 otherwise). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
const cli_option cli_options[] = {
    /* target */
    {"--url", {"-u", "--llm_url"}, "BASE", RC, CLI_G_TARGET, 0, 0, set_url,
     "base URL of the OpenAI-compatible API, e.g. http://host:8000/v1 (env MODEL_URL, "
     "OPENAI_BASE_URL; -u from llm-test.py, --llm_url from llm_benchmark.py)"},
    {"--api-key", {"--api_key"}, "KEY", RC, CLI_G_TARGET, 0, 0, set_api_key,
     "bearer token (env MODEL_KEY, OPENAI_API_KEY); never printed, logged or saved; \"\" = none"},
    {"--model", {"-m"}, "NAME", RC, CLI_G_TARGET, 0, 0, set_model,
     "model name (env MODEL_NAME); default: the first model the server lists"},
    {"--endpoint", {0}, "chat|completions", RC, CLI_G_TARGET, 0, 0, set_endpoint,
     "/chat/completions (default) or /completions"},
    {"--env-file", {0}, "PATH", RC, CLI_G_TARGET, OFF(env_file), 0, set_string,
     "read MODEL_URL, MODEL_KEY, MODEL_NAME from PATH instead of ./.env (it must exist)"},
    {"--insecure", {"-k"}, NULL, RC, CLI_G_TARGET, OFF(insecure), 0, set_flag,
     "do not verify the server's TLS certificate"},
    {"--http2", {0}, NULL, RC, CLI_G_TARGET, OFF(http2), 0, set_flag,
     "use HTTP/2 (multiplexed) instead of HTTP/1.1 keep-alive"},
    {"--server-metrics", {0}, "URL|off", RC, CLI_G_TARGET, OFF(server_metrics), 0,
     set_server_metrics, "the server's Prometheus metrics, shown live (default: /metrics next "
     "to the API base, when it answers)"},
    {"--server-metrics-key", {0}, "KEY|api|none", RC, CLI_G_TARGET, 0, 0, set_server_metrics_key,
     "bearer token for --server-metrics (default: the API key, sent only when the metrics URL "
     "has the API's scheme, host and port; api = send it to any origin; none = no key)"},

    /* load */
    {"--concurrency", {"-c"}, "N", CLI_RUN, CLI_G_LOAD, OFF(concurrency), 1, set_count,
     "closed-loop workers, each sends its next request when its last ends (default 1)", CLI_MAX_USERS},
    {"--requests", {"-n", "--num_requests"}, "N", CLI_RUN, CLI_G_LOAD, OFF(requests), 1, set_count,
     "stop after N requests (default 100 unless --duration is given; --num_requests from "
     "llm_benchmark.py)"},
    {"--duration", {0}, "D", CLI_RUN, CLI_G_LOAD, OFF(duration_s), 1, set_duration,
     "stop after D, e.g. 30s, 5m, 8h"},
    {"--suite", {0}, NULL, CLI_RUN, CLI_G_LOAD, OFF(suite), 0, set_flag,
     "run_benchmarks.py's suite: 10, 100, 200, 400, 600 requests at concurrency 1, 50, 100, "
     "200, 300, 5 s apart (implied by --use_long_context with no load options)"},
    {"--rate-ramp", {0}, "A:B:STEP", CLI_RUN, CLI_G_LOAD, 0, 0, set_rate_ramp,
     "open loop: step the rate from A to B requests/s, STEP +N or xN, e.g. 5:80:x2"},
    {"--ramp", {0}, "A:B:STEP", CLI_RUN, CLI_G_LOAD, 0, 0, set_ramp,
     "step concurrency from A to B, STEP +N or N (add) or xN (multiply), e.g. 1:64:x2"},
    {"--step-requests", {0}, "N", CLI_RUN, CLI_G_LOAD, OFF(step_requests), 1, set_count,
     "requests per ramp step"},
    {"--step-duration", {0}, "D", CLI_RUN, CLI_G_LOAD, OFF(step_duration_s), 1, set_duration,
     "length of each ramp step"},
    {"--cooldown", {0}, "D", CLI_RUN, CLI_G_LOAD, OFF(cooldown_s), 0, set_duration,
     "idle time between ramp steps"},
    {"--repeat", {0}, "K", CLI_RUN, CLI_G_LOAD, OFF(repeat), 1, set_count,
     "run each step K times and average (default 1)", CLI_MAX_REPEAT},
    {"--rate", {0}, "R", CLI_RUN, CLI_G_LOAD, OFF(rate), 1, set_rate,
     "open loop: send R requests/s whatever the replies do (0.001 to 1000000)"},
    {"--arrivals", {0}, "poisson|gamma|constant", CLI_RUN, CLI_G_LOAD, 0, 0, set_arrivals,
     "spacing of --rate arrivals (default poisson)"},
    {"--max-inflight", {0}, "N", CLI_RUN, CLI_G_LOAD, OFF(max_inflight), 1, set_count,
     "cap on in-flight requests with --rate, --rate-ramp (default 1024)", CLI_MAX_USERS},
    {"--search", {0}, NULL, CLI_RUN, CLI_G_LOAD, OFF(search), 0, set_flag,
     "find the highest concurrency (or rate, with --rate R) that meets --slo: double from -c "
     "(or R) until a step misses, then bisect; each step is --step-requests or --step-duration"},
    {"--search-max", {0}, "N", CLI_RUN, CLI_G_LOAD, OFF(search_max), 1, set_number,
     "upper bound of --search (default 256 users, or 64 x R requests/s)", CLI_MAX_RATE},
    {"--warmup", {0}, "N", CLI_RUN, CLI_G_LOAD, OFF(warmup), 0, set_count,
     "send N requests first and leave them out of the results; step 1 starts when they ended"},
    {"--drain-timeout", {0}, "D", CLI_RUN, CLI_G_LOAD, OFF(drain_timeout_s), 0, set_duration,
     "at the end, wait up to D for requests in flight (default 30s); the rest count as cut"},
    {"--demo", {0}, NULL, CLI_RUN, CLI_G_LOAD, 0, 0, set_demo,
     "start the built-in simulator in-process and ramp against it"},

    /* workload */
    {"--prompt-chars", {"-pp", "--prompt_length"}, "N", RC, CLI_G_WORK, OFF(prompt_chars), 1,
     set_count, "prompt length in characters (default 256; -pp from llm-test.py)"},
    {"--prompt-tokens", {0}, "N", RC, CLI_G_WORK, OFF(prompt_tokens), 1, set_prompt_tokens,
     "prompt length in ~tokens (sets --prompt-chars to 4 x N)"},
    {"--max-tokens", {"-tg", "--tokens_to_generate", "--output_tokens"}, "N", RC, CLI_G_WORK,
     OFF(max_tokens), 1, set_count,
     "tokens to generate per request (default 128; -tg from llm-test.py, --output_tokens from "
     "llm_benchmark.py)", CLI_MAX_TOKENS},
    {"--ignore-eos", {0}, NULL, RC, CLI_G_WORK, OFF(ignore_eos), 0, set_flag,
     "ask the server to ignore EOS so every reply is --max-tokens long"},
    {"--input-tokens", {0}, "SPEC", CLI_RUN, CLI_G_WORK, OFF(input_tokens), 0, set_dist,
     "prompt length per request, drawn with --seed: N, uniform:A:B, normal:MEAN:SD[:MIN:MAX] "
     "or lognormal:MEDIAN:SIGMA[:MIN:MAX] tokens, after any prefix: exact by the server's "
     "tokenizer (/tokenize or a probe's usage, template included), else ~4 characters each"},
    {"--output-tokens", {0}, "SPEC", CLI_RUN, CLI_G_WORK, OFF(output_tokens), 0, set_dist,
     "max_tokens per request, drawn like --input-tokens (with --ignore-eos, also min_tokens)"},
    {"--prefix-tokens", {0}, "P", CLI_RUN, CLI_G_WORK, OFF(prefix_tokens), 1, set_count,
     "every prompt starts with a shared prefix of P tokens (a system prompt), the per-request "
     "nonce after it, so the server's prefix cache can work"},
    {"--prefix-groups", {0}, "G", CLI_RUN, CLI_G_WORK, OFF(prefix_groups), 1, set_count,
     "how many different prefixes requests pick from at random (default 1)"},
    {"--turns", {0}, "N", CLI_RUN, CLI_G_WORK, OFF(turns), 1, set_count,
     "each virtual user holds an N-turn chat: the streamed answer joins the history, then the "
     "next user message; a conversation counts as one user of -c"},
    {"--think-time", {0}, "D", CLI_RUN, CLI_G_WORK, OFF(think_time_s), 0, set_duration,
     "pause between a user's turns (default 0; precise to 10 ms)"},
    {"--dataset", {0}, "KIND:FILE", CLI_RUN, CLI_G_WORK, 0, 0, set_dataset,
     "requests from a file you have (nothing is downloaded): sharegpt:FILE (ShareGPT JSON), "
     "jsonl:FILE (= --prompts) or trace:FILE (Mooncake JSONL or Azure CSV, replayed at its "
     "recorded times)"},
    {"--speedup", {0}, "X", CLI_RUN, CLI_G_WORK, OFF(speedup), 1, set_number,
     "replay a --dataset trace X times faster (default 1)"},
    {"--max-input-tokens", {0}, "N", CLI_RUN, CLI_G_WORK, OFF(max_input_tokens), 1, set_count,
     "leave out --dataset sharegpt prompts longer than ~N tokens (characters / 4)"},
    {"--prompts", {0}, "FILE", RC, CLI_G_WORK, OFF(prompts_file), 0, set_file,
     "prompts from a JSONL or plain-text file instead of generated text"},
    {"--shuffle", {0}, NULL, RC, CLI_G_WORK, OFF(prompts_shuffle), 0, set_flag,
     "take --prompts in a random order (repeatable with --seed) instead of file order"},
    {"--image", {"-ip", "--image_path"}, "FILE", RC, CLI_G_WORK, OFF(image_file), 0, set_file,
     "send this image (as a base64 data URL) with every prompt (-ip from llm-test.py)"},
    {"--image-prompt", {"-mtp", "--multimodal_text_prompt"}, "TEXT", RC, CLI_G_WORK,
     OFF(image_prompt), 0, set_string, "text sent with the image (-mtp from llm-test.py)"},
    {"--header", {"-H"}, "K:V", RC, CLI_G_WORK, 0, 0, set_header,
     "extra HTTP header on every request (repeatable)"},
    {"--body-json", {0}, "JSON", RC, CLI_G_WORK, 0, 0, set_body_json,
     "JSON object whose fields are merged into every request body (not model, max_tokens or "
     "stream: they have their own options)"},
    {"--no-usage", {0}, NULL, RC, CLI_G_WORK, OFF(no_usage), 0, set_flag,
     "do not ask for usage in the stream (count tokens from events, marked estimated)"},
    {"--no-stream", {0}, NULL, RC, CLI_G_WORK, OFF(no_stream), 0, set_flag,
     "send stream: false and time whole responses (TTFT then equals E2E)"},
    {"--seed", {0}, "N", RC, CLI_G_WORK, 0, 0, set_seed,
     "sampling seed sent to the server and used for prompt generation"},
    {"--temperature", {0}, "T", RC, CLI_G_WORK, OFF(temperature), 0, set_number,
     "sampling temperature (default: not sent)"},
    {"--long-context", {"--use_long_context"}, NULL, RC, CLI_G_WORK, OFF(long_context), 0,
     set_flag, "long-prompt preset: --prompt-chars 16000 unless a length is given "
     "(--use_long_context from run_benchmarks.py)"},

    /* limits */
    {"--connect-timeout", {0}, "D", RC, CLI_G_LIMITS, OFF(connect_timeout_s), 1, set_duration,
     "give up connecting after D (default 10s)"},
    {"--ttft-timeout", {0}, "D", RC, CLI_G_LIMITS, OFF(ttft_timeout_s), 1, set_duration,
     "give up when the first token takes longer than D (default none)"},
    {"--request-timeout", {"--request_timeout"}, "D", RC, CLI_G_LIMITS, OFF(request_timeout_s), 1,
     set_duration, "give up on a whole request after D (default 600s)"},
    {"--max-error-rate", {0}, "PCT", CLI_RUN, CLI_G_LIMITS, OFF(max_error_rate_pct), 0, set_pct,
     "exit 1 when more than PCT % of requests failed (default 5)"},
    {"--slo", {0}, "LIST", CLI_RUN, CLI_G_LIMITS, 0, 0, set_slo,
     "service-level objectives, e.g. ttft=2s,tpot=80ms,e2e=30s,errors=1% (times need a "
     "unit; each at most once)"},
    {"--fail-on-slo", {0}, NULL, CLI_RUN, CLI_G_LIMITS, OFF(fail_on_slo), 0, set_flag,
     "exit 1 when the run missed an --slo"},

    /* output */
    {"--json", {0}, "FILE", RC, CLI_G_OUTPUT, OFF(json_path), 0, set_string,
     "write the snapshot JSON to FILE at the end"},
    {"--out", {0}, "DIR", CLI_RUN, CLI_G_OUTPUT, OFF(out_dir), 0, set_string,
     "directory for autosaves and snapshots (default ./llmload-out)"},
    {"--autosave", {0}, "D", CLI_RUN, CLI_G_OUTPUT, OFF(autosave_s), 0, set_duration,
     "save a snapshot every D during a run, to --json FILE or else a new file in --out "
     "(default 60s; 0 = off: then only --json FILE gets the results, at the end)"},
    {"--no-tui", {0}, NULL, CLI_RUN, CLI_G_OUTPUT, OFF(no_tui), 0, set_flag,
     "no dashboard: progress lines on stderr, summary on stdout"},
    {"--theme", {0}, "NAME|PATH", CLI_RUN | CLI_WATCH, CLI_G_OUTPUT, OFF(theme), 0, set_string,
     "dashboard colours: a name from themes/ or a .theme file"},
    {"--fps", {0}, "N", CLI_RUN, CLI_G_OUTPUT, 0, 0, set_fps,
     "dashboard redraws per second, 1 to 60 (default 10)"},
    {"--log-file", {"-l", "--log_file"}, "FILE", RC, CLI_G_OUTPUT, OFF(log_file), 0, set_string,
     "also append every printed result line to FILE (-l from llm-test.py)"},
    {"--output_format", {"--output-format"}, "FMT", CLI_RUN, CLI_G_OUTPUT, 0, 0, set_output_format,
     "summary on stdout (llm_benchmark.py's option): json = the snapshot as one JSON line; "
     "line, text, md or csv = the table"},

    /* scale-out: several workers, live figures (config/cli_scale.c) */
    {"--threads", {0}, "N|auto", CLI_RUN, CLI_G_SCALE, 0, 0, set_threads,
     "engine threads (shards) in this process, each with its own connections; users, rate "
     "and requests divided among them (default 1; auto = the cores but one)"},
    {"--shard", {0}, "I/N", CLI_RUN, CLI_G_SCALE, 0, 0, set_shard,
     "run the I-th of N equal shares of the plan (I from 0): users, requests and rate divided "
     "so the N shares add up to the whole; `llmload merge` adds the N snapshots up"},
    {"--shards", {0}, "N", CLI_RUN, CLI_G_SCALE, 0, 0, set_shards,
     "as --shard I/N with I from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)"},
    {"--start-at", {0}, "TIME", CLI_RUN, CLI_G_SCALE, 0, 0, set_start_at,
     "wait until TIME (RFC 3339, e.g. 2026-12-02T07:00:00Z, or Unix seconds) before the "
     "first request, so that workers on several machines step together"},
    {"--listen", {0}, "ADDR:PORT", CLI_RUN, CLI_G_SCALE, OFF(listen), 0, set_listen,
     "serve live figures as Prometheus text at http://ADDR:PORT/metrics (ADDR defaults to "
     "127.0.0.1; PORT 0 = any, printed)"},
    {"--control-token", {0}, "TOKEN", CLI_RUN, CLI_G_SCALE, 0, 0, set_control_token,
     "accept POST /control/... on --listen with \"Authorization: Bearer TOKEN\" (16+ "
     "characters); without a token, control is refused"},
    {"--control-token-file", {0}, "FILE", CLI_RUN, CLI_G_SCALE, 0, 0, set_control_token_file,
     "--control-token from the first line of FILE (e.g. a mounted Secret)"},
    /* `llmload watch URL...` (run/watch*.c, ui/watch_view.c) */
    {"--control-token", {0}, "TOKEN", CLI_WATCH, CLI_G_SCALE, 0, 0, set_control_token,
     "the workers' --control-token: sent with the keys +, -, p, n to every worker; without "
     "it the keys are refused"},
    {"--control-token-file", {0}, "FILE", CLI_WATCH, CLI_G_SCALE, 0, 0, set_control_token_file,
     "--control-token from the first line of FILE"},
    {"--no-tui", {0}, NULL, CLI_WATCH, CLI_G_OUTPUT, OFF(no_tui), 0, set_flag,
     "no dashboard: one summary line a second on stdout (t= up= target= ... ttft_p99= ...)"},
    {"--duration", {0}, "D", CLI_WATCH, CLI_G_OUTPUT, OFF(duration_s), 1, set_duration,
     "stop watching after D, e.g. 30s, 5m (default: until q or a signal)"},

    /* the seed tools' own switches, mapped onto the options above */
    {"--input", {"-i"}, NULL, CLI_RUN, CLI_G_SEED, OFF(test_input), 0, set_flag,
     "input test: prefill speed, sends max_tokens 1"},
    {"--output", {"-o"}, NULL, CLI_RUN, CLI_G_SEED, OFF(test_output), 0, set_flag,
     "output test: generation speed (under report/merge, -o FILE is the output file)"},
    {"--multimodal", {"-mm"}, NULL, CLI_RUN, CLI_G_SEED, OFF(test_multimodal), 0, set_flag,
     "multimodal test: image + text (-ip FILE, default testphoto.jpg)"},
    {"--start_threads", {"-st", "--start-threads"}, "N", CLI_RUN, CLI_G_SEED,
     OFF(seed_start_threads), 1, set_count,
     "first concurrency: with -et the ramp -st:-et:+ts; alone or with -d, = --concurrency", CLI_MAX_USERS},
    {"--end_threads", {"-et", "--end-threads"}, "N", CLI_RUN, CLI_G_SEED, OFF(seed_end_threads), 1,
     set_count, "last concurrency of the step test: -st A -et B -ts S = --ramp A:B:+S", CLI_MAX_USERS},
    {"--step_threads", {"-ts", "--step-threads"}, "N", CLI_RUN, CLI_G_SEED,
     OFF(seed_step_threads), 1, set_count, "concurrency added per step (default 1)", CLI_MAX_USERS},
    {"--duration_hours", {"-d", "--duration-hours"}, "H", CLI_RUN, CLI_G_SEED, 0, 0, set_hours,
     "stress/soak test: H hours (fractions allowed) at -st concurrency = --duration Hh -c N; "
     "0 = step mode"},

    /* vLLM's `bench serve` (benchmark_serving.py) and GuideLLM's `benchmark`, under their
     * own names (cli_peers.c) */
    {"--num-prompts", {0}, "N", CLI_RUN, CLI_G_PEERS, 0, 0, set_peer_requests,
     "vLLM: number of prompts to send = -n N"},
    {"--request-rate", {0}, "R|inf", CLI_RUN, CLI_G_PEERS, 0, 0, set_peer_request_rate,
     "vLLM: requests/s, Poisson arrivals = --rate R; inf (vLLM's default) sends all -n at once "
     "(a closed loop of -n users, or of --max-concurrency)"},
    {"--max-concurrency", {0}, "N", CLI_RUN, CLI_G_PEERS, 0, 0, set_peer_max_concurrency,
     "vLLM: at most N requests at once = --max-inflight N with --request-rate R, else -c N"},
    {"--random-input-len", {0}, "N", RC, CLI_G_PEERS, 0, 0, set_peer_input_len,
     "vLLM random dataset: prompt tokens = --prompt-tokens N (about 4 characters a token)"},
    {"--random-output-len", {0}, "N", RC, CLI_G_PEERS, 0, 0, set_peer_output_len,
     "vLLM random dataset: output tokens = --max-tokens N (add --ignore-eos for exactly N)"},
    {"--dataset-name", {0}, "random|custom", CLI_RUN, CLI_G_PEERS, 0, 0, set_peer_dataset_name,
     "vLLM: random = generated prompts; custom = --dataset-path as JSONL {\"prompt\": ...} "
     "lines (sharegpt, sonnet, hf, burstgpt are not read yet)"},
    {"--dataset-path", {0}, "FILE", RC, CLI_G_PEERS, 0, 0, set_peer_dataset_path,
     "vLLM: the custom dataset's JSONL file = --prompts FILE"},
    {"--goodput", {0}, "KEY:MS...", CLI_RUN, CLI_G_PEERS, 0, 0, set_peer_goodput,
     "vLLM: limits in ms, e.g. \"ttft:200 tpot:50 e2el:1000\" (one quoted word) = --slo "
     "ttft=200ms,tpot=50ms,e2e=1000ms; goodput counts requests within them"},
    {"--percentile-metrics", {0}, "LIST", CLI_RUN, CLI_G_PEERS, 0, 0, set_peer_percentile_metrics,
     "vLLM: ttft,tpot,itl,e2el; checked and accepted: llmload reports every metric"},
    {"--target", {0}, "URL", RC, CLI_G_PEERS, 0, 0, set_peer_target,
     "GuideLLM: the server, e.g. http://localhost:8000 = --url http://localhost:8000/v1 (a URL "
     "with a path is the API base as given)"},
    {"--rate-type", {0}, "TYPE", CLI_RUN, CLI_G_PEERS, 0, 0, set_peer_rate_type,
     "GuideLLM: synchronous = -c 1; concurrent --rate N = -c N; throughput = -c 512; constant "
     "or poisson --rate R = --rate R --arrivals constant|poisson (sweep: use --ramp or --search)"},
    {"--max-seconds", {0}, "S", CLI_RUN, CLI_G_PEERS, 0, 0, set_peer_duration,
     "GuideLLM: seconds to run = --duration S"},
    {"--max-requests", {0}, "N", CLI_RUN, CLI_G_PEERS, 0, 0, set_peer_requests,
     "GuideLLM: requests to send = -n N"},

    /* simulator (`llmload sim`; under run only with --demo) */
    {"--host", {0}, "H", CLI_SIM, CLI_G_SIM, 0, 0, set_sim_host,
     "address to listen on (default 127.0.0.1)"},
    {"--port", {"-p"}, "P", CLI_SIM, CLI_G_SIM, 0, 0, set_sim_port,
     "TCP port; 0 = any free port (the port is printed)"},
    {"--slots", {0}, "S", SIMRUN, CLI_G_SIM, OFF(sim.slots), 1, set_int_count,
     "sequences decoded at once (continuous batching; default 8)"},
    {"--base-latency", {0}, "D", SIMRUN, CLI_G_SIM, OFF(sim.base_latency_s), 0, set_duration,
     "fixed part of TTFT (default 20ms)"},
    {"--prefill-rate", {0}, "TOK/S", SIMRUN, CLI_G_SIM, OFF(sim.prefill_rate), 1, set_number,
     "prompt tokens processed per second (default 5000)"},
    {"--decode-rate", {0}, "TOK/S", SIMRUN, CLI_G_SIM, OFF(sim.decode_rate), 1, set_number,
     "tokens/s of one sequence decoding alone (default 50)"},
    {"--batch-penalty", {0}, "F", SIMRUN, CLI_G_SIM, OFF(sim.batch_penalty), 0, set_number,
     "per-sequence slowdown per extra sequence in the batch (default 0.05)"},
    {"--max-tokens", {0}, "N", CLI_SIM, CLI_G_SIM, OFF(sim.default_max_tokens), 1, set_count,
     "output length when a request gives no max_tokens (default 256)", CLI_MAX_TOKENS},
    {"--mean-output", {0}, "N", SIMRUN, CLI_G_SIM, OFF(sim.mean_output), 0, set_number,
     "mean output length without ignore_eos, capped by max_tokens (0 = max_tokens)"},
    {"--model", {"-m"}, "NAME", CLI_SIM, CLI_G_SIM, 0, 0, set_sim_model,
     "served model name (default llmload-sim)"},
    {"--api-key", {"--api_key"}, "KEY", CLI_SIM, CLI_G_SIM, 0, 0, set_sim_key,
     "require \"Authorization: Bearer KEY\" (401 without it)"},
    {"--seed", {0}, "N", CLI_SIM, CLI_G_SIM, 0, 0, set_sim_seed,
     "random seed: the same seed gives the same run (default 1)"},
    {"--error-rate", {0}, "PCT", SIMRUN, CLI_G_SIM, OFF(sim.error_rate_pct), 0, set_pct,
     "% of requests answered 429, 500 or 503"},
    {"--cut-rate", {0}, "PCT", SIMRUN, CLI_G_SIM, OFF(sim.cut_rate_pct), 0, set_pct,
     "% of streams cut mid-way (no [DONE])"},
    {"--malformed-rate", {0}, "PCT", SIMRUN, CLI_G_SIM, OFF(sim.malformed_rate_pct), 0, set_pct,
     "% of streams with one chunk that is not valid JSON"},
    {"--stall-rate", {0}, "PCT", SIMRUN, CLI_G_SIM, OFF(sim.stall_rate_pct), 0, set_pct,
     "% of streams that stop for --stall mid-way"},
    {"--stall", {0}, "D", SIMRUN, CLI_G_SIM, OFF(sim.stall_s), 0, set_duration,
     "length of a stall (default 5s)"},
    {"--slow-headers", {0}, "D", SIMRUN, CLI_G_SIM, OFF(sim.slow_headers_s), 0, set_duration,
     "delay before response headers, every request (default 0)"},
    {"--close-after-stream", {0}, "MS", CLI_SIM, CLI_G_SIM, OFF(sim.close_after_stream_ms), 0,
     set_int_count,
     "close each keep-alive connection MS ms after a stream (0 = at once), unanswered, "
     "like llama.cpp's server"},
    {"--no-done", {0}, NULL, CLI_SIM, CLI_G_SIM, OFF(sim.no_done), 0, set_flag,
     "end streams after finish_reason and usage with no [DONE], the response left open"},
    {"--reject-fields", {0}, "LIST", SIMRUN, CLI_G_SIM, 0, 0, set_sim_reject_fields,
     "answer 400 to requests with any of these body fields, e.g. ignore_eos,stream_options "
     "(a strict server)"},
    {"--prefix-cache-tokens", {0}, "N", SIMRUN, CLI_G_SIM, OFF(sim.prefix_cache_tokens), 0,
     set_count, "prefix cache of N tokens (LRU, 16-token blocks): cached prompt tokens skip "
     "prefill and are reported as usage.prompt_tokens_details.cached_tokens (default 0 = off)"},
    {"--quiet", {"-q"}, NULL, CLI_SIM, CLI_G_SIM, OFF(sim.quiet), 0, set_flag,
     "no access log lines on stderr"},
    {"--timings", {0}, NULL, SIMRUN, CLI_G_SIM, OFF(sim.timings), 0, set_flag,
     "end every answer with llama.cpp-style `timings` (the server's prefill and decode time)"},
    {"--drop-last-rate", {0}, "PCT", SIMRUN, CLI_G_SIM, OFF(sim.drop_last_pct), 0, set_pct,
     "% of streams whose last token chunk never reaches the client (a proxy that cuts "
     "streams), though usage, timings and /metrics count it"},

    /* report / merge */
    {"--format", {0}, "md|csv|html|vllm-json", CLI_REPORT | CLI_COMPARE, CLI_G_REPORT, 0, 0,
     set_report_format, "output format (default md); vllm-json (report only): each step as the "
     "JSON object of vLLM's benchmark_serving --save-result, one per line"},
    {"--output", {"-o"}, "FILE", CLI_REPORT | CLI_MERGE | CLI_COMPARE, CLI_G_REPORT, OFF(output_path), 0,
     set_string, "write to FILE (report: default stdout; merge: required); never one of the "
     "input files"},
    {"--force", {0}, NULL, CLI_MERGE | CLI_COMPARE, CLI_G_REPORT, OFF(force), 0, set_flag,
     "merge (or compare) runs of different targets, models, endpoints, plans or workloads, or "
     "merge a file given twice"},
    {"--fail-if-worse", {0}, "PCT", CLI_COMPARE, CLI_G_REPORT, OFF(fail_if_worse_pct), 0, set_number,
     "compare: exit 1 when a figure judged worse (beyond noise) is worse by more than PCT % "
     "(the error rate: PCT percentage points); 0 = any worse figure fails"},

    /* general (acted on before parsing; listed for help and lookup) */
    {"--help", {"-h"}, NULL, CLI_ALL, CLI_G_GENERAL, 0, 0, set_none,
     "show this help (llmload COMMAND --help for a command's options)"},
    {"--version", {"-V"}, NULL, CLI_ALL, CLI_G_GENERAL, 0, 0, set_none, "print the version"},
};
#pragma GCC diagnostic pop
/* clang-format on */

const size_t cli_n_options = sizeof cli_options / sizeof cli_options[0];

_Static_assert(sizeof cli_options / sizeof cli_options[0] <= CLI_MAX_OPTIONS,
               "raise CLI_MAX_OPTIONS");
