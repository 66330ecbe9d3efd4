/* The built-in memory store, driven from C: authorization code + PKCE + refresh (with
 * rotation and replay detection) and client credentials. The only callbacks are a site adapter
 * that approves a fixed user, so the test also shows that call_ctx reaches the callbacks and
 * that free_userdata runs exactly once. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common.h"

static const char CONFIG[] =
    "{\"engine\":{\"grants\":["
    "{\"type\":\"authorization_code\",\"scopes\":[\"read\",\"write\"],\"default_scope\":\"read\"},"
    "{\"type\":\"client_credentials\"},"
    "{\"type\":\"refresh_token\"}]},"
    "\"storage\":{\"type\":\"memory\",\"clients\":["
    "{\"client_id\":\"web\",\"client_secret\":\"web-secret\",\"redirect_uris\":[\"https://client.example/cb\"]},"
    "{\"client_id\":\"svc\",\"client_secret_sha256\":"
    "\"266739a274b3d2030954f1b943135d2116afe09e1a9f9d287d70bbd43ae94515\","
    "\"grant_types\":[\"client_credentials\"]}]}}";

#define WEB_AUTH "client_id=web&client_secret=web-secret"

typedef struct host {
    int freed;
    int authenticate_calls;
} host_t;

/* The per-request context the test passes to o2e_engine_handle. */
typedef struct call {
    int magic;
} call_t;
#define CALL_MAGIC 0x5eed

static int authenticate(void *ud, void *call_ctx, const char *in, size_t len, o2e_sink *out) {
    host_t *h = ud;
    call_t *c = call_ctx;
    h->authenticate_calls++;
    if (c == NULL || c->magic != CALL_MAGIC) return O2E_CB_ERROR;
    if (in[len] != '\0') return O2E_CB_ERROR;
    char *client = json_get(in, len, "/client/client_id");
    char *method = json_get(in, len, "/request/method");
    char *redirect = json_get(in, len, "/redirect_uri");
    int ok = client && strcmp(client, "web") == 0 && method && strcmp(method, "GET") == 0 &&
             redirect && strcmp(redirect, "https://client.example/cb") == 0;
    free(client);
    free(method);
    free(redirect);
    if (!ok) return O2E_CB_ERROR;
    return sink_puts(out, "{\"user_id\":\"alice\",\"data\":{\"name\":\"Alice\"}}") == 0 ? O2E_CB_OK
                                                                                       : O2E_CB_ERROR;
}

static void free_host(void *ud) { ((host_t *)ud)->freed++; }

static char *get_code(o2e_engine *e, call_t *ctx, const char *state) {
    char *q = fmt("response_type=code&client_id=web&redirect_uri=https%%3A%%2F%%2Fclient.example%%2Fcb"
                  "&code_challenge=%s&code_challenge_method=S256&state=%s",
                  PKCE_CHALLENGE, state);
    resp_t *r = req(e, ctx, "GET", "/authorize", q, NULL, NULL);
    free(q);
    CHECK(r->status == 302, "authorize status %d: %s", r->status, r->json);
    char *loc = resp_header(r, "Location");
    CHECK(loc && strncmp(loc, "https://client.example/cb?code=", 31) == 0, "Location %s", loc);
    char *st = url_param(loc, "state");
    CHECK(st && strcmp(st, state) == 0, "state %s echoed", st);
    char *code = url_param(loc, "code");
    CHECK(code && strlen(code) >= 22, "code in %s", loc);
    free(st);
    free(loc);
    resp_free(r);
    return code;
}

static resp_t *redeem(o2e_engine *e, call_t *ctx, const char *code, const char *verifier) {
    char *f = fmt("grant_type=authorization_code&code=%s"
                  "&redirect_uri=https%%3A%%2F%%2Fclient.example%%2Fcb&code_verifier=%s&" WEB_AUTH,
                  code, verifier);
    resp_t *r = post_form(e, ctx, "/token", f);
    free(f);
    return r;
}

static resp_t *refresh(o2e_engine *e, call_t *ctx, const char *rt) {
    char *f = fmt("grant_type=refresh_token&refresh_token=%s&" WEB_AUTH, rt);
    resp_t *r = post_form(e, ctx, "/token", f);
    free(f);
    return r;
}

static void expect_error(resp_t *r, int status, const char *error) {
    char *err = body_field(r, "error");
    CHECK(r->status == status && err && strcmp(err, error) == 0, "want %d %s, got %s", status, error,
          r->json);
    free(err);
}

