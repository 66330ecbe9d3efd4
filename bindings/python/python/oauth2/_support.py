"""Helpers the native engine calls: conversions between the core's JSON records and
``oauth2.datatype`` objects, and python-oauth2's calling conventions for user objects.

Every function here runs with the GIL held, called from the engine; an exception it lets out is
logged on ``oauth2.application`` (with its traceback) and answered with ``server_error``.
"""

import inspect
import io
import json
import threading

from oauth2.datatype import AccessToken, AuthorizationCode, Client
from oauth2.error import (AccessTokenNotFound, AuthCodeNotFound, ClientNotFoundError,
                          OAuthInvalidError)
from oauth2.log import app_log

_GRANTS = ("authorization_code", "implicit", "password", "client_credentials", "refresh_token")
_RESPONSE_TYPES = ("code", "token")


# --- records ------------------------------------------------------------------------------------

def client_from_core(d):
    return Client(identifier=d["client_id"], secret=d.get("client_secret"),
                  authorized_grants=d.get("grant_types"),
                  authorized_response_types=d.get("response_types"),
                  redirect_uris=list(d.get("redirect_uris") or []))


def client_to_core(c):
    grants = c.authorized_grants
    types = c.authorized_response_types
    return {
        "client_id": str(c.identifier),
        "client_secret": None if c.secret in (None, "") else str(c.secret),
        "redirect_uris": [str(u) for u in (c.redirect_uris or [])],
        # Names the engine does not know cannot be granted anyway.
        "grant_types": None if grants is None else [g for g in grants if g in _GRANTS],
        "response_types": None if types is None else [t for t in types if t in _RESPONSE_TYPES],
    }


def token_from_core(d):
    t = AccessToken(client_id=d["client_id"], grant_type=d["grant_type"], token=d["token"],
                    data={} if d.get("data") is None else d["data"],
                    expires_at=d.get("expires_at"), refresh_token=d.get("refresh_token"),
                    refresh_expires_at=d.get("refresh_expires_at"),
                    scopes=list(d.get("scopes") or []), user_id=d.get("user_id"))
    t._family = d.get("family")
    return t


# `data` and `user_id` must survive the engine's JSON records: every caller of the two functions
# below serialises their result at once, so json.dumps raises TypeError for anything else.

def token_to_core(t):
    family = getattr(t, "_family", None)
    refresh_expires_at = t.refresh_expires_at
    return {
        "token": t.token,
        "client_id": t.client_id,
        "grant_type": t.grant_type,
        "scopes": list(t.scopes or []),
        "data": t.data,
        "user_id": t.user_id,
        "expires_at": None if t.expires_at is None else int(t.expires_at),
        "refresh_token": t.refresh_token,
        # python-oauth2 stored 0 for "no expiry check".
        "refresh_expires_at": int(refresh_expires_at) if refresh_expires_at else None,
        # A token saved by hand, or by a store that lost the slot, is its own family.
        "family": family or "py-" + str(t.token),
    }


def code_from_core(d):
    return AuthorizationCode(client_id=d["client_id"], code=d["code"],
                             expires_at=d["expires_at"], redirect_uri=d["redirect_uri"],
                             scopes=list(d.get("scopes") or []), data=d.get("data"),
                             user_id=d.get("user_id"),
                             code_challenge=d.get("code_challenge"),
                             code_challenge_method=d.get("code_challenge_method"),
                             family=d.get("family"),
                             redirect_uri_given=d.get("redirect_uri_given", True))


def code_to_core(c):
    d = getattr(c, "__dict__", {})
    return {
        "code": c.code,
        "client_id": c.client_id,
        "redirect_uri": c.redirect_uri,
        # A store that dropped the flag: ask for redirect_uri, as python-oauth2 always did.
        "redirect_uri_given": bool(d.get("redirect_uri_given", True)),
        "scopes": list(c.scopes or []),
        "data": c.data,
        "user_id": c.user_id,
        "expires_at": int(c.expires_at),
        "code_challenge": d.get("code_challenge"),
        "code_challenge_method": d.get("code_challenge_method"),
        "family": d.get("family") or "py-" + str(c.code),
    }


def _dump(value):
    return None if value is None else json.dumps(value)


# --- Python stores --------------------------------------------------------------------------------

def client_fetch(store, client_id):
    try:
        client = store.fetch_by_client_id(client_id)
    except ClientNotFoundError:
        return None
    return _dump(client_to_core(client))


def code_save(store, code_json):
    store.save_code(code_from_core(json.loads(code_json)))


def code_consume(store, code):
    # A store that can take a code atomically (``consume_code``: return it and delete it, or
    # raise AuthCodeNotFound) gives one winner across processes; the 1.x interface only
    # "fetch then delete", which the engine serializes within this process.
    take = getattr(store, "consume_code", None)
    if take is not None:
        try:
            found = take(code)
        except AuthCodeNotFound:
            return None
        if found is None or found.code != code:
            return None
        return _dump(code_to_core(found))
    try:
        found = store.fetch_by_code(code)
    except AuthCodeNotFound:
        return None
    if found is None or found.code != code:
        return None
    store.delete_code(code)
    return _dump(code_to_core(found))


def token_save(store, token_json):
    store.save_token(token_from_core(json.loads(token_json)))


