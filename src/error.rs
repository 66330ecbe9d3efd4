//! The one error type of the protocol, whose codes map 1:1 to the registered OAuth error codes
//! (RFC 6749 §4.1.2.1, §4.2.2.1 and §5.2), and the error a host callback reports.

use std::borrow::Cow;
use std::fmt;

/// A registered OAuth 2.0 error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    ServerError,
    TemporarilyUnavailable,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }

    /// The status of a JSON error response carrying this code (RFC 6749 §5.2). `invalid_client`
    /// is 401 only when the client tried HTTP Basic; that case is decided by [`OAuthError`].
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::ServerError => 500,
            ErrorCode::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A protocol error: answered as an OAuth error response, never as a failed call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: Cow<'static, str>,
    /// The client authenticated (or tried to) with HTTP Basic: an `invalid_client` then answers
    /// 401 with `WWW-Authenticate` (RFC 6749 §5.2, R35).
    pub basic_challenge: bool,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        OAuthError {
            code,
            description: description.into(),
            basic_challenge: false,
        }
    }

    pub fn invalid_request(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, d)
    }
    pub fn invalid_client(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidClient, d)
    }
    pub fn invalid_grant(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidGrant, d)
    }
    pub fn invalid_scope(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidScope, d)
    }
    pub fn unauthorized_client(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::UnauthorizedClient, d)
    }
    pub fn server_error() -> Self {
        Self::new(ErrorCode::ServerError, "Internal server error")
    }

    /// The HTTP status of this error as a JSON response.
    pub fn status(&self) -> u16 {
        if self.code == ErrorCode::InvalidClient && self.basic_challenge {
            401
        } else {
            self.code.status()
        }
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

impl std::error::Error for OAuthError {}

/// What a host callback (store, site adapter, token generator) reports when it fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostError {
    pub kind: HostErrorKind,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostErrorKind {
    /// The backend is down or timed out: the client may retry (`temporarily_unavailable`).
    Unavailable,
    /// Anything else (`server_error`).
    Failed,
}

impl HostError {
    pub fn failed(message: impl Into<String>) -> Self {
        HostError {
            kind: HostErrorKind::Failed,
            message: message.into(),
        }
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        HostError {
            kind: HostErrorKind::Unavailable,
            message: message.into(),
        }
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HostError {}

impl From<HostError> for OAuthError {
    /// The callback's message is for the host's logs, not for the client: the wire only says
    /// which kind of failure it was.
    fn from(e: HostError) -> Self {
        match e.kind {
            HostErrorKind::Unavailable => OAuthError::new(
                ErrorCode::TemporarilyUnavailable,
                "The service is temporarily unavailable",
            ),
            HostErrorKind::Failed => OAuthError::server_error(),
        }
    }
}
