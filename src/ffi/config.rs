//! The configuration JSON of `o2e_engine_new`:
//!
//! ```json
//! { "engine":  { ...the engine Config... },
//!   "storage": { "type": "memory", "clients": [ ...Client records... ] } }
//! ```
//!
//! `storage.type` selects the backend: `"callbacks"` (the host's `o2e_callbacks`) is handled
//! here; `"memory"`, `"sqlite"` and `"redis"` go to the storage factory of `src/store/`
//! ([`crate::store::open`]), each backend owning the other fields of its object.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::callbacks::{CallbackGenerator, CallbackSite, CallbackStore, Host};
use super::{json_failure, o2e_status, require_object, Failure};
use crate::config::Config;
use crate::engine::Engine;
use crate::model::GrantType;
use crate::store::{BackendConfig, Storage};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FfiConfig {
    #[serde(default)]
    engine: Config,
    /// Kept as a value until its `type` is known: each backend has its own fields.
    #[serde(default)]
    storage: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallbacksConfig {
    #[serde(rename = "type")]
    _type: String,
}

fn invalid(msg: impl Into<String>) -> Failure {
    Failure::new(o2e_status::O2E_INVALID_CONFIG, msg)
}

fn storage_failure(e: serde_json::Error) -> Failure {
    invalid(format!("storage: {e}"))
}

pub(crate) fn build(json: &str, host: Option<Arc<Host>>) -> Result<Engine, Failure> {
    let cfg: FfiConfig = serde_json::from_str(json)
        .map_err(|e| json_failure(&e, "config_json", o2e_status::O2E_INVALID_CONFIG))?;
    require_object(json, "config_json", o2e_status::O2E_INVALID_CONFIG)?;
    let storage_value = cfg
        .storage
        .unwrap_or_else(|| serde_json::json!({"type": "memory"}));
    let kind = storage_value
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("storage needs a \"type\" string (\"memory\", \"sqlite\", \"redis\" or \"callbacks\")"))?
        .to_owned();
    if host.as_ref().is_some_and(|h| h.has_storage()) && kind != "callbacks" {
        return Err(invalid(format!(
            "storage callbacks are set but storage.type is {kind:?}; use \"callbacks\" or leave them NULL"
        )));
    }
    let storage = match kind.as_str() {
        "callbacks" => {
            let _: CallbacksConfig =
                serde_json::from_value(storage_value).map_err(storage_failure)?;
            let Some(h) = &host else {
                return Err(invalid(
                    "storage.type is \"callbacks\" but no callbacks were given",
                ));
            };
            check_storage_callbacks(h, &cfg.engine)?;
            Storage::from_backend(Arc::new(CallbackStore(h.clone())))
        }
        // The built-in backends belong to the storage factory of src/store/, which owns their
        // fields (docs/storage.md); a backend added there is available here unchanged.
        "memory" | "sqlite" | "redis" => {
            let backend: BackendConfig =
                serde_json::from_value(storage_value).map_err(storage_failure)?;
            crate::store::open(&backend)
                .map_err(|e| invalid(format!("storage: {}", e.0)))?
                .storage()
        }
        other => {
            return Err(invalid(format!(
                "unknown storage type {other:?}; this build offers \"memory\", \"sqlite\", \"redis\" and \"callbacks\""
            )))
        }
    };
    let mut builder = Engine::builder(cfg.engine.clone()).storage(storage);
    if let Some(h) = &host {
        if h.has_site() {
            check_site_callbacks(h, &cfg.engine)?;
            builder = builder.site_adapter(Arc::new(CallbackSite(h.clone())));
        }
        if h.has_generator() {
            builder = builder.token_generator(Arc::new(CallbackGenerator(h.clone())));
        }
        if h.has_log() {
            let h2 = h.clone();
            builder = builder.on_host_error(Arc::new(move |e| h2.log(e)));
        }
    }
    let engine = builder.build().map_err(|e| invalid(e.to_string()))?;
    if let Some(h) = &host {
        h.take_ownership();
    }
    Ok(engine)
}

fn has_grant(cfg: &Config, g: GrantType) -> bool {
    cfg.grants.iter().any(|x| x.grant == Some(g))
}

/// Refuses a callback store that lacks an operation this configuration will call, so that the
/// host learns it at start-up rather than from a `server_error` in production.
fn check_storage_callbacks(h: &Host, cfg: &Config) -> Result<(), Failure> {
    let codes = has_grant(cfg, GrantType::AuthorizationCode);
    let refresh = has_grant(cfg, GrantType::RefreshToken) || cfg.revocation_path.is_some();
    let unique = cfg.grants.iter().any(|g| g.unique_token);
    let missing: Vec<&str> = h
        .storage_ops()
        .into_iter()
        .filter(|(name, f)| {
            let needed = match *name {
                "save_code" | "consume_code" => codes,
                "fetch_by_refresh_token" | "consume_refresh_token" => refresh,
                "fetch_existing_token_of_user" => unique,
                _ => true,
            };
            needed && f.is_none()
        })
        .map(|(name, _)| name)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(invalid(format!(
            "storage.type is \"callbacks\" but these callbacks are NULL: {}",
            missing.join(", ")
        )))
    }
}

fn check_site_callbacks(h: &Host, cfg: &Config) -> Result<(), Failure> {
    let consent =
        has_grant(cfg, GrantType::AuthorizationCode) || has_grant(cfg, GrantType::Implicit);
    if consent && !h.has_authenticate() {
        return Err(invalid(
            "the authorization_code and implicit grants need the authenticate callback",
        ));
    }
    if has_grant(cfg, GrantType::Password) && !h.has_authenticate_password() {
        return Err(invalid(
            "the password grant needs the authenticate_password callback",
        ));
    }
    Ok(())
}
