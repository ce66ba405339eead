/* The Log panel's ring of lines (declared in app.h). */
#include <stdarg.h>
#include <stdio.h>

#include "app.h"
#include "base/util.h"

void ui_log_add(ui_app *app, ui_element color, const char *fmt, ...)
{
    ui_log *log = &app->log;
    size_t idx = (log->head + log->n) % UI_LOG_LINES;
    if (log->n == UI_LOG_LINES)
        log->head = (log->head + 1) % UI_LOG_LINES;
    else
        log->n++;
    ui_log_line *l = &log->lines[idx];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->text, sizeof l->text, fmt, ap);
    va_end(ap);
    l->color = color;
    uint64_t now = llm_now_ns();
    l->t = app->s ? (double)(now - app->s->start_ns) / 1e9 : 0;
    log->last_ns = now;
}

const ui_log_line *ui_log_get(const ui_log *log, size_t i)
{
    if (i >= log->n)
        return NULL;
    return &log->lines[(log->head + log->n - 1 - i) % UI_LOG_LINES];
}
