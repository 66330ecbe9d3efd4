import json as json
from typing import Any, Callable, List, Optional, Tuple

from oauth2.client_authenticator import ClientAuthenticator as ClientAuthenticator
from oauth2.client_authenticator import request_body as request_body
from oauth2.datatype import AccessToken
from oauth2.error import ClientNotFoundError as ClientNotFoundError
from oauth2.error import OAuthInvalidError as OAuthInvalidError
from oauth2.error import OAuthInvalidNoRedirectError as OAuthInvalidNoRedirectError
from oauth2.error import UnsupportedGrantError as UnsupportedGrantError
from oauth2.grant import AuthorizationCodeGrant as AuthorizationCodeGrant
from oauth2.grant import ClientCredentialsGrant as ClientCredentialsGrant
from oauth2.grant import GrantHandlerFactory
from oauth2.grant import ImplicitGrant as ImplicitGrant
from oauth2.grant import RefreshToken as RefreshToken
from oauth2.grant import ResourceOwnerGrant as ResourceOwnerGrant
from oauth2.grant import Scope as Scope
from oauth2.log import app_log as app_log
from oauth2.tokengenerator import TokenGenerator
from oauth2.tokengenerator import Uuid4 as Uuid4
from oauth2.web import Response as Response

VERSION: str
__version__: str

class Provider:
    authorize_path: str
    token_path: str
    grant_types: List[GrantHandlerFactory]
    access_token_store: Any
    auth_code_store: Any
    client_authenticator: ClientAuthenticator
    response_class: type
    token_generator: TokenGenerator
    site_adapter: Any
    scope_separator: str
    def __init__(self, access_token_store: Any, auth_code_store: Any, client_store: Any,
                 token_generator: TokenGenerator,
                 client_authentication_source: Callable[..., Tuple[str, str]] = ...,
                 response_class: type = ..., site_adapter: Any = ...) -> None: ...
    def add_grant(self, grant: GrantHandlerFactory) -> None: ...
    def enable_unique_tokens(self) -> None: ...
    def dispatch(self, request: Any, environ: dict) -> Response: ...
    def validate_access_token(self, token: str) -> Optional[AccessToken]: ...
