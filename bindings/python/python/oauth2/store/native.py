"""The engine's storage backends as python-oauth2 stores: one object serves as client store,
auth-code store and access-token store (pass it for all three ``Provider`` arguments).

- ``MemoryStore()``: this process's memory.
- ``SqliteStore(path, busy_timeout_ms=5000, pool_size=8, synchronous="full")``: one SQLite file,
  shared by the processes of a host, surviving restarts.
- ``RedisStore(url, prefix="oauth2:", pool_size=16, connect_timeout_ms=1000, timeout_ms=1000)``:
  a Redis server shared by every process and host.

The options are those of docs/storage.md. Requests never call into Python for storage: the
engine uses the backend directly (with the GIL released on SQLite and Redis, which wait on
I/O; the memory store's work is shorter than a GIL hand-over). Codes and refresh tokens are taken
atomically, expired records are purged (SQLite/memory) or expire by themselves (Redis).
"""

import json

from oauth2 import _engine
from oauth2.store import AccessTokenStore, AuthCodeStore, ClientStore
from oauth2.store._native_methods import ClientMethods, TokenMethods


class Store(_engine.NativeStore, ClientMethods, TokenMethods, ClientStore, AccessTokenStore,
            AuthCodeStore):
    """A native backend; see the subclasses. ``fetch_by_code`` works on the memory backend
    only: SQLite and Redis cannot read a code without using it up."""

    backend = None

    def __new__(cls, *args, **options):
        config = cls._backend_config(*args, **options)
        return super(Store, cls).__new__(cls, _backend=json.dumps(config))

    def __init__(self, *args, **options):
        pass

    @classmethod
    def _backend_config(cls, **options):
        return dict(options, type="memory")


class MemoryStore(Store):
    pass


class SqliteStore(Store):
    @classmethod
    def _backend_config(cls, path, **options):
        return dict(options, type="sqlite", path=str(path))


class RedisStore(Store):
    @classmethod
    def _backend_config(cls, url, **options):
        return dict(options, type="redis", url=url)
