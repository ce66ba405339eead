#include "config/cli_scale.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/util.h"
#include "config/cli_set.h"

#define SHARD_MAX 100000

/* ---- parsers ---- */

static int parse_index_count(const char *text, long *index, long *count)
{
    char buf[48];
    if (llm_strlcpy(buf, text, sizeof buf) >= sizeof buf)
        return -1;
    char *slash = strchr(buf, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    return llm_parse_count(buf, index) == 0 && llm_parse_count(slash + 1, count) == 0 ? 0 : -1;
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (*(*p)++ - '0');
    }
    *out = v;
    return 0;
}

static int expect(const char **p, const char *any)
{
    if (!**p || !strchr(any, **p))
        return -1;
    (*p)++;
    return 0;
}

/* The zone of an RFC 3339 time: Z or ±HH:MM, as seconds east of UTC. */
static int parse_zone(const char *p, long *east)
{
    int h, m;
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        *east = 0;
        return 0;
    }
    if (*p != '+' && *p != '-')
        return -1;
    int sign = *p++ == '-' ? -1 : 1;
    if (digits(&p, 2, &h) || expect(&p, ":") || digits(&p, 2, &m) || *p || h > 23 || m > 59)
        return -1;
    *east = sign * (h * 3600L + m * 60L);
    return 0;
}

static int parse_rfc3339(const char *p, double *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int y, mo, d, h, mi, s;
    if (digits(&p, 4, &y) || expect(&p, "-") || digits(&p, 2, &mo) || expect(&p, "-") ||
        digits(&p, 2, &d) || expect(&p, "Tt ") || digits(&p, 2, &h) || expect(&p, ":") ||
        digits(&p, 2, &mi) || expect(&p, ":") || digits(&p, 2, &s))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return -1;
    double frac = 0, scale = 0.1;
    if (*p == '.') {
        if (!isdigit((unsigned char)*++p))
            return -1;
        for (; isdigit((unsigned char)*p); p++, scale /= 10)
            frac += (*p - '0') * scale;
    }
    long east;
    if (parse_zone(p, &east))
        return -1;
    tm = (struct tm){.tm_year = y - 1900,
                     .tm_mon = mo - 1,
                     .tm_mday = d,
                     .tm_hour = h,
                     .tm_min = mi,
                     .tm_sec = s};
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = (double)t - (double)east + frac;
    return 0;
}

int scale_parse_time(const char *text, double *out)
{
    if (!text || !*text)
        return -1;
    if (strchr(text, '-') && parse_rfc3339(text, out) == 0)
        return 0;
    return llm_parse_number(text, out) == 0 && *out > 0 ? 0 : -1;
}

int scale_parse_listen(const char *text, char *host, size_t cap, int *port)
{
    const char *colon = strrchr(text, ':');
    const char *p = colon ? colon + 1 : text;
    long v;
    if (llm_parse_count(p, &v) != 0 || v > 65535)
        return -1;
    *port = (int)v;
    size_t n = colon ? (size_t)(colon - text) : 0;
    if (n >= 2 && text[0] == '[' && text[n - 1] == ']') { /* [::1]:9000 */
        text++;
        n -= 2;
    }
    if (n == 0) {
        llm_strlcpy(host, "127.0.0.1", cap);
        return 0;
    }
    if (n >= cap || memchr(text, '[', n) || memchr(text, ']', n))
        return -1;
    memcpy(host, text, n);
    host[n] = '\0';
    return 0;
}

/* ---- setters ---- */

int set_shard(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    long i, n;
    if (parse_index_count(val, &i, &n) != 0 || n < 1 || n > SHARD_MAX)
        return cli_fail(st,
                        "must be I/N, this worker's share of N (1 to %d), e.g. 0/4 (got \"%s\")",
                        SHARD_MAX, val);
    if (i >= n)
        return cli_fail(st, "%s: I counts from 0, as JOB_COMPLETION_INDEX does, so it is 0 to %ld",
                        val, n - 1);
    st->cfg->shard_index = i;
    st->cfg->shard_count = n;
    return 0;
}

int set_shards(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    long n;
    if (llm_parse_count(val, &n) != 0 || n < 1 || n > SHARD_MAX)
        return cli_fail(st, "must be the number of workers, 1 to %d (got \"%s\")", SHARD_MAX, val);
    st->cfg->shard_index = -1; /* from JOB_COMPLETION_INDEX, in cli_scale_check */
    st->cfg->shard_count = n;
    return 0;
}