static void expect_no_store(resp_t *r) {
    char *cc = resp_header(r, "Cache-Control");
    char *pragma = resp_header(r, "Pragma");
    CHECK(cc && strcmp(cc, "no-store") == 0 && pragma && strcmp(pragma, "no-cache") == 0,
          "cache headers in %s", r->json);
    free(cc);
    free(pragma);
}

/* The same ABI over the SQLite backend: a refresh token survives closing and reopening the
 * engine on the same file. */
static void sqlite_survives_restart(void) {
    char dir[] = "/tmp/o2e-capi-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char *db = fmt("%s/oauth2.db", dir);
    char *cfg = fmt("{\"engine\":{\"grants\":[{\"type\":\"authorization_code\"},{\"type\":\"refresh_token\"}]},"
                    "\"storage\":{\"type\":\"sqlite\",\"path\":\"%s\",\"clients\":["
                    "{\"client_id\":\"web\",\"client_secret\":\"web-secret\","
                    "\"redirect_uris\":[\"https://client.example/cb\"]}]}}",
                    db);
    host_t host = {0, 0};
    o2e_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.abi_version = O2E_CALLBACKS_ABI_VERSION;
    cb.userdata = &host;
    cb.authenticate = authenticate;
    call_t ctx = {CALL_MAGIC};

    o2e_engine *e = NULL;
    o2e_status st = o2e_engine_new(cfg, strlen(cfg), &cb, &e);
    CHECK(st == O2E_OK, "sqlite engine: %s", o2e_last_error());
    char *code = get_code(e, &ctx, "sq");
    resp_t *r = redeem(e, &ctx, code, PKCE_VERIFIER);
    CHECK(r->status == 200, "sqlite redeem: %s", r->json);
    char *rt = body_field(r, "refresh_token");
    CHECK(rt != NULL, "refresh token: %s", r->json);
    resp_free(r);
    free(code);
    o2e_engine_free(e);

    e = NULL;
    st = o2e_engine_new(cfg, strlen(cfg), &cb, &e);
    CHECK(st == O2E_OK, "sqlite engine reopened: %s", o2e_last_error());
    r = refresh(e, &ctx, rt);
    CHECK(r->status == 200, "refresh after restart: %s", r->json);
    resp_free(r);
    r = refresh(e, &ctx, rt); /* rotated: the old one is used up, also across the restart */
    expect_error(r, 400, "invalid_grant");
    resp_free(r);
    o2e_engine_free(e);
    free(rt);
    free(cfg);

    const char *suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char *f = fmt("%s%s", db, suffixes[i]);
        unlink(f);
        free(f);
    }
    free(db);
    CHECK(rmdir(dir) == 0, "rmdir %s", dir);
}

