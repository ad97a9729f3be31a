//! One OAuth2 token source: lazy fetch, reuse, refresh before expiry, single-flight refresh
//! after a refusal, refresh-token rotation, and, with `store:`, tokens shared with later runs
//! and other processes through the token store (read, refreshed and written under its lock).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, HeaderValue};

use super::config::Config;
use super::persist::{Held, store_wins};
use super::token::{self, AuthError, TokenAnswer};
use super::{Credential, Refreshed};
use crate::event::{Event, EventSink};
use crate::redact::Redactor;
use crate::store::{Record, StoreError, TokenStore, VERSION, seed_digest, unix_now, unix_now_ms};

/// An access token and when it runs out.
#[derive(Clone)]
struct Access {
    token: String,
    header: HeaderValue,
    expires_at: Option<Instant>,
    /// The same moment as Unix time in milliseconds, for the store.
    expires_unix_ms: Option<u64>,
    lifetime: Option<Duration>,
    /// How long the token's answer took: the server may count its lifetime from the request.
    transit: Duration,
}

impl Access {
    /// A token just received, valid for `lifetime` from now when the server said so.
    /// A token just received, valid for `lifetime` from now when the server said so;
    /// `asked` is when it was asked for (the server's clock may have started then).
    fn received(token: &str, lifetime: Option<Duration>, asked: Instant) -> Option<Access> {
        let now = Instant::now();
        let expires_unix_ms = lifetime.map(|l| unix_now_ms().saturating_add(l.as_millis() as u64));
        let mut access = Access::new(token, lifetime, lifetime.map(|l| now + l), expires_unix_ms)?;
        access.transit = now.saturating_duration_since(asked);
        Some(access)
    }

    /// A token from the store, which expires at `expires_unix_ms`.
    fn stored(
        token: &str,
        lifetime: Option<Duration>,
        expires_unix_ms: Option<u64>,
    ) -> Option<Access> {
        let now_ms = unix_now_ms();
        let expires_at = expires_unix_ms
            .map(|at| Instant::now() + Duration::from_millis(at.saturating_sub(now_ms)));
        Access::new(token, lifetime, expires_at, expires_unix_ms)
    }

    fn new(
        token: &str,
        lifetime: Option<Duration>,
        expires_at: Option<Instant>,
        expires_unix_ms: Option<u64>,
    ) -> Option<Access> {
        let mut header = HeaderValue::from_str(&format!("Bearer {token}")).ok()?;
        header.set_sensitive(true);
        Some(Access {
            token: token.to_string(),
            header,
            expires_at,
            expires_unix_ms,
            lifetime,
            transit: Duration::ZERO,
        })
    }

    /// Usable for a while yet: not within the smaller of `skew` and half its lifetime of
    /// running out. A token of unknown lifetime is used until the server refuses it.
    fn fresh(&self, skew: Duration) -> bool {
        self.stale_at(skew)
            .is_none_or(|stale| Instant::now() < stale)
    }

    /// When it stops being fresh, if its lifetime is known.
    fn stale_at(&self, skew: Duration) -> Option<Instant> {
        let margin = match self.lifetime {
            Some(lifetime) => skew.min(lifetime / 2),
            None => skew,
        };
        self.expires_at
            .map(|at| at.checked_sub(margin).unwrap_or(at))
    }
}

struct State {
    access: Option<Access>,
    refresh_token: Option<String>,
    generation: u64,
    /// The grant of the last successful token request.
    obtained_by: &'static str,
    /// With a store: whether it was read yet, and the recipe token the tokens descend from.
    synced: bool,
    seed: Option<String>,
    /// Whether this run asked the token endpoint yet.
    requested: bool,
}

impl State {
    fn credential(&self, skew: Duration) -> Option<Credential> {
        let access = self.access.as_ref()?;
        Some(Credential {
            header: (AUTHORIZATION, access.header.clone()),
            generation: self.generation,
            // Counted from when it was asked for: a refusal after this may be the token
            // running out by the server's clock.
            stale_at: access
                .stale_at(skew)
                .map(|at| at.checked_sub(access.transit).unwrap_or(at)),
            identity: None,
        })
    }
}