int set_threads(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    long n;
    if (strcmp(val, "auto") == 0) {
        st->cfg->threads = -1;
        return 0;
    }
    if (llm_parse_count(val, &n) != 0 || n < 1 || n > LLM_MAX_THREADS)
        return cli_fail(st, "must be the number of engine threads, 1 to %d, or auto (got \"%s\")",
                        LLM_MAX_THREADS, val);
    st->cfg->threads = n;
    return 0;
}

int set_start_at(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    double t;
    if (scale_parse_time(val, &t) != 0 || t < 946684800.0 /* 2000-01-01 */)
        return cli_fail(st,
                        "must be a time like 2026-12-02T07:00:00Z (RFC 3339) or Unix seconds "
                        "(got \"%s\")",
                        val);
    st->cfg->start_at = t;
    return 0;
}

int set_listen(cli_state *st, const cli_option *o, const char *val)
{
    char host[SCALE_HOST_MAX];
    int port;
    if (scale_parse_listen(val, host, sizeof host, &port) != 0)
        return cli_fail(st, "must be ADDR:PORT, :PORT or PORT, e.g. 127.0.0.1:9464 (got \"%s\")",
                        val);
    return set_string(st, o, val);
}

static int take_token(cli_state *st, const char *token)
{
    if (strlen(token) < SCALE_TOKEN_MIN)
        return cli_fail(st, "must be at least %d characters: a short token is guessed",
                        SCALE_TOKEN_MIN);
    for (const char *p = token; *p; p++)
        if (!isgraph((unsigned char)*p))
            return cli_fail(st, "must be printable characters without spaces");
    free(st->cfg->control_token);
    st->cfg->control_token = strdup(token);
    return st->cfg->control_token ? 0 : cli_fail(st, "out of memory");
}

int set_control_token(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    return take_token(st, val);
}

/* The file's first line (a Kubernetes Secret mounted as a file has no newline at all). */
int set_control_token_file(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    FILE *f = fopen(val, "r");
    if (!f)
        return cli_fail(st, "%s: cannot read it (%s)", val, strerror(errno));
    char line[512] = "";
    bool got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    if (!got || !line[0])
        return cli_fail(st, "%s: the file is empty; put the token on its first line", val);
    int rc = take_token(st, line);
    memset(line, 0, sizeof line);
    return rc;
}

/* ---- after argv ---- */

static int scale_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int scale_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int index_from_env(llm_config *cfg, char *err, size_t errlen)
{
    const char *env = getenv("JOB_COMPLETION_INDEX");
    long i;
    if (!env || !*env)
        return scale_fail(err, errlen,
                          "--shards %ld takes this worker's index from JOB_COMPLETION_INDEX, "
                          "which is not set: set it, or give --shard I/%ld",
                          cfg->shard_count, cfg->shard_count);
    if (llm_parse_count(env, &i) != 0 || i >= cfg->shard_count)
        return scale_fail(err, errlen,
                          "JOB_COMPLETION_INDEX=%s is not a worker of --shards %ld: it must be "
                          "0 to %ld",
                          env, cfg->shard_count, cfg->shard_count - 1);
    cfg->shard_index = i;
    return 0;
}

int cli_scale_check(llm_config *cfg, const cli_state *st, char *err, size_t errlen)
{
    if (cli_seen(st, "--shard") && cli_seen(st, "--shards"))
        return scale_fail(err, errlen,
                          "--shard I/N and --shards N both say this worker's share: give one "
                          "(--shards takes I from JOB_COMPLETION_INDEX)");
    if (cfg->shard_count > 0 && cfg->shard_index < 0 && index_from_env(cfg, err, errlen))
        return -1;
    if (cfg->shard_count > 1 && cfg->search)
        return scale_fail(err, errlen,
                          "--search picks each step from the results, which one worker of %ld "
                          "does not have: run a search in one process",
                          cfg->shard_count);
    if (cfg->threads > 1 && cfg->search)
        return scale_fail(err, errlen,
                          "--search steers one engine thread by the results: run it without "
                          "--threads %ld",
                          cfg->threads);
    if (cfg->control_token && !cfg->listen)
        return scale_fail(err, errlen,
                          "--control-token needs --listen ADDR:PORT: the control endpoint is "
                          "served there");
    return 0;
}
