//! The token manager and the fixed credential kinds. `credential` gives the header to send;
//! `refresh` replaces a token the server refused, once for all concurrent callers.

mod oauth2;
mod token;

pub use token::AuthError;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use minijinja::Value;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};

use crate::event::EventSink;
use crate::plan::{AuthKind, AuthPlan, Templates, Tpl};
use crate::redact::Redactor;

/// A header carrying a credential, and the token generation it came from.
#[derive(Clone, Debug)]
pub struct Credential {
    pub header: (HeaderName, HeaderValue),
    pub generation: u64,
}

/// Every credential of a run. OAuth2 tokens are shared by all steps and iterations that use
/// the same profile with the same settings.
pub struct AuthManager {
    client: reqwest::Client,
    redactor: Redactor,
    sources: Mutex<HashMap<String, Arc<oauth2::TokenSource>>>,
}

/// What the manager needs to render a profile's templates.
pub struct Resolver<'a> {
    pub templates: &'a Templates,
    /// Inputs and secrets of the recipe the profile belongs to.
    pub ctx: &'a Value,
}

impl Resolver<'_> {
    fn text(&self, profile: &AuthPlan, field: &str, tpl: &Tpl) -> Result<String, AuthError> {
        self.templates.text(tpl, self.ctx).map_err(|e| AuthError {
            message: format!(
                "auth profile `{}`: cannot render `{field}`: {e}",
                profile.name
            ),
        })
    }
}

impl AuthManager {
    pub fn new(client: reqwest::Client, redactor: Redactor) -> AuthManager {
        AuthManager {
            client,
            redactor,
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
        match &profile.kind {
            AuthKind::OAuth2(plan) => {
                let source = self.source(profile, plan, resolver)?;
                source.credential(&self.client, sink).await
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
                let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| AuthError {
                    message: format!(
                        "auth profile `{}`: `{name}` is not a valid header name",
                        profile.name
                    ),
                })?;
                fixed(profile, name, value)
            }
        }
    }

    /// Replaces a refused token. Callers pass the generation they sent; when another caller
    /// already refreshed past it, the newer token is returned without a new request.
    pub async fn refresh(
        &self,
        profile: &AuthPlan,
        resolver: &Resolver<'_>,
        seen: &Credential,
        sink: &dyn EventSink,
    ) -> Result<Option<Credential>, AuthError> {
        match &profile.kind {
            AuthKind::OAuth2(plan) => {
                let source = self.source(profile, plan, resolver)?;
                source
                    .refresh(&self.client, seen.generation, sink)
                    .await
                    .map(Some)
            }
            _ => Ok(None),
        }
    }

    fn source(
        &self,
        profile: &AuthPlan,
        plan: &crate::plan::OAuth2Plan,
        resolver: &Resolver<'_>,
    ) -> Result<Arc<oauth2::TokenSource>, AuthError> {
        let config = oauth2::Config::render(profile, plan, resolver, &self.redactor)?;
        let key = config.key();
        let mut sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        Ok(sources
            .entry(key)
            .or_insert_with(|| Arc::new(oauth2::TokenSource::new(config, self.redactor.clone())))
            .clone())
    }
}

fn fixed(profile: &AuthPlan, name: HeaderName, value: String) -> Result<Credential, AuthError> {
    let mut value = HeaderValue::from_str(&value).map_err(|_| AuthError {
        message: format!(
            "auth profile `{}`: the credential is not a valid header value",
            profile.name
        ),
    })?;
    value.set_sensitive(true);
    Ok(Credential {
        header: (name, value),
        generation: 0,
    })
}
