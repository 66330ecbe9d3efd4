//! Scopes: which ones a grant offers, which it grants when none is asked for, and what happens to
//! the ones it does not know.

use serde::Deserialize;

use crate::error::OAuthError;

/// What to do with a requested scope the grant does not offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownScope {
    /// Drop it silently and grant the rest (python-oauth2's behaviour; the `legacy` default).
    Drop,
    /// Refuse the request with `invalid_scope` (the `oauth2.1` default).
    Reject,
}

/// The scope rules of one grant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScopePolicy {
    /// Scopes this grant can give. Empty: the grant has no scopes at all.
    pub available: Vec<String>,
    /// Granted when the request names none (or, with `Drop`, none that is known).
    pub default: Option<String>,
}

/// The result of parsing a request's `scope`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scopes {
    pub scopes: Vec<String>,
    /// The default was applied, so the client must be told what it got (RFC 6749 §3.3).
    pub defaulted: bool,
}

impl ScopePolicy {
    /// Applies the policy to the raw `scope` parameter.
    pub fn parse(
        &self,
        requested: Option<&str>,
        separator: &str,
        unknown: UnknownScope,
    ) -> Result<Scopes, OAuthError> {
        let defaulted = |default: &String| Scopes {
            scopes: vec![default.clone()],
            defaulted: true,
        };
        let Some(raw) = requested else {
            return match (&self.default, self.available.is_empty()) {
                (Some(d), _) => Ok(defaulted(d)),
                (None, false) => Err(OAuthError::invalid_scope(
                    "Missing scope parameter in request",
                )),
                (None, true) => Ok(Scopes {
                    scopes: Vec::new(),
                    defaulted: false,
                }),
            };
        };
        let mut scopes: Vec<String> = Vec::new();
        for s in split(raw, separator) {
            if self.available.iter().any(|a| a == s) {
                if !scopes.iter().any(|k| k == s) {
                    scopes.push(s.to_owned());
                }
            } else if unknown == UnknownScope::Reject {
                return Err(OAuthError::invalid_scope(format!("Unknown scope '{s}'")));
            }
        }
        if scopes.is_empty() {
            if let Some(d) = &self.default {
                return Ok(defaulted(d));
            }
        }
        Ok(Scopes {
            scopes,
            defaulted: false,
        })
    }
}

/// The non-empty parts of `raw` between separators.
pub fn split<'a>(raw: &'a str, separator: &'a str) -> impl Iterator<Item = &'a str> {
    raw.split(separator).filter(|s| !s.is_empty())
}

/// A narrowed refresh (RFC 6749 §6): every requested scope must have been granted before.
pub fn narrow(
    granted: &[String],
    requested: Option<&str>,
    separator: &str,
) -> Result<Vec<String>, OAuthError> {
    let Some(raw) = requested else {
        return Ok(granted.to_vec());
    };
    let mut out: Vec<String> = Vec::new();
    for s in split(raw, separator) {
        if !granted.iter().any(|g| g == s) {
            return Err(OAuthError::invalid_scope(
                "The requested scope exceeds the scope granted by the resource owner",
            ));
        }
        if !out.iter().any(|k| k == s) {
            out.push(s.to_owned());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(avail: &[&str], default: Option<&str>) -> ScopePolicy {
        ScopePolicy {
            available: avail.iter().map(|s| s.to_string()).collect(),
            default: default.map(str::to_owned),
        }
    }

    #[test]
    fn missing_scope_uses_default_or_fails() {
        let p = policy(&["a", "b"], Some("a"));
        let s = p.parse(None, " ", UnknownScope::Drop).unwrap();
        assert_eq!((s.scopes, s.defaulted), (vec!["a".to_string()], true));
        let p = policy(&["a"], None);
        assert_eq!(
            p.parse(None, " ", UnknownScope::Drop)
                .unwrap_err()
                .code
                .as_str(),
            "invalid_scope"
        );
        let p = policy(&[], None);
        assert!(p
            .parse(None, " ", UnknownScope::Drop)
            .unwrap()
            .scopes
            .is_empty());
    }

    #[test]
    fn unknown_scopes_drop_or_reject() {
        let p = policy(&["a", "b"], Some("a"));
        let s = p.parse(Some("b x b"), " ", UnknownScope::Drop).unwrap();
        assert_eq!(s.scopes, vec!["b".to_string()]);
        let s = p.parse(Some("x"), " ", UnknownScope::Drop).unwrap();
        assert!(s.defaulted);
        assert!(p.parse(Some("b x"), " ", UnknownScope::Reject).is_err());
    }

    #[test]
    fn narrowing_never_widens() {
        let granted = vec!["a".to_string(), "b".to_string()];
        assert_eq!(narrow(&granted, Some("b"), " ").unwrap(), vec!["b"]);
        assert_eq!(narrow(&granted, None, " ").unwrap(), granted);
        assert!(narrow(&granted, Some("a c"), " ").is_err());
    }
}
