"""python-oauth2's MongoDB stores, on PyMongo 4 (``insert_one``, ``delete_one``,
``find_one_and_delete``; 1.1.1 used ``insert``/``remove``, which PyMongo 4 removed).

Each store takes one collection::

    db = pymongo.MongoClient("mongodb://127.0.0.1:27017")["oauth"]
    tokens = AccessTokenStore(db["access_tokens"])
    codes = AuthCodeStore(db["auth_codes"])
    clients = ClientStore(db["clients"])

Documents keep python-oauth2's fields: tokens ``client_id, grant_type, token, data,
expires_at, refresh_token, refresh_expires_at, scopes, user_id``; codes ``client_id, code,
expires_at, redirect_uri, scopes, data, user_id`` (plus ``code_challenge`` and
``code_challenge_method`` when PKCE was used); clients ``identifier, secret, redirect_uris,
authorized_grants, authorized_response_types``. Differences from 1.1.1 (docs/migration.md):

- ``fetch_by_refresh_token`` keeps the token's ``user_id`` (1.1.1 dropped it, B9);
- ``consume_code``/``consume_refresh_token`` take a document with one ``find_one_and_delete``,
  so of concurrent redemptions exactly one gets it;
- ``ClientStore.add_client`` exists (1.1.1 had none).

Recommended indexes (not created here; the application owns its database): ``code`` on the
code collection, ``token``, ``refresh_token`` and ``(client_id, grant_type, user_id)`` on the
token collection, ``identifier`` on the client collection; a TTL index on a date field if
expired documents should vanish by themselves (times here are epoch integers, as in 1.1.1).
"""

import pymongo

from oauth2.datatype import AccessToken, AuthorizationCode, Client
from oauth2.error import AccessTokenNotFound, AuthCodeNotFound, ClientNotFoundError
from oauth2.store import AccessTokenStore as AccessTokenStoreBase
from oauth2.store import AuthCodeStore as AuthCodeStoreBase
from oauth2.store import ClientStore as ClientStoreBase

_TOKEN_FIELDS = ("client_id", "grant_type", "token", "data", "expires_at", "refresh_token",
                 "refresh_expires_at", "scopes", "user_id")
_CODE_FIELDS = ("client_id", "code", "expires_at", "redirect_uri", "scopes", "data", "user_id")
_CODE_EXTRA = ("code_challenge", "code_challenge_method")


def token_to_document(access_token):
    return {name: getattr(access_token, name) for name in _TOKEN_FIELDS}


def token_from_document(doc):
    """Every field, user_id included (1.1.1 left it out of refreshed tokens, B9)."""
    fields = {name: doc.get(name) for name in _TOKEN_FIELDS}
    fields["data"] = fields["data"] or {}
    fields["scopes"] = list(fields["scopes"] or [])
    return AccessToken(**fields)


def code_to_document(authorization_code):
    doc = {name: getattr(authorization_code, name) for name in _CODE_FIELDS}
    extra = getattr(authorization_code, "__dict__", {})
    for name in _CODE_EXTRA:
        if extra.get(name) is not None:
            doc[name] = extra[name]
    return doc


def code_from_document(doc):
    fields = {name: doc.get(name) for name in _CODE_FIELDS}
    fields.update((name, doc[name]) for name in _CODE_EXTRA if doc.get(name) is not None)
    return AuthorizationCode(**fields)


def client_from_document(doc):
    return Client(identifier=doc["identifier"], secret=doc.get("secret"),
                  redirect_uris=doc.get("redirect_uris"),
                  authorized_grants=doc.get("authorized_grants"),
                  authorized_response_types=doc.get("authorized_response_types"))


class MongodbStore(object):
    def __init__(self, collection):
        self.collection = collection


class AccessTokenStore(AccessTokenStoreBase, MongodbStore):
    def save_token(self, access_token):
        self.collection.insert_one(token_to_document(access_token))
        return True

    def fetch_by_token(self, token):
        doc = self.collection.find_one({"token": token})
        if doc is None:
            raise AccessTokenNotFound
        return token_from_document(doc)

    def fetch_by_refresh_token(self, refresh_token):
        doc = self.collection.find_one({"refresh_token": refresh_token})
        if doc is None:
            raise AccessTokenNotFound
        return token_from_document(doc)

    def delete_refresh_token(self, refresh_token):
        self.collection.delete_many({"refresh_token": refresh_token})

    def consume_refresh_token(self, refresh_token):
        doc = self.collection.find_one_and_delete({"refresh_token": refresh_token})
        if doc is None:
            raise AccessTokenNotFound
        return token_from_document(doc)

    def fetch_existing_token_of_user(self, client_id, grant_type, user_id):
        doc = self.collection.find_one(
            {"client_id": client_id, "grant_type": grant_type, "user_id": user_id},
            sort=[("expires_at", pymongo.DESCENDING)])
        if doc is None:
            raise AccessTokenNotFound
        return token_from_document(doc)


class AuthCodeStore(AuthCodeStoreBase, MongodbStore):
    def save_code(self, authorization_code):
        self.collection.insert_one(code_to_document(authorization_code))
        return True

    def fetch_by_code(self, code):
        doc = self.collection.find_one({"code": code})
        if doc is None:
            raise AuthCodeNotFound
        return code_from_document(doc)

    def delete_code(self, code):
        self.collection.delete_many({"code": code})

    def consume_code(self, code):
        doc = self.collection.find_one_and_delete({"code": code})
        if doc is None:
            raise AuthCodeNotFound
        return code_from_document(doc)


class ClientStore(ClientStoreBase, MongodbStore):
    def add_client(self, client_id, client_secret, redirect_uris, authorized_grants=None,
                   authorized_response_types=None):
        self.collection.replace_one(
            {"identifier": client_id},
            {"identifier": client_id, "secret": client_secret,
             "redirect_uris": list(redirect_uris),
             "authorized_grants": None if authorized_grants is None else list(authorized_grants),
             "authorized_response_types": None if authorized_response_types is None
             else list(authorized_response_types)},
            upsert=True)
        return True

    def fetch_by_client_id(self, client_id):
        doc = self.collection.find_one({"identifier": client_id})
        if doc is None:
            raise ClientNotFoundError
        return client_from_document(doc)
