"""Tornado: route ``OAuth2Handler`` at both provider paths with ``dict(provider=provider)``."""

from tornado.web import RequestHandler


class Request(object):
    """A Tornado request as site adapters see it."""

    def __init__(self, handler):
        self.handler = handler
        self.headers = handler.request.headers

    @property
    def method(self):
        return self.handler.request.method

    @property
    def path(self):
        return self.handler.request.path

    @property
    def query_string(self):
        return self.handler.request.query

    def get_param(self, name, default=None):
        return self.handler.get_query_argument(name=name, default=default)

    def post_param(self, name, default=None):
        return self.handler.get_body_argument(name=name, default=default)

    def header(self, name, default=None):
        return self.headers.get(name, default)


class OAuth2Handler(RequestHandler):
    def initialize(self, provider):
        self.provider = provider

    def _serve(self):
        response = self.provider.dispatch(Request(self), environ={})
        for name, value in list(response.headers.items()):
            self.set_header(name, value)
        self.set_status(response.status_code)
        self.write(response.body)

    def get(self):
        self._serve()

    def post(self):
        self._serve()
