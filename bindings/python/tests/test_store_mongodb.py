"""oauth2.store.mongodb WITHOUT a MongoDB server.

No MongoDB-compatible server can be installed on this machine: Debian has no MongoDB server
package, the mongodb-memory-server style packages on PyPI and npm download server binaries at
run time (the network reaches only the package registries), and FerretDB needs a newer Go
toolchain than Debian's. So the store's database calls are NOT exercised against a database
here, and no test pretends otherwise: these tests cover what needs no server (the documents it
writes and reads, and that it only calls collection methods PyMongo 4 has). The module must
be tried against a real MongoDB before production use (docs/storage.md)."""

import inspect
import re

import pymongo
import pymongo.collection

import oauth2.store.mongodb as m
from oauth2.datatype import AccessToken, AuthorizationCode


def test_calls_only_collection_methods_pymongo_4_has():
    """B9's second half: 1.1.1 called insert/remove, which PyMongo 4 removed."""
    assert int(pymongo.version.split(".")[0]) >= 4
    called = set(re.findall(r"self\.collection\.(\w+)\(", inspect.getsource(m)))
    assert called == {"insert_one", "find_one", "delete_many", "find_one_and_delete",
                      "replace_one"}
    for name in called:
        assert callable(getattr(pymongo.collection.Collection, name))
    for gone in ("insert", "remove"):
        assert not hasattr(pymongo.collection.Collection, gone)


def test_token_documents_keep_user_id():
    """B9: 1.1.1's fetch_by_refresh_token rebuilt tokens without user_id."""
    token = AccessToken("abc", "authorization_code", "t", data={"who": "alice"},
                        expires_at=100, refresh_token="r", refresh_expires_at=200,
                        scopes=["read"], user_id=42)
    doc = m.token_to_document(token)
    assert sorted(doc) == sorted(token.__dict__)
    doc["_id"] = "an ObjectId"  # what find_one hands back besides the fields
    back = m.token_from_document(doc)
    assert back.__dict__ == token.__dict__


def test_documents_written_by_python_oauth2_load():
    old = {"_id": 1, "client_id": "abc", "grant_type": "password", "token": "t", "data": None,
           "expires_at": None, "refresh_token": None, "refresh_expires_at": None,
           "scopes": None, "user_id": 9}
    t = m.token_from_document(old)
    assert (t.data, t.scopes, t.user_id) == ({}, [], 9)
    code = {"_id": 2, "client_id": "abc", "code": "c", "expires_at": 5, "redirect_uri": "u",
            "scopes": ["read"], "data": {"a": "b"}, "user_id": 3}
    c = m.code_from_document(code)
    assert (c.code, c.scopes, c.data, c.user_id, c.code_challenge) == (
        "c", ["read"], {"a": "b"}, 3, None)
    client = m.client_from_document({"_id": 3, "identifier": "abc", "secret": "s",
                                     "redirect_uris": ["u"], "authorized_grants": None,
                                     "authorized_response_types": ["code"]})
    assert client.response_type_supported("code") and not client.response_type_supported("token")
    assert client.grant_type_supported("password")


def test_code_documents_carry_pkce_only_when_used():
    plain = AuthorizationCode("abc", "c", 5, "u", ["read"], data={}, user_id=1)
    assert sorted(m.code_to_document(plain)) == sorted(
        ["client_id", "code", "expires_at", "redirect_uri", "scopes", "data", "user_id"])
    pkce = AuthorizationCode("abc", "c", 5, "u", [], code_challenge="x" * 43,
                             code_challenge_method="S256")
    back = m.code_from_document(m.code_to_document(pkce))
    assert (back.code_challenge, back.code_challenge_method) == ("x" * 43, "S256")
