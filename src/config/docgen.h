/* config/docgen: the man page (llmload.1) and the bash and zsh completions, generated from
 * the one option table like --help, so none of them can miss an option. Called by the
 * build's llmload_docgen program and the tests; any thread (reads constant tables only). */
#ifndef LLM_CONFIG_DOCGEN_H
#define LLM_CONFIG_DOCGEN_H

#include <stdio.h>

void docgen_man(FILE *f);
void docgen_bash(FILE *f);
void docgen_zsh(FILE *f);

#endif
