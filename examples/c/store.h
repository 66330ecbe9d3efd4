/* An in-memory store for the example server: the storage callbacks of o2e_callbacks, in C.
 * Records are kept as the JSON the engine hands over, indexed by keys read out of them with
 * o2e_json_get; one mutex guards everything, which is what makes "consume" atomic. */
#ifndef DEMO_STORE_H
#define DEMO_STORE_H

#include "oauth2_engine.h"

typedef struct demo_store demo_store;

/* clients: NULL-terminated array of client records (JSON), not copied: keep them alive. */
demo_store *demo_store_new(const char *const *clients);
/* Frees the store (usable as o2e_callbacks.free_userdata). */
void demo_store_free(void *store);
/* Sets cb->userdata and every storage callback. */
void demo_store_install(demo_store *s, o2e_callbacks *cb);

/* o2e_json_get as a malloc'd C string; NULL when absent, null, or on error. */
char *demo_json_get(const char *json, size_t len, const char *pointer);

#endif
