/* envfile: reads a .env file (KEY=VALUE lines, # comments, `export `, quotes, CRLF) into
 * key/value pairs without touching the process environment. Main thread, during config_load. */
#ifndef LLM_CONFIG_ENVFILE_H
#define LLM_CONFIG_ENVFILE_H

#include <stddef.h>

typedef struct {
    char *key;
    char *value;
} envfile_entry;

typedef struct {
    envfile_entry *v;
    size_t n;
} envfile;

/* Parses text; label names the file in messages ("--env-file x.env", ".env"). Returns 0, or
 * -1 with a sentence naming the line in err. Values are never echoed in messages. */
int envfile_parse(const char *text, const char *label, envfile *out, char *err, size_t errlen);

/* Reads and parses path. -1 with "LABEL: cannot read it (reason)" when unreadable. */
int envfile_load(const char *path, const char *label, envfile *out, char *err, size_t errlen);

/* The value of the last KEY= line, or NULL. */
const char *envfile_get(const envfile *e, const char *key);

void envfile_free(envfile *e);

#endif
