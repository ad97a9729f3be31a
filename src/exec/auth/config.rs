//! An `oauth2` profile's settings, rendered with the recipe's inputs and secrets; every
//! secret among them is registered with the redactor before anything is sent.

use std::time::Duration;

use super::Resolver;
use super::jwt::{Assertion, Signer};
use super::token::AuthError;
use crate::plan::{AssertionPlan, AuthPlan, OAuth2Plan};
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
    /// The client assertion of `private_key_jwt` / `client_secret_jwt`.
    pub client_assertion: Option<Assertion>,
    /// The `jwt_bearer` grant's assertion.
    pub assertion: Option<Assertion>,
    /// A digest of what signs the assertions, so that profiles with other keys or subjects do
    /// not share tokens.
    assertion_digest: String,
    /// The TLS client certificate token requests present (set by the manager).
    pub identity: Option<std::sync::Arc<crate::exec::tls::Identity>>,
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
        let client_id = text("client_id", &plan.client_id)?;
        let mut digest = Vec::new();
        let mut render_assertion = |field: &str, given: &AssertionPlan, client: bool| {
            let signing = Signing {
                client,
                client_id: &client_id,
                client_secret: client_secret.as_deref(),
                token_url: &token_url,
            };
            assertion(
                field,
                given,
                &signing,
                profile,
                resolver,
                redactor,
                &mut digest,
            )
        };
        let client_assertion = plan
            .client_assertion
            .as_ref()
            .map(|a| render_assertion("client_assertion", a, true))
            .transpose()?;
        let assertion = plan
            .assertion
            .as_ref()
            .map(|a| render_assertion("assertion", a, false))
            .transpose()?;
        Ok(Config {
            profile: profile.name.clone(),
            grant: plan.grant,
            token_url,
            client_id,
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
            client_assertion,
            assertion,
            assertion_digest: crate::store::seed_digest(&digest.join("\u{0}")),
            identity: None,
        })
    }

    /// Profiles that render to the same settings share their tokens.
    pub fn key(&self) -> String {
        format!(
            "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{:?}\u{0}{:?}\u{0}{}\u{0}{:?}\u{0}{}\u{0}{:?}",
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
            self.assertion_digest,
            self.identity.as_ref().map(|i| i.id),
        )
    }

    /// Whether `scope` goes with refresh requests: a code grant's scope was settled when the
    /// person signed in, and a refresh without `scope` keeps it (RFC 6749 §6).
    pub fn scope_on_refresh(&self) -> bool {
        !self.grant.signed_in()
    }
}

/// What an assertion is made for.
#[derive(Clone, Copy)]
struct Signing<'a> {
    /// A client assertion (rather than a `jwt_bearer` grant's).
    client: bool,
    client_id: &'a str,
    client_secret: Option<&'a str>,
    token_url: &'a reqwest::Url,
}

/// A profile's assertion, rendered: its claims, and its signer (or why there is none — told
/// when an assertion is first needed, before any request). A client assertion is issued by
/// and about the client; without a key it is `client_secret_jwt`'s, HS256 with the secret.
fn assertion(
    field: &str,
    given: &AssertionPlan,
    signing: &Signing<'_>,
    profile: &AuthPlan,
    resolver: &Resolver<'_>,
    redactor: &Redactor,
    digest: &mut Vec<String>,
) -> Result<Assertion, AuthError> {
    let Signing {
        client,
        client_id,
        client_secret,
        token_url,
    } = *signing;
    let text = |name: &str, tpl: &crate::plan::Tpl| resolver.text(profile, name, tpl);
    let optional = |name: &str, tpl: &Option<crate::plan::Tpl>| {
        tpl.as_ref()
            .map(|t| text(&format!("{field}.{name}"), t))
            .transpose()
    };
    let key = optional("key", &given.key)?;
    let signer = match (&key, client_secret) {
        (Some(pem), _) => {
            redactor.add(pem.trim());
            Signer::from_pem(given.alg, pem).map_err(|why| format!("`{field}.key` {why}"))
        }
        (None, Some(secret)) if client => Ok(Signer::hs256(secret)),
        (None, _) => Err(format!("`{field}` has no key to sign with")),
    };
    let issuer = optional("issuer", &given.issuer)?.unwrap_or_else(|| client_id.to_string());
    let subject = optional("subject", &given.subject)?.unwrap_or_else(|| client_id.to_string());
    let mut claims = serde_json::Map::new();
    for (name, tpl) in &given.claims {
        claims.insert(
            name.clone(),
            text(&format!("{field}.claims.{name}"), tpl)?.into(),
        );
    }
    digest.extend([
        key.as_deref()
            .map(crate::store::seed_digest)
            .unwrap_or_default(),
        issuer.clone(),
        subject.clone(),
    ]);
    Ok(Assertion {
        signer,
        alg: if client && key.is_none() {
            Some(crate::recipe::JwtAlg::Hs256)
        } else {
            given.alg
        },
        kid: optional("kid", &given.kid)?,
        issuer,
        subject,
        audience: optional("audience", &given.audience)?.unwrap_or_else(|| token_url.to_string()),
        claims,
        lifetime: given.lifetime,
    })
}
