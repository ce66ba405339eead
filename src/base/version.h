/* base/version: the version llmload prints and records — the project version plus the
 * `git describe` of the tree it was built from. Any thread. */
#ifndef LLM_BASE_VERSION_H
#define LLM_BASE_VERSION_H

/* "0.1.0 (git d15abdf-dirty)", or "0.1.0" when built outside a git tree. Static. */
const char *llm_version(void);

/* The `git describe` part alone; "" when unknown. */
const char *llm_version_git(void);

#endif
