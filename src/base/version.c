#include "base/version.h"

#include <stdio.h>

#include "llm_git.h" /* LLMLOAD_GIT_DESCRIBE, written at build time (cmake/version.cmake) */

#ifndef LLMLOAD_VERSION
#define LLMLOAD_VERSION "0.0.0"
#endif

const char *llm_version_git(void)
{
    return LLMLOAD_GIT_DESCRIBE;
}

const char *llm_version(void)
{
    return sizeof LLMLOAD_GIT_DESCRIBE > 1 ? LLMLOAD_VERSION " (git " LLMLOAD_GIT_DESCRIBE ")"
                                           : LLMLOAD_VERSION;
}
