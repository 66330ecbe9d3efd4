/* Bad input of every kind: NULL pointers, invalid UTF-8, malformed and wrongly typed JSON,
 * unknown fields, an oversized body, and callbacks that fail, write garbage or write nothing.
 * Each must be answered by a status code or an OAuth error response, never a crash (ASan and
 * valgrind watch for the memory errors a crash would hide). */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "common.h"
#include "store.h"

static void expect_status(o2e_status got, o2e_status want, const char *what) {
    CHECK(got == want, "%s: got %s, want %s (%s)", what, o2e_status_name(got), o2e_status_name(want),
          o2e_last_error());
    if (want != O2E_OK) CHECK(o2e_last_error()[0] != '\0', "%s: no error message", what);
}

static o2e_status new_engine(const char *cfg, const o2e_callbacks *cb, o2e_engine **e) {
    *e = (o2e_engine *)1; /* must be overwritten with NULL on failure */
    o2e_status st = o2e_engine_new(cfg, strlen(cfg), cb, e);
    if (st != O2E_OK) CHECK(*e == NULL, "out not cleared on failure");
    return st;
}

static void expect_config(const char *cfg, const o2e_callbacks *cb, o2e_status want,
                          const char *needle) {
    o2e_engine *e;
    o2e_status st = new_engine(cfg, cb, &e);
    expect_status(st, want, cfg);
    CHECK(strstr(o2e_last_error(), needle) != NULL, "message for %s lacks \"%s\": %s", cfg, needle,
          o2e_last_error());
}

static o2e_status handle_raw(const o2e_engine *e, const char *json, size_t len) {
    o2e_buf *out = (o2e_buf *)1;
    o2e_status st = o2e_engine_handle(e, json, len, NULL, &out);
    if (st == O2E_OK) {
        o2e_buf_free(out);
    } else {
        CHECK(out == NULL, "out not cleared on failure");
    }
    return st;
}

static void expect_request(const o2e_engine *e, const char *json, o2e_status want,
                           const char *needle) {
    expect_status(handle_raw(e, json, strlen(json)), want, json);
    CHECK(strstr(o2e_last_error(), needle) != NULL, "message for %s lacks \"%s\": %s", json, needle,
          o2e_last_error());
}

static void expect_error(resp_t *r, int status, const char *error) {
    char *err = body_field(r, "error");
    CHECK(r->status == status && err && strcmp(err, error) == 0, "want %d %s, got %s", status, error,
          r->json);
    free(err);
}

static void expect_redirect_error(resp_t *r, const char *error) {
    char *loc = resp_header(r, "Location");
    char *want = fmt("error=%s", error);
    CHECK(r->status == 302 && loc && strstr(loc, want), "want redirect with %s, got %s", want, r->json);
    free(want);
    free(loc);
}

/* ---- misbehaving callbacks: what each does is chosen per request through call_ctx ---- */

enum mode {
    OK,
    FAIL,
    FAIL_WITH_MESSAGE,
    UNAVAILABLE,
    ODD_RC,
    NOTHING,
    BAD_UTF8,
    BAD_JSON,
    WRONG_TYPE,
    UNKNOWN_FIELD,
    OTHER_CLIENT,
    TRAILING,
    HUGE
};

static const char SVC[] = "{\"client_id\":\"svc\",\"client_secret\":\"s\",\"redirect_uris\":[]}";

static int write_for(enum mode m, o2e_sink *out, const char *good) {
    switch (m) {
    case OK:
        return sink_puts(out, good) ? O2E_CB_ERROR : O2E_CB_OK;
    case FAIL:
        return O2E_CB_ERROR;
    case FAIL_WITH_MESSAGE:
        sink_puts(out, "disk on fire");
        return O2E_CB_ERROR;
    case UNAVAILABLE:
        return O2E_CB_UNAVAILABLE;
    case ODD_RC:
        return -77;
    case NOTHING:
        return O2E_CB_OK;
    case BAD_UTF8:
        o2e_sink_write(out, "{\"client_id\":\"\xff\xfe\"}", 18);
        return O2E_CB_OK;
    case BAD_JSON:
        sink_puts(out, "{\"client_id\":");
        return O2E_CB_OK;
    case WRONG_TYPE:
        sink_puts(out, "{\"client_id\":5,\"redirect_uris\":\"x\"}");
        return O2E_CB_OK;
    case UNKNOWN_FIELD:
        sink_puts(out, "{\"client_id\":\"svc\",\"client_secret\":\"s\",\"colour\":\"red\"}");
        return O2E_CB_OK;
    case OTHER_CLIENT:
        sink_puts(out, "{\"client_id\":\"admin\",\"client_secret\":\"s\"}");
        return O2E_CB_OK;
    case TRAILING:
        sink_puts(out, good);
        sink_puts(out, " garbage");
        return O2E_CB_OK;
    case HUGE: {
        size_t n = 1024 * 1024;
        char *chunk = malloc(n);
        CHECK(chunk != NULL, "out of memory");
        memset(chunk, ' ', n);
        o2e_status st = O2E_OK;
        for (int i = 0; i < 17 && st == O2E_OK; i++) st = o2e_sink_write(out, chunk, n);
        free(chunk);
        CHECK(st == O2E_TOO_LARGE, "sink limit: %s", o2e_status_name(st));
        return O2E_CB_OK; /* claims success anyway: the engine must still refuse the output */
    }
    }
    return O2E_CB_ERROR;
}

