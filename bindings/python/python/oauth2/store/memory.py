"""In-memory stores: the engine's native (Rust, sharded, thread-safe) memory store.

When a provider uses these classes as they are, requests never call into Python for storage.
Their Python methods keep python-oauth2's behaviour and return ``oauth2.datatype`` objects.
A subclass that overrides one of the store methods is called through Python instead, so the
override is honoured.
"""

from oauth2 import _engine
from oauth2.store import AccessTokenStore, AuthCodeStore
from oauth2.store import ClientStore as ClientStoreBase
from oauth2.store._native_methods import ClientMethods, TokenMethods


class ClientStore(_engine.NativeStore, ClientMethods, ClientStoreBase):
    """Registered clients."""


class TokenStore(_engine.NativeStore, TokenMethods, AccessTokenStore, AuthCodeStore):
    """Authorization codes, access tokens and refresh tokens."""
