/* Lets store.c and common.c run inside a shared object that a Rust test loads with dlopen
 * (tests/store_contract.rs runs the storage contract against the C store this way).
 *
 * The test binary links the engine as a Rust library and does not export its o2e_ functions to
 * shared objects, and a second copy of the library (the cdylib) would be no good: o2e_sink_write
 * must write into the sink of the very engine code that calls the callback. So this file
 * defines the o2e_ functions that store.c and common.c call, forwarding each to the address the
 * loader passes to o2e_glue_bind before it calls anything else. */
#include <stdlib.h>

#include "oauth2_engine.h"

/* Filled by the loader with the engine's own functions; field order is the Rust side's. */
struct o2e_glue {
    const char *(*status_name)(int status);
    const char *(*last_error)(void);
    enum o2e_status (*engine_handle)(const struct o2e_engine *engine, const char *request_json,
                                     size_t len, void *call_ctx, struct o2e_buf **out);
    void (*buf_free)(struct o2e_buf *buf);
    enum o2e_status (*json_get)(const char *json, size_t len, const char *pointer,
                                struct o2e_buf **out);
    enum o2e_status (*sink_write)(struct o2e_sink *sink, const char *data, size_t len);
};

static struct o2e_glue glue;

void o2e_glue_bind(const struct o2e_glue *g);

void o2e_glue_bind(const struct o2e_glue *g) { glue = *g; }

/* Called before binding, these would jump to NULL: abort instead, loudly. */
#define FORWARD(f) (glue.f ? glue.f : (abort(), glue.f))

const char *o2e_status_name(int status) { return FORWARD(status_name)(status); }

const char *o2e_last_error(void) { return FORWARD(last_error)(); }

enum o2e_status o2e_engine_handle(const struct o2e_engine *engine, const char *request_json,
                                  size_t len, void *call_ctx, struct o2e_buf **out) {
    return FORWARD(engine_handle)(engine, request_json, len, call_ctx, out);
}

void o2e_buf_free(struct o2e_buf *buf) { FORWARD(buf_free)(buf); }

enum o2e_status o2e_json_get(const char *json, size_t len, const char *pointer,
                             struct o2e_buf **out) {
    return FORWARD(json_get)(json, len, pointer, out);
}

enum o2e_status o2e_sink_write(struct o2e_sink *sink, const char *data, size_t len) {
    return FORWARD(sink_write)(sink, data, len);
}
