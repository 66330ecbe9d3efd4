/* See store.h. */
#define _POSIX_C_SOURCE 200809L
#include "store.h"

#include <stdlib.h>
#include <string.h>

#include "common.h"

typedef struct client_rec {
    char *id, *json;
    struct client_rec *next;
} client_rec;

/* A revoked grant family. Remembered, not just applied to the tokens saved so far: the loser of
 * a code-redemption race revokes the family before the winner saves its token (R17), and that
 * token must be born dead. */
typedef struct family_rec {
    char *family;
    struct family_rec *next;
} family_rec;

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

struct store {
    pthread_mutex_t mu;
    client_rec *clients;
    code_rec *codes;
    tok_rec *tokens;
    family_rec *revoked_families;
    int calls[OP_COUNT];
};

store_t *store_new(const char *const *clients_json) {
    store_t *s = calloc(1, sizeof *s);
    CHECK(s != NULL, "out of memory");
    pthread_mutex_init(&s->mu, NULL);
    for (const char *const *c = clients_json; *c; c++) {
        CHECK(store_put_client(s, *c) == 0, "client without a client_id: %s", *c);
    }
    return s;
}

int store_put_client(store_t *s, const char *json) {
    client_rec *r = calloc(1, sizeof *r);
    if (!r) return -1;
    r->id = json_get(json, strlen(json), "/client_id");
    r->json = strdup(json);
    if (!r->id || !r->json) {
        free(r->id);
        free(r->json);
        free(r);
        return -1;
    }
    pthread_mutex_lock(&s->mu);
    /* Replace in place, so that an id is never listed twice. */
    client_rec **at = &s->clients;
    while (*at && strcmp((*at)->id, r->id) != 0) at = &(*at)->next;
    client_rec *old = *at;
    r->next = old ? old->next : NULL;
    *at = r;
    pthread_mutex_unlock(&s->mu);
    if (old) {
        free(old->id);
        free(old->json);
        free(old);
    }
    return 0;
}

int store_remove_client(store_t *s, const char *client_id) {
    pthread_mutex_lock(&s->mu);
    client_rec **at = &s->clients;
    while (*at && strcmp((*at)->id, client_id) != 0) at = &(*at)->next;
    client_rec *old = *at;
    if (old) *at = old->next;
    pthread_mutex_unlock(&s->mu);
    if (!old) return 0;
    free(old->id);
    free(old->json);
    free(old);
    return 1;
}

