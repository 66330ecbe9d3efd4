/* Helpers shared by the C host programs in tests/c/: request building, response reading and
 * a CHECK macro that ends the program with a non-zero status on the first failed expectation. */
#ifndef O2E_TEST_COMMON_H
#define O2E_TEST_COMMON_H

#include <stdio.h>
#include <stdlib.h>

#include "oauth2_engine.h"

#define CHECK(cond, ...)                                                          \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                         \
            fputc('\n', stderr);                                                  \
            exit(1);                                                              \
        }                                                                         \
    } while (0)

/* RFC 7636 Appendix B: a verifier and its S256 challenge. */
#define PKCE_VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define PKCE_CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

typedef struct resp {
    int status;
    char *json; /* the whole response JSON */
    char *body; /* the "body" string, unescaped */
} resp_t;

/* A malloc'd copy of the C string `s`, escaped for use inside a JSON string literal. */
char *json_escape(const char *s);

/* Sends one request; headers_json is a JSON array of pairs or object (or NULL for none).
 * Fails the program when the call itself does not return O2E_OK. */
resp_t *req(const o2e_engine *e, void *ctx, const char *method, const char *path,
            const char *query, const char *headers_json, const char *body);

/* POST a form to path with Content-Type application/x-www-form-urlencoded. */
resp_t *post_form(const o2e_engine *e, void *ctx, const char *path, const char *form);

void resp_free(resp_t *r);

/* o2e_json_get as a malloc'd C string (NULL when absent or null). */
char *json_get(const char *json, size_t len, const char *pointer);

/* The first response header of that name (case-insensitive), malloc'd, or NULL. */
char *resp_header(const resp_t *r, const char *name);

/* A field of the JSON body, malloc'd, or NULL. */
char *body_field(const resp_t *r, const char *key);

/* The value of `name` in the query or fragment of a URL, malloc'd (not percent-decoded), or NULL. */
char *url_param(const char *url, const char *name);

/* A malloc'd sprintf. */
char *fmt(const char *f, ...);

/* Writes a NUL-terminated string to a sink. */
int sink_puts(o2e_sink *out, const char *s);

#endif
