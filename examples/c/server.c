/* A small OAuth 2.0 authorization server in C: libmicrohttpd for HTTP, oauth2-engine for the
 * protocol (through its C ABI), an in-memory store in C (store.c) and a site adapter that shows
 * a consent page, or approves a fixed demo user outright with --auto-approve.
 *
 *   usage: server PORT [--auto-approve]
 *
 * Serves /authorize, /token and /revoke (and RFC 8414 metadata) on 127.0.0.1:PORT until SIGINT
 * or SIGTERM. One registered client: demo-client / demo-secret, redirect URI
 * http://127.0.0.1/callback (any port: the loopback exception of RFC 8252 §7.3).
 *
 * This is a demo: a real host authenticates its users with its own login and sessions, and
 * protects the consent form with a CSRF token bound to the session. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "oauth2_engine.h"
#include "store.h"

#define MAX_BODY (64 * 1024)

static const char *const CLIENTS[] = {
    "{\"client_id\":\"demo-client\",\"client_secret\":\"demo-secret\","
    "\"redirect_uris\":[\"http://127.0.0.1/callback\"]}",
    NULL,
};

static int auto_approve;

/* ---- a growable string ---- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void sb_puts(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

/* Appends `n` bytes as a JSON string literal. Bytes >= 0x80 pass through: the engine checks
 * that the whole request is UTF-8. */
static void sb_json(sbuf *b, const char *s, size_t n) {
    sb_add(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            sb_add(b, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            sb_add(b, esc, 6);
        } else {
            sb_add(b, (const char *)&c, 1);
        }
    }
    sb_add(b, "\"", 1);
}

/* Appends text escaped for HTML (element content and quoted attributes). */
static void sb_html(sbuf *b, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&': sb_puts(b, "&amp;"); break;
        case '<': sb_puts(b, "&lt;"); break;
        case '>': sb_puts(b, "&gt;"); break;
        case '"': sb_puts(b, "&quot;"); break;
        case '\'': sb_puts(b, "&#39;"); break;
        default: sb_add(b, s, 1);
        }
    }
}

/* ---- the site adapter ---- */

/* The value of `name` in a form body (not percent-decoded: only compared with plain words). */
static int form_has(const char *form, const char *name, const char *value) {
    size_t n = strlen(name), v = strlen(value);
    const char *p = form;
    while (p && *p) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n + 1 + v && strncmp(p, name, n) == 0 && p[n] == '=' && strncmp(p + n + 1, value, v) == 0)
            return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

/* The user's answer on the consent form: POST with approve=yes or approve=no. */
static int answered(const char *consent, size_t len, const char *answer) {
    char *method = demo_json_get(consent, len, "/request/method");
    char *body = demo_json_get(consent, len, "/request/body");
    int yes = method && strcmp(method, "POST") == 0 && body && form_has(body, "approve", answer);
    free(method);
    free(body);
    return yes;
}

static int put(o2e_sink *out, const char *s) {
    return o2e_sink_write(out, s, strlen(s)) == O2E_OK ? O2E_CB_OK : O2E_CB_ERROR;
}

static int user_has_denied_access(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    (void)ud;
    (void)ctx;
    return put(out, !auto_approve && answered(in, len, "no") ? "true" : "false");
}

static int authenticate(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    (void)ud;
    (void)ctx;
    if (auto_approve || answered(in, len, "yes"))
        return put(out, "{\"user_id\":\"demo-user\",\"data\":{\"name\":\"Demo User\"}}");
    return put(out, "null"); /* not yet: the engine asks for the consent page */
}

