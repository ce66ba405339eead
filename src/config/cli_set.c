#include "config/cli_set.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"

#define FIELD(st, o, type) ((type *)((char *)(st)->cfg + (o)->offset))

int cli_fail(cli_state *st, const char *fmt, ...)
{
    int n = snprintf(st->err, st->errlen, "%s ", st->spelled ? st->spelled : "");
    if (n < 0 || (size_t)n >= st->errlen)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->err + n, st->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static int replace_string(char **slot, const char *val)
{
    free(*slot);
    *slot = val ? strdup(val) : NULL;
    return (val && !*slot) ? -1 : 0;
}

int set_none(cli_state *st, const cli_option *o, const char *val)
{
    (void)st, (void)o, (void)val;
    return 0;
}

int set_flag(cli_state *st, const cli_option *o, const char *val)
{
    (void)val;
    *FIELD(st, o, bool) = true;
    return 0;
}

static int parse_min_count(cli_state *st, const cli_option *o, const char *val, long *out)
{
    bool digits = *val && strspn(val, "0123456789") == strlen(val);
    if (o->max > 0 && digits && (llm_parse_count(val, out) != 0 || *out > o->max))
        return cli_fail(st, "must be at most %.0f (got \"%s\")", o->max, val);
    if (llm_parse_count(val, out) != 0 || *out < o->min)
        return cli_fail(st, "must be a whole number \xE2\x89\xA5 %ld (got \"%s\")", o->min, val);
    return 0;
}

int set_count(cli_state *st, const cli_option *o, const char *val)
{
    return parse_min_count(st, o, val, FIELD(st, o, long));
}

int set_int_count(cli_state *st, const cli_option *o, const char *val)
{
    long v;
    if (parse_min_count(st, o, val, &v) != 0)
        return -1;
    if (v > 1000000)
        return cli_fail(st, "must be at most 1000000 (got \"%s\")", val);
    *FIELD(st, o, int) = (int)v;
    return 0;
}

/* min 1 means "greater than 0", min 0 means "0 or more". */
int set_duration(cli_state *st, const cli_option *o, const char *val)
{
    double v, max = o->max > 0 ? o->max : CLI_MAX_DURATION_S;
    if (llm_parse_duration(val, &v) != 0 || (o->min > 0 && v <= 0))
        return cli_fail(st, "must be a duration%s like 30s, 5m, 8h or 250ms (got \"%s\")",
                        o->min > 0 ? " greater than 0," : "", val);
    if (v > max)
        return cli_fail(st, "must be at most %.0fh (a year); got \"%s\"", max / 3600, val);
    *FIELD(st, o, double) = v;
    return 0;
}

int set_number(cli_state *st, const cli_option *o, const char *val)
{
    double v;
    if (llm_parse_number(val, &v) != 0 || (o->min > 0 && v <= 0))
        return cli_fail(st, "must be a number %s (got \"%s\")",
                        o->min > 0 ? "> 0" : "\xE2\x89\xA5 0", val);
    if (o->max > 0 && v > o->max)
        return cli_fail(st, "must be at most %g (got \"%s\")", o->max, val);
    *FIELD(st, o, double) = v;
    return 0;
}

static int parse_pct(const char *val, double *out)
{
    char buf[64];
    size_t n = llm_strlcpy(buf, val, sizeof buf);
    if (n >= sizeof buf)
        return -1;
    if (n > 0 && buf[n - 1] == '%')
        buf[n - 1] = '\0';
    return (llm_parse_number(buf, out) == 0 && *out <= 100) ? 0 : -1;
}

/* Requests per second: below a thousandth the first arrival would come after 16 minutes,
 * above a million no client machine keeps up. */
int set_rate(cli_state *st, const cli_option *o, const char *val)
{
    double v;
    if (llm_parse_number(val, &v) != 0 || v < CLI_MIN_RATE || v > CLI_MAX_RATE)
        return cli_fail(st, "must be a rate from 0.001 to 1000000 requests/s (got \"%s\")", val);
    *FIELD(st, o, double) = v;
    return 0;
}

int set_pct(cli_state *st, const cli_option *o, const char *val)
{
    if (parse_pct(val, FIELD(st, o, double)) != 0)
        return cli_fail(st, "must be a percentage from 0 to 100, like 5 or 2.5%% (got \"%s\")",
                        val);
    return 0;
}

int set_string(cli_state *st, const cli_option *o, const char *val)
{
    if (!*val)
        return cli_fail(st, "must not be empty");
    return replace_string(FIELD(st, o, char *), val);
}

int set_file(cli_state *st, const cli_option *o, const char *val)
{
    if (!*val)
        return cli_fail(st, "must name a file");
    struct stat sb;
    if (access(val, R_OK) != 0)
        return cli_fail(st, "%s: cannot read it (%s)", val, strerror(errno));
    if (stat(val, &sb) == 0 && S_ISDIR(sb.st_mode))
        return cli_fail(st, "%s is a directory; give a file inside it", val);
    return replace_string(FIELD(st, o, char *), val);
}

/* Target: syntax is checked once the source is known (config_load), for flags and env alike. */
int set_url(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    st->cfg->url_source = LLM_SRC_FLAG;
    return replace_string(&st->cfg->url, val);
}

/* "" is a deliberate "no key" (the seed's `--api_key ""`), overriding the environment. */
int set_api_key(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    st->cfg->key_source = LLM_SRC_FLAG;
    return replace_string(&st->cfg->api_key, *val ? val : NULL);
}

/* "" = let the engine pick the first served model, whatever the environment says. */
int set_model(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    st->cfg->model_source = LLM_SRC_FLAG;
    return replace_string(&st->cfg->model, *val ? val : NULL);
}

int set_endpoint(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    if (strcmp(val, "chat") == 0)
        st->cfg->endpoint = LLM_ENDPOINT_CHAT;
    else if (strcmp(val, "completions") == 0)
        st->cfg->endpoint = LLM_ENDPOINT_COMPLETIONS;
    else
        return cli_fail(st, "must be chat or completions (got \"%s\")", val);
    return 0;
}

int set_arrivals(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    static const char *names[] = {"poisson", "gamma", "constant"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(val, names[i]) == 0) {
            st->cfg->arrivals = (llm_arrivals)i;
            return 0;
        }
    }
    return cli_fail(st, "must be poisson, gamma or constant (got \"%s\")", val);
}

