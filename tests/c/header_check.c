/* Compiled as C99 and as C++ by tests/capi_header.rs with -Wall -Wextra -Werror -pedantic:
 * the header must be usable from both, and every declaration is touched once. */
#include "oauth2_engine.h"

static int cb(void *ud, void *ctx, const char *in, size_t len, o2e_sink *out) {
    (void)ud;
    (void)ctx;
    return o2e_sink_write(out, in, len) == O2E_OK ? O2E_CB_OK : O2E_CB_ERROR;
}

static void log_cb(void *ud, void *ctx, int level, const char *msg, size_t len) {
    (void)ud;
    (void)ctx;
    (void)level;
    (void)msg;
    (void)len;
}

int main(void) {
    static const char cfg[] = "{\"storage\":{\"type\":\"callbacks\"}}";
    o2e_callbacks c = {O2E_CALLBACKS_ABI_VERSION, 0, 0, cb, cb, cb, cb, cb, cb, cb, cb, cb, cb,
                       cb, cb, cb, cb, cb, log_cb};
    o2e_engine *e = 0;
    o2e_buf *b = 0;
    int failures = 0;
    failures += o2e_engine_new(cfg, sizeof cfg - 1, &c, &e) != O2E_OK;
    failures += o2e_engine_handle(e, "{}", 2, 0, &b) != O2E_INVALID_REQUEST;
    failures += b != 0;
    failures += o2e_last_error()[0] == 0;
    o2e_engine_free(e);
    failures += o2e_json_get("{\"a\":[1]}", 9, "/a", &b) != O2E_OK;
    failures += b == 0 || b->len != 3 || b->data[3] != 0;
    o2e_buf_free(b);
    failures += o2e_version()[0] != '0' + O2E_VERSION_MAJOR;
    failures += o2e_status_name(O2E_OK)[0] != 'O';
    failures += O2E_VERSION_MINOR + O2E_VERSION_PATCH < 0;
    failures += O2E_CB_UNAVAILABLE == O2E_CB_ERROR || O2E_LOG_ERROR == 0;
    return failures;
}
