/* One engine, 8 threads, ITERS requests each (10 000 by default; O2E_THREAD_ITERS overrides it,
 * which valgrind.sh uses because valgrind serialises threads and runs ~50x slower).
 *
 * Each thread repeats a block of four requests: issue a code, redeem its own code, redeem its
 * neighbour's code, and a client-credentials request. So every code is redeemed by two threads
 * racing for it; exactly one must win (R17: atomic consume) and the other get invalid_grant.
 * At the end every access and refresh token issued must be distinct. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "common.h"

#define THREADS 8

static const char CONFIG[] =
    "{\"engine\":{\"grants\":["
    "{\"type\":\"authorization_code\"},{\"type\":\"client_credentials\"},{\"type\":\"refresh_token\"}]},"
    "\"storage\":{\"type\":\"memory\",\"clients\":["
    "{\"client_id\":\"web\",\"client_secret\":\"web-secret\",\"redirect_uris\":[\"https://client.example/cb\"]},"
    "{\"client_id\":\"svc\",\"client_secret\":\"svc-secret\",\"grant_types\":[\"client_credentials\"]}]}}";

static o2e_engine *engine;
static int blocks; /* ITERS / 4 */
static char **codes[THREADS];
static int *published[THREADS];
static int *wins[THREADS];
static int *losses[THREADS];

typedef struct worker {
    int id;
    char **tokens;
    size_t ntokens;
} worker_t;

static int authenticate(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    (void)ud;
    (void)in;
    (void)len;
    if (ctx == NULL) return O2E_CB_ERROR;
    char buf[64];
    snprintf(buf, sizeof buf, "{\"user_id\":\"user-%d\"}", ((worker_t *)ctx)->id);
    return sink_puts(out, buf) ? O2E_CB_ERROR : O2E_CB_OK;
}

static void keep(worker_t *w, char *token) {
    CHECK(token != NULL, "missing token");
    w->tokens[w->ntokens++] = token;
}

static void redeem(worker_t *w, int owner, int k) {
    while (!__atomic_load_n(&published[owner][k], __ATOMIC_ACQUIRE)) sched_yield();
    char *f = fmt("grant_type=authorization_code&code=%s&code_verifier=" PKCE_VERIFIER
                  "&client_id=web&client_secret=web-secret",
                  codes[owner][k]);
    resp_t *r = post_form(engine, w, "/token", f);
    free(f);
    if (r->status == 200) {
        __atomic_add_fetch(&wins[owner][k], 1, __ATOMIC_RELAXED);
        keep(w, body_field(r, "access_token"));
        keep(w, body_field(r, "refresh_token"));
    } else {
        char *err = body_field(r, "error");
        CHECK(r->status == 400 && err && strcmp(err, "invalid_grant") == 0, "loser got %s", r->json);
        free(err);
        __atomic_add_fetch(&losses[owner][k], 1, __ATOMIC_RELAXED);
    }
    resp_free(r);
}

static void *run(void *arg) {
    worker_t *w = arg;
    int t = w->id;
    for (int k = 0; k < blocks; k++) {
        resp_t *r = req(engine, w, "GET", "/authorize",
                        "response_type=code&client_id=web&code_challenge=" PKCE_CHALLENGE
                        "&code_challenge_method=S256",
                        NULL, NULL);
        char *loc = resp_header(r, "Location");
        CHECK(r->status == 302 && loc, "authorize: %s", r->json);
        codes[t][k] = url_param(loc, "code");
        CHECK(codes[t][k] != NULL, "no code in %s", loc);
        free(loc);
        resp_free(r);
        __atomic_store_n(&published[t][k], 1, __ATOMIC_RELEASE);

        redeem(w, t, k);
        redeem(w, (t + 1) % THREADS, k);

        r = post_form(engine, w, "/token",
                      "grant_type=client_credentials&client_id=svc&client_secret=svc-secret");
        CHECK(r->status == 200, "client_credentials: %s", r->json);
        keep(w, body_field(r, "access_token"));
        resp_free(r);
    }
    return NULL;
}

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void) {
    int iters = 10000;
    const char *env = getenv("O2E_THREAD_ITERS");
    if (env) iters = atoi(env);
    CHECK(iters >= 4 && iters % 4 == 0, "O2E_THREAD_ITERS must be a positive multiple of 4");
    blocks = iters / 4;

    o2e_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.abi_version = O2E_CALLBACKS_ABI_VERSION;
    cb.authenticate = authenticate;
    o2e_status st = o2e_engine_new(CONFIG, strlen(CONFIG), &cb, &engine);
    CHECK(st == O2E_OK, "engine_new: %s", o2e_last_error());

    worker_t workers[THREADS];
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        codes[t] = calloc((size_t)blocks, sizeof(char *));
        published[t] = calloc((size_t)blocks, sizeof(int));
        wins[t] = calloc((size_t)blocks, sizeof(int));
        losses[t] = calloc((size_t)blocks, sizeof(int));
        workers[t].id = t;
        workers[t].ntokens = 0;
        /* Per block: at most 2 tokens from each of two redemptions, and 1 client-credentials. */
        workers[t].tokens = calloc((size_t)blocks * 5, sizeof(char *));
        CHECK(codes[t] && published[t] && wins[t] && losses[t] && workers[t].tokens, "out of memory");
    }
    for (int t = 0; t < THREADS; t++) CHECK(pthread_create(&th[t], NULL, run, &workers[t]) == 0, "spawn");
    for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);

    size_t total = 0;
    for (int t = 0; t < THREADS; t++) total += workers[t].ntokens;
    char **all = malloc(total * sizeof(char *));
    CHECK(all != NULL, "out of memory");
    size_t n = 0;
    for (int t = 0; t < THREADS; t++)
        for (size_t i = 0; i < workers[t].ntokens; i++) all[n++] = workers[t].tokens[i];
    /* Every code won once and lost once: 2 tokens per code plus 1 client-credentials token. */
    CHECK(total == (size_t)THREADS * (size_t)blocks * 3, "%zu tokens issued", total);
    qsort(all, n, sizeof(char *), cmp);
    for (size_t i = 1; i < n; i++) CHECK(strcmp(all[i - 1], all[i]) != 0, "token issued twice: %s", all[i]);
    for (int t = 0; t < THREADS; t++)
        for (int k = 0; k < blocks; k++)
            CHECK(wins[t][k] == 1 && losses[t][k] == 1, "code %d/%d: %d wins, %d losses", t, k,
                  wins[t][k], losses[t][k]);
    /* Codes themselves are distinct too. */
    char **cs = malloc((size_t)THREADS * (size_t)blocks * sizeof(char *));
    CHECK(cs != NULL, "out of memory");
    size_t nc = 0;
    for (int t = 0; t < THREADS; t++)
        for (int k = 0; k < blocks; k++) cs[nc++] = codes[t][k];
    qsort(cs, nc, sizeof(char *), cmp);
    for (size_t i = 1; i < nc; i++) CHECK(strcmp(cs[i - 1], cs[i]) != 0, "code issued twice");

    printf("threads: %d threads x %d requests, %zu distinct tokens, %zu codes each redeemed once\n",
           THREADS, iters, n, nc);
    for (size_t i = 0; i < n; i++) free(all[i]);
    free(all);
    free(cs);
    for (int t = 0; t < THREADS; t++) {
        for (int k = 0; k < blocks; k++) free(codes[t][k]);
        free(codes[t]);
        free(published[t]);
        free(wins[t]);
        free(losses[t]);
        free(workers[t].tokens);
    }
    o2e_engine_free(engine);
    return 0;
}
