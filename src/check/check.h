/* check: `llmload check`, the connection test: lists models, sends one non-streaming and
 * one streaming completion, prints one ✓/✗ line per probe. Main thread only. */
#ifndef LLM_CHECK_H
#define LLM_CHECK_H

#include <stdio.h>

#include "config/config.h"

/* Prints to out; returns LLM_EXIT_OK when every probe passed, LLM_EXIT_FAILED when the
 * server answered but a probe failed, LLM_EXIT_UNREACHABLE when it could not be reached. */
int check_main(const llm_config *cfg, FILE *out);

#endif
