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
    wl_script script; /* --turns: every exchange (n 0 without) */
} convo;

typedef struct {
    const llm_config *cfg;
    convo *kept;
    size_t keep, n;
    size_t eligible; /* conversations that could be kept, so far */
    uint64_t rng;
    sharegpt_counts *counts;
    bool oom;
    bool scripts; /* --turns: keep every exchange as a wl_script */
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

void sharegpt_script_free(wl_script *sc)
{
    for (uint32_t t = 0; t < sc->n; t++)
        free(sc->text[t]);
    free(sc->text);
    free(sc->len);
    free(sc->output_tokens);
    memset(sc, 0, sizeof *sc);
}

/* The JSON-escaped form of a string, without its quotes. */
static char *escaped(const cJSON *value, size_t *len)
{
    char *q = cJSON_PrintUnformatted(value);
    if (!q)
        return NULL;
    size_t n = strlen(q);
    char *out = malloc(n);
    if (out && n >= 2) {
        memcpy(out, q + 1, n - 2);
        out[n - 2] = '\0';
        *len = n - 2;
    }
    cJSON_free(q);
    return out;
}

/* Every human message followed by an answer, up to max exchanges. */
static int script_of(const cJSON *turns, uint32_t max, wl_script *sc)
{
    memset(sc, 0, sizeof *sc);
    sc->text = calloc(max, sizeof *sc->text);
    sc->len = calloc(max, sizeof *sc->len);
    sc->output_tokens = calloc(max, sizeof *sc->output_tokens);
    if (!sc->text || !sc->len || !sc->output_tokens)
        return -1;
    const cJSON *t, *human = NULL;
    cJSON_ArrayForEach(t, turns)
    {
        const cJSON *from = cJSON_GetObjectItemCaseSensitive(t, "from");
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(t, "value");
        if (sc->n == max || !cJSON_IsString(from) || !cJSON_IsString(value))
            continue;
        if (is_human(from->valuestring)) {
            human = value->valuestring[0] ? value : NULL;
        } else if (human) {
            if (!(sc->text[sc->n] = escaped(human, &sc->len[sc->n])))
                return -1;
            long out = ((long)strlen(value->valuestring) + 3) / 4;
            sc->output_tokens[sc->n++] = out > 0 ? out : 1;
            human = NULL;
        }
    }
    return 0;
}

/* Algorithm R: the i-th conversation replaces a kept one with probability keep / i. */
static void sample(loader *l, const char *prompt, long output_tokens, wl_script *sc)
{
    size_t seen = ++l->eligible;
    size_t at = l->n < l->keep ? l->n : (size_t)(prompt_rng_next(&l->rng) % seen);
    if (at >= l->keep) {
        sharegpt_script_free(sc);
        return;
    }
    char *copy = strdup(prompt);
    if (!copy) {
        sharegpt_script_free(sc);
        l->oom = true;
        return;
    }
    if (at == l->n) {
        l->n++;
    } else {
        free(l->kept[at].prompt);
        sharegpt_script_free(&l->kept[at].script);
    }
    l->kept[at] = (convo){copy, output_tokens, *sc};
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
        wl_script sc = {0};
        if (l->cfg->max_input_tokens > 0 && in > l->cfg->max_input_tokens)
            l->counts->filtered++;
        else if (l->scripts && script_of(cJSON_GetObjectItemCaseSensitive(doc, "conversations"),
                                         (uint32_t)l->cfg->turns, &sc) != 0) {
            sharegpt_script_free(&sc);
            l->oom = true;
        } else
            sample(l, prompt, out > 0 ? out : 1, &sc);
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

static int sharegpt_load_as(const llm_config *cfg, const char *model, size_t keep, prompt_set *out,
                            wl_script **scripts, size_t *n_scripts, sharegpt_counts *counts,
                            char *err, size_t errlen);

/* The seeded order conversations are taken in. */
static void shuffled(size_t *order, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    uint64_t x = seed ^ 0x5bd1e995;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(prompt_rng_next(&x) % i), t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
}

static int make_scripts(loader *l, wl_script **out, size_t *n_out, char *err, size_t errlen)
{
    size_t *order = calloc(l->n, sizeof *order);
    *out = calloc(l->n, sizeof **out);
    if (!order || !*out) {
        free(order);
        snprintf(err, errlen, "out of memory for %zu ShareGPT conversations", l->n);
        return -1;
    }
    shuffled(order, l->n, l->rng);
    for (size_t i = 0; i < l->n; i++) { /* the scripts move out of the loader */
        (*out)[i] = l->kept[order[i]].script;
        memset(&l->kept[order[i]].script, 0, sizeof(wl_script));
    }
    *n_out = l->n;
    free(order);
    return 0;
}

int sharegpt_load_scripts(const llm_config *cfg, size_t keep, wl_script **out, size_t *n_out,
                          sharegpt_counts *counts, char *err, size_t errlen)
{
    *out = NULL;
    *n_out = 0;
    prompt_set unused;
    return sharegpt_load_as(cfg, NULL, keep, &unused, out, n_out, counts, err, errlen);
}

int sharegpt_load(const llm_config *cfg, const char *model, size_t keep, prompt_set *out,
                  sharegpt_counts *counts, char *err, size_t errlen)
{
    return sharegpt_load_as(cfg, model, keep, out, NULL, NULL, counts, err, errlen);
}

/* Bodies (scripts NULL) or --turns scripts. */
static int sharegpt_load_as(const llm_config *cfg, const char *model, size_t keep, prompt_set *out,
                            wl_script **scripts, size_t *n_scripts, sharegpt_counts *counts,
                            char *err, size_t errlen)
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
                .counts = counts,
                .scripts = scripts != NULL};
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
    else if (scripts)
        rc = make_scripts(&l, scripts, n_scripts, err, errlen);
    else
        rc = make_bodies(&l, model, out, err, errlen);
    if (rc == 0 && l.n == 0)
        rc = -1;
    counts->kept = scripts ? *n_scripts : out->n;
    for (size_t i = 0; i < l.n; i++) {
        free(l.kept[i].prompt);
        sharegpt_script_free(&l.kept[i].script);
    }
    free(l.kept);
    if (rc != 0)
        prompts_free(out);
    return rc;
}