/* STEP: "+4" or "4" adds, "x2" (or "*2") multiplies. */
static int parse_ramp_step(const char *s, long *step, bool *multiply)
{
    *multiply = (*s == 'x' || *s == 'X' || *s == '*');
    if (*multiply || *s == '+')
        s++;
    return llm_parse_count(s, step) == 0 && *step >= (*multiply ? 2 : 1) ? 0 : -1;
}

/* START:END:STEP with STEP +N, N or xN; 0 or -1. */
static int parse_ramp_text(const char *val, long *a, long *b, long *step, bool *mul)
{
    char buf[3][32];
    const char *p = val;
    for (int i = 0; i < 3; i++) {
        size_t n = strcspn(p, ":");
        if (n >= sizeof buf[i] || (i < 2 && p[n] != ':') || (i == 2 && p[n] != '\0'))
            return -1;
        memcpy(buf[i], p, n);
        buf[i][n] = '\0';
        p += n + (i < 2);
    }
    if (llm_parse_count(buf[0], a) != 0 || *a < 1 || llm_parse_count(buf[1], b) != 0 ||
        parse_ramp_step(buf[2], step, mul) != 0)
        return -1;
    return 0;
}

int set_rate_ramp(cli_state *st, const cli_option *o, const char *val)
{
    int rc = set_ramp(st, o, val);
    if (rc == 0)
        st->cfg->rate_ramp = true;
    return rc;
}

int set_ramp(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    long a, b, step;
    bool mul;
    if (parse_ramp_text(val, &a, &b, &step, &mul) != 0)
        goto bad;
    if (b < a)
        return cli_fail(st, "must count up: END %ld is below START %ld (got \"%s\")", b, a, val);
    if (b > CLI_MAX_USERS || step > CLI_MAX_USERS)
        return cli_fail(st, "must stay at or below %d (got \"%s\")", CLI_MAX_USERS, val);
    st->cfg->ramp_start = a, st->cfg->ramp_end = b, st->cfg->ramp_step = step;
    st->cfg->ramp_multiply = mul;
    return 0;
bad:
    return cli_fail(st, "must be START:END:STEP like 1:64:x2 or 1:32:+4 (got \"%s\")", val);
}

static bool header_name_ok(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("!#$%&'*+-.^_`|~", s[i]))
            return false;
    return true;
}

/* Values are never echoed: a header may carry a credential. */
int set_header(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    const char *colon = strchr(val, ':');
    if (!colon || !header_name_ok(val, (size_t)(colon - val)) || strpbrk(colon, "\r\n"))
        return cli_fail(st, "must be Name:Value like \"X-Team: perf\" (a name of letters, digits "
                            "and -, no line breaks)");
    const char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    llm_config *c = st->cfg;
    llm_header *h = realloc(c->headers, (c->n_headers + 1) * sizeof *h);
    if (!h)
        return cli_fail(st, "could not be stored (out of memory)");
    c->headers = h;
    h[c->n_headers].name = strndup(val, (size_t)(colon - val));
    h[c->n_headers].value = strdup(v);
    if (!h[c->n_headers].name || !h[c->n_headers].value) {
        free(h[c->n_headers].name);
        free(h[c->n_headers].value);
        return cli_fail(st, "could not be stored (out of memory)");
    }
    c->n_headers++;
    return 0;
}

