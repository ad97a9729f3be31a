//! The token manager and the fixed credential kinds. `credential` gives the header to send;
//! `refresh` replaces a token the server refused, once for all concurrent callers.

mod config;
pub mod device;
pub mod jwt;
pub mod login;
mod persist;
mod source;
mod token;

pub use config::Config;
pub use token::{AuthError, Sign, TokenAnswer, TokenForm, form as token_form, own_grant};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use minijinja::Value;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};

use crate::event::EventSink;
use crate::exec::tls::{self, Identity};
use crate::plan::{AuthKind, AuthPlan, Templates, Tpl};
use crate::redact::Redactor;
use crate::store::TokenStore;

/// A header carrying a credential, and the token generation it came from.
#[derive(Clone, Debug)]
pub struct Credential {
    pub header: (HeaderName, HeaderValue),
    pub generation: u64,
    /// From when whisk would no longer send this token (its expiry less the refresh margin),
    /// when it has a known lifetime: a refusal that comes after it may be the token running
    /// out in transit rather than the server refusing a valid token.
    pub stale_at: Option<std::time::Instant>,
    /// The TLS client certificate requests with this credential present, if any.
    pub identity: Option<Arc<Identity>>,
}

/// The outcome of `refresh`: the credential to send now, and whether a token request was made
/// for it (rather than a newer token taken that someone else had obtained).
#[derive(Clone, Debug)]
pub struct Refreshed {
    pub credential: Credential,
    pub granted: bool,
}

/// Every credential of a run. OAuth2 tokens are shared by all steps and iterations that use
/// the same profile with the same settings.
pub struct AuthManager {
    client: crate::exec::Client,
    redactor: Redactor,
    /// The token store directory for profiles with `store:`; `None` when none is known.
    store: Option<TokenStore>,
    sources: Mutex<HashMap<String, Arc<source::TokenSource>>>,
}

/// What the manager needs to render a profile's templates.
pub struct Resolver<'a> {
    pub templates: &'a Templates,
    /// Inputs and secrets of the recipe the profile belongs to.
    pub ctx: &'a Value,
    /// What was worked out already for these profiles with this `ctx`.
    pub cache: Option<&'a ProfileCache>,
    /// The recipe's client certificate (`defaults.client_cert`), for profiles without one.
    pub identity: Option<Arc<Identity>>,
}

/// Credentials and token sources worked out for the profiles of one run of a recipe: a
/// profile renders from inputs and secrets only, which do not change during the run, so it is
/// rendered once, not once per request.
#[derive(Default)]
pub struct ProfileCache {
    entries: Mutex<HashMap<usize, Cached>>,
}

#[derive(Clone)]
enum Cached {
    Source(Arc<source::TokenSource>),
    Fixed(Credential),
}

impl ProfileCache {
    fn get(&self, profile: &AuthPlan) -> Option<Cached> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(&(profile as *const AuthPlan as usize)).cloned()
    }

    fn put(&self, profile: &AuthPlan, cached: Cached) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.insert(profile as *const AuthPlan as usize, cached);
    }
}

/// The template context of a recipe's auth profiles, with its cache.
pub struct AuthContext {
    pub ctx: Value,
    pub cache: ProfileCache,
    /// The recipe's client certificate (`defaults.client_cert`), or why it cannot be used.
    pub identity: Result<Option<Arc<Identity>>, String>,
}

impl AuthContext {
    /// The context of a recipe run with `ctx` (its inputs and secrets), its client certificate
    /// rendered and parsed once.
    pub fn new(
        ctx: Value,
        cert: Option<&crate::plan::CertPlan>,
        templates: &Templates,
    ) -> AuthContext {
        let identity = cert
            .map(|cert| tls::render(cert, templates, &ctx, "`defaults.client_cert`"))
            .transpose();
        AuthContext {
            ctx,
            cache: ProfileCache::default(),
            identity,
        }
    }

    pub fn resolver<'a>(&'a self, templates: &'a Templates) -> Resolver<'a> {
        Resolver {
            templates,
            ctx: &self.ctx,
            cache: Some(&self.cache),
            identity: self.identity.clone().ok().flatten(),
        }
    }
}

impl Resolver<'_> {
    fn text(&self, profile: &AuthPlan, field: &str, tpl: &Tpl) -> Result<String, AuthError> {
        self.templates.text(tpl, self.ctx).map_err(|e| {
            AuthError::new(format!(
                "auth profile `{}`: cannot render `{field}`: {e}",
                profile.name
            ))
        })
    }
}

impl AuthManager {
    pub fn new(
        client: crate::exec::Client,
        redactor: Redactor,
        store: Option<TokenStore>,
    ) -> AuthManager {
        AuthManager {
            client,
            redactor,
            store,
            sources: Mutex::new(HashMap::new()),
        }
    }

