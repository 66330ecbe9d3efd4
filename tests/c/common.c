/* See common.h. */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>

char *fmt(const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    CHECK(n >= 0, "vsnprintf");
    char *s = malloc((size_t)n + 1);
    CHECK(s != NULL, "out of memory");
    va_start(ap, f);
    vsnprintf(s, (size_t)n + 1, f, ap);
    va_end(ap);
    return s;
}

char *json_escape(const char *s) {
    size_t n = strlen(s);
    char *out = malloc(n * 6 + 1);
    CHECK(out != NULL, "out of memory");
    char *p = out;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = (char)c;
        } else if (c < 0x20) {
            p += sprintf(p, "\\u%04x", c);
        } else {
            *p++ = (char)c;
        }
    }
    *p = 0;
    return out;
}

char *json_get(const char *json, size_t len, const char *pointer) {
    o2e_buf *b = NULL;
    o2e_status st = o2e_json_get(json, len, pointer, &b);
    CHECK(st == O2E_OK, "o2e_json_get(%s): %s", pointer, o2e_last_error());
    if (b == NULL) return NULL;
    char *s = strdup(b->data);
    o2e_buf_free(b);
    return s;
}

resp_t *req(const o2e_engine *e, void *ctx, const char *method, const char *path,
            const char *query, const char *headers_json, const char *body) {
    char *q = json_escape(query ? query : "");
    char *b = json_escape(body ? body : "");
    char *j = fmt("{\"method\":\"%s\",\"path\":\"%s\",\"query\":\"%s\",\"headers\":%s,\"body\":\"%s\"}",
                  method, path, q, headers_json ? headers_json : "[]", b);
    free(q);
    free(b);
    o2e_buf *out = NULL;
    o2e_status st = o2e_engine_handle(e, j, strlen(j), ctx, &out);
    CHECK(st == O2E_OK && out != NULL, "o2e_engine_handle(%s) = %s: %s", j, o2e_status_name(st),
          o2e_last_error());
    free(j);
    resp_t *r = calloc(1, sizeof *r);
    CHECK(r != NULL, "out of memory");
    r->json = strdup(out->data);
    CHECK(strlen(r->json) == out->len, "response contains a NUL byte");
    o2e_buf_free(out);
    char *status = json_get(r->json, strlen(r->json), "/status");
    CHECK(status != NULL, "no status in %s", r->json);
    r->status = atoi(status);
    free(status);
    r->body = json_get(r->json, strlen(r->json), "/body");
    if (r->body == NULL) r->body = strdup("");
    return r;
}

resp_t *post_form(const o2e_engine *e, void *ctx, const char *path, const char *form) {
    return req(e, ctx, "POST", path, "",
               "[[\"Content-Type\",\"application/x-www-form-urlencoded\"]]", form);
}

void resp_free(resp_t *r) {
    if (!r) return;
    free(r->json);
    free(r->body);
    free(r);
}

char *resp_header(const resp_t *r, const char *name) {
    for (int i = 0;; i++) {
        char p[64];
        snprintf(p, sizeof p, "/headers/%d/0", i);
        char *n = json_get(r->json, strlen(r->json), p);
        if (n == NULL) return NULL;
        int match = strcasecmp(n, name) == 0;
        free(n);
        if (match) {
            snprintf(p, sizeof p, "/headers/%d/1", i);
            return json_get(r->json, strlen(r->json), p);
        }
    }
}

char *body_field(const resp_t *r, const char *key) {
    char *p = fmt("/%s", key);
    char *v = json_get(r->body, strlen(r->body), p);
    free(p);
    return v;
}

char *url_param(const char *url, const char *name) {
    const char *start = strpbrk(url, "?#");
    if (start == NULL) return NULL;
    size_t n = strlen(name);
    const char *p = start + 1;
    while (*p) {
        const char *end = p + strcspn(p, "&#");
        if ((size_t)(end - p) > n && strncmp(p, name, n) == 0 && p[n] == '=') {
            return strndup(p + n + 1, (size_t)(end - p - (ptrdiff_t)n - 1));
        }
        p = *end ? end + 1 : end;
    }
    return NULL;
}

int sink_puts(o2e_sink *out, const char *s) {
    return o2e_sink_write(out, s, strlen(s)) == O2E_OK ? 0 : -1;
}
