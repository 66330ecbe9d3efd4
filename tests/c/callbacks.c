/* Every callback implemented in C: storage (store.c, thread-safe), a site adapter that approves,
 * denies or asks for login depending on the request's call_ctx, a token generator and a log
 * hook. Runs code + PKCE + refresh, revocation and client credentials in the oauth2.1 profile,
 * and password (with unique tokens) in the legacy profile. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "store.h"

static const char *const CLIENTS[] = {
    "{\"client_id\":\"web\",\"client_secret\":\"web-secret\","
    "\"redirect_uris\":[\"https://client.example/cb\"]}",
    "{\"client_id\":\"svc\",\"client_secret\":\"svc-secret\",\"redirect_uris\":[],"
    "\"grant_types\":[\"client_credentials\"]}",
    "{\"client_id\":\"app\",\"client_secret\":\"app-secret\",\"redirect_uris\":[],"
    "\"grant_types\":[\"password\",\"refresh_token\"]}",
    NULL,
};

static const char STRICT[] =
    "{\"engine\":{\"revocation_path\":\"/revoke\",\"grants\":["
    "{\"type\":\"authorization_code\",\"scopes\":[\"read\",\"write\"],\"default_scope\":\"read\"},"
    "{\"type\":\"client_credentials\",\"expires_in\":60},"
    "{\"type\":\"refresh_token\"}]},"
    "\"storage\":{\"type\":\"callbacks\"}}";

static const char LEGACY[] =
    "{\"engine\":{\"profile\":\"legacy\",\"grants\":["
    "{\"type\":\"password\",\"unique_token\":true,\"expires_in\":600},"
    "{\"type\":\"refresh_token\"}]},"
    "\"storage\":{\"type\":\"callbacks\"}}";

#define WEB "client_id=web&client_secret=web-secret"

/* What the site knows about the request being served (a host's session, in effect). */
typedef struct call {
    int logged_in;
    int deny;
} call_t;

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static int log_count;
static unsigned long token_counter;

static int denied(void *ud, void *call_ctx, const char *in, size_t len, o2e_sink *out) {
    (void)ud;
    char *client = json_get(in, len, "/client/client_id");
    int ok = client && strcmp(client, "web") == 0;
    free(client);
    if (!ok || call_ctx == NULL) return O2E_CB_ERROR;
    return sink_puts(out, ((call_t *)call_ctx)->deny ? "true" : "false") ? O2E_CB_ERROR : O2E_CB_OK;
}

static int authenticate(void *ud, void *call_ctx, const char *in, size_t len, o2e_sink *out) {
    (void)ud;
    (void)in;
    (void)len;
    if (call_ctx == NULL) return O2E_CB_ERROR;
    const char *answer = ((call_t *)call_ctx)->logged_in
                             ? "{\"user_id\":\"bob\",\"data\":{\"role\":\"tester\"}}"
                             : "null";
    return sink_puts(out, answer) ? O2E_CB_ERROR : O2E_CB_OK;
}

static int render_page(void *ud, void *call_ctx, const char *in, size_t len, o2e_sink *out) {
    (void)ud;
    (void)call_ctx;
    char *client = json_get(in, len, "/client/client_id");
    char *scope = json_get(in, len, "/scopes/0");
    char *page = fmt("{\"status\":200,\"headers\":[[\"Content-Type\",\"text/html\"]],"
                     "\"body\":\"<form method=post>Allow %s to %s?</form>\"}",
                     client ? client : "?", scope ? scope : "?");
    int rc = sink_puts(out, page) ? O2E_CB_ERROR : O2E_CB_OK;
    free(client);
    free(scope);
    free(page);
    return rc;
}

static int authenticate_password(void *ud, void *call_ctx, const char *in, size_t len,
                                 o2e_sink *out) {
    (void)ud;
    (void)call_ctx;
    char *user = json_get(in, len, "/username");
    char *pass = json_get(in, len, "/password");
    int ok = user && pass && strcmp(user, "bob") == 0 && strcmp(pass, "pw") == 0;
    free(user);
    free(pass);
    return sink_puts(out, ok ? "{\"user_id\":\"bob\",\"data\":{}}" : "null") ? O2E_CB_ERROR
                                                                            : O2E_CB_OK;
}

