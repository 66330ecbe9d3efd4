/* See store.h. A linked list per kind is plenty for a demo; a real host would use its
 * database, with the same atomic "take" semantics for codes and refresh tokens. */
#define _POSIX_C_SOURCE 200809L
#include "store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct code_rec {
    char *code, *family, *json;
    int used;
    struct code_rec *next;
} code_rec;

typedef struct tok_rec {
    char *access, *refresh, *family, *client_id, *grant_type, *user_id, *json;
    int refresh_used, revoked;
    struct tok_rec *next;
} tok_rec;

/* A revoked grant family. Remembered so that a token saved in it afterwards is born revoked:
 * the loser of a race for a code replays it and revokes the family before the winner has saved
 * its token (RFC 9700 §4.14.2, R17). */
typedef struct family_rec {
    char *family;
    struct family_rec *next;
} family_rec;

struct demo_store {
    pthread_mutex_t mu;
    const char *const *clients;
    code_rec *codes;
    tok_rec *tokens;
    family_rec *revoked;
};

static int family_revoked(const demo_store *s, const char *family) {
    for (const family_rec *f = s->revoked; f; f = f->next)
        if (strcmp(f->family, family) == 0) return 1;
    return 0;
}

char *demo_json_get(const char *json, size_t len, const char *pointer) {
    o2e_buf *b = NULL;
    if (o2e_json_get(json, len, pointer, &b) != O2E_OK || b == NULL) return NULL;
    char *s = strdup(b->data);
    o2e_buf_free(b);
    return s;
}

demo_store *demo_store_new(const char *const *clients) {
    demo_store *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    pthread_mutex_init(&s->mu, NULL);
    s->clients = clients;
    return s;
}

static void free_tok(tok_rec *t) {
    free(t->access);
    free(t->refresh);
    free(t->family);
    free(t->client_id);
    free(t->grant_type);
    free(t->user_id);
    free(t->json);
    free(t);
}

