/* sim_tok: word-piece token counts (see sim_tok.h). */
#include "sim/sim_tok.h"

#include <ctype.h>

static bool simtok_word_char(unsigned char c)
{
    return isalnum(c) != 0;
}

long simtok_count(const char *text)
{
    long n = 0;
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        if (simtok_word_char(*p)) {
            long run = 0;
            while (simtok_word_char(*p)) {
                run++;
                p++;
            }
            n += (run + 2) / 3;
            continue;
        }
        if (!isspace(*p) && (*p & 0xC0) != 0x80) /* a continuation byte is not a character */
            n++;
        p++;
    }
    return n;
}

/* Tokens of a content: a string, or parts (strings or {"text"}); a token id is one token. */
static long simtok_content(const cJSON *content)
{
    if (cJSON_IsString(content))
        return simtok_count(content->valuestring);
    long n = 0;
    const cJSON *part;
    cJSON_ArrayForEach(part, content)
    {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(part, "text");
        if (cJSON_IsString(part))
            n += simtok_count(part->valuestring);
        else if (cJSON_IsString(text))
            n += simtok_count(text->valuestring);
        else if (cJSON_IsNumber(part))
            n += 1; /* a prompt given as token ids */
    }
    return n;
}

long simtok_prompt(const cJSON *root, bool chat)
{
    if (!chat) {
        const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(root, "prompt");
        if (!cJSON_IsString(prompt) && !cJSON_IsArray(prompt))
            return -1;
        return SIMTOK_BOS + simtok_content(prompt);
    }
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(root, "messages");
    if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) == 0)
        return -1;
    long n = SIMTOK_PRIMER;
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs)
    {
        n += SIMTOK_PER_MESSAGE + simtok_content(cJSON_GetObjectItemCaseSensitive(m, "content"));
    }
    return n;
}
