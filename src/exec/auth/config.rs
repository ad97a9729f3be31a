//! An `oauth2` profile's settings, rendered with the recipe's inputs and secrets; every
//! secret among them is registered with the redactor before anything is sent.

use std::time::Duration;

use super::Resolver;
use super::token::AuthError;
use crate::plan::{AuthPlan, OAuth2Plan};
use crate::recipe::{ClientAuth, Grant};
use crate::redact::Redactor;

/// A profile's settings, rendered.
pub struct Config {
    pub profile: String,
    pub grant: Grant,
    pub token_url: reqwest::Url,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub client_auth: ClientAuth,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub params: Vec<(String, String)>,
    pub skew: Duration,
    /// The token store key, when tokens outlive the run.
    pub store: Option<String>,
}

impl Config {
    pub fn render(
        profile: &AuthPlan,
        plan: &OAuth2Plan,
        resolver: &Resolver<'_>,
        redactor: &Redactor,
    ) -> Result<Config, AuthError> {
        let text = |field: &str, tpl| resolver.text(profile, field, tpl);
        let url_text = text("token_url", &plan.token_url)?;
        crate::urls::check_token_url(&url_text).map_err(|message| {
            AuthError::new(format!("auth profile `{}`: {message}", profile.name))
        })?;
        let token_url = reqwest::Url::parse(&url_text).map_err(|e| {
            AuthError::new(format!(
                "auth profile `{}`: bad token URL `{url_text}`: {e}",
                profile.name
            ))
        })?;
        let client_secret = plan
            .client_secret
            .as_ref()
            .map(|t| text("client_secret", t))
            .transpose()?;
        if let Some(secret) = &client_secret {
            redactor.add(secret);
        }
        let refresh_token = plan
            .refresh_token
            .as_ref()
            .map(|t| text("refresh_token", t))
            .transpose()?
            .filter(|t| !t.is_empty());
        if let Some(refresh) = &refresh_token {
            redactor.add(refresh);
        }
        let scope: Vec<String> = plan
            .scope
            .iter()
            .map(|t| text("scope", t))
            .collect::<Result<_, _>>()?;
        let scope = scope.join(" ").trim().to_string();
        Ok(Config {
            profile: profile.name.clone(),
            grant: plan.grant,
            token_url,
            client_id: text("client_id", &plan.client_id)?,
            client_secret,
            client_auth: plan.client_auth,
            refresh_token,
            scope: (!scope.is_empty()).then_some(scope),
            params: plan
                .params
                .iter()
                .map(|(k, t)| Ok((k.clone(), text("params", t)?)))
                .collect::<Result<_, AuthError>>()?,
            skew: plan.refresh_skew,
            store: plan.store.clone(),
        })
    }

    /// Profiles that render to the same settings share their tokens.
    pub fn key(&self) -> String {
        format!(
            "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{:?}\u{0}{:?}\u{0}{}\u{0}{:?}",
            self.profile,
            self.grant.name(),
            self.token_url,
            self.client_id,
            self.scope,
            self.params,
            self.refresh_token
                .as_deref()
                .map(crate::store::seed_digest)
                .unwrap_or_default(),
            self.store,
        )
    }

    /// Whether `scope` goes with refresh requests: a code grant's scope was settled when the
    /// person signed in, and a refresh without `scope` keeps it (RFC 6749 §6).
    pub fn scope_on_refresh(&self) -> bool {
        self.grant != Grant::AuthorizationCode
    }
}