/* Fields llmload sets from its own options and records with the results: in --body-json
 * they would make the request disagree with what the run shows and saves. */
static const char *const owned_fields[][2] = {
    {"model", "--model NAME"}, {"max_tokens", "--max-tokens N"}, {"stream", "--no-stream"}};

/* One object and nothing after it, none of the owned fields. */
int set_body_json(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    cJSON *j = cJSON_ParseWithOpts(val, NULL, true);
    bool ok = j && cJSON_IsObject(j);
    int owned = -1;
    for (int i = 0; ok && owned < 0 && i < 3; i++)
        if (cJSON_GetObjectItemCaseSensitive(j, owned_fields[i][0]))
            owned = i;
    cJSON_Delete(j);
    if (!ok)
        return cli_fail(st, "must be a JSON object like '{\"top_p\": 0.9}' (just one: put "
                            "every field in it)");
    if (owned >= 0)
        return cli_fail(st,
                        "must not set \"%s\": use %s, which the run shows and saves with the "
                        "results",
                        owned_fields[owned][0], owned_fields[owned][1]);
    return replace_string(&st->cfg->body_json, val);
}

/* One NAME=VALUE of --slo. Times need a unit (tpot=80 would be 80 s, meant as 80 ms).
 * Returns 0, -1 (syntax), -2 (a bare number), -3 (a name given twice); *seen has a bit per
 * name. */
static int slo_item(llm_slo *slo, const char *item, unsigned *seen)
{
    const char *eq = strchr(item, '=');
    if (!eq)
        return -1;
    size_t n = (size_t)(eq - item);
    const char *v = eq + 1;
    static const char *const names[] = {"ttft", "tpot", "e2e", "errors"};
    double *slots[] = {&slo->ttft_s, &slo->tpot_s, &slo->e2e_s, &slo->errors_pct};
    for (unsigned i = 0; i < 4; i++) {
        if (strlen(names[i]) != n || strncmp(item, names[i], n) != 0)
            continue;
        if (*seen & (1u << i))
            return -3;
        *seen |= 1u << i;
        if (i == 3)
            return parse_pct(v, slots[i]);
        size_t vl = strlen(v);
        if (vl && (isdigit((unsigned char)v[vl - 1]) || v[vl - 1] == '.'))
            return -2;
        return llm_parse_duration(v, slots[i]) == 0 && *slots[i] > 0 ? 0 : -1;
    }
    return -1;
}

int set_slo(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    char *copy = strdup(val), *save = NULL, bad[64] = "";
    unsigned seen = 0;
    int rc = copy && *copy ? 0 : -1;
    for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && rc == 0;
         tok = strtok_r(NULL, ",", &save)) {
        rc = slo_item(&st->cfg->slo, tok, &seen);
        if (rc)
            llm_strlcpy(bad, tok, sizeof bad);
    }
    free(copy);
    if (rc == -2)
        return cli_fail(st, "%s needs a unit, like 80ms or 2s (a bare number is ambiguous)", bad);
    if (rc == -3)
        return cli_fail(st, "gives %.*s twice (in \"%s\"); give each limit once",
                        (int)strcspn(bad, "="), bad, val);
    if (rc != 0)
        return cli_fail(st,
                        "must be a comma list of ttft=D, tpot=D, e2e=D, errors=PCT like "
                        "ttft=2s,tpot=80ms,e2e=30s,errors=1%% (got \"%s\")",
                        val);
    return 0;
}

int set_dist(cli_state *st, const cli_option *o, const char *val)
{
    char why[320];
    if (dist_parse(val, FIELD(st, o, llm_dist), why, sizeof why) != 0)
        return cli_fail(st, "%s", why);
    return 0;
}

/* --dataset KIND:FILE; jsonl:FILE is --prompts FILE. */
int set_dataset(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    static const struct {
        const char *name;
        llm_dataset kind;
    } kinds[] = {{"jsonl:", LLM_DATASET_JSONL},
                 {"sharegpt:", LLM_DATASET_SHAREGPT},
                 {"trace:", LLM_DATASET_TRACE}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t n = strlen(kinds[i].name);
        if (strncmp(val, kinds[i].name, n) != 0)
            continue;
        const char *file = val + n;
        if (!*file || access(file, R_OK) != 0)
            return cli_fail(st, "%s: cannot read it (%s)", *file ? file : "\"\"",
                            *file ? strerror(errno) : "no file named");
        st->cfg->dataset = kinds[i].kind;
        if (replace_string(&st->cfg->dataset_file, file) != 0)
            return -1;
        if (kinds[i].kind == LLM_DATASET_JSONL)
            return replace_string(&st->cfg->prompts_file, file);
        return 0;
    }
    return cli_fail(st, "must be sharegpt:FILE, jsonl:FILE or trace:FILE (got \"%s\")", val);
}

