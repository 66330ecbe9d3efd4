"""One WSGI app per library family, each built by its module's ``make_app()``.

``po2`` serves both python-oauth2 1.1.1 and this project's package (same ``oauth2`` API); the
others are the equivalent apps for authlib, oauthlib and the canned-response floor.
"""