static int render_auth_page(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    (void)ud;
    (void)ctx;
    char *client = demo_json_get(in, len, "/client/client_id");
    char *scopes = demo_json_get(in, len, "/scopes");
    char *query = demo_json_get(in, len, "/request/query");
    sbuf html = {0};
    sb_puts(&html, "<!doctype html><title>Authorize</title><h1>Authorize ");
    sb_html(&html, client ? client : "?");
    sb_puts(&html, "</h1><p>Requested scopes: ");
    sb_html(&html, scopes ? scopes : "[]");
    /* The form posts back to the same request; the engine reads the query again. */
    sb_puts(&html, "</p><form method=\"post\" action=\"/authorize?");
    sb_html(&html, query ? query : "");
    sb_puts(&html, "\"><button name=\"approve\" value=\"yes\">Allow</button>"
                   "<button name=\"approve\" value=\"no\">Deny</button></form>");
    sbuf resp = {0};
    sb_puts(&resp, "{\"status\":200,\"headers\":[[\"Content-Type\",\"text/html; charset=utf-8\"]],\"body\":");
    sb_json(&resp, html.p ? html.p : "", html.len);
    sb_puts(&resp, "}");
    int rc = html.oom || resp.oom ? O2E_CB_ERROR : put(out, resp.p);
    free(client);
    free(scopes);
    free(query);
    free(html.p);
    free(resp.p);
    return rc;
}

static void log_failure(void *ud, void *ctx, int level, const char *msg, size_t len) {
    (void)ud;
    (void)ctx;
    (void)len;
    fprintf(stderr, "oauth2-engine [level %d]: %s\n", level, msg);
}

/* ---- HTTP glue ---- */

typedef struct conn {
    char *uri; /* raw request target, with the query string */
    sbuf body;
    int too_large;
    int started; /* the first call only announces the request (headers read, body not yet) */
} conn_t;

/* libmicrohttpd hands the raw URI here before it splits off the query; the engine wants the
 * query exactly as sent. */