    /// The credential to send for `profile`, fetching a token first when needed.
    pub async fn credential(
        &self,
        profile: &AuthPlan,
        resolver: &Resolver<'_>,
        sink: &dyn EventSink,
    ) -> Result<Credential, AuthError> {
        match resolver.cache.and_then(|c| c.get(profile)) {
            Some(Cached::Source(source)) => {
                return source
                    .credential(&self.client, sink)
                    .await
                    .map(|c| source.with_identity(c));
            }
            Some(Cached::Fixed(credential)) => return Ok(credential),
            None => {}
        }
        let fixed = match &profile.kind {
            AuthKind::OAuth2(plan) => {
                let source = self.source(profile, plan, resolver)?;
                return source
                    .credential(&self.client, sink)
                    .await
                    .map(|c| source.with_identity(c));
            }
            AuthKind::Bearer(token) => {
                let token = resolver.text(profile, "bearer", token)?;
                self.redactor.add(&token);
                fixed(profile, AUTHORIZATION, format!("Bearer {token}"))
            }
            AuthKind::Basic { username, password } => {
                let username = resolver.text(profile, "basic.username", username)?;
                let password = resolver.text(profile, "basic.password", password)?;
                self.redactor.add(&password);
                let encoded = STANDARD.encode(format!("{username}:{password}"));
                self.redactor.add_derived(&encoded);
                fixed(profile, AUTHORIZATION, format!("Basic {encoded}"))
            }
            AuthKind::Header { name, value } => {
                let value = resolver.text(profile, "header.value", value)?;
                self.redactor.add(&value);
                let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                    AuthError::new(format!(
                        "auth profile `{}`: `{name}` is not a valid header name",
                        profile.name
                    ))
                })?;
                fixed(profile, name, value)
            }
        }?;
        let fixed = Credential {
            identity: identity_of(profile, resolver)?,
            ..fixed
        };
        if let Some(cache) = resolver.cache {
            cache.put(profile, Cached::Fixed(fixed.clone()));
        }
        Ok(fixed)
    }

    /// Replaces a refused token. Callers pass the credential they sent; when a newer one is
    /// held already (another caller refreshed past it, here or in another process), that one
    /// is returned without a token request. `None` for profiles that cannot refresh.
    pub async fn refresh(
        &self,
        profile: &AuthPlan,
        resolver: &Resolver<'_>,
        seen: &Credential,
        sink: &dyn EventSink,
    ) -> Result<Refreshed, AuthError> {
        match &profile.kind {
            AuthKind::OAuth2(plan) => {
                let source = self.source(profile, plan, resolver)?;
                let mut refreshed = source.refresh(&self.client, seen.generation, sink).await?;
                refreshed.credential = source.with_identity(refreshed.credential);
                Ok(refreshed)
            }
            // Nothing newer can come: the refusal stands after this resend.
            _ => Ok(Refreshed {
                credential: seen.clone(),
                granted: true,
            }),
        }
    }

    fn source(
        &self,
        profile: &AuthPlan,
        plan: &crate::plan::OAuth2Plan,
        resolver: &Resolver<'_>,
    ) -> Result<Arc<source::TokenSource>, AuthError> {
        if let Some(Cached::Source(source)) = resolver.cache.and_then(|c| c.get(profile)) {
            return Ok(source);
        }
        let mut config = Config::render(profile, plan, resolver, &self.redactor)?;
        config.identity = identity_of(profile, resolver)?;
        if config.store.is_some() && self.store.is_none() {
            return Err(no_store_dir(&profile.name));
        }
        let key = config.key();
        let mut sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        let source = sources
            .entry(key)
            .or_insert_with(|| {
                Arc::new(source::TokenSource::new(
                    config,
                    self.redactor.clone(),
                    self.store.clone(),
                ))
            })
            .clone();
        if let Some(cache) = resolver.cache {
            cache.put(profile, Cached::Source(source.clone()));
        }
        Ok(source)
    }
}

/// The client certificate of `profile`'s requests: its own `client_cert`, else the recipe's.
pub fn identity_of(
    profile: &AuthPlan,
    resolver: &Resolver<'_>,
) -> Result<Option<Arc<Identity>>, AuthError> {
    match &profile.client_cert {
        Some(cert) => {
            let place = format!("auth profile `{}`, `client_cert`", profile.name);
            tls::render(cert, resolver.templates, resolver.ctx, &place)
                .map(Some)
                .map_err(AuthError::new)
        }
        None => Ok(resolver.identity.clone()),
    }
}

fn fixed(profile: &AuthPlan, name: HeaderName, value: String) -> Result<Credential, AuthError> {
    let mut value = HeaderValue::from_str(&value).map_err(|_| {
        AuthError::new(format!(
            "auth profile `{}`: the credential is not a valid header value",
            profile.name
        ))
    })?;
    value.set_sensitive(true);
    Ok(Credential {
        header: (name, value),
        generation: 0,
        stale_at: None,
        identity: None,
    })
}

/// A profile keeps tokens in the store, but no store directory is known.
pub fn no_store_dir(profile: &str) -> AuthError {
    AuthError::new(format!(
        "auth profile `{profile}` keeps its tokens in the token store, but no store directory is known: pass `--token-store DIR` or set `WHISK_TOKEN_STORE`"
    ))
}

/// The context auth profiles of `recipe` render with: its inputs and secrets.
pub fn profile_context(
    inputs: &serde_json::Map<String, serde_json::Value>,
    secrets: &indexmap::IndexMap<String, String>,
) -> Value {
    super::context::Scope::new(inputs, secrets).value()
}
