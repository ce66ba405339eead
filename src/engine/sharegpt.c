#include "engine/sharegpt.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- the splitter: cJSON parses a whole text only, so a 600 MB file is cut into its
 * array's elements here and each element parsed alone ---- */

typedef struct {
    int depth;             /* [ and { open outside strings; the top-level array is depth 1 */
    bool in_str, esc;      /* inside a string; the last byte was a backslash in it */
    bool in_elem, too_big; /* capturing an object element; it outgrew max_elem */
    bool junk;             /* a non-object element at depth 1 */
    bool opened, closed;   /* the top-level '[' seen; its ']' seen */
    char *buf;
    size_t len, cap, max;
} splitter;

static int keep_byte(splitter *s, char c)
{
    if (s->too_big)
        return 0;
    if (s->len >= s->max) {
        s->too_big = true;
        return 0;
    }
    if (s->len == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        char *b = realloc(s->buf, cap);
        if (!b)
            return -1;
        s->buf = b;
        s->cap = cap;
    }
    s->buf[s->len++] = c;
    return 0;
}

/* One byte outside any element: the array's own punctuation, or a non-object element. */
static int outside(splitter *s, char c, size_t *skipped)
{
    if (!s->opened) {
        if (c == '[') {
            s->opened = true;
            s->depth = 1;
            return 0;
        }
        return isspace((unsigned char)c) ? 0 : -1;
    }
    if (s->closed || isspace((unsigned char)c))
        return 0;
    if (c == ',' || c == ']') {
        if (s->junk)
            (*skipped)++;
        s->junk = false;
        if (c == ']')
            s->closed = true;
        return 0;
    }
    if (c == '{') {
        s->in_elem = true;
        s->too_big = false;
        s->len = 0;
        s->depth = 2;
        return keep_byte(s, c);
    }
    s->junk = true; /* a string, number or array: not a conversation */
    if (c == '"')
        s->in_str = true;
    if (c == '[')
        s->depth = 2;
    return 0;
}

/* One byte of an element or of a junk value (strings and nesting tracked either way). */
static int inside(splitter *s, char c, json_elem_fn fn, void *user, size_t *skipped)
{
    if (s->in_elem && keep_byte(s, c) != 0)
        return -1;
    if (s->in_str) {
        if (s->esc)
            s->esc = false;
        else if (c == '\\')
            s->esc = true;
        else if (c == '"')
            s->in_str = false;
        return 0;
    }
    if (c == '"')
        s->in_str = true;
    else if (c == '{' || c == '[')
        s->depth++;
    else if ((c == '}' || c == ']') && --s->depth == 1 && s->in_elem) {
        s->in_elem = false;
        if (s->too_big) {
            (*skipped)++;
            return 0;
        }
        return fn(user, s->buf, s->len);
    }
    return 0;
}

int json_array_split(FILE *f, size_t chunk, size_t max_elem, json_elem_fn fn, void *user,
                     size_t *skipped)
{
    splitter s = {.max = max_elem};
    char *piece = malloc(chunk);
    int rc = piece ? 0 : -1;
    size_t n;
    while (rc == 0 && (n = fread(piece, 1, chunk, f)) > 0) {
        for (size_t i = 0; i < n && rc == 0; i++) {
            bool in = s.in_elem || s.in_str || s.depth > 1;
            rc = in ? inside(&s, piece[i], fn, user, skipped) : outside(&s, piece[i], skipped);
        }
    }
    if (rc == 0 && (s.in_elem || s.junk)) /* the file ended inside an element */
        (*skipped)++;
    if (rc == 0 && !s.opened)
        rc = -1;
    free(piece);
    free(s.buf);
    return rc;
}

/* ---- conversations ---- */

#define MAX_ELEM (64u << 20) /* one conversation larger than this is skipped */
#define READ_CHUNK (256u << 10)

typedef struct {
    char *prompt;
    long output_tokens;
} convo;

typedef struct {
    const llm_config *cfg;
    convo *kept;
    size_t keep, n;
    size_t eligible; /* conversations that could be kept, so far */
    uint64_t rng;
    sharegpt_counts *counts;
    bool oom;
} loader;

static bool is_human(const char *who)
{
    return !strcmp(who, "human") || !strcmp(who, "user");
}

/* The first human turn and the answer after it; false when there is no such pair. */
static bool first_exchange(const cJSON *turns, const char **prompt, const char **answer)
{
    const cJSON *t;
    *prompt = *answer = NULL;
    cJSON_ArrayForEach(t, turns)
    {
        const cJSON *from = cJSON_GetObjectItemCaseSensitive(t, "from");
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(t, "value");
        if (!cJSON_IsString(from) || !cJSON_IsString(value))
            continue;
        if (!*prompt && is_human(from->valuestring) && value->valuestring[0])
            *prompt = value->valuestring;
        else if (*prompt && !is_human(from->valuestring)) {
            *answer = value->valuestring;
            return true;
        }
    }
    return false;
}

