from typing import Any, List, Optional

class AccessToken:
    client_id: str
    grant_type: str
    token: str
    data: Any
    expires_at: Optional[int]
    refresh_token: Optional[str]
    refresh_expires_at: Optional[int]
    scopes: List[str]
    user_id: Any
    def __init__(self, client_id: str, grant_type: str, token: str, data: Any = ...,
                 expires_at: Optional[int] = ..., refresh_token: Optional[str] = ...,
                 refresh_expires_at: Optional[int] = ..., scopes: List[str] = ...,
                 user_id: Any = ...) -> None: ...
    @property
    def expires_in(self) -> int: ...
    def is_expired(self) -> bool: ...

class AuthorizationCode:
    client_id: str
    code: str
    expires_at: int
    redirect_uri: str
    scopes: List[str]
    data: Any
    user_id: Any
    code_challenge: Optional[str]
    code_challenge_method: Optional[str]
    family: Optional[str]
    redirect_uri_given: bool
    def __init__(self, client_id: str, code: str, expires_at: int, redirect_uri: str,
                 scopes: List[str], data: Any = ..., user_id: Any = ...,
                 code_challenge: Optional[str] = ..., code_challenge_method: Optional[str] = ...,
                 family: Optional[str] = ..., redirect_uri_given: bool = ...) -> None: ...
    def is_expired(self) -> bool: ...

class Client:
    identifier: str
    secret: Optional[str]
    authorized_grants: Optional[List[str]]
    authorized_response_types: Optional[List[str]]
    redirect_uris: List[str]
    redirect_uri: str
    def __init__(self, identifier: str, secret: Optional[str],
                 authorized_grants: Optional[List[str]] = ...,
                 authorized_response_types: Optional[List[str]] = ...,
                 redirect_uris: Optional[List[str]] = ...) -> None: ...
    def grant_type_supported(self, grant_type: str) -> bool: ...
    def response_type_supported(self, response_type: str) -> bool: ...