int main(void) {
    char version[64];
    snprintf(version, sizeof version, "%d.%d.%d", O2E_VERSION_MAJOR, O2E_VERSION_MINOR,
             O2E_VERSION_PATCH);
    CHECK(strcmp(o2e_version(), version) == 0, "version %s vs %s", o2e_version(), version);

    host_t host = {0, 0};
    o2e_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.abi_version = O2E_CALLBACKS_ABI_VERSION;
    cb.userdata = &host;
    cb.free_userdata = free_host;
    cb.authenticate = authenticate;

    o2e_engine *e = NULL;
    o2e_status st = o2e_engine_new(CONFIG, strlen(CONFIG), &cb, &e);
    CHECK(st == O2E_OK && e != NULL, "engine_new: %s %s", o2e_status_name(st), o2e_last_error());
    CHECK(o2e_last_error()[0] == '\0', "last error cleared after success");
    call_t ctx = {CALL_MAGIC};

    /* R11/R12: the oauth2.1 profile refuses a code request without PKCE, back at the client. */
    resp_t *r = req(e, &ctx, "GET", "/authorize",
                    "response_type=code&client_id=web&state=s0", NULL, NULL);
    char *loc = resp_header(r, "Location");
    CHECK(r->status == 302 && loc && strstr(loc, "error=invalid_request") && strstr(loc, "state=s0"),
          "no-PKCE request: %s", r->json);
    free(loc);
    resp_free(r);

    /* Code + PKCE: the code is redeemed once, with the right verifier. */
    char *code = get_code(e, &ctx, "xyz");
    r = redeem(e, &ctx, code, PKCE_VERIFIER);
    CHECK(r->status == 200, "redeem: %s", r->json);
    expect_no_store(r);
    char *at = body_field(r, "access_token");
    char *rt = body_field(r, "refresh_token");
    char *tt = body_field(r, "token_type");
    char *scope = body_field(r, "scope");
    char *exp = body_field(r, "expires_in");
    CHECK(at && rt && strcmp(at, rt) != 0, "tokens in %s", r->json);
    CHECK(tt && strcasecmp(tt, "bearer") == 0, "token_type %s", tt);
    CHECK(scope && strcmp(scope, "read") == 0, "default scope %s", scope);
    CHECK(exp && strcmp(exp, "3600") == 0, "expires_in %s", exp);
    free(tt);
    free(scope);
    free(exp);
    resp_free(r);

    /* R17: the same code again is refused. */
    r = redeem(e, &ctx, code, PKCE_VERIFIER);
    expect_error(r, 400, "invalid_grant");
    resp_free(r);
    free(code);
    /* ... and the replay revoked the tokens issued from it, refresh token included. */
    r = refresh(e, &ctx, rt);
    expect_error(r, 400, "invalid_grant");
    resp_free(r);
    free(at);
    free(rt);

    /* A wrong verifier is refused (R13). */
    code = get_code(e, &ctx, "v");
    r = redeem(e, &ctx, code, "wrong-verifier-wrong-verifier-wrong-verifier-x");
    expect_error(r, 400, "invalid_grant");
    resp_free(r);
    free(code);

    /* Refresh with rotation: a new pair each time; the used refresh token is dead (R24). */
    code = get_code(e, &ctx, "r");
    r = redeem(e, &ctx, code, PKCE_VERIFIER);
    CHECK(r->status == 200, "redeem: %s", r->json);
    rt = body_field(r, "refresh_token");
    at = body_field(r, "access_token");
    resp_free(r);
    free(code);
    r = refresh(e, &ctx, rt);
    CHECK(r->status == 200, "refresh: %s", r->json);
    expect_no_store(r);
    char *at2 = body_field(r, "access_token");
    char *rt2 = body_field(r, "refresh_token");
    CHECK(at2 && rt2 && strcmp(at2, at) != 0 && strcmp(rt2, rt) != 0, "rotated pair in %s", r->json);
    resp_free(r);
    r = refresh(e, &ctx, rt);
    expect_error(r, 400, "invalid_grant");
    resp_free(r);
    /* The replay of the old refresh token revoked the whole family, the new one included. */
    r = refresh(e, &ctx, rt2);
    expect_error(r, 400, "invalid_grant");
    resp_free(r);
    free(at);
    free(rt);
    free(at2);
    free(rt2);

    /* Client credentials with HTTP Basic ("svc:svc-secret"), a hashed secret in the store. */
    r = req(e, NULL, "POST", "/token", "",
            "{\"Content-Type\":\"application/x-www-form-urlencoded\","
            "\"Authorization\":\"Basic c3ZjOnN2Yy1zZWNyZXQ=\"}",
            "grant_type=client_credentials");
    CHECK(r->status == 200, "client_credentials: %s", r->json);
    expect_no_store(r);
    at = body_field(r, "access_token");
    rt = body_field(r, "refresh_token");
    CHECK(at != NULL && rt == NULL, "client_credentials gets no refresh token: %s", r->json);
    free(at);
    resp_free(r);

    /* R35: a wrong Basic secret is 401 with WWW-Authenticate. */
    r = req(e, NULL, "POST", "/token", "",
            "[[\"Content-Type\",\"application/x-www-form-urlencoded\"],"
            "[\"Authorization\",\"Basic c3ZjOndyb25n\"]]",
            "grant_type=client_credentials");
    expect_error(r, 401, "invalid_client");
    char *www = resp_header(r, "WWW-Authenticate");
    CHECK(www && strncmp(www, "Basic", 5) == 0, "WWW-Authenticate %s", www);
    free(www);
    resp_free(r);

    /* svc may not use the code grant (per-client grant types). */
    r = post_form(e, NULL, "/token",
                  "grant_type=authorization_code&code=x&client_id=svc&client_secret=svc-secret");
    expect_error(r, 400, "unauthorized_client");
    resp_free(r);

    r = req(e, NULL, "GET", "/elsewhere", NULL, NULL, NULL);
    CHECK(r->status == 404, "unknown path: %s", r->json);
    resp_free(r);

    CHECK(host.authenticate_calls == 3, "authenticate called %d times", host.authenticate_calls);
    o2e_engine_free(e);
    CHECK(host.freed == 1, "free_userdata ran %d times", host.freed);
    o2e_engine_free(NULL);
    sqlite_survives_restart();
    printf("memory_store: all checks passed\n");
    return 0;
}