static void *remember_uri(void *cls, const char *uri, struct MHD_Connection *c) {
    (void)cls;
    (void)c;
    conn_t *s = calloc(1, sizeof *s);
    if (s) s->uri = strdup(uri);
    return s;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)c;
    (void)toe;
    conn_t *s = *con_cls;
    if (!s) return;
    free(s->uri);
    free(s->body.p);
    free(s);
    *con_cls = NULL;
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value) {
    sbuf *b = cls;
    (void)kind;
    if (b->len > 1) sb_puts(b, ",");
    sb_puts(b, "[");
    sb_json(b, key, strlen(key));
    sb_puts(b, ",");
    sb_json(b, value ? value : "", value ? strlen(value) : 0);
    sb_puts(b, "]");
    return MHD_YES;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/plain");
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

/* Turns the engine's response JSON into an HTTP response. */
static enum MHD_Result send_engine_response(struct MHD_Connection *c, const o2e_buf *out) {
    char *status = demo_json_get(out->data, out->len, "/status");
    char *body = demo_json_get(out->data, out->len, "/body");
    struct MHD_Response *r = MHD_create_response_from_buffer(body ? strlen(body) : 0, body ? body : (void *)"",
                                                             MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ok = MHD_NO;
    if (r && status) {
        for (int i = 0;; i++) {
            char p[48];
            snprintf(p, sizeof p, "/headers/%d/0", i);
            char *name = demo_json_get(out->data, out->len, p);
            if (!name) break;
            snprintf(p, sizeof p, "/headers/%d/1", i);
            char *value = demo_json_get(out->data, out->len, p);
            MHD_add_response_header(r, name, value ? value : "");
            free(name);
            free(value);
        }
        ok = MHD_queue_response(c, (unsigned)atoi(status), r);
    }
    if (r) MHD_destroy_response(r);
    free(status);
    free(body);
    return ok;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size,
                              void **con_cls) {
    const o2e_engine *engine = cls;
    conn_t *s = *con_cls;
    (void)url;
    (void)version;
    if (!s || !s->uri) return MHD_NO;
    if (!s->started) {
        s->started = 1;
        return MHD_YES;
    }
    if (*upload_size) { /* more body to come */
        if (s->body.len + *upload_size > MAX_BODY) s->too_large = 1;
        else sb_add(&s->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (s->too_large) return reply(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large\n");
    if (s->body.oom) return MHD_NO;

    const char *q = strchr(s->uri, '?');
    size_t path_len = q ? (size_t)(q - s->uri) : strlen(s->uri);
    sbuf j = {0};
    sb_puts(&j, "{\"method\":");
    sb_json(&j, method, strlen(method));
    sb_puts(&j, ",\"path\":");
    sb_json(&j, s->uri, path_len);
    sb_puts(&j, ",\"query\":");
    sb_json(&j, q ? q + 1 : "", q ? strlen(q + 1) : 0);
    sb_puts(&j, ",\"headers\":[");
    sbuf h = {0};
    sb_puts(&h, "[");
    MHD_get_connection_values(c, MHD_HEADER_KIND, add_header, &h);
    sb_puts(&j, h.p + 1);
    free(h.p);
    sb_puts(&j, "],\"body\":");
    sb_json(&j, s->body.p ? s->body.p : "", s->body.len);
    sb_puts(&j, "}");
    if (j.oom || h.oom) {
        free(j.p);
        return MHD_NO;
    }

    o2e_buf *out = NULL;
    o2e_status st = o2e_engine_handle(engine, j.p, j.len, c, &out);
    free(j.p);
    if (st != O2E_OK) {
        /* Only a request we could not even describe (e.g. a body that is not UTF-8). */
        fprintf(stderr, "o2e_engine_handle: %s: %s\n", o2e_status_name(st), o2e_last_error());
        return reply(c, MHD_HTTP_BAD_REQUEST, "bad request\n");
    }
    enum MHD_Result ok = send_engine_response(c, out);
    o2e_buf_free(out);
    return ok;
}

int main(int argc, char **argv) {
    if (argc < 2 || atoi(argv[1]) <= 0 || atoi(argv[1]) > 65535) {
        fprintf(stderr, "usage: %s PORT [--auto-approve]\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    auto_approve = argc > 2 && strcmp(argv[2], "--auto-approve") == 0;

    /* Block the stop signals before any thread starts, so that only sigwait below sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    char config[1024];
    snprintf(config, sizeof config,
             "{\"engine\":{\"issuer\":\"http://127.0.0.1:%d\",\"revocation_path\":\"/revoke\","
             "\"grants\":[{\"type\":\"authorization_code\",\"scopes\":[\"profile\",\"email\"],"
             "\"default_scope\":\"profile\"},{\"type\":\"refresh_token\"}]},"
             "\"storage\":{\"type\":\"callbacks\"}}",
             port);
    demo_store *store = demo_store_new(CLIENTS);
    if (!store) return 1;
    o2e_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.abi_version = O2E_CALLBACKS_ABI_VERSION;
    demo_store_install(store, &cb);
    cb.free_userdata = demo_store_free;
    cb.user_has_denied_access = user_has_denied_access;
    cb.authenticate = authenticate;
    cb.render_auth_page = render_auth_page;
    cb.log = log_failure;
    o2e_engine *engine = NULL;
    if (o2e_engine_new(config, strlen(config), &cb, &engine) != O2E_OK) {
        fprintf(stderr, "o2e_engine_new: %s\n", o2e_last_error());
        demo_store_free(store); /* a failed o2e_engine_new leaves the userdata to us */
        return 1;
    }

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port, NULL, NULL, handle, engine,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)4,
        MHD_OPTION_URI_LOG_CALLBACK, remember_uri, NULL, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "cannot listen on 127.0.0.1:%d\n", port);
        o2e_engine_free(engine);
        return 1;
    }
    printf("oauth2-engine %s demo listening on http://127.0.0.1:%d\n", o2e_version(), port);
    fflush(stdout);

    int sig = 0;
    sigwait(&stop, &sig);
    MHD_stop_daemon(d);
    o2e_engine_free(engine); /* also frees the store, through free_userdata */
    printf("stopped by signal %d\n", sig);
    return 0;
}
