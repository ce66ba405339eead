/* run/target: what a run needs to know about the server before it starts — whether it
 * answers at all, and which model to ask for when none was given. Main thread only. */
#ifndef LLM_TARGET_H
#define LLM_TARGET_H

#include <stddef.h>

#include "config/config.h"

/* Without --ttft-timeout, how long the preflight waits for an answer once connected. */
#define TARGET_PREFLIGHT_ANSWER_S 30.0

/* The preflight's own limit: --connect-timeout + (--ttft-timeout, else 30 s), never more
 * than --request-timeout. */
double target_preflight_limit_s(const llm_config *cfg);

/* GETs {url}/models. On success returns 0 and sets *model to a malloc'd name: cfg->model
 * when given, else the first served model (NULL when the list is empty or unreadable, in
 * which case the request body omits "model"). Returns LLM_EXIT_UNREACHABLE with a sentence
 * when nothing answers (refused, DNS, TLS, or the preflight limit below, named in the
 * sentence), and 128 + N when signal N asked to stop (base/stop.h; within a second). */
int target_resolve_model(const llm_config *cfg, char **model, char *err, size_t errlen);

/* One sentence for a run stopped by a 404 before any success: a model the server does not
 * serve (with the names it serves, read from /models) or an endpoint that is not there
 * ("did you mean …/v1?"). msg: the failure's message ("HTTP 404: …"). */
void target_rejection_advice(const llm_config *cfg, const char *msg, char *out, size_t cap);

#endif
