/* sim_http: client connections: accept, read into a held buffer, parse with http_parser
 * (one request at a time, so pipelined requests are answered in order), and write: output
 * collects in one buffer per connection and goes out in one write per loop tick. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/sim_internal.h"

enum { HDR_OTHER, HDR_AUTH, HDR_EXPECT };

static sim_conn *conn_of(http_parser *p)
{
    return p->data;
}

/* ---- buffers ---- */

static bool buf_grow(char **buf, size_t *cap, size_t need)
{
    if (*cap >= need)
        return true;
    size_t n = *cap ? *cap : 4096;
    while (n < need)
        n *= 2;
    char *p = realloc(*buf, n);
    if (!p)
        return false;
    *buf = p;
    *cap = n;
    return true;
}

static void dirty_mark(sim_conn *c)
{
    if (c->dirty)
        return;
    sim_server *s = c->srv;
    c->dirty = true;
    c->dirty_next = NULL;
    c->dirty_prev = s->dirty_tail;
    if (s->dirty_tail)
        s->dirty_tail->dirty_next = c;
    else
        s->dirty = c;
    s->dirty_tail = c;
}

static void dirty_unlink(sim_conn *c)
{
    if (!c->dirty)
        return;
    if (c->dirty_prev)
        c->dirty_prev->dirty_next = c->dirty_next;
    else
        c->srv->dirty = c->dirty_next;
    if (c->dirty_next)
        c->dirty_next->dirty_prev = c->dirty_prev;
    else
        c->srv->dirty_tail = c->dirty_prev;
    c->dirty = false;
    c->dirty_prev = c->dirty_next = NULL;
}

/* Room for n more output bytes at out + out_len; the caller advances out_len. */
char *conn_reserve(sim_conn *c, size_t n)
{
    if (!buf_grow(&c->out, &c->out_cap, c->out_len + n))
        abort(); /* an output buffer we cannot grow leaves no way to answer */
    dirty_mark(c);
    return c->out + c->out_len;
}

void conn_append(sim_conn *c, const void *p, size_t n)
{
    memcpy(conn_reserve(c, n), p, n);
    c->out_len += n;
}

/* ---- writing ---- */

static void conn_flush(sim_conn *c);

static void conn_after_write(sim_conn *c)
{
    if (c->close_after_flush && !c->writing && c->out_len == 0)
        conn_close(c);
}

static void on_write(uv_write_t *w, int status)
{
    sim_conn *c = w->data;
    c->writing = false;
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    conn_flush(c);
    conn_after_write(c);
}

/* Tries a direct write first; whatever the socket does not take goes out by uv_write from
 * the second buffer while the first keeps filling. */
static void conn_flush(sim_conn *c)
{
    dirty_unlink(c);
    if (c->closing || c->writing || c->out_len == 0)
        return;
    uv_buf_t b = uv_buf_init(c->out, (unsigned)c->out_len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n == UV_EAGAIN)
        n = 0;
    if (n < 0) {
        conn_close(c);
        return;
    }
    if ((size_t)n == c->out_len) {
        c->out_len = 0;
        return;
    }
    char *tmp = c->wbuf;
    size_t tcap = c->wbuf_cap;
    c->wbuf = c->out;
    c->wbuf_cap = c->out_cap;
    b = uv_buf_init(c->wbuf + n, (unsigned)(c->out_len - (size_t)n));
    c->out = tmp;
    c->out_cap = tcap;
    c->out_len = 0;
    c->wreq.data = c;
    if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_write) < 0) {
        conn_close(c);
        return;
    }
    c->writing = true;
}

void conn_flush_one(sim_conn *c)
{
    conn_flush(c); /* unlinks c */
    if (!c->closing)
        conn_after_write(c);
}

bool conn_flush_dirty(sim_server *s, size_t max)
{
    for (size_t n = 0; s->dirty && n < max; n++) {
        sim_conn *c = s->dirty;
        conn_flush(c); /* unlinks c */
        if (!c->closing)
            conn_after_write(c);
    }
    return s->dirty != NULL;
}

/* ---- closing ---- */