static store_t *the_store;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int logs;
static char last_log[256];

static int bad_fetch_client(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    (void)ud;
    (void)in;
    (void)len;
    return write_for(ctx ? *(enum mode *)ctx : OK, out, SVC);
}

static int bad_authenticate(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    (void)ud;
    (void)in;
    (void)len;
    return write_for(ctx ? *(enum mode *)ctx : OK, out, "{\"user_id\":\"u\"}");
}

static int bad_render(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    (void)ud;
    (void)in;
    (void)len;
    (void)ctx;
    /* A header with CR LF would split the host's HTTP response: refused. */
    sink_puts(out, "{\"status\":200,\"headers\":[[\"X-A\",\"1\\r\\nSet-Cookie: x=1\"]],\"body\":\"\"}");
    return O2E_CB_OK;
}

static int bad_generate(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    (void)ud;
    (void)in;
    (void)len;
    enum mode m = ctx ? *(enum mode *)ctx : OK;
    if (m == WRONG_TYPE) return sink_puts(out, "42") ? O2E_CB_ERROR : O2E_CB_OK;
    if (m == UNKNOWN_FIELD) return sink_puts(out, "\"\"") ? O2E_CB_ERROR : O2E_CB_OK; /* empty */
    if (m == OTHER_CLIENT) return sink_puts(out, "\"a b\"") ? O2E_CB_ERROR : O2E_CB_OK; /* space */
    return write_for(m, out, "\"tok-0123456789abcdef0123456789abcdef\"");
}

static void log_hook(void *ud, void *ctx, int level, const char *msg, size_t len) {
    (void)ud;
    (void)ctx;
    CHECK(level == O2E_LOG_ERROR && msg[len] == '\0', "log arguments");
    pthread_mutex_lock(&mu);
    logs++;
    snprintf(last_log, sizeof last_log, "%s", msg);
    pthread_mutex_unlock(&mu);
}

static const char *const CLIENTS[] = {SVC, NULL};

