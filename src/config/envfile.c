#include "config/envfile.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENVFILE_MAX_BYTES (1 << 20)

/* One line being parsed: [p, end) with the line number for messages. */
typedef struct {
    const char *p, *end;
    int lineno;
    const char *label;
    char *err;
    size_t errlen;
} env_line;

static void skip_blanks(env_line *l)
{
    while (l->p < l->end && (*l->p == ' ' || *l->p == '\t'))
        l->p++;
}

static int line_fail(env_line *l, const char *what)
{
    snprintf(l->err, l->errlen, "%s line %d: %s", l->label, l->lineno, what);
    return -1;
}

static bool key_char(char c, bool first)
{
    return isalpha((unsigned char)c) || c == '_' ||
           (!first && (isdigit((unsigned char)c) || c == '.'));
}

/* After a closing quote only blanks or a comment may follow. */
static int expect_line_end(env_line *l)
{
    skip_blanks(l);
    if (l->p < l->end && *l->p != '#')
        return line_fail(l, "unexpected text after the closing quote");
    return 0;
}

static char *parse_double_quoted(env_line *l)
{
    char *out = malloc((size_t)(l->end - l->p) + 1), *o = out;
    if (!out)
        return NULL;
    for (l->p++; l->p < l->end && *l->p != '"'; l->p++) {
        char c = *l->p;
        if (c == '\\' && l->p + 1 < l->end) {
            char n = *++l->p;
            c = n == 'n' ? '\n' : n == 't' ? '\t' : n == 'r' ? '\r' : n;
        }
        *o++ = c;
    }
    *o = '\0';
    if (l->p >= l->end) {
        free(out);
        line_fail(l, "the value has no closing double quote");
        return NULL;
    }
    l->p++;
    if (expect_line_end(l) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

static char *parse_single_quoted(env_line *l)
{
    const char *start = ++l->p;
    const char *close = memchr(start, '\'', (size_t)(l->end - start));
    if (!close) {
        line_fail(l, "the value has no closing single quote");
        return NULL;
    }
    l->p = close + 1;
    if (expect_line_end(l) != 0)
        return NULL;
    return strndup(start, (size_t)(close - start));
}

/* Unquoted: up to a " #" comment, trailing blanks trimmed. */
static char *parse_bare(env_line *l)
{
    const char *start = l->p, *q = l->p;
    while (q < l->end && !(*q == '#' && (q == start || q[-1] == ' ' || q[-1] == '\t')))
        q++;
    while (q > start && (q[-1] == ' ' || q[-1] == '\t'))
        q--;
    return strndup(start, (size_t)(q - start));
}

static int add_entry(envfile *e, const char *key, size_t keylen, char *value)
{
    envfile_entry *v = realloc(e->v, (e->n + 1) * sizeof *v);
    if (!v)
        return -1;
    e->v = v;
    e->v[e->n].key = strndup(key, keylen);
    e->v[e->n].value = value;
    if (!e->v[e->n].key)
        return -1;
    e->n++;
    return 0;
}

static int parse_line(env_line *l, envfile *out)
{
    skip_blanks(l);
    if (l->p == l->end || *l->p == '#')
        return 0;
    if (l->end - l->p > 7 && strncmp(l->p, "export", 6) == 0 &&
        (l->p[6] == ' ' || l->p[6] == '\t')) {
        l->p += 7;
        skip_blanks(l);
    }
    const char *key = l->p;
    while (l->p < l->end && key_char(*l->p, l->p == key))
        l->p++;
    size_t keylen = (size_t)(l->p - key);
    skip_blanks(l);
    if (keylen == 0 || l->p == l->end || *l->p != '=')
        return line_fail(l, "expected KEY=VALUE");
    l->p++;
    skip_blanks(l);
    char *value = l->p < l->end && *l->p == '"'    ? parse_double_quoted(l)
                  : l->p < l->end && *l->p == '\'' ? parse_single_quoted(l)
                                                   : parse_bare(l);
    if (!value)
        return -1;
    if (add_entry(out, key, keylen, value) != 0) {
        free(value);
        return line_fail(l, "out of memory");
    }
    return 0;
}

int envfile_parse(const char *text, const char *label, envfile *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (strncmp(text, "\xEF\xBB\xBF", 3) == 0) /* a UTF-8 BOM from some editors */
        text += 3;
    env_line l = {.label = label, .err = err, .errlen = errlen};
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        const char *end = nl ? nl : p + strlen(p);
        l.p = p;
        l.end = (end > p && end[-1] == '\r') ? end - 1 : end;
        l.lineno++;
        if (parse_line(&l, out) != 0) {
            envfile_free(out);
            return -1;
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}

static char *read_small_file(const char *path, const char *label, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read it (%s)", label, strerror(errno));
        return NULL;
    }
    char *buf = malloc(ENVFILE_MAX_BYTES + 1);
    errno = 0;
    size_t n = buf ? fread(buf, 1, ENVFILE_MAX_BYTES + 1, f) : 0;
    int failed = ferror(f) ? (errno ? errno : EIO) : buf ? 0 : ENOMEM;
    fclose(f);
    if (failed || n > ENVFILE_MAX_BYTES) {
        snprintf(err, errlen, "%s: cannot read it (%s)", label,
                 failed ? strerror(failed) : "larger than 1 MiB; is it a .env file?");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (memchr(buf, '\0', n)) {
        snprintf(err, errlen, "%s: cannot read it (it contains NUL bytes; is it a .env file?)",
                 label);
        free(buf);
        return NULL;
    }
    return buf;
}

int envfile_load(const char *path, const char *label, envfile *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char *text = read_small_file(path, label, err, errlen);
    if (!text)
        return -1;
    int rc = envfile_parse(text, label, out, err, errlen);
    free(text);
    return rc;
}

const char *envfile_get(const envfile *e, const char *key)
{
    for (size_t i = e->n; i > 0; i--)
        if (strcmp(e->v[i - 1].key, key) == 0)
            return e->v[i - 1].value;
    return NULL;
}

void envfile_free(envfile *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->v[i].key);
        free(e->v[i].value);
    }
    free(e->v);
    e->v = NULL;
    e->n = 0;
}
