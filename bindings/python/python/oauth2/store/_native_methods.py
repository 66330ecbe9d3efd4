"""python-oauth2's store methods on top of a native backend (shared by oauth2.store.memory and
oauth2.store.native). When a provider's store uses these methods as they are, the engine talks
to the backend directly and never calls them; they serve the application's own code."""

import json

from oauth2 import _support
from oauth2.error import AccessTokenNotFound, AuthCodeNotFound, ClientNotFoundError


def _hand_over(save, core):
    """Saves a record: its plain values cross as they are; anything else as json.dumps writes it
    (or refuses it)."""
    if not save(core):
        save(json.dumps(core))


class ClientMethods(object):
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


class TokenMethods(object):
    def save_code(self, authorization_code):
        _hand_over(self._save_code, _support.code_to_core(authorization_code))
        return True

    def fetch_by_code(self, code):
        found = self._peek_code(code)
        if found is None:
            raise AuthCodeNotFound
        return _support.code_from_core(json.loads(found))

    def delete_code(self, code):
        self._consume_code(code)

    def save_token(self, access_token):
        # Plain fields are read natively; anything else goes through token_to_core's rules.
        if not self._save_token_object(access_token):
            _hand_over(self._save_token, _support.token_to_core(access_token))
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


CLIENT_METHODS = ("fetch_by_client_id",)
CODE_METHODS = ("fetch_by_code", "save_code", "delete_code")
TOKEN_METHODS = ("save_token", "fetch_by_refresh_token", "delete_refresh_token",
                 "fetch_existing_token_of_user", "fetch_by_token")


def is_native(store, mixin, methods):
    """True when the engine may use the store's backend directly: the object is native and
    overrides none of the methods the engine would otherwise call."""
    from oauth2 import _engine
    if not isinstance(store, _engine.NativeStore):
        return False
    cls = type(store)
    return all(getattr(cls, m, None) is getattr(mixin, m) for m in methods)