/* A host-made token: a prefix the test can recognise, a counter and 128 bits from the OS. */
static int generate(void *ud, void *call_ctx, const char *in, size_t len, o2e_sink *out) {
    (void)ud;
    (void)call_ctx;
    (void)len;
    unsigned char rnd[16];
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f) return O2E_CB_ERROR;
    size_t got = fread(rnd, 1, sizeof rnd, f);
    fclose(f);
    if (got != sizeof rnd) return O2E_CB_ERROR;
    pthread_mutex_lock(&log_mu);
    unsigned long n = ++token_counter;
    pthread_mutex_unlock(&log_mu);
    char tok[96];
    int p = snprintf(tok, sizeof tok, "\"c-%c%lu-", in[0], n);
    for (size_t i = 0; i < sizeof rnd; i++) p += snprintf(tok + p, sizeof tok - (size_t)p, "%02x", rnd[i]);
    snprintf(tok + p, sizeof tok - (size_t)p, "\"");
    return sink_puts(out, tok) ? O2E_CB_ERROR : O2E_CB_OK;
}

static void log_hook(void *ud, void *call_ctx, int level, const char *msg, size_t len) {
    (void)ud;
    (void)call_ctx;
    (void)len;
    pthread_mutex_lock(&log_mu);
    log_count++;
    pthread_mutex_unlock(&log_mu);
    fprintf(stderr, "[log %d] %s\n", level, msg);
}

static void expect_error(resp_t *r, int status, const char *error) {
    char *err = body_field(r, "error");
    CHECK(r->status == status && err && strcmp(err, error) == 0, "want %d %s, got %s", status, error,
          r->json);
    free(err);
}

static resp_t *authorize(o2e_engine *e, call_t *ctx, const char *state) {
    char *q = fmt("response_type=code&client_id=web&scope=read+write&code_challenge=%s"
                  "&code_challenge_method=S256&state=%s",
                  PKCE_CHALLENGE, state);
    resp_t *r = req(e, ctx, "GET", "/authorize", q, NULL, NULL);
    free(q);
    return r;
}

static char *code_of(resp_t *r) {
    char *loc = resp_header(r, "Location");
    CHECK(r->status == 302 && loc, "authorize: %s", r->json);
    char *code = url_param(loc, "code");
    CHECK(code, "no code in %s", loc);
    free(loc);
    return code;
}