static void on_close(uv_handle_t *h)
{
    sim_conn *c = h->data;
    sim_server *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_conns--;
    free(c->body);
    free(c->held);
    free(c->out);
    free(c->wbuf);
    free(c->head);
    free(c);
}

/* Now: the request (if any) leaves the model, queued output is dropped. */
void conn_close(sim_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    model_release(c->srv, &c->req);
    dirty_unlink(c);
    uv_close((uv_handle_t *)&c->tcp, on_close);
}

/* After what is queued has been written; nothing more is parsed or answered. */
void conn_close_when_flushed(sim_conn *c)
{
    c->close_after_flush = true;
    c->busy = false;
    conn_flush(c);
    conn_after_write(c);
}

/* --close-after-stream: the stream's bytes go out, nothing more is read (a request the client
 * sends meanwhile stays unread, so the close resets it, as llama.cpp's server does), and the
 * connection closes ms later. */
void conn_close_after_stream(sim_conn *c, int ms)
{
    c->busy = false;
    c->doomed = true;
    if (c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
    if (ms <= 0) {
        conn_close_when_flushed(c);
        return;
    }
    model_close_at(c->srv, &c->req, llm_now_ns() + (uint64_t)ms * 1000000u);
}

void conn_close_all(sim_server *s)
{
    for (sim_conn *c = s->conns; c; c = c->next)
        conn_close(c);
}

/* ---- parsing ---- */

static void conn_request_reset(sim_conn *c)
{
    c->url_len = 0;
    c->url[0] = '\0';
    c->hfield_len = 0;
    c->hvalue_seen = false;
    c->hkind = HDR_OTHER;
    c->auth_len = 0;
    c->auth[0] = '\0';
    c->expect_continue = c->too_large = false;
    c->body_len = 0;
}

static int on_message_begin(http_parser *p)
{
    conn_request_reset(conn_of(p));
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    sim_conn *c = conn_of(p);
    size_t room = sizeof c->url - 1 - c->url_len;
    if (len > room)
        len = room;
    memcpy(c->url + c->url_len, at, len);
    c->url_len += len;
    c->url[c->url_len] = '\0';
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    sim_conn *c = conn_of(p);
    if (c->hvalue_seen) { /* a new header starts */
        c->hfield_len = 0;
        c->hvalue_seen = false;
    }
    size_t room = sizeof c->hfield - 1 - c->hfield_len;
    if (len > room)
        len = room;
    memcpy(c->hfield + c->hfield_len, at, len);
    c->hfield_len += len;
    c->hfield[c->hfield_len] = '\0';
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    sim_conn *c = conn_of(p);
    if (!c->hvalue_seen) {
        c->hvalue_seen = true;
        c->hkind = !strcasecmp(c->hfield, "authorization") ? HDR_AUTH
                   : !strcasecmp(c->hfield, "expect")      ? HDR_EXPECT
                                                           : HDR_OTHER;
        if (c->hkind == HDR_AUTH)
            c->auth_len = 0;
    }
    if (c->hkind == HDR_AUTH) {
        size_t room = sizeof c->auth - 1 - c->auth_len;
        if (len > room)
            len = room;
        memcpy(c->auth + c->auth_len, at, len);
        c->auth_len += len;
        c->auth[c->auth_len] = '\0';
    } else if (c->hkind == HDR_EXPECT && len >= 3 && !strncasecmp(at, "100", 3)) {
        c->expect_continue = true;
    }
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    sim_conn *c = conn_of(p);
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > SIM_MAX_BODY) {
        c->too_large = true;
        http_parser_pause(p, 1); /* answer 413 without reading the body */
        return 0;
    }
    if (c->expect_continue)
        conn_append(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    sim_conn *c = conn_of(p);
    if (c->body_len + len > SIM_MAX_BODY) {
        c->too_large = true;
        http_parser_pause(p, 1);
        return 0;
    }
    if (!buf_grow(&c->body, &c->body_cap, c->body_len + len + 1))
        return -1;
    memcpy(c->body + c->body_len, at, len);
    c->body_len += len;
    c->body[c->body_len] = '\0';
    return 0;
}

static int on_message_complete(http_parser *p)
{
    sim_conn *c = conn_of(p);
    c->msg_ready = true;
    http_parser_pause(p, 1); /* one request at a time: the rest stays held */
    return 0;
}

void http_settings_init(http_parser_settings *st)
{
    memset(st, 0, sizeof *st);
    st->on_message_begin = on_message_begin;
    st->on_url = on_url;
    st->on_header_field = on_header_field;
    st->on_header_value = on_header_value;
    st->on_headers_complete = on_headers_complete;
    st->on_body = on_body;
    st->on_message_complete = on_message_complete;
}

static void conn_reject(sim_conn *c, int status, const char *type, const char *message)
{
    c->keep_alive = false;
    proto_error(c, status, type, message);
    api_log(c, "rejected");
    conn_close_when_flushed(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    sim_conn *c = h->data;
    /* one buffer per loop: read_cb copies out of it before the next read */
    *buf = uv_buf_init(c->srv->readbuf, sizeof c->srv->readbuf);
}

static void conn_pump(sim_conn *c);

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    sim_conn *c = st->data;
    if (nread < 0) {
        conn_close(c);
        return;
    }
    if (nread == 0 || c->close_after_flush || c->doomed)
        return;
    if (!buf_grow(&c->held, &c->held_cap, c->held_len + (size_t)nread)) {
        conn_close(c);
        return;
    }
    memcpy(c->held + c->held_len, buf->base, (size_t)nread);
    c->held_len += (size_t)nread;
    if (c->held_len >= SIM_HELD_HIGH && c->reading) {
        uv_read_stop(st); /* a client pipelining ahead of us waits in its socket */
        c->reading = false;
    }
    conn_pump(c);
}

/* Parses one request out of the held input; true when a whole one is ready. */
static bool conn_parse_one(sim_conn *c)
{
    c->msg_ready = false;
    http_parser_pause(&c->parser, 0);
    size_t n = http_parser_execute(&c->parser, &c->srv->settings, c->held, c->held_len);
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    memmove(c->held, c->held + n, c->held_len - n);
    c->held_len -= n;
    if (c->too_large) {
        conn_reject(c, 413, "invalid_request_error", "request body is larger than 8 MiB");
        return false;
    }
    if (e != HPE_OK && e != HPE_PAUSED) {
        conn_reject(c, 400, "invalid_request_error", http_errno_description(e));
        return false;
    }
    return c->msg_ready;
}

/* Handles held requests one after another while none is in progress. */
static void conn_pump(sim_conn *c)
{
    if (c->pumping)
        return;
    c->pumping = true;
    while (!c->closing && !c->busy && !c->close_after_flush && !c->doomed && c->held_len > 0) {
        if (!conn_parse_one(c))
            break;
        c->busy = true;
        c->keep_alive = http_should_keep_alive(&c->parser);
        c->http10 = c->parser.http_major == 1 && c->parser.http_minor == 0;
        c->method = c->parser.method;
        c->start_ns = llm_now_ns();
        api_on_request(c);
    }
    c->pumping = false;
    if (!c->closing && !c->reading && !c->close_after_flush && !c->doomed &&
        c->held_len < SIM_HELD_HIGH) {
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
            c->reading = true;
    }
}

/* The response to the current request is complete (or fully queued for writing). */
void conn_finish_request(sim_conn *c)
{
    c->busy = false;
    if (c->body_cap > (64u << 10)) { /* one big prompt should not pin memory forever */
        free(c->body);
        c->body = NULL;
        c->body_cap = 0;
    }
    if (!c->keep_alive) {
        conn_close_when_flushed(c);
        return;
    }
    conn_pump(c);
}

/* ---- accepting ---- */

void http_on_connection(uv_stream_t *listener, int status)
{
    sim_server *s = listener->data;
    if (status < 0 || s->stopping)
        return;
    sim_conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->srv = s;
    c->req.conn = c;
    c->req.heap_idx = SIM_NO_HEAP;
    uv_tcp_init(&s->loop, &c->tcp);
    c->tcp.data = c;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->n_conns++;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) < 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1); /* token chunks are small and latency is the point */
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
        c->reading = true;
    else
        conn_close(c);
}