void store_free(void *p) {
    store_t *s = p;
    for (client_rec *c = s->clients; c;) {
        client_rec *n = c->next;
        free(c->id);
        free(c->json);
        free(c);
        c = n;
    }
    for (code_rec *c = s->codes; c;) {
        code_rec *n = c->next;
        free(c->code);
        free(c->family);
        free(c->json);
        free(c);
        c = n;
    }
    for (family_rec *f = s->revoked_families; f;) {
        family_rec *n = f->next;
        free(f->family);
        free(f);
        f = n;
    }
    for (tok_rec *t = s->tokens; t;) {
        tok_rec *n = t->next;
        free(t->access);
        free(t->refresh);
        free(t->family);
        free(t->client_id);
        free(t->grant_type);
        free(t->user_id);
        free(t->json);
        free(t);
        t = n;
    }
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int store_calls(store_t *s, enum op op) {
    pthread_mutex_lock(&s->mu);
    int n = s->calls[op];
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void count(store_t *s, enum op op) {
    pthread_mutex_lock(&s->mu);
    s->calls[op]++;
    pthread_mutex_unlock(&s->mu);
}

static int opt_eq(const char *a, const char *b) {
    return a && b && strcmp(a, b) == 0;
}

/* Whether a family was revoked; the caller holds the mutex. */
static int family_revoked(const store_t *s, const char *family) {
    for (const family_rec *f = s->revoked_families; f; f = f->next) {
        if (opt_eq(f->family, family)) return 1;
    }
    return 0;
}

static int put(o2e_sink *out, const char *s) { return sink_puts(out, s) == 0 ? O2E_CB_OK : O2E_CB_ERROR; }

static int fetch_client(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    store_t *s = ud;
    (void)ctx;
    (void)len;
    count(s, OP_FETCH_CLIENT);
    char *json = NULL;
    int found = 0;
    pthread_mutex_lock(&s->mu);
    for (client_rec *c = s->clients; c; c = c->next) {
        if (strcmp(c->id, in) == 0) {
            found = 1;
            json = strdup(c->json);
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    /* Out of memory is a failure, not "no such client". */
    if (found && !json) return O2E_CB_ERROR;
    /* A copy is written, outside the lock: a concurrent replace may free the original. */
    int rc = put(out, json ? json : "null");
    free(json);
    return rc;
}

static int save_code(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    store_t *s = ud;
    (void)ctx;
    (void)out;
    count(s, OP_SAVE_CODE);
    code_rec *c = calloc(1, sizeof *c);
    if (!c) return O2E_CB_ERROR;
    c->code = json_get(in, len, "/code");
    c->family = json_get(in, len, "/family");
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
    store_t *s = ud;
    (void)ctx;
    (void)len;
    count(s, OP_CONSUME_CODE);
    char *result = NULL;
    pthread_mutex_lock(&s->mu);
    for (code_rec *c = s->codes; c; c = c->next) {
        if (strcmp(c->code, in) != 0) continue;
        if (c->used) {
            result = fmt("{\"status\":\"used\",\"family\":\"%s\"}", c->family);
        } else {
            c->used = 1;
            result = fmt("{\"status\":\"found\",\"record\":%s}", c->json);
        }
        break;
    }
    pthread_mutex_unlock(&s->mu);
    int rc = put(out, result ? result : "{\"status\":\"missing\"}");
    free(result);
    return rc;
}

static int save_token(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    store_t *s = ud;
    (void)ctx;
    (void)out;
    count(s, OP_SAVE_TOKEN);
    tok_rec *t = calloc(1, sizeof *t);
    if (!t) return O2E_CB_ERROR;
    t->access = json_get(in, len, "/token");
    t->refresh = json_get(in, len, "/refresh_token");
    t->family = json_get(in, len, "/family");
    t->client_id = json_get(in, len, "/client_id");
    t->grant_type = json_get(in, len, "/grant_type");
    t->user_id = json_get(in, len, "/user_id");
    t->json = strdup(in);
    if (!t->access || !t->family || !t->json) {
        /* Never kept: the lookups and revocations compare these fields. */
        free(t->access);
        free(t->refresh);
        free(t->family);
        free(t->client_id);
        free(t->grant_type);
        free(t->user_id);
        free(t->json);
        free(t);
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
    store_t *s = ud;
    (void)ctx;
    (void)len;
    count(s, OP_FETCH_ACCESS);
    char *json = NULL;
    pthread_mutex_lock(&s->mu);
    for (tok_rec *t = s->tokens; t; t = t->next) {
        if (!t->revoked && opt_eq(t->access, in)) {
            json = strdup(t->json);
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    int rc = put(out, json ? json : "null");
    free(json);
    return rc;
}

static int refresh_lookup(store_t *s, const char *in, o2e_sink *out, int consume) {
    char *result = NULL;
    pthread_mutex_lock(&s->mu);
    for (tok_rec *t = s->tokens; t; t = t->next) {
        if (!opt_eq(t->refresh, in)) continue;
        /* A used refresh token stays a replay even once its grant is revoked: another replay
         * must still be recognised (and revoke the family again, harmlessly). */
        if (t->refresh_used) {
            result = fmt("{\"status\":\"used\",\"family\":\"%s\"}", t->family);
        } else if (t->revoked) {
            break;
        } else {
            if (consume) t->refresh_used = 1;
            result = fmt("{\"status\":\"found\",\"record\":%s}", t->json);
        }
        break;
    }
    pthread_mutex_unlock(&s->mu);
    int rc = put(out, result ? result : "{\"status\":\"missing\"}");
    free(result);
    return rc;
}

static int fetch_refresh(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    (void)ctx;
    (void)len;
    count(ud, OP_FETCH_REFRESH);
    return refresh_lookup(ud, in, out, 0);
}

static int consume_refresh(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    (void)ctx;
    (void)len;
    count(ud, OP_CONSUME_REFRESH);
    return refresh_lookup(ud, in, out, 1);
}

static int fetch_existing(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    store_t *s = ud;
    (void)ctx;
    count(s, OP_FETCH_EXISTING);
    char *client = json_get(in, len, "/client_id");
    char *grant = json_get(in, len, "/grant_type");
    char *user = json_get(in, len, "/user_id");
    char *json = NULL;
    pthread_mutex_lock(&s->mu);
    /* Newest first: records are pushed at the head. */
    for (tok_rec *t = s->tokens; t; t = t->next) {
        if (!t->revoked && opt_eq(t->client_id, client) && opt_eq(t->grant_type, grant) &&
            opt_eq(t->user_id, user)) {
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
    store_t *s = ud;
    (void)ctx;
    (void)len;
    (void)out;
    count(s, OP_REVOKE_TOKEN);
    pthread_mutex_lock(&s->mu);
    for (tok_rec *t = s->tokens; t; t = t->next) {
        if (opt_eq(t->access, in) || opt_eq(t->refresh, in)) t->revoked = 1;
    }
    pthread_mutex_unlock(&s->mu);
    return O2E_CB_OK;
}

static int revoke_family(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    store_t *s = ud;
    (void)ctx;
    (void)len;
    (void)out;
    count(s, OP_REVOKE_FAMILY);
    family_rec *f = calloc(1, sizeof *f);
    char *name = strdup(in);
    if (!f || !name) {
        free(f);
        free(name);
        return O2E_CB_ERROR;
    }
    f->family = name;
    pthread_mutex_lock(&s->mu);
    for (tok_rec *t = s->tokens; t; t = t->next) {
        if (strcmp(t->family, in) == 0) t->revoked = 1;
    }
    if (family_revoked(s, in)) {
        free(f->family);
        free(f);
    } else {
        f->next = s->revoked_families;
        s->revoked_families = f;
    }
    pthread_mutex_unlock(&s->mu);
    return O2E_CB_OK;
}

void store_install(store_t *s, o2e_callbacks *cb) {
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
