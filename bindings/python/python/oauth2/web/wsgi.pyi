from typing import Any, Callable, Dict, Iterable, List, Optional

from oauth2 import Provider
from oauth2._engine import WsgiCore

class Request:
    method: str
    path: str
    query_string: str
    query_params: Dict[str, str]
    post_params: Dict[str, str]
    env_raw: dict
    def __init__(self, env: dict) -> None: ...
    def get_param(self, name: str, default: Optional[str] = ...) -> Optional[str]: ...
    def post_param(self, name: str, default: Optional[str] = ...) -> Optional[str]: ...
    def header(self, name: str, default: Optional[str] = ...) -> Optional[str]: ...

class Application(WsgiCore):
    HTTP_CODES: Dict[int, str]
    provider: Provider
    authorize_uri: str
    token_uri: str
    env_vars: Optional[Iterable[str]]
    request_class: type
    def __init__(self, provider: Provider, authorize_uri: str = ...,
                 env_vars: Optional[Iterable[str]] = ..., request_class: type = ...,
                 token_uri: str = ...) -> None: ...
    def __call__(self, environ: dict, start_response: Callable[..., Any]) -> List[bytes]: ...

class Wsgi(Application):
    server: Provider
    def __init__(self, server: Provider, authorize_uri: str = ...,
                 env_vars: Optional[Iterable[str]] = ..., request_class: type = ...,
                 token_uri: str = ...) -> None: ...
