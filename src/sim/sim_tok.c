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

/* Characters (UTF-8 code points) of text: the chars/4 rule's unit. */
static long utf8_chars(const char *text)
{
    long n = 0;
    for (; *text; text++)
        n += ((unsigned char)*text & 0xC0) != 0x80;
    return n;
}

/* count: simtok_count (tokens) or utf8_chars (characters); a token id counts as one token,
 * or four characters. */
static long simtok_content_by(const cJSON *content, long (*count)(const char *))
{
    if (cJSON_IsString(content))
        return count(content->valuestring);
    long n = 0;
    const cJSON *part;
    cJSON_ArrayForEach(part, content)
    {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(part, "text");
        if (cJSON_IsString(part))
            n += count(part->valuestring);
        else if (cJSON_IsString(text))
            n += count(text->valuestring);
        else if (cJSON_IsNumber(part))
            n += count == utf8_chars ? 4 : 1; /* a prompt given as token ids */
    }
    return n;
}

static long simtok_content(const cJSON *content)
{
    return simtok_content_by(content, simtok_count);
}

long simtok_prompt_chars4(const cJSON *root, bool chat)
{
    long chars = 0;
    if (!chat) {
        const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(root, "prompt");
        if (!cJSON_IsString(prompt) && !cJSON_IsArray(prompt))
            return -1;
        chars = simtok_content_by(prompt, utf8_chars);
    } else {
        const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(root, "messages"), *m;
        if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) == 0)
            return -1;
        cJSON_ArrayForEach(m, msgs) chars +=
            simtok_content_by(cJSON_GetObjectItemCaseSensitive(m, "content"), utf8_chars);
    }
    return (chars + 3) / 4;
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