void demo_store_free(void *p) {
    demo_store *s = p;
    for (code_rec *c = s->codes; c;) {
        code_rec *n = c->next;
        free(c->code);
        free(c->family);
        free(c->json);
        free(c);
        c = n;
    }
    for (tok_rec *t = s->tokens; t;) {
        tok_rec *n = t->next;
        free_tok(t);
        t = n;
    }
    for (family_rec *f = s->revoked; f;) {
        family_rec *n = f->next;
        free(f->family);
        free(f);
        f = n;
    }
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static int same(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static int put(o2e_sink *out, const char *s) {
    return o2e_sink_write(out, s, strlen(s)) == O2E_OK ? O2E_CB_OK : O2E_CB_ERROR;
}

/* Writes {"status":"found","record":REC}, {"status":"used","family":F} or {"status":"missing"}. */
static int put_lookup(o2e_sink *out, const char *record, const char *used_family) {
    if (record) {
        if (put(out, "{\"status\":\"found\",\"record\":") || put(out, record)) return O2E_CB_ERROR;
        return put(out, "}");
    }
    if (used_family) {
        /* Family ids are base64url: nothing to escape. */
        if (put(out, "{\"status\":\"used\",\"family\":\"") || put(out, used_family)) return O2E_CB_ERROR;
        return put(out, "\"}");
    }
    return put(out, "{\"status\":\"missing\"}");
}

static int fetch_client(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    demo_store *s = ud;
    (void)ctx;
    (void)len;
    for (const char *const *c = s->clients; *c; c++) {
        char *id = demo_json_get(*c, strlen(*c), "/client_id");
        int match = same(id, in);
        free(id);
        if (match) return put(out, *c);
    }
    return put(out, "null");
}

static int save_code(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    demo_store *s = ud;
    (void)ctx;
    (void)out;
    code_rec *c = calloc(1, sizeof *c);
    if (!c) return O2E_CB_ERROR;
    c->code = demo_json_get(in, len, "/code");
    c->family = demo_json_get(in, len, "/family");
    c->json = strdup(in);
    if (!c->code || !c->family || !c->json) {
        free(c->code);
        free(c->family);
        free(c->json);
        free(c);
        return O2E_CB_ERROR;
    }
    pthread_mutex_lock(&s->mu);
    c->next = s->codes;
    s->codes = c;
    pthread_mutex_unlock(&s->mu);
    return O2E_CB_OK;
}

static int consume_code(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    demo_store *s = ud;
    (void)ctx;
    (void)len;
    char *record = NULL, *family = NULL;
    pthread_mutex_lock(&s->mu);
    for (code_rec *c = s->codes; c; c = c->next) {
        if (strcmp(c->code, in) != 0) continue;
        if (c->used) {
            family = strdup(c->family);
        } else {
            c->used = 1; /* taken under the lock: one winner */
            record = strdup(c->json);
        }
        break;
    }
    pthread_mutex_unlock(&s->mu);
    int rc = put_lookup(out, record, family);
    free(record);
    free(family);
    return rc;
}

static int save_token(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    demo_store *s = ud;
    (void)ctx;
    (void)out;
    tok_rec *t = calloc(1, sizeof *t);
    if (!t) return O2E_CB_ERROR;
    t->access = demo_json_get(in, len, "/token");
    t->refresh = demo_json_get(in, len, "/refresh_token");
    t->family = demo_json_get(in, len, "/family");
    t->client_id = demo_json_get(in, len, "/client_id");
    t->grant_type = demo_json_get(in, len, "/grant_type");
    t->user_id = demo_json_get(in, len, "/user_id");
    t->json = strdup(in);
    if (!t->access || !t->family || !t->json) {
        free_tok(t);
        return O2E_CB_ERROR;
    }
    pthread_mutex_lock(&s->mu);
    t->revoked = family_revoked(s, t->family);
    t->next = s->tokens;
    s->tokens = t;
    pthread_mutex_unlock(&s->mu);
    return O2E_CB_OK;
}

static int fetch_access(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    demo_store *s = ud;
    (void)ctx;
    (void)len;
    char *json = NULL;
    pthread_mutex_lock(&s->mu);
    for (tok_rec *t = s->tokens; t; t = t->next) {
        if (!t->revoked && same(t->access, in)) {
            json = strdup(t->json);
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    int rc = put(out, json ? json : "null");
    free(json);
    return rc;
}

static int refresh_lookup(demo_store *s, const char *in, o2e_sink *out, int consume) {
    char *record = NULL, *family = NULL;
    pthread_mutex_lock(&s->mu);
    for (tok_rec *t = s->tokens; t; t = t->next) {
        if (!same(t->refresh, in)) continue;
        /* "used" wins over "revoked": a replay must still be recognised as one. */
        if (t->refresh_used) {
            family = strdup(t->family);
        } else if (!t->revoked) {
            if (consume) t->refresh_used = 1;
            record = strdup(t->json);
        }
        break;
    }
    pthread_mutex_unlock(&s->mu);
    int rc = put_lookup(out, record, family);
    free(record);
    free(family);
    return rc;
}

static int fetch_refresh(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    (void)ctx;
    (void)len;
    return refresh_lookup(ud, in, out, 0);
}

static int consume_refresh(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    (void)ctx;
    (void)len;
    return refresh_lookup(ud, in, out, 1);
}

static int fetch_existing(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    demo_store *s = ud;
    (void)ctx;
    char *client = demo_json_get(in, len, "/client_id");
    char *grant = demo_json_get(in, len, "/grant_type");
    char *user = demo_json_get(in, len, "/user_id");
    char *json = NULL;
    pthread_mutex_lock(&s->mu);
    for (tok_rec *t = s->tokens; t; t = t->next) { /* newest first */
        if (!t->revoked && same(t->client_id, client) && same(t->grant_type, grant) &&
            same(t->user_id, user)) {
            json = strdup(t->json);
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    free(client);
    free(grant);
    free(user);
    int rc = put(out, json ? json : "null");
    free(json);
    return rc;
}

static int revoke_token(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    demo_store *s = ud;
    (void)ctx;
    (void)len;
    (void)out;
    pthread_mutex_lock(&s->mu);
    for (tok_rec *t = s->tokens; t; t = t->next)
        if (same(t->access, in) || same(t->refresh, in)) t->revoked = 1;
    pthread_mutex_unlock(&s->mu);
    return O2E_CB_OK;
}

static int revoke_family(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    demo_store *s = ud;
    (void)ctx;
    (void)len;
    (void)out;
    family_rec *f = calloc(1, sizeof *f);
    if (!f || !(f->family = strdup(in))) {
        free(f);
        return O2E_CB_ERROR;
    }
    pthread_mutex_lock(&s->mu);
    for (tok_rec *t = s->tokens; t; t = t->next)
        if (strcmp(t->family, in) == 0) t->revoked = 1;
    if (family_revoked(s, in)) {
        free(f->family);
        free(f);
    } else {
        f->next = s->revoked;
        s->revoked = f;
    }
    pthread_mutex_unlock(&s->mu);
    return O2E_CB_OK;
}

void demo_store_install(demo_store *s, o2e_callbacks *cb) {
    cb->userdata = s;
    cb->fetch_client = fetch_client;
    cb->save_code = save_code;
    cb->consume_code = consume_code;
    cb->save_token = save_token;
    cb->fetch_by_access_token = fetch_access;
    cb->fetch_by_refresh_token = fetch_refresh;
    cb->consume_refresh_token = consume_refresh;
    cb->fetch_existing_token_of_user = fetch_existing;
    cb->revoke_token = revoke_token;
    cb->revoke_family = revoke_family;
}