static void strict_flows(void) {
    store_t *s = store_new(CLIENTS);
    o2e_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.abi_version = O2E_CALLBACKS_ABI_VERSION;
    store_install(s, &cb);
    cb.free_userdata = store_free;
    cb.user_has_denied_access = denied;
    cb.authenticate = authenticate;
    cb.render_auth_page = render_page;
    cb.log = log_hook;
    o2e_engine *e = NULL;
    o2e_status st = o2e_engine_new(STRICT, strlen(STRICT), &cb, &e);
    CHECK(st == O2E_OK, "engine_new: %s", o2e_last_error());

    /* Not logged in: the host's consent page, hardened against framing (R08). */
    call_t anon = {0, 0};
    resp_t *r = authorize(e, &anon, "a");
    CHECK(r->status == 200 && strstr(r->body, "Allow web to read?"), "page: %s", r->json);
    char *xfo = resp_header(r, "X-Frame-Options");
    char *ct = resp_header(r, "Content-Type");
    CHECK(xfo && strcmp(xfo, "DENY") == 0 && ct && strcmp(ct, "text/html") == 0, "page headers %s",
          r->json);
    free(xfo);
    free(ct);
    resp_free(r);

    /* Denied: access_denied back at the client, with state. */
    call_t no = {1, 1};
    r = authorize(e, &no, "d");
    char *loc = resp_header(r, "Location");
    CHECK(r->status == 302 && loc && strstr(loc, "error=access_denied") && strstr(loc, "state=d"),
          "denial: %s", r->json);
    free(loc);
    resp_free(r);

    /* Approved: code + PKCE. */
    call_t yes = {1, 0};
    r = authorize(e, &yes, "y");
    char *code = code_of(r);
    resp_free(r);
    char *f = fmt("grant_type=authorization_code&code=%s&code_verifier=%s&" WEB, code,
                  PKCE_VERIFIER);
    r = post_form(e, &yes, "/token", f);
    CHECK(r->status == 200, "redeem: %s", r->json);
    char *at = body_field(r, "access_token");
    char *rt = body_field(r, "refresh_token");
    char *scope = body_field(r, "scope");
    CHECK(at && rt && scope && strcmp(scope, "read write") == 0, "tokens: %s", r->json);
    free(scope);
    resp_free(r);
    /* Replay of the code: refused, and the family is revoked (R17). */
    r = post_form(e, &yes, "/token", f);
    expect_error(r, 400, "invalid_grant");
    resp_free(r);
    free(f);
    free(code);
    CHECK(store_calls(s, OP_REVOKE_FAMILY) == 1, "revoke_family after code replay");
    f = fmt("grant_type=refresh_token&refresh_token=%s&" WEB, rt);
    r = post_form(e, &yes, "/token", f);
    expect_error(r, 400, "invalid_grant");
    resp_free(r);
    free(f);
    free(at);
    free(rt);

    /* A fresh grant: refresh with rotation, narrowing the scope; the old refresh token is used up. */
    r = authorize(e, &yes, "z");
    code = code_of(r);
    resp_free(r);
    f = fmt("grant_type=authorization_code&code=%s&code_verifier=%s&" WEB, code, PKCE_VERIFIER);
    r = post_form(e, &yes, "/token", f);
    CHECK(r->status == 200, "redeem: %s", r->json);
    rt = body_field(r, "refresh_token");
    resp_free(r);
    free(f);
    free(code);
    f = fmt("grant_type=refresh_token&refresh_token=%s&scope=read&" WEB, rt);
    r = post_form(e, &yes, "/token", f);
    CHECK(r->status == 200, "refresh: %s", r->json);
    char *rt2 = body_field(r, "refresh_token");
    scope = body_field(r, "scope");
    CHECK(rt2 && strcmp(rt2, rt) != 0 && scope && strcmp(scope, "read") == 0, "refresh: %s", r->json);
    free(scope);
    resp_free(r);
    /* Widening is refused. */
    char *f2 = fmt("grant_type=refresh_token&refresh_token=%s&scope=admin&" WEB, rt2);
    r = post_form(e, &yes, "/token", f2);
    expect_error(r, 400, "invalid_scope");
    resp_free(r);
    free(f2);
    /* Revocation of the new refresh token (RFC 7009) ends the grant. */
    f2 = fmt("token=%s&token_type_hint=refresh_token&" WEB, rt2);
    r = post_form(e, &yes, "/revoke", f2);
    CHECK(r->status == 200, "revoke: %s", r->json);
    resp_free(r);
    free(f2);
    f2 = fmt("grant_type=refresh_token&refresh_token=%s&" WEB, rt2);
    r = post_form(e, &yes, "/token", f2);
    expect_error(r, 400, "invalid_grant");
    resp_free(r);
    free(f2);
    free(f);
    free(rt);
    free(rt2);

    /* Client credentials, and revoking its access token. */
    r = post_form(e, NULL, "/token", "grant_type=client_credentials&client_id=svc&client_secret=svc-secret");
    CHECK(r->status == 200, "client_credentials: %s", r->json);
    char *exp = body_field(r, "expires_in");
    at = body_field(r, "access_token");
    CHECK(exp && strcmp(exp, "60") == 0 && at, "client_credentials: %s", r->json);
    free(exp);
    resp_free(r);
    f = fmt("token=%s&client_id=svc&client_secret=svc-secret", at);
    r = post_form(e, NULL, "/revoke", f);
    CHECK(r->status == 200, "revoke access token: %s", r->json);
    resp_free(r);
    free(f);
    free(at);
    CHECK(store_calls(s, OP_REVOKE_TOKEN) == 1, "revoke_token called");

    /* An unknown client at the authorization endpoint: rendered 400, never redirected (R04). */
    r = req(e, &yes, "GET", "/authorize", "response_type=code&client_id=nobody", NULL, NULL);
    CHECK(r->status == 400 && resp_header(r, "Location") == NULL, "unknown client: %s", r->json);
    resp_free(r);

    static const enum op used[] = {OP_FETCH_CLIENT, OP_SAVE_CODE, OP_CONSUME_CODE, OP_SAVE_TOKEN,
                                   OP_FETCH_ACCESS, OP_FETCH_REFRESH, OP_CONSUME_REFRESH,
                                   OP_REVOKE_TOKEN, OP_REVOKE_FAMILY};
    for (size_t i = 0; i < sizeof used / sizeof used[0]; i++)
        CHECK(store_calls(s, used[i]) > 0, "storage op %d never called", (int)used[i]);
    CHECK(log_count == 0, "no callback failed, yet the log hook ran %d times", log_count);
    o2e_engine_free(e); /* frees the store through free_userdata; ASan/valgrind see the rest */
}

