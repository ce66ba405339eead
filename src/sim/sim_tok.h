/* sim_tok: the simulator's own tokenizer (word pieces), deliberately unlike llmload's
 * chars/4 rule, so a test against the simulator sees when prompt lengths are guessed rather
 * than measured. Pure; any thread. */
#ifndef LLM_SIM_TOK_H
#define LLM_SIM_TOK_H

#include <stdbool.h>

#include <cjson/cJSON.h>

/* Tokens of text: each run of letters or digits is one token per started 3 characters,
 * each other visible character (punctuation, any non-ASCII byte that starts a character)
 * one token, whitespace none. "Hello, world" = 2 + 1 + 2 = 5. */
long simtok_count(const char *text);

/* The chat template's cost: SIMTOK_PER_MESSAGE per message and SIMTOK_PRIMER for the
 * assistant's turn; a completion prompt costs SIMTOK_BOS. */
#define SIMTOK_PER_MESSAGE 4
#define SIMTOK_PRIMER 3
#define SIMTOK_BOS 1

/* Prompt tokens of a request body: chat = the template's tokens + each message's content
 * (a string, or parts with "text"); completions = BOS + the prompt (a string, an array of
 * strings, or token ids: one each). -1 when the prompt or messages are missing. */
long simtok_prompt(const cJSON *root, bool chat);

#endif