int set_prompt_tokens(cli_state *st, const cli_option *o, const char *val)
{
    if (set_count(st, o, val) != 0)
        return -1;
    st->cfg->prompt_chars = 4 * st->cfg->prompt_tokens;
    return 0;
}

static int parse_u64(const char *val, uint64_t *out)
{
    if (!isdigit((unsigned char)*val))
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(val, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

int set_seed(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    if (parse_u64(val, &st->cfg->seed) != 0)
        return cli_fail(st, "must be a whole number \xE2\x89\xA5 0 (got \"%s\")", val);
    st->cfg->seed_set = true;
    return 0;
}

int set_fps(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    double v;
    if (llm_parse_number(val, &v) != 0 || v < 1 || v > 60)
        return cli_fail(st, "must be a number from 1 to 60 (got \"%s\")", val);
    st->cfg->fps = v;
    return 0;
}

static int set_choice(cli_state *st, char **slot, const char *val, const char *const *choices,
                      const char *allowed)
{
    for (size_t i = 0; choices[i]; i++)
        if (strcmp(val, choices[i]) == 0)
            return replace_string(slot, val);
    return cli_fail(st, "must be %s (got \"%s\")", allowed, val);
}

int set_output_format(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    static const char *const fmts[] = {"json", "line", "text", "md", "csv", NULL};
    return set_choice(st, &st->cfg->output_format, val, fmts, "json, line, text, md or csv");
}

int set_report_format(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    static const char *const fmts[] = {"md", "csv", "html", "vllm-json", NULL};
    return set_choice(st, &st->cfg->report_format, val, fmts, "md, csv, html or vllm-json");
}

/* llm-test.py -d: hours, fractional allowed; 0 keeps step mode. */
int set_hours(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    double h;
    if (llm_parse_number(val, &h) != 0 || h > 24 * 365)
        return cli_fail(st, "must be a number of hours \xE2\x89\xA5 0, like 8 or 0.5 (got \"%s\")",
                        val);
    st->cfg->seed_duration_hours = h;
    return 0;
}

int set_demo(cli_state *st, const cli_option *o, const char *val)
{
    (void)o, (void)val;
    st->cfg->demo = true;
    st->cfg->command = LLM_CMD_RUN;
    return 0;
}

static int copy_fixed(cli_state *st, char *dst, size_t cap, const char *val, bool secret)
{
    if (strlen(val) >= cap) {
        if (secret)
            return cli_fail(st, "must be at most %zu characters", cap - 1);
        return cli_fail(st, "must be at most %zu characters (got \"%.40s...\")", cap - 1, val);
    }
    llm_strlcpy(dst, val, cap);
    return 0;
}

int set_sim_host(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    if (!*val)
        return cli_fail(st, "must name an address like 127.0.0.1 or 0.0.0.0");
    return copy_fixed(st, st->cfg->sim.host, sizeof st->cfg->sim.host, val, false);
}

int set_sim_port(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    long p;
    if (llm_parse_count(val, &p) != 0 || p > 65535)
        return cli_fail(st, "must be a whole number from 0 to 65535 (got \"%s\")", val);
    st->cfg->sim.port = (int)p;
    return 0;
}

int set_sim_model(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    if (!*val)
        return cli_fail(st, "must not be empty");
    return copy_fixed(st, st->cfg->sim.model, sizeof st->cfg->sim.model, val, false);
}

int set_sim_key(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    for (const char *p = val; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return cli_fail(st, "must not contain spaces or control characters");
    return copy_fixed(st, st->cfg->sim.api_key, sizeof st->cfg->sim.api_key, val, true);
}

int set_sim_reject_fields(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    return copy_fixed(st, st->cfg->sim.reject_fields, sizeof st->cfg->sim.reject_fields, val,
                      false);
}

int set_server_metrics(cli_state *st, const cli_option *o, const char *val)
{
    if (strcmp(val, "off") != 0 && strncmp(val, "http://", 7) != 0 &&
        strncmp(val, "https://", 8) != 0)
        return cli_fail(st, "must be a URL like http://host:8000/metrics, or off");
    return set_string(st, o, val);
}

/* Never echoed: it is a credential. */
int set_server_metrics_key(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    if (!*val)
        return cli_fail(st, "must be a key, api (the API key) or none");
    for (const char *p = val; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return cli_fail(st, "must not contain spaces or control characters (value not shown)");
    return replace_string(&st->cfg->server_metrics_key, val);
}

int set_sim_seed(cli_state *st, const cli_option *o, const char *val)
{
    (void)o;
    if (parse_u64(val, &st->cfg->sim.seed) != 0)
        return cli_fail(st, "must be a whole number \xE2\x89\xA5 0 (got \"%s\")", val);
    return 0;
}
