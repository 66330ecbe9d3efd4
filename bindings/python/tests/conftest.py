"""Shared fixtures: providers built through the public API, and real HTTP servers on loopback
(wsgiref, a multi-threaded wsgiref, waitress, Tornado) serving them."""

import asyncio
import logging
import socketserver
import threading
from urllib.parse import parse_qs, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import requests

import oauth2
import oauth2.error
import oauth2.grant
import oauth2.store.memory
import oauth2.tokengenerator
import oauth2.web
import oauth2.web.wsgi

REDIRECT = "http://127.0.0.1:9/cb"
USER_ID = 42


class TestAdapter(oauth2.web.AuthorizationCodeGrantSiteAdapter,
                  oauth2.web.ImplicitGrantSiteAdapter):
    """A 1.x adapter: confirms with `confirm=yes` (query or form), denies with `deny=yes`."""

    __test__ = False

    def authenticate(self, request, environ, scopes, client):
        if "yes" in (request.get_param("confirm"), request.post_param("confirm")):
            return {"who": "alice"}, USER_ID
        raise oauth2.error.UserNotAuthenticated

    def render_auth_page(self, request, response, environ, scopes, client):
        response.body = "<form method=post>consent for %s: %s</form>" % (
            client.identifier, " ".join(scopes))
        return response

    def user_has_denied_access(self, request):
        return "yes" in (request.get_param("deny"), request.post_param("deny"))


class PasswordAdapter(oauth2.web.ResourceOwnerGrantSiteAdapter):
    def authenticate(self, request, environ, scopes, client):
        if (request.post_param("username"), request.post_param("password")) == ("alice", "pw"):
            return {"who": "alice"}, USER_ID
        raise oauth2.error.UserNotAuthenticated


def make_provider(client_store=None, token_store=None, generator=None, code_store=None,
                  add_client=True, **kw):
    client_store = client_store or oauth2.store.memory.ClientStore()
    if add_client:
        client_store.add_client(client_id="abc", client_secret="xyz", redirect_uris=[REDIRECT])
    token_store = token_store or oauth2.store.memory.TokenStore()
    gen = generator or oauth2.tokengenerator.Uuid4()
    gen.expires_in["client_credentials"] = 3600
    provider = oauth2.Provider(access_token_store=token_store,
                               auth_code_store=code_store or token_store,
                               client_store=client_store, token_generator=gen, **kw)
    provider.add_grant(oauth2.grant.AuthorizationCodeGrant(
        site_adapter=TestAdapter(), expires_in=120, scopes=["read", "write"],
        default_scope="read"))
    provider.add_grant(oauth2.grant.ImplicitGrant(site_adapter=TestAdapter()))
    provider.add_grant(oauth2.grant.ResourceOwnerGrant(site_adapter=PasswordAdapter(),
                                                       expires_in=120))
    provider.add_grant(oauth2.grant.RefreshToken(expires_in=60))
    provider.add_grant(oauth2.grant.ClientCredentialsGrant())
    return provider


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class Server(object):
    """A WSGI app or provider served on 127.0.0.1 in a background thread."""

    def __init__(self, kind, app=None, provider=None):
        self.kind = kind
        if kind == "tornado":
            self._start_tornado(provider)
            return
        if kind == "waitress":
            import waitress.server
            self.httpd = waitress.server.create_server(app, host="127.0.0.1", port=0, threads=8,
                                                       asyncore_loop_timeout=0.05)
            self.port = int(self.httpd.effective_port)
            self.thread = threading.Thread(target=self.httpd.run, daemon=True)
        else:
            cls = _ThreadingWSGIServer if kind == "threaded" else WSGIServer
            self.httpd = make_server("127.0.0.1", 0, app, server_class=cls, handler_class=_Quiet)
            self.port = self.httpd.server_port
            self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def _start_tornado(self, provider):
        import tornado.httpserver
        import tornado.netutil
        import tornado.web
        from oauth2.web.tornado import OAuth2Handler
        ready = threading.Event()

        def run():
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            app = tornado.web.Application([
                (provider.authorize_path, OAuth2Handler, dict(provider=provider)),
                (provider.token_path, OAuth2Handler, dict(provider=provider)),
            ])
            self.httpd = tornado.httpserver.HTTPServer(app)
            sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
            self.port = sockets[0].getsockname()[1]
            self.httpd.add_sockets(sockets)
            self.loop = loop
            ready.set()
            loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(10)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def get(self, path, **kw):
        return requests.get(self.url + path, allow_redirects=False, timeout=10, **kw)

    def post(self, path, **kw):
        return requests.post(self.url + path, allow_redirects=False, timeout=10, **kw)

    def close(self):
        if self.kind == "tornado":
            self.loop.call_soon_threadsafe(self.httpd.stop)
            self.loop.call_soon_threadsafe(self.loop.stop)
        elif self.kind == "waitress":
            # waitress loops while its socket map is non-empty: emptying it ends the loop.
            self.httpd._map.clear()
            self.thread.join(5)
            self.httpd.close()
            self.httpd.task_dispatcher.shutdown()
        else:
            self.httpd.shutdown()
            self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def serve():
    servers = []

    def start(kind, app=None, provider=None):
        s = Server(kind, app=app, provider=provider)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.close()


def query_of(location):
    """Parameters of a redirect's query (or fragment)."""
    parts = urlsplit(location)
    return {k: v[0] for k, v in parse_qs(parts.fragment or parts.query).items()}


@pytest.fixture
def app_log_records():
    """Records logged on `oauth2.application` during the test."""
    records = []

    class H(logging.Handler):
        def emit(self, record):
            records.append(record)

    h = H()
    logger = logging.getLogger("oauth2.application")
    logger.addHandler(h)
    yield records
    logger.removeHandler(h)
