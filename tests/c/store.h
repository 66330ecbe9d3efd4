/* A small thread-safe store for the engine's callbacks, written in C the way a host would:
 * records kept as the JSON the engine hands over, indexed by the keys read out of them with
 * o2e_json_get. One mutex guards everything, which is what makes consume atomic. */
#ifndef O2E_TEST_STORE_H
#define O2E_TEST_STORE_H

#include <pthread.h>

#include "oauth2_engine.h"

enum op {
    OP_FETCH_CLIENT,
    OP_SAVE_CODE,
    OP_CONSUME_CODE,
    OP_SAVE_TOKEN,
    OP_FETCH_ACCESS,
    OP_FETCH_REFRESH,
    OP_CONSUME_REFRESH,
    OP_FETCH_EXISTING,
    OP_REVOKE_TOKEN,
    OP_REVOKE_FAMILY,
    OP_COUNT
};

typedef struct store store_t;

/* clients_json: a NULL-terminated array of client records (JSON), copied. */
store_t *store_new(const char *const *clients_json);
/* Adds a client record (JSON), replacing the one with the same client_id; 0, or -1 when the
 * record has no client_id or memory runs out. */
int store_put_client(store_t *s, const char *client_json);
/* Removes a client: 1 when there was one, 0 when not. */
int store_remove_client(store_t *s, const char *client_id);
void store_free(void *store); /* usable as free_userdata */
int store_calls(store_t *s, enum op op);
/* Fills every storage callback of cb and sets userdata to s. */
void store_install(store_t *s, o2e_callbacks *cb);

#endif