/* Algorithm R: the i-th conversation replaces a kept one with probability keep / i. */
static void sample(loader *l, const char *prompt, long output_tokens)
{
    size_t seen = ++l->eligible;
    size_t at = l->n < l->keep ? l->n : (size_t)(prompt_rng_next(&l->rng) % seen);
    if (at >= l->keep)
        return;
    char *copy = strdup(prompt);
    if (!copy) {
        l->oom = true;
        return;
    }
    if (at == l->n)
        l->n++;
    else
        free(l->kept[at].prompt);
    l->kept[at] = (convo){copy, output_tokens};
}

static int on_conversation(void *user, const char *elem, size_t len)
{
    loader *l = user;
    l->counts->records++;
    cJSON *doc = cJSON_ParseWithLength(elem, len);
    const char *prompt, *answer;
    if (!first_exchange(cJSON_GetObjectItemCaseSensitive(doc, "conversations"), &prompt, &answer)) {
        l->counts->skipped++;
    } else {
        long in = ((long)strlen(prompt) + 3) / 4, out = ((long)strlen(answer) + 3) / 4;
        if (l->cfg->max_input_tokens > 0 && in > l->cfg->max_input_tokens)
            l->counts->filtered++;
        else
            sample(l, prompt, out > 0 ? out : 1);
    }
    cJSON_Delete(doc);
    return l->oom ? -1 : 0;
}

static int make_bodies(const loader *l, const char *model, prompt_set *out, char *err,
                       size_t errlen)
{
    out->bodies = calloc(l->n, sizeof *out->bodies);
    out->order = calloc(l->n, sizeof *out->order);
    if (!out->bodies || !out->order) {
        snprintf(err, errlen, "out of memory for %zu ShareGPT prompts", l->n);
        return -1;
    }
    for (size_t i = 0; i < l->n; i++) {
        if (prompt_build_payload(l->cfg, model, cJSON_CreateString(l->kept[i].prompt),
                                 l->kept[i].output_tokens, &out->bodies[i], err, errlen) != 0)
            return -1;
        out->n++;
        out->order[i] = i;
    }
    /* the reservoir keeps file order where it did not replace: shuffle with the seed */
    uint64_t x = l->rng ^ 0x5bd1e995;
    for (size_t i = out->n; i > 1; i--) {
        size_t j = (size_t)(prompt_rng_next(&x) % i), t = out->order[i - 1];
        out->order[i - 1] = out->order[j];
        out->order[j] = t;
    }
    return 0;
}

int sharegpt_load(const llm_config *cfg, const char *model, size_t keep, prompt_set *out,
                  sharegpt_counts *counts, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    memset(counts, 0, sizeof *counts);
    const char *path = cfg->dataset_file;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "--dataset sharegpt:%s: cannot read it (%s)", path, strerror(errno));
        return -1;
    }
    loader l = {.cfg = cfg,
                .kept = calloc(keep ? keep : 1, sizeof(convo)),
                .keep = keep,
                .rng = (cfg->seed_set ? cfg->seed : 1) * 0x9E3779B97F4A7C15ULL + 7,
                .counts = counts};
    size_t cut = 0; /* elements the splitter could not pass on */
    int rc = l.kept ? json_array_split(f, READ_CHUNK, MAX_ELEM, on_conversation, &l, &cut) : -1;
    fclose(f);
    counts->records += cut;
    counts->skipped += cut;
    if (rc != 0 || l.oom)
        snprintf(err, errlen,
                 l.oom || !l.kept ? "out of memory reading %s"
                                  : "--dataset sharegpt:%s is not a JSON array of "
                                    "{\"conversations\": [{\"from\": \"human\", \"value\": …}, …]}",
                 path);
    else if (l.n == 0)
        snprintf(err, errlen,
                 "--dataset sharegpt:%s: no conversation with a human turn and an answer%s "
                 "(%zu read, %zu skipped, %zu longer than --max-input-tokens)",
                 path, cfg->max_input_tokens > 0 ? " short enough" : "", counts->records,
                 counts->skipped, counts->filtered);
    else
        rc = make_bodies(&l, model, out, err, errlen);
    if (rc == 0 && l.n == 0)
        rc = -1;
    counts->kept = out->n;
    for (size_t i = 0; i < l.n; i++)
        free(l.kept[i].prompt);
    free(l.kept);
    if (rc != 0)
        prompts_free(out);
    return rc;
}
