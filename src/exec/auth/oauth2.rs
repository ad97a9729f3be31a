//! One OAuth2 token source: lazy fetch, reuse, refresh before expiry, single-flight refresh
//! after a refusal, and refresh-token rotation.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, HeaderValue};

use super::token::{self, AuthError};
use super::{Credential, Resolver};
use crate::event::{Event, EventSink};
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
        crate::plan::check_token_url(&url_text).map_err(|message| AuthError {
            message: format!("auth profile `{}`: {message}", profile.name),
        })?;
        let token_url = reqwest::Url::parse(&url_text).map_err(|e| AuthError {
            message: format!(
                "auth profile `{}`: bad token URL `{url_text}`: {e}",
                profile.name
            ),
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
            .transpose()?;
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
        })
    }

    /// Profiles that render to the same settings share their tokens.
    pub fn key(&self) -> String {
        format!(
            "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{:?}\u{0}{:?}\u{0}{}",
            self.profile,
            self.grant.name(),
            self.token_url,
            self.client_id,
            self.scope,
            self.params,
            self.refresh_token.as_deref().map(|r| r.len()).unwrap_or(0)
        )
    }
}

struct State {
    access: Option<HeaderValue>,
    expires_at: Option<Instant>,
    lifetime: Option<Duration>,
    refresh_token: Option<String>,
    generation: u64,
}

pub struct TokenSource {
    config: Config,
    redactor: Redactor,
    state: Mutex<State>,
    /// Held while a token request is in flight: one request at a time per source.
    flight: tokio::sync::Mutex<()>,
}

impl TokenSource {
    pub fn new(config: Config, redactor: Redactor) -> TokenSource {
        let refresh_token = config.refresh_token.clone();
        TokenSource {
            config,
            redactor,
            state: Mutex::new(State {
                access: None,
                expires_at: None,
                lifetime: None,
                refresh_token,
                generation: 0,
            }),
            flight: tokio::sync::Mutex::new(()),
        }
    }

    fn fresh(&self) -> Option<Credential> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let access = state.access.clone()?;
        if let (Some(expires_at), Some(lifetime)) = (state.expires_at, state.lifetime) {
            let margin = self.config.skew.min(lifetime / 2);
            if Instant::now() + margin >= expires_at {
                return None;
            }
        }
        Some(Credential {
            header: (AUTHORIZATION, access),
            generation: state.generation,
        })
    }

    pub async fn credential(
        &self,
        client: &reqwest::Client,
        sink: &dyn EventSink,
    ) -> Result<Credential, AuthError> {
        if let Some(credential) = self.fresh() {
            return Ok(credential);
        }
        let _flight = self.flight.lock().await;
        if let Some(credential) = self.fresh() {
            return Ok(credential);
        }
        let reason = if self
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .access
            .is_some()
        {
            "expiring"
        } else {
            "first use"
        };
        self.fetch(client, reason, sink).await
    }

    pub async fn refresh(
        &self,
        client: &reqwest::Client,
        seen: u64,
        sink: &dyn EventSink,
    ) -> Result<Credential, AuthError> {
        let _flight = self.flight.lock().await;
        {
            let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if state.generation != seen
                && let Some(access) = &state.access
            {
                return Ok(Credential {
                    header: (AUTHORIZATION, access.clone()),
                    generation: state.generation,
                });
            }
        }
        self.fetch(client, "refused", sink).await
    }

    /// Gets a new token: with the refresh token when there is one, else by the profile's grant.
    async fn fetch(
        &self,
        client: &reqwest::Client,
        reason: &str,
        sink: &dyn EventSink,
    ) -> Result<Credential, AuthError> {
        let refresh_token = self
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .refresh_token
            .clone();
        let answer = match refresh_token {
            Some(refresh) => {
                self.announce(sink, "refresh_token", reason);
                let fields = vec![
                    ("grant_type", "refresh_token".to_string()),
                    ("refresh_token", refresh),
                ];
                match token::request(client, &self.config, fields, &self.redactor).await {
                    Err(_) if self.config.grant == Grant::ClientCredentials => {
                        // A client can always start over with its own credentials.
                        self.announce(sink, "client_credentials", reason);
                        self.client_credentials(client).await?
                    }
                    other => other?,
                }
            }
            None if self.config.grant == Grant::ClientCredentials => {
                self.announce(sink, "client_credentials", reason);
                self.client_credentials(client).await?
            }
            None => {
                return Err(AuthError {
                    message: format!(
                        "auth profile `{}` has no refresh token to get an access token with",
                        self.config.profile
                    ),
                });
            }
        };
        let mut value = HeaderValue::from_str(&format!("Bearer {}", answer.access_token)).map_err(|_| AuthError {
            message: format!("the token endpoint {} returned an access token that is not a valid header value", self.config.token_url)
        })?;
        value.set_sensitive(true);
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.access = Some(value.clone());
        state.lifetime = answer.expires_in;
        state.expires_at = answer.expires_in.map(|d| Instant::now() + d);
        if let Some(rotated) = answer.refresh_token {
            state.refresh_token = Some(rotated);
        }
        state.generation += 1;
        Ok(Credential {
            header: (AUTHORIZATION, value),
            generation: state.generation,
        })
    }

    async fn client_credentials(
        &self,
        client: &reqwest::Client,
    ) -> Result<token::TokenAnswer, AuthError> {
        token::request(
            client,
            &self.config,
            vec![("grant_type", "client_credentials".to_string())],
            &self.redactor,
        )
        .await
    }

    fn announce(&self, sink: &dyn EventSink, grant: &str, reason: &str) {
        sink.emit(&Event::TokenFetched {
            profile: self.config.profile.clone(),
            grant: grant.to_string(),
            reason: reason.to_string(),
        });
    }
}
