"""WSGI: ``Application(provider=...)`` (1.x) and ``Wsgi(server=...)`` (0.x).

``Application.__call__`` is native: it reads the environ, answers unknown paths with
python-oauth2's 404, runs the engine with the GIL released and calls ``start_response``. A
``request_class`` instance is built from the environ only when a Python callback (a site adapter,
a custom authentication source) needs one.
"""

from oauth2 import _engine
from oauth2.compatibility import parse_qs


def _first_values(raw):
    """python-oauth2's parameter parsing: first value wins, blank values are dropped."""
    params = {}
    for name, values in parse_qs(raw).items():
        params[name] = values[0]
    return params


class Request(object):
    """A WSGI request: ``method``, ``path``, ``query_string``, ``query_params``,
    ``post_params``, ``env_raw``."""

    def __init__(self, env):
        self.method = env.get("REQUEST_METHOD", "GET")
        self.path = env.get("PATH_INFO", "")
        self.query_string = env.get("QUERY_STRING", "")
        self.query_params = _first_values(self.query_string)
        self.post_params = {}
        self.env_raw = env
        self._raw_body = b""
        if self.method == "POST":
            try:
                length = int(env.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            stream = env.get("wsgi.input")
            if length > 0 and stream is not None:
                self._raw_body = stream.read(length)
            content_type = env.get("CONTENT_TYPE") or ""
            if content_type.startswith("application/x-www-form-urlencoded"):
                self.post_params = _first_values(self._raw_body.decode("utf-8", "replace"))

    def get_param(self, name, default=None):
        return self.query_params.get(name, default)

    def post_param(self, name, default=None):
        return self.post_params.get(name, default)

    def header(self, name, default=None):
        return self.env_raw.get("HTTP_" + name.upper(), default)


class Application(_engine.WsgiCore):
    """The WSGI application of a ``Provider``. It sets the provider's paths."""

    HTTP_CODES = {200: "200 OK", 301: "301 Moved Permanently", 302: "302 Found",
                  400: "400 Bad Request", 401: "401 Unauthorized", 404: "404 Not Found"}

    def __init__(self, provider, authorize_uri="/authorize", env_vars=None, request_class=Request,
                 token_uri="/token"):
        self.provider = provider
        self.authorize_uri = authorize_uri
        self.env_vars = env_vars
        self.request_class = request_class
        self.token_uri = token_uri
        provider.authorize_path = authorize_uri
        provider.token_path = token_uri
        self._bind(provider, request_class, tuple(env_vars or ()))


class Wsgi(Application):
    """python-oauth2 0.x: ``oauth2.web.Wsgi(server=provider)``."""

    def __init__(self, server, authorize_uri="/authorize", env_vars=None, request_class=Request,
                 token_uri="/token"):
        self.server = server
        super(Wsgi, self).__init__(provider=server, authorize_uri=authorize_uri,
                                   env_vars=env_vars, request_class=request_class,
                                   token_uri=token_uri)
