"""WSGI: ``Application(provider=...)`` (1.x) and ``Wsgi(server=...)`` (0.x).

``Application.__call__`` is native: it reads the environ, answers unknown paths with
python-oauth2's 404, runs the engine with the GIL released and calls ``start_response``. A
``request_class`` instance is built from the environ only when a Python callback (a site adapter,
a custom authentication source) needs one.
"""

from urllib.parse import unquote

from oauth2 import _engine


def _first_values(raw):
    """python-oauth2's parameter parsing (``parse_qs``: ``&``-separated, ``+`` is a space,
    percent-escapes are UTF-8 with errors replaced), first value wins, blank values dropped.
    Written out because ``parse_qs`` builds every value list and decodes every part even when it
    holds no escape; this was most of the cost of a site-adapter call."""
    params = {}
    if not raw:
        return params
    for pair in raw.split("&"):
        name, _, value = pair.partition("=")
        if not value:
            # No "=", or a blank value: parse_qs drops both.
            continue
        if "+" in name:
            name = name.replace("+", " ")
        if "%" in name:
            name = unquote(name)
        if name in params:
            continue
        if "+" in value:
            value = value.replace("+", " ")
        if "%" in value:
            value = unquote(value)
        params[name] = value
    return params


_FORM = "application/x-www-form-urlencoded"


class Request(object):
    """A WSGI request: ``method``, ``path``, ``query_string``, ``query_params``,
    ``post_params``, ``env_raw``.

    The body is read when the request is made; ``query_params`` and ``post_params`` are parsed
    on first use (most adapters read one parameter or none), and can be assigned as before."""

    def __init__(self, env):
        self.method = env.get("REQUEST_METHOD", "GET")
        self.path = env.get("PATH_INFO", "")
        self.query_string = env.get("QUERY_STRING", "")
        self.env_raw = env
        self._raw_body = b""
        self._query_params = None
        self._post_params = None
        self._form = False
        if self.method == "POST":
            try:
                length = int(env.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            stream = env.get("wsgi.input")
            if length > 0 and stream is not None:
                self._raw_body = stream.read(length)
            content_type = env.get("CONTENT_TYPE") or ""
            self._form = content_type.startswith(_FORM)
        self._query_source = self.query_string

    @classmethod
    def _with_body(cls, env, body):
        """What ``Request(env)`` makes of a request whose body the engine already read."""
        self = cls.__new__(cls)
        self.method = method = env.get("REQUEST_METHOD", "GET")
        self.path = env.get("PATH_INFO", "")
        self._query_source = self.query_string = env.get("QUERY_STRING", "")
        self.env_raw = env
        self._query_params = None
        self._post_params = None
        if method == "POST":
            self._raw_body = body
            self._form = (env.get("CONTENT_TYPE") or "").startswith(_FORM)
        else:
            self._raw_body = b""
            self._form = False
        return self

    @property
    def query_params(self):
        params = self._query_params
        if params is None:
            params = self._query_params = _first_values(self._query_source)
        return params

    @query_params.setter
    def query_params(self, value):
        self._query_params = value

    @property
    def post_params(self):
        params = self._post_params
        if params is None:
            if self._form:
                params = _first_values(self._raw_body.decode("utf-8", "replace"))
            else:
                params = {}
            self._post_params = params
        return params

    @post_params.setter
    def post_params(self, value):
        self._post_params = value

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