pub struct TokenSource {
    config: Config,
    redactor: Redactor,
    /// The store and its key, when the profile has `store:`.
    store: Option<(TokenStore, String)>,
    state: Mutex<State>,
    /// Held while a token request is in flight: one request at a time per source.
    flight: tokio::sync::Mutex<()>,
}

impl TokenSource {
    /// `credential` with the profile's client certificate.
    pub fn with_identity(&self, credential: Credential) -> Credential {
        Credential {
            identity: self.config.identity.clone(),
            ..credential
        }
    }

    pub fn new(config: Config, redactor: Redactor, store: Option<TokenStore>) -> TokenSource {
        let refresh_token = config.refresh_token.clone();
        let store = store.zip(config.store.clone());
        TokenSource {
            state: Mutex::new(State {
                access: None,
                refresh_token,
                generation: 0,
                obtained_by: config.grant.name(),
                synced: false,
                seed: None,
                requested: false,
            }),
            config,
            redactor,
            store,
            flight: tokio::sync::Mutex::new(()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn fresh(&self) -> Option<Credential> {
        let state = self.state();
        let access = state.access.as_ref()?;
        access
            .fresh(self.config.skew)
            .then(|| state.credential(self.config.skew))
            .flatten()
    }

    pub async fn credential(
        &self,
        client: &crate::exec::Client,
        sink: &dyn EventSink,
    ) -> Result<Credential, AuthError> {
        if let Some(credential) = self.fresh() {
            return Ok(credential);
        }
        let _flight = self.flight.lock().await;
        if let Some(credential) = self.fresh() {
            return Ok(credential);
        }
        let reason = if self.state().access.is_some() {
            "expiring"
        } else {
            "first use"
        };
        // Boxed: a token request is rare, and its state would otherwise sit in every request's
        // future (see `Direct::send`).
        let (credential, _) = Box::pin(self.renew(client, reason, None, sink)).await?;
        Ok(credential)
    }

    /// Replaces the token of generation `seen`, which the server refused: a token request
    /// only when `seen` is still the newest token here (and, with a store, in the store).
    /// When another caller already replaced it with a token that is still fresh, the newer
    /// token is returned without one; one that is about to run out is replaced too.
    pub async fn refresh(
        &self,
        client: &crate::exec::Client,
        seen: u64,
        sink: &dyn EventSink,
    ) -> Result<Refreshed, AuthError> {
        let _flight = self.flight.lock().await;
        let refused = {
            let state = self.state();
            if state.generation != seen
                && state
                    .access
                    .as_ref()
                    .is_some_and(|a| a.fresh(self.config.skew))
                && let Some(credential) = state.credential(self.config.skew)
            {
                return Ok(Refreshed {
                    credential,
                    granted: false,
                });
            }
            state.access.as_ref().map(|a| a.token.clone())
        };
        let (credential, granted) = Box::pin(self.renew(client, "refused", refused, sink)).await?;
        Ok(Refreshed {
            credential,
            granted,
        })
    }

    /// Gets a usable token: from the store when another process (or an earlier run) left one,
    /// else from the token endpoint, writing what it got to the store before returning. Says
    /// whether it asked the token endpoint.
    async fn renew(
        &self,
        client: &crate::exec::Client,
        reason: &str,
        refused: Option<String>,
        sink: &dyn EventSink,
    ) -> Result<(Credential, bool), AuthError> {
        let Some((store, key)) = &self.store else {
            return Ok((self.request(client, reason, sink).await?, true));
        };
        let failed = |e: StoreError| self.store_error(e);
        let _lock = store.lock(key).await.map_err(failed)?;
        let record = store.read(key).await.map_err(failed)?;
        if let Some(record) = &record
            && !record.belongs_to(self.config.token_url.as_str(), &self.config.client_id)
        {
            return Err(AuthError::new(format!(
                "auth profile `{}`: the token store key `{key}` ({}) holds tokens of another client or token URL; give this profile its own `store:` key, or remove them with `whisk auth logout`",
                self.config.profile,
                store.place_of(key)
            )));
        }
        self.sync(record.as_ref());
        let usable = {
            let state = self.state();
            state
                .access
                .as_ref()
                .filter(|a| a.fresh(self.config.skew))
                .filter(|a| refused.as_deref() != Some(a.token.as_str()))
                .and_then(|_| state.credential(self.config.skew))
        };
        // A recording starts with a token request even when the store has a usable token, so
        // that its replay, which starts with an empty store, finds one in the cassette.
        let recording = client.recording() && !self.state().requested;
        if let Some(credential) = usable
            && !recording
        {
            return Ok((credential, false));
        }
        let credential = self.request(client, reason, sink).await?;
        self.state().requested = true;
        store.write(key, &self.record()).await.map_err(|e| AuthError::new(format!(
                "auth profile `{}`: new tokens were issued but not saved, so the next run may not be able to use them: {e}",
                self.config.profile
            )))?;
        Ok((credential, true))
    }

    /// Takes the stored tokens when they are newer than the ones held (see `store_wins`).
    fn sync(&self, record: Option<&Record>) {
        let mut state = self.state();
        let wins = store_wins(
            record,
            &Held {
                synced: state.synced,
                recipe_seed: self.config.refresh_token.as_deref(),
                refresh_token: state.refresh_token.as_deref(),
                access_token: state.access.as_ref().map(|a| a.token.as_str()),
            },
        );
        let first = !state.synced;
        state.synced = true;
        match record {
            Some(record) if wins => {
                if let Some(refresh) = &record.refresh_token {
                    self.redactor.add(refresh);
                    state.refresh_token = Some(refresh.clone());
                }
                if let Some(token) = &record.access_token {
                    self.redactor.add(token);
                    state.access = Access::stored(token, record.lifetime(), record.expires_ms());
                    state.generation += 1;
                }
                state.seed = record.seed_sha256.clone();
            }
            _ if first => {
                state.seed = self.config.refresh_token.as_deref().map(seed_digest);
            }
            _ => {}
        }
    }

    /// The record of what this source holds now.
    fn record(&self) -> Record {
        let state = self.state();
        Record {
            version: VERSION,
            token_url: self.config.token_url.to_string(),
            client_id: self.config.client_id.clone(),
            obtained_by: state.obtained_by.to_string(),
            access_token: state.access.as_ref().map(|a| a.token.clone()),
            expires_at: state
                .access
                .as_ref()
                .and_then(|a| a.expires_unix_ms)
                .map(|ms| ms / 1000),
            expires_at_ms: state.access.as_ref().and_then(|a| a.expires_unix_ms),
            lifetime: state
                .access
                .as_ref()
                .and_then(|a| a.lifetime)
                .map(|l| l.as_secs()),
            lifetime_ms: state
                .access
                .as_ref()
                .and_then(|a| a.lifetime)
                .map(|l| l.as_millis() as u64),
            refresh_token: state.refresh_token.clone(),
            seed_sha256: state.seed.clone(),
            updated_at: unix_now(),
        }
    }

    fn store_error(&self, error: StoreError) -> AuthError {
        AuthError::new(format!("auth profile `{}`: {error}", self.config.profile))
    }

    /// Asks the token endpoint: with the refresh token when there is one, else by the profile's
    /// grant.
    async fn request(
        &self,
        client: &crate::exec::Client,
        reason: &str,
        sink: &dyn EventSink,
    ) -> Result<Credential, AuthError> {
        let asked = Instant::now();
        let mut refresh_token = self.state().refresh_token.clone();
        if refresh_token.is_none() && client.replaying() && !self.config.grant.self_issued() {
            // The recording refreshed with a token from the person's store, which a replay does
            // not have; the cassette holds that request masked, and so will this one be.
            refresh_token = Some(crate::redact::MASK.to_string());
        }
        let (answer, grant) = match refresh_token {
            Some(refresh) => {
                self.announce(sink, "refresh_token", reason);
                let fields = vec![
                    ("grant_type", "refresh_token".to_string()),
                    ("refresh_token", refresh),
                ];
                match token::request(client, &self.config, fields, &self.redactor, sink).await {
                    Ok(answer) => (answer, "refresh_token"),
                    Err(_) if self.config.grant.self_issued() => {
                        // A client can always start over with its own credentials.
                        let grant = self.config.grant.name();
                        self.announce(sink, grant, reason);
                        let answer = self.own_grant(client, sink).await?;
                        (answer, grant)
                    }
                    Err(error) if self.config.grant.signed_in() => {
                        return Err(AuthError::new(format!(
                            "{}; sign in again with `whisk auth login <recipe> {}`",
                            error.message, self.config.profile
                        )));
                    }
                    Err(error) => return Err(self.explain_refusal(error)),
                }
            }
            None if self.config.grant.self_issued() => {
                let grant = self.config.grant.name();
                self.announce(sink, grant, reason);
                let answer = self.own_grant(client, sink).await?;
                (answer, grant)
            }
            None => return Err(self.nothing_to_refresh_with()),
        };
        self.take(answer, grant, asked)
    }

    /// A refused `refresh_token` grant, with what to do when the refresh token was spent.
    fn explain_refusal(&self, error: AuthError) -> AuthError {
        if error.code.as_deref() != Some("invalid_grant") {
            return error;
        }
        let profile = &self.config.profile;
        let what = match &self.store {
            Some((store, key)) => format!(
                "the refresh token in the token store (key `{key}` in `{}`) was already used or has expired; if it was spent outside whisk, put a new refresh token in the recipe's `refresh_token` secret and run again (a new one replaces the stored one), or remove the stored tokens with `whisk auth logout <recipe> {profile}`",
                store.place()
            ),
            None => format!(
                "the refresh token was already used or has expired: servers that rotate refresh tokens accept each one once, so add `store: <key>` to auth profile `{profile}` to keep the rotated token for the next run, and put a new refresh token in the recipe's `refresh_token` secret"
            ),
        };
        AuthError {
            message: format!("{}; {what}", error.message),
            code: error.code,
        }
    }

    fn nothing_to_refresh_with(&self) -> AuthError {
        let profile = &self.config.profile;
        let message = match (&self.store, self.config.grant) {
            (Some((store, key)), grant) if grant.signed_in() => format!(
                "auth profile `{profile}` has no stored tokens under key `{key}` in `{}`: sign in once with `whisk auth login <recipe> {profile}`",
                store.place()
            ),
            _ => {
                format!("auth profile `{profile}` has no refresh token to get an access token with")
            }
        };
        AuthError::new(message)
    }

    /// Keeps a token answer: the new access token, and the new refresh token at once when the
    /// server rotated it.
    fn take(
        &self,
        answer: TokenAnswer,
        grant: &'static str,
        asked: Instant,
    ) -> Result<Credential, AuthError> {
        let access = Access::received(&answer.access_token, answer.expires_in, asked).ok_or_else(|| {
            AuthError::new(format!(
                    "the token endpoint {} returned an access token that is not a valid header value",
                    self.config.token_url
                ))
        })?;
        let mut state = self.state();
        state.access = Some(access);
        if let Some(rotated) = answer.refresh_token {
            state.refresh_token = Some(rotated);
        }
        state.obtained_by = grant;
        state.generation += 1;
        state
            .credential(self.config.skew)
            .ok_or_else(|| AuthError::new("the access token was lost"))
    }

    /// The profile's own grant: `client_credentials`, or `jwt_bearer` with a new assertion.
    async fn own_grant(
        &self,
        client: &crate::exec::Client,
        sink: &dyn EventSink,
    ) -> Result<token::TokenAnswer, AuthError> {
        let fields = token::own_grant(&self.config, token::Sign::Now(&self.redactor))?;
        token::request(client, &self.config, fields, &self.redactor, sink).await
    }

    fn announce(&self, sink: &dyn EventSink, grant: &str, reason: &str) {
        sink.emit(&Event::TokenFetched {
            profile: self.config.profile.clone(),
            grant: grant.to_string(),
            reason: reason.to_string(),
        });
    }
}
