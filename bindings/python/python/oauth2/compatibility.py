"""python-oauth2's py2/py3 shims, kept because applications import them."""

from urllib.parse import parse_qs, quote, urlencode

__all__ = ["parse_qs", "quote", "urlencode"]