def token_fetch_access(store, token):
    fetch = getattr(store, "fetch_by_token", None)
    if fetch is None:
        return None
    try:
        found = fetch(token)
    except AccessTokenNotFound:
        return None
    if found is None or found.token != token:
        return None
    return _dump(token_to_core(found))


def token_fetch_refresh(store, refresh_token):
    try:
        found = store.fetch_by_refresh_token(refresh_token)
    except AccessTokenNotFound:
        return None
    if found is None or found.refresh_token != refresh_token:
        return None
    return _dump(token_to_core(found))


def token_consume_refresh(store, refresh_token):
    take = getattr(store, "consume_refresh_token", None)
    if take is not None:
        try:
            found = take(refresh_token)
        except AccessTokenNotFound:
            return None
        if found is None or found.refresh_token != refresh_token:
            return None
        return _dump(token_to_core(found))
    found = token_fetch_refresh(store, refresh_token)
    if found is not None:
        try:
            store.delete_refresh_token(refresh_token)
        except AccessTokenNotFound:
            return None
    return found


def token_existing(store, client_id, grant_type, user_id):
    try:
        found = store.fetch_existing_token_of_user(client_id, grant_type, user_id)
    except AccessTokenNotFound:
        return None
    return None if found is None else _dump(token_to_core(found))


def token_revoke(store, token):
    revoke = getattr(store, "revoke_token", None)
    if revoke is not None:
        revoke(token)
        return None
    try:
        store.delete_refresh_token(token)
    except AccessTokenNotFound:
        pass
    return None


def token_revoke_family(store, family):
    revoke = getattr(store, "revoke_family", None)
    if revoke is not None:
        revoke(family)
    return None


# --- requests -------------------------------------------------------------------------------------

def make_wsgi_request(environ, body, request_class, env_vars):
    """A custom ``request_class``'s request object for a WSGI request whose body the engine
    already read: the class reads it from a fresh ``wsgi.input``. (The default class is made
    natively.)"""
    body = body or b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    request = request_class(environ)
    if env_vars:
        picked = {name: environ[name] for name in env_vars if name in environ}
    else:
        picked = {}
    return request, picked


# --- site adapters --------------------------------------------------------------------------------

_ARITY = {}
_ARITY_LOCK = threading.Lock()


def _arity(adapter, name):
    """How many positional arguments ``adapter.<name>`` accepts (None: any number), decided
    once per class from its signature, so that 0.x adapters (three arguments) and 1.x adapters
    (with ``client``) are both called right, and a TypeError inside user code stays an error."""
    key = (type(adapter), name)
    try:
        return _ARITY[key]
    except KeyError:
        pass
    try:
        params = inspect.signature(getattr(adapter, name)).parameters.values()
    except (TypeError, ValueError):
        # No introspectable signature (a builtin or an odd callable): pass everything.
        params = ()
        count = None
    else:
        count = 0
    for p in params:
        if p.kind == p.VAR_POSITIONAL:
            count = None
            break
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            count += 1
    with _ARITY_LOCK:
        _ARITY[key] = count
    return count


def _call(adapter, name, args):
    n = _arity(adapter, name)
    return getattr(adapter, name)(*(args if n is None else args[:n]))


def _client(args, redirect_uri):
    """The consent's ``Client`` from the engine's pieces (identifier, secret, redirect URIs,
    grants, response types), with the request's redirect URI chosen when it is registered."""
    identifier, secret, uris, grants, types = args
    client = Client(identifier=identifier, secret=secret, authorized_grants=grants,
                    authorized_response_types=types, redirect_uris=uris)
    if redirect_uri is not None and redirect_uri in uris:
        client.redirect_uri = redirect_uri
    return client


def to_json(value):
    """The JSON text of an adapter's value the engine could not convert directly."""
    return json.dumps(value)


_Response = None


def site_render(adapter, request, environ, client, redirect_uri, scopes, response_class):
    global _Response
    if _Response is None:
        # oauth2.web imports this module's package; by the first page it is loaded.
        from oauth2.web import Response as _Response
    client = _client(client, redirect_uri)
    response = response_class()
    page = _call(adapter, "render_auth_page", (request, response, environ, scopes, client))
    if not isinstance(page, _Response):
        raise TypeError("render_auth_page must return an oauth2.web.Response, got %r"
                        % type(page).__name__)
    body = page.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    elif body is None:
        body = ""
    return int(page.status_code), [(str(k), str(v)) for k, v in page.headers.items()], str(body)


# --- generators and authentication sources -----------------------------------------------------

def generate(generator):
    token = generator.generate()
    if not isinstance(token, str):
        raise TypeError("generate() must return a str, got %r" % type(token).__name__)
    return token


def credentials(source, request):
    try:
        client_id, client_secret = source(request=request)
    except OAuthInvalidError as e:
        return False, str(e.error), e.explanation
    if client_id is None:
        return False, "invalid_request", "Missing client identifier"
    return True, str(client_id), None if client_secret is None else str(client_secret)


# --- logging --------------------------------------------------------------------------------------

def log_exception(exc):
    app_log.error("Uncaught Exception", exc_info=(type(exc), exc, exc.__traceback__))


def log_message(message):
    app_log.error("Uncaught Exception: %s", message)
