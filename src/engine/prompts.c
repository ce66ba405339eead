#include "engine/prompts.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

static const char good_line[] =
    "each line is {\"prompt\": \"…\"} or {\"messages\": [...]} (optional \"max_tokens\"), "
    "or plain text";

/* One JSONL line into a body; *why is set when the line is not usable. */
static int body_from_json(const llm_config *cfg, const char *model, const char *line,
                          prompt_body *out, char *why, size_t whylen)
{
    cJSON *doc = cJSON_ParseWithOpts(line, NULL, true); /* one object, nothing after it */
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        snprintf(why, whylen, "not a JSON object (or more than one); %s", good_line);
        return -1;
    }
    cJSON *prompt = cJSON_GetObjectItem(doc, "prompt");
    cJSON *messages = cJSON_GetObjectItem(doc, "messages");
    cJSON *max_tokens = cJSON_GetObjectItem(doc, "max_tokens");
    cJSON *payload = cJSON_IsString(prompt) ? prompt : cJSON_IsArray(messages) ? messages : NULL;
    if (!payload) {
        cJSON_Delete(doc);
        snprintf(why, whylen, "no \"prompt\" string or \"messages\" array; %s", good_line);
        return -1;
    }
    if (max_tokens && (!cJSON_IsNumber(max_tokens) || max_tokens->valuedouble < 1 ||
                       max_tokens->valuedouble > LLM_MAX_TOKENS ||
                       max_tokens->valuedouble != (double)(long)max_tokens->valuedouble)) {
        cJSON_Delete(doc);
        snprintf(why, whylen, "\"max_tokens\" must be a whole number from 1 to %d, or left out",
                 LLM_MAX_TOKENS);
        return -1;
    }
    cJSON_DetachItemViaPointer(doc, payload);
    long mt = cJSON_IsNumber(max_tokens) ? (long)max_tokens->valuedouble : 0;
    cJSON_Delete(doc);
    return prompt_build_payload(cfg, model, payload, mt, out, why, whylen);
}

/* The byte offset of the first byte that is not valid UTF-8 (or a NUL), or -1. */
static long invalid_utf8_at(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t len = c < 0x80             ? 1
                     : (c & 0xE0) == 0xC0 ? 2
                     : (c & 0xF0) == 0xE0 ? 3
                     : (c & 0xF8) == 0xF0 ? 4
                                          : 0;
        if (c == 0 || len == 0 || (len == 2 && c < 0xC2) || i + len > n)
            return (long)i;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return (long)i;
        unsigned cp = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
        for (size_t k = 1; k < len; k++)
            cp = (cp << 6) | (s[i + k] & 0x3F);
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return (long)i;
        i += len;
    }
    return -1;
}

static int body_from_line(const llm_config *cfg, const char *model, char *line, prompt_body *out,
                          char *why, size_t whylen)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    const char *p = line;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '{')
        return body_from_json(cfg, model, p, out, why, whylen);
    return prompt_build_payload(cfg, model, cJSON_CreateString(line), 0, out, why, whylen);
}

static void shuffle(prompt_set *ps, uint64_t seed)
{
    for (size_t i = 0; i < ps->n; i++)
        ps->order[i] = i;
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;
    for (size_t i = ps->n; i > 1; i--) {
        size_t j = (size_t)(prompt_rng_next(&x) % i);
        size_t t = ps->order[i - 1];
        ps->order[i - 1] = ps->order[j];
        ps->order[j] = t;
    }
}

static int append(prompt_set *ps, size_t *cap, const prompt_body *b)
{
    if (ps->n == *cap) {
        size_t grown = *cap ? *cap * 2 : 64;
        prompt_body *p = realloc(ps->bodies, grown * sizeof *p);
        if (!p)
            return -1;
        ps->bodies = p;
        *cap = grown;
    }
    ps->bodies[ps->n++] = *b;
    return 0;
}

static int read_lines(const llm_config *cfg, const char *model, FILE *f, prompt_set *ps, char *err,
                      size_t errlen)
{
    char *line = NULL, why[256];
    size_t linecap = 0, cap = 0, lineno = 0;
    int rc = 0;
    ssize_t got;
    while (rc == 0 && (got = getline(&line, &linecap, f)) >= 0) {
        lineno++;
        long bad = invalid_utf8_at((const unsigned char *)line, (size_t)got);
        if (bad >= 0) {
            snprintf(err, errlen,
                     "--prompts %s line %zu: byte %ld is not UTF-8 text (is it a binary file?); "
                     "%s",
                     cfg->prompts_file, lineno, bad + 1, good_line);
            rc = -1;
            break;
        }
        const char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            continue; /* blank lines separate nothing */
        prompt_body b;
        if (body_from_line(cfg, model, line, &b, why, sizeof why) != 0) {
            snprintf(err, errlen, "--prompts %s line %zu: %s", cfg->prompts_file, lineno, why);
            rc = -1;
        } else if (append(ps, &cap, &b) != 0) {
            prompt_free(&b);
            snprintf(err, errlen, "out of memory reading --prompts %s", cfg->prompts_file);
            rc = -1;
        }
    }
    free(line);
    return rc;
}

int prompts_load(const llm_config *cfg, const char *model, prompt_set *out, char *err,
                 size_t errlen)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(cfg->prompts_file, "r");
    if (!f) {
        snprintf(err, errlen, "--prompts %s: cannot read it (%s)", cfg->prompts_file,
                 strerror(errno));
        return -1;
    }
    int rc = read_lines(cfg, model, f, out, err, errlen);
    fclose(f);
    if (rc == 0 && out->n == 0) {
        snprintf(err, errlen, "--prompts %s: no prompts in it; %s", cfg->prompts_file, good_line);
        rc = -1;
    }
    if (rc == 0 && !(out->order = malloc(out->n * sizeof *out->order))) {
        snprintf(err, errlen, "out of memory reading --prompts %s", cfg->prompts_file);
        rc = -1;
    }
    if (rc != 0) {
        prompts_free(out);
        return -1;
    }
    if (cfg->prompts_shuffle)
        shuffle(out, cfg->seed_set ? cfg->seed : 1);
    else
        for (size_t i = 0; i < out->n; i++)
            out->order[i] = i;
    return 0;
}

prompt_body *prompts_next(prompt_set *ps)
{
    return &ps->bodies[ps->order[ps->next++ % ps->n]];
}

void prompts_free(prompt_set *ps)
{
    for (size_t i = 0; i < ps->n; i++)
        prompt_free(&ps->bodies[i]);
    free(ps->bodies);
    free(ps->order);
    memset(ps, 0, sizeof *ps);
}
