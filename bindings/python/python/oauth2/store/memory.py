"""In-memory stores: the engine's native (Rust, sharded, thread-safe) memory store.

When a provider uses these classes as they are, requests never call into Python for storage.
Their Python methods keep python-oauth2's behaviour and return ``oauth2.datatype`` objects.
A subclass that overrides one of the store methods is called through Python instead, so the
override is honoured.
"""

import json

from oauth2 import _engine, _support
from oauth2.error import AccessTokenNotFound, AuthCodeNotFound, ClientNotFoundError
from oauth2.store import AccessTokenStore, AuthCodeStore
from oauth2.store import ClientStore as ClientStoreBase


class ClientStore(_engine.NativeStore, ClientStoreBase):
    """Registered clients."""

    def add_client(self, client_id, client_secret, redirect_uris, authorized_grants=None,
                   authorized_response_types=None):
        self._add_client(client_id, client_secret, list(redirect_uris),
                         None if authorized_grants is None else list(authorized_grants),
                         None if authorized_response_types is None
                         else list(authorized_response_types))
        return True

    def remove_client(self, client_id):
        return self._remove_client(client_id)

    def fetch_by_client_id(self, client_id):
        found = self._fetch_client(client_id)
        if found is None:
            raise ClientNotFoundError
        return _support.client_from_core(json.loads(found))


class TokenStore(_engine.NativeStore, AccessTokenStore, AuthCodeStore):
    """Authorization codes, access tokens and refresh tokens."""

    def save_code(self, authorization_code):
        self._save_code(json.dumps(_support.code_to_core(authorization_code)))
        return True

    def fetch_by_code(self, code):
        found = self._peek_code(code)
        if found is None:
            raise AuthCodeNotFound
        return _support.code_from_core(json.loads(found))

    def delete_code(self, code):
        self._consume_code(code)

    def save_token(self, access_token):
        self._save_token(json.dumps(_support.token_to_core(access_token)))
        return True

    def fetch_by_token(self, token):
        found = self._fetch_by_token(token)
        if found is None:
            raise AccessTokenNotFound
        return _support.token_from_core(json.loads(found))

    def fetch_by_refresh_token(self, refresh_token):
        found = self._fetch_by_refresh_token(refresh_token)
        if found is None:
            raise AccessTokenNotFound
        return _support.token_from_core(json.loads(found))

    def delete_refresh_token(self, refresh_token):
        self._consume_refresh_token(refresh_token)

    def fetch_existing_token_of_user(self, client_id, grant_type, user_id):
        found = self._fetch_existing_token_of_user(client_id, grant_type, json.dumps(user_id))
        if found is None:
            raise AccessTokenNotFound
        return _support.token_from_core(json.loads(found))

    def revoke_token(self, token):
        self._revoke_token(token)

    def purge_expired(self, now):
        self._purge_expired(int(now))