static void callbacks_misbehaving(void) {
    the_store = store_new(CLIENTS);
    o2e_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.abi_version = O2E_CALLBACKS_ABI_VERSION;
    store_install(the_store, &cb);
    cb.free_userdata = store_free;
    cb.fetch_client = bad_fetch_client;
    cb.log = log_hook;
    static const char cfg[] = "{\"engine\":{\"grants\":[{\"type\":\"client_credentials\"}]},"
                              "\"storage\":{\"type\":\"callbacks\"}}";
    o2e_engine *e;
    expect_status(new_engine(cfg, &cb, &e), O2E_OK, "callback engine");
    const char *form = "grant_type=client_credentials&client_id=svc&client_secret=s";

    static const struct {
        enum mode m;
        int status;
        const char *error;
    } cases[] = {
        {FAIL, 500, "server_error"},          {FAIL_WITH_MESSAGE, 500, "server_error"},
        {UNAVAILABLE, 503, "temporarily_unavailable"}, {ODD_RC, 500, "server_error"},
        {NOTHING, 500, "server_error"},       {BAD_UTF8, 500, "server_error"},
        {BAD_JSON, 500, "server_error"},      {WRONG_TYPE, 500, "server_error"},
        {UNKNOWN_FIELD, 500, "server_error"}, {OTHER_CLIENT, 500, "server_error"},
        {TRAILING, 500, "server_error"},      {HUGE, 500, "server_error"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum mode m = cases[i].m;
        int before = logs;
        resp_t *r = post_form(e, &m, "/token", form);
        expect_error(r, cases[i].status, cases[i].error);
        /* The host's message goes to the log, never to the client. */
        CHECK(strstr(r->body, "fetch_client") == NULL && strstr(r->body, "fire") == NULL,
              "callback detail leaked to the client: %s", r->body);
        CHECK(logs == before + 1, "case %d: log hook not called", (int)m);
        CHECK(strstr(last_log, "fetch_client") != NULL, "log names the callback: %s", last_log);
        if (m == FAIL_WITH_MESSAGE) CHECK(strstr(last_log, "disk on fire"), "log: %s", last_log);
        resp_free(r);
    }
    /* A key with an embedded NUL (%00) never reaches a C callback, which would compare only
     * "svc": it is answered as an unknown client. */
    enum mode ok = OK;
    resp_t *nul = post_form(e, &ok, "/token", "grant_type=client_credentials&client_id=svc%00evil&client_secret=s");
    expect_error(nul, 400, "invalid_client");
    resp_free(nul);
    /* After all that, the engine still works. */
    resp_t *r = post_form(e, &ok, "/token", form);
    CHECK(r->status == 200, "engine usable after bad callbacks: %s", r->json);
    resp_free(r);
    o2e_engine_free(e);
}

static void site_and_generator_misbehaving(void) {
    o2e_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.abi_version = O2E_CALLBACKS_ABI_VERSION;
    cb.authenticate = bad_authenticate;
    cb.generate_token = bad_generate;
    static const char cfg[] =
        "{\"engine\":{\"grants\":[{\"type\":\"authorization_code\"},{\"type\":\"client_credentials\"}]},"
        "\"storage\":{\"type\":\"memory\",\"clients\":[{\"client_id\":\"web\","
        "\"redirect_uris\":[\"https://c.example/cb\"]},"
        "{\"client_id\":\"svc\",\"client_secret\":\"s\"}]}}";
    o2e_engine *e;
    expect_status(new_engine(cfg, &cb, &e), O2E_OK, "site engine");
    const char *q = "response_type=code&client_id=web&state=s&code_challenge=" PKCE_CHALLENGE
                    "&code_challenge_method=S256";
    static const enum mode site_cases[] = {FAIL, NOTHING, BAD_JSON, WRONG_TYPE, UNKNOWN_FIELD, BAD_UTF8};
    for (size_t i = 0; i < sizeof site_cases / sizeof site_cases[0]; i++) {
        enum mode m = site_cases[i];
        resp_t *r = req(e, &m, "GET", "/authorize", q, NULL, NULL);
        expect_redirect_error(r, "server_error");
        resp_free(r);
    }
    enum mode unavailable = UNAVAILABLE;
    resp_t *r = req(e, &unavailable, "GET", "/authorize", q, NULL, NULL);
    expect_redirect_error(r, "temporarily_unavailable");
    resp_free(r);
    /* The token generator: wrong type, empty, not visible ASCII, nothing, failure. */
    static const enum mode gen_cases[] = {WRONG_TYPE, UNKNOWN_FIELD, OTHER_CLIENT, NOTHING, FAIL};
    for (size_t i = 0; i < sizeof gen_cases / sizeof gen_cases[0]; i++) {
        enum mode m = gen_cases[i];
        r = post_form(e, &m, "/token", "grant_type=client_credentials&client_id=svc&client_secret=s");
        expect_error(r, 500, "server_error");
        resp_free(r);
    }
    enum mode ok = OK;
    r = post_form(e, &ok, "/token", "grant_type=client_credentials&client_id=svc&client_secret=s");
    char *at = body_field(r, "access_token");
    CHECK(r->status == 200 && at && strcmp(at, "tok-0123456789abcdef0123456789abcdef") == 0,
          "generator output used: %s", r->json);
    free(at);
    resp_free(r);
    o2e_engine_free(e);

}

static int null_auth(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    (void)ud;
    (void)ctx;
    (void)in;
    (void)len;
    return sink_puts(out, "null") ? O2E_CB_ERROR : O2E_CB_OK;
}

static void bad_page(void) {
    o2e_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.abi_version = O2E_CALLBACKS_ABI_VERSION;
    cb.authenticate = null_auth;
    cb.render_auth_page = bad_render;
    static const char cfg[] =
        "{\"engine\":{\"grants\":[{\"type\":\"authorization_code\"}]},"
        "\"storage\":{\"type\":\"memory\",\"clients\":[{\"client_id\":\"web\","
        "\"redirect_uris\":[\"https://c.example/cb\"]}]}}";
    o2e_engine *e;
    expect_status(new_engine(cfg, &cb, &e), O2E_OK, "page engine");
    resp_t *r = req(e, NULL, "GET", "/authorize",
                    "response_type=code&client_id=web&code_challenge=" PKCE_CHALLENGE
                    "&code_challenge_method=S256",
                    NULL, NULL);
    expect_redirect_error(r, "server_error");
    CHECK(strstr(r->json, "Set-Cookie") == NULL, "split header passed on: %s", r->json);
    resp_free(r);
    o2e_engine_free(e);
}

static int freed;
static void count_free(void *ud) {
    (void)ud;
    freed++;
}

static void configs(void) {
    o2e_engine *e;
    /* NULL pointers. */
    expect_status(o2e_engine_new(NULL, 10, NULL, &e), O2E_NULL_ARGUMENT, "NULL config");
    CHECK(e == NULL, "out cleared");
    expect_status(o2e_engine_new("{}", 2, NULL, NULL), O2E_NULL_ARGUMENT, "NULL out");
    /* Not UTF-8, not JSON. */
    expect_config("{\"engine\":{\"token_path\":\"/t\xff\"}}", NULL, O2E_INVALID_UTF8, "UTF-8");
    expect_config("", NULL, O2E_INVALID_JSON, "config_json");
    expect_config("{", NULL, O2E_INVALID_JSON, "config_json");
    expect_config("{} {}", NULL, O2E_INVALID_JSON, "trailing");
    expect_config("{\"engine\":{\"grants\":[{\"type\":\"client_credentials\"},]}}", NULL,
                  O2E_INVALID_JSON, "config_json");
    /* Wrongly typed. */
    expect_config("[]", NULL, O2E_INVALID_CONFIG, "config_json");
    expect_config("{\"engine\":{\"grants\":\"all\"}}", NULL, O2E_INVALID_CONFIG, "invalid type");
    expect_config("{\"engine\":{\"code_lifetime\":-1}}", NULL, O2E_INVALID_CONFIG, "invalid value");
    expect_config("{\"engine\":{\"profile\":\"oauth3\"}}", NULL, O2E_INVALID_CONFIG, "unknown variant");
    expect_config("{\"storage\":{\"type\":7}}", NULL, O2E_INVALID_CONFIG, "type");
    expect_config("{\"storage\":{\"type\":\"memory\",\"clients\":{}}}", NULL, O2E_INVALID_CONFIG,
                  "storage");
    /* Unknown fields, at every level. */
    expect_config("{\"engin\":{}}", NULL, O2E_INVALID_CONFIG, "unknown field `engin`");
    expect_config("{\"engine\":{\"colour\":1}}", NULL, O2E_INVALID_CONFIG, "unknown field `colour`");
    expect_config("{\"engine\":{\"grants\":[{\"type\":\"client_credentials\",\"ttl\":1}]}}", NULL,
                  O2E_INVALID_CONFIG, "unknown field `ttl`");
    expect_config("{\"storage\":{\"type\":\"memory\",\"path\":\"/x\"}}", NULL, O2E_INVALID_CONFIG,
                  "unknown field `path`");
    expect_config("{\"storage\":{\"type\":\"memory\",\"clients\":[{\"client_id\":\"a\",\"secret\":\"s\"}]}}",
                  NULL, O2E_INVALID_CONFIG, "unknown field `secret`");
    expect_config("{\"storage\":{\"type\":\"callbacks\",\"x\":1}}", NULL, O2E_INVALID_CONFIG,
                  "unknown field `x`");
    expect_config("{\"storage\":{\"type\":\"floppy\"}}", NULL, O2E_INVALID_CONFIG,
                  "unknown storage type \"floppy\"");
    /* Well-formed but not runnable. */
    expect_config("{\"engine\":{\"grants\":[{\"type\":\"password\"}]}}", NULL, O2E_INVALID_CONFIG,
                  "oauth2.1");
    expect_config("{\"engine\":{\"grants\":[{\"type\":\"authorization_code\"}]}}", NULL,
                  O2E_INVALID_CONFIG, "site adapter");
    expect_config("{\"storage\":{\"type\":\"memory\",\"clients\":[{\"client_id\":\"a\"},{\"client_id\":\"a\"}]}}",
                  NULL, O2E_INVALID_CONFIG, "twice");
    expect_config("{\"storage\":{\"type\":\"callbacks\"}}", NULL, O2E_INVALID_CONFIG,
                  "no callbacks");

    o2e_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.abi_version = 99;
    cb.free_userdata = count_free;
    expect_config("{}", &cb, O2E_ABI_MISMATCH, "abi_version is 99");
    cb.abi_version = O2E_CALLBACKS_ABI_VERSION;
    expect_config("{\"storage\":{\"type\":\"callbacks\"}}", &cb, O2E_INVALID_CONFIG,
                  "fetch_client, save_token");
    store_t *s = store_new(CLIENTS);
    store_install(s, &cb);
    expect_config("{}", &cb, O2E_INVALID_CONFIG, "storage callbacks are set");
    cb.authenticate_password = null_auth;
    cb.authenticate = NULL;
    expect_config("{\"engine\":{\"grants\":[{\"type\":\"authorization_code\"}]},\"storage\":{\"type\":\"callbacks\"}}",
                  &cb, O2E_INVALID_CONFIG, "authenticate callback");
    /* A failed o2e_engine_new leaves the userdata to the host. */
    CHECK(freed == 0, "free_userdata ran for a refused configuration");
    store_free(s);
}

static void requests(void) {
    static const char cfg[] =
        "{\"engine\":{\"max_body_bytes\":1024,\"grants\":[{\"type\":\"client_credentials\"}]},"
        "\"storage\":{\"type\":\"memory\",\"clients\":[{\"client_id\":\"svc\",\"client_secret\":\"s\"}]}}";
    o2e_engine *e;
    expect_status(new_engine(cfg, NULL, &e), O2E_OK, "engine");
    const char *ok = "{\"method\":\"GET\",\"path\":\"/\"}";

    /* NULL pointers. */
    o2e_buf *out = (o2e_buf *)1;
    expect_status(o2e_engine_handle(NULL, ok, strlen(ok), NULL, &out), O2E_NULL_ARGUMENT, "NULL engine");
    CHECK(out == NULL, "out cleared");
    expect_status(o2e_engine_handle(e, NULL, 3, NULL, &out), O2E_NULL_ARGUMENT, "NULL request");
    expect_status(o2e_engine_handle(e, ok, strlen(ok), NULL, NULL), O2E_NULL_ARGUMENT, "NULL out");
    o2e_buf_free(NULL);
    o2e_engine_free(NULL);
    expect_status(o2e_sink_write(NULL, "x", 1), O2E_NULL_ARGUMENT, "NULL sink");
    expect_status(o2e_json_get(NULL, 1, "/a", &out), O2E_NULL_ARGUMENT, "json_get NULL json");
    expect_status(o2e_json_get("{}", 2, NULL, &out), O2E_NULL_ARGUMENT, "json_get NULL pointer");
    expect_status(o2e_json_get("{}", 2, "/a", NULL), O2E_NULL_ARGUMENT, "json_get NULL out");
    expect_status(o2e_json_get("{", 1, "/a", &out), O2E_INVALID_JSON, "json_get bad JSON");
    expect_status(o2e_json_get("\"\xff\"", 3, "", &out), O2E_INVALID_UTF8, "json_get bad UTF-8");
    CHECK(strcmp(o2e_status_name(12345), "O2E_UNKNOWN_STATUS") == 0, "unknown status name");
    CHECK(strcmp(o2e_status_name(O2E_PANIC), "O2E_PANIC") == 0, "status name");

    /* Invalid UTF-8 (in a string, and a lone continuation byte outside one). */
    expect_request(e, "{\"method\":\"POST\",\"path\":\"/token\",\"body\":\"a=\xc3\x28\"}",
                   O2E_INVALID_UTF8, "UTF-8");
    expect_request(e, "{\"method\":\"GET\",\"path\":\"/\"}\x80", O2E_INVALID_UTF8, "UTF-8");
    /* Embedded NUL with an honest length: well-formed UTF-8, not JSON. */
    expect_status(handle_raw(e, "{\"method\0", 10), O2E_INVALID_JSON, "embedded NUL");
    /* Malformed JSON. */
    expect_request(e, "", O2E_INVALID_JSON, "EOF");
    expect_request(e, "{\"method\":\"GET\",", O2E_INVALID_JSON, "EOF");
    expect_request(e, "{\"method\":\"GET\" \"path\":\"/\"}", O2E_INVALID_JSON, "expected");
    expect_request(e, "{\"method\":\"GET\",\"path\":\"/\"}}", O2E_INVALID_JSON, "trailing");
    expect_request(e, "{\"method\":\"GET\",\"path\":\"\\ud800\"}", O2E_INVALID_JSON, "escape");
    /* Wrongly typed and missing. */
    expect_request(e, "[]", O2E_INVALID_REQUEST, "request_json");
    expect_request(e, "\"GET /\"", O2E_INVALID_REQUEST, "request_json");
    expect_request(e, "{\"method\":1,\"path\":\"/\"}", O2E_INVALID_REQUEST, "invalid type");
    expect_request(e, "{\"path\":\"/\"}", O2E_INVALID_REQUEST, "missing field `method`");
    expect_request(e, "{\"method\":\"GET\"}", O2E_INVALID_REQUEST, "missing field `path`");
    expect_request(e, "{\"method\":\"GET\",\"path\":\"/\",\"headers\":5}", O2E_INVALID_REQUEST, "pairs");
    expect_request(e, "{\"method\":\"GET\",\"path\":\"/\",\"headers\":[[\"A\"]]}", O2E_INVALID_REQUEST,
                   "pair");
    expect_request(e, "{\"method\":\"GET\",\"path\":\"/\",\"headers\":{\"A\":[1]}}", O2E_INVALID_REQUEST,
                   "string");
    expect_request(e, "{\"method\":\"GET\",\"path\":\"/\",\"body\":{}}", O2E_INVALID_REQUEST, "string");
    /* Unknown field. */
    expect_request(e, "{\"method\":\"GET\",\"path\":\"/\",\"cookies\":\"x\"}", O2E_INVALID_REQUEST,
                   "unknown field `cookies`");
    /* Too large to even read (the length is refused before the bytes are looked at). */
    size_t huge = (size_t)64 * 1024 * 1024 + 1;
    char *big = malloc(huge);
    CHECK(big != NULL, "out of memory");
    memset(big, ' ', huge);
    expect_status(handle_raw(e, big, huge), O2E_TOO_LARGE, "64 MiB request");
    free(big);

    /* Nulls where optional fields are allowed, headers as an object: fine. */
    const char *nulls = "{\"method\":\"GET\",\"path\":\"/\",\"query\":null,\"headers\":null,\"body\":null}";
    expect_status(handle_raw(e, nulls, strlen(nulls)), O2E_OK, "nulls");

    /* An oversized body is an OAuth error, not a failed call. */
    size_t n = 4096;
    char *body = malloc(n + 1);
    CHECK(body != NULL, "out of memory");
    memcpy(body, "grant_type=client_credentials&client_id=svc&client_secret=s&pad=", 64);
    memset(body + 64, 'x', n - 64);
    body[n] = 0;
    resp_t *r = post_form(e, NULL, "/token", body);
    expect_error(r, 400, "invalid_request");
    CHECK(strstr(r->body, "too large"), "oversized body: %s", r->body);
    resp_free(r);
    free(body);
    /* Odd but valid requests are protocol errors, answered normally. */
    r = req(e, NULL, "GET", "/token", NULL, NULL, NULL);
    expect_error(r, 400, "invalid_request");
    resp_free(r);
    r = post_form(e, NULL, "/token", "grant_type=client_credentials&client_id=svc&client_secret=s&client_id=svc");
    expect_error(r, 400, "invalid_request");
    resp_free(r);
    r = post_form(e, NULL, "/token", "grant_type=client_credentials&client_id=%ZZ");
    CHECK(r->status == 400, "bad percent-encoding: %s", r->json);
    resp_free(r);
    r = post_form(e, NULL, "/token", "grant_type=\xc3\xa9&client_id=svc&client_secret=s");
    expect_error(r, 400, "unsupported_grant_type");
    resp_free(r);
    r = req(e, NULL, "POST", "/token", "",
            "[[\"Content-Type\",\"application/x-www-form-urlencoded\"],[\"Authorization\",\"Basic !!!\"]]",
            "grant_type=client_credentials");
    CHECK(r->status == 400 || r->status == 401, "garbage Basic header: %s", r->json);
    resp_free(r);
    r = post_form(e, NULL, "/token", "grant_type=client_credentials&client_id=svc&client_secret=s");
    CHECK(r->status == 200, "engine still fine: %s", r->json);
    resp_free(r);
    o2e_engine_free(e);
}

int main(void) {
    configs();
    requests();
    callbacks_misbehaving();
    site_and_generator_misbehaving();
    bad_page();
    printf("bad_input: all checks passed\n");
    return 0;
}