static void legacy_flows(void) {
    store_t *s = store_new(CLIENTS);
    o2e_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.abi_version = O2E_CALLBACKS_ABI_VERSION;
    store_install(s, &cb);
    cb.free_userdata = store_free;
    cb.authenticate_password = authenticate_password;
    cb.generate_token = generate;
    cb.log = log_hook;
    o2e_engine *e = NULL;
    o2e_status st = o2e_engine_new(LEGACY, strlen(LEGACY), &cb, &e);
    CHECK(st == O2E_OK, "engine_new: %s", o2e_last_error());

    const char *form = "grant_type=password&username=bob&password=pw&client_id=app&client_secret=app-secret";
    resp_t *r = post_form(e, NULL, "/token", form);
    CHECK(r->status == 200, "password: %s", r->json);
    char *at = body_field(r, "access_token");
    char *rt = body_field(r, "refresh_token");
    CHECK(at && strncmp(at, "c-a", 3) == 0 && rt && strncmp(rt, "c-r", 3) == 0,
          "host-generated tokens: %s", r->json);
    resp_free(r);
    /* Unique tokens: the same user gets the same live token again. */
    r = post_form(e, NULL, "/token", form);
    char *again = body_field(r, "access_token");
    CHECK(r->status == 200 && again && strcmp(again, at) == 0, "unique token: %s", r->json);
    CHECK(store_calls(s, OP_FETCH_EXISTING) == 2, "fetch_existing_token_of_user called");
    free(again);
    resp_free(r);
    /* Wrong password: invalid_grant (RFC 6749 §5.2). */
    r = post_form(e, NULL, "/token",
                  "grant_type=password&username=bob&password=no&client_id=app&client_secret=app-secret");
    expect_error(r, 400, "invalid_grant");
    resp_free(r);
    /* Refresh without rotation (legacy default): a new access token, the refresh token stays. */
    char *f = fmt("grant_type=refresh_token&refresh_token=%s&client_id=app&client_secret=app-secret", rt);
    r = post_form(e, NULL, "/token", f);
    char *at2 = body_field(r, "access_token");
    CHECK(r->status == 200 && at2 && strcmp(at2, at) != 0, "legacy refresh: %s", r->json);
    resp_free(r);
    r = post_form(e, NULL, "/token", f);
    CHECK(r->status == 200, "refresh token reusable without rotation: %s", r->json);
    resp_free(r);
    /* Refresh tokens are bound to their client (R25). */
    char *f2 = fmt("grant_type=refresh_token&refresh_token=%s&client_id=web&client_secret=web-secret", rt);
    r = post_form(e, NULL, "/token", f2);
    CHECK(r->status == 400, "refresh by another client: %s", r->json);
    resp_free(r);
    free(f2);
    free(f);
    free(at);
    free(at2);
    free(rt);
    o2e_engine_free(e);
}

int main(void) {
    strict_flows();
    legacy_flows();
    printf("callbacks: all checks passed\n");
    return 0;
}
